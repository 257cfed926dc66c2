/// When to poll next (`bfl-api.md` §11.3, refined): the first poll early, then halving the time
/// left to the expected finish (dense near it), then backing off by ×1.5 to a cap.
public struct PollCadence: Sendable, Hashable {
    public var firstPoll: Duration = .milliseconds(500)
    public var minimum: Duration = .milliseconds(250)
    public var maximum: Duration = .seconds(5)

    public init() {}

    /// - Parameters:
    ///   - elapsed: time since the task was accepted.
    ///   - expected: the expected service time.
    ///   - pollsPastExpected: polls already made after `expected` had passed.
    public func delay(elapsed: Duration, expected: Duration, pollsPastExpected: Int) -> Duration {
        if elapsed < expected {
            return min(maximum, max(minimum, (expected - elapsed) / 2))
        }
        var grown = minimum
        for _ in 0..<min(pollsPastExpected, 20) where grown < maximum {
            grown = grown * 1.5
        }
        return min(maximum, grown)
    }

    /// The expected service time from progress: a task at fraction `progress` after `elapsed`
    /// should need about `elapsed / progress` in all.
    public static func expected(fromProgress progress: Double, elapsed: Duration) -> Duration? {
        guard progress >= 0.05, progress < 1 else { return nil }
        return elapsed / progress
    }
}
