import Foundation

/// Any JSON value, for the parts of responses whose shape is not promised.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var doubleValue: Double? {
        switch self {
        case .number(let n): n
        case .string(let s): Double(s)
        default: nil
        }
    }

    /// A compact, readable rendering for messages.
    public var compactText: String {
        switch self {
        case .null: "null"
        case .bool(let b): String(b)
        case .number(let n): GenerationParameters.number(n)
        case .string(let s): s
        case .array(let a): "[" + a.map(\.compactText).joined(separator: ", ") + "]"
        case .object(let o):
            "{" + o.keys.sorted().map { "\($0): \(o[$0]?.compactText ?? "")" }.joined(separator: ", ") + "}"
        }
    }
}

/// Lenient field readers: numbers may come as ints, floats or numeric strings; anything may be
/// null or missing; a value of the wrong type reads as absent instead of failing the response.
extension KeyedDecodingContainer {
    func lenientDouble(_ key: Key) -> Double? {
        (try? decodeIfPresent(JSONValue.self, forKey: key))??.doubleValue
    }

    /// A number within `range`: non-finite, out-of-range or non-numeric values read as absent,
    /// so nothing downstream ever converts one that traps.
    func boundedDouble(_ key: Key, _ range: ClosedRange<Double>) -> Double? {
        WireNumber.bounded(lenientDouble(key), range)
    }

    func lenientInt(_ key: Key) -> Int? {
        guard let d = lenientDouble(key), d.isFinite, abs(d) < 9.0e18 else { return nil }
        return Int(d)
    }

    func lenientString(_ key: Key) -> String? {
        guard let value = try? decodeIfPresent(JSONValue.self, forKey: key) else { return nil }
        switch value {
        case .string(let s): return s
        case .number(let n): return GenerationParameters.number(n)
        default: return nil
        }
    }
}

/// A task status. Unknown statuses are kept verbatim and treated as "still running".
public enum TaskStatus: Sendable, Hashable, Codable, CustomStringConvertible {
    case pending
    case reasoning
    case generating
    case ready
    case error
    case requestModerated
    case contentModerated
    case taskNotFound
    case unknown(String)

    public init(wire: String) {
        switch wire {
        case "Pending": self = .pending
        case "Reasoning": self = .reasoning
        case "Generating": self = .generating
        case "Ready": self = .ready
        case "Error", "Failed": self = .error
        case "Request Moderated": self = .requestModerated
        case "Content Moderated": self = .contentModerated
        case "Task not found": self = .taskNotFound
        default: self = .unknown(wire)
        }
    }

    /// The status as the API spells it.
    public var wireValue: String {
        switch self {
        case .pending: "Pending"
        case .reasoning: "Reasoning"
        case .generating: "Generating"
        case .ready: "Ready"
        case .error: "Error"
        case .requestModerated: "Request Moderated"
        case .contentModerated: "Content Moderated"
        case .taskNotFound: "Task not found"
        case .unknown(let s): s
        }
    }

    /// Whether polling stops here.
    public var isTerminal: Bool {
        switch self {
        case .ready, .error, .requestModerated, .contentModerated, .taskNotFound: true
        case .pending, .reasoning, .generating, .unknown: false
        }
    }

    public var description: String { wireValue }

    public init(from decoder: any Decoder) throws {
        self.init(wire: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(wireValue)
    }
}

/// The reply to a submit: the polling form, or the webhook form (no `polling_url`).
public struct SubmitResponse: Sendable, Hashable, Decodable {
    public var id: String
    public var pollingURL: String?
    public var status: TaskStatus?
    public var webhookURL: String?
    /// Credits charged at submit (FLUX.2); FLUX.1 settles on the final poll.
    public var cost: Credits?
    public var inputMP: Double?
    public var outputMP: Double?

    enum CodingKeys: String, CodingKey {
        case id, status, cost
        case pollingURL = "polling_url", webhookURL = "webhook_url"
        case inputMP = "input_mp", outputMP = "output_mp"
    }

