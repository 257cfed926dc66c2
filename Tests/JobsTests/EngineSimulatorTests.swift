import BFL
import BFLSimulator
import Foundation
import Imaging
import Jobs
import Testing
import TestSupport

/// The engine against the simulator over loopback, on the real clock with fast service times.
@Suite("Job engine against the simulator", .timeLimit(.minutes(3)))
struct EngineSimulatorTests {
    struct Rig {
        let server: SimulatorServer
        let transport: HTTPClientTransport
        let directory: URL
        let store: JobStore
        let engine: JobEngine

        static func start(_ edit: (inout SimulatorOptions) -> Void = { _ in }) async throws -> Rig {
            var options = SimulatorOptions()
            options.timeFactor = 0.02
            options.initialCredits = 100_000
            edit(&options)
            let server = try await SimulatorServer.start(options: options)
            let transport = HTTPClientTransport(pace: .patientForTests)
            let directory = try temporaryDirectory()
            let store = try JobStore(path: directory.appendingPathComponent("db.sqlite").path)
            var client = BFLClient.Configuration(endpoint: try #require(Endpoint(customURL: server.apiURL)), apiKey: APIKey(server.apiKey))
            client.retry = RetryPolicy(jitter: { 0.1 })
            var configuration = EngineConfiguration(endpointLabel: server.apiURL)
            configuration.rateLimitBackoff = .milliseconds(100)
            let engine = JobEngine(
                client: BFLClient(configuration: client, transport: transport), store: store,
                library: OutputLibrary(directory: directory.appendingPathComponent("out")), configuration: configuration)
            return Rig(server: server, transport: transport, directory: directory, store: store, engine: engine)
        }

        func stop() async {
            await engine.shutdown()
            try? await transport.shutdown()
            await server.stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// 100 requests across every model, small sizes where the model lets us choose.
    static func mixedRequests(prefix: String = "") throws -> [JobRequest] {
        let small = try ImageCodec.encodePNG(RGBImage(width: 64, height: 64, pixels: Array(repeating: 90, count: 64 * 64 * 3)))
        let image = ImageReference(value: Data(small).base64EncodedString(), size: PixelSize(width: 64, height: 64))
        let plan: [(String, Int)] = [
            ("flux-2-klein-4b", 20), ("flux-2-klein-9b", 12), ("flux-2-pro", 20), ("flux-2-max", 8), ("flux-2-flex", 8),
            ("flux-kontext-pro", 8), ("flux-kontext-max", 10), ("flux-pro-1.1", 6), ("flux-dev", 4),
            ("flux-pro-1.1-ultra", 1), ("flux-pro-1.1-ultra-raw", 1), ("flux-pro-1.0-fill", 2),
        ]
        var requests: [JobRequest] = []
        for (id, count) in plan {
            let model = try #require(Catalog.model(id: id))
            for n in 0..<count {
                var parameters = GenerationParameters(prompt: "\(prefix)\(id) study \(n) in red and blue")
                switch model.sizeRule {
                case .flux2, .pro11:
                    parameters.width = 256
                    parameters.height = 256
                case .aspectRatioUltra:
                    parameters.aspectRatio = "21:9"
                case .sameAsImage:
                    parameters.image = image
                    parameters.mask = image
                case .aspectRatio:
                    break
                }
                if n % 3 == 0, model.sizeRule != .sameAsImage { parameters.outputFormat = .png }
                requests.append(JobRequest(model: model, parameters: parameters, groupID: "mix"))
            }
        }
        return requests
    }

    @Test("100 jobs across all models complete, each with one image (with provenance) and one sidecar")
    func hundredJobs() async throws {
        let rig = try await Rig.start()
        let requests = try Self.mixedRequests()
        #expect(requests.count == 100)
        let jobs = try await rig.engine.enqueue(requests)
        let results = await rig.engine.wait(for: jobs.map(\.id))
        #expect(results.allSatisfy { $0.phase == .done }, "\(results.filter { $0.phase != .done }.map { "\($0.model): \($0.phase) \($0.errorMessage ?? "")" })")
        let files = try FileManager.default.contentsOfDirectory(atPath: rig.directory.appendingPathComponent("out").path)
        #expect(files.filter { $0.hasSuffix(".json") }.count == 100)
        #expect(files.filter { ($0.hasSuffix(".jpg") || $0.hasSuffix(".png")) && !$0.contains(".mask.") }.count == 100)
        // Each Fill job sent with a mask has it saved beside its image.
        let masks = requests.filter { $0.parameters.mask?.value.hasPrefix("http") == false }.count
        #expect(masks > 0 && files.filter { $0.contains(".mask.") }.count == masks)
        #expect(files.filter { $0.hasPrefix(".") }.isEmpty)
        for job in results.prefix(12) {
            let imagePath = try #require(job.outputPath)
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: imagePath)))
            #expect(ImageHeader.size(of: bytes) != nil)
            let fields = Dictionary(uniqueKeysWithValues: Provenance.read(from: bytes).map { ($0.key, $0.value) })
            #expect(fields["job"] == job.id)
            #expect(fields["model"] == job.model)
            #expect(fields["seed"] == job.seed.map(String.init))
            let sidecarPath = try #require(job.sidecarPath)
            let sidecar = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sidecarPath))) as? [String: Any])
            #expect(sidecar["job_id"] as? String == job.id)
            #expect(sidecar["prompt"] as? String == job.prompt)
        }
        let peak = await rig.engine.peakActive
        #expect(peak.total <= 24)
        #expect((peak.byModel["flux-kontext-max"] ?? 0) <= 6)
        #expect(await rig.server.core.requests.filter { $0.method == "POST" }.count == 100)
        #expect(await rig.server.core.deliveryRequestsWithKey.isEmpty)
        // Fill used the image's size; charged costs were recorded.
        #expect(results.filter { $0.model == "flux-pro-1.0-fill" }.allSatisfy { $0.settledCost == "5" })
        await rig.stop()
    }

    @Test("with 5xx and 429 faults on, every job completes and none is sent twice")
    func faults() async throws {
        let faults = try Faults(spec: "5xx=0.3,429=0.3,retry-after=0")
        let rig = try await Rig.start { $0.faults = faults }
        let jobs = try await rig.engine.enqueue(Array(try Self.mixedRequests().prefix(40)))
        let results = await rig.engine.wait(for: jobs.map(\.id))
        #expect(results.allSatisfy { $0.phase == .done })
        #expect(await rig.server.core.acceptedSubmissions == 40)
        await rig.stop()
    }

    @Test("resets after a POST was accepted leave the job unknown, never resent; poll resets are retried")
    func resets() async throws {
        let rig = try await Rig.start { $0.faults.resetRate = 0.25 }
        let jobs = try await rig.engine.enqueue(Array(try Self.mixedRequests().prefix(40)))
        let results = await rig.engine.wait(for: jobs.map(\.id))
        #expect(results.allSatisfy { $0.phase == .done || $0.phase == .unknown })
        let unknown = results.filter { $0.phase == .unknown }.count
        #expect(unknown > 0)
        let posts = await rig.server.core.requests.filter { $0.method == "POST" }
        #expect(posts.count == 40)
        #expect(Set(posts.compactMap(\.prompt)).count == 40)
        #expect(await rig.server.core.acceptedSubmissions == 40)
        await rig.stop()
    }

    @Test("moderated and failed jobs are recorded with their status; an expired result gives expired")
    func outcomes() async throws {
        let rig = try await Rig.start { $0.deliveryTTL = .milliseconds(1) }
        let pro = try #require(Catalog.model(id: "flux-2-klein-4b"))
        let prompts = ["sim:request-moderated", "sim:content-moderated", "sim:error", "a normal one"]
        let jobs = try await rig.engine.enqueue(prompts.map { JobRequest(model: pro, parameters: GenerationParameters(prompt: $0)) })
        let results = await rig.engine.wait(for: jobs.map(\.id))
        #expect(results.map(\.phase) == [.moderated, .moderated, .failed, .expired])
        #expect(results[2].errorMessage == "Simulated generation failure")
        #expect(results[3].errorMessage?.contains("expired") == true)
        await rig.stop()
    }

    @Test("a repaint of a saved image names it as its parent; deleting the parent's image keeps the child's record of it, and the family still joins them in the ledger")
    func deletedParent() async throws {
        let rig = try await Rig.start()
        let model = try #require(Catalog.model(id: "flux-2-klein-4b"))
        var parameters = GenerationParameters(prompt: "a lighthouse at dusk")
        parameters.width = 256
        parameters.height = 256
        parameters.outputFormat = .png
        let made = try await rig.engine.enqueue([JobRequest(model: model, parameters: parameters, groupID: nil)])
        let parent = try #require(await rig.engine.wait(for: made.map(\.id)).first)
        let path = try #require(parent.outputPath)
        let repaint = try FillEdits.request(path: path, cells: [GridRect(x: 0, y: 0, width: 2, height: 2, columns: 8, rows: 8)],
                                            inverted: false, prompt: "a red lantern", region: nil)
        let sent = try await rig.engine.enqueue([repaint])
        let child = try #require(await rig.engine.wait(for: sent.map(\.id)).first)
        #expect(child.phase == .done && child.parents == [parent.id])

        #expect(try await rig.engine.deleteOutput(parent.id))
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try rig.store.job(id: parent.id)?.outputPath == nil)
        #expect(try rig.store.job(id: child.id)?.parents == [parent.id])
        // The child's family in the ledger: the parent has no image to show, the child does.
        let family = try rig.store.outputs(before: nil, query: OutputQuery("family:" + parent.shortID), limit: 10)
        #expect(family.map(\.id) == [child.id])
        await rig.stop()
    }
}
