import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Child processes for the end-to-end tests, started with posix_spawn and always bounded.
///
/// Foundation's `Process` is not used: on Linux its pipes are inheritable, so a tmux server
/// started at the same moment by a parallel test keeps their write ends open and a read to the
/// end never finishes; and it has been seen to miss a child's exit. Here every pipe is
/// close-on-exec, the wait is a blocking `waitpid` on a thread of our own, and each run has a
/// deadline after which the child is killed and the outcome says so, so that a hang becomes a
/// failing test with what the child printed, never a stuck test run.
struct ChildProcess: Sendable {
    struct Outcome: Sendable {
        /// The exit status, or 128 + the signal that ended the child.
        var status: Int32
        var stdout: String
        var stderr: String
        /// The deadline passed and the child was killed.
        var timedOut: Bool
    }

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    let pid: pid_t

    /// Starts `path` with `arguments` and exactly `environment`. Standard input is /dev/null;
    /// standard output and error go to the given descriptors (or /dev/null when nil).
    static func start(_ path: String, _ arguments: [String], environment: [String: String],
                      stdout: Int32? = nil, stderr: Int32? = nil) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let stdout {
            posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        if let stderr {
            posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // Threads that spawn (Dispatch workers) block most signals, and a child inherits that
        // mask: a tmux server started so cannot be stopped by kill-server (its SIGTERM stays
        // blocked), and a studio never hears SIGHUP. The child starts with no signal blocked and
        // every signal at its default.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let result = spawnLock.withLock { posix_spawn(&pid, path, &actions, &attributes, argv, envp) }
        guard result == 0 else { throw SpawnError(description: "cannot start \(path): \(String(cString: strerror(result)))") }
        return ChildProcess(pid: pid)
    }

    /// Sends `signal` to the child.
    func send(_ signal: Int32) { kill(pid, signal) }

    /// Waits, off the Swift concurrency pool, until the child ends; its status as `waitBlocking`.
    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.waitBlocking()) }
        }
    }

    /// Its status as `waitBlocking`, or nil when it has not ended within `seconds` (a broken
    /// build fails the test instead of hanging it; the child is reaped when it does end).
    func wait(within seconds: Double) async -> Int32? {
        let once = Once()
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let status = self.waitBlocking()
                if once.claim() { continuation.resume(returning: status) }
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                if once.claim() { continuation.resume(returning: nil) }
            }
        }
    }

    /// True for the first caller only.
    private final class Once: Sendable {
        private let taken = Mutex(false)
        func claim() -> Bool { taken.withLock { done in defer { done = true }; return !done } }
    }

    /// Blocks until the child ends; returns its status (128 + signal when a signal ended it).
    /// Call it off the Swift concurrency pool.
    func waitBlocking() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Runs a program to its end, capturing both outputs, within `deadline`. The blocking
    /// work happens on a Dispatch thread, never on the concurrency pool, which in-process
    /// servers of the same test need.
    static func run(_ path: String, _ arguments: [String], environment: [String: String],
                    deadline: Duration = .seconds(90)) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runBlocking(path, arguments, environment: environment, deadline: deadline) })
            }
        }
    }

    static func runBlocking(_ path: String, _ arguments: [String], environment: [String: String],
                            deadline: Duration) throws -> Outcome {
        let out = try closeOnExecPipe()
        let err = try closeOnExecPipe()
        let child: ChildProcess
        do {
            child = try start(path, arguments, environment: environment, stdout: out.write, stderr: err.write)
        } catch {
            [out.read, out.write, err.read, err.write].forEach { _ = close($0) }
            throw error
        }
        close(out.write)
        close(err.write)
        defer {
            close(out.read)
            close(err.read)
        }
        var captured: [Int32: [UInt8]] = [out.read: [], err.read: []]
        var open = [out.read, err.read]
        let start = ContinuousClock.now
        let end = start + deadline
        var timedOut = false
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while !open.isEmpty {
            let remaining = ContinuousClock.now.duration(to: timedOut ? end + .seconds(5) : end)
            if remaining <= .zero {
                if timedOut { break }
                timedOut = true
                child.send(SIGKILL)
                continue
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let milliseconds = Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&fds, nfds_t(fds.count), milliseconds)
            if ready < 0 && errno != EINTR { break }
            for entry in fds where entry.revents != 0 {
                let n = read(entry.fd, &chunk, chunk.count)
                if n > 0 {
                    captured[entry.fd, default: []] += chunk[0..<n]
                } else if n == 0 || errno != EINTR {
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        // The outputs are closed; the child may still be finishing. Bound that too.
        let watchdog = DispatchWorkItem { child.send(SIGKILL) }
        let left = ContinuousClock.now.duration(to: end)
        let seconds = Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + max(0.001, seconds), execute: watchdog)
        let status = child.waitBlocking()
        watchdog.cancel()
        if status == 128 + SIGKILL, !timedOut, ContinuousClock.now >= end { timedOut = true }
        var stderr = String(decoding: captured[err.read] ?? [], as: UTF8.self)
        if timedOut {
            stderr += "\n[test: \(URL(fileURLWithPath: path).lastPathComponent) \(arguments.joined(separator: " ")) was killed after \(deadline)]"
        }
        return Outcome(status: status, stdout: String(decoding: captured[out.read] ?? [], as: UTF8.self), stderr: stderr,
                       timedOut: timedOut)
    }

    /// A pipe whose ends no other child inherits.
    /// (Glibc's pipe2 is not visible from Swift, so the flag is set just after, under the lock
    /// every spawn here takes, so no child of ours can start in between.)
    static func closeOnExecPipe() throws -> (read: Int32, write: Int32) {
        try spawnLock.withLock {
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else {
                throw SpawnError(description: "cannot make a pipe: \(String(cString: strerror(errno)))")
            }
            _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
            return (ends[0], ends[1])
        }
    }

    /// Serialises making pipes and spawning.
    private static let spawnLock = NSLock()
}

import Testing

@Suite("Child processes of the tests")
struct ChildProcessTests {
    @Test("a child past its deadline is killed, and what it printed is kept")
    func deadline() async throws {
        // Long enough for a shell to print on a loaded machine; the child never ends by itself.
        let outcome = try await ChildProcess.run("/bin/sh", ["-c", "echo started; exec tail -f /dev/null"], environment: [:],
                                                 deadline: .seconds(3))
        #expect(outcome.timedOut)
        #expect(outcome.status == 128 + SIGKILL)
        #expect(outcome.stdout == "started\n")
        #expect(outcome.stderr.contains("was killed after"))
    }

    @Test("exit status and both outputs")
    func outputs() async throws {
        let outcome = try await ChildProcess.run("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], environment: [:])
        #expect(!outcome.timedOut)
        #expect(outcome.status == 3)
        #expect(outcome.stdout == "out\n")
        #expect(outcome.stderr == "err\n")
    }
}