    public init(id: String, pollingURL: String?, status: TaskStatus? = nil, webhookURL: String? = nil,
                cost: Credits? = nil, inputMP: Double? = nil, outputMP: Double? = nil) {
        self.id = id
        self.pollingURL = pollingURL
        self.status = status
        self.webhookURL = webhookURL
        self.cost = cost
        self.inputMP = inputMP
        self.outputMP = outputMP
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let id = c.lenientString(.id), !id.isEmpty else {
            throw DecodingError.keyNotFound(CodingKeys.id, .init(codingPath: [], debugDescription: "the reply has no task id"))
        }
        if let problem = TaskID.problem(id) {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.id], debugDescription: problem))
        }
        self.id = id
        pollingURL = c.lenientString(.pollingURL)
        status = c.lenientString(.status).map(TaskStatus.init(wire:))
        webhookURL = c.lenientString(.webhookURL)
        cost = c.boundedDouble(.cost, WireNumber.costRange).flatMap(Credits.init(serverValue:))
        inputMP = c.boundedDouble(.inputMP, WireNumber.megapixelRange)
        outputMP = c.boundedDouble(.outputMP, WireNumber.megapixelRange)
    }
}

/// The `result` object of a finished task.
public struct TaskResult: Sendable, Hashable, Decodable {
    /// The signed, short-lived URL of the image.
    public var sample: String?
    public var seed: Int?
    public var startTime: Double?
    public var endTime: Double?
    public var duration: Double?
    /// The old place of error messages.
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case sample, seed, duration, error, startTime = "start_time", endTime = "end_time"
    }

    public init(sample: String? = nil, seed: Int? = nil) {
        self.sample = sample
        self.seed = seed
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sample = c.lenientString(.sample)
        seed = c.lenientInt(.seed)
        startTime = c.boundedDouble(.startTime, 0...1e12)
        endTime = c.boundedDouble(.endTime, 0...1e12)
        duration = c.boundedDouble(.duration, WireNumber.durationRange)
        error = c.lenientString(.error)
    }
}

/// The reply to a poll.
public struct PollResponse: Sendable, Hashable, Decodable {
    public var id: String?
    public var status: TaskStatus
    public var result: TaskResult?
    /// 0…1 while generating.
    public var progress: Double?
    public var details: JSONValue?
    public var preview: JSONValue?
    /// The settled cost on a terminal poll.
    public var cost: Credits?

    enum CodingKeys: String, CodingKey { case id, status, result, progress, details, preview, cost }

    public init(id: String? = nil, status: TaskStatus, result: TaskResult? = nil, progress: Double? = nil,
                details: JSONValue? = nil, cost: Credits? = nil) {
        self.id = id
        self.status = status
        self.result = result
        self.progress = progress
        self.details = details
        self.cost = cost
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let status = c.lenientString(.status) else {
            throw DecodingError.keyNotFound(CodingKeys.status, .init(codingPath: [], debugDescription: "the reply has no status"))
        }
        self.status = TaskStatus(wire: status)
        id = c.lenientString(.id)
        result = try? c.decodeIfPresent(TaskResult.self, forKey: .result)
        progress = WireNumber.bounded(c.lenientDouble(.progress), -1e9...1e9).map { min(1, max(0, $0)) }
        details = (try? c.decodeIfPresent(JSONValue.self, forKey: .details)) ?? nil
        preview = (try? c.decodeIfPresent(JSONValue.self, forKey: .preview)) ?? nil
        cost = c.boundedDouble(.cost, WireNumber.costRange).flatMap(Credits.init(serverValue:))
    }

    /// The failure message of an `Error` (or moderated) task: `details.error`, then the old
    /// `result.error`, then whatever `details` holds.
    public var errorMessage: String? {
        if let text = details?["error"]?.compactText { return text }
        if let text = result?.error { return text }
        if let details, details != .null { return details.compactText }
        return nil
    }
}

/// The reply to `GET /v1/credits`.
public struct CreditsResponse: Sendable, Hashable, Decodable {
    public var credits: Credits

