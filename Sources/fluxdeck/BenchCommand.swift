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
        subcommands: [EngineBench.self, TerminalBench.self, StudioBench.self, StudioBench.FillLedger.self])
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
