import BFL
import Foundation
import Testing
import TestSupport

@Suite("BFLClient over a scripted transport")
struct ClientTests {
    static let key = APIKey("test_key_0123456789abcdef")
    static let pollURL = "https://api.eu2.bfl.ai/v1/get_result?id=d5ba&extra=1"
    static let sampleURL = "https://delivery-eu.bfl.ai/results/0123456789abcdef0123456789abcdef/sample.jpeg?se=2026-11-25T17%3A00%3A00Z&sp=r&sig=abc"

    func client(_ transport: ScriptedTransport, clock: TestClock = TestClock(),
                endpoint: Endpoint = .region(.global), key: APIKey? = key,
                edit: (inout BFLClient.Configuration) -> Void = { _ in }) -> BFLClient {
        var configuration = BFLClient.Configuration(endpoint: endpoint, apiKey: key)
        configuration.retry = .deterministic
        edit(&configuration)
        return BFLClient(configuration: configuration, transport: transport, clock: clock)
    }

    func prepared(_ model: String = "flux-2-pro") throws -> PreparedRequest {
        try GenerationParameters(prompt: "a lighthouse").prepare(for: try #require(Catalog.model(id: model)))
    }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    // MARK: submit

    @Test("submit posts JSON with the key to /v1/<path> and reads the reply")
    func submit() async throws {
        let transport = ScriptedTransport([.json(200, #"{"id":"d5ba","polling_url":"\#(Self.pollURL)","cost":3.0}"#)])
        let reply = try await client(transport).submit(try prepared())
        #expect(reply.id == "d5ba")
        #expect(reply.cost == "3")
        let request = try #require(await transport.requests.first)
        #expect(request.method == .post)
        #expect(request.url.absoluteString == "https://api.bfl.ai/v1/flux-2-pro")
        #expect(request.header("x-key") == "test_key_0123456789abcdef")
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.bodyText == #"{"prompt":"a lighthouse"}"#)
    }

    @Test("a task id too long or with control characters is a malformed answer: the outcome is unknown, nothing is kept of it")
    func hostileTaskIDs() async throws {
        for id in [String(repeating: "a", count: 257), "abc\u{1B}]0;pwned\u{07}", "a b", "ä-task", ""] {
            let json = try JSONEncoder().encode(["id": id, "polling_url": Self.pollURL])
            let transport = ScriptedTransport([.json(200, String(decoding: json, as: UTF8.self))])
            do {
                _ = try await client(transport).submit(try prepared())
                Issue.record("task id \(id.prefix(20).debugDescription) was taken")
            } catch let error as BFLError {
                guard case .submitOutcomeUnknown(let message) = error else { Issue.record("\(error)"); continue }
                #expect(!message.contains("pwned") && message.utf8.count < 400, "\(message)")
            }
            #expect(await transport.requests.count == 1, "never resent")
        }
        let longest = String(repeating: "f", count: TaskID.maxLength)
        let json = try JSONEncoder().encode(["id": longest, "polling_url": Self.pollURL])
        #expect(try await client(ScriptedTransport([.json(200, String(decoding: json, as: UTF8.self))])).submit(try prepared()).id == longest)
        #expect(throws: BFLError.self) { try WebhookReceiver.parse(Array(#"{"task_id":"x\u001b[2J","status":"SUCCESS"}"#.utf8)) }
    }

    @Test("a POST answered 500 is not replayed: the outcome is unknown")
    func submit500() async throws {
        let transport = ScriptedTransport([.json(500, #"{"detail":"boom"}"#), .json(200, #"{"id":"x","polling_url":"https://api.bfl.ai/v1/get_result?id=x"}"#)])
        await #expect(throws: BFLError.submitOutcomeUnknown("HTTP 500: boom")) {
            try await client(transport).submit(try prepared())
        }
        #expect(await transport.requests.count == 1)
    }

    @Test("a POST that timed out or lost its connection is not replayed")
    func submitTimeout() async throws {
        for failure in [TransportError(.timeout, "no reply in time"), TransportError(.connectionLost, "reset")] {
            let transport = ScriptedTransport([.fail(failure), .json(200, #"{"id":"x"}"#)])
            await #expect(throws: BFLError.submitOutcomeUnknown(failure.message)) {
                try await client(transport).submit(try prepared())
            }
            #expect(await transport.requests.count == 1)
        }
    }

    @Test("a POST whose connection never opened is resent after backoff")
    func submitConnectFailure() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport([
            .fail(TransportError(.connectFailed, "refused")),
            .json(200, #"{"id":"x","polling_url":"https://api.bfl.ai/v1/get_result?id=x"}"#),
        ])
        let c = client(transport, clock: clock)
        let submission = Task { try await c.submit(try prepared()) }
        #expect(await clock.sleeps(atLeast: 1) == [.milliseconds(500)])
        #expect(await transport.requests.count == 1)
        clock.advance(by: .milliseconds(500))
        #expect(try await submission.value.id == "x")
        #expect(await transport.requests.count == 2)
    }

    @Test("a POST answered 429 is not waited out in the client: rateLimited at once, with the server's delay, one request")
    func submit429() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport([
            .json(429, #"{"detail":"Too many active tasks"}"#, headers: [HeaderField("Retry-After", "1e300")]),
            .json(200, #"{"id":"y","polling_url":"https://api.bfl.ai/v1/get_result?id=y"}"#),
        ])
        let c = client(transport, clock: clock)
        do {
            _ = try await c.submit(try prepared())
            Issue.record("the 429 was waited out")
        } catch let error as BFLError {
            guard case .rateLimited(let after) = error else { Issue.record("\(error)"); return }
            #expect(after != nil)
        }
        #expect(await transport.requests.count == 1)
        #expect(clock.requestedSleeps.isEmpty, "the client slept on a 429")
    }

    @Test("auth failures are not retried")
    func submitAuth() async throws {
        let transport = ScriptedTransport([.json(403, #"{"detail":"Not authenticated - Invalid Authentication"}"#)])
        await #expect(throws: BFLError.invalidKey) { try await client(transport).submit(try prepared()) }
        #expect(await transport.requests.count == 1)
    }

    @Test("without a key nothing is sent; the key never goes over plain http to a remote host")
    func noKeyNoRequest() async throws {
        let transport = ScriptedTransport([])
        await #expect(throws: BFLError.missingKey) { try await client(transport, key: nil).credits() }
        let insecure = try #require(Endpoint(customURL: "http://proxy.example.com"))
        await #expect(throws: BFLError.insecureEndpoint("http://proxy.example.com")) {
            try await client(transport, endpoint: insecure).credits()
        }
        #expect(await transport.requests.isEmpty)
    }

    // MARK: poll

    @Test("the polling URL is used verbatim, even on another host, with the key")
    func pollVerbatim() async throws {
        let transport = ScriptedTransport([.json(200, #"{"id":"d5ba","status":"Generating","progress":0.4}"#)])
        let reply = try await client(transport).poll(Self.pollURL)
        #expect(reply.status == .generating)
        #expect(reply.progress == 0.4)
        let request = try #require(await transport.requests.first)
        #expect(request.url.absoluteString == Self.pollURL)
        #expect(request.method == .get)
        #expect(request.header("x-key") != nil)
    }

    @Test("a poll answered 503 with Retry-After is retried after exactly that delay")
    func poll503RetryAfter() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport([
            .respond(status: 503, headers: [HeaderField("Retry-After", "7")], body: Array("busy".utf8)),
            .json(200, #"{"id":"d5ba","status":"Ready","result":{"sample":"\#(Self.sampleURL)","seed":1}}"#),
        ])
        let c = client(transport, clock: clock)
        let poll = Task { try await c.poll(Self.pollURL) }
        #expect(await clock.sleeps(atLeast: 1) == [.seconds(7)])
        clock.advance(by: .seconds(6))
        #expect(await transport.requests.count == 1)
        clock.advance(by: .seconds(1))
        #expect(try await poll.value.status == .ready)
        #expect(await transport.requests.count == 2)
    }

    @Test("poll backoff doubles from 0.5 s up to the cap, then gives up with the server error")
    func pollBackoff() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport(Array(repeating: .respond(status: 502, body: []), count: 9))
        let c = client(transport, clock: clock)
        let poll = Task { try await c.poll(Self.pollURL) }
        var seen = 0
        while seen < 8 {
            seen = await clock.sleeps(atLeast: seen + 1).count
            clock.advance(by: .seconds(60))
        }
        await #expect(throws: BFLError.serverError(status: 502, message: nil)) { try await poll.value }
        #expect(clock.requestedSleeps == [0.5, 1, 2, 4, 8, 16, 30, 30].map { Duration.milliseconds(Int64($0 * 1000)) })
        #expect(await transport.requests.count == 9)
    }

    @Test("poll retries connection failures and timeouts")
    func pollTransportRetry() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport([
            .fail(TransportError(.timeout, "slow")), .fail(TransportError(.connectionLost, "reset")),
            .json(200, #"{"status":"Pending"}"#),
        ])
        let c = client(transport, clock: clock)
        let poll = Task { try await c.poll(Self.pollURL) }
        _ = await clock.sleeps(atLeast: 1)
        clock.advance(by: .seconds(1))
        _ = await clock.sleeps(atLeast: 2)
        clock.advance(by: .seconds(1))
        #expect(try await poll.value.status == .pending)
    }

    @Test("a failed task answered as HTTP 422 is read as a poll")
    func poll422() async throws {
        let transport = ScriptedTransport([.json(422, #"{"id":"v","status":"Error","details":{"error":"video failed"}}"#)])
        let reply = try await client(transport).poll(Self.pollURL)
        #expect(reply.status == .error)
        #expect(reply.errorMessage == "video failed")
    }

    @Test("a regional task polled on the global host gives notFound")
    func poll404() async throws {
        let transport = ScriptedTransport([.json(404, #"{"detail":"Not Found"}"#)])
        await #expect(throws: BFLError.notFound("Not Found")) {
            try await client(transport).poll("https://api.bfl.ai/v1/get_result?id=x")
        }
    }

    @Test("a malformed poll reply is a clear error, not a crash")
    func pollMalformed() async throws {
        let transport = ScriptedTransport([.respond(status: 200, body: Array("<html>".utf8)), .json(200, #"{"id":"x"}"#)])
        let c = client(transport)
        await #expect(throws: BFLError.malformedResponse("poll reply: not valid JSON")) { try await c.poll(Self.pollURL) }
        await #expect(throws: BFLError.malformedResponse("poll reply: the reply has no status")) { try await c.poll(Self.pollURL) }
    }

    @Test("a redirect to another API host drops the key; one to a host the polling rule does not allow is refused, never followed")
    func redirectDropsKey() async throws {
        let transport = ScriptedTransport([
            .respond(status: 307, headers: [HeaderField("Location", "https://api.us1.bfl.ai/v1/get_result?id=x")]),
            .json(200, #"{"status":"Pending"}"#),
        ])
        _ = try await client(transport).poll(Self.pollURL)
        let requests = await transport.requests
        #expect(requests.count == 2)
        #expect(requests[0].header("x-key") != nil)
        #expect(requests[1].url.host == "api.us1.bfl.ai")
        #expect(requests[1].header("x-key") == nil)

        let elsewhere = ScriptedTransport([
            .respond(status: 307, headers: [HeaderField("Location", "https://elsewhere.test/v1/get_result?id=x")]),
            .json(200, #"{"status":"Ready","result":{"sample":"https://elsewhere.test/x.jpg"}}"#),
        ])
        await #expect(throws: BFLError.self) { try await client(elsewhere).poll(Self.pollURL) }
        #expect(await elsewhere.requests.count == 1, "the refused hop was not requested")
    }

    @Test("what can never succeed fails at once, not for 300 s: a file:// polling URL, a redirect loop, a poll answer over the reply cap")
    func hopeless() async throws {
        let none = ScriptedTransport([])
        await #expect(throws: BFLError.refusedURL("the polling URL \"file:///etc/passwd\" (not an http(s) URL)")) {
            try await client(none).poll("file:///etc/passwd")
        }
        let loop = ScriptedTransport(Array(repeating: .respond(status: 302, headers: [HeaderField("Location", Self.pollURL)]), count: 7))
        do {
            _ = try await client(loop).poll(Self.pollURL)
            Issue.record("a redirect loop was followed to the end")
        } catch let error as BFLError {
            guard case .refusedURL(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("a loop"), "\(message)")
        }
        #expect(await loop.requests.count == 6)
        let scheme = ScriptedTransport([.respond(status: 301, headers: [HeaderField("Location", "file:///etc/passwd")])])
        await #expect(throws: BFLError.self) { try await client(scheme).poll(Self.pollURL) }
        let huge = ScriptedTransport([.respond(status: 200, body: Array(repeating: UInt8(ascii: " "), count: 10 * 1_048_576))])
        do {
            _ = try await client(huge).poll(Self.pollURL)
            Issue.record("a 10 MB poll answer was read")
        } catch let error as BFLError {
            guard case .replyTooLarge = error else { Issue.record("\(error)"); return }
        }
        #expect(await huge.requests.count == 1, "asked once")
    }

    // MARK: credits

    @Test("credits reads the balance")
    func credits() async throws {
        let transport = ScriptedTransport([.json(200, #"{"credits":857.5}"#)])
        #expect(try await client(transport).credits() == "857.5")
        #expect(await transport.requests.first?.url.absoluteString == "https://api.bfl.ai/v1/credits")
    }

    // MARK: download

    @Test("downloads never carry the key, stream to a temporary file and land atomically")
    func download() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let transport = ScriptedTransport([
            .stream(status: 200, headers: [HeaderField("Content-Type", "image/jpeg")], chunks: [[1, 2, 3], [4, 5], [6]]),
        ])
        let destination = directory.appendingPathComponent("out.jpg")
        let result = try await client(transport).download(Self.sampleURL, to: destination)
        #expect(result.byteCount == 6)
        #expect(result.contentType == "image/jpeg")
        #expect(try Data(contentsOf: destination) == Data([1, 2, 3, 4, 5, 6]))
        let request = try #require(await transport.requests.first)
        #expect(request.url.absoluteString == Self.sampleURL)
        #expect(request.header("x-key") == nil)
        #expect(!request.headers.contains { Self.key?.occurs(in: $0.value) == true })
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.jpg"])
    }

    @Test("the download size cap holds, by Content-Length and by counting, and leaves nothing behind")
    func downloadCap() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let transport = ScriptedTransport([
            .respond(status: 200, headers: [HeaderField("Content-Length", "2000")], body: Array(repeating: 0, count: 2000)),
            .stream(status: 200, chunks: [Array(repeating: 1, count: 600), Array(repeating: 2, count: 600)]),
        ])
        let c = client(transport) { $0.maxDownloadBytes = 1000 }
        let destination = directory.appendingPathComponent("big.png")
        await #expect(throws: BFLError.downloadTooLarge(limit: 1000)) { try await c.download(Self.sampleURL, to: destination) }
        await #expect(throws: BFLError.downloadTooLarge(limit: 1000)) { try await c.download(Self.sampleURL, to: destination) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("an expired result URL (403/404) says so and is not retried")
    func downloadExpired() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for status in [403, 404] {
            let transport = ScriptedTransport([.respond(status: status, body: Array("AuthenticationFailed".utf8))])
            await #expect(throws: BFLError.resultExpired) {
                try await client(transport).download(Self.sampleURL, to: directory.appendingPathComponent("x.jpg"))
            }
            #expect(await transport.requests.count == 1)
        }
    }

    @Test("a download redirected to plain http off this machine is refused before the hop; nothing is saved")
    func downloadRedirectRefused() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let destination = directory.appendingPathComponent("x.jpg")
        let transport = ScriptedTransport([
            .respond(status: 302, headers: [HeaderField("Location", "http://elsewhere.test/x.jpg")]),
            .respond(status: 200, body: [0xFF, 0xD8, 0xFF]),
        ])
        await #expect(throws: BFLError.self) { try await client(transport).download(Self.sampleURL, to: destination) }
        #expect(await transport.requests.count == 1)
        #expect(!FileManager.default.fileExists(atPath: destination.path))
    }

    @Test("an unwritable destination is a file error naming the folder")
    func downloadUnwritable() async throws {
        let transport = ScriptedTransport([.respond(status: 200, body: [1])])
        let destination = URL(fileURLWithPath: "/nonexistent-fluxdeck-dir/x.jpg")
        await #expect(throws: BFLError.fileSystem("cannot create a file in /nonexistent-fluxdeck-dir: No such file or directory")) {
            try await client(transport).download(Self.sampleURL, to: destination)
        }
    }

    @Test("temporary files have random names that nothing can claim first; only a dead fluxdeck's leftovers are removed, never the user's files")
    func temporaries() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let destination = directory.appendingPathComponent("image.jpg")
        // A leftover of a process that is gone (removed); a fresh one of a live process (this
        // one: another writer's, maybe); and the user's hidden .part files, old or with numbers
        // in their names, which are not fluxdeck's to remove.
        let orphan = directory.appendingPathComponent(".image.jpg.\(Int32.max - 7)-orphan000000.part")
        let fresh = directory.appendingPathComponent(".image.jpg.\(getpid())-working00000.part")
        let users = [".notes.2024.part", ".image.jpg.killed000000.part", ".draft.\(Int32.max - 7)-short.part",
                     ".video.\(Int32.max - 7)-ABCDEFGHIJKL.part", ".\(Int32.max - 7)-orphan000000.part"]
            .map { directory.appendingPathComponent($0) }
        for file in [orphan, fresh] + users { try Data(repeating: 7, count: 100).write(to: file) }
        var old = [timespec(tv_sec: time(nil) - 7200, tv_nsec: 0), timespec(tv_sec: time(nil) - 7200, tv_nsec: 0)]
        for file in users + [fresh] { #expect(utimensat(AT_FDCWD, file.path, &old, 0) == 0) }
        AtomicFileWriter.removeLeftovers(in: directory)
        #expect(!FileManager.default.fileExists(atPath: orphan.path))
        for file in users { #expect(FileManager.default.fileExists(atPath: file.path), "\(file.lastPathComponent) was removed") }
        for file in users { try FileManager.default.removeItem(at: file) }
        let writer = try AtomicFileWriter(destination: destination)
        #expect(writer.temporary.lastPathComponent.hasPrefix(".image.jpg."))
        #expect(writer.temporary.lastPathComponent.hasSuffix(".part"))
        #expect(writer.temporary != fresh)
        try writer.write([1, 2, 3, 4])
        #expect(try writer.read(at: 1, count: 10) == [2, 3, 4])
        try writer.reset()
        try writer.write([9])
        try writer.commit()
        #expect(try Data(contentsOf: destination) == Data([9]))
        #expect(try Set(FileManager.default.contentsOfDirectory(atPath: directory.path)) == ["image.jpg", fresh.lastPathComponent])
    }

    @Test("Retry-After is read as seconds or as an HTTP date")
    func retryAfterParsing() throws {
        #expect(RetryPolicy.parseRetryAfter("7") == .seconds(7))
        #expect(RetryPolicy.parseRetryAfter("0.5") == .milliseconds(500))
        let now = try #require(ISO8601DateFormatter().date(from: "2026-11-25T17:00:00Z"))
        #expect(RetryPolicy.parseRetryAfter("Wed, 25 Nov 2026 17:00:10 GMT", now: now) == .seconds(10))
        #expect(RetryPolicy.parseRetryAfter("soon") == nil)
        #expect(RetryPolicy.parseRetryAfter(nil) == nil)
        let policy = RetryPolicy(jitter: { 0.5 })
        #expect(policy.delay(forRetry: 3, retryAfter: nil) == .seconds(1))
        #expect(policy.delay(forRetry: 3, retryAfter: .seconds(9)) == .seconds(9))
        #expect(policy.delay(forRetry: 40, retryAfter: nil) == .seconds(15))
    }
}
