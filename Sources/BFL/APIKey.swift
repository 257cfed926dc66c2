import Foundation

/// A BFL API key. It prints masked, has no `Codable` conformance (so it cannot slip into the
/// ledger or a sidecar), and reveals itself only to the code that builds request headers.
public struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private let secret: String

    /// A key from user input; surrounding whitespace and quotes (as `.env` files have) are
    /// removed. Nil when nothing is left.
    public init?(_ raw: String) {
        var text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.count >= 2, let first = text.first, first == text.last, first == "\"" || first == "'" {
            text = String(text.dropFirst().dropLast())
        }
        guard !text.isEmpty else { return nil }
        secret = text
    }

    /// Why this key cannot travel in a header (a newline, a tab, a DEL or a non-ASCII character,
    /// as a pasted file may bring), naming the position and never the key; nil when it can.
    public var headerProblem: String? {
        for (index, scalar) in secret.unicodeScalars.enumerated() where !(0x21...0x7E).contains(scalar.value) {
            let what = switch scalar.value {
            case 0x0A, 0x0D: "a line break"
            case 0x09: "a tab"
            case 0x20: "a space"
            case 0x7F: "a DEL byte"
            case 0..<0x20: "a control character"
            default: "a non-ASCII character"
            }
            return "the API key (\(masked)) has \(what) at character \(index + 1), which no HTTP header can carry; copy it again from the BFL dashboard"
        }
        return nil
    }

    /// The value for the `x-key` header. Internal on purpose: only the client sends it.
    var headerValue: String { secret }

    /// "••••a1b2": the last four characters, enough to tell keys apart.
    public var masked: String {
        secret.count <= 8 ? "••••" : "••••" + secret.suffix(4)
    }

    /// Whether `text` contains this key (for tests and log scrubbing).
    public func occurs(in text: String) -> Bool { text.contains(secret) }

    public var description: String { masked }
    public var debugDescription: String { "APIKey(\(masked))" }
    public var customMirror: Mirror { Mirror(self, children: ["masked": masked]) }
}
