import BFL
import BFLSimulator
import Foundation
import Jobs
import Testing

@Suite("Spending from the ledger")
struct SpendTests {
    static let berlin: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin") ?? .gmt
        return calendar
    }()

    static let models = ["flux-2-pro", "flux-2-max", "flux-2-flex", "flux-2-klein-4b", "flux-2-klein-9b", "flux-kontext-pro",
                         "flux-kontext-max", "flux-pro-1.1", "flux-pro-1.1-ultra", "flux-dev", "flux-pro-1.0-fill", "flux-pro-1.0-expand"]

    /// `count` jobs over 40 days from 2026-10-01 (Berlin; the clocks go back on 2026-10-25),
    /// across 12 models and every kind of ending, with costs of up to four decimals.
    func ledger(_ count: Int) throws -> (JobStore, [JobRecord], URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-spend-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try JobStore(path: directory.appendingPathComponent("ledger.sqlite").path)
        let start = Self.berlin.date(from: DateComponents(year: 2026, month: 10, day: 1)) ?? Date()
        let phases: [JobPhase] = [.done, .done, .done, .failed, .moderated, .cancelled, .queued, .unknown, .abandoned, .done]
        var jobs: [JobRecord] = []
        var random = SplitMix64(seed: 7)
        for n in 0..<count {
            let created = start.addingTimeInterval(Double(random.next() % (40 * 86_400)))
            let estimate = Credits(Decimal(Int(random.next() % 90_000)) / 10_000 + 1)
            var job = JobRecord(id: String(format: "spend-%06d", n), createdAt: created, model: Self.models[Int(random.next() % 12)],
                                endpoint: n % 3 == 0 ? "https://api.eu.bfl.ai" : "https://api.bfl.ai", prompt: "prompt \(n % 40)",
                                requestJSON: "{}", estimatedCredits: estimate, fileExtension: "jpg", groupID: nil)
            job.phase = phases[Int(random.next() % UInt64(phases.count))]
            switch job.phase {
            case .done, .moderated: job.settledCost = "\(Credits(Decimal(Int(random.next() % 90_000)) / 10_000 + 1))"
            case .unknown, .abandoned: job.submitCost = random.next() % 2 == 0 ? "\(estimate)" : nil
            default: break
            }
            jobs.append(job)
        }
        for chunk in stride(from: 0, to: jobs.count, by: 1_000) { try store.insert(Array(jobs[chunk..<min(chunk + 1_000, jobs.count)])) }
        return (store, jobs, directory)
    }

    /// The same sums, the plain way: every job looked at in Swift.
    func expected(_ jobs: [JobRecord], bucket: (JobRecord) -> String?) -> [String: SpendRow] {
        var rows: [String: SpendRow] = [:]
        for job in jobs {
            guard let name = bucket(job) else { continue }
            var row = rows[name] ?? SpendRow(bucket: name)
            row.jobs += 1
            if job.phase == .done { row.images += 1 }
            if job.phase == .failed { row.failed += 1 }
            if job.phase == .moderated { row.moderated += 1 }
            if job.phase != .queued, job.phase != .cancelled { row.estimated += job.estimate }
            if let charged = job.chargedCredits {
                row.charged += charged
                if job.phase == .moderated { row.moderatedCharged += charged }
            }
            rows[name] = row
        }
        return rows
    }

    func day(_ date: Date, _ calendar: Calendar) -> String {
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    @Test("by model, endpoint, day and week over 10,000 jobs: the SQL sums are the plain sums")
    func aggregates() throws {
        let (store, jobs, directory) = try ledger(10_000)
        defer { try? FileManager.default.removeItem(at: directory) }
        let calendar = Self.berlin
        let since = calendar.date(from: DateComponents(year: 2026, month: 10, day: 3)) ?? Date()
        let until = calendar.date(from: DateComponents(year: 2026, month: 11, day: 6)) ?? Date()
        let inRange = jobs.filter { $0.createdAt >= since && $0.createdAt < until }
        #expect(inRange.count > 8_000 && inRange.count < 9_000)
        var weekCalendar = calendar
        weekCalendar.firstWeekday = 2
        let checks: [(SpendGrouping, (JobRecord) -> String?)] = [
            (.model, { $0.model }),
            (.endpoint, { $0.endpoint }),
            (.day, { self.day($0.createdAt, calendar) }),
            (.week, { weekCalendar.dateInterval(of: .weekOfYear, for: $0.createdAt).map { self.day($0.start, calendar) } }),
        ]
        for (grouping, bucket) in checks {
            let report = try store.spend(grouping, since: since, until: until, calendar: calendar)
            let plain = expected(inRange, bucket: bucket)
            #expect(Dictionary(uniqueKeysWithValues: report.rows.map { ($0.bucket, $0) }) == plain, "\(grouping)")
            var total = SpendRow(bucket: "total")
            for row in plain.values { total.add(row) }
            #expect(report.total == total, "\(grouping)")
        }
        // 12 models, 2 endpoints, 34 days (Oct 3 – Nov 5), weeks Monday Sep 28 to Monday Nov 2.
        #expect(try store.spend(.model, since: since, until: until, calendar: calendar).rows.count == 12)
        #expect(try store.spend(.endpoint, since: since, until: until, calendar: calendar).rows.count == 2)
        #expect(try store.spend(.day, since: since, until: until, calendar: calendar).rows.count == 34)
        #expect(try store.spend(.week, since: since, until: until, calendar: calendar).rows.map(\.bucket)
                == ["2026-09-28", "2026-10-05", "2026-10-12", "2026-10-19", "2026-10-26", "2026-11-02"])
        // Models come most charged first.
        let byModel = try store.spend(.model, since: since, until: until, calendar: calendar).rows
        #expect(byModel.map(\.charged) == byModel.map(\.charged).sorted(by: >))
    }

    @Test("day buckets start at local midnight: 25 hours when the clocks go back, 23 when they go forward")
    func daylightSaving() throws {
        let calendar = Self.berlin
        func at(_ day: Int, _ month: Int, _ hour: Int, _ minute: Int, _ second: Int = 0) -> Date {
            calendar.date(from: DateComponents(year: 2026, month: month, day: day, hour: hour, minute: minute, second: second)) ?? Date()
        }
        let autumn = Spend.buckets(.day, since: at(24, 10, 0, 0), until: at(27, 10, 0, 0), calendar: calendar)
        #expect(autumn.map(\.name) == ["2026-10-24", "2026-10-25", "2026-10-26"])
        #expect(autumn.map { $0.end.timeIntervalSince($0.start) } == [86_400, 90_000, 86_400])
        let spring = Spend.buckets(.day, since: at(28, 3, 12, 0), until: at(30, 3, 12, 0), calendar: calendar)
        #expect(spring.map(\.name) == ["2026-03-28", "2026-03-29", "2026-03-30"])
        #expect(spring[1].end.timeIntervalSince(spring[1].start) == 82_800)
        // The edges are half-open: the last second of a day and its midnight fall apart.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-spend-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try JobStore(path: directory.appendingPathComponent("ledger.sqlite").path)
        let moments = [at(24, 10, 23, 59, 59), at(25, 10, 0, 0), at(25, 10, 2, 30), at(25, 10, 23, 59, 59), at(26, 10, 0, 0)]
        try store.insert(moments.enumerated().map { n, moment in
            var job = JobRecord(id: "edge-\(n)", createdAt: moment, model: "flux-2-pro", endpoint: "e", prompt: "p", requestJSON: "{}",
                                estimatedCredits: "1", fileExtension: "jpg", groupID: nil)
            job.phase = .done
            job.settledCost = "1.5"
            return job
        })
        let report = try store.spend(.day, since: at(24, 10, 0, 0), until: at(27, 10, 0, 0), calendar: calendar)
        #expect(report.rows.map(\.bucket) == ["2026-10-24", "2026-10-25", "2026-10-26"])
        #expect(report.rows.map(\.jobs) == [1, 3, 1])
        #expect(report.rows.map(\.charged) == [Credits("1.5"), Credits("4.5"), Credits("1.5")])
    }

    @Test("CSV: fields with commas, quotes or line breaks are quoted, quotes doubled, lines end in CRLF")
    func csv() {
        var row = SpendRow(bucket: "https://proxy.example/a,b \"eu\"")
        row.jobs = 2
        row.charged = Credits("4.5")
        let report = SpendReport(grouping: .endpoint, since: Date(), until: Date(), rows: [row], total: row)
        let lines = report.csv.components(separatedBy: "\r\n")
        #expect(lines[0] == "bucket,jobs,images,failed,moderated,estimated_credits,charged_credits,charged_usd,moderated_charged_credits")
        #expect(lines[1] == "\"https://proxy.example/a,b \"\"eu\"\"\",2,0,0,0,0,4.5,0.045,0")
        #expect(lines.count == 4 && lines[3].isEmpty)
        #expect(SpendReport.csvField("two\nlines") == "\"two\nlines\"")
        #expect(SpendReport.csvField("plain") == "plain")
    }

    @Test("the studio's overview: 30 days, totals, the costliest models and prompts")
    func overview() throws {
        let (store, jobs, directory) = try ledger(3_000)
        defer { try? FileManager.default.removeItem(at: directory) }
        let calendar = Self.berlin
        let now = calendar.date(from: DateComponents(year: 2026, month: 11, day: 5, hour: 15)) ?? Date()
        let overview = try store.spendOverview(now: now, calendar: calendar)
        #expect(overview.days.count == 30 && overview.days.last?.day == "2026-11-05" && overview.days.first?.day == "2026-10-07")
        let today = calendar.startOfDay(for: now)
        let tomorrow = calendar.date(byAdding: .day, value: 1, to: today) ?? now
        let monthStart = calendar.date(byAdding: .day, value: -29, to: today) ?? now
        let month = jobs.filter { $0.createdAt >= monthStart && $0.createdAt < tomorrow }
        #expect(overview.month.charged == month.compactMap(\.chargedCredits).reduce(Credits.zero, +))
        #expect(overview.today.jobs == jobs.filter { $0.createdAt >= today && $0.createdAt < tomorrow }.count)
        let byDay = overview.days.flatMap { $0.byModel.values }.reduce(Credits.zero, +)
        #expect(byDay == overview.month.charged)
        var perModel: [String: Credits] = [:]
        for job in month { if let charged = job.chargedCredits { perModel[job.model, default: .zero] += charged } }
        let top = perModel.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(5)
        #expect(overview.topModels.map(\.name) == top.map(\.key))
        #expect(overview.topModels.map(\.charged) == top.map(\.value))
        #expect(overview.topPrompts.count == 5)
    }
}

