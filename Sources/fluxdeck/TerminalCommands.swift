import ArgumentParser
import BFL
import Dispatch
import Foundation
import NcursesBackend
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

/// Set by SIGINT/SIGTERM/SIGHUP (or by the program); polled by the run loop. Unchecked: the
/// dispatch sources it keeps alive are touched only under its lock.
final class StopFlag: @unchecked Sendable {
    private let state = Mutex(false)
    private let lock = NSLock()
    private var sources: [any DispatchSourceSignal] = []
    private let onSet: @Sendable () -> Void

    init(onSet: @escaping @Sendable () -> Void = {}) { self.onSet = onSet }

    var isSet: Bool { state.withLock { $0 } }
    func set() {
        state.withLock { $0 = true }
        onSet()
    }

    /// Calls `handler` on SIGWINCH (which may be delivered to any thread, so curses' own
    /// handler cannot be relied on).
    nonisolated func watchResize(_ handler: @escaping @Sendable () -> Void) {
        let source = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        lock.withLock { sources.append(source) }
    }

    /// Installs the handlers. Created outside any actor: a closure made in main-actor code and
    /// run on a dispatch queue traps under Swift 6.
    nonisolated func watchSignals() {
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.set() }
            source.resume()
            lock.withLock { sources.append(source) }
        }
    }
}

struct TerminalBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "terminal",
        abstract: "Measure diff + flush of a frame with some cells changed (ncurses writing to /dev/null).")

    @Option(help: "Frame width.") var width = 200
    @Option(help: "Frame height.") var height = 60
    @Option(help: "Share of cells changed per frame, in percent.") var changed = 10
    @Option(help: "Frames to time.") var frames = 500

    @MainActor
    func run() async throws {
        let terminal = try NcursesTerminal(outputPath: "/dev/null", term: "xterm-256color", width: width, height: height)
        var rng = SystemRandomNumberGenerator()
        var frame = Buffer(area: Rect(width: width, height: height))
        for y in 0..<height { frame.setString(x: 0, y: y, String(repeating: "fluxdeck ", count: width / 9 + 1), style: .plain) }
        let screen = Screen(backend: terminal)
        screen.draw(frame)
        let colors: [Color] = [.red, .green, .blue, .rgb(200, 120, 40), .indexed(141), .default]
        let perFrame = width * height * changed / 100
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789─│日本")
        let clock = ContinuousClock()
        var total = Duration.zero
        var cells = 0
        for _ in 0..<frames {
            let previous = frame
            for _ in 0..<perFrame {
                let x = Int(rng.next() % UInt64(width - 1)), y = Int(rng.next() % UInt64(height))
                let symbol = String(alphabet[Int(rng.next() % UInt64(alphabet.count))])
                frame.setString(x: x, y: y, symbol, style: Style(fg: colors[Int(rng.next() % 6)]))
            }
            let start = clock.now
            let updates = frame.diff(from: previous)
            terminal.flush(updates, cursor: nil)
            total += clock.now - start
            cells += updates.count
        }
        terminal.stop()
        let micros = total.milliseconds * 1000
        print(String(format: "%dx%d, %d%% of cells changed: %.1f µs per frame (diff + flush), %.0f cells sent per frame, %d frames",
                     width, height, changed, micros / Double(frames), Double(cells) / Double(frames), frames))
    }
}

/// Opens the file or FIFO that tests read frame reports from. open(2), because Foundation's
/// file handles refuse FIFOs.
func openNotifier(_ path: String) -> FileHandle? {
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    return fd >= 0 ? FileHandle(fileDescriptor: fd, closeOnDealloc: true) : nil
}
