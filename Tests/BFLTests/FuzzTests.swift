import BFL
import Foundation
import PropertyBased
import Testing

/// Every decoder of what the network sends, fed generated hostile input: truncated, garbage,
/// huge, deeply nested, numbers at the limits. Each must answer with a value or a typed error,
/// never trap. Run counts are in RELIABILITY.md.
@Suite("Fuzzing the decoders")
struct FuzzTests {
    /// Cases per decoder.
    static let cases = 10_000

    /// The property library's own generator, seeded by its input, so a failing case is
    /// reproduced from its seed.
    static func generator(_ seed: UInt64) -> Xoshiro {
        Xoshiro(seed: (seed, seed ^ 0x9E37_79B9_7F4A_7C15, ~seed, seed &* 0xBF58_476D_1CE4_E5B9 | 1))
    }

    static let numbers = [
        "0", "-0", "1", "-1", "0.5", "1e17", "1e300", "-1e300", "1e-320", "1.7976931348623157e308", "9223372036854775807",
        "9223372036854775808", "-9223372036854775809", "18446744073709551616", "123456789012345678901234567890", "4.5",
        "\"Infinity\"", "\"-inf\"", "\"NaN\"", "\"nan\"", "\"1e999\"", "\"12\"", "\"\"", "null", "true", "[]", "{}",
    ]
    static let strings = [
        "\"Ready\"", "\"Pending\"", "\"Error\"", "\"Request Moderated\"", "\"Content Moderated\"", "\"Task not found\"",
        "\"Generating\"", "\"\\u0000\\u001b[2J\"", "\"\\ud800\"", "\"https://api.bfl.ai/v1/get_result?id=x\"",
        "\"http+unix://%2Fsock/x\"", "\"" + String(repeating: "A", count: 5000) + "\"", "\"\u{202E}evil\"",
    ]
    static let keys = ["id", "status", "polling_url", "cost", "input_mp", "output_mp", "progress", "result", "sample", "seed",
                       "duration", "start_time", "end_time", "details", "error", "credits", "detail", "message", "task_id",
                       "data", "loc", "msg", "type", "webhook_url", "preview"]

    /// A JSON value, up to `depth` levels of nesting.
    static func value(_ rng: inout Xoshiro, depth: Int) -> String {
        switch rng.below(depth > 0 ? 6 : 3) {
        case 0: return rng.pick(numbers)
        case 1: return rng.pick(strings)
        case 2: return rng.pick(["null", "true", "false"])
        case 3: return "[" + (0..<rng.below(4)).map { _ in value(&rng, depth: depth - 1) }.joined(separator: ",") + "]"
        default: return object(&rng, depth: depth - 1)
        }
    }

    static func object(_ rng: inout Xoshiro, depth: Int) -> String {
        let fields = (0..<rng.below(8)).map { _ in "\"\(rng.pick(keys))\":\(value(&rng, depth: depth))" }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// One hostile document: plausible objects, then damaged in one of several ways.
    static func document(seed: UInt64) -> [UInt8] {
        var rng = Self.generator(seed)
        var bytes = Array(object(&rng, depth: 3).utf8)
        switch rng.below(10) {
        case 0: bytes = Array(bytes.prefix(rng.below(bytes.count + 1)))  // truncated
        case 1: bytes = (0..<rng.below(512)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }  // garbage
        case 2:  // deeply nested
            let depth = 1 + rng.below(20_000)
            bytes = Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8)
        case 3: bytes = Array(("{\"status\":\"Ready\",\"result\":{\"sample\":" + rng.pick(strings) + ",\"duration\":" + rng.pick(numbers)
                               + ",\"seed\":" + rng.pick(numbers) + "},\"cost\":" + rng.pick(numbers) + "}").utf8)
        case 4:  // a byte flipped
            if !bytes.isEmpty { bytes[rng.below(bytes.count)] = UInt8(truncatingIfNeeded: rng.next()) }
        case 5: bytes = Array(("{\"credits\":" + rng.pick(numbers) + "}").utf8)
        case 6: bytes = Array(("{\"detail\":[{\"loc\":" + value(&rng, depth: 2) + ",\"msg\":" + rng.pick(strings) + "}]}").utf8)
        default: break
        }
        return bytes
    }

    static let seeds = Gen<UInt64>.value(in: 0...UInt64.max)

    @Test("submit replies")
    func submit() async {
        await propertyCheck(count: Self.cases, input: Self.seeds) { seed in
            let reply = try? JSONDecoder().decode(SubmitResponse.self, from: Data(Self.document(seed: seed)))
            if let cost = reply?.cost { #expect(cost >= .zero) }
        }
    }

    @Test("poll replies")
    func poll() async {
        await propertyCheck(count: Self.cases, input: Self.seeds) { seed in
            let reply = try? JSONDecoder().decode(PollResponse.self, from: Data(Self.document(seed: seed)))
            if let progress = reply?.progress { #expect((0...1).contains(progress)) }
            if let duration = reply?.result?.duration { #expect(duration.isFinite && duration >= 0) }
            _ = reply?.errorMessage
        }
    }

    @Test("credit replies")
    func credits() async {
        await propertyCheck(count: Self.cases, input: Self.seeds) { seed in
            if let reply = try? JSONDecoder().decode(CreditsResponse.self, from: Data(Self.document(seed: seed))) {
                #expect(!reply.credits.value.isNaN && reply.credits.value.isFinite, "a balance is a number: \(reply.credits)")
            }
        }
    }

    @Test("error bodies, through the client's error mapping")
    func errorBodies() async {
        await propertyCheck(count: Self.cases, input: Self.seeds, Gen.int(in: 400...599)) { seed, status in
            let bytes = Self.document(seed: seed)
            let body = ErrorBody(bytes: bytes)
            #expect((body.message?.utf8.count ?? 0) <= TerminalText.messageLimit)
            let error = BFLClient.error(status: status, body: bytes, headers: [HeaderField("Retry-After", "1e300")])
            #expect(!error.message.isEmpty)
        }
    }

    @Test("webhook payloads")
    func webhooks() async {
        await propertyCheck(count: Self.cases, input: Self.seeds) { seed in
            do {
                let event = try WebhookReceiver.parse(Self.document(seed: seed))
                #expect(TaskID.problem(event.taskID) == nil, "an event's task id passed the rule: \(event.taskID.debugDescription)")
            } catch {
                // The one error it may give: a malformed body, with a sentence for the log.
                guard case .malformedResponse(let message)? = error as? BFLError else {
                    Issue.record("an error other than malformedResponse: \(error)")
                    return
                }
                #expect(!message.isEmpty)
            }
        }
    }

    @Test("Retry-After values")
    func retryAfter() async {
        let text = Gen.letterOrNumber.string(of: 0...12)
        await propertyCheck(count: Self.cases, input: Self.seeds, text) { seed, noise in
            var rng = Self.generator(seed)
            let candidates = [noise, rng.pick(Self.numbers).replacingOccurrences(of: "\"", with: ""), "Mon, 01 Jan \(rng.below(100_000)) 00:00:00 GMT",
                              String(Double(bitPattern: rng.next())), "\(rng.next())"]
            for candidate in candidates {
                if let delay = RetryPolicy.parseRetryAfter(candidate) {
                    #expect(delay >= .zero && delay <= .seconds(3600), "\(candidate)")
                }
            }
        }
    }
}

extension Xoshiro {
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}
