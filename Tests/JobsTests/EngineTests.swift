import BFL
import Foundation
import Imaging
import Jobs
import Testing
import TestSupport

/// An engine over the fake API and a manual clock.
struct FakeRig {
    let api = FakeAPI()
    let clock = TestClock()
    let directory: URL
    let store: JobStore
    let engine: JobEngine

    init(_ edit: (inout EngineConfiguration) -> Void = { _ in }) throws {
        directory = try temporaryDirectory()
        store = try JobStore(path: directory.appendingPathComponent("db.sqlite").path)
        var client = BFLClient.Configuration(endpoint: .region(.global), apiKey: APIKey("fake_key_0123456789abcdef"))
        client.retry = RetryPolicy(jitter: { 1 })
        client.retry.submitRetries = 0
        var configuration = EngineConfiguration(endpointLabel: "global")
        // The first poll at 0.5 s exactly, so the scripts below know when polls come.
        configuration.cadence.minimumFirst = .milliseconds(500)
        configuration.cadence.maximumFirst = .milliseconds(500)
        edit(&configuration)
        engine = JobEngine(
            client: BFLClient(configuration: client, transport: api, clock: clock), store: store,
            library: OutputLibrary(directory: directory.appendingPathComponent("out")), configuration: configuration,
            stopwatch: Stopwatch(clock))
    }

    func requests(_ model: String, _ count: Int, prompt: String = "a lighthouse") throws -> [JobRequest] {
        let model = try #require(Catalog.model(id: model))
        return (0..<count).map { _ in JobRequest(model: model, parameters: GenerationParameters(prompt: prompt)) }
    }