    enum CodingKeys: String, CodingKey { case credits }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let value = c.lenientDouble(.credits) else {
            throw DecodingError.keyNotFound(CodingKeys.credits, .init(codingPath: [], debugDescription: "the reply has no credits"))
        }
        guard let credits = Credits(serverValue: value) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.credits], debugDescription: "the balance is not a usable number"))
        }
        self.credits = credits
    }
}

/// One item of a FastAPI validation error list.
public struct ValidationDetail: Sendable, Hashable {
    public var location: [String]
    public var message: String
    public var type: String?

    /// "steps: Input should be less than or equal to 50" (the leading "body" is dropped).
    public var readable: String {
        let path = location.first == "body" ? Array(location.dropFirst()) : location
        return path.isEmpty ? message : path.joined(separator: ".") + ": " + message
    }
}

/// What an error body says: a message and, for 422s, the validation items.
public struct ErrorBody: Sendable, Hashable {
    public var message: String?
    public var details: [ValidationDetail]

    /// Reads `detail` (a string or a list of items with `msg`), else `message`, else `error`;
    /// a body that is not JSON gives its first line of text.
    public init(bytes: [UInt8]) {
        details = []
        message = nil
        guard !bytes.isEmpty else { return }
        if let json = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) {
            switch json["detail"] {
            case .string(let s)?: message = s
            case .array(let items)?:
                details = items.map { item in
                    let loc: [String] = {
                        if case .array(let parts)? = item["loc"] { return parts.map(\.compactText) }
                        return []
                    }()
                    return ValidationDetail(
                        location: loc, message: item["msg"]?.compactText ?? item.compactText,
                        type: item["type"]?.stringValue)
                }
                message = details.map(\.readable).joined(separator: "; ")
            case .object?, .number?, .bool?:
                message = json["detail"]?.compactText
            default:
                message = json["message"]?.compactText ?? json["error"]?.compactText
            }
        } else {
            let text = String(decoding: bytes.prefix(400), as: UTF8.self)
            let firstLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            let trimmed = firstLine.trimmingCharacters(in: .whitespaces)
            message = trimmed.isEmpty ? nil : String(trimmed.prefix(200))
        }
        message = message.map(TerminalText.message)
    }
}

/// Bounds for numbers that arrive from the network. A value outside them is dropped where it is
/// decoded, never converted: `Int64(1e300)` and `Decimal(Double.infinity)` stop the process.
/// What a task id from the server may look like before fluxdeck stores it, files it in a
/// sidecar, writes it into an image's metadata or shows it: 1 to 256 visible ASCII characters
/// (BFL's are UUIDs). Anything else is a malformed answer.
public enum TaskID {
    public static let maxLength = 256

    /// Why `text` is not an acceptable task id, or nil when it is.
    public static func problem(_ text: String) -> String? {
        if text.isEmpty { return "the task id is empty" }
        if text.utf8.count > maxLength { return "the task id is \(text.utf8.count) bytes long (at most \(maxLength))" }
        if text.unicodeScalars.contains(where: { !(0x21...0x7E).contains($0.value) }) {
            return "the task id has spaces, control or non-ASCII characters"
        }
        return nil
    }
}

public enum WireNumber {
    /// Credits of one job or one reply.
    public static let costRange: ClosedRange<Double> = 0...1_000_000
    /// A balance (it may be negative on some accounts).
    public static let balanceRange: ClosedRange<Double> = -1e12...1e12
    public static let megapixelRange: ClosedRange<Double> = 0...10_000
    /// A task's service time in seconds: up to a day.
    public static let durationRange: ClosedRange<Double> = 0...86_400

    /// `value` when it is finite and within `range`, else nil.
    public static func bounded(_ value: Double?, _ range: ClosedRange<Double>) -> Double? {
        guard let value, value.isFinite, range.contains(value) else { return nil }
        return value
    }

    /// Seconds as a `Duration`, clamped to `range` (seconds); nil for NaN.
    public static func duration(seconds: Double, clampedTo range: ClosedRange<Double>) -> Duration? {
        guard !seconds.isNaN else { return nil }
        let clamped = min(max(seconds, range.lowerBound), range.upperBound)
        return .milliseconds(Int64((clamped * 1000).rounded()))
    }
}
