import Foundation
import Testing
import TestSupport

/// The webhook receiver inside the studio: what it says goes to the log file and a notice,
/// never over the screen, and nothing a caller sends reaches the terminal raw.
@Suite("Studio in tmux: the webhook receiver", .timeLimit(.minutes(2)))
struct WebhookStudioTmuxTests {
    @Test("a stranger's call with escape sequences in its path: a sanitized notice and a log line, nothing painted over the studio, the title untouched",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")))
    func hostileCall() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let port = try #require(RawSocket.freePort())
        let rig = try await StudioRig.start(["--simulator", "--graphics", "blocks", "--webhook-listen", "127.0.0.1:\(port)",
                                             "--output-dir", sandbox.output.path],
                                            in: sandbox.root, environment: sandbox.environment)
        defer { rig.stop() }
        #expect(await rig.frame(containing: "frame 120x40") != nil)
        // A window title (OSC 0) and a clipboard write (OSC 52) in the path: raw, the HTTP
        // parser refuses them (400, nothing said); percent-encoded, they stay text.
        let caller = try #require(RawSocket(port: port))
        caller.send("POST /%1B]0;PWNED%07%1B]52;c;cHduZWQ=%07 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        let answer = try #require(await caller.readToEnd())
        #expect(answer.hasPrefix("HTTP/1.1 404"), "\(answer)")
        let screen = try await rig.screenAfter(showing: "refused (404)")
        #expect(screen.contains("webhook: refused (404)"), "\(screen)")
        // Not printed on stderr over the panes.
        #expect(!screen.contains("fluxdeck: webhook"), "\(screen)")
        let title = try await rig.smoke.tmux(["-L", rig.socket, "display-message", "-p", "-t", "t", "#{pane_title}"])
        #expect(!title.contains("PWNED"), "\(title)")
        let log = try String(contentsOf: sandbox.root.appendingPathComponent("state/fluxdeck/fluxdeck.log"), encoding: .utf8)
        #expect(log.contains("webhook: refused (404)"), "\(log)")
        #expect(!log.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, "the log holds control characters")
    }
}

@Suite("Studio in tmux: terminal types", .timeLimit(.minutes(2)))
struct TerminalTypeTmuxTests {
    @Test("TERM=xterm-kitty (or another xterm type) without its terminfo entry: the studio runs, drawn as xterm-256color, and says so once in the log",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")))
    func kittyOverSSH() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        var environment = sandbox.environment
        // kitty's own type where this machine lacks its entry (kitty over ssh); where kitty is
        // installed (CI installs it for the real-terminal tests), another xterm type nobody has.
        let installed = ["/usr/share/terminfo/x/xterm-kitty", "/lib/terminfo/x/xterm-kitty", "/etc/terminfo/x/xterm-kitty"]
            .contains { FileManager.default.fileExists(atPath: $0) }
        let term = installed ? "xterm-unheard-of" : "xterm-kitty"
        environment["TERM"] = term
        let rig = try await StudioRig.start(["--simulator", "--graphics", "blocks"], in: sandbox.root, environment: environment)
        defer { rig.stop() }
        #expect(await rig.frame(containing: "frame 120x40") != nil)
        #expect(try await rig.screen(showing: "SIMULATOR"))
        try await rig.keys("C-q")
        _ = try await rig.exited()
        let log = try String(contentsOf: sandbox.root.appendingPathComponent("state/fluxdeck/fluxdeck.log"), encoding: .utf8)
        #expect(log.components(separatedBy: "TERM=\(term) has no terminfo entry here; drawing as xterm-256color").count == 2, "\(log)")
    }

    @Test("TERM=dumb: refused with a sentence, exit 2, the screen untouched",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")))
    func dumb() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        var environment = sandbox.environment
        environment["TERM"] = "dumb"
        let rig = try await StudioRig.start(["--simulator"], in: sandbox.root, environment: environment)
        defer { rig.stop() }
        let screen = try await rig.exited()
        #expect(screen.contains("TERM=dumb cannot move the cursor") && screen.contains("exit=2"), "\(screen)")
        // On a terminal of its own (script's pty, outside tmux), nothing but the sentence is
        // written: no query (a dumb terminal would print it as text).
        var alone = BinaryRunner.environment(environment)
        alone.removeValue(forKey: "TMUX")
        let binary = try BinaryRunner.binaryURL().path
        let run = try await ChildProcess.run("/usr/bin/script", ["-qec", "'\(binary)' --simulator", "/dev/null"], environment: alone,
                                             deadline: .seconds(60))
        #expect(run.stdout.contains("TERM=dumb cannot move the cursor"), "\(run.stdout)")
        #expect(!run.stdout.contains("\u{1B}"), "\(run.stdout.debugDescription)")
    }
}
