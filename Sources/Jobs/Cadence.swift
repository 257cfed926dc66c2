import BFL

/// When to poll next. The goal is to find a task Ready as soon as it is (the result is paid
/// for and the slot is blocked until we look) with as few polls as possible. See decision 42.
///
/// The rules, in order:
/// 1. Before any reading, expect the learned median service time of this model on this
///    endpoint (the catalog's typical time until something is learned), and poll first at 60 %
///    of the learned low end: early enough to get a progress reading while it is generating.
/// 2. Two progress readings give the rate, so the finish is aimed at directly (plus 10 ms).
///    One reading gives it too once the endpoint's pending share is learned; without that, one
///    early reading is never trusted past the learned high end (it used to send polls seconds
///    late).
/// 3. Past the expected finish, poll every `short` until the task is clearly overdue (beyond
///    1.25 × the learned high end), then back off ×1.5 up to `maximum`.
public struct PollCadence: Sendable, Hashable {
    public var minimumFirst: Duration = .milliseconds(250)
    public var maximumFirst: Duration = .seconds(3)
    /// The gap between polls around and just past the expected finish.
    public var short: Duration = .milliseconds(100)
    public var maximum: Duration = .seconds(5)
    /// Added to an aimed finish, so the poll lands just after it.
    public var margin: Duration = .milliseconds(10)

    public init() {}

    /// What the plan knows about a task.
    public struct Inputs: Sendable, Hashable {
        /// Time since the task was accepted.
        public var elapsed: Duration
        /// Progress readings so far: time since acceptance, and progress 0…1.
        public var readings: [Reading]
        public var timing: LearnedTiming
        /// Polls already made after the expected finish.
        public var pollsPastExpected: Int

        public init(elapsed: Duration, readings: [Reading] = [], timing: LearnedTiming, pollsPastExpected: Int = 0) {
            self.elapsed = elapsed
            self.readings = readings
            self.timing = timing
            self.pollsPastExpected = pollsPastExpected
        }
    }

    public struct Reading: Sendable, Hashable {
        public var elapsed: Duration
        public var progress: Double
        public init(elapsed: Duration, progress: Double) {
            self.elapsed = elapsed
            self.progress = progress
        }
    }

    /// The first poll, at 60 % of the learned low end of the service time.
    public func firstDelay(_ timing: LearnedTiming) -> Duration {
        (timing.low * 0.6).clamped(minimumFirst, maximumFirst)
    }

    /// The expected finish (time since acceptance) and whether it can be aimed at exactly.
    public func expectedFinish(_ inputs: Inputs) -> (finish: Duration, exact: Bool) {
        let timing = inputs.timing
        let usable = inputs.readings.filter { $0.progress > 0.01 && $0.progress < 1 }
        if let last = usable.last, let first = usable.first(where: { last.progress - $0.progress >= 0.05 }) {
            // The rate between two readings: progress grows about linearly.
            let rate = (last.progress - first.progress) / (last.elapsed - first.elapsed).seconds
            if rate > 0 {
                let finish = last.elapsed + .seconds((1 - last.progress) / rate)
                return (finish.clamped(inputs.elapsed, timing.high * 4), true)
            }
        }
        if let last = usable.last {
            // One reading: T = t / ((1 - c)·p + c), with c the endpoint's learned pending share.
            let c = timing.pendingShare ?? 0
            let finish = last.elapsed / ((1 - c) * last.progress + c)
            if timing.pendingShare != nil { return (finish.clamped(timing.low * 0.5, timing.high * 4), true) }
            return (finish.clamped(timing.low, timing.high), false)
        }
        return (timing.median, false)
    }

