import BFL
import BFLSimulator
import Foundation
import Jobs
import Testing

/// The reliability suite's engine half (figures in RELIABILITY.md).
@Suite("Reliability: the engine under faults", .timeLimit(.minutes(3)))
struct ReliabilityTests {
    @Test("240 jobs, 10 % of polls answered 5xx or dropped and 10 % of submits answered 429: every job done, each charged once")
    func faults240() async throws {
        let faults = try Faults(spec: "5xx=0.05,poll-reset=0.05,429=0.1,retry-after=0")
        let rig = try await EngineSimulatorTests.Rig.start {
            $0.faults = faults
            $0.timeFactor = 0.02
        }
        let model = try #require(Catalog.model(id: "flux-2-klein-4b"))
        let requests = (0..<240).map { n in
            var parameters = GenerationParameters(prompt: "reliability \(n)")
            parameters.width = 256
            parameters.height = 256
            return JobRequest(model: model, parameters: parameters)
        }
        let jobs = try await rig.engine.enqueue(requests)
        let results = await rig.engine.wait(for: jobs.map(\.id))
        #expect(results.count == 240)
        #expect(results.allSatisfy { $0.phase == .done }, "\(Dictionary(grouping: results, by: \.phase).mapValues(\.count))")
        // Charged once each: the simulator accepted (and billed) exactly one task per job.
        #expect(await rig.server.core.acceptedSubmissions == 240)
        let requestsSeen = await rig.server.core.requests
        let refused = requestsSeen.filter { $0.method == "POST" && $0.listener == .api }.count - 240
        #expect(refused > 0, "some submits were answered 429 and sent again")
        let polls = requestsSeen.filter { $0.method == "GET" && $0.listener.isCluster }.count
        print("reliability: 240 jobs done; \(refused) submits answered 429 and sent again; \(polls) polls; 240 tasks accepted and billed")
        let files = try FileManager.default.contentsOfDirectory(atPath: rig.directory.appendingPathComponent("out").path)
        #expect(files.filter { $0.hasSuffix(".jpg") }.count == 240)
        #expect(files.filter { $0.hasPrefix(".") }.isEmpty)
        await rig.stop()
    }
}
