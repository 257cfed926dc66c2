public import BFL
import Foundation

/// A request body as the ledger recorded it: exactly what was sent, as JSON values, so a
/// re-run sends the same thing with only the seed changed.
public struct RecordedRequest: Sendable, Hashable {
    public private(set) var fields: [String: JSONValue]

    public init(json: String) throws(EngineError) {
        guard let fields = try? JSONDecoder().decode([String: JSONValue].self, from: Data(json.utf8)) else {
            throw EngineError(message: "the recorded request is not a JSON object")
        }
        self.fields = fields
    }

    /// The seed sent, when it was a whole number; nil removes it (BFL picks one).
    public var seed: Int? {
        get { fields["seed"]?.doubleValue.flatMap { Int(exactly: $0) } }
        set { fields["seed"] = newValue.map { .number(Double($0)) } }
    }

    /// The body to send: keys sorted, whole numbers without a fraction.
    public func json() throws(EngineError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(fields) else { throw EngineError(message: "the request cannot be written as JSON") }
        return String(decoding: data, as: UTF8.self)
    }

    /// The recorded fields for people to read, by name, each value as short text (whole numbers
    /// without a fraction, lists and objects as compact JSON, over 40 characters as their
    /// length). Empty when the text is not a JSON object.
    public static func shownFields(of json: String, leaving left: Set<String> = []) -> [(name: String, value: String)] {
        guard let request = try? RecordedRequest(json: json) else { return [] }
        return request.fields.keys.sorted().filter { !left.contains($0) }.compactMap { name in
            guard let value = request.fields[name] else { return nil }
            let text = Self.text(of: value)
            return (name, text.count > 40 ? "(\(text.count) chars)" : text)
        }
    }

    private static func text(of value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number): return Int(exactly: number).map(String.init) ?? "\(number)"
        case .string(let text): return text
        case .array, .object:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "…"
        }
    }
}
