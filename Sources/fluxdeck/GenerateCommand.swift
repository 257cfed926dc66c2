import ArgumentParser
import BFL
import BFLSimulator
import Foundation
import Jobs

#if canImport(Glibc)
import Glibc
#endif

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate images and save them with their sidecars.",
        discussion: """
            Progress goes to stderr; results to stdout (one JSON object per job with --json). \
            Exit codes: 0 all saved; 1 a job failed, was moderated or expired; 2 usage or \
            validation; 3 the API refused; 4 network failure after retries.
            """)

    @Option(help: "The model id (see `fluxdeck models`).") var model: String
    @Option(help: "The prompt.") var prompt: String?
    @Option(help: "Output width in pixels.") var width: Int?
    @Option(help: "Output height in pixels.") var height: Int?
    @Option(name: .customLong("aspect-ratio"), help: "Aspect ratio W:H (Kontext, Ultra).") var aspectRatio: String?
    @Option(help: "A fixed seed.") var seed: Int?
    @Option(help: "jpeg, png or webp.") var format: String?
    @Option(help: "Safety tolerance (0 strictest).") var safety: Int?
    @Option(name: .customLong("input"), help: "A reference image: a path or an http(s) URL; repeat for more.") var inputs: [String] = []
    @Option(help: "Fill: the image to repaint.") var image: String?
    @Option(help: "Fill: the mask (white repaints).") var mask: String?
    @Flag(help: "Ultra: the raw look.") var raw = false
    @Option(help: "Steps (flex, dev, fill).") var steps: Int?
    @Option(help: "Guidance (flex, dev, fill).") var guidance: Double?
    @Flag(inversion: .prefixedNo, help: "Prompt upsampling on or off (default: the model's).") var upsample: Bool?
    @OptionGroup var service: ServiceOptions
    @Option(name: .customLong("output-dir"), help: "Where images go (default ~/Pictures/fluxdeck).") var outputDir: String?
    @Option(help: "How many images (of each prompt a {a|b} matrix makes).") var count: Int = 1
    @Flag(name: .customLong("seed-sweep"), help: "With --seed S and --count N: seeds S, S+1, …, S+N−1.") var seedSweep = false
    @Flag(name: .customLong("dry-run"), help: "Print the exact request bodies and the estimate; send nothing.") var dryRun = false
    @Option(name: .customLong("max-spend"), help: "Refuse to start when the estimate is above this many credits.") var maxSpend: Double?
    @Flag(name: .customLong("no-wait"), help: "Return once the jobs are submitted; `fluxdeck jobs resume` finishes them.") var noWait = false
    @Flag(help: "One JSON object per job on stdout.") var json = false

    func run() async throws {
        try await runReportingFailures {
            var spec = GenerationSpec()
            spec.model = model
            spec.prompt = prompt
            spec.width = width
            spec.height = height
            spec.aspectRatio = aspectRatio
            spec.seed = seed
            spec.format = format
            spec.safety = safety
            spec.inputs = inputs
            spec.image = image
            spec.mask = mask
            spec.raw = raw ? true : nil
            spec.steps = steps
            spec.guidance = guidance
            spec.upsample = upsample
            spec.count = count
            spec.seedSweep = seedSweep ? true : nil
            let requests = try spec.requests(groupID: UUID().uuidString.lowercased())
            if dryRun { return try JobRunner.dryRun(requests, json: json) }
            try JobRunner.checkSpend(requests, maxSpend: maxSpend)
            try await JobRunner.run(requests, service: service, outputDir: outputDir, wait: !noWait, json: json)
        }
    }
}

struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Run every job of a JSONL file (one object per line, keys as generate's flags).",
        discussion: #"Example line: {"model":"flux-2-pro","prompt":"a lighthouse","width":1024,"height":768,"count":2}"#)

    @Argument(help: "The JSONL file.") var file: String
    @OptionGroup var service: ServiceOptions
    @Option(name: .customLong("output-dir"), help: "Where images go (default ~/Pictures/fluxdeck).") var outputDir: String?
    @Flag(name: .customLong("no-wait"), help: "Return once the jobs are submitted.") var noWait = false
    @Option(name: .customLong("max-spend"), help: "Refuse to start when the estimate is above this many credits.") var maxSpend: Double?
    @Flag(help: "One JSON object per job on stdout.") var json = false
    @Flag(name: .customLong("dry-run"), help: "Print the exact request bodies and the estimate; send nothing.") var dryRun = false

    func run() async throws {
        try await runReportingFailures {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw CommandFailure.usage("cannot read \(file): \((error as NSError).localizedDescription)")
            }
            let group = UUID().uuidString.lowercased()
            var requests: [JobRequest] = []
            for (index, spec) in try GenerationSpec.batch(text).enumerated() {
                do { requests += try spec.requests(groupID: group, label: "job \(index + 1): ") } catch let failure as CommandFailure {
                    throw CommandFailure.usage("job \(index + 1): \(failure.message)")
                }
            }
            if dryRun { return try JobRunner.dryRun(requests, json: json) }
            try JobRunner.checkSpend(requests, maxSpend: maxSpend)
            try await JobRunner.run(requests, service: service, outputDir: outputDir, wait: !noWait, json: json)
        }
    }
}

