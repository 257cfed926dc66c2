import Studio
import StudioViews
import StudioRuntime
import ArgumentParser
import FluxdeckApp
import BFL
import Foundation
import Imaging
import Jobs
import NcursesBackend
import TerminalCore
import TerminalGraphics
import Theme
import Widgets

/// The picture figures: a large image into a 60×30-cell area, first time (decode, downscale,
/// encode) and from the thumbnail cache, in blocks and in kitty pixels; and a gallery page of
/// 24 thumbnails from the cache, drawn.
struct PicturesBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pictures",
        abstract: "Measure showing a 2048×2048 JPEG in 60×30 cells (blocks and kitty, first time and cached) and drawing a gallery page of 24 from the cache.")

    @Option(help: "Times each figure is measured (the median is reported).") var runs = 9
    @Option(help: "The test image's side in pixels.") var side = 2048
    @Flag(help: "Print JSON.") var json = false

    /// The studio's picture sizes (StudioDriver.pictureBoxes) for a terminal whose viewer
    /// area is 60×30 cells of 10×20 pixels (a 90×33 terminal).
    static let boxes: [GraphicsProtocol: (preview: Int, large: Int)] = [
        .blocks: StudioDriver<MemoryBackend>.pictureBoxes(graphics: .blocks, size: (90, 33), cell: (10, 20)),
        .kitty: StudioDriver<MemoryBackend>.pictureBoxes(graphics: .kitty, size: (90, 33), cell: (10, 20)),
    ]

    func run() async throws {
        try await runReportingFailures {
            guard runs > 0, (64...8192).contains(side) else { throw CommandFailure.usage("--runs must be positive and --side 64–8192") }
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-pictures-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: scratch) }
            let large = scratch.appendingPathComponent("large.jpg").path
            try Data(ImageCodec.encodeJPEG(Self.testImage(side: side, seed: 1), quality: 90)).write(to: URL(fileURLWithPath: large))
            let theme = try ThemeLoader().load(ThemeLoader.shippedTheme(named: "default") ?? "")
            let clock = ContinuousClock()
            let area = Rect(x: 0, y: 0, width: 60, height: 30)
            var figures: [(name: String, milliseconds: Double, goal: Double)] = []

            for graphics in [GraphicsProtocol.blocks, .kitty] {
                let box = Self.boxes[graphics]?.large ?? 320
                var first: [Duration] = [], cached: [Duration] = []
                for run in 0..<runs {
                    let cache = ThumbnailCache(directory: scratch.appendingPathComponent("cache-\(graphics)-\(run)"))
                    for (pass, isFirst) in [(0, true), (1, false)] {
                        _ = pass
                        let terminal = try NcursesTerminal(outputPath: "/dev/null", term: "xterm-256color", width: 62, height: 32, graphics: graphics)
                        let screen = Screen(backend: terminal)
                        let start = clock.now
                        let image = try cache.thumbnail(path: large, box: box)
                        var buffer = Buffer(area: Rect(width: 62, height: 32))
                        ImageBlock(Picture(image), quadrants: true, pixelKey: large).render(into: &buffer, area: area)
                        screen.draw(buffer)
                        let took = clock.now - start
                        terminal.stop()
                        if isFirst { first.append(took) } else { cached.append(took) }
                    }
                }
                figures.append(("\(side)² JPEG → 60×30 cells, \(graphics), first time", BenchCommand.medianMilliseconds(first), 60))
                figures.append(("\(side)² JPEG → 60×30 cells, \(graphics), from the cache", BenchCommand.medianMilliseconds(cached), 5))
            }

            // A gallery page: 24 images saved by the studio, thumbnails already cached.
            var records: [JobRecord] = []
            for n in 0..<24 {
                let path = scratch.appendingPathComponent("out-\(n).jpg").path
                try Data(ImageCodec.encodeJPEG(Self.testImage(side: 1024, seed: n + 2), quality: 90)).write(to: URL(fileURLWithPath: path))
                var record = JobRecord(id: String(format: "%08x-pics-4000-8000-%012d", n, n), createdAt: Date().addingTimeInterval(-Double(n)), model: "flux-2-pro",
                                       endpoint: "simulator", prompt: "gallery image \(n)", requestJSON: #"{"prompt":"x"}"#,
                                       estimatedCredits: "3", fileExtension: "jpg", groupID: nil)
                record.phase = .done
                record.settledCost = "3"
                record.seed = n
                record.outputPath = path
                records.append(record)
            }
            let (width, height) = (200, 60)
            for graphics in [GraphicsProtocol.blocks, .kitty] {
                let box = Self.boxes[graphics]?.preview ?? 64
                let cache = ThumbnailCache(directory: scratch.appendingPathComponent("gallery-\(graphics)"))
                for record in records { _ = try cache.thumbnail(path: record.outputPath ?? "", box: box) }
                var samples: [Duration] = []
                for _ in 0..<runs {
                    var state = AppState(modeLabel: "bench")
                    _ = reduce(&state, .resize(width: width, height: height))
                    _ = reduce(&state, .jobsLoaded(records))
                    for key in [Key(.tab), Key(.tab), Key(.tab), .char("g")] { _ = reduce(&state, .key(key)) }
                    let terminal = try NcursesTerminal(outputPath: "/dev/null", term: "xterm-256color", width: width, height: height, graphics: graphics)
                    let screen = Screen(backend: terminal)
                    let start = clock.now
                    for record in records {
                        let path = record.outputPath ?? ""
                        _ = reduce(&state, .previewLoaded(path: path, Picture(try cache.thumbnail(path: path, box: box))))
                    }
                    let frame = render(state, theme: theme, area: Rect(width: width, height: height))
                    screen.draw(frame.buffer, cursor: frame.cursor)
                    samples.append(clock.now - start)
                    terminal.stop()
                    guard state.gallery, frame.buffer.images.count >= 24 || graphics == .blocks else {
                        throw CommandFailure.usage("the gallery did not show 24 pictures (\(frame.buffer.images.count))")
                    }
                }
                figures.append(("gallery page of 24 from the cache, \(width)×\(height), \(graphics)", BenchCommand.medianMilliseconds(samples), 16))
            }

            if json {
                let rows = figures.map { "{\"figure\":\"\($0.name)\",\"ms\":\(String(format: "%.2f", $0.milliseconds)),\"goal_ms\":\($0.goal)}" }
                print("[" + rows.joined(separator: ",") + "]")
            } else {
                for figure in figures {
                    let verdict = figure.milliseconds <= figure.goal ? "ok" : "OVER"
                    print(DisplayWidth.padded(figure.name, to: 64) + String(format: " %8.2f ms  (goal ≤ %.0f ms, %@)", figure.milliseconds, figure.goal, verdict))
                }
                print("median of \(runs) runs; the terminal is /dev/null through curses (kitty: the picture's bytes included)")
            }
        }
    }

    /// A picture with detail everywhere (gradients and rings), different for each seed, so
    /// JPEG has real work and no two are alike.
    static func testImage(side: Int, seed: Int) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: side * side * 3)
        let centre = Double(side) / 2
        for y in 0..<side {
            for x in 0..<side {
                let dx = Double(x) - centre, dy = Double(y) - centre
                let ring = UInt8(truncatingIfNeeded: Int((dx * dx + dy * dy).squareRoot() / 4) &* (seed + 3))
                let i = (y * side + x) * 3
                pixels[i] = UInt8(truncatingIfNeeded: x * 255 / side + seed * 40)
                pixels[i + 1] = ring
                pixels[i + 2] = UInt8(truncatingIfNeeded: y * 255 / side &+ (x ^ y) % 32)
            }
        }
        return RGBImage(width: side, height: side, pixels: pixels)
    }
}
