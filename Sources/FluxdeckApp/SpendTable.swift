public import Foundation
public import Jobs
import BFL
import TerminalCore

/// `fluxdeck spend`'s text table and JSON, and its day arguments.
public enum SpendTable {
    /// A day written YYYY-MM-DD, as local midnight.
    public static func day(_ text: String, _ option: String, _ calendar: Calendar) throws -> Date {
        let parts = text.split(separator: "-").map { Int($0) }
        guard parts.count == 3, let year = parts[0], let month = parts[1], let day = parts[2],
              (1970...9999).contains(year), (1...12).contains(month), (1...31).contains(day),
              let date = calendar.date(from: DateComponents(year: year, month: month, day: day)),
              calendar.component(.day, from: date) == day else {
            throw CommandFailure.usage("\(option) must be a day written YYYY-MM-DD, not \"\(TerminalText.sanitize(text))\"")
        }
        return date
    }

    public static func header(_ grouping: SpendGrouping) -> String {
        switch grouping {
        case .day: "day"
        case .week: "week of"
        case .model: "model"
        case .endpoint: "endpoint"
        }
    }

    public static func table(_ report: SpendReport, calendar: Calendar) -> [String] {
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

    public struct JSONRow: Encodable {
        public var bucket: String
        public var jobs, images, failed, moderated: Int
        public var estimated_credits, charged_credits, charged_usd, moderated_charged_credits: Decimal

        public init(_ row: SpendRow) {
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

    public struct JSONReport: Encodable {
        public var by: String
        public var since: String
        public var until: String
        public var rows: [JSONRow]
        public var total: JSONRow
    }

    public static func json(_ report: SpendReport, calendar: Calendar) -> JSONReport {
        let period = report.period(calendar)
        return JSONReport(by: report.grouping.rawValue, since: period.first, until: period.last,
                          rows: report.rows.map(JSONRow.init), total: JSONRow(report.total))
    }
}