/// Submits, shows progress, reports, and picks the exit code.
enum JobRunner {
    /// Refuses (exit 2, nothing sent) when the requests' estimate is above `maxSpend`.
    static func checkSpend(_ requests: [JobRequest], maxSpend: Double?) throws {
        guard let maxSpend else { return }
        guard maxSpend >= 0, let limit = Credits(serverValue: maxSpend) else {
            throw CommandFailure.usage("--max-spend must be a number of credits, 0 or more")
        }
        var total = Credits.zero
        for request in requests {
            do { total = total + (try request.parameters.prepare(for: request.model)).estimate.credits } catch {
                throw CommandFailure(code: error.exitCode, message: error.message)
            }
        }
        if total > limit {
            throw CommandFailure.usage(
                "the estimate is \(total) credits (\(total.usdText)) for \(requests.count) job\(requests.count == 1 ? "" : "s"), above --max-spend \(limit); nothing was sent")
        }
    }

    /// Prints what would be sent, body by body, and the estimate; opens no ledger and sends
    /// nothing. Bodies are the exact bytes the client sends (keys sorted); a seed left to BFL
    /// is absent, as it is on the wire.
    static func dryRun(_ requests: [JobRequest], json: Bool) throws {
        var total = Credits.zero
        for request in requests {
            let prepared: PreparedRequest
            do { prepared = try request.parameters.prepare(for: request.model) } catch {
                throw CommandFailure(code: error.exitCode, message: error.message)
            }
            total += prepared.estimate.credits
            let body = String(decoding: try prepared.jsonBody(), as: UTF8.self)
            if json {
                print("{\"body\":\(body),\"estimate_credits\":\(prepared.estimate.credits),\"method\":\"POST\",\"path\":\"/v1/\(prepared.path)\"}")
            } else {
                print("POST /v1/\(prepared.path)")
                print(body)
            }
        }
        let summary = "\(requests.count) request\(requests.count == 1 ? "" : "s"), estimated \(total) credits (\(total.usdText)); dry run: nothing was sent"
        if json { Output.error("fluxdeck: " + summary) } else { print(summary) }
    }

    static func run(_ requests: [JobRequest], service: ServiceOptions, outputDir: String?, wait: Bool, json: Bool) async throws {
        let results: [JobRecord] = try await Session.with(service, outputDirectory: outputDir) { session in
            if let simulator = session.simulator {
                Output.error("fluxdeck: using the offline simulator at \(simulator.apiURL) (no credits spent)")
            }
            // --region picks the front door where the endpoint has regions (BFL's, a proxy's
            // declared in [endpoint.regions], the simulator's); the engine ignores it elsewhere.
            let regional = requests.map { request in
                var request = request
                request.region = request.region ?? service.region
                return request
            }
            let jobs: [JobRecord]
            do { jobs = try await session.engine.enqueue(regional) } catch let error as BFLError {
                throw CommandFailure(code: error.exitCode, message: error.message)
            } catch let error as JobStoreError {
                throw CommandFailure(code: .jobFailed, message: error.message)
            }
            return wait
                ? await follow(session.engine, jobs)
                : await follow(session.engine, jobs) { $0 != .queued && $0 != .submitting }
        }
        try report(results, json: json)
    }

    /// Waits for the jobs (until final, or until `until`) while drawing progress on stderr.
    static func follow(_ engine: JobEngine, _ jobs: [JobRecord],
                       until: @escaping @Sendable (JobPhase) -> Bool = { $0.isFinal }) async -> [JobRecord] {
        let progress = ProgressReporter(total: jobs.count)
        let display = Task { await progress.follow(engine.events) }
        let done = await engine.wait(for: jobs.map(\.id), until: until)
        display.cancel()
        await progress.finish()
        return done
    }

    /// Prints each job (its file, or JSON), explains failures on stderr, and exits with the
    /// code the jobs deserve.
    static func report(_ results: [JobRecord], json: Bool) throws {
        for job in results {
            if json {
                try Output.jsonLine(JobReport(job))
            } else if let path = job.outputPath {
                Output.line(path)
            } else if !job.phase.isFinal {
                Output.line("\(job.shortID) submitted (\(job.model)); `fluxdeck jobs resume` finishes it")
            }
            if let message = job.errorMessage, job.phase.isFinal, job.phase != .done {
                Output.error("fluxdeck: job \(job.shortID) \(job.phase.rawValue): \(TerminalText.sanitize(message))")
            }
        }
        let code = exitCode(results)
        if code != .ok { throw ExitCode(code.rawValue) }
    }

