import BFL
import Foundation
import Testing
import TestSupport

/// The AsyncHTTPClient transport against a real socket on loopback.
@Suite("HTTPClientTransport on loopback")
struct HTTPTransportTests {
    static let key = APIKey("loopback_key_0123456789")

    func withServer<T: Sendable>(
        _ answer: @escaping @Sendable (LoopbackHTTPServer.Received) -> LoopbackHTTPServer.Reply,
        _ body: (LoopbackHTTPServer, HTTPClientTransport) async throws -> T
    ) async throws -> T {
        let server = try await LoopbackHTTPServer(answer)
        let transport = HTTPClientTransport(pace: .patientForTests)
        do {
            let value = try await body(server, transport)
            try await transport.shutdown()
            await server.stop()
            return value
        } catch {
            try? await transport.shutdown()
            await server.stop()
            throw error
        }
    }

    func client(_ transport: any Transport, _ base: String, timeout: Duration = .seconds(30)) throws -> BFLClient {
        let endpoint = try #require(Endpoint(customURL: base))
        var configuration = BFLClient.Configuration(endpoint: endpoint, apiKey: Self.key)
        configuration.retry = RetryPolicy(jitter: { 0 })
        configuration.requestTimeout = timeout
        return BFLClient(configuration: configuration, transport: transport)
    }

    @Test("a streamed body arrives whole, in chunks")
    func streamedBody() async throws {
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        try await withServer({ _ in .respond(status: 200, body: payload, chunkSize: 10_000) }) { server, transport in
            let url = try #require(URL(string: server.baseURL + "/results/x/sample.png"))
            let response = try await transport.execute(TransportRequest(method: .get, url: url))
            var chunks = 0
            var bytes: [UInt8] = []
            for try await chunk in response.body {
                chunks += 1
                bytes += chunk
            }
            #expect(bytes == payload)
            #expect(chunks > 1)
        }
    }

    @Test("redirects are returned, not followed")
    func noRedirects() async throws {
        try await withServer({ _ in .respond(status: 302, headers: [HeaderField("Location", "http://127.0.0.1:1/")]) }) { server, transport in
            let url = try #require(URL(string: server.baseURL + "/v1/credits"))
            let response = try await transport.execute(TransportRequest(method: .get, url: url))
            #expect(response.status == 302)
            #expect(server.received.count == 1)
        }
    }

