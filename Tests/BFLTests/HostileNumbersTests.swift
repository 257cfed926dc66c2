import BFL
import Foundation
import Testing

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
