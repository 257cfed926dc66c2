public import BFL
import Foundation

/// Fault injection knobs; all off by default.
public struct Faults: Sendable, Hashable {
    /// Share of polls answered 500/502/503.
    public var poll5xxRate = 0.0
    /// Share of submits answered 429 although slots are free (bursts).
    public var submit429Rate = 0.0
    /// Share of submits whose connection is dropped after the task was created and charged,
    /// and of polls dropped before an answer.
    public var resetRate = 0.0
    /// Share of polls dropped before an answer (submits untouched).
    public var pollResetRate = 0.0
    /// `Retry-After` seconds sent with 429 and 503.
    public var retryAfter: Int?
    /// Added to every API response.
    public var latency: Duration = .zero
    /// Added to every delivery response.
    public var slowDelivery: Duration = .zero
    /// Regions whose cluster is down: their front door answers 503, their cluster host too,
    /// and the global front door sends new tasks elsewhere.
    public var downRegions: Set<Region> = []
    /// How webhooks are delivered: `forged` (a wrong secret, a bad signature), `unsigned` (no
    /// secret, no signature), `replay` (every call sent twice), `lost` (never sent), or
    /// `late=D` (that much after the task ends), for testing receivers. `polling-url`: the
    /// submit answer names the polling URL too (BFL's does not; a receiver must cope with both).
    public var webhookForged = false
    public var webhookUnsigned = false
    public var webhookReplay = false
    public var webhookLost = false
    public var webhookPollingURL = false
    public var webhookLate: Duration = .zero

    public init() {}

    /// Parses "5xx=0.1,429=0.2,reset=0.05,retry-after=2,latency=150ms,slow-delivery=2s,region-down=eu".
    public init(spec: String) throws(SimulatorError) {
        self.init()
        for item in spec.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw .badOption("fault \"\(item)\" must look like name=value") }
            let (name, value) = (parts[0].lowercased(), parts[1])
            func rate() throws(SimulatorError) -> Double {
                guard let rate = Double(value), (0...1).contains(rate) else {
                    throw .badOption("fault \(name) needs a rate between 0 and 1 (got \(value))")
                }
                return rate
            }
            switch name {
            case "5xx": poll5xxRate = try rate()
            case "429": submit429Rate = try rate()
            case "reset": resetRate = try rate()
            case "poll-reset": pollResetRate = try rate()
            case "retry-after":
                guard let seconds = Int(value), seconds >= 0 else { throw .badOption("retry-after needs whole seconds (got \(value))") }
                retryAfter = seconds
            case "latency": latency = try Self.duration(value, name)
            case "slow-delivery": slowDelivery = try Self.duration(value, name)
            case "region-down":
                // "eu", or several joined by "+": "eu+us".
                for text in value.split(separator: "+") {
                    guard let region = Region(rawValue: String(text).lowercased()), region != .global else {
                        throw .badOption("region-down takes eu or us (or eu+us), not \(text)")
                    }
                    downRegions.insert(region)
                }
            case "webhook":
                switch value.lowercased() {
                case "forged": webhookForged = true
                case "unsigned": webhookUnsigned = true
                case "replay": webhookReplay = true
                case "lost": webhookLost = true
                case "polling-url": webhookPollingURL = true
                default: throw .badOption("webhook takes forged, unsigned, replay, lost or polling-url (got \(value)); webhook-late=D delays them")
                }
            case "webhook-late": webhookLate = try Self.duration(value, name)
            default:
                throw .badOption("unknown fault \"\(name)\"; known: 5xx, 429, reset, poll-reset, retry-after, latency, slow-delivery, region-down, webhook, webhook-late")
            }
        }
    }

    /// "150ms", "2s", "1.5" (seconds).
    static func duration(_ text: String, _ name: String) throws(SimulatorError) -> Duration {
        let lower = text.lowercased()
        // Clamped to a day: a typed 1e300 must not trap.
        if lower.hasSuffix("ms"), let ms = Double(lower.dropLast(2)), ms >= 0, let duration = WireNumber.duration(seconds: ms / 1000, clampedTo: 0...86_400) {
            return duration
        }
        let plain = lower.hasSuffix("s") ? String(lower.dropLast()) : lower
        if let seconds = Double(plain), seconds >= 0, let duration = WireNumber.duration(seconds: seconds, clampedTo: 0...86_400) {
            return duration
        }
        throw .badOption("\(name) needs a duration such as 150ms or 2s (got \(text))")
    }
}

/// The two webhook payloads seen in the wild (`bfl-api.md` §10).
public enum WebhookShape: String, Sendable, Hashable {
    case a, b
}

/// How the simulator behaves.
public struct SimulatorOptions: Sendable {
    /// Keys the API accepts. Empty: one random key is made.
    public var apiKeys: [String] = []
    /// Starting balance of each key.
    public var initialCredits: Credits = 1000
    /// Scales every service time (0.01 makes a 10 s model take 0.1 s).
    public var timeFactor = 1.0
    /// How long sample URLs stay valid (not scaled).
    public var deliveryTTL: Duration = .seconds(600)
    /// How long finished tasks stay pollable before `Task not found`.
    public var retention: Duration = .seconds(3600)
    /// Active tasks per key.
    public var accountLimit = 24
    /// Refund the charge of failed and moderated tasks.
    public var refundOnFailure = false
    /// Insert a `Reasoning` phase before `Generating`.
    public var reasoningPhase = false
    /// The webhook payload shape: A (`task_id`, SUCCESS/FAILED) or B (`id`, Ready/Error).
    public var webhookShape = WebhookShape.a
    /// Also sign webhooks with `X-BFL-Signature: sha256=<HMAC of the body>`.
    public var webhookSignature = false
    public var faults = Faults()
    /// Seeds the simulator's randomness (durations, faults, picked seeds).
    public var randomSeed: UInt64 = 0x5EED
    /// Ports to bind (0 = any free port).
    public var apiPort = 0
    public var clusterPort = 0
    public var deliveryPort = 0
    public var apiEUPort = 0
    public var apiUSPort = 0
    public var clusterUSPort = 0

    public init() {}
}

/// Why the simulator could not be configured or started.
public struct SimulatorError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public static func badOption(_ message: String) -> SimulatorError { SimulatorError(message: message) }
    public var description: String { message }
}
