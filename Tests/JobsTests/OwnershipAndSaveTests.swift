import BFL
import BFLSimulator
import Foundation
import Jobs
import Testing
import TestSupport

/// Two runners on one ledger never send a job twice; a paid image that cannot be saved is
/// fetched again, never bought again.
@Suite("Job owners and failed saves, against the simulator", .timeLimit(.minutes(2)))
struct OwnershipAndSaveTests {
    typealias Rig = EngineSimulatorTests.Rig

    /// A second engine on the rig's ledger and simulator (another fluxdeck process). `wallClock`
    /// stamps its heartbeats and decides whether other runners look gone: a test that must not
    /// see a runner go stale while a loaded machine runs it slowly gives every engine one clock
    /// that stands still.
    static func secondEngine(_ rig: Rig, accountLimit: Int = 24, wallClock: @escaping @Sendable () -> Date = { Date() }) throws -> JobEngine {
        var client = BFLClient.Configuration(endpoint: try #require(Endpoint(customURL: rig.server.apiURL)), apiKey: APIKey(rig.server.apiKey))
        client.retry = RetryPolicy(jitter: { 0.1 })
        var configuration = EngineConfiguration(endpointLabel: rig.server.apiURL)
        configuration.accountLimit = accountLimit
        return JobEngine(client: BFLClient(configuration: client, transport: rig.transport), store: rig.store,
                         library: OutputLibrary(directory: rig.directory.appendingPathComponent("out")), configuration: configuration,
                         wallClock: wallClock)
    }

    static func posts(_ server: SimulatorServer) async -> Int {
        await server.core.requests.filter { $0.method == "POST" && $0.listener == .api && !$0.path.hasPrefix("/__sim/") }.count
    }

    static func request(_ prompt: String) throws -> JobRequest {
        var parameters = GenerationParameters(prompt: prompt)
        parameters.width = 256
        parameters.height = 256
        return JobRequest(model: try #require(Catalog.model(id: "flux-2-klein-4b")), parameters: parameters)
    }

    @Test("a live runner's queued jobs are left to it; once it is gone they are adopted and each is sent once")
    func adoptOnlyOrphans() async throws {
        let rig = try await Rig.start { $0.timeFactor = 0.05 }
        // One wall clock that stands still: no runner goes stale however slowly this runs.
        let now = Date()
        let first = try Self.secondEngine(rig, accountLimit: 1, wallClock: { now })
        let jobs = try await first.enqueue((0..<6).map { try Self.request("owned \($0)") })
        let second = try Self.secondEngine(rig, wallClock: { now })
        // The first runner is alive (this process, its heartbeat fresh): nothing is taken.
        #expect(try await second.resume().isEmpty)
        #expect(try rig.store.jobs().allSatisfy { $0.ownerID == first.runner.id })
        // It stops; what it had not finished belongs to nobody alive, and is adopted once.
        await first.shutdown()
        let adopted = try await second.resume()
        #expect(!adopted.isEmpty)
        #expect(try await Self.secondEngine(rig, wallClock: { now }).resume().isEmpty, "a third runner finds nothing left")
        let results = await second.wait(for: jobs.map(\.id))
        #expect(results.allSatisfy { $0.phase == .done || $0.phase == .unknown }, "\(results.map(\.phase))")
        // One POST per job at most: a job caught mid-POST when the first stopped is unknown, not resent.
        let posts = await Self.posts(rig.server)
        #expect(posts <= jobs.count)
        #expect(posts >= results.filter { $0.phase == .done }.count)
        await second.shutdown()
        await rig.stop()
    }

    @Test("an adopter whose wall clock is an hour ahead leaves alone a live owner inside its POST: the job is sent once and done")
    func ownerInsidePost() async throws {
        // Every answer takes a second of real time: the owner's POST is still out when the
        // adopter looks.
        let rig = try await Rig.start {
            $0.timeFactor = 0.05
            $0.faults.latency = .seconds(1)
        }
        let owner = try Self.secondEngine(rig)
        let jobs = try await owner.enqueue([try Self.request("inside its post")])
        #expect(await rig.server.core.waitForSubmissions(atLeast: 1))
        // The adopter's clock says the owner's heartbeat is an hour old (a laptop waking up).
        let later = Date().addingTimeInterval(3_600)
        let adopter = try Self.secondEngine(rig, wallClock: { later })
        #expect(try await adopter.resume().isEmpty, "a live owner's job was taken")
        #expect(try rig.store.job(id: jobs[0].id)?.ownerID == owner.runner.id)
        let results = await owner.wait(for: jobs.map(\.id))
        #expect(results.first?.phase == .done, "\(results.map(\.phase))")
        #expect(await Self.posts(rig.server) == 1)
        await adopter.shutdown()
        await owner.shutdown()
        await rig.stop()
    }

    @Test("a job another runner makes and finishes between two looks is shown at the next, once; the watcher's own and older jobs are not")
    func finishedBetweenLooks() async throws {
        let rig = try await Rig.start { $0.timeFactor = 0.02 }
        let now = Date()
        let older = try Self.secondEngine(rig, wallClock: { now })
        let before = try await older.enqueue([try Self.request("before the watcher")])
        _ = await older.wait(for: before.map(\.id))
        let watcher = try Self.secondEngine(rig, wallClock: { now })
        // The first look (looks are called here, not on a timer): what the ledger holds now
        // is what the watcher's owner has read.
        try await watcher.watchOtherRunners()
        let own = try await watcher.enqueue([try Self.request("the watcher's own")])
        _ = await watcher.wait(for: own.map(\.id))
        let maker = try Self.secondEngine(rig, wallClock: { now })
        let made = try await maker.enqueue([try Self.request("made and finished elsewhere")])
        #expect(await maker.wait(for: made.map(\.id)).map(\.phase) == [.done])
        // Both looks after it ended: it was never unfinished when looked at.
        try await watcher.watchOtherRunners()
        try await watcher.watchOtherRunners()
        await watcher.shutdown()
        var shown: [String] = []
        for await event in watcher.events {
            if case .elsewhere(let job, _) = event { shown.append(job.prompt) }
        }
        #expect(shown == ["made and finished elsewhere"])
        await older.shutdown()
        await maker.shutdown()
        await rig.stop()
    }

    @Test("a runner whose queued jobs were taken over lets them go without sending them")
    func lostOwnership() async throws {
        let rig = try await Rig.start { $0.timeFactor = 0.05 }
        let first = try Self.secondEngine(rig, accountLimit: 1)
        let jobs = try await first.enqueue((0..<4).map { try Self.request("contested \($0)") })
        let second = try Self.secondEngine(rig)
        // The second runner took the three waiting jobs while the first looked gone.
        for job in jobs.dropFirst() {
            #expect(try rig.store.claim(jobID: job.id, owner: second.runner.id, from: first.runner.id))
        }
        let taken = try await second.resume()
        #expect(Set(taken.map(\.id)) == Set(jobs.dropFirst().map(\.id)))
        // The first runner finishes its own job, then meets the others owned elsewhere and
        // lets them go: waiting on them answers with the ledger's state.
        let own = await first.wait(for: [jobs[0].id])
        #expect(own.first?.phase == .done)
        let all = await second.wait(for: jobs.dropFirst().map(\.id))
        #expect(all.allSatisfy { $0.phase == .done })
        #expect(await Self.posts(rig.server) == 4, "each job was sent exactly once")
        let prompts = await rig.server.core.requests.compactMap(\.prompt)
        #expect(Set(prompts).count == prompts.count)
        await first.shutdown()
        await second.shutdown()
        await rig.stop()
    }

    @Test("a paid image whose folder is gone is save_failed; restored, it is downloaded again once, never re-sent")
    func saveFailedThenRetried() async throws {
        let rig = try await Rig.start { $0.timeFactor = 0.05 }
        let out = rig.directory.appendingPathComponent("out")
        let job = try #require(try await rig.engine.enqueue([Self.request("a paid heron")]).first)
        #expect(job.outputDirectory == out.path)
        // The folder the job was made for disappears before the image arrives.
        try FileManager.default.removeItem(at: out)
        let failed = try #require(await rig.engine.wait(for: [job.id]).first)
        #expect(failed.phase == .saveFailed, "\(failed.phase) \(failed.errorMessage ?? "")")
        #expect(failed.errorMessage?.contains(out.path) == true)
        #expect(failed.resultURL != nil)
        #expect(!FileManager.default.fileExists(atPath: out.path), "never made again silently")
        // Restored, the job is fetched again: nothing more is sent to BFL.
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        #expect(try await rig.engine.retrySave(job.id))
        let saved = try #require(await rig.engine.wait(for: [job.id]).first)
        #expect(saved.phase == .done)
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path)
        #expect(files.filter { $0.hasSuffix(".jpg") }.count == 1)
        #expect(files.filter { $0.hasSuffix(".json") }.count == 1)
        #expect(await Self.posts(rig.server) == 1)
        #expect(try await !rig.engine.retrySave(job.id), "a saved job is not fetched again")
        await rig.stop()
    }

    @Test("a failed save whose URL has expired ends expired, naming the task")
    func saveFailedThenExpired() async throws {
        let rig = try await Rig.start {
            $0.timeFactor = 0.05
            $0.deliveryTTL = .milliseconds(1)
        }
        let out = rig.directory.appendingPathComponent("out")
        let job = try #require(try await rig.engine.enqueue([Self.request("a late heron")]).first)
        try FileManager.default.removeItem(at: out)
        let failed = try #require(await rig.engine.wait(for: [job.id]).first)
        #expect(failed.phase == .saveFailed)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        #expect(try await rig.engine.retrySave(job.id))
        let expired = try #require(await rig.engine.wait(for: [job.id]).first)
        #expect(expired.phase == .expired)
        let task = try #require(expired.taskID)
        #expect(expired.errorMessage?.contains(task) == true)
        #expect(await Self.posts(rig.server) == 1)
        await rig.stop()
    }
}

@Suite("A result that is not an image")
struct NotAnImageTests {
    @Test("a body that is not PNG, JPEG or WebP by its first bytes is refused, and nothing is left in the folder")
    func refused() async throws {
        let server = try await LoopbackHTTPServer { _ in
            .respond(status: 200, headers: [HeaderField("Content-Type", "image/jpeg")], body: Array("<html>not an image</html>".utf8))
        }
        let transport = HTTPClientTransport(pace: .patientForTests)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let endpoint = try #require(Endpoint(customURL: server.baseURL))
        let client = BFLClient(configuration: BFLClient.Configuration(endpoint: endpoint, apiKey: APIKey("test_key_0123456789abcdef")),
                               transport: transport)
        let job = JobRecord(id: "4ae1f00d-0000-4000-8000-000000000000", createdAt: Date(), model: "flux-2-pro", endpoint: server.baseURL,
                            prompt: "p", requestJSON: "{}", estimatedCredits: Credits(3), fileExtension: "jpg", groupID: nil)
        let library = OutputLibrary(directory: directory)
        do {
            _ = try await library.save(job: job, sampleURL: server.baseURL + "/results/x/sample.jpg", client: client)
            Issue.record("HTML was saved as an image")
        } catch let error as BFLError {
            guard case .malformedResponse(let message) = error else { Issue.record("unexpected \(error)"); throw error }
            #expect(message.contains("not a PNG, JPEG or WebP image"))
            #expect(message.contains("image/jpeg"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        try? await transport.shutdown()
        await server.stop()
    }
}
