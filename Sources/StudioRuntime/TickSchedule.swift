/// When the studio's clock ticks (spinners, elapsed times): every `interval` while jobs run,
/// on deadlines, so that a steady stream of keys or job events cannot hold ticks back; never
/// while idle. The event loop waits at most `timeout` and sends a tick when `due` says so.
public struct TickSchedule: Sendable {
    public let interval: Duration
    private var next: ContinuousClock.Instant?

    public init(interval: Duration = .milliseconds(120)) {
        self.interval = interval
    }

    /// How long the loop may wait for input, in milliseconds (-1: as long as it likes).
    public mutating func timeout(now: ContinuousClock.Instant, active: Bool) -> Int32 {
        guard active else {
            next = nil
            return -1
        }
        let deadline = next ?? now + interval
        next = deadline
        let left = now.duration(to: deadline)
        guard left > .zero else { return 0 }
        // Rounded up: waking a hair early would only wait again.
        let (seconds, attoseconds) = left.components
        return Int32(clamping: seconds * 1_000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }

    /// Whether a tick is due now; if so the next deadline is set one interval on (or one
    /// interval from now, after a stall, rather than a burst of ticks).
    public mutating func due(now: ContinuousClock.Instant, active: Bool) -> Bool {
        guard active else {
            next = nil
            return false
        }
        guard let deadline = next else {
            next = now + interval
            return false
        }
        guard now >= deadline else { return false }
        let following = deadline + interval
        next = following > now ? following : now + interval
        return true
    }
}
