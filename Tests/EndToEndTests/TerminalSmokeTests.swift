import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs `fluxdeck terminal-check` on the real ncurses backend inside tmux and reads the screen
/// back. The program reports each frame on a FIFO, so the test waits on that, never on a timer.
@Suite("ncurses backend in tmux", .timeLimit(.minutes(1)))
struct TerminalSmokeTests {
    /// Blocking reads of the FIFO, off the Swift concurrency pool.
    final class Lines: @unchecked Sendable {
        private let handle: FileHandle
        private var pending = ""
        init(_ handle: FileHandle) { self.handle = handle }

        func next() async -> String? {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(returning: self.readLine()) }
            }
        }

        /// The next line, or nil at end of file or when nothing comes for a minute (so a
        /// broken program fails the test instead of hanging the run).
        private func readLine() -> String? {
            while true {
                if let newline = pending.firstIndex(of: "\n") {
                    let line = String(pending[..<newline])
                    pending = String(pending[pending.index(after: newline)...])
                    return line
                }
                var wait = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
                guard poll(&wait, 1, 60_000) > 0 else { return nil }
                let data = handle.availableData
                if data.isEmpty { return nil }
                pending += String(decoding: data, as: UTF8.self)
            }
        }

        /// Reads until a line starts with `prefix`.
        func wait(for prefix: String) async -> String? {
            while let line = await next() {
                if line.hasPrefix(prefix) { return line }
            }
            return nil
        }
    }

    /// Runs a tmux client. `capture` only for commands that print: a server started by the
    /// call would inherit the pipe and keep it open for ever.
    func tmux(_ arguments: [String], capture: Bool = true) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try tmuxBlocking(arguments, capture: capture) })
            }
        }
    }

    /// posix_spawn and waitpid directly: Foundation's Process misses the exit of a tmux
    /// client that has just forked its server, and would wait for ever.
    func tmuxBlocking(_ arguments: [String], capture: Bool) throws -> String {
        var pipe: [Int32] = [0, 0]
        // Close-on-exec: a tmux server spawned meanwhile by a parallel test must not inherit
        // this pipe, or the read below would never see its end.
        guard Glibc.pipe(&pipe) == 0 else { throw CocoaError(.fileWriteUnknown) }
        _ = fcntl(pipe[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipe[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if capture {
            posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        posix_spawn_file_actions_addclose(&actions, pipe[1])
        let argv = (["tmux"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/tmux", &actions, nil, argv, environ)
        close(pipe[1])
        defer { close(pipe[0]) }
        guard spawned == 0 else { throw CocoaError(.executableLoad) }
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(pipe[0], &chunk, chunk.count)
            if n <= 0 { break }
            output += chunk[0..<n]
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return String(decoding: output, as: UTF8.self)
    }

    @Test("box characters, CJK, a colour, a resize, keys, and a clean exit", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")))
    func smoke() async throws {
        let binary = try BinaryRunner.binaryURL().path
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-tmux-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("frames").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let socket = "fluxdeck-test-\(UUID().uuidString.prefix(8))"
        // After the program, the shell says how it ended and signals the test through tmux.
        // The test runner may set NO_COLOR when its output is not a terminal; this check wants colour.
        let command = "env -u NO_COLOR LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=tmux-256color '\(binary)' terminal-check --notify '\(fifo)'; "
            + "echo \"exit=$?\"; tmux -L \(socket) wait-for -S finished; read x"
        _ = try await tmux(["-L", socket, "new-session", "-d", "-s", "t", "-x", "80", "-y", "24", command], capture: false)
        defer { _ = try? tmuxBlocking(["-L", socket, "kill-server"], capture: false) }

        // open(2) blocks until the program opens its end; Foundation's handles refuse FIFOs.
        let descriptor = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: open(fifo, O_RDONLY | O_CLOEXEC)) }
        }
        #expect(descriptor >= 0)
        let lines = Lines(FileHandle(fileDescriptor: descriptor, closeOnDealloc: true))
        #expect(await lines.wait(for: "drawn 80x24") != nil)
        let screen = try await tmux(["-L", socket, "capture-pane", "-p", "-t", "t"])
        #expect(screen.contains("┌─ fluxdeck terminal check ─"))
        #expect(screen.contains("┘"))
        #expect(screen.contains("CJK: 日本語のテキスト"))
        #expect(screen.contains("size: 80x24"))
        let colored = try await tmux(["-L", socket, "capture-pane", "-p", "-e", "-t", "t"])
        let redLine = try #require(colored.split(separator: "\n").first { $0.contains("red text") })
        #expect(redLine.contains("31m") || redLine.contains(";31"), "\(redLine.debugDescription)")

        _ = try await tmux(["-L", socket, "resize-window", "-t", "t", "-x", "100", "-y", "30"], capture: false)
        #expect(await lines.wait(for: "drawn 100x30") != nil)
        let resized = try await tmux(["-L", socket, "capture-pane", "-p", "-t", "t"])
        #expect(resized.contains("size: 100x30"))

        _ = try await tmux(["-L", socket, "send-keys", "-t", "t", "x"], capture: false)
        #expect(await lines.wait(for: "drawn 100x30 x") != nil)
        _ = try await tmux(["-L", socket, "send-keys", "-t", "t", "q"], capture: false)
        // Only wait for the shell's signal once the program said it stopped: a program that
        // never stops must fail the test, not hang the run.
        let stopped = await lines.wait(for: "stopped")
        #expect(stopped != nil)
        guard stopped != nil else { return }
        _ = try await tmux(["-L", socket, "wait-for", "finished"], capture: false)
        let after = try await tmux(["-L", socket, "capture-pane", "-p", "-t", "t"])
        #expect(after.contains("terminal restored"))
        #expect(after.contains("exit=0"))
        #expect(!after.contains("fluxdeck terminal check"))
    }
}