    static func exitCode(_ jobs: [JobRecord]) -> Output.Code {
        let kinds = Set(jobs.compactMap(\.errorKind))
        if kinds.contains(.apiRefused) { return .apiRefused }
        if kinds.contains(.network) { return .network }
        if jobs.contains(where: { $0.phase.isFinal && $0.phase != .done }) { return .jobFailed }
        return .ok
    }
}

/// The JSON object printed per job.
struct JobReport: Encodable {
    var id: String
    var model: String
    /// fluxdeck's phase (also under `phase`).
    var status: String
    /// BFL's task id, and the last status BFL gave, verbatim ("Ready", "Request Moderated",
    /// "Content Moderated", "Error", "Task not found", or one fluxdeck does not know).
    var taskID: String?
    var apiStatus: String?
    var outputDirectory: String?
    /// The region it was sent to, the front door that took it and the cluster that holds it.
    var region: String?
    var apiHost: String?
    var clusterHost: String?
    var followedBy: String?
    var file: String?
    var seed: Int?
    var cost: Credits?
    var estimatedCost: Credits
    var inputMP: Double?
    var outputMP: Double?
    var error: String?

    enum CodingKeys: String, CodingKey {
        case id, model, status, phase, file, seed, cost, error
        case estimatedCost = "estimated_cost", inputMP = "input_mp", outputMP = "output_mp"
        case taskID = "task_id", apiStatus = "api_status", outputDirectory = "output_dir"
        case region, apiHost = "api_host", clusterHost = "cluster_host", followedBy = "followed_by"
    }

    init(_ job: JobRecord) {
        id = job.id
        model = job.model
        status = job.phase.rawValue
        taskID = job.taskID
        apiStatus = job.serverStatus.map(TerminalText.sanitize)
        outputDirectory = job.outputDirectory
        region = job.region
        apiHost = job.apiHost
        clusterHost = job.clusterHost
        followedBy = job.followedBy
        file = job.outputPath
        seed = job.seed
        cost = job.chargedCredits
        estimatedCost = job.estimate
        inputMP = job.inputMP
        outputMP = job.outputMP
        error = job.errorMessage.map(TerminalText.sanitize)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(model, forKey: .model)
        try c.encode(status, forKey: .status)
        try c.encode(status, forKey: .phase)
        try c.encode(taskID, forKey: .taskID)
        try c.encode(apiStatus, forKey: .apiStatus)
        try c.encode(outputDirectory, forKey: .outputDirectory)
        try c.encode(region, forKey: .region)
        try c.encode(apiHost, forKey: .apiHost)
        try c.encode(clusterHost, forKey: .clusterHost)
        try c.encode(followedBy ?? "polling", forKey: .followedBy)
        try c.encode(file, forKey: .file)
        try c.encode(seed, forKey: .seed)
        try c.encode(cost, forKey: .cost)
        try c.encode(estimatedCost, forKey: .estimatedCost)
        try c.encode(inputMP, forKey: .inputMP)
        try c.encode(outputMP, forKey: .outputMP)
        try c.encode(error, forKey: .error)
    }
}

/// Progress on stderr: one line redrawn in place on a terminal, a line per change otherwise.
actor ProgressReporter {
    private let total: Int
    private let interactive = isatty(STDERR_FILENO) == 1
    private var phases: [String: JobPhase] = [:]
    private var progress: [String: Double] = [:]
    private var drawn = false

    init(total: Int) { self.total = total }

    func follow(_ events: AsyncStream<JobEvent>) async {
        for await event in events {
            switch event {
            case .updated(let job):
                let changed = phases[job.id] != job.phase
                phases[job.id] = job.phase
                if !interactive, changed {
                    Output.error("\(job.shortID) \(job.model): \(job.phase.rawValue)")
                }
            case .progress(let id, let value):
                guard phases[id] != nil else { continue }
                progress[id] = value
            case .elsewhere:
                continue
            }
            if interactive { draw() }
        }
    }

    func finish() {
        if interactive, drawn { Output.errorRaw("\r\u{1B}[K") }
    }

    private func draw() {
        var counts: [JobPhase: Int] = [:]
        for phase in phases.values { counts[phase, default: 0] += 1 }
        let running = phases.filter { $0.value == .running }.compactMap { progress[$0.key] }
        let mean = running.isEmpty ? nil : running.reduce(0, +) / Double(running.count)
        var parts: [String] = []
        for phase in JobPhase.allCases {
            guard let n = counts[phase], n > 0 else { continue }
            if phase == .running, let mean {
                parts.append("\(n) generating \(Int(mean * 100))%")
            } else {
                parts.append("\(n) \(phase.rawValue)")
            }
        }
        Output.errorRaw("\r\u{1B}[K\(total) job\(total == 1 ? "" : "s"): " + parts.joined(separator: ", "))
        drawn = true
    }
}
