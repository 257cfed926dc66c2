public import BFL
public import Foundation
import GRDB

/// How spending is grouped.
public enum SpendGrouping: String, Sendable, Hashable, CaseIterable {
    case day, week, model, endpoint
}

/// The totals of one bucket (a day, a week, a model or an endpoint), or of all of them.
public struct SpendRow: Sendable, Hashable {
    /// The bucket's name: a date (`2026-11-30`; a week by its Monday), a model id or an endpoint.
    public var bucket: String
    /// Jobs created in the bucket.
    public var jobs = 0
    /// Saved images.
    public var images = 0
    public var failed = 0
    public var moderated = 0
    /// What fluxdeck estimated before sending, for the jobs that were sent (or may have been).
    public var estimated = Credits.zero
    /// What BFL charged: the settled cost, else the cost the submit answer named.
    public var charged = Credits.zero
    /// The part of `charged` that moderated jobs cost (BFL may charge for a blocked result).
    public var moderatedCharged = Credits.zero

    public init(bucket: String) { self.bucket = bucket }

    /// Adds another row's counts (for totals).
    public mutating func add(_ other: SpendRow) {
        jobs += other.jobs
        images += other.images
        failed += other.failed
        moderated += other.moderated
        estimated += other.estimated
        charged += other.charged
        moderatedCharged += other.moderatedCharged
    }
}

/// One bucket of the time range: where it starts and ends, and its name.
public struct SpendBucket: Sendable, Hashable {
    public var name: String
    public var start: Date
    public var end: Date
}

/// A spending report: the rows in bucket order and their total.
public struct SpendReport: Sendable, Hashable {
    public var grouping: SpendGrouping
    public var since: Date
    public var until: Date
    public var rows: [SpendRow]
    public var total: SpendRow

    public init(grouping: SpendGrouping, since: Date, until: Date, rows: [SpendRow], total: SpendRow) {
        self.grouping = grouping
        self.since = since
        self.until = until
        self.rows = rows
        self.total = total
    }
}

extension SpendReport {
    /// The first and the last day the report covers, `yyyy-MM-dd` (`until` is the end of the last).
    public func period(_ calendar: Calendar) -> (first: String, last: String) {
        let formatter = Spend.dayFormatter(calendar)
        let lastDay = calendar.date(byAdding: .day, value: -1, to: until) ?? until
        return (formatter.string(from: since), formatter.string(from: lastDay))
    }

    /// RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled.
    public static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The report as CSV: a header, a line per bucket, the total; lines end in CRLF.
    public var csv: String {
        let header = ["bucket", "jobs", "images", "failed", "moderated", "estimated_credits", "charged_credits", "charged_usd", "moderated_charged_credits"]
        func fields(_ row: SpendRow) -> [String] {
            [row.bucket, "\(row.jobs)", "\(row.images)", "\(row.failed)", "\(row.moderated)", "\(row.estimated)", "\(row.charged)",
             "\(row.charged.usd)", "\(row.moderatedCharged)"]
        }
        return ([header] + rows.map(fields) + [fields(total)])
            .map { $0.map(Self.csvField).joined(separator: ",") + "\r\n" }.joined()
    }
}

/// What the studio's spend view shows: 30 days by day and model, totals for today, 7 and 30
/// days, the costliest models and prompts.
public struct SpendOverview: Sendable, Hashable {
    /// A day and its charged credits by model.
    public struct Day: Sendable, Hashable {
        public var day: String
        public var byModel: [String: Credits]
        public init(_ day: String, _ byModel: [String: Credits]) {
            self.day = day
            self.byModel = byModel
        }
    }

    /// A model's or a prompt's charges and jobs.
    public struct Total: Sendable, Hashable {
        public var name: String
        public var charged: Credits
        public var jobs: Int
        public init(_ name: String, _ charged: Credits, _ jobs: Int) {
            self.name = name
            self.charged = charged
            self.jobs = jobs
        }
    }

    /// The days, oldest first.
    public var days: [Day] = []
    public var today = SpendRow(bucket: "today")
    public var week = SpendRow(bucket: "7 days")
    public var month = SpendRow(bucket: "30 days")
    /// Models by charged credits over 30 days, most first.
    public var topModels: [Total] = []
    /// Prompts by charged credits over 30 days, most first.
    public var topPrompts: [Total] = []

    public init() {}
}

public enum Spend {
    /// Credits are summed in SQL as whole ten-thousandths (server amounts carry at most four
    /// decimals), so the sums are exact integers, never floating-point.
    static let scale = 10_000

