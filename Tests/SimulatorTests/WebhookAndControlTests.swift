import BFL
import BFLSimulator
import Foundation
import Synchronization
import Testing
import TestSupport

@Suite("Simulator webhooks, refunds and control API", .timeLimit(.minutes(1)))
struct WebhookAndControlTests {
    typealias Rig = SimulatorTests.Rig

    /// A receiver on loopback answering with the statuses given, in order (then 200).
    static func receiver(_ statuses: [Int] = []) async throws -> LoopbackHTTPServer {
        let counter = Counter()
        return try await LoopbackHTTPServer { _ in
            let n = counter.next()
            return .respond(status: n < statuses.count ? statuses[n] : 200)
        }
    }

    @Test("shape A with X-Webhook-Secret at the end of the task; the webhook form has no polling_url; the sample downloads")
    func shapeA() async throws {
        let hook = try await Self.receiver()
        try await SimulatorTests.withRig { rig in
            let submitted = try await rig.submit("flux-2-klein-4b") {
                $0.webhookURL = hook.baseURL + "/hook"
                $0.webhookSecret = "whsec_123"
                $0.width = 128
                $0.height = 128
            }
            #expect(submitted.pollingURL == nil)
            #expect(submitted.status == .pending)
            #expect(hook.received.isEmpty)
            rig.clock.advance(by: .seconds(3))
            let received = try #require(await hook.requests(atLeast: 1).first)
            #expect(received.uri == "/hook")
            #expect(received.header("X-Webhook-Secret") == "whsec_123")
            #expect(received.header("X-BFL-Signature") == nil)
            let headers = received.headers
            #expect(WebhookReceiver.verify(headers: headers, body: received.body, secret: "whsec_123"))
            let event = try WebhookReceiver.parse(received.body)
            #expect(event.taskID == submitted.id)
            #expect(event.status == .ready)
            let file = rig.directory.appendingPathComponent("hook.jpg")
            _ = try await rig.client.download(try #require(event.sample), to: file)
            // The task stays pollable through the rebuilt URL on the cluster host.
            let poll = try await rig.client.poll(rig.server.clusterURL + "/v1/get_result?id=\(submitted.id)")
            #expect(poll.status == .ready)
        }
        await hook.stop()
    }

    @Test("webhook faults: lost, polling-url and late parse together; an unknown one names the choices")
    func webhookFaults() throws {
        let faults = try Faults(spec: "webhook=lost,webhook=polling-url,webhook-late=2s")
        #expect(faults.webhookLost && faults.webhookPollingURL && faults.webhookLate == .seconds(2))
        #expect(!Faults().webhookLost && !Faults().webhookPollingURL)
        do {
            _ = try Faults(spec: "webhook=sometimes")
            Issue.record("an unknown webhook fault was accepted")
        } catch {
            #expect(error.message.contains("forged, unsigned, replay, lost or polling-url"))
        }
    }

    @Test("failed receivers are retried after 1 s and 5 s")
    func retries() async throws {
        let hook = try await Self.receiver([500, 503])
        try await SimulatorTests.withRig { rig in
            _ = try await rig.submit("flux-2-klein-4b") { $0.webhookURL = hook.baseURL + "/h" }
            rig.clock.advance(by: .seconds(3))
            _ = await hook.requests(atLeast: 1)
            #expect(await Self.attempts(rig, atLeast: 1).map(\.status) == [500])
            rig.clock.advance(by: .seconds(1))
            _ = await hook.requests(atLeast: 2)
            #expect(await Self.attempts(rig, atLeast: 2).map(\.status) == [500, 503])
            rig.clock.advance(by: .seconds(5))
            _ = await hook.requests(atLeast: 3)
            let attempts = await Self.attempts(rig, atLeast: 3)
            #expect(attempts.map(\.status) == [500, 503, 200])
            #expect(attempts.map(\.attempt) == [0, 1, 2])
        }
        await hook.stop()
    }

    @Test("shape B, the signature knob, and a failed task")
    func shapeBSigned() async throws {
        let hook = try await Self.receiver()
        try await SimulatorTests.withRig({ $0.webhookShape = .b; $0.webhookSignature = true }) { rig in
            _ = try await rig.submit("flux-2-pro") {
                $0.prompt = "sim:error"
                $0.webhookURL = hook.baseURL + "/b"
                $0.webhookSecret = "topsecret"
            }
            rig.clock.advance(by: .seconds(10))
            let received = try #require(await hook.requests(atLeast: 1).first)
            #expect(received.header("X-BFL-Signature")?.hasPrefix("sha256=") == true)
            let withoutPlainSecret = received.headers.filter { $0.name.lowercased() != "x-webhook-secret" }
            #expect(WebhookReceiver.verify(headers: withoutPlainSecret, body: received.body, secret: "topsecret"))
            let json = try #require(try JSONSerialization.jsonObject(with: Data(received.body)) as? [String: Any])
            #expect(json["id"] != nil && json["task_id"] == nil)
            let event = try WebhookReceiver.parse(received.body)
            #expect(event.status == .error)
            #expect(event.error == "Simulated generation failure")
        }
        await hook.stop()
    }

    @Test("webhook URLs off the machine are never called")
    func offMachine() async throws {
        try await SimulatorTests.withRig { rig in
            _ = try await rig.submit("flux-2-klein-4b") { $0.webhookURL = "https://hooks.example.com/x" }
            rig.clock.advance(by: .seconds(3))
            let attempts = await Self.attempts(rig, atLeast: 1)
            #expect(attempts.first?.status == nil)
            #expect(attempts.first?.note == "not sent: the simulator only calls loopback webhook URLs")
        }
    }

    @Test("refundOnFailure gives failed and moderated tasks their credits back, once")
    func refunds() async throws {
        try await SimulatorTests.withRig({ $0.initialCredits = 100; $0.refundOnFailure = true }) { rig in
            let failing = try await rig.submit("flux-2-pro") { $0.prompt = "sim:error" }
            let fine = try await rig.submit("flux-2-pro")
            #expect(try await rig.client.credits() == "94")
            rig.clock.advance(by: .seconds(20))
            for _ in 0..<2 { _ = try await rig.client.poll(try #require(failing.pollingURL)) }
            _ = try await rig.client.poll(try #require(fine.pollingURL))
            #expect(try await rig.client.credits() == "97")
        }
    }

    @Test("without refundOnFailure failed tasks stay billed")
    func noRefunds() async throws {
        try await SimulatorTests.withRig({ $0.initialCredits = 100 }) { rig in
            let failing = try await rig.submit("flux-2-pro") { $0.prompt = "sim:request-moderated" }
            _ = try await rig.client.poll(try #require(failing.pollingURL))
            #expect(try await rig.client.credits() == "97")
        }
    }

    @Test("the control API adds keys, sets faults and lists requests")
    func controlAPI() async throws {
        try await SimulatorTests.withRig { rig in
            let api = rig.server.apiURL
            let added = try await rig.raw(.post, api, "/__sim/keys", body: #"{"key":"another_key_0123456789","credits":12}"#)
            #expect(added.0 == 200)
            #expect(try await rig.client(key: "another_key_0123456789").credits() == "12")
            let bad = try await rig.raw(.post, api, "/__sim/faults", body: #"{"spec":"5xx=7"}"#)
            #expect(bad == (400, #"{"detail":"fault 5xx needs a rate between 0 and 1 (got 7)"}"#))
            let ok = try await rig.raw(.post, api, "/__sim/faults", body: #"{"spec":"429=1"}"#)
            #expect(ok.0 == 200)
            var configuration = rig.client.configuration
            configuration.retry.submitRetries = 0
            let c = BFLClient(configuration: configuration, transport: rig.transport)
            await #expect(throws: BFLError.rateLimited(retryAfter: nil)) {
                try await c.submit(try GenerationParameters(prompt: "x").prepare(for: try #require(Catalog.model(id: "flux-2-pro"))))
            }
            let listed = try await rig.raw(.get, api, "/__sim/requests")
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(listed.1.utf8)) as? [[String: Any]])
            #expect(entries.contains { $0["path"] as? String == "/v1/flux-2-pro" && $0["carried_key"] as? Bool == true })
        }
    }

    @Test("the simulator keeps each task's ground truth: accepted, Ready, and the time of every poll")
    func timelines() async throws {
        try await SimulatorTests.withRig { rig in
            let submitted = try await rig.submit("flux-2-pro") { $0.width = 256; $0.height = 256 }
            let pollingURL = try #require(submitted.pollingURL)
            rig.clock.advance(by: .seconds(2))
            _ = try await rig.client.poll(pollingURL)
            rig.clock.advance(by: .seconds(20))
            #expect(try await rig.client.poll(pollingURL).status == .ready)
            let timeline = try #require(await rig.server.core.timelines[submitted.id])
            #expect(timeline.polls == [timeline.acceptedAt + .seconds(2), timeline.acceptedAt + .seconds(22)])
            let ready = try #require(timeline.readyAt)
            // The contract's median (10 s) ±20 %.
            #expect(ready - timeline.acceptedAt >= .seconds(8) && ready - timeline.acceptedAt <= .seconds(12))
            let listed = try await rig.raw(.get, rig.server.apiURL, "/__sim/tasks")
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(listed.1.utf8)) as? [[String: Any]])
            #expect(entries.first?["id"] as? String == submitted.id)
            #expect((entries.first?["polls"] as? [Double])?.count == 2)
            #expect(entries.first?["ready_at"] as? Double != nil)
        }
    }

    /// Webhook attempts, once at least `count` are recorded (the dispatcher records after the
    /// receiver answered, so wait for the record rather than the receipt).
    static func attempts(_ rig: Rig, atLeast count: Int) async -> [WebhookAttempt] {
        await rig.server.core.webhookAttempts(atLeast: count)
    }
}

/// A thread-safe counter for scripted receivers.
final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { v in defer { v += 1 }; return v } }
}
