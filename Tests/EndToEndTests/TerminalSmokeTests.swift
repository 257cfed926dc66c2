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

        /// The next line, or nil at end of file or when nothing comes for `seconds` (so a
        /// broken program fails the test instead of hanging the run).
        func next(within seconds: Double = 60) async -> String? {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(returning: self.readLine(within: seconds)) }
            }
        }

        /// The next line before `deadline` (nil after it).
        func next(before deadline: ContinuousClock.Instant) async -> String? {
            let left = deadline - .now
            guard left > .zero else { return nil }
            return await next(within: Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18)
        }

        private func readLine(within seconds: Double) -> String? {
            while true {
                if let newline = pending.firstIndex(of: "\n") {
                    let line = String(pending[..<newline])
                    pending = String(pending[pending.index(after: newline)...])
                    return line
                }
                var wait = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
                guard poll(&wait, 1, Int32(max(1, min(600_000, seconds * 1000)))) > 0 else { return nil }
                let data = handle.availableData
                if data.isEmpty { return nil }
                pending += String(decoding: data, as: UTF8.self)
            }
        }

        /// Reads until a line contains `text`.
        func wait(containing text: String) async -> String? {
            while let line = await next() {
                if line.contains(text) { return line }
            }
            return nil
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

    /// tmux through `ChildProcess`: Foundation's Process misses the exit of a tmux client that
    /// has just forked its server, and its inheritable pipes would be held by that server.
    func tmuxBlocking(_ arguments: [String], capture: Bool) throws -> String {
        let outcome = try ChildProcess.runBlocking("/usr/bin/tmux", arguments, environment: ProcessInfo.processInfo.environment,
                                                   deadline: .seconds(30))
        return capture ? outcome.stdout : ""
    }

    /// A `terminal-check` running in a tmux server of its own, reporting frames on a FIFO.
    struct CheckRun {
        let directory: URL
        let socket: String
        let lines: Lines

        func stop(_ smoke: TerminalSmokeTests) {
            _ = try? smoke.tmuxBlocking(["-L", socket, "kill-server"], capture: false)
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// Starts `env <variables> fluxdeck terminal-check <flags>` at 80×24; after it exits the
    /// shell prints `exit=<status>`, runs `afterExit`, and signals `finished`.
    func startCheck(variables: String, flags: String, afterExit: String) async throws -> CheckRun {
        let binary = try BinaryRunner.binaryURL().path
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-tmux-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let fifo = directory.appendingPathComponent("frames").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let socket = "fluxdeck-test-\(UUID().uuidString.prefix(8))"
        let command = "env \(variables) '\(binary)' terminal-check \(flags) --notify '\(fifo)' 2>/dev/null; "
            + "echo \"exit=$?\"; \(afterExit)tmux -L \(socket) wait-for -S finished; read x"
        _ = try await tmux(["-L", socket, "new-session", "-d", "-s", "t", "-x", "80", "-y", "24", command], capture: false)
        // Opened for reading and writing, which never blocks (a read-only open would wait for the
        // program for ever); the reads have their own deadline. Foundation's handles refuse FIFOs.
        let descriptor = open(fifo, O_RDWR | O_CLOEXEC)
        #expect(descriptor >= 0)
        return CheckRun(directory: directory, socket: socket, lines: Lines(FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)))
    }

    @Test("box characters, CJK, a colour, a resize, keys, and a clean exit", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")))
    func smoke() async throws {
        // After the program, the shell says how it ended and signals the test through tmux.
        // The test runner may set NO_COLOR when its output is not a terminal; this check wants colour.
        let run = try await startCheck(variables: "-u NO_COLOR LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=tmux-256color", flags: "", afterExit: "")
        defer { run.stop(self) }
        let (socket, lines) = (run.socket, run.lines)
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

    @Test("a crash (a Swift trap) restores the terminal: cooked mode, no alternate screen, no paste mode",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")))
    func crashRestores() async throws {
        let run = try await startCheck(variables: "LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=tmux-256color SWIFT_BACKTRACE=enable=no",
                                       flags: "--crash-on-x", afterExit: "stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon'; ")
        defer { run.stop(self) }
        let (socket, lines) = (run.socket, run.lines)
        #expect(await lines.wait(for: "drawn 80x24") != nil)
        _ = try await tmux(["-L", socket, "send-keys", "-t", "t", "x"], capture: false)
        _ = try await tmux(["-L", socket, "wait-for", "finished"], capture: false)
        let after = try await tmux(["-L", socket, "capture-pane", "-p", "-t", "t"])
        // Died of the trap (SIGILL or SIGTRAP), not of anything else, and said nothing odd.
        #expect(after.contains("exit=132") || after.contains("exit=133"), "\(after)")
        #expect(after.split(separator: "\n").contains("icanon"), "the terminal is back in cooked mode:\n\(after)")
        #expect(!after.contains("fluxdeck terminal check"), "the alternate screen was left")
        let modes = try await tmux(["-L", socket, "display-message", "-p", "-t", "t", "#{alternate_on}"])
        #expect(modes.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test("an unknown TERM is one sentence and exit 2, not ncurses ending the process")
    func unknownTerm() async throws {
        let outcome = try await BinaryRunner.run(["terminal-check"], environment: ["TERM": "no-such-terminal-type"], deadline: .seconds(20))
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("the terminal type \"no-such-terminal-type\" is unknown"), "\(outcome.stderr)")
        #expect(outcome.stderr.split(separator: "\n").count == 1)
    }
}