    @Test("a refused connection is a connect failure: nothing was sent")
    func refused() async throws {
        // Port 1 (tcpmux) on loopback: nothing listens there. A port freed by a test of our
        // own could be taken again by a parallel test's server.
        let port = 1
        let transport = HTTPClientTransport(pace: .patientForTests)
        defer { Task { try? await transport.shutdown() } }
        let url = try #require(URL(string: "http://127.0.0.1:\(port)/v1/flux-2-pro"))
        await #expect(throws: TransportError.self) {
            do {
                _ = try await transport.execute(TransportRequest(method: .post, url: url, body: [1]))
            } catch let error as TransportError {
                #expect(error.kind == .connectFailed)
                throw error
            }
        }
        // The client retries it (nothing reached the server), then reports a network failure.
        let c = try client(transport, "http://127.0.0.1:\(port)")
        await #expect(throws: BFLError.self) {
            do { _ = try await c.submit(path: "flux-2-pro", body: Array("{}".utf8)) } catch let error as BFLError {
                guard case .network = error else { Issue.record("expected .network, got \(error)"); throw error }
                throw error
            }
        }
        try await transport.shutdown()
    }

    @Test("a POST whose connection drops after sending is not resent")
    func droppedPost() async throws {
        try await withServer({ _ in .close }) { server, transport in
            // Once in a clean CI run the close went unnoticed until the 30 s default timeout
            // (the outcome was still "unknown"); 5 s bounds that.
            let c = try client(transport, server.baseURL, timeout: .seconds(5))
            await #expect(throws: BFLError.self) {
                do { _ = try await c.submit(path: "flux-2-pro", body: Array(#"{"prompt":"x"}"#.utf8)) } catch let error as BFLError {
                    guard case .submitOutcomeUnknown = error else { Issue.record("expected unknown outcome, got \(error)"); throw error }
                    throw error
                }
            }
            #expect(server.received.count == 1)
            #expect(server.received.first?.body == Array(#"{"prompt":"x"}"#.utf8))
        }
    }

    @Test("a POST with no reply in time is not resent")
    func timedOutPost() async throws {
        try await withServer({ _ in .hang }) { server, transport in
            let c = try client(transport, server.baseURL, timeout: .milliseconds(300))
            await #expect(throws: BFLError.submitOutcomeUnknown("no reply in time")) {
                _ = try await c.submit(path: "flux-2-pro", body: Array("{}".utf8))
            }
            #expect(server.received.count == 1)
        }
    }

    @Test("the key reaches the API host and never the delivery host")
    func keyOnlyToAPI() async throws {
        try await withServer({ request in
            request.uri.hasPrefix("/v1/credits")
                ? .respond(status: 200, body: Array(#"{"credits":12.5}"#.utf8))
                : .respond(status: 200, headers: [HeaderField("Content-Type", "image/png")], body: [9, 9, 9])
        }) { server, transport in
            let c = try client(transport, server.baseURL)
            #expect(try await c.credits() == "12.5")
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let result = try await c.download(server.baseURL + "/results/ab/sample.png?sig=1", to: directory.appendingPathComponent("a.png"))
            #expect(result.byteCount == 3)
            let received = server.received
            #expect(received.count == 2)
            #expect(received[0].header("x-key") == "loopback_key_0123456789")
            #expect(received[1].header("x-key") == nil)
            #expect(!received[1].headers.contains { Self.key?.occurs(in: $0.value) == true })
        }
    }

    /// A client without retries.
    func once(_ transport: any Transport, _ base: String) throws -> BFLClient {
        let endpoint = try #require(Endpoint(customURL: base))
        var configuration = BFLClient.Configuration(endpoint: endpoint, apiKey: Self.key)
        configuration.retry = RetryPolicy(jitter: { 0 })
        configuration.retry.getRetries = 0
        configuration.retry.pollRetries = 0
        return BFLClient(configuration: configuration, transport: transport)
    }

    /// Like `withServer`, with a transport whose bodies must keep up `pace`.
    func withPacedServer(_ pace: BodyPace, _ answer: @escaping @Sendable (LoopbackHTTPServer.Received) -> LoopbackHTTPServer.Reply,
                         _ body: (LoopbackHTTPServer, BFLClient) async throws -> Void) async throws {
        let server = try await LoopbackHTTPServer(answer)
        do {
            try await HTTPClientTransport.withTransport(pace: pace) { transport in
                try await body(server, try once(transport, server.baseURL))
            }
            await server.stop()
        } catch {
            await server.stop()
            throw error
        }
    }

    @Test("a download or a poll answer dripped a byte at a time ends at the grace with a sentence; the download leaves no file")
    func slowDrip() async throws {
        let image = [UInt8](repeating: 7, count: 25_000)
        // Padded to 2,000 bytes: 80 s at this pace.
        let poll = Array((#"{"id":"t","status":"Pending","result":null,"progress":0.5}"# + String(repeating: " ", count: 1_940)).utf8)
        // 1,000 bytes/s after a 300 ms grace.
        try await withPacedServer(BodyPace(grace: .milliseconds(300), minimumBytesPerSecond: 1_000)) { request in
            request.uri.hasPrefix("/results") ? .drip(status: 200, body: image, every: .milliseconds(40))
                                               : .drip(status: 200, body: poll, every: .milliseconds(40))
        } _: { server, c in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let started = ContinuousClock.now
            do {
                _ = try await c.download(server.baseURL + "/results/ab/sample.png", to: directory.appendingPathComponent("a.png"))
                Issue.record("a dripped download was accepted")
            } catch let error as BFLError {
                #expect("\(error)".contains("too slowly"), "\(error)")
            }
            // The 25,000 bytes would take 1,000 s at this pace; it ended at the grace (300 ms,
            // and whatever a loaded machine adds).
            #expect(ContinuousClock.now - started < .seconds(120))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
            do {
                _ = try await c.poll(server.baseURL + "/v1/get_result?id=t")
                Issue.record("a dripped poll answer was accepted")
            } catch let error as BFLError {
                #expect("\(error)".contains("too slowly"), "\(error)")
            }
        }
    }

    @Test("a slow body above the minimum rate is read whole, past the grace")
    func slowButSteady() async throws {
        let poll = Array(#"{"id":"t","status":"Pending","result":null}"#.utf8)
        // 200 bytes/s arrive; 100 are asked for, after a grace shorter than the body takes.
        try await withPacedServer(BodyPace(grace: .milliseconds(100), minimumBytesPerSecond: 100)) { _ in
            .drip(status: 200, body: poll, every: .milliseconds(5))
        } _: { server, c in
            let answer = try await c.poll(server.baseURL + "/v1/get_result?id=t")
            #expect(answer.status == .pending)
        }
    }

    @Test("the pace allowance: the grace first, then what the minimum rate allows, never past the deadline")
    func allowance() {
        let pace = BodyPace(grace: .seconds(10), minimumBytesPerSecond: 1_000)
        #expect(pace.allowance(received: 0, deadline: .seconds(300)) == .seconds(10))
        #expect(pace.allowance(received: 50_000, deadline: .seconds(300)) == .seconds(50))
        #expect(pace.allowance(received: 10_000_000, deadline: .seconds(300)) == .seconds(300))
    }
}

