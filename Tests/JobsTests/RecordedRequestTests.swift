import BFL
import Foundation
import Jobs
import Testing

@Suite("A re-run sends the recorded request, changing only the seed")
struct RecordedRequestTests {
    static let body = #"{"guidance":2.5,"height":768,"input_image":"https://example.com/a/b.png","prompt":"a fox — in the snow / at dawn","prompt_upsampling":false,"safety_tolerance":2,"seed":4294967295,"steps":28,"width":1024}"#

    @Test("the same seed, a new seed, or a seed where there was none; every other field as sent")
    func seeds() throws {
        var request = try RecordedRequest(json: Self.body)
        #expect(request.seed == 4_294_967_295)
        #expect(try request.json() == Self.body)
        request.seed = 42
        let changed = try request.json()
        #expect(changed.contains(#""seed":42,"#))
        #expect(!changed.contains(".0"))
        #expect(changed.contains("https://example.com/a/b.png"))
        request.seed = nil
        let unseeded = try RecordedRequest(json: try request.json())
        #expect(unseeded.seed == nil)
        var original = try RecordedRequest(json: Self.body)
        original.seed = nil
        #expect(unseeded.fields == original.fields)
        #expect(unseeded.fields["guidance"] == .number(2.5) && unseeded.fields["prompt_upsampling"] == .bool(false))
    }

    @Test("a body that is not a JSON object is refused with a sentence")
    func refused() {
        for text in ["", "[]", "{", "42"] {
            #expect(throws: EngineError.self) { try RecordedRequest(json: text) }
        }
    }

    @Test("fields for people: sorted, true/false, whole numbers without a fraction, long values as their length")
    func shown() {
        let shown = RecordedRequest.shownFields(of: Self.body, leaving: ["prompt", "seed"])
        #expect(shown.map(\.name) == ["guidance", "height", "input_image", "prompt_upsampling", "safety_tolerance", "steps", "width"])
        let values = Dictionary(shown, uniquingKeysWith: { first, _ in first })
        #expect(values["guidance"] == "2.5" && values["height"] == "768" && values["prompt_upsampling"] == "false")
        #expect(values["input_image"] == "https://example.com/a/b.png")
        let long = RecordedRequest.shownFields(of: #"{"tags":["a","b"],"input_image":"\#(String(repeating: "x", count: 50))"}"#)
        #expect(long.map(\.value) == ["(50 chars)", #"["a","b"]"#])
        #expect(RecordedRequest.shownFields(of: "not json").isEmpty)
    }
}
