import Foundation
@testable import Jobs
import Testing

/// `RunnerRecord.isGone` decides whether another process may take over paid jobs: each way it
/// can answer, and the clock and pid cases that once made a live runner look gone.
@Suite("Runner liveness")
struct RunnerTests {
    static let now = Date(timeIntervalSince1970: 2_000_000_000)
    static let host = "this-host"

    /// This process as a runner last heard from `age` seconds before `now`.
    static func me(heartbeatAge age: TimeInterval, processStart: String? = nil, host: String = host) throws -> RunnerRecord {
        var record = RunnerRecord.current(now: now.addingTimeInterval(-age))
        record.host = host
        if let processStart { record.processStart = processStart }
        return record
    }

    @Test("a live process on this host is not gone, however old its heartbeat looks (a wall clock that jumped ahead)")
    func liveLocal() throws {
        #expect(RunnerRecord.current(now: Self.now).processStart != ProcessStart.unknown, "this host's start times cannot be read")
        #expect(!(try Self.me(heartbeatAge: 0)).isGone(now: Self.now, localHost: Self.host))
        #expect(!(try Self.me(heartbeatAge: 3_600)).isGone(now: Self.now, localHost: Self.host))
        // A clock that jumped back: the heartbeat is in the future.
        #expect(!(try Self.me(heartbeatAge: -3_600)).isGone(now: Self.now, localHost: Self.host))
    }

    @Test("on this host, a pid reused by a later process, or no process at all, is gone at once")
    func reusedOrDeadPid() throws {
        // This process's pid, with another start time: a later process that reuses the pid.
        #expect(try Self.me(heartbeatAge: 0, processStart: "1").isGone(now: Self.now, localHost: Self.host))
        var dead = try Self.me(heartbeatAge: 0)
        dead.pid = Int32.max - 7
        #expect(dead.isGone(now: Self.now, localHost: Self.host))
    }

    @Test("on another host the heartbeat decides: fresh is alive, silent past staleAfter is gone, one from the future is alive")
    func remote() throws {
        let stale = RunnerRecord.staleAfter
        #expect(!(try Self.me(heartbeatAge: 0, host: "elsewhere")).isGone(now: Self.now, localHost: Self.host))
        #expect(!(try Self.me(heartbeatAge: stale - 1, host: "elsewhere")).isGone(now: Self.now, localHost: Self.host))
        #expect(try Self.me(heartbeatAge: stale + 1, host: "elsewhere").isGone(now: Self.now, localHost: Self.host))
        #expect(!(try Self.me(heartbeatAge: -3_600, host: "elsewhere")).isGone(now: Self.now, localHost: Self.host))
        // The pid means nothing there: a pid that is dead here says nothing about it.
        var far = try Self.me(heartbeatAge: 0, host: "elsewhere")
        far.pid = Int32.max - 7
        #expect(!far.isGone(now: Self.now, localHost: Self.host))
    }

    @Test("a runner whose start time could not be read is judged by its heartbeat, even here")
    func unknownStart() throws {
        #expect(!(try Self.me(heartbeatAge: 1, processStart: ProcessStart.unknown)).isGone(now: Self.now, localHost: Self.host))
        #expect(try Self.me(heartbeatAge: RunnerRecord.staleAfter + 1, processStart: ProcessStart.unknown).isGone(now: Self.now, localHost: Self.host))
    }
}
