import ArgumentParser
import FluxdeckApp
import Foundation
import Jobs
import TerminalCore

/// `fluxdeck spend --by …` over a large ledger: the SQL aggregates and the table, in process.
struct SpendBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spend",
        abstract: "Measure `fluxdeck spend` (query and table) over a ledger of N jobs spread over 30 days.")

    @Option(help: "Jobs in the ledger.") var ledger = 100_000
    @Option(help: "Times each grouping is measured (the median is reported).") var runs = 9
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await runReportingFailures {
            guard ledger > 0, runs > 0 else { throw CommandFailure.usage("--ledger and --runs must be positive") }
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-spend-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: scratch) }
            let path = scratch.appendingPathComponent("ledger.sqlite").path
            try StudioBench.fillLedger(path: path, count: ledger)
            let store = try JobStore(path: path)
            let calendar = Calendar.current
            let today = calendar.startOfDay(for: Date())
            // The ledger covers the 30 days before now: 31 days of buckets hold all of it.
            let since = calendar.date(byAdding: .day, value: -30, to: today) ?? today
            let until = calendar.date(byAdding: .day, value: 1, to: today) ?? today
            let clock = ContinuousClock()
            var results: [(String, Double)] = []
            for grouping in SpendGrouping.allCases {
                var samples: [Duration] = []
                var rows = 0
                for _ in 0..<runs {
                    let start = clock.now
                    let report = try store.spend(grouping, since: since, until: until, calendar: calendar)
                    let lines = SpendTable.table(report, calendar: calendar)
                    samples.append(clock.now - start)
                    rows = report.total.jobs
                    guard lines.count > 2 else { throw CommandFailure.usage("the report is empty") }
                }
                guard rows == ledger else { throw CommandFailure.usage("the report counted \(rows) jobs of \(ledger)") }
                results.append(("--by \(grouping.rawValue)", BenchCommand.medianMilliseconds(samples)))
            }
            var overviewSamples: [Duration] = []
            for _ in 0..<runs {
                let start = clock.now
                _ = try store.spendOverview(now: Date(), calendar: calendar)
                overviewSamples.append(clock.now - start)
            }
            results.append(("the studio's spend view", BenchCommand.medianMilliseconds(overviewSamples)))
            if json {
                print("[" + results.map { "{\"figure\":\"\($0.0)\",\"ms\":\(String(format: "%.2f", $0.1))}" }.joined(separator: ",") + "]")
            } else {
                for (name, ms) in results { print(DisplayWidth.padded(name, to: 26) + String(format: " %8.2f ms", ms)) }
                print("over \(ledger) jobs, median of \(runs) runs")
            }
        }
    }
}
