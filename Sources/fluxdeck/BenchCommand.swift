import ArgumentParser
import BFL
import BFLSimulator
import Foundation
import Jobs

/// Benchmarks that measure the project's speed goals (not tests: they report figures).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure fluxdeck's performance figures.",
        shouldDisplay: false,
        subcommands: [EngineBench.self, TerminalBench.self, StudioBench.self, StudioBench.FillLedger.self, DownloadBench.self])
}

struct EngineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Run N jobs through the engine against the in-process simulator; report makespan and polls.")

    @Option(help: "How many jobs.") var jobs = 240
    @Option(help: "The model.") var model = "flux-2-pro"
    @Option(name: .customLong("service-time"), help: "The simulated median service time T in seconds.") var serviceTime = 1.0
    @Option(help: "Output width and height.") var size = 512
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await runReportingFailures {
            guard let model = Catalog.model(id: model) else { throw CommandFailure.usage("unknown model \(self.model)") }
            guard jobs > 0, serviceTime > 0 else { throw CommandFailure.usage("--jobs and --service-time must be positive") }
            let typical = Double(model.typicalDuration.components.seconds) + Double(model.typicalDuration.components.attoseconds) / 1e18
            var options = SimulatorOptions()
            options.timeFactor = serviceTime / typical
            options.initialCredits = Credits(Decimal(jobs * 100))
            let server = try await SimulatorServer.start(options: options)
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-bench-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: scratch) }
            let transport = HTTPClientTransport()
            let store = try JobStore(path: scratch.appendingPathComponent("bench.sqlite").path)
            guard let endpoint = Endpoint(customURL: server.apiURL) else { throw CommandFailure.usage("bad simulator URL") }
            let client = BFLClient(configuration: .init(endpoint: endpoint, apiKey: APIKey(server.apiKey)), transport: transport)
            let engine = JobEngine(client: client, store: store, library: OutputLibrary(directory: scratch.appendingPathComponent("out")),
                                   configuration: EngineConfiguration(endpointLabel: server.apiURL))
            var parameters = GenerationParameters(prompt: "benchmark")
            if model.sizeRule == .flux2 || model.sizeRule == .pro11 {
                parameters.width = size
                parameters.height = size
            }
            let requests = (0..<jobs).map { n -> JobRequest in
                var p = parameters
                p.prompt = "benchmark \(n)"
                return JobRequest(model: model, parameters: p)
            }
            let clock = ContinuousClock()
            let start = clock.now
            let records = try await engine.enqueue(requests)
            let results = await engine.wait(for: records.map(\.id))
            let makespan = clock.now - start
            let seconds = Double(makespan.components.seconds) + Double(makespan.components.attoseconds) / 1e18
            let limit = Double((jobs + 23) / 24) * serviceTime
            let polls = Double(results.reduce(0) { $0 + $1.polls }) / Double(jobs)
            let serverPolls = await server.core.requests.filter { $0.listener == .cluster }.count
            let done = results.filter { $0.phase == .done }.count
            await engine.shutdown()
            try? await transport.shutdown()
            await server.stop()
            let report: [String: Double] = [
                "jobs": Double(jobs), "done": Double(done), "service_time_s": serviceTime, "makespan_s": seconds,
                "physical_limit_s": limit, "ratio": seconds / limit, "mean_polls_per_job": polls,
                "server_polls_per_job": Double(serverPolls) / Double(jobs),
            ]
            if json {
                try Output.jsonLine(report)
            } else {
                Output.line(String(format: "%d jobs of %@ (T = %.2f s): %d done", jobs, model.id, serviceTime, done))
                Output.line(String(format: "makespan %.2f s; physical limit ceil(%d/24)·T = %.2f s; ratio %.3f", seconds, jobs, limit, seconds / limit))
                Output.line(String(format: "mean polls per job %.2f (the simulator counted %.2f)", polls, Double(serverPolls) / Double(jobs)))
            }
        }
    }
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
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
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