    /// How long to wait before the next poll.
    public func delay(_ inputs: Inputs) -> Duration {
        let (finish, exact) = expectedFinish(inputs)
        if inputs.elapsed < finish {
            let left = finish - inputs.elapsed
            if exact { return min(maximum, left + margin) }
            // Not sure: approach in steps that still leave room to read progress on the way.
            return min(maximum, max(short, left / 2 + margin))
        }
        if inputs.elapsed < inputs.timing.high * 1.25 { return short }
        var grown = short
        for _ in 0..<min(inputs.pollsPastExpected, 30) where grown < maximum { grown = grown * 1.5 }
        return min(maximum, grown)
    }
}

/// What has been learned about one model's service time on one endpoint: recent durations
/// (for the median and the spread) and the share of the time a task spends before its
/// progress starts moving.
public struct LearnedTiming: Sendable, Hashable, Codable {
    /// Recent service times in seconds, oldest first (at most `capacity`).
    public var durations: [Double]
    /// The pending share c in T = t / ((1 - c)·p + c), once learned.
    public var pendingShare: Double?
    /// The catalog's typical time, for before anything is learned.
    public var typical: Double

    public static let capacity = 64

    public init(durations: [Double] = [], pendingShare: Double? = nil, typical: Duration) {
        self.durations = durations
        self.pendingShare = pendingShare
        self.typical = typical.seconds
    }

    /// The value below which `fraction` of the durations lie (nil with fewer than 5).
    public func quantile(_ fraction: Double) -> Double? {
        guard durations.count >= 5 else { return nil }
        let sorted = durations.sorted()
        let index = min(sorted.count - 1, max(0, Int((Double(sorted.count - 1) * fraction).rounded())))
        return sorted[index]
    }

    /// The middle of what was learned (with fewer than five, of those few), else the typical time.
    public var center: Double {
        if let median = quantile(0.5) { return median }
        guard !durations.isEmpty else { return typical }
        let sorted = durations.sorted()
        return sorted[sorted.count / 2]
    }
    public var median: Duration { Self.duration(center) }
    /// The learned low end (5th percentile); with fewer than five durations, 75 % of the middle.
    public var low: Duration { Self.duration(quantile(0.05) ?? center * 0.75) }
    /// The learned high end (95th percentile); with fewer than five durations, 130 % of the middle.
    public var high: Duration { Self.duration(quantile(0.95) ?? center * 1.3) }

    /// The service times worth learning from: finite, positive, at most an hour.
    static func plausible(_ seconds: Double) -> Bool { seconds.isFinite && seconds > 0 && seconds <= 3600 }

    /// This timing with anything implausible dropped (one read from a ledger may have been
    /// written by anything).
    public func bounded() -> LearnedTiming {
        var copy = self
        copy.durations = Array(durations.filter(Self.plausible).suffix(Self.capacity))
        if let share = pendingShare, !(share.isFinite && (0...0.9).contains(share)) { copy.pendingShare = nil }
        if !Self.plausible(typical) { copy.typical = 10 }
        return copy
    }

    /// Adds a measured service time, and what the readings say of the pending share.
    public mutating func learn(seconds: Double, readings: [PollCadence.Reading]) {
        guard Self.plausible(seconds) else { return }
        durations.append(seconds)
        if durations.count > Self.capacity { durations.removeFirst(durations.count - Self.capacity) }
        let shares = readings.compactMap { reading -> Double? in
            guard reading.progress > 0.05, reading.progress < 0.95 else { return nil }
            let t = reading.elapsed.seconds
            let share = (t / seconds - reading.progress) / (1 - reading.progress)
            return share.isFinite ? min(0.9, max(0, share)) : nil
        }
        guard !shares.isEmpty else { return }
        let measured = shares.reduce(0, +) / Double(shares.count)
        pendingShare = pendingShare.map { $0 * 0.7 + measured * 0.3 } ?? measured
    }

    static func duration(_ seconds: Double) -> Duration {
        WireNumber.duration(seconds: seconds, clampedTo: 0...86_400) ?? .seconds(3600)
    }
}

extension Duration {
    /// This duration, brought within `low`…`high`.
    func clamped(_ low: Duration, _ high: Duration) -> Duration { Swift.min(Swift.max(self, low), Swift.max(low, high)) }
}
