import ArgumentParser
import FluxdeckApp
import BFL
import BFLSimulator
import Foundation
import Histogram
import Imaging
import Jobs
import WebhookListener

/// Benchmarks that measure the project's speed goals (not tests: they report figures). A
/// program of its own, so the product binary ships none of it: `swift run fluxdeck-bench …`.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fluxdeck-bench",
        abstract: "Measure fluxdeck's performance figures.",
        subcommands: [EngineBench.self, TerminalBench.self, StudioBench.self, StudioBench.FillLedger.self, DownloadBench.self, PicturesBench.self, SpendBench.self, RepaintBench.self])
}

extension BenchCommand {
    /// The median of the samples, in milliseconds (the figure the benchmarks report).
    static func medianMilliseconds(_ samples: [Duration]) -> Double {
        let sorted = samples.sorted()
        let middle = sorted[sorted.count / 2]
        return middle.milliseconds
    }
}

struct EngineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Run a workload through fluxdeck's cadence and through fixed 0.5 s and 1 s polling loops, against the in-process simulator.",
        discussion: """
            Workloads: uniform (240 × flux-2-pro, T = 1 s), realistic (one model at the contract's medians \
            ±20 %, time scale 0.5; 48 and 240 jobs), mixed (all twelve models, 120 jobs, time scale 0.5). \
            For each loop: makespan, its ratio to ⌈N/24⌉·T where T is known, polls per job, and the time \
            from Ready (the simulator's record) to the image on disk, p50/p95/max.
            """)

    @Option(help: "uniform, realistic or mixed (default: all three).") var workload: String?
    @Option(help: "The model of the realistic workload.") var model = "flux-pro-1.1"
    @Option(help: "Loops to run: fluxdeck, 0.5, 1 (comma-separated).") var loops = "fluxdeck,0.5,1"
    @Flag(help: "Also run fluxdeck in webhook mode (a local receiver; jobs wait for their call).") var webhooks = false
    @Flag(help: "Also run webhook mode with every call lost (jobs fall back to polling and look for their cluster).") var lostWebhooks = false
    @Flag(help: "Print JSON lines.") var json = false

    struct Workload {
        var name: String
        var requests: [JobRequest]
        var timeFactor: Double
        /// The service time when every job has the same one (for the physical limit).
        var serviceTime: Double?
    }

    func run() async throws {
        try await runReportingFailures {
            let loopList = try loops.split(separator: ",").map { item -> Duration? in
                let text = item.trimmingCharacters(in: .whitespaces)
                if text == "fluxdeck" { return nil }
                guard let seconds = Double(text), seconds >= 0.05, seconds <= 10 else {
                    throw CommandFailure.usage("--loops takes fluxdeck or seconds between 0.05 and 10 (got \(text))")
                }
                return WireNumber.duration(seconds: seconds, clampedTo: 0.05...10)
            }
            for workload in try workloads() {
                for loop in loopList {
                    try await measure(workload, loop: loop)
                }
                if webhooks { try await measure(workload, loop: nil, webhooks: true) }
                if lostWebhooks { try await measure(workload, loop: nil, webhooks: true, lost: true) }
            }
        }
    }

    func workloads() throws -> [Workload] {
        let pixels = [UInt8](repeating: 200, count: 64 * 64 * 3)
        let png = (try? ImageCodec.encodePNG(RGBImage(width: 64, height: 64, pixels: pixels))) ?? []
        let image = ImageReference(value: Data(png).base64EncodedString(), size: PixelSize(width: 64, height: 64))
        func small(_ model: Model, _ n: Int) -> JobRequest {
            var parameters = GenerationParameters(prompt: "benchmark \(model.id) \(n)")
            switch model.sizeRule {
            case .flux2, .pro11:
                parameters.width = 512
                parameters.height = 512
            case .aspectRatioUltra:
                parameters.aspectRatio = "21:9"
            case .sameAsImage:
                parameters.image = image
                parameters.mask = image
            case .aspectRatio:
                break
            }
            return JobRequest(model: model, parameters: parameters)
        }
        guard let pro = Catalog.model(id: "flux-2-pro"), let chosen = Catalog.model(id: model) else {
            throw CommandFailure.usage("unknown model \(model)")
        }
        let typicalPro = pro.typicalDuration.seconds
        var all: [Workload] = []
        let names = workload.map { [$0] } ?? ["uniform", "realistic", "mixed"]
        for name in names {
            switch name {
            case "uniform":
                all.append(Workload(name: "uniform 240 × flux-2-pro, T = 1 s", requests: (0..<240).map { small(pro, $0) },
                                    timeFactor: 1 / typicalPro, serviceTime: 1))
            case "realistic":
                for count in [48, 240] {
                    all.append(Workload(name: "realistic \(count) × \(chosen.id), time scale 0.5", requests: (0..<count).map { small(chosen, $0) },
                                        timeFactor: 0.5, serviceTime: chosen.typicalDuration.seconds * 0.5))
                }
            case "mixed":
                let requests = (0..<120).map { n in small(Catalog.all[n % Catalog.all.count], n) }
                all.append(Workload(name: "mixed 120 over all models, time scale 0.5", requests: requests, timeFactor: 0.5, serviceTime: nil))
            default:
                throw CommandFailure.usage("unknown workload \(name) (uniform, realistic, mixed)")
            }
        }
        return all
    }

    func measure(_ workload: Workload, loop: Duration?, webhooks: Bool = false, lost: Bool = false) async throws {
        var options = SimulatorOptions()
        options.timeFactor = workload.timeFactor
        options.faults.webhookLost = lost
        options.initialCredits = Credits(Decimal(workload.requests.count * 1000))
        let server = try await SimulatorServer.start(options: options)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let transport = HTTPClientTransport()
        let store = try JobStore(path: scratch.appendingPathComponent("bench.sqlite").path)
        guard let endpoint = Endpoint(customURL: server.apiURL) else { throw CommandFailure.usage("bad simulator URL") }
        let client = BFLClient(configuration: .init(endpoint: endpoint, apiKey: APIKey(server.apiKey),
                                                    clusters: server.clusterURLs.compactMap(ClusterHosts.url)), transport: transport)
        var configuration = EngineConfiguration(endpointLabel: server.apiURL)
        configuration.fixedPollInterval = loop
        let engineBox = EngineBox()
        var receiver: WebhookServer?
        if webhooks {
            let secret = WebhookGate.randomSecret()
            let gate = try WebhookGate(path: "/fluxdeck/webhook", secret: secret, isKnown: { id in await engineBox.engine?.follows(taskID: id) ?? false })
            receiver = try await WebhookServer.start(host: "127.0.0.1", port: 0, gate: gate, log: { _ in },
                                                     deliver: { event in await engineBox.engine?.webhookArrived(event) })
            configuration.webhook = (receiver?.url ?? "", secret)
        }
        let engine = JobEngine(client: client, store: store, library: OutputLibrary(directory: scratch.appendingPathComponent("out")),
                               configuration: configuration)
        await engineBox.set(engine)
        // A warm-up job per model teaches fluxdeck's cadence this endpoint (as a user's ledger
        // would already know it), and is left out of the figures.
        let warmUp = Dictionary(grouping: workload.requests, by: { $0.model.id }).compactMap { $0.value.first }
        for round in 0..<3 {
            let warm = try await engine.enqueue(warmUp.map { request in
                var copy = request
                copy.parameters.prompt = "warm-up \(round) " + (request.parameters.prompt ?? "")
                return copy
            })
            _ = await engine.wait(for: warm.map(\.id))
        }
        // Polls on any host: a job without a polling URL asks the front door first.
        func pollCount() async -> Int { await server.core.requests.filter { $0.method == "GET" && $0.path == "/v1/get_result" }.count }
        let pollsBefore = await pollCount()
        // Each job's moment on disk, on the simulator's clock.
        let onDisk = OnDiskTimes()
        let events = engine.events
        let watcher = Task {
            for await event in events {
                if case .updated(let job) = event, job.phase == .done, let task = job.taskID {
                    await onDisk.set(task, await server.core.currentTime)
                }
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        let records = try await engine.enqueue(workload.requests)
        let results = await engine.wait(for: records.map(\.id))
        let makespan = (clock.now - start).seconds
        let timelines = await server.core.timelines
        let polls = await pollCount() - pollsBefore
        await engine.shutdown()
        watcher.cancel()
        try? await transport.shutdown()
        await receiver?.stop()
        await server.stop()
        var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: .three)
        let disk = await onDisk.times
        for job in results where job.phase == .done {
            guard let task = job.taskID, let ready = timelines[task]?.readyAt, let saved = disk[task] else { continue }
            let ms = max(0, (saved - ready).seconds * 1000)
            _ = histogram.record(UInt64(ms.rounded()))
        }
        let done = results.filter { $0.phase == .done }.count
        let limit = workload.serviceTime.map { Double((workload.requests.count + 23) / 24) * $0 }
        let name = lost ? "fluxdeck webhooks, all lost" : webhooks ? "fluxdeck webhooks" : loop.map { "fixed \($0.seconds) s loop" } ?? "fluxdeck cadence"
        let report: [String: Double] = [
            "jobs": Double(workload.requests.count), "done": Double(done), "makespan_s": makespan,
            "ratio_to_limit": limit.map { makespan / $0 } ?? -1, "polls_per_job": Double(polls) / Double(max(1, workload.requests.count)),
            "ready_to_disk_p50_ms": Double(histogram.valueAtPercentile(50)), "ready_to_disk_p95_ms": Double(histogram.valueAtPercentile(95)),
            "ready_to_disk_max_ms": Double(histogram.max),
        ]
        if json {
            var line = report.mapValues(JSONValue.number)
            line["workload"] = .string(workload.name)
            line["loop"] = .string(name)
            try Output.jsonLine(line)
        } else {
            Output.line(String(format: "%@ · %@: %d/%d done, makespan %.2f s%@, %.2f polls/job, Ready→on-disk p50 %d ms, p95 %d ms, max %d ms",
                               workload.name, name, done, workload.requests.count, makespan,
                               limit.map { String(format: " (%.3f × ⌈N/24⌉·T)", makespan / $0) } ?? "",
                               Double(polls) / Double(max(1, workload.requests.count)),
                               Int(histogram.valueAtPercentile(50)), Int(histogram.valueAtPercentile(95)), Int(histogram.max)))
        }
    }
}