    func cleanUp() async {
        await engine.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite("Job engine over a scripted API and a manual clock", .timeLimit(.minutes(1)))
struct EngineTests {
    @Test("cadence: the first poll, then half-way to the expected finish (one early reading not trusted past the high end); then saved and learned")
    func cadence() async throws {
        let rig = try FakeRig()
        await rig.api.script { id, poll in
            switch poll {
            case 1: #"{"id":"\#(id)","status":"Pending"}"#
            case 2: #"{"id":"\#(id)","status":"Generating","progress":0.5}"#
            default: FakeAPI.ready(id, seed: 42, cost: 3)
            }
        }
        let job = try #require(try await rig.engine.enqueue(rig.requests("flux-2-pro", 1)).first)
        #expect(await rig.clock.sleeps(atLeast: 1) == [.milliseconds(500)])
        #expect(try rig.store.job(id: job.id)?.phase == .pending)
        rig.clock.advance(by: .milliseconds(500))
        // Pending, nothing learned: half-way to the typical 10 s, plus the margin.
        #expect(await rig.clock.sleeps(atLeast: 2).last == .milliseconds(4760))
        rig.clock.advance(by: .milliseconds(4760))
        // 50 % at 5.26 s says 10.52 s, within the 7.5–13 s the catalog allows: half-way again.
        #expect(await rig.clock.sleeps(atLeast: 3).last == .milliseconds(2640))
        rig.clock.advance(by: .milliseconds(2640))
        let done = try #require(await rig.engine.wait(for: [job.id]).first)
        #expect(done.phase == .done)
        #expect(done.seed == 42)
        #expect(done.settledCost == "3")
        #expect(done.polls == 3)
        let image = try #require(done.outputPath)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: image)))
        #expect(Provenance.read(from: bytes).first { $0.key == "prompt" }?.value == "a lighthouse")
        #expect(FileManager.default.fileExists(atPath: try #require(done.sidecarPath)))
        #expect(try rig.store.history(id: job.id).map(\.phase) == [.queued, .submitting, .pending, .running, .downloading, .done])
        // Learned for this endpoint, with the pending share the reading implies.
        let timing = try #require(try rig.store.timing(endpoint: "global", model: "flux-2-pro"))
        #expect(timing.durations == [1.5])
        #expect(try rig.store.timing(endpoint: "simulator", model: "flux-2-pro") == nil)
        await rig.cleanUp()
    }

    @Test("admission never exceeds 24 per account and 6 for kontext-max; a freed slot admits the next")
    func admission() async throws {
        let rig = try FakeRig()
        await rig.api.script { id, _ in
            id == "t1" ? #"{"id":"t1","status":"Error","details":{"error":"boom"}}"# : #"{"id":"\#(id)","status":"Pending"}"#
        }
        try await rig.engine.enqueue(rig.requests("flux-kontext-max", 10) + rig.requests("flux-2-pro", 30))
        await rig.api.waitForPosts(24)
        _ = await rig.clock.sleeps(atLeast: 24)
        #expect(await rig.api.postPaths.filter { $0 == "flux-kontext-max" }.count == 6)
        #expect(await rig.api.postPaths.count == 24)
        rig.clock.advance(by: .milliseconds(500))
        await rig.api.waitForPosts(25)
        #expect(await rig.api.postPaths.last == "flux-kontext-max")
        let peak = await rig.engine.peakActive
        #expect(peak.total == 24)
        #expect(peak.byModel["flux-kontext-max"] == 6)
        #expect(try rig.store.jobs(phases: [.failed]).count == 1)
        #expect(try rig.store.jobs(phases: [.queued]).count == 15)
        await rig.cleanUp()
    }

    @Test("a queued job can be cancelled and is never sent; shutdown leaves jobs in flight for resume")
    func cancellation() async throws {
        let rig = try FakeRig { $0.accountLimit = 2 }
        let jobs = try await rig.engine.enqueue(rig.requests("flux-2-pro", 3))
        await rig.api.waitForPosts(2)
        #expect(try await rig.engine.cancel(jobs[2].id))
        #expect(try await !rig.engine.cancel(jobs[0].id))
        _ = await rig.clock.sleeps(atLeast: 2)
        await rig.engine.shutdown()
        #expect(try rig.store.job(id: jobs[2].id)?.phase == .cancelled)
        #expect(try rig.store.job(id: jobs[0].id)?.phase == .pending)
        #expect(await rig.api.postPaths.count == 2)
        await rig.cleanUp()
    }

    @Test("a cancelled wait returns at once with the job as it stands; the job goes on")
    func cancelledWait() async throws {
        let rig = try FakeRig()
        await rig.api.script { id, _ in #"{"id":"\#(id)","status":"Pending"}"# }
        let job = try #require(try await rig.engine.enqueue(rig.requests("flux-2-pro", 1)).first)
        _ = await rig.clock.sleeps(atLeast: 1)
        let engine = rig.engine
        let waiting = Task { await engine.wait(for: [job.id]) }
        waiting.cancel()
        let seen = await waiting.value
        #expect(seen.map(\.phase) == [.pending])
        #expect(try rig.store.job(id: job.id)?.phase == .pending)
        await rig.cleanUp()
    }

    @Test("abandoning a sent job frees its slot, stops its polling, and nothing later overrides it")
    func abandon() async throws {
        let rig = try FakeRig { $0.accountLimit = 1 }
        await rig.api.script { id, _ in #"{"id":"\#(id)","status":"Pending"}"# }
        let jobs = try await rig.engine.enqueue(rig.requests("flux-2-pro", 2))
        _ = await rig.clock.sleeps(atLeast: 1)
        #expect(try await !rig.engine.abandon(jobs[1].id))
        #expect(try await rig.engine.abandon(jobs[0].id))
        await rig.api.waitForPosts(2)
        let first = try #require(try rig.store.job(id: jobs[0].id))
        #expect(first.phase == .abandoned)
        #expect(first.errorMessage?.contains("may still charge") == true)
        let polled = await rig.api.pollCount("t1")
        rig.clock.advance(by: .seconds(30))
        _ = await rig.clock.sleeps(atLeast: 2)
        #expect(await rig.api.pollCount("t1") == polled)
        #expect(try rig.store.job(id: jobs[0].id)?.phase == .abandoned)
        #expect(try rig.store.history(id: jobs[0].id).last?.phase == .abandoned)
        await rig.cleanUp()
    }

    @Test("re-run sends the recorded body again with the same seed or without one; the region picks the host")
    func rerunAndRegion() async throws {
        let rig = try FakeRig()
        await rig.api.script { id, _ in FakeAPI.ready(id, seed: 42) }
        let model = try #require(Catalog.model(id: "flux-2-pro"))
        var parameters = GenerationParameters(prompt: "a lighthouse")
        parameters.width = 512
        parameters.height = 512
        let original = try #require(try await rig.engine.enqueue([JobRequest(model: model, parameters: parameters, region: .eu)]).first)
        #expect(original.endpoint == "eu")
        _ = await rig.clock.sleeps(atLeast: 1)
        rig.clock.advance(by: .milliseconds(500))
        #expect(try #require(await rig.engine.wait(for: [original.id]).first).seed == 42)
        let same = try #require(try await rig.engine.rerun(original.id, seed: .same))
        let fresh = try #require(try await rig.engine.rerun(original.id, seed: .new))
        func body(_ record: JobRecord) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(record.requestJSON.utf8)) as? [String: Any])
        }
        #expect(try body(same)["seed"] as? Int == 42)
        #expect(try body(fresh)["seed"] == nil)
        #expect(try body(same)["width"] as? Int == 512)
        #expect(same.endpoint == "eu")
        await rig.api.waitForPosts(3)
        let hosts = await rig.api.requests.filter { $0.method == .post }.map { $0.url.host ?? "" }
        #expect(hosts == ["api.eu.bfl.ai", "api.eu.bfl.ai", "api.eu.bfl.ai"])
        await rig.cleanUp()
    }

    @Test("sent jobs of a vanished endpoint are retired as abandoned; jobs never sent stay queued")
    func retire() async throws {
        let rig = try FakeRig()
        func record(_ id: String, _ phase: JobPhase, endpoint: String) -> JobRecord {
            fixtureJob(id, phase, endpoint: endpoint)
        }
        try rig.store.insert([record("a", .pending, endpoint: "simulator"), record("b", .queued, endpoint: "simulator"),
                              record("c", .running, endpoint: "global"), record("d", .done, endpoint: "simulator")])
        #expect(try await rig.engine.retireSentJobs(where: { $0 == "simulator" }, reason: "gone") == 1)
        #expect(try rig.store.job(id: "a")?.phase == .abandoned)
        #expect(try rig.store.job(id: "a")?.errorMessage == "gone")
        #expect(try rig.store.job(id: "b")?.phase == .queued)
        #expect(try rig.store.job(id: "c")?.phase == .running)
        #expect(try rig.store.job(id: "d")?.phase == .done)
        await rig.cleanUp()
    }

    @Test("a 429 puts the job back in the queue until Retry-After, then it is sent once more")
    func rateLimited() async throws {
        let rig = try FakeRig()
        await rig.api.script(submit: { n, _ in
            n == 1 ? (429, #"{"detail":"Too many active tasks"}"#, [HeaderField("Retry-After", "3")]) : nil
        }, poll: { id, _ in FakeAPI.ready(id) })
        let job = try #require(try await rig.engine.enqueue(rig.requests("flux-2-pro", 1)).first)
        #expect(await rig.clock.sleeps(atLeast: 1) == [.seconds(3)])
        #expect(try rig.store.job(id: job.id)?.phase == .queued)
        rig.clock.advance(by: .seconds(3))
        _ = await rig.clock.sleeps(atLeast: 2)
        rig.clock.advance(by: .seconds(1))
        #expect(await rig.engine.wait(for: [job.id]).first?.phase == .done)
        #expect(await rig.api.postPaths.count == 2)
        #expect(try rig.store.history(id: job.id).contains { $0.detail == "rate limited (HTTP 429); sent again in 3 s at the latest" })
        #expect(try rig.store.job(id: job.id)?.retryAt == nil, "the wait is over once it is accepted")
        await rig.cleanUp()
    }

    @Test("a 429 with Retry-After: 1e300 waits 60 s at most, says so in the job, and is sent at once when one of our jobs frees a slot")
    func hugeRetryAfter() async throws {
        let rig = try FakeRig()
        await rig.api.script(submit: { n, _ in
            n == 2 ? (429, #"{"detail":"Too many active tasks"}"#, [HeaderField("Retry-After", "1e300")]) : nil
        }, poll: { id, n in n >= 2 ? FakeAPI.ready(id) : #"{"id":"\#(id)","status":"Pending"}"# })
        let jobs = try await rig.engine.enqueue(rig.requests("flux-2-pro", 2))
        await rig.api.waitForPosts(2)
        // The one answered 429 waits 60 s at most, not the hour the header asks for, and says so.
        let waits = await rig.clock.sleeps(atLeast: 2)
        #expect(waits.contains(.seconds(60)), "\(waits)")
        let limited = try #require(try jobs.compactMap { try rig.store.job(id: $0.id) }.first { $0.retryAt != nil })
        #expect(limited.phase == .queued)
        // The other finishes (Ready frees its slot): the limited one is sent then, not in 60 s.
        // Time moves to each next wake-up of the polls (never to the 60 s one); then the test
        // waits for the engine to ask for its next sleep.
        while await rig.api.postPaths.count < 3 {
            let before = rig.clock.requestedSleeps.count
            guard let next = rig.clock.pendingDeadlines.first(where: { $0 < .seconds(59) }) else {
                _ = await rig.clock.sleeps(atLeast: before + 1, limit: .seconds(10))
                if rig.clock.requestedSleeps.count == before { break }
                continue
            }
            rig.clock.advance(by: next - rig.clock.now.offset)
            _ = await rig.clock.sleeps(atLeast: before + 1, limit: .seconds(10))
        }
        #expect(await rig.api.postPaths.count == 3, "sent again after \(rig.clock.now.offset)")
        #expect(rig.clock.now.offset < .seconds(59))
        await rig.cleanUp()
    }

    @Test("a 500 on submit makes the job unknown and it is never resent; refusals are api_refused")
    func unknownOutcome() async throws {
        let rig = try FakeRig()
        await rig.api.script(submit: { n, _ in
            n == 1 ? (500, "oops", []) : (402, #"{"detail":"Insufficient credits"}"#, [])
        }, poll: { id, _ in FakeAPI.ready(id) })
        let first = try #require(try await rig.engine.enqueue(rig.requests("flux-2-pro", 1)).first)
        let unknown = try #require(await rig.engine.wait(for: [first.id]).first)
        #expect(unknown.phase == .unknown)
        #expect(unknown.errorKind == .unknownOutcome)
        let second = try #require(try await rig.engine.enqueue(rig.requests("flux-2-pro", 1)).first)
        let refused = try #require(await rig.engine.wait(for: [second.id]).first)
        #expect(refused.phase == .failed)
        #expect(refused.errorKind == .apiRefused)
        #expect(refused.errorMessage?.contains("Not enough credits") == true)
        #expect(await rig.api.postPaths.count == 2)
        await rig.cleanUp()
    }

    @Test("moderation, errors and unknown statuses are recorded; polling goes on through unknown statuses")
    func outcomes() async throws {
        let rig = try FakeRig()
        await rig.api.script { id, poll in
            switch (id, poll) {
            case ("t1", _): #"{"id":"t1","status":"Request Moderated","details":{"Moderation Reasons":["x"]}}"#
            case ("t2", _): #"{"id":"t2","status":"Failed","details":{"error":"GPU on fire"}}"#
            case ("t3", 1): #"{"id":"t3","status":"Queued"}"#
            case ("t3", _): FakeAPI.ready("t3")
            default: #"{"status":"Task not found"}"#
            }
        }
        let jobs = try await rig.engine.enqueue(rig.requests("flux-2-pro", 4))
        _ = await rig.clock.sleeps(atLeast: 4)
        rig.clock.advance(by: .milliseconds(500))
        _ = await rig.clock.sleeps(atLeast: 5)
        rig.clock.advance(by: .seconds(5))
        let results = await rig.engine.wait(for: jobs.map(\.id))
        #expect(results.map(\.phase) == [.moderated, .failed, .done, .failed])
        #expect(results[0].errorMessage == "The request was blocked by moderation: {Moderation Reasons: [x]}")
        #expect(results[1].errorMessage == "GPU on fire")
        #expect(results[3].errorMessage == "BFL no longer knows this task (Task not found)")
        #expect(try rig.store.history(id: jobs[2].id).contains { $0.detail == "unknown status \"Queued\"; still polling" })
        await rig.cleanUp()
    }

    @Test("progress events are coalesced; lifecycle events are all delivered")
    func events() async throws {
        let rig = try FakeRig { $0.progressInterval = .seconds(60) }
        await rig.api.script { id, poll in
            poll < 4 ? #"{"id":"\#(id)","status":"Generating","progress":0.\#(poll)}"# : FakeAPI.ready(id)
        }
        let job = try #require(try await rig.engine.enqueue(rig.requests("flux-2-klein-4b", 1)).first)
        for n in 1...4 {
            _ = await rig.clock.sleeps(atLeast: n)
            rig.clock.advance(by: .seconds(5))
        }
        _ = await rig.engine.wait(for: [job.id])
        await rig.engine.shutdown()
        var phases: [JobPhase] = []
        var progress: [Double] = []
        for await event in rig.engine.events {
            switch event {
            case .updated(let record): phases.append(record.phase)
            case .progress(_, let value): progress.append(value)
            case .elsewhere: break
            }
        }
        #expect(phases == [.queued, .submitting, .pending, .running, .downloading, .done])
        #expect(progress == [0.1])
        try? FileManager.default.removeItem(at: rig.directory)
    }

    @Test("resume: queued jobs are sent, a job caught mid-POST becomes unknown, accepted jobs are polled again")
    func resume() async throws {
        let rig = try FakeRig()
        await rig.api.script { id, _ in FakeAPI.ready(id) }
        func stored(_ phase: JobPhase, task: String? = nil) throws -> JobRecord {
            var job = JobRecord(id: UUID().uuidString.lowercased(), createdAt: Date(), model: "flux-2-pro", endpoint: "global",
                                prompt: "p", requestJSON: #"{"prompt":"p"}"#, estimatedCredits: "3", fileExtension: "jpg", groupID: nil)
            job.phase = phase
            job.taskID = task
            job.pollingURL = task.map { "https://api.eu2.bfl.ai/v1/get_result?id=\($0)" }
            try rig.store.insert([job])
            return job
        }
        let queued = try stored(.queued)
        let sending = try stored(.submitting)
        let pending = try stored(.pending, task: "old1")
        let downloading = try stored(.downloading, task: "old2")
        let resumed = try await rig.engine.resume()
        #expect(resumed.count == 4)
        _ = await rig.clock.sleeps(atLeast: 1)
        rig.clock.advance(by: .milliseconds(500))
        let results = await rig.engine.wait(for: [queued.id, sending.id, pending.id, downloading.id])
        #expect(results.map(\.phase) == [.done, .unknown, .done, .done])
        #expect(await rig.api.postPaths.count == 1)
        #expect(await rig.api.pollCount("old1") == 1)
        await rig.cleanUp()
    }
}