    static func units(_ column: String) -> String {
        "CAST(ROUND(CAST(\(column) AS REAL) * \(scale)) AS INTEGER)"
    }

    /// What BFL charged a job, in units: the settled cost, else the submit answer's.
    static let chargedUnits = units("COALESCE(settledCost, submitCost)")

    static func credits(_ units: Int64?) -> Credits {
        Credits(Decimal(units ?? 0) / Decimal(scale))
    }

    /// The phases whose estimate counts: the job was sent, or may have been.
    static let sentPhases = "phase NOT IN ('queued', 'cancelled')"

    /// The aggregate columns of a spend row.
    static let aggregates = """
        COUNT(*) AS jobs,
        SUM(phase = 'done') AS images,
        SUM(phase = 'failed') AS failed,
        SUM(phase = 'moderated') AS moderated,
        SUM(CASE WHEN \(sentPhases) THEN \(units("estimatedCredits")) END) AS estimated,
        SUM(\(chargedUnits)) AS charged,
        SUM(CASE WHEN phase = 'moderated' THEN \(chargedUnits) END) AS moderatedCharged
        """

    static func row(_ bucket: String, _ row: Row) -> SpendRow {
        var result = SpendRow(bucket: bucket)
        result.jobs = row["jobs"] ?? 0
        result.images = row["images"] ?? 0
        result.failed = row["failed"] ?? 0
        result.moderated = row["moderated"] ?? 0
        result.estimated = credits(row["estimated"])
        result.charged = credits(row["charged"])
        result.moderatedCharged = credits(row["moderatedCharged"])
        return result
    }

    /// `yyyy-MM-dd` in `calendar`'s zone: how buckets and periods are named.
    public static func dayFormatter(_ calendar: Calendar) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.calendar = calendar
        formatter.timeZone = calendar.timeZone
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter
    }

    /// The buckets as a SQL table of ranges, `edge(k, start, finish)`, for a join that makes one
    /// indexed range scan a bucket.
    static func edges(_ buckets: [SpendBucket]) -> (sql: String, arguments: StatementArguments) {
        var arguments = StatementArguments()
        for (k, bucket) in buckets.enumerated() { _ = arguments.append(contentsOf: [k, bucket.start, bucket.end]) }
        let values = buckets.map { _ in "(?, ?, ?)" }.joined(separator: ", ")
        return ("WITH edge(k, start, finish) AS (VALUES \(values))", arguments)
    }

    /// The day (or week, starting Monday) buckets covering [since, until) in `calendar`'s
    /// zone: each starts at local midnight, so a day across a DST change is 23 or 25 hours.
    public static func buckets(_ grouping: SpendGrouping, since: Date, until: Date, calendar: Calendar) -> [SpendBucket] {
        var calendar = calendar
        calendar.firstWeekday = 2
        let unit: Calendar.Component = grouping == .week ? .weekOfYear : .day
        var start: Date
        if grouping == .week {
            start = calendar.dateInterval(of: .weekOfYear, for: since)?.start ?? calendar.startOfDay(for: since)
        } else {
            start = calendar.startOfDay(for: since)
        }
        var buckets: [SpendBucket] = []
        let formatter = dayFormatter(calendar)
        while start < until, buckets.count < 100_000 {
            guard let next = calendar.date(byAdding: unit, value: 1, to: start), next > start else { break }
            // The day after a DST change may not start at midnight everywhere: normalise.
            let end = grouping == .week ? next : calendar.startOfDay(for: next) > start ? calendar.startOfDay(for: next) : next
            buckets.append(SpendBucket(name: formatter.string(from: start), start: max(start, since), end: min(end, until)))
            start = end
        }
        return buckets
    }
}

