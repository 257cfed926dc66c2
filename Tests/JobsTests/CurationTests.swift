import BFL
import Foundation
import Jobs
import Testing

@Suite("Curation: stars, tags and the filter's query")
struct CurationTests {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        return calendar
    }()

    @Test("the filter line parses into a query; a key it does not know or a value it cannot read is named, and filters nothing")
    func parsing() {
        let query = OutputQuery("Fox -red model:pro status:do is:starred tag:Best seed:42 after:2026-11-01 before:2026-12-01", calendar: Self.utc)
        #expect(query.words == ["fox"] && query.excluded == ["red"] && query.models == ["pro"] && query.statuses == ["do"])
        #expect(query.starred && query.tags == ["best"] && query.seed == 42)
        #expect(query.after == Date(timeIntervalSince1970: 1_793_491_200))  // 2026-11-01T00:00:00Z
        #expect(query.before == Date(timeIntervalSince1970: 1_796_083_200))  // 2026-12-01T00:00:00Z
        let odd = OutputQuery("seed:x after:soon before:2026-02-30 tag: - is:odd colour:red after:2026-13-45 16:9", calendar: Self.utc)
        #expect(odd.problems == [
            "seed: needs a whole number (got x)", "after: needs a date as YYYY-MM-DD (got soon)",
            "before: needs a date as YYYY-MM-DD (got 2026-02-30)", "tag: needs a value", "is: takes starred (got odd)",
            "unknown filter colour: (? help lists the forms)", "after: needs a date as YYYY-MM-DD (got 2026-13-45)",
        ])
        // A lone dash, and a colon after a number (an aspect ratio), are words.
        #expect(odd.words == ["-", "16:9"])
        #expect(odd.seed == nil && odd.after == nil && odd.before == nil && odd.tags.isEmpty && !odd.starred)
        #expect(OutputQuery("").isEmpty && !OutputQuery("is:starred").isEmpty)
        #expect(OutputQuery.tag(" Golden Hour, \"x\"") == "golden-hour--x")
    }

    /// A ledger of `count` saved images over 100 days, some starred and tagged.
    func ledger(_ count: Int) throws -> (JobStore, [JobRecord], URL) {
        let directory = try temporaryDirectory()
        let store = try JobStore(path: directory.appendingPathComponent("ledger.sqlite").path)
        let start = Date(timeIntervalSince1970: 1_788_220_800)  // 2026-09-01T00:00:00Z
        let words = ["fox", "heron", "red barn", "red kite", "100%_off"]
        let models = ["flux-2-pro", "flux-2-klein-4b", "flux-kontext-max"]
        var jobs: [JobRecord] = []
        for n in 0..<count {
            var job = JobRecord(id: String(format: "job-%05d", n), createdAt: start.addingTimeInterval(Double(n) * 864),
                                model: models[n % 3], endpoint: "global", prompt: "a \(words[n % 5]) \(n % 7 == 0 ? "at dusk" : "")",
                                requestJSON: "{}", estimatedCredits: "3", fileExtension: "jpg", groupID: nil)
            job.phase = n % 11 == 0 ? .failed : .done
            job.outputPath = job.phase == .done ? "/out/\(job.id).jpg" : nil
            job.seed = n % 50
            job.starred = n % 13 == 0
            job.tags = n % 4 == 0 ? ["keep"] : n % 6 == 0 ? ["keep-not", "print"] : []
            jobs.append(job)
        }
        for chunk in stride(from: 0, to: jobs.count, by: 1_000) { try store.insert(Array(jobs[chunk..<min(chunk + 1_000, jobs.count)])) }
        return (store, jobs, directory)
    }

    @Test("over 10,000 jobs the SQL search finds exactly what the in-memory filter finds")
    func sqlMatchesMemory() throws {
        let (store, jobs, directory) = try ledger(10_000)
        defer { try? FileManager.default.removeItem(at: directory) }
        for text in [
            "", "fox", "-fox", "red -barn", "is:starred", "tag:keep", "tag:keep tag:print", "tag:print -heron", "seed:7",
            "after:2026-09-20", "before:2026-09-20", "after:2026-09-10 before:2026-09-20 is:starred", "model:klein status:do",
            "100%_", "dusk model:pro -kite tag:keep",
        ] {
            let query = OutputQuery(text, calendar: Self.utc)
            let expected = jobs.filter { $0.outputPath != nil && query.matches($0) }.sorted { $0.createdAt > $1.createdAt }.map(\.id)
            let found = try store.outputs(before: nil, query: query, limit: 20_000).map(\.id)
            #expect(found == expected, "\(text): \(found.count) found, \(expected.count) expected")
            #expect(text.isEmpty || (expected.count < jobs.count && !expected.isEmpty) || text == "tag:keep tag:print", "\(text)")
        }
    }

    /// A job with a hex id (`n` in its first group), made `n` × 100 s after a start, from `parents`.
    func member(_ n: Int, _ parents: [Int], saved: Bool = true) -> JobRecord {
        var job = JobRecord(id: Self.hexID(n), createdAt: Date(timeIntervalSince1970: 1_788_220_800 + Double(n) * 100), model: "flux-2-pro",
                            endpoint: "global", prompt: "image \(n)", requestJSON: "{}", estimatedCredits: "3", fileExtension: "jpg", groupID: nil)
        job.phase = .done
        job.outputPath = saved ? "/out/\(n).jpg" : nil
        job.parents = parents.map(Self.hexID)
        return job
    }

    static func hexID(_ n: Int) -> String { String(format: "%08x-0000-4000-8000-000000000000", n) }

    @Test("family:ID is the job, its ancestors and its descendants, oldest first: not a sibling, not a co-parent; a deleted image's job still links its family; the same in memory and in SQL")
    func family() throws {
        // 1 ← 2 ← 3 ← 5 (5 also from 9); 2 ← 4 (3's sibling); 6 ← 7 (another family); 2's image deleted.
        let jobs = [member(1, []), member(2, [1], saved: false), member(3, [2]), member(4, [2]), member(5, [3, 9]), member(6, []),
                    member(7, [6]), member(9, [])]
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try JobStore(path: directory.appendingPathComponent("ledger.sqlite").path)
        try store.insert(jobs.reversed())
        let query = OutputQuery("family:" + Self.hexID(3).prefix(8), calendar: Self.utc)
        #expect(query.family == "00000003" && query.oldestFirst && query.problems.isEmpty)
        let members = Lineage.family(ofPrefix: try #require(query.family), in: jobs)
        #expect(members == Set([1, 2, 3, 5].map(Self.hexID)))
        let inMemory = jobs.filter { $0.outputPath != nil && query.matches($0, family: members) }.map(\.id)
        #expect(inMemory == [1, 3, 5].map(Self.hexID))
        #expect(try store.outputs(before: nil, query: query, limit: 100).map(\.id) == inMemory)
        // Paging does not cut a family: a cursor is not a page of it.
        #expect(try store.outputs(before: jobs[3].createdAt, query: query, limit: 100).map(\.id) == inMemory)
        // The root of a family, and a filter beside it.
        #expect(try store.outputs(before: nil, query: OutputQuery("family:00000006 image", calendar: Self.utc), limit: 100).map(\.id)
                == [6, 7].map(Self.hexID))
        // Without the family's ids (one job cannot tell), family: matches nothing.
        #expect(!query.matches(jobs[2]))
        #expect(OutputQuery("family:xyz", calendar: Self.utc).problems == ["family: needs a job id (got xyz)"])
    }

    @Test("over 3,000 jobs in chains and merges, the ledger's family of any job is the one found in memory")
    func familySQLMatchesMemory() throws {
        // Every 50th job starts a line; the others come from one a few before them in their
        // line, every 17th also from one 13 before (a merge, sometimes of two lines); every
        // eleventh has lost its image.
        let jobs = (0..<3_000).map { n in
            member(n, n % 50 == 0 ? [] : [max(n - 1 - n % 3, n - n % 50)] + (n % 17 == 0 && n >= 13 ? [n - 13] : []), saved: n % 11 != 0)
        }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try JobStore(path: directory.appendingPathComponent("ledger.sqlite").path)
        try store.insert(jobs)
        var sizes: [Int] = []
        for n in [5, 17, 50, 341, 1_234, 2_999] {
            let query = OutputQuery("family:" + Self.hexID(n), calendar: Self.utc)
            let members = Lineage.family(ofPrefix: Self.hexID(n), in: jobs)
            let expected = jobs.filter { $0.outputPath != nil && query.matches($0, family: members) }.map(\.id)
            let found = try store.outputs(before: nil, query: query, limit: 5_000).map(\.id)
            #expect(found == expected, "\(n): \(found.count) found, \(expected.count) expected")
            sizes.append(expected.count)
        }
        // Families, not the whole ledger nor one image.
        #expect(sizes.allSatisfy { $0 > 2 && $0 < 3_000 }, "\(sizes)")
    }

    @Test("a star and tags are written to the two columns and to the sidecar, keeping everything else there")
    func curate() throws {
        let (store, _, directory) = try ledger(3)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sidecar = directory.appendingPathComponent("a.json")
        try Data(#"{"job_id":"job-00001","prompt":"a heron","seed":1}"#.utf8).write(to: sidecar)
        let updated = try #require(try store.curate(id: "job-00001", starred: true, tags: ["print", "keep"]))
        #expect(updated.starred && updated.tags == ["print", "keep"] && updated.phase == .done)
        try OutputLibrary.updateSidecar(at: sidecar.path, starred: true, tags: ["print", "keep"])
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: sidecar)) as? [String: Any])
        #expect(fields["starred"] as? Bool == true && fields["tags"] as? [String] == ["print", "keep"])
        #expect(fields["prompt"] as? String == "a heron" && fields["seed"] as? Int == 1)
        #expect(try store.outputs(before: nil, query: OutputQuery("tag:print"), limit: 10).map(\.id) == ["job-00001"])
        #expect(try store.curate(id: "nope", starred: true, tags: []) == nil)
        try Data("not json".utf8).write(to: sidecar)
        #expect(throws: EngineError.self) { try OutputLibrary.updateSidecar(at: sidecar.path, starred: false, tags: []) }
        try OutputLibrary.updateSidecar(at: directory.appendingPathComponent("gone.json").path, starred: false, tags: [])
    }
}
