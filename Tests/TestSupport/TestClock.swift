import Synchronization

/// A clock that moves only when a test says so. Sleepers wake when `advance(by:)` passes their
/// deadline; tests wait for sleeps to be requested with `sleeps(atLeast:)` instead of sleeping.
public final class TestClock: Clock, Sendable {
    public struct Instant: InstantProtocol {
        public var offset: Duration
        public init(offset: Duration) { self.offset = offset }
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private struct Sleeper {
        var id: Int
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Waiter {
        var id: Int
        var count: Int
        var continuation: CheckedContinuation<[Duration], Never>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var cancelled: Set<Int> = []
        var nextID = 0
        var requested: [Duration] = []
        var waiters: [Waiter] = []
    }

    private let state = Mutex(State())

    public init() {}

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }

    /// Every sleep requested so far, in order, as durations from the time of the request.
    public var requestedSleeps: [Duration] { state.withLock { $0.requested } }

    /// When the sleepers waiting now wake, as offsets from the start, earliest first.
    public var pendingDeadlines: [Duration] { state.withLock { $0.sleepers.map(\.deadline.offset).sorted() } }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (outcome, ready) = state.withLock { s -> (Result<Void, any Error>?, [Waiter]) in
                    s.requested.append(s.now.duration(to: deadline))
                    let ready = Self.takeReadyWaiters(&s)
                    if s.cancelled.remove(id) != nil { return (.failure(CancellationError()), ready) }
                    if deadline <= s.now { return (.success(()), ready) }
                    s.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return (nil, ready)
                }
                for waiter in ready { waiter.continuation.resume(returning: requestedSleeps) }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                if let index = s.sleepers.firstIndex(where: { $0.id == id }) {
                    return s.sleepers.remove(at: index)
                }
                s.cancelled.insert(id)
                return nil
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has passed.
    public func advance(by duration: Duration) {
        let due = state.withLock { s -> [Sleeper] in
            s.now = s.now.advanced(by: duration)
            let now = s.now
            let due = s.sleepers.filter { $0.deadline <= now }
            s.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Waits until at least `count` sleeps have been requested; returns all requested so far.
    /// After `limit` of real time it returns what there is, so a broken test fails on its
    /// expectations instead of hanging the run.
    public func sleeps(atLeast count: Int, limit: Duration = .seconds(30)) async -> [Duration] {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        let timer = Task { [weak self] in
            try await ContinuousClock().sleep(for: limit)
            self?.giveUp(waiter: id)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> [Duration]? in
                if s.requested.count >= count { return s.requested }
                s.waiters.append(Waiter(id: id, count: count, continuation: continuation))
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func giveUp(waiter id: Int) {
        let (waiter, requested) = state.withLock { s -> (Waiter?, [Duration]) in
            guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return (nil, s.requested) }
            return (s.waiters.remove(at: index), s.requested)
        }
        waiter?.continuation.resume(returning: requested)
    }

    private static func takeReadyWaiters(_ s: inout State) -> [Waiter] {
        let ready = s.waiters.filter { $0.count <= s.requested.count }
        s.waiters.removeAll { $0.count <= s.requested.count }
        return ready
    }
}
