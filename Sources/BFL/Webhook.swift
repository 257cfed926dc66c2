import Crypto
import Foundation

/// A task update delivered to a webhook receiver. It is a hint: confirm by polling when the
/// polling URL is known.
public struct WebhookEvent: Sendable, Hashable {
    public var taskID: String
    public var status: TaskStatus
    public var sample: String?
    public var seed: Int?
    public var error: String?

    public init(taskID: String, status: TaskStatus, sample: String? = nil, seed: Int? = nil, error: String? = nil) {
        self.taskID = taskID
        self.status = status
        self.sample = sample
        self.seed = seed
        self.error = error
    }
}

/// Checks and reads webhook calls (`bfl-api.md` §10). Both payload shapes seen in the wild are
/// read: A (`task_id`, `SUCCESS`/`FAILED`) and B (`id`, `Ready`/`Error`).
public enum WebhookReceiver {
    /// With a secret set, the call must carry it verbatim in `X-Webhook-Secret`, or carry a
    /// valid `X-BFL-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`. Compared in
    /// constant time. Without a secret every call is accepted.
    public static func verify(headers: [HeaderField], body: [UInt8], secret: String?) -> Bool {
        guard let secret, !secret.isEmpty else { return true }
        switch credential(headers: headers, secret: secret) {
        case .secret: return true
        case .missing: return false
        case .signature(let hex):
            let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
            let expected = mac.map { String(format: "%02x", $0) }.joined()
            return constantTimeEqual(Array(hex.utf8), Array(expected.utf8))
        }
    }

    /// What a call's headers prove before its body is read.
    public enum Credential: Sendable, Hashable {
        /// `X-Webhook-Secret` is the secret: the call is the sender's.
        case secret
        /// A signature in the right form (64 hex digits, lower-cased here) to check against the body.
        case signature(String)
        /// Neither: refuse without reading the body.
        case missing
    }

    /// Reads the headers only, so a stranger's call is refused before its body costs anything.
    public static func credential(headers: [HeaderField], secret: String) -> Credential {
        if let given = headers.value(for: "X-Webhook-Secret"),
           constantTimeEqual(Array(given.utf8), Array(secret.utf8)) {
            return .secret
        }
        if let signature = headers.value(for: "X-BFL-Signature") {
            let hex = (signature.lowercased().hasPrefix("sha256=") ? String(signature.dropFirst(7)) : signature).lowercased()
            if hex.utf8.count == 64, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) {
                return .signature(hex)
            }
        }
        return .missing
    }

    /// Reads either payload shape.
    public static func parse(_ body: [UInt8]) throws(BFLError) -> WebhookEvent {
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(body)), case .object = json else {
            throw .malformedResponse("the webhook body is not a JSON object")
        }
        guard let id = (json["task_id"] ?? json["id"])?.stringValue, !id.isEmpty else {
            throw .malformedResponse("the webhook body has no task id")
        }
        if let problem = TaskID.problem(id) { throw .malformedResponse("the webhook body: \(problem)") }
        let statusText = json["status"]?.stringValue ?? ""
        let status: TaskStatus = switch statusText.uppercased() {
        case "SUCCESS": .ready
        case "FAILED": .error
        default: TaskStatus(wire: statusText)
        }
        let result = json["result"]
        let error = (json["error"] ?? json["message"])?.compactText
        return WebhookEvent(
            taskID: id, status: status, sample: result?["sample"]?.stringValue,
            seed: result?["seed"]?.doubleValue.flatMap { Int(exactly: $0) }, error: error.map(TerminalText.sanitize))
    }

    /// Equal, in time that depends on neither where they differ nor how long the secret is:
    /// both are hashed first, and the fixed-length digests compared byte by byte.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let left = Array(SHA256.hash(data: a)), right = Array(SHA256.hash(data: b))
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}
