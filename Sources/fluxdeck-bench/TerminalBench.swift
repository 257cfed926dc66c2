import ArgumentParser
import BFL
import Foundation
import NcursesBackend
import TerminalCore

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
