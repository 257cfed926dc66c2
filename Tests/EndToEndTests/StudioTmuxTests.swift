import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real binary's studio in tmux: type, submit, see progress, resize to 80×24, quit.
@Suite("Studio in tmux", .timeLimit(.minutes(2)))
struct StudioTmuxTests {
    let smoke = TerminalSmokeTests()

    @Test("type, submit four images, watch them finish, resize, quit with the terminal restored",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")))
    func studio() async throws {
        let binary = try BinaryRunner.binaryURL().path
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-studio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("frames").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let socket = "fluxdeck-studio-\(UUID().uuidString.prefix(8))"
        // A stand-in xdg-open records what it was given and whether it saw the key.
        let bin = directory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let opener = bin.appendingPathComponent("xdg-open")
        let script = """
            #!/bin/sh
            { echo "args: $*"; echo "key: $(env | grep -c '^BFL_API_KEY=')"; } > '\(directory.path)/opened.txt'
            tmux -L \(socket) wait-for -S opened
            """
        // Written through a close-on-exec descriptor: a child spawned meanwhile by a parallel
        // test must not keep it open for writing, or running the script fails (ETXTBSY).
        let scriptFile = open(opener.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        #expect(scriptFile >= 0)
        _ = script.withCString { write(scriptFile, $0, strlen($0)) }
        close(scriptFile)
        // A key is set, and --simulator still wins: helpers must not inherit the key.
        let unset = (["NO_COLOR", "DISPLAY", "WAYLAND_DISPLAY"] + BinaryRunner.notInherited).map { "-u \($0)" }.joined(separator: " ")
        let command = "cd '\(directory.path)' && env \(unset) HOME='\(directory.path)' "
            + "XDG_DATA_HOME='\(directory.path)/data' LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=tmux-256color "
            + "BFL_API_KEY=test_key_never_shown_0123456789 PATH='\(bin.path)':\"$PATH\" "
            + "'\(binary)' --simulator --sim-time-scale 0.05 --notify '\(fifo)'; echo \"exit=$?\"; tmux -L \(socket) wait-for -S finished; read x"
        _ = try await smoke.tmux(["-L", socket, "new-session", "-d", "-s", "t", "-x", "120", "-y", "40", command], capture: false)
        defer { _ = try? smoke.tmuxBlocking(["-L", socket, "kill-server"], capture: false) }
        // Opened for reading and writing, which never blocks (a read-only open would wait for the
        // program for ever); the reads have their own deadline. Foundation's handles refuse FIFOs.
        let descriptor = open(fifo, O_RDWR | O_CLOEXEC)
        #expect(descriptor >= 0)
        let lines = TerminalSmokeTests.Lines(FileHandle(fileDescriptor: descriptor, closeOnDealloc: true))
        #expect(await lines.wait(for: "frame 120x40") != nil)
        let first = try await smoke.tmux(["-L", socket, "capture-pane", "-p", "-t", "t"])
        #expect(first.contains("SIMULATOR — no credits spent"))
        #expect(first.contains("No jobs yet."))

        _ = try await smoke.tmux(["-L", socket, "send-keys", "-t", "t", "-l", "a lighthouse at dusk"], capture: false)
        _ = try await smoke.tmux(["-L", socket, "send-keys", "-t", "t", "Tab", "Down", "Down", "Down", "+", "+", "+"], capture: false)
        // Enter in the same read as text would be part of a paste: send it once the count shows.
        #expect(await lines.wait(containing: "count=4") != nil)
        _ = try await smoke.tmux(["-L", socket, "send-keys", "-t", "t", "Enter"], capture: false)
        // Under load the first frame after Enter may already show some jobs done.
        #expect(await lines.wait(for: "frame 120x40 jobs=4") != nil)
        #expect(await lines.wait(for: "frame 120x40 jobs=4 running=0 done=4") != nil)
        let done = try await smoke.tmux(["-L", socket, "capture-pane", "-p", "-t", "t"])
        #expect(done.contains("Outputs · 4"))
        #expect(done.contains("a lighthouse at dusk"))
        let saved = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("Pictures/fluxdeck").path)
        #expect(saved.filter { $0.hasSuffix(".jpg") }.count == 4)

        _ = try await smoke.tmux(["-L", socket, "resize-window", "-t", "t", "-x", "80", "-y", "24"], capture: false)
        #expect(await lines.wait(for: "frame 80x24") != nil)
        let small = try await smoke.tmux(["-L", socket, "capture-pane", "-p", "-t", "t"])
        #expect(small.contains("Outputs · 4"))
        #expect(small.split(separator: "\n").allSatisfy { $0.count <= 80 })

        // Outputs: open the newest image with the system viewer, then copy its path.
        // A mouse click (X10 encoding, as the terminal would send it) focuses the outputs pane.
        func click(_ x: Int, _ y: Int) -> String {
            "\u{1B}[M" + String(UnicodeScalar(UInt8(32))) + String(UnicodeScalar(UInt8(33 + x))) + String(UnicodeScalar(UInt8(33 + y)))
        }
        _ = try await smoke.tmux(["-L", socket, "send-keys", "-t", "t", "-l", click(60, 18)], capture: false)
        _ = try await smoke.tmux(["-L", socket, "send-keys", "-t", "t", "o"], capture: false)
        _ = try await smoke.tmux(["-L", socket, "wait-for", "opened"], capture: false)
        let opened = try String(contentsOf: directory.appendingPathComponent("opened.txt"), encoding: .utf8)
        #expect(opened.contains("args: \(directory.path)/Pictures/fluxdeck/"), "\(opened)")
        #expect(opened.contains(".jpg"))
        #expect(opened.contains("key: 0"), "\(opened)")
        _ = try await smoke.tmux(["-L", socket, "send-keys", "-t", "t", "y"], capture: false)
        #expect(await lines.wait(containing: "message=copied the path (terminal clipboard)") != nil)
        let copied = try await smoke.tmux(["-L", socket, "capture-pane", "-p", "-t", "t"])
        #expect(copied.contains("copied the path (terminal clipboard)"), "\(copied)")
        #expect(!copied.contains("test_key_never_shown"))

        _ = try await smoke.tmux(["-L", socket, "send-keys", "-t", "t", "C-q"], capture: false)
        // Only wait for the shell's signal once the program said it stopped: a program that
        // never stops must fail the test, not hang the run.
        let stopped = await lines.wait(for: "stopped")
        #expect(stopped != nil)
        guard stopped != nil else { return }
        _ = try await smoke.tmux(["-L", socket, "wait-for", "finished"], capture: false)
        let after = try await smoke.tmux(["-L", socket, "capture-pane", "-p", "-t", "t"])
        #expect(after.contains("exit=0"))
        #expect(!after.contains("SIMULATOR"))

        // Nothing was printed while curses owned the screen; the log file has the story.
        let log = try String(contentsOf: directory.appendingPathComponent(".local/state/fluxdeck/fluxdeck.log"), encoding: .utf8)
        #expect(log.contains("studio started on the built-in simulator"))
        #expect(log.split(separator: "\n").filter { $0.contains("model=flux-2-pro phase=done") }.count == 4, "\(log)")
        #expect(log.contains("studio stopped; 0 job(s) still running"))
        // The log names prompts: its folder is 0700 and the file 0600.
        let logPath = directory.appendingPathComponent(".local/state/fluxdeck/fluxdeck.log").path
        #expect((try FileManager.default.attributesOfItem(atPath: logPath)[.posixPermissions] as? Int) == 0o600)
        #expect((try FileManager.default.attributesOfItem(atPath: (logPath as NSString).deletingLastPathComponent)[.posixPermissions] as? Int) == 0o700)
    }
}
