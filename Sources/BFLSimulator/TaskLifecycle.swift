import BFL

/// What a simulated task was told to do by its prompt's magic words.
enum Outcome: Sendable {
    case normal, requestModerated, contentModerated, error, stuck, unknownStatus, poll422

    init(prompt: String) {
        let lower = prompt.lowercased()
        self = lower.contains("sim:request-moderated") ? .requestModerated
            : lower.contains("sim:content-moderated") ? .contentModerated
            : lower.contains("sim:error") ? .error
            : lower.contains("sim:stuck") ? .stuck
            : lower.contains("sim:unknown-status") ? .unknownStatus
            : lower.contains("sim:poll-422") ? .poll422
            : .normal
    }
}

/// Where a webhook goes when its task ends.
struct WebhookTarget: Sendable {
    var url: String
    var secret: String?
}

/// One accepted submission.
/// What a Fill task repaints: the image and (when sent) the mask, as the files' bytes.
struct FillSource: Sendable {
    var image: [UInt8]
    var mask: [UInt8]?
}

struct SimTask: Sendable {
    var id: String
    var key: String
    var model: Model
    var prompt: String
    var seed: Int
    var size: PixelSize
    var format: OutputFormat
    var cost: Credits
    var createdAt: Duration
    var serviceTime: Duration
    var outcome: Outcome
    var sampleHex: String
    var webhook: WebhookTarget?
    /// The cluster host that holds it (and answers its polls).
    var cluster: Listener = .cluster
    var polls = 0
    /// When each poll of the task arrived (simulator time), for benchmarks' ground truth.
    var pollTimes: [Duration] = []
    var refunded = false
    /// Fill's image and mask (file bytes) when they were sent as data: the result keeps the
    /// image's pixels where the mask is black.
    var fill: FillSource?

    /// When the task becomes Ready (nil for one that fails, is moderated or never finishes).
    var readyAt: Duration? {
        switch outcome {
        case .normal, .unknownStatus: format == .webp ? nil : createdAt + serviceTime
        default: nil
        }
    }

    /// When the task stops being active (its slot frees up and its webhook fires).
    var finishesAt: Duration? {
        switch outcome {
        case .stuck: nil
        case .requestModerated: createdAt
        case .error: createdAt + serviceTime / 2
        default: createdAt + serviceTime
        }
    }

    func isActive(at time: Duration) -> Bool {
        guard let finishesAt else { return true }
        return finishesAt > time
    }

    /// The task's state at `time`, as a poll would report it.
    func phase(at time: Duration, reasoningPhase: Bool, retention: Duration) -> Phase {
        let elapsed = time - createdAt
        if let finishesAt, time > finishesAt + retention { return .gone }
        switch outcome {
        case .requestModerated:
            return .failed(.requestModerated, "Simulated request moderation")
        case .stuck:
            return .pending
        case .unknownStatus where polls <= 3:
            return .paused
        case .error where elapsed >= serviceTime / 2:
            return .failed(.error, "Simulated generation failure")
        default:
            break
        }
        if elapsed < serviceTime * 0.15 { return .pending }
        if elapsed < serviceTime {
            let fraction = (elapsed - serviceTime * 0.15) / (serviceTime * 0.85)
            let progress = (fraction * 100).rounded() / 100
            return .running(reasoningPhase && fraction < 0.2 ? .reasoning : .generating, progress)
        }
        if format == .webp { return .failed(.error, "webp output not supported by the simulator") }
        switch outcome {
        case .contentModerated: return .failed(.contentModerated, "Simulated content moderation")
        case .poll422: return .failedAs422("Simulated failure reported as HTTP 422")
        default: return .ready
        }
    }
}

/// A task's state as the API reports it.
enum Phase: Sendable, Equatable {
    case pending
    /// A status the client does not know ("Paused").
    case paused
    case running(TaskStatus, Double)
    case ready
    /// A terminal failure: `Error`, `Request Moderated` or `Content Moderated`.
    case failed(TaskStatus, String)
    /// `Error`, answered with HTTP 422.
    case failedAs422(String)
    /// Past retention: `Task not found`.
    case gone

    var isFailure: Bool {
        switch self {
        case .failed, .failedAs422: true
        default: false
        }
    }
}

/// Ground truth about one task, in simulator time.
public struct TaskTimeline: Sendable, Hashable {
    public var acceptedAt: Duration
    /// When the task became Ready (nil for tasks that fail, are moderated or never finish).
    public var readyAt: Duration?
    public var polls: [Duration]
    /// The cluster host that holds it.
    public var cluster: Listener = .cluster
}
