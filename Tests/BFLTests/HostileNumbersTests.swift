import BFL
import Foundation
import Testing
import TestSupport

/// Numbers from the network that used to stop the process: each is dropped where it is
/// decoded, or clamped, and never reaches a trapping conversion.
@Suite("Hostile numbers at the wire boundary")
struct HostileNumbersTests {
    func poll(_ json: String) throws -> PollResponse { try JSONDecoder().decode(PollResponse.self, from: Data(json.utf8)) }

    @Test("a Ready reply with an absurd duration, cost or progress keeps its status and drops the number")
    func pollNumbers() throws {
        let reply = try poll(#"{"id":"t","status":"Ready","progress":"NaN","cost":"Infinity","result":{"sample":"https://x/y.jpg","duration":1e17,"start_time":-5,"seed":1e300}}"#)
        #expect(reply.status == .ready)
        #expect(reply.result?.duration == nil)
        #expect(reply.result?.startTime == nil)
        #expect(reply.result?.seed == nil)
        #expect(reply.cost == nil)
        #expect(reply.progress == nil)
        #expect(try poll(#"{"status":"Generating","progress":1e308,"cost":-3}"#).progress == nil)
        #expect(try poll(#"{"status":"Generating","progress":1.5}"#).progress == 1)
        #expect(try poll(#"{"status":"Generating","cost":-3}"#).cost == nil)
        #expect(try poll(#"{"status":"Generating","cost":"nan"}"#).cost == nil)
        #expect(try poll(#"{"status":"Ready","cost":4.5}"#).cost == Credits("4.5"))
    }

    @Test("a submit reply with infinite or negative megapixels and cost drops them")
    func submitNumbers() throws {
        let reply = try JSONDecoder().decode(SubmitResponse.self, from: Data(#"{"id":"t","polling_url":"https://api.bfl.ai/v1/get_result?id=t","cost":"inf","input_mp":-1,"output_mp":1e99}"#.utf8))
        #expect(reply.cost == nil)
        #expect(reply.inputMP == nil)
        #expect(reply.outputMP == nil)
    }

    @Test("a balance that is not a finite number is a malformed reply, not a crash or a NaN")
    func balance() {
        for text in [#"{"credits":"inf"}"#, #"{"credits":"NaN"}"#, #"{"credits":1e300}"#] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(CreditsResponse.self, from: Data(text.utf8)) }
        }
        #expect(Credits(serverValue: .nan) == nil)
        #expect(Credits(serverValue: -.infinity) == nil)
        // Found by the fuzzer: below Decimal's exponent range a Double became a NaN Decimal.
        #expect(Credits(serverValue: .leastNonzeroMagnitude * 2000) == .zero)
        #expect((try? JSONDecoder().decode(CreditsResponse.self, from: Data(#"{"credits":"12.5"}"#.utf8)))?.credits == Credits("12.5"))
    }

    @Test("Retry-After beyond reason is clamped to an hour; nonsense is ignored")
    func retryAfter() {
        #expect(RetryPolicy.parseRetryAfter("1e300") == .seconds(3600))
        #expect(RetryPolicy.parseRetryAfter("9999999999999999999999") == .seconds(3600))
        #expect(RetryPolicy.parseRetryAfter("inf") == nil)
        #expect(RetryPolicy.parseRetryAfter("nan") == nil)
        #expect(RetryPolicy.parseRetryAfter("-4") == nil)
        #expect(RetryPolicy.parseRetryAfter("2.5") == .milliseconds(2500))
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(RetryPolicy.parseRetryAfter("Fri, 01 Jan 9999 00:00:00 GMT", now: now) == .seconds(3600))
    }

    @Test("seconds become durations clamped to their range; NaN becomes nothing")
    func durations() {
        #expect(WireNumber.duration(seconds: 1e17, clampedTo: 0.1...3600) == .seconds(3600))
        #expect(WireNumber.duration(seconds: -.infinity, clampedTo: 0.1...3600) == .milliseconds(100))
        #expect(WireNumber.duration(seconds: .nan, clampedTo: 0...1) == nil)
    }
}

/// URLs a hostile or broken server might hand out.
@Suite("URL policy")
struct URLPolicyTests {
    static let key = APIKey("test_key_0123456789abcdef")

    func client(_ transport: ScriptedTransport, endpoint: Endpoint = .region(.global)) -> BFLClient {
        var configuration = BFLClient.Configuration(endpoint: endpoint, apiKey: Self.key)
        configuration.retry = .deterministic
        // A URL wrongly let through fails at once instead of retrying on the manual clock.
        configuration.retry.pollRetries = 0
        configuration.retry.getRetries = 0
        return BFLClient(configuration: configuration, transport: transport, clock: TestClock())
    }

    @Test("polling URLs off the API hosts are refused before anything is sent", arguments: [
        "http+unix://%2Fvar%2Frun%2Fdocker.sock/v1/get_result?id=x", "http://api.bfl.ai/v1/get_result?id=x",
        "https://evil.example/v1/get_result?id=x", "https://api.bfl.ai:8443/v1/get_result?id=x",
        "https://api.bfl.ai.evil.example/v1/get_result?id=x", "file:///etc/passwd",
    ])
    func refusedPolls(_ url: String) async throws {
        let transport = ScriptedTransport([])
        await #expect(throws: BFLError.self) { _ = try await client(transport).poll(url) }
        #expect(await transport.requests.isEmpty)
    }

    @Test("BFL's cluster hosts and the configured endpoint's own host are polled")
    func allowedPolls() async throws {
        let ready = #"{"id":"x","status":"Pending"}"#
        let transport = ScriptedTransport([.json(200, ready), .json(200, ready)])
        _ = try await client(transport).poll("https://api.eu2.bfl.ai/v1/get_result?id=x")
        let proxy = try #require(Endpoint(customURL: "http://127.0.0.1:8700"))
        _ = try await client(transport, endpoint: proxy).poll("http://127.0.0.1:8700/v1/get_result?id=x")
        #expect(await transport.requests.count == 2)
        await #expect(throws: BFLError.self) { _ = try await client(transport, endpoint: proxy).poll("http://10.0.0.8:8700/v1/get_result?id=x") }
    }

    @Test("result URLs in clear text off this machine, and redirects from https to http, are refused")
    func downloads() async throws {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-url-\(UUID().uuidString).jpg")
        defer { try? FileManager.default.removeItem(at: target) }
        let none = ScriptedTransport([])
        await #expect(throws: BFLError.self) { _ = try await client(none).download("http://delivery-eu.bfl.ai/x.jpg", to: target) }
        #expect(await none.requests.isEmpty)
        let redirect = ScriptedTransport([.respond(status: 302, headers: [HeaderField("Location", "http://delivery-eu.bfl.ai/x.jpg")])])
        do {
            _ = try await client(redirect).download("https://delivery-eu.bfl.ai/x.jpg", to: target)
            Issue.record("the redirect was followed")
        } catch let error as BFLError {
            guard case .refusedURL = error else { Issue.record("unexpected \(error)"); return }
        }
        #expect(await redirect.requests.count == 1)
    }

    @Test("an endpoint with credentials in it is refused")
    func credentials() {
        #expect(Endpoint(customURL: "https://user:secret@proxy.example") == nil)
        #expect(Endpoint(customURL: "https://proxy.example") != nil)
    }
}
