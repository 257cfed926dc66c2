import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real studio in a tmux server of its own, reporting each frame on a FIFO. `stop()` kills
/// the tmux server (and so the studio); call it on every path.
struct StudioRig {
    let smoke = TerminalSmokeTests()
    let socket: String
    let lines: TerminalSmokeTests.Lines

    /// Starts `fluxdeck <arguments>` in `directory` with `environment` (HOME and the XDG folders
    /// belong there), at 120×40.
    static func start(_ arguments: [String], in directory: URL, environment: [String: String], binary: String? = nil) async throws -> StudioRig {
        let binary = try binary ?? BinaryRunner.binaryURL().path
        let fifo = directory.appendingPathComponent("frames-\(UUID().uuidString.prefix(6))").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let socket = "fluxdeck-rig-\(UUID().uuidString.prefix(8))"
        let variables = environment.map { "\($0.key)='\($0.value)'" }.sorted().joined(separator: " ")
        let quoted = arguments.map { "'\($0)'" }.joined(separator: " ")
        let unset = (["NO_COLOR"] + BinaryRunner.notInherited).map { "-u \($0)" }.joined(separator: " ")
        let command = "cd '\(directory.path)' && env \(unset) LANG=C.UTF-8 LC_ALL=C.UTF-8 "
            + "TERM=tmux-256color \(variables) '\(binary)' \(quoted) --notify '\(fifo)'; echo \"exit=$?\"; "
            + "tmux -L \(socket) wait-for -S finished; read x"
        let rig = StudioRig(socket: socket, lines: try Self.open(fifo))
        _ = try await rig.smoke.tmux(["-L", socket, "new-session", "-d", "-s", "t", "-x", "120", "-y", "40", command], capture: false)
        return rig
    }

    private static func open(_ fifo: String) throws -> TerminalSmokeTests.Lines {
        // Read-write: opening never blocks; reads have their own deadline.
        let descriptor = Glibc.open(fifo, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { throw CocoaError(.fileReadNoPermission) }
        return TerminalSmokeTests.Lines(FileHandle(fileDescriptor: descriptor, closeOnDealloc: true))
    }

    func keys(_ keys: String...) async throws {
        _ = try await smoke.tmux(["-L", socket, "send-keys", "-t", "t"] + keys, capture: false)
    }

    func literal(_ text: String) async throws {
        _ = try await smoke.tmux(["-L", socket, "send-keys", "-t", "t", "-l", text], capture: false)
    }

    /// Pastes `text` as a terminal would: `bracketed` wraps it in the paste markers (the studio
    /// asked for them); without, line ends arrive as carriage returns like typed Enters.
    func paste(_ text: String, bracketed: Bool) async throws {
        let buffer = "b\(UUID().uuidString.prefix(6))"
        _ = try await smoke.tmux(["-L", socket, "set-buffer", "-b", buffer, text], capture: false)
        _ = try await smoke.tmux(["-L", socket, "paste-buffer", "-d", "-b", buffer, "-t", "t"] + (bracketed ? ["-p"] : []), capture: false)
    }

    func screen() async throws -> String {
        try await smoke.tmux(["-L", socket, "capture-pane", "-p", "-t", "t"])
    }

    /// Reads frame lines until one contains every piece; nil when frames stop or none has
    /// come within `seconds` (a broken studio fails the test in bounded time, even one that
    /// keeps drawing).
    func frame(containing pieces: String..., within seconds: Double = 90) async -> String? {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while let line = await lines.next(before: deadline) {
            if pieces.allSatisfy(line.contains) { return line }
        }
        return nil
    }

    /// Waits until the studio has exited, and returns the screen (which ends in `exit=N`).
    func exited() async throws -> String {
        _ = try await smoke.tmux(["-L", socket, "wait-for", "finished"], capture: false)
        return try await screen()
    }

    /// Waits, frame by frame, until the screen shows `text` (false when frames stop first, or
    /// after `frames` frames or `seconds`).
    func screen(showing text: String, frames: Int = 40, within seconds: Double = 60) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        for _ in 0..<frames {
            if try await screen().contains(text) { return true }
            guard await lines.next(before: deadline) != nil else { break }
        }
        return try await screen().contains(text)
    }

    /// Whether the terminal shows `text` once the studio has stopped drawing (what it prints
    /// after closing its screen): the pane is read until it does, for `seconds` at most.
    func screenOnceFramesEnd(showing text: String, within seconds: Double = 30) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await screen().contains(text) { return true }
            // Frames have ended; nothing else announces the text, so the pane is read again soon.
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await screen().contains(text)
    }

    /// The screen once it shows `text`, or as it is when frames stop first (for the message).
    func screenAfter(showing text: String, frames: Int = 40) async throws -> String {
        _ = try await screen(showing: text, frames: frames)
        return try await screen()
    }

    func stop() {
        _ = try? smoke.tmuxBlocking(["-L", socket, "kill-server"], capture: false)
    }
}
