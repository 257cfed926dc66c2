import BFL
import Foundation
import GRDB
@testable import Jobs
import Testing

/// Ledgers written by every past fluxdeck open, migrate and keep every job, cost and path; one
/// written by a newer fluxdeck is refused with a sentence. The fixtures
/// (`Fixtures/ledger-vN.sqlite`, one per schema version, a job in every phase) are recorded
/// only with RECORD_LEDGER_FIXTURES=1, from the migrations as they were at each version.
@Suite("Ledgers from older and newer fluxdecks")
struct LedgerUpgradeTests {
    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    /// The migration identifiers, oldest first: version N is the first N.
    static let versions: [String] = [
        "v1", "v2: owners, destinations, result URLs", "v3: timings per endpoint", "v4: regions and hosts",
        "v5: stars and tags", "v6: spending", "v7: webhooks", "v8: rate-limit waits", "v9: parents",
        "v10: request bodies apart",
    ]

    static let created = Date(timeIntervalSince1970: 1_790_000_000)

    /// What each fixture job holds, by phase; a column a version lacks is left out.
    static func row(_ phase: JobPhase, index: Int) -> [String: (any DatabaseValueConvertible)?] {
        let id = String(format: "0000%04d-0000-4000-8000-000000000000", index)
        let paid = phase != .queued && phase != .cancelled
        return [
            "id": id, "createdAt": created.addingTimeInterval(Double(index)), "updatedAt": created.addingTimeInterval(Double(index) + 1),
            "model": "flux-2-pro", "endpoint": "global", "prompt": "ledger \(phase.rawValue)",
            "requestJSON": #"{"prompt":"ledger \#(phase.rawValue)","width":1024,"height":1024}"#, "estimatedCredits": "3",
            "phase": phase.rawValue, "serverStatus": paid ? "Ready" : nil, "progress": paid ? 1.0 : nil,
            "taskID": paid ? "task-\(index)" : nil, "pollingURL": paid ? "https://api.bfl.ai/v1/get_result?id=task-\(index)" : nil,
            "submitCost": paid ? "3" : nil, "inputMP": 0.0, "outputMP": 1.0, "settledCost": phase == .done ? "3.5" : nil,
            "seed": 42 + index, "fileExtension": "jpg",
            "outputPath": phase == .done ? "/home/u/Pictures/fluxdeck/ledger-\(index).jpg" : nil,
            "sidecarPath": phase == .done ? "/home/u/Pictures/fluxdeck/ledger-\(index).json" : nil,
            "errorKind": phase == .failed ? "api_refused" : nil, "errorMessage": phase == .failed ? "the server said no" : nil,
            "submittedAt": paid ? created.addingTimeInterval(Double(index) + 0.5) : nil,
            "finishedAt": phase.isFinal ? created.addingTimeInterval(Double(index) + 9) : nil,
            "polls": paid ? 3 : 0, "groupID": "group-1",
            "outputDirectory": "/home/u/Pictures/fluxdeck", "ownerID": nil, "resultURL": phase == .done ? "https://delivery.bfl.ai/x\(index).jpg" : nil,
            "region": "eu", "apiHost": "api.eu.bfl.ai", "clusterHost": nil,
            "starred": index == 0, "tags": index == 0 ? #"["kept"]"# : "[]",
            "followedBy": "polling", "retryAt": nil,
            "parents": index == 1 ? #"["00000000-0000-4000-8000-000000000000"]"# : "[]",
        ]
    }

    /// Writes `ledger-vN.sqlite` for every version (and the newer one) when asked to.
    @Test("fixtures are recorded only with RECORD_LEDGER_FIXTURES=1",
          .enabled(if: ProcessInfo.processInfo.environment["RECORD_LEDGER_FIXTURES"] == "1"))
    func record() throws {
        try FileManager.default.createDirectory(at: Self.fixtures, withIntermediateDirectories: true)
        // A fixture is what its version wrote: one already recorded is kept as it is.
        for (index, identifier) in Self.versions.enumerated() {
            let file = Self.fixtures.appendingPathComponent("ledger-v\(index + 1).sqlite")
            if FileManager.default.fileExists(atPath: file.path) { continue }
            try write(file, upTo: identifier, future: false)
        }
        try write(Self.fixtures.appendingPathComponent("ledger-newer.sqlite"), upTo: Self.versions[Self.versions.count - 1], future: true)
    }

