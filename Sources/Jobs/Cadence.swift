/// When to poll next (`bfl-api.md` §11.3, refined): the first poll early, then halving the time
/// left to the expected finish (dense near it), then backing off by ×1.5 to a cap.
public struct PollCadence: Sendable, Hashable {
    public var firstPoll: Duration = .milliseconds(500)
    public var minimum: Duration = .milliseconds(250)
    public var maximum: Duration = .seconds(5)

    public init() {}

    /// Added to a confident estimate, so the poll lands just after the finish.
    public var margin: Duration = .milliseconds(40)

    /// - Parameters:
    ///   - elapsed: time since the task was accepted.
    ///   - expected: the expected service time.
    ///   - confident: `expected` comes from the task's own progress rate, so aim straight at it.
    ///   - pollsPastExpected: polls already made after `expected` had passed.
    public func delay(elapsed: Duration, expected: Duration, confident: Bool = false, pollsPastExpected: Int) -> Duration {
        if elapsed < expected {
            let left = expected - elapsed
            // A confident estimate is trusted down to the margin; a rough one is approached by halves.
            return min(maximum, confident ? left + margin : max(minimum, left / 2))
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

    /// The expected service time from two progress readings: progress grows about linearly, so
    /// the time left is the progress left over the observed rate.
    public static func expected(from earlier: (elapsed: Duration, progress: Double),
                                to later: (elapsed: Duration, progress: Double)) -> Duration? {
        let gained = later.progress - earlier.progress
        let took = later.elapsed - earlier.elapsed
        guard gained > 0.01, took > .zero, later.progress < 1 else { return nil }
        return later.elapsed + took * ((1 - later.progress) / gained)
    }
}
