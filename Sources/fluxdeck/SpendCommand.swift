import ArgumentParser
import FluxdeckApp
import BFL
import Foundation
import Jobs
import TerminalCore

/// What was spent, from the ledger: per day, week, model or endpoint.
struct SpendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spend",
        abstract: "What the ledger says was spent: images, failures, moderation, estimated and charged credits and dollars, per day, week, model or endpoint.",
        discussion: """
            Days and weeks (Monday to Sunday) are in this machine's time zone. Estimates count the \
            jobs that were sent (or may have been); charges are what BFL charged, moderated jobs \
            included (marked *).
            """)

    @Option(help: "From this day, YYYY-MM-DD (default: 29 days before today).") var since: String?
    @Option(help: "To this day, included, YYYY-MM-DD (default: today).") var until: String?
    @Option(help: "day, week, model or endpoint.") var by: String = "day"
    @Flag(help: "JSON: the rows and the total.") var json = false
    @Flag(help: "CSV: a header, the rows and the total.") var csv = false

    func run() async throws {
        try await runReportingFailures {
            guard let grouping = SpendGrouping(rawValue: by.lowercased()) else {
                throw CommandFailure.usage("--by must be day, week, model or endpoint, not \"\(TerminalText.sanitize(by))\"")
            }
            guard !(json && csv) else { throw CommandFailure.usage("--json and --csv cannot be used together") }
            let calendar = Calendar.current
            let today = calendar.startOfDay(for: Date())
            let start = try since.map { try SpendTable.day($0, "--since", calendar) } ?? (calendar.date(byAdding: .day, value: -29, to: today) ?? today)
            let lastDay = try until.map { try SpendTable.day($0, "--until", calendar) } ?? today
            let end = calendar.date(byAdding: .day, value: 1, to: lastDay) ?? lastDay
            guard start < end else { throw CommandFailure.usage("--since is after --until") }
            let store: JobStore
            do { store = try JobStore(path: JobStore.defaultPath()) } catch { throw CommandFailure(code: .usage, message: "\(error)") }
            let report = try store.spend(grouping, since: start, until: end, calendar: calendar)
            if json {
                try Output.jsonLine(SpendTable.json(report, calendar: calendar))
            } else if csv {
                print(report.csv, terminator: "")
            } else {
                for line in SpendTable.table(report, calendar: calendar) { Output.line(line) }
            }
        }
    }
}