    private func write(_ file: URL, upTo identifier: String, future: Bool) throws {
        try? FileManager.default.removeItem(at: file)
        // One file, no WAL: what is committed is the whole ledger.
        let queue = try DatabaseQueue(path: file.path)
        try JobStore.migrator.migrate(queue, upTo: identifier)
        try queue.write { db in
            let columns = try db.columns(in: "job").map(\.name)
            let bodiesApart = try db.tableExists("job_request")
            for (index, phase) in JobPhase.allCases.enumerated() {
                var row = Self.row(phase, index: index)
                // From v10 the request is in a row of its own, the job's column empty.
                let body = row["requestJSON"] as? String ?? ""
                if bodiesApart { row["requestJSON"] = "" }
                let present = columns.filter { row.keys.contains($0) }
                let values = present.map { row[$0] ?? nil }
                try db.execute(sql: "INSERT INTO job (\(present.joined(separator: ", "))) VALUES (\(present.map { _ in "?" }.joined(separator: ", ")))",
                               arguments: StatementArguments(values))
                if bodiesApart {
                    try db.execute(sql: "INSERT INTO job_request (jobID, body, bytes) VALUES (?, ?, ?)", arguments: [row["id"] ?? nil, body, body.utf8.count])
                }
                try db.execute(sql: "INSERT INTO job_event (jobID, at, phase, detail) VALUES (?, ?, ?, ?)",
                               arguments: [row["id"] ?? nil, Self.created, phase.rawValue, "the fixture's \(phase.rawValue) job"])
            }
            if future {
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from a newer fluxdeck')")
            }
        }
        try queue.close()
    }

    /// A copy of the fixture in a folder of its own (the fixture itself is never written).
    func copy(_ name: String) throws -> (URL, String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-ledger-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let target = folder.appendingPathComponent("fluxdeck.sqlite")
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent(name), to: target)
        return (folder, target.path)
    }

    @Test("a ledger of every past version opens, migrates and keeps every job, cost, path and history line", arguments: 1...10)
    func upgrade(_ version: Int) throws {
        #expect(Self.versions.count == 10, "a migration was added: record a fixture for it and list it here")
        let (folder, path) = try copy("ledger-v\(version).sqlite")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try JobStore(path: path)
        let jobs = try store.jobs()
        #expect(jobs.count == JobPhase.allCases.count, "v\(version): \(jobs.count) jobs")
        for (index, phase) in JobPhase.allCases.enumerated() {
            let row = Self.row(phase, index: index)
            let job = try #require(jobs.first { $0.id == row["id"] as? String }, "v\(version): the \(phase) job is gone")
            #expect(job.phase == phase)
            #expect(job.prompt == "ledger \(phase.rawValue)" && job.requestJSON == row["requestJSON"] as? String && !job.requestJSON.isEmpty)
            #expect(job.estimatedCredits == "3" && job.submitCost == row["submitCost"] as? String && job.settledCost == row["settledCost"] as? String)
            #expect(job.outputPath == row["outputPath"] as? String && job.sidecarPath == row["sidecarPath"] as? String)
            #expect(job.taskID == row["taskID"] as? String && job.pollingURL == row["pollingURL"] as? String)
            #expect(job.seed == 42 + index && job.polls == (row["polls"] as? Int))
            #expect(try store.history(id: job.id).map(\.detail) == ["the fixture's \(phase.rawValue) job"])
            // What later versions added is there from the version that wrote it on.
            if version >= 2 { #expect(job.outputDirectory == "/home/u/Pictures/fluxdeck") }
            if version >= 4 { #expect(job.region == "eu") }
            if version >= 5 { #expect(job.starred == (index == 0) && job.tags == (index == 0 ? ["kept"] : [])) }
            if version >= 7 { #expect(job.followedBy == "polling") }
            // Parents are kept from the version that records them; older jobs have none.
            #expect(job.parents == (version >= 9 && index == 1 ? ["00000000-0000-4000-8000-000000000000"] : []))
        }
        // The spend the ledger reports counts what was charged.
        let charged = jobs.compactMap(\.chargedCredits).reduce(Credits.zero, +)
        #expect(charged == Credits("3") * (JobPhase.allCases.count - 3) + Credits("3.5"), "\(charged)")
    }

    @Test("a ledger from a newer fluxdeck is refused with a sentence, and left as it was")
    func newer() throws {
        let (folder, path) = try copy("ledger-newer.sqlite")
        defer { try? FileManager.default.removeItem(at: folder) }
        let error = #expect(throws: JobStoreError.self) { try JobStore(path: path) }
        #expect(error?.message.contains("newer fluxdeck") == true, "\(String(describing: error))")
        #expect(error?.message.contains("v99: from a newer fluxdeck") == true)
        // Nothing was migrated or dropped (SQLite's journal mode aside, nothing was written).
        var configuration = Configuration()
        configuration.readonly = true
        let after = try DatabaseQueue(path: path, configuration: configuration)
        let (jobs, applied) = try after.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM job"), try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
        }
        #expect(jobs == JobPhase.allCases.count)
        #expect(applied == Self.versions + ["v99: from a newer fluxdeck"])
    }
}
