import ArgumentParser
import FluxdeckApp
import BFL
import Dispatch
import Foundation
import NcursesBackend
import StudioRuntime
import Synchronization
import TerminalCore
import Widgets

/// A small full-screen check of the terminal layer: box characters, a CJK string, a colour,
/// the size (redrawn on resize), and a clean exit with `q`, Ctrl-C or SIGTERM.
struct TerminalCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "terminal-check",
        abstract: "Draw a test screen to check the terminal (q quits).",
        shouldDisplay: false)

    @Option(help: ArgumentHelp("Write a line to this file (or FIFO) after each frame (tests).", visibility: .hidden))
    var notify: String?

    @Flag(help: ArgumentHelp("Trap (as a Swift crash does) on the key x (tests of the crash handler).", visibility: .hidden))
    var crashOnX = false

    @MainActor
    func run() async throws {
        let notifier = notify.flatMap(openNotifier)
        let stop = StopFlag()
        stop.watchSignals()
        let terminal: NcursesTerminal
        do { terminal = try NcursesTerminal(noColor: ProcessInfo.processInfo.environment["NO_COLOR"] != nil) } catch {
            Output.error("fluxdeck: \(error)")
            throw ExitCode(2)
        }
        let screen = Screen(backend: terminal)
        var last = "none"
        var dirty = true
        while !stop.isSet {
            if dirty {
                let (width, height) = terminal.size
                var frame = Buffer(area: Rect(width: width, height: height))
                drawBox(&frame, Rect(width: width, height: height), title: " fluxdeck terminal check ", ascii: !terminal.isUTF8)
                frame.setString(x: 2, y: 2, "CJK: 日本語のテキスト", style: .plain)
                frame.setString(x: 2, y: 3, "colour: ", style: .plain)
                frame.setString(x: 10, y: 3, "red text", style: Style(fg: .red, add: .bold))
                frame.setString(x: 2, y: 4, "size: \(width)x\(height)", style: .plain)
                frame.setString(x: 2, y: 5, "last key: \(last)", style: .plain)
                frame.setString(x: 2, y: 6, "press q to quit", style: Style(add: .dim))
                screen.draw(frame)
                notifier?.write(Data("drawn \(width)x\(height) \(last)\n".utf8))
                dirty = false
            }
            // Nothing changes without input: wake only to notice signals.
            let events = terminal.nextEvents(timeout: 250)
            if events.isEmpty { continue }
            dirty = true
            for event in events {
                switch event {
                case .key(let key) where crashOnX && key == .char("x"):
                    // A deliberate trap: the terminal must come back all the same.
                    fatalError("terminal-check: crash asked for with --crash-on-x")
                case .key(let key) where key == .char("q") || key == .ctrl("c"):
                    stop.set()
                case .key(let key):
                    last = key.description
                case .mouse(let mouse):
                    last = "mouse \(mouse.kind) at \(mouse.x),\(mouse.y)"
                case .resize:
                    screen.invalidate()
                    terminal.clear()
                    last = "resize"
                case .paste:
                    break
                }
            }
        }
        terminal.stop()
        print("terminal restored")
        notifier?.write(Data("stopped\n".utf8))
    }

    func drawBox(_ frame: inout Buffer, _ rect: Rect, title: String, ascii: Bool) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        Block().border(ascii ? .ascii : .plain).render(into: &frame, area: rect)
        frame.setString(x: rect.x + 2, y: rect.y, title, style: Style(add: .bold), maxWidth: rect.width - 4)
    }
}
