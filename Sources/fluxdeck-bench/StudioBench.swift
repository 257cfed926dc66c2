import Studio
import StudioViews
import ArgumentParser
import FluxdeckApp
import BFL
import Foundation
import Jobs
import TerminalCore
import Theme

/// The studio's frame figures: time to the first frame with a large ledger, and the time of
/// one frame (reduce + render + diff) while many jobs report progress.
struct StudioBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "studio",
        abstract: "Measure the studio's first frame over a large ledger and its frame time with live jobs.")

    @Option(help: "Jobs in the ledger.") var ledger = 10_000
    @Option(name: .customLong("live"), help: "Jobs running while frames are measured.") var live = 24
    @Option(help: "Terminal width.") var width = 200
    @Option(help: "Terminal height.") var height = 60
    @Option(help: "Frames to measure.") var frames = 2_000
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await runReportingFailures {
            guard ledger >= 0, live >= 0, frames > 0, width >= 40, height >= 12 else {
                throw CommandFailure.usage("--ledger and --live must be 0 or more, --frames positive, the size at least 40x12")
            }
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-bench-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: scratch) }
            let path = scratch.appendingPathComponent("ledger.sqlite").path
            try Self.fillLedger(path: path, count: ledger)
            let theme = try ThemeLoader().load(ThemeLoader.shippedTheme(named: "default") ?? "")
            let clock = ContinuousClock()

            // First frame: open the ledger, load what the studio loads, draw everything.
            let start = clock.now
            let store = try JobStore(path: path)
            let recent = try store.recentJobs(limit: JobStore.displayPage)
            let charged = try store.charged(since: Calendar.current.startOfDay(for: Date()), excluding: Set(recent.map(\.id)))
            var state = AppState(modeLabel: "SIMULATOR — no credits spent")
            _ = reduce(&state, .resize(width: width, height: height))
            _ = reduce(&state, .jobsLoaded(recent))
            _ = reduce(&state, .chargedTodayLoaded(charged))
            let backend = MemoryBackend(width: width, height: height)
            let screen = Screen(backend: backend)
            let first = render(state, theme: theme, area: Rect(width: width, height: height))
            screen.draw(first.buffer, cursor: first.cursor)
            let firstFrame = clock.now - start

            // Live jobs, then frames: one progress report and a spinner tick per frame.
            let now = Date()
            let liveJobs = (0..<live).map { n -> JobRecord in
                var record = JobRecord(id: "live-\(n)", createdAt: now.addingTimeInterval(Double(n)), model: n % 4 == 0 ? "flux-kontext-max" : "flux-2-pro",
                                       endpoint: "simulator", prompt: "live job \(n): a lighthouse at dusk", requestJSON: "{}",
                                       estimatedCredits: "3", fileExtension: "jpg", groupID: nil)
                record.phase = .running
                return record
            }
            for job in liveJobs { _ = reduce(&state, .jobUpdated(job)) }
            // The jobs pane in focus (prompt → model → jobs), as a person would get there.
            _ = reduce(&state, .key(Key(.tab)))
            _ = reduce(&state, .key(Key(.tab)))
            var samples: [Duration] = []
            samples.reserveCapacity(frames)
            var changed = 0
            var phases: (reduce: Duration, render: Duration, draw: Duration) = (.zero, .zero, .zero)
            for frame in 0..<frames {
                let begin = clock.now
                if live > 0 {
                    _ = reduce(&state, .jobProgress(id: "live-\(frame % live)", progress: Double(frame % 100) / 100))
                }
                _ = reduce(&state, .tick(now.addingTimeInterval(Double(frame) * 0.12)))
                let reduced = clock.now
                let drawn = render(state, theme: theme, area: Rect(width: width, height: height))
                let rendered = clock.now
                changed += screen.draw(drawn.buffer, cursor: drawn.cursor)
                let end = clock.now
                phases.reduce += reduced - begin
                phases.render += rendered - reduced
                phases.draw += end - rendered
                samples.append(end - begin)
            }
            let sorted = samples.sorted()
            func ms(_ d: Duration) -> Double { d.milliseconds }
            let mean = samples.map(ms).reduce(0, +) / Double(samples.count)
            let p50 = ms(sorted[sorted.count / 2])
            let p99 = ms(sorted[min(sorted.count - 1, sorted.count * 99 / 100)])
            let worst = ms(sorted[sorted.count - 1])
            if json {
                let object: [String: Any] = [
                    "ledger": ledger, "live": live, "width": width, "height": height, "frames": frames,
                    "first_frame_ms": ms(firstFrame), "frame_mean_ms": mean, "frame_p50_ms": p50, "frame_p99_ms": p99,
                    "frame_max_ms": worst, "cells_per_frame": Double(changed) / Double(frames),
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(String(format: "first frame with %d ledger entries: %.1f ms (open the ledger, load, draw %dx%d)", ledger, ms(firstFrame), width, height))
                print(String(format: "frame (reduce + render + diff) at %dx%d with %d live jobs, %d frames: mean %.3f ms, p50 %.3f ms, p99 %.3f ms, max %.3f ms; %.0f cells changed per frame",
                             width, height, live, frames, mean, p50, p99, worst, Double(changed) / Double(frames)))
                print(String(format: "  per frame: reduce %.3f ms, render %.3f ms, diff + flush %.3f ms",
                             ms(phases.reduce) / Double(frames), ms(phases.render) / Double(frames), ms(phases.draw) / Double(frames)))
            }
        }
    }

    /// `fluxdeck bench fill-ledger`: writes such a ledger where the studio will find it.
    struct FillLedger: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fill-ledger", abstract: "Write a ledger of N finished jobs (for measuring the studio over a large ledger).")

        @Option(help: "How many jobs.") var count = 10_000
        @Option(help: "The ledger file to create.") var path: String

        func run() async throws {
            try await runReportingFailures {
                guard !FileManager.default.fileExists(atPath: path) else { throw CommandFailure.usage("\(path) exists; give a new file") }
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try StudioBench.fillLedger(path: path, count: count)
                print("wrote \(count) jobs to \(path)")
            }
        }
    }

    /// A ledger of `count` finished jobs over the last 30 days, written in one transaction.
    static func fillLedger(path: String, count: Int) throws {
        let store = try JobStore(path: path)
        let models = Catalog.all.map(\.id)
        let now = Date()
        var batch: [JobRecord] = []
        for n in 0..<count {
            let created = now.addingTimeInterval(-Double(n) * 30 * 86_400 / Double(max(count, 1)))
            var record = JobRecord(id: String(format: "%08x-bench-4000-8000-%012d", n, n), createdAt: created, model: models[n % models.count],
                                   endpoint: "simulator", prompt: "ledger entry \(n): a study in light and shadow", requestJSON: #"{"prompt":"x"}"#,
                                   estimatedCredits: "3", fileExtension: "jpg", groupID: nil)
            record.phase = n % 17 == 0 ? .failed : .done
            record.settledCost = "3"
            record.seed = n
            record.finishedAt = created.addingTimeInterval(9)
            if record.phase == .done { record.outputPath = "/nonexistent/fluxdeck/\(record.id).jpg" }
            batch.append(record)
            if batch.count == 1_000 {
                try store.insert(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try store.insert(batch) }
    }
}
