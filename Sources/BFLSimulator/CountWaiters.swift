import Foundation

/// Callers of the core waiting for a count (submissions, webhook attempts) to reach their
/// threshold, each of which gives up after a deadline of real time (a safety net for tests,
/// whatever the core's clock).
final class CountWaiters<Value: Sendable> {
    private var waiting: [UUID: (count: Int, continuation: CheckedContinuation<Value, Never>)] = [:]

    var isEmpty: Bool { waiting.isEmpty }

    func add(_ id: UUID, count: Int, _ continuation: CheckedContinuation<Value, Never>) {
        waiting[id] = (count, continuation)
    }

    /// Resumes everyone whose threshold `count` has reached.
    func resume(reached count: Int, with value: Value) {
        for (id, waiter) in waiting where waiter.count <= count {
            waiting.removeValue(forKey: id)
            waiter.continuation.resume(returning: value)
        }
    }

    /// Resumes one waiter (its deadline passed), if it is still waiting.
    func resume(_ id: UUID, with value: Value) {
        waiting.removeValue(forKey: id)?.continuation.resume(returning: value)
    }
}

extension SimulatorCore {
    /// Waits in `waiters` (owned by the core) until its count reaches `count`, or until `limit`
    /// of real time passed, then returns `expired()`.
    func wait<Value: Sendable>(in waiters: CountWaiters<Value>, count: Int, limit: Duration,
                               expired: @escaping () -> Value) async -> Value {
        let id = UUID()
        // Isolated to the core, like `waiters`; cancelled as soon as the wait ends.
        let timer = Task {
            try await ContinuousClock().sleep(for: limit)
            self.expire(id, in: waiters, with: expired)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { waiters.add(id, count: count, $0) }
    }

    private func expire<Value: Sendable>(_ id: UUID, in waiters: CountWaiters<Value>, with expired: () -> Value) {
        waiters.resume(id, with: expired())
    }
}
