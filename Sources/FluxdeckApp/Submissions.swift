import ArgumentParser
import BFLSimulator
public import BFL
import Crypto
import Foundation
import Imaging
public import Jobs

#if canImport(Glibc)
import Glibc
#endif

/// Submits, shows progress, reports, and picks the exit code.
public enum JobRunner {
    /// Refuses (exit 2, nothing sent) when the requests' estimate is above `maxSpend`.
    public static func checkSpend(_ requests: [JobRequest], maxSpend: Double?) throws {
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
    /// nothing. Bodies are the bytes the client sends (keys sorted; a seed left to BFL is
    /// absent, as it is on the wire), except that an image sent as data shows as its kind,
    /// size, length and a short digest (`readableBody`).
    public static func dryRun(_ requests: [JobRequest], json: Bool) throws {
        var total = Credits.zero
        for request in requests {
            let prepared: PreparedRequest
            do { prepared = try request.parameters.prepare(for: request.model) } catch {
                throw CommandFailure(code: error.exitCode, message: error.message)
            }
            total += prepared.estimate.credits
            let body = readableBody(try prepared.jsonBody())
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

    /// A body for a person: each image sent as base64 becomes
    /// `<png 1024×768 · 52317 bytes · sha256 1a2b3c4d5e6f…>` (the digest tells two apart).
    static func readableBody(_ body: Data) -> String {
        guard case .object(var fields)? = try? JSONDecoder().decode(JSONValue.self, from: body) else {
            return String(decoding: body, as: UTF8.self)
        }
        for (key, value) in fields {
            guard let text = value.stringValue, text.utf8.count > 256, let data = Data(base64Encoded: text) else { continue }
            let bytes = Array(data)
            let kind = ImageFormat.sniff(bytes)?.rawValue ?? "data"
            let size = ImageHeader.size(of: bytes).map { " \($0.width)×\($0.height)" } ?? ""
            let digest = SHA256.hash(data: data).prefix(6).map { String(format: "%02x", $0) }.joined()
            fields[key] = .string("<\(kind)\(size) · \(bytes.count) bytes · sha256 \(digest)…>")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(JSONValue.object(fields))).map { String(decoding: $0, as: UTF8.self) } ?? String(decoding: body, as: UTF8.self)
    }

    public static func run(_ requests: [JobRequest], service: ServiceSettings, outputDir: String?, wait: Bool, json: Bool) async throws {
        // The built-in simulator ends with this command, and its tasks with it: nothing would
        // be left for a resume to finish.
        if !wait && service.simulator {
            throw CommandFailure.usage("--no-wait cannot be used with --simulator: the built-in simulator stops when this command ends, "
                + "and its jobs with it; leave out --no-wait, or run `fluxdeck simulate` and point --endpoint at it")
        }
        // Watched from the start: a signal never ends the process between a POST and its record.
        let interrupts = Interrupts()
        defer { interrupts.stop() }
        var regions: [Region] = []
        let results: [JobRecord] = try await Session.with(service, outputDirectory: outputDir) { session in
            regions = session.client.configuration.regions.regions
            // A region asked for is a region kept.
            try session.check(region: service.region)
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
            let sentOrDone: @Sendable (JobPhase) -> Bool = { $0 != .queued && $0 != .submitting }
            let final: @Sendable (JobPhase) -> Bool = { $0.isFinal }
            return try await followStoppably(session.engine, jobs, interrupts: interrupts, until: wait ? final : sentOrDone)
        }
        try report(results, json: json, regions: regions)
    }

    /// `follow`, until the jobs are done or the first signal: then no new request leaves, the
    /// requests already sent get `Interrupts.grace` to be answered and recorded, and the
    /// command ends with 128 + the signal (the second signal ends it at once).
    public static func followStoppably(_ engine: JobEngine, _ jobs: [JobRecord], interrupts: Interrupts,
                                       until: @escaping @Sendable (JobPhase) -> Bool = { $0.isFinal }) async throws -> [JobRecord] {
        enum Outcome: Sendable {
            case done([JobRecord])
            case signal(Int32)
        }
        let outcome = await withTaskGroup(of: Outcome?.self) { group -> Outcome? in
            group.addTask { .done(await follow(engine, jobs, until: until)) }
            group.addTask { await interrupts.first().map(Outcome.signal) }
            var first: Outcome?
            while let next = await group.next() {
                if let next { first = next; break }
            }
            group.cancelAll()
            return first
        }
        guard case .signal(let number)? = outcome else {
            if case .done(let results)? = outcome { return results }
            return []
        }
        await engine.stopAdmitting()
        let sent = await engine.sending.count
        let grace = Int(Interrupts.grace.seconds)
        Output.error("\nfluxdeck: \(Interrupts.name(number)): stopping. No new request is sent"
            + (sent > 0 ? "; waiting up to \(grace) s for the \(sent) already sent to be answered (a second signal ends at once)" : "") + ".")
        let unanswered = await engine.waitForSending(upTo: Interrupts.grace)
        if unanswered > 0 {
            Output.error("fluxdeck: \(unanswered) request(s) got no answer in time: they may be charged; `fluxdeck jobs resume` marks them unknown and never sends them again.")
        }
        Output.error("fluxdeck: the other jobs are in the ledger: `fluxdeck jobs resume` finishes them (queued ones are sent then).")
        throw ExitCode(128 + number)
    }

    /// What the user can do about a job that ended badly, in the command line's terms.
    public static func advice(for job: JobRecord, regions: [Region]) -> String? {
        let others = job.otherRegions(among: regions)
        guard let sent = job.region, !others.isEmpty else { return nil }
        return "The \(sent) region may be down: try \(others.map(\.rawValue).joined(separator: " or ")) (--region)."
    }

    /// Waits for the jobs (until final, or until `until`) while drawing progress on stderr.
    public static func follow(_ engine: JobEngine, _ jobs: [JobRecord],
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
    public static func report(_ results: [JobRecord], json: Bool, regions: [Region] = []) throws {
        for job in results {
            let advice = Self.advice(for: job, regions: regions)
            if json {
                try Output.jsonLine(JobReport(job, advice: advice))
            } else if let path = job.outputPath {
                Output.line(path)
            } else if !job.phase.isFinal {
                Output.line("\(job.shortID) submitted (\(job.model)); `fluxdeck jobs resume` finishes it")
            }
            if let message = job.errorMessage, job.phase.isFinal, job.phase != .done {
                Output.error("fluxdeck: job \(job.shortID) \(job.phase.rawValue): \(TerminalText.sanitize(message))" + (advice.map { " " + $0 } ?? ""))
            }
        }
        let code = exitCode(results)
        if code != .ok { throw ExitCode(code.rawValue) }
    }

    public static func exitCode(_ jobs: [JobRecord]) -> Output.Code {
        let kinds = Set(jobs.compactMap(\.errorKind))
        if kinds.contains(.apiRefused) { return .apiRefused }
        if kinds.contains(.network) { return .network }
        if jobs.contains(where: { $0.phase.isFinal && $0.phase != .done }) { return .jobFailed }
        return .ok
    }
}

/// The JSON object printed per job.
public struct JobReport: Encodable {
    public var id: String
    public var model: String
    /// fluxdeck's phase (also under `phase`).
    public var status: String
    /// The prompt (control characters taken out), and when the job was made and ended (ISO 8601).
    public var prompt: String
    public var createdAt: String
    public var finishedAt: String?
    /// BFL's task id, and the last status BFL gave, verbatim ("Ready", "Request Moderated",
    /// "Content Moderated", "Error", "Task not found", or one fluxdeck does not know).
    public var taskID: String?
    public var apiStatus: String?
    public var outputDirectory: String?
    /// The region it was sent to, the front door that took it and the cluster that holds it.
    public var region: String?
    public var apiHost: String?
    public var clusterHost: String?
    public var followedBy: String?
    public var file: String?
    public var seed: Int?
    public var cost: Credits?
    public var estimatedCost: Credits
    public var inputMP: Double?
    public var outputMP: Double?
    public var error: String?
    /// What to do about it, in the command line's terms (another region, say).
    public var advice: String?
    /// The jobs whose saved images it was made from.
    public var parents: [String]

    public enum CodingKeys: String, CodingKey {
        case id, model, status, phase, file, seed, cost, error, advice, prompt, parents
        case createdAt = "created_at", finishedAt = "finished_at"
        case estimatedCost = "estimated_cost", inputMP = "input_mp", outputMP = "output_mp"
        case taskID = "task_id", apiStatus = "api_status", outputDirectory = "output_dir"
        case region, apiHost = "api_host", clusterHost = "cluster_host", followedBy = "followed_by"
    }

    public init(_ job: JobRecord, advice: String? = nil) {
        self.advice = advice
        id = job.id
        model = job.model
        status = job.phase.rawValue
        prompt = TerminalText.sanitize(job.prompt)
        createdAt = job.createdAt.formatted(.iso8601)
        finishedAt = job.finishedAt?.formatted(.iso8601)
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
        parents = job.parents
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(model, forKey: .model)
        try c.encode(status, forKey: .status)
        try c.encode(status, forKey: .phase)
        try c.encode(prompt, forKey: .prompt)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(finishedAt, forKey: .finishedAt)
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
        try c.encodeIfPresent(advice, forKey: .advice)
        try c.encode(parents, forKey: .parents)
    }
}

/// Progress on stderr: one line redrawn in place on a terminal, a line per change otherwise.
public actor ProgressReporter {
    private let total: Int
    private let interactive = isatty(STDERR_FILENO) == 1
    private var phases: [String: JobPhase] = [:]
    private var progress: [String: Double] = [:]
    /// The rate-limit waits already said, by job.
    private var waitsSaid: [String: Date] = [:]
    private var drawn = false

    public init(total: Int) { self.total = total }

    public func follow(_ events: AsyncStream<JobEvent>) async {
        for await event in events {
            switch event {
            case .updated(let job):
                let changed = phases[job.id] != job.phase
                phases[job.id] = job.phase
                if !interactive, changed {
                    Output.error("\(job.shortID) \(job.model): \(job.phase.rawValue)")
                }
                // A 429 is said, with its wait, once per wait (the line stays above the progress).
                if job.phase == .queued, let retryAt = job.retryAt, waitsSaid[job.id] != retryAt {
                    waitsSaid[job.id] = retryAt
                    let seconds = max(0, Int(retryAt.timeIntervalSinceNow.rounded(.up)))
                    if interactive, drawn { Output.errorRaw("\r\u{1B}[K") }
                    Output.error("fluxdeck: \(job.shortID) rate limited (HTTP 429); retrying in \(seconds) s at the latest")
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

    public func finish() {
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