extension JobStore {
    /// Spending of the jobs created in [since, until), grouped; aggregated in SQL, nothing read
    /// row by row. Day and week buckets follow `calendar`'s zone.
    public func spend(_ grouping: SpendGrouping, since: Date, until: Date, calendar: Calendar = .current) throws(JobStoreError) -> SpendReport {
        let rows: [SpendRow] = try read { db in
            switch grouping {
            case .model, .endpoint:
                let column = grouping == .model ? "model" : "endpoint"
                return try Row.fetchAll(db, sql: """
                    SELECT \(column) AS bucket, \(Spend.aggregates) FROM job
                    WHERE createdAt >= ? AND createdAt < ? GROUP BY \(column) ORDER BY charged DESC, \(column)
                    """, arguments: [since, until]).map { Spend.row($0["bucket"] ?? "", $0) }
            case .day, .week:
                let buckets = Spend.buckets(grouping, since: since, until: until, calendar: calendar)
                guard !buckets.isEmpty else { return [] }
                let edges = Spend.edges(buckets)
                let found = try Row.fetchAll(db, sql: """
                    \(edges.sql)
                    SELECT edge.k AS k, \(Spend.aggregates) FROM edge
                    JOIN job ON job.createdAt >= edge.start AND job.createdAt < edge.finish
                    GROUP BY edge.k ORDER BY edge.k
                    """, arguments: edges.arguments)
                return found.compactMap { row in
                    let k: Int = row["k"] ?? -1
                    return buckets.indices.contains(k) ? Spend.row(buckets[k].name, row) : nil
                }
            }
        }
        var total = SpendRow(bucket: "total")
        for row in rows { total.add(row) }
        return SpendReport(grouping: grouping, since: since, until: until, rows: rows, total: total)
    }

    /// The studio's spend view: the last 30 days (today included) by day and model, totals for
    /// today, 7 and 30 days, and the five costliest models and prompts.
    public func spendOverview(now: Date, calendar: Calendar = .current, top: Int = 5) throws(JobStoreError) -> SpendOverview {
        let today = calendar.startOfDay(for: now)
        let tomorrow = calendar.date(byAdding: .day, value: 1, to: today) ?? now
        let monthStart = calendar.date(byAdding: .day, value: -29, to: today) ?? today
        let weekStart = calendar.date(byAdding: .day, value: -6, to: today) ?? today
        let buckets = Spend.buckets(.day, since: monthStart, until: tomorrow, calendar: calendar)
        return try read { db in
            var overview = SpendOverview()
            func total(since: Date, name: String) throws -> SpendRow {
                let row = try Row.fetchOne(db, sql: "SELECT \(Spend.aggregates) FROM job WHERE createdAt >= ? AND createdAt < ?", arguments: [since, tomorrow])
                return row.map { Spend.row(name, $0) } ?? SpendRow(bucket: name)
            }
            overview.today = try total(since: today, name: "today")
            overview.week = try total(since: weekStart, name: "7 days")
            overview.month = try total(since: monthStart, name: "30 days")
            var byDay = [[String: Credits]](repeating: [:], count: buckets.count)
            var perModel: [String: (charged: Credits, jobs: Int)] = [:]
            if !buckets.isEmpty {
                // One pass gives the bars and, summed over the days, the costliest models.
                let edges = Spend.edges(buckets)
                for row in try Row.fetchAll(db, sql: """
                    \(edges.sql)
                    SELECT edge.k AS k, job.model AS model, COUNT(*) AS jobs,
                           SUM(\(Spend.chargedUnits)) AS charged FROM edge
                    JOIN job ON job.createdAt >= edge.start AND job.createdAt < edge.finish
                    GROUP BY edge.k, job.model
                    """, arguments: edges.arguments) {
                    let k: Int = row["k"] ?? -1
                    guard byDay.indices.contains(k) else { continue }
                    let model: String = row["model"] ?? "?"
                    let charged = Spend.credits(row["charged"])
                    if charged > .zero { byDay[k][model] = charged }
                    let sums = perModel[model] ?? (.zero, 0)
                    perModel[model] = (sums.charged + charged, sums.jobs + (row["jobs"] ?? 0))
                }
            }
            overview.days = zip(buckets, byDay).map { SpendOverview.Day($0.name, $1) }
            overview.topModels = perModel.filter { $0.value.charged > .zero }
                .sorted { $0.value.charged > $1.value.charged || ($0.value.charged == $1.value.charged && $0.key < $1.key) }
                .prefix(top).map { SpendOverview.Total($0.key, $0.value.charged, $0.value.jobs) }
            overview.topPrompts = try Row.fetchAll(db, sql: """
                SELECT prompt, SUM(\(Spend.chargedUnits)) AS charged, COUNT(*) AS jobs FROM job WHERE createdAt >= ? AND createdAt < ?
                GROUP BY prompt HAVING charged > 0 ORDER BY charged DESC, prompt LIMIT ?
                """, arguments: [monthStart, tomorrow, top]).map { SpendOverview.Total($0["prompt"] ?? "", Spend.credits($0["charged"]), $0["jobs"] ?? 0) }
            return overview
        }
    }
}
