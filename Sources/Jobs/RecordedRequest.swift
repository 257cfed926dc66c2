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
}