@Suite("Finding a submission's images")
struct GroupQueryTests {
    @Test("group:ID (or its beginning) finds one submission's jobs, in SQL as in memory; a non-hex value is named and matches nothing")
    func group() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-group-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try JobStore(path: directory.appendingPathComponent("ledger.sqlite").path)
        let groups = ["3f2a9c10-aaaa-4000-8000-000000000001", "3f2b0000-bbbb-4000-8000-000000000002", nil]
        let jobs = (0..<30).map { n -> JobRecord in
            var job = JobRecord(id: "g-\(n)", createdAt: Date(timeIntervalSince1970: 1_795_000_000 + Double(n)), model: "flux-2-pro", endpoint: "e",
                                prompt: "p \(n)", requestJSON: "{}", estimatedCredits: "3", fileExtension: "jpg", groupID: groups[n % 3])
            job.phase = .done
            job.outputPath = "/out/\(n).jpg"
            return job
        }
        try store.insert(jobs)
        for (text, expected) in [("group:3f2a9c10", 10), ("group:3F2A", 10), ("group:3f2", 20), ("group:3f2a9c10-aaaa-4000-8000-000000000001", 10)] {
            let query = OutputQuery(text)
            #expect(query.group != nil)
            let inMemory = jobs.filter(query.matches).map(\.id)
            let inSQL = try store.outputs(before: nil, query: query, limit: 100).map(\.id)
            #expect(inMemory.count == expected && Set(inSQL) == Set(inMemory), "\(text)")
        }
        // A value that is no group id is named, and matches nothing, in SQL as in memory.
        let odd = OutputQuery("group:x%y")
        #expect(odd.group == nil && odd.problems == ["group: needs a group id (got x%y)"])
        #expect(try store.outputs(before: nil, query: odd, limit: 100).isEmpty && !jobs.contains(where: odd.matches))
    }
}
