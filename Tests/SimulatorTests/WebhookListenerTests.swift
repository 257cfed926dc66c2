import BFL
import BFLSimulator
import Crypto
import Foundation
import HTTPListening
import Synchronization
import Testing
import TestSupport
import WebhookListener

@Suite("The webhook receiver", .timeLimit(.minutes(1)))
struct WebhookListenerTests {
    static let secret = "s3cret-for-tests"

    static func body(_ id: String, _ status: String = "SUCCESS") -> [UInt8] {
        Array(#"{"task_id":"\#(id)","status":"\#(status)","result":{"sample":"http://127.0.0.1:1/x.jpg","seed":7}}"#.utf8)
    }

    static func signature(_ body: [UInt8], _ secret: String) -> String {
        "sha256=" + HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))).map { String(format: "%02x", $0) }.joined()
    }

    func gate() throws -> WebhookGate {
        try WebhookGate(path: "/hook", secret: Self.secret, isKnown: { $0.hasPrefix("known") })
    }

    @Test("only a POST to its path, with the secret or a valid signature, about a followed task, is accepted; once")
    func rules() async throws {
        let gate = try gate()
        let ok = Self.body("known-1")
        let secretHeader = [HeaderField("X-Webhook-Secret", Self.secret)]
        #expect(await gate.decide(method: "POST", path: "/hook", headers: secretHeader, body: ok) == .accept(WebhookEvent(
            taskID: "known-1", status: .ready, sample: "http://127.0.0.1:1/x.jpg", seed: 7)))
        #expect(await gate.decide(method: "POST", path: "/hook", headers: secretHeader, body: ok) == .replay)
        // The same task with another status is news.
        if case .accept = await gate.decide(method: "POST", path: "/hook", headers: secretHeader, body: Self.body("known-1", "FAILED")) {} else {
            Issue.record("a new status was not accepted")
        }
        let signed = Self.body("known-2")
        if case .accept = await gate.decide(method: "POST", path: "/hook", headers: [HeaderField("X-BFL-Signature", Self.signature(signed, Self.secret))], body: signed) {} else {
            Issue.record("a valid signature was not accepted")
        }
        let cases: [(String, String, [HeaderField], [UInt8], Int)] = [
            ("GET", "/hook", secretHeader, ok, 405),
            ("POST", "/other", secretHeader, ok, 404),
            ("POST", "/hook", [HeaderField("X-Webhook-Secret", "s3cret-for-test")], Self.body("known-3"), 401),
            ("POST", "/hook", [HeaderField("X-Webhook-Secret", Self.secret + "x")], Self.body("known-3"), 401),
            ("POST", "/hook", [HeaderField("X-BFL-Signature", Self.signature(Self.body("known-3"), "wrong"))], Self.body("known-3"), 401),
            ("POST", "/hook", [], Self.body("known-3"), 401),
            ("POST", "/hook", secretHeader, Array("not json".utf8), 400),
            ("POST", "/hook", secretHeader, Self.body("stranger"), 404),
            ("POST", "/hook", secretHeader, [UInt8](repeating: 32, count: WebhookGate.maxBody + 1), 413),
        ]
        for (method, path, headers, body, status) in cases {
            #expect(await gate.decide(method: method, path: path, headers: headers, body: body).status == status, "\(method) \(path) \(headers.map(\.name))")
        }
    }

    @Test("an empty secret is refused at start; a random one is 64 hex characters, new each time")
    func secrets() {
        #expect(throws: WebhookSetupError.self) { try WebhookGate(path: "/h", secret: "", isKnown: { _ in true }) }
        let a = WebhookGate.randomSecret(), b = WebhookGate.randomSecret()
        #expect(a.count == 64 && a.allSatisfy(\.isHexDigit) && a != b)
    }

    @Test("the simulator's webhook reaches the receiver and is handed on; a forged call is refused and logged without the secret")
    func endToEnd() async throws {
        let (events, sink) = AsyncStream<WebhookEvent>.makeStream()
        let logged = Mutex<[String]>([])
        let known = Mutex<Set<String>>([])
        let gate = try WebhookGate(path: "/fluxdeck/hook", secret: Self.secret, isKnown: { id in known.withLock { $0.contains(id) } })
        let server = try await WebhookServer.start(host: "127.0.0.1", port: 0, gate: gate, log: { line in logged.withLock { $0.append(line) } },
                                                   deliver: { sink.yield($0) })
        #expect(server.url.hasPrefix("http://127.0.0.1:") && server.url.hasSuffix("/fluxdeck/hook"))
        try await SimulatorTests.withRig({ $0.webhookSignature = true }) { rig in
            let submitted = try await rig.submit("flux-2-klein-4b") {
                $0.webhookURL = server.url
                $0.webhookSecret = Self.secret
                $0.width = 128
                $0.height = 128
            }
            known.withLock { _ = $0.insert(submitted.id) }
            rig.clock.advance(by: .seconds(3))
            var iterator = events.makeAsyncIterator()
            let event = try #require(await iterator.next())
            #expect(event.taskID == submitted.id && event.status == .ready && event.sample != nil)
            let attempts = await rig.server.core.webhookAttempts(atLeast: 1)
            #expect(attempts.first?.status == 200)

            // A forged call, straight to the receiver.
            let url = try #require(URL(string: server.url))
            let forged = try await rig.transport.execute(TransportRequest(method: .post, url: url, headers: [HeaderField("X-Webhook-Secret", "guess")],
                                                                         body: Self.body(submitted.id)))
            #expect(forged.status == 401)
            let wrongMethod = try await rig.transport.execute(TransportRequest(method: .get, url: url, headers: [], body: nil))
            #expect(wrongMethod.status == 405)
        }
        await server.stop()
        let lines = logged.withLock { $0 }
        #expect(lines.contains { $0.contains("refused (401)") })
        #expect(!lines.contains { $0.contains(Self.secret) })
    }

    /// A request in full, with `headers` and `body`, closing the connection after the answer.
    static func request(_ body: [UInt8], headers: [String]) -> String {
        (["POST /hook HTTP/1.1", "Host: 127.0.0.1", "Content-Length: \(body.count)", "Connection: close"] + headers)
            .joined(separator: "\r\n") + "\r\n\r\n" + String(decoding: body, as: UTF8.self)
    }

    /// Runs `body` with a receiver on a free port, stopped afterwards whatever happens.
    func withReceiver(guards: ListenerGuards = WebhookServer.standardGuards, log: @escaping @Sendable (String) -> Void = { _ in },
                      deliver: @escaping @Sendable (WebhookEvent) async -> Void = { _ in },
                      _ body: (Int) async throws -> Void) async throws {
        let server = try await WebhookServer.start(host: "127.0.0.1", port: 0, gate: try gate(), guards: guards, log: log, deliver: deliver)
        let port = Int(server.url.split(separator: ":").last?.split(separator: "/").first ?? "") ?? 0
        do {
            try await body(port)
            await server.stop()
        } catch {
            await server.stop()
            throw error
        }
    }

    @Test("a call without the secret is answered 401 from its headers and one announcing over 1 MB 413: neither body is waited for; unanswered or answered, the connection ends at the deadline")
    func refusedBeforeTheBody() async throws {
        let logged = Mutex<[String]>([])
        // The answers are read as soon as their heads arrive, so no deadline races them: this
        // one only ends connections the test leaves behind.
        let patient = ListenerGuards(connections: 8, requestDeadline: .seconds(120))
        try await withReceiver(guards: patient, log: { line in logged.withLock { $0.append(line) } }) { port in
            // 1 MB announced, none of it sent: only an answer from the headers can come back.
            let stranger = try #require(RawSocket(port: port))
            stranger.send("POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nX-Webhook-Secret: guess\r\n\r\n")
            let answer = try #require(await stranger.readHead(), "\(stranger.lastError.withLock { $0 } ?? "")")
            #expect(answer.hasPrefix("HTTP/1.1 401"), "\(answer)")
            // A body announced over 1 MB is refused before it is read, even with the secret.
            let large = try #require(RawSocket(port: port))
            large.send("POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\nX-Webhook-Secret: \(Self.secret)\r\n\r\n")
            let tooLarge = try #require(await large.readHead(), "\(large.lastError.withLock { $0 } ?? "")")
            #expect(tooLarge.hasPrefix("HTTP/1.1 413"), "\(tooLarge)")
            // Chunked, with no length to read first, a body with the secret is read to 1 MB and
            // one byte more, then refused.
            let chunked = try #require(RawSocket(port: port))
            let chunk = String(repeating: "x", count: 65_536)
            chunked.send("POST /hook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nX-Webhook-Secret: \(Self.secret)\r\n\r\n"
                + String(repeating: "10000\r\n\(chunk)\r\n", count: 17) + "0\r\n\r\n")
            let overLimit = try #require(await chunked.readToEnd(), "\(chunked.lastError.withLock { $0 } ?? "")")
            #expect(overLimit.hasPrefix("HTTP/1.1 413"), "\(overLimit.prefix(200))")
        }
        #expect(logged.withLock { $0 }.contains("webhook: refused (401): neither the secret nor a signature"))
        #expect(logged.withLock { $0 }.contains("webhook: refused (413): a body of 5000000 bytes, over 1 MB"), "\(logged.withLock { $0 })")
        #expect(logged.withLock { $0 }.contains("webhook: refused (413): a body over 1 MB"), "\(logged.withLock { $0 })")

        // The body a refused call announced never comes: the server ends the connection at the
        // deadline (the read ends; whether the answer beat it is the load's business).
        let brisk = ListenerGuards(connections: 8, requestDeadline: .milliseconds(500))
        try await withReceiver(guards: brisk) { port in
            let stranger = try #require(RawSocket(port: port))
            stranger.send("POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nX-Webhook-Secret: guess\r\n\r\n")
            let rest = try #require(await stranger.readToEnd(), "not closed: \(stranger.lastError.withLock { $0 } ?? "")")
            #expect(rest == "" || rest.hasPrefix("HTTP/1.1 401"), "\(rest)")
        }
    }

    @Test("a flood of headers and bodies dripped a byte at a time holds at most the connection cap, each is closed at the deadline, and a real call still arrives")
    func flood() async throws {
        let (events, sink) = AsyncStream<WebhookEvent>.makeStream()
        let guards = ListenerGuards(connections: 8, requestDeadline: .seconds(1))
        try await withReceiver(guards: guards, deliver: { sink.yield($0) }) { port in
            let flood = (0..<24).compactMap { _ in RawSocket(port: port) }
            try #require(flood.count == 24)
            // Half send a header a byte at a time; half send the whole head, with the secret, and
            // then their body a byte at a time. Never idle: only the request deadline ends them.
            for (index, socket) in flood.enumerated() {
                socket.send(index.isMultiple(of: 2) ? "POST /hook HTTP/1.1\r\nHost: x\r\nX-Webh"
                    : "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nX-Webhook-Secret: \(Self.secret)\r\n\r\n{")
            }
            let stopDripping = RawSocket.drip("a", on: flood, everyMilliseconds: 100)
            defer { stopDripping() }

            // The real call queues behind the flood: it is taken as the deadline frees places.
            let real = try #require(RawSocket(port: port))
            real.send(Self.request(Self.body("known-real"), headers: ["X-Webhook-Secret: \(Self.secret)"]))
            let answer = try #require(await real.readToEnd(), "\(real.lastError.withLock { $0 } ?? "")")
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
            var iterator = events.makeAsyncIterator()
            #expect(await iterator.next()?.taskID == "known-real")
            // Taken in order, every flood connection was accepted by now: had they been held
            // together, the server would have counted 25 at once (each lives a second). NIO
            // accepts up to 4 in one read before the cap is asked again: 3 over at most.
            #expect(guards.gauge.peak <= guards.connections + 3, "the server held \(guards.gauge.peak) connections at once")
            // Every flood connection was closed by the server (reset, when bytes it did not read
            // were still coming), none answered.
            for socket in flood {
                let rest = await socket.readToEnd()
                let error = socket.lastError.withLock { $0 } ?? ""
                #expect(rest == "" || error.hasPrefix("Connection reset"), "a flood connection was answered or left open: \(String(describing: rest)) \(error)")
            }
        }
    }
}