/// When each task's image was on disk, by task id (simulator time).
actor OnDiskTimes {
    var times: [String: Duration] = [:]
    func set(_ task: String, _ time: Duration) { times[task] = time }
}

/// How much memory saving a large image takes: the simulator streams a big "PNG" from its
/// delivery host and the output library saves it (download, provenance, copy), while the
/// process's peak resident size is watched.
struct DownloadBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Save a large result through the output library; report the peak memory above the baseline.")

    @Option(help: "Size of the image in MB.") var megabytes = 50
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await runReportingFailures {
            guard (1...1000).contains(megabytes) else { throw CommandFailure.usage("--megabytes must be from 1 to 1000") }
            let server = try await SimulatorServer.start()
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-bench-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: scratch) }
            let transport = HTTPClientTransport()
            guard let endpoint = Endpoint(customURL: server.apiURL) else { throw CommandFailure.usage("bad simulator URL") }
            var configuration = BFLClient.Configuration(endpoint: endpoint, apiKey: APIKey(server.apiKey))
            configuration.maxDownloadBytes = (megabytes + 1) * 1_048_576
            let client = BFLClient(configuration: configuration, transport: transport)
            let library = OutputLibrary(directory: scratch)
            let job = JobRecord(id: UUID().uuidString.lowercased(), createdAt: Date(), model: "flux-2-pro", endpoint: "bench",
                                prompt: "a large image", requestJSON: "{}", estimatedCredits: .zero, fileExtension: "png", groupID: nil)
            // Warm up the client, the server and the code paths with a small one.
            _ = try await library.save(job: job, sampleURL: server.deliveryURL + "/__sim/blob/65536.png", client: client)
            let baseline = Memory.residentKB()
            Memory.resetPeak()
            let clock = ContinuousClock()
            let start = clock.now
            let saved = try await library.save(job: job, sampleURL: server.deliveryURL + "/__sim/blob/\(megabytes * 1_048_576).png", client: client)
            let elapsed = clock.now - start
            let peak = Memory.peakKB()
            let size = (try? FileManager.default.attributesOfItem(atPath: saved.image.path)[.size] as? Int) ?? 0
            try? await transport.shutdown()
            await server.stop()
            let growthMB = Double(max(0, peak - baseline)) / 1024
            let seconds = elapsed.seconds
            if json {
                try Output.jsonLine(["megabytes": Double(megabytes), "saved_bytes": Double(size), "baseline_mb": Double(baseline) / 1024,
                                     "peak_mb": Double(peak) / 1024, "growth_mb": growthMB, "seconds": seconds])
            } else {
                Output.line(String(format: "saved %d MB (%d bytes on disk) in %.2f s; resident %.1f MB before, peak %.1f MB: %.1f MB above the baseline",
                                   megabytes, size, seconds, Double(baseline) / 1024, Double(peak) / 1024, growthMB))
            }
        }
    }
}

/// The process's resident memory, from /proc (Linux).
enum Memory {
    static func field(_ name: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }
    static func residentKB() -> Int { field("VmRSS") }
    static func peakKB() -> Int { field("VmHWM") }
    /// Starts the peak (VmHWM) again from the current resident size.
    static func resetPeak() { try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8) }
}
