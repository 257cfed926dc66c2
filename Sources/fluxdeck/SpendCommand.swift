import ArgumentParser
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
            let start = try since.map { try Self.day($0, "--since", calendar) } ?? (calendar.date(byAdding: .day, value: -29, to: today) ?? today)
            let lastDay = try until.map { try Self.day($0, "--until", calendar) } ?? today
            let end = calendar.date(byAdding: .day, value: 1, to: lastDay) ?? lastDay
            guard start < end else { throw CommandFailure.usage("--since is after --until") }
            let store: JobStore
            do { store = try JobStore(path: JobStore.defaultPath()) } catch { throw CommandFailure(code: .usage, message: "\(error)") }
            let report = try store.spend(grouping, since: start, until: end, calendar: calendar)
            if json {
                try Output.jsonLine(Self.json(report, calendar: calendar))
            } else if csv {
                print(report.csv, terminator: "")
            } else {
                for line in Self.table(report, calendar: calendar) { Output.line(line) }
            }
        }
    }

    /// A day written YYYY-MM-DD, as local midnight.
    static func day(_ text: String, _ option: String, _ calendar: Calendar) throws -> Date {
        let parts = text.split(separator: "-").map { Int($0) }
        guard parts.count == 3, let year = parts[0], let month = parts[1], let day = parts[2],
              (1970...9999).contains(year), (1...12).contains(month), (1...31).contains(day),
              let date = calendar.date(from: DateComponents(year: year, month: month, day: day)),
              calendar.component(.day, from: date) == day else {
            throw CommandFailure.usage("\(option) must be a day written YYYY-MM-DD, not \"\(TerminalText.sanitize(text))\"")
        }
        return date
    }

    static func header(_ grouping: SpendGrouping) -> String {
        switch grouping {
        case .day: "day"
        case .week: "week of"
        case .model: "model"
        case .endpoint: "endpoint"
        }
    }

    static func table(_ report: SpendReport, calendar: Calendar) -> [String] {
        let period = report.period(calendar)
        var lines = ["Spending \(period.first) to \(period.last), by \(report.grouping.rawValue)"]
        guard !report.rows.isEmpty else {
            lines.append("No jobs in this period.")
            return lines
        }
        let headers = [header(report.grouping), "jobs", "images", "failed", "moderated", "estimated", "charged", "charged $"]
        func cells(_ row: SpendRow) -> [String] {
            let mark = row.moderatedCharged > .zero ? "*" : ""
            return [TerminalText.sanitize(row.bucket), "\(row.jobs)", "\(row.images)", "\(row.failed)", "\(row.moderated)",
                    "\(row.estimated)", "\(row.charged)\(mark)", row.charged.usdText]
        }
        let body = report.rows.map(cells) + [cells(report.total)]
        let widths = headers.indices.map { column in ([headers] + body).map { DisplayWidth.of($0[column]) }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, text in
                let gap = String(repeating: " ", count: max(0, widths[column] - DisplayWidth.of(text)))
                return column == 0 ? text + gap : gap + text
            }.joined(separator: "  ")
        }
        lines.append(line(headers))
        lines += body.dropLast().map(line)
        lines.append(String(repeating: "─", count: widths.reduce(0, +) + 2 * (widths.count - 1)))
        lines.append(line(body[body.count - 1]))
        if report.total.moderatedCharged > .zero {
            lines.append("* includes \(report.total.moderatedCharged) credits (\(report.total.moderatedCharged.usdText)) charged for moderated jobs")
        }
        let gap = report.total.charged - report.total.estimated
        if report.total.estimated > .zero {
            lines.append("charged \(gap < .zero ? "" : "+")\(gap) credits against the estimates")
        }
        return lines
    }

    struct JSONRow: Encodable {
        var bucket: String
        var jobs, images, failed, moderated: Int
        var estimated_credits, charged_credits, charged_usd, moderated_charged_credits: Decimal

        init(_ row: SpendRow) {
            bucket = row.bucket
            jobs = row.jobs
            images = row.images
            failed = row.failed
            moderated = row.moderated
            estimated_credits = row.estimated.value
            charged_credits = row.charged.value
            charged_usd = row.charged.usd
            moderated_charged_credits = row.moderatedCharged.value
        }
    }

    struct JSONReport: Encodable {
        var by: String
        var since: String
        var until: String
        var rows: [JSONRow]
        var total: JSONRow
    }

    static func json(_ report: SpendReport, calendar: Calendar) -> JSONReport {
        let period = report.period(calendar)
        return JSONReport(by: report.grouping.rawValue, since: period.first, until: period.last,
                          rows: report.rows.map(JSONRow.init), total: JSONRow(report.total))
    }
}
