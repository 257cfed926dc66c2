public import BFL
public import Foundation
import Synchronization
import GRDB
import BaseDirectories

/// The job ledger: SQLite through GRDB, in WAL mode, with migrations. Every write is a short
/// synchronous transaction, so "written before the POST" holds literally.
public final class JobStore: Sendable {
    /// A checkpoint is scheduled (`checkpointSoon`).
    private let checkpointDue = Mutex(false)
    private let pool: DatabasePool
    /// A connection of its own for checkpoints, so they never hold the pool's writer.
    private let checkpointer: DatabaseQueue
    public let path: String

    /// Opens (creating if needed) the ledger at `path`.
    public init(path: String) throws(JobStoreError) {
        self.path = path
        do {
            // The ledger holds prompts and reference images: its folder is the user's alone
            // (0700) and the database, its WAL and shared memory are 0600 (SQLite gives the WAL
            // and -shm the database's mode, so the file is made 0600 before SQLite opens it).
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            try PrivateFiles.makeFolder(folder.path)
            try PrivateFiles.makeFile(path)
            for suffix in ["-wal", "-shm"] { PrivateFiles.restrict(path + suffix) }
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            // Checkpoints are `checkpointSoon`'s, after writes rather than inside them.
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
            pool = try DatabasePool(path: path, configuration: configuration)
            // A ledger a newer fluxdeck has migrated is not this version's to change.
            // (On the writer: a reader that saw the old schema would keep it after the migration.)
            let unknown = try pool.write { db in
                try Self.migrator.appliedIdentifiers(db).subtracting(Self.migrator.migrations)
            }
            guard unknown.isEmpty else {
                throw JobStoreError(message: "the job ledger at \(path) was written by a newer fluxdeck (\(unknown.sorted().joined(separator: ", "))); "
                    + "this version cannot use it: update fluxdeck, or point it at another ledger")
            }
            try Self.migrator.migrate(pool)
            checkpointer = try DatabaseQueue(path: path, configuration: configuration)
        } catch let error as JobStoreError {
            throw error
        } catch {
            throw JobStoreError(message: "cannot open the job ledger at \(path): \(Self.describe(error))")
        }
    }

    /// `$XDG_DATA_HOME/fluxdeck/fluxdeck.sqlite` (default `~/.local/share`).
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        BaseDirectory.data.path("fluxdeck.sqlite", environment: environment)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "job") { t in
                t.primaryKey("id", .text)
                t.column("createdAt", .datetime).notNull().indexed()
                t.column("updatedAt", .datetime).notNull()
                t.column("model", .text).notNull()
                t.column("endpoint", .text).notNull()
                t.column("prompt", .text).notNull()
                t.column("requestJSON", .text).notNull()
                t.column("estimatedCredits", .text).notNull()
                t.column("phase", .text).notNull().indexed()
                t.column("serverStatus", .text)
                t.column("progress", .double)
                t.column("taskID", .text)
                t.column("pollingURL", .text)
                t.column("submitCost", .text)
                t.column("inputMP", .double)
                t.column("outputMP", .double)
                t.column("settledCost", .text)
                t.column("seed", .integer)
                t.column("fileExtension", .text).notNull()
                t.column("outputPath", .text)
                t.column("sidecarPath", .text)
                t.column("errorKind", .text)
                t.column("errorMessage", .text)
                t.column("submittedAt", .datetime)
                t.column("finishedAt", .datetime)
                t.column("polls", .integer).notNull()
                t.column("groupID", .text).indexed()
            }
            try db.create(table: "job_event") { t in
                t.autoIncrementedPrimaryKey("rowid")
                t.column("jobID", .text).notNull().indexed().references("job", onDelete: .cascade)
                t.column("at", .datetime).notNull()
                t.column("phase", .text).notNull()
                t.column("detail", .text)
            }
            try db.create(table: "model_stat") { t in
                t.primaryKey("model", .text)
                t.column("meanSeconds", .double).notNull()
                t.column("samples", .integer).notNull()
            }
        }
        migrator.registerMigration("v2: owners, destinations, result URLs") { db in
            try db.alter(table: "job") { t in
                // Where the image goes, fixed when the job is made (resume and retry save there).
                t.add(column: "outputDirectory", .text)
                // The runner (a fluxdeck process) that follows the job; see `runner`.
                t.add(column: "ownerID", .text)
                // The signed URL of the result, kept so a failed save can be retried.
                t.add(column: "resultURL", .text)
            }
            try db.create(table: "runner") { t in
                t.primaryKey("id", .text)
                t.column("pid", .integer).notNull()
                t.column("processStart", .text).notNull()
                t.column("host", .text).notNull()
                t.column("startedAt", .datetime).notNull()
                t.column("heartbeatAt", .datetime).notNull()
            }
        }
        // v1's model_stat (one running mean per model) is superseded by `timing` and unused.
        migrator.registerMigration("v3: timings per endpoint") { db in
            try db.create(table: "timing") { t in
                t.column("endpoint", .text).notNull()
                t.column("model", .text).notNull()
                t.column("json", .text).notNull()
                t.primaryKey(["endpoint", "model"])
            }
        }
        migrator.registerMigration("v4: regions and hosts") { db in
            try db.alter(table: "job") { t in
                // Where the job was sent: its region, the front door, the cluster holding it.
                t.add(column: "region", .text)
                t.add(column: "apiHost", .text)
                t.add(column: "clusterHost", .text)
            }
        }
        migrator.registerMigration("v5: stars and tags") { db in
            try db.alter(table: "job") { t in
                t.add(column: "starred", .boolean).notNull().defaults(to: false)
                // A JSON array of lowercase tags.
                t.add(column: "tags", .text).notNull().defaults(to: "[]")
            }
        }
        migrator.registerMigration("v6: spending") { db in
            // Covers every column the spend aggregates read, so `fluxdeck spend` and the spend
            // view scan this index by date and never the rows (prompts, request bodies).
            try db.create(index: "job_spend", on: "job",
                          columns: ["createdAt", "model", "endpoint", "phase", "estimatedCredits", "submitCost", "settledCost"])
        }
        migrator.registerMigration("v7: webhooks") { db in
            try db.alter(table: "job") { t in t.add(column: "followedBy", .text) }
        }
        migrator.registerMigration("v8: rate-limit waits") { db in
            try db.alter(table: "job") { t in t.add(column: "retryAt", .datetime) }
        }
        migrator.registerMigration("v9: parents") { db in
            // A JSON array of job ids; the saved image's path is how a parent is found.
            try db.alter(table: "job") { t in t.add(column: "parents", .text).notNull().defaults(to: "[]") }
            try db.create(index: "job_output_path", on: "job", columns: ["outputPath"])
        }
        migrator.registerMigration("v10: request bodies apart") { db in
            // An edit's body is megabytes of base64: in the job's row, every phase saved
            // rewrote it (SQLite writes a row whole). Its own row is written once.
            try db.create(table: "job_request") { t in
                t.primaryKey("jobID", .text).references("job", onDelete: .cascade)
                t.column("body", .text).notNull()
                // Its length in bytes, so a list can leave large bodies unread.
                t.column("bytes", .integer).notNull()
            }
            try db.execute(sql: "INSERT INTO job_request (jobID, body, bytes) SELECT id, requestJSON, length(CAST(requestJSON AS BLOB)) FROM job")
            try db.execute(sql: "UPDATE job SET requestJSON = ''")
        }
        return migrator
    }

    /// What has been learned of `model`'s service time on `endpoint` (nil: nothing yet, or
    /// unreadable).
    public func timing(endpoint: String, model: String) throws(JobStoreError) -> LearnedTiming? {
        let text = try read { db in
            try String.fetchOne(db, sql: "SELECT json FROM timing WHERE endpoint = ? AND model = ?", arguments: [endpoint, model])
        }
        guard let text, let timing = try? JSONDecoder().decode(LearnedTiming.self, from: Data(text.utf8)) else { return nil }
        // Bounded on read too: a ledger written by anything else cannot poison the cadence.
        return timing.bounded()
    }

    /// The polling URLs BFL has given for `endpoint`'s jobs, one per host, most recently used
    /// host first: where a task that came without a polling URL may be looked for.
    public func pollingURLsByHost(endpoint: String, limit: Int = 8) throws(JobStoreError) -> [String] {
        try read { db in
            // SQLite takes a bare column from the row that holds the MAX.
            try String.fetchAll(db, sql: """
                SELECT pollingURL FROM (
                    SELECT pollingURL, MAX(createdAt) AS latest FROM job
                    WHERE endpoint = ? AND pollingURL IS NOT NULL AND clusterHost IS NOT NULL
                    GROUP BY clusterHost ORDER BY latest DESC LIMIT ?)
                """, arguments: [endpoint, limit])
        }
    }

    public func saveTiming(_ timing: LearnedTiming, endpoint: String, model: String) throws(JobStoreError) {
        guard let data = try? JSONEncoder().encode(timing) else { return }
        let text = String(decoding: data, as: UTF8.self)
        try write { db in
            try db.execute(sql: "INSERT INTO timing (endpoint, model, json) VALUES (?, ?, ?) ON CONFLICT(endpoint, model) DO UPDATE SET json = excluded.json",
                           arguments: [endpoint, model, text])
        }
    }

    // MARK: writing

    /// Inserts new jobs with their first history entry (with its detail, such as a size that
    /// was snapped, from `details` by job id), in one transaction.
    public func insert(_ jobs: [JobRecord], details: [String: String] = [:]) throws(JobStoreError) {
        try write { db in
            for job in jobs {
                try Self.insertRow(job, db)
                try JobEventRecord(jobID: job.id, at: job.updatedAt, phase: job.phase, detail: details[job.id]).insert(db)
            }
        }
    }

    /// Saves a job (all but its request, which is written once); when its phase changed,
    /// appends a history entry. A job that names an owner is saved only while the ledger still
    /// names the same one: a runner that lost the job to another (which adopted it while this
    /// one seemed gone) gets `JobStoreError.lostOwnership` and must stop following it.
    public func save(_ job: JobRecord, detail: String? = nil) throws(JobStoreError) {
        var lost = false
        try write { db in
            let row = try Row.fetchOne(db, sql: "SELECT phase, ownerID FROM job WHERE id = ?", arguments: [job.id])
            let previous: String? = row?["phase"]
            if let owner = job.ownerID, let row, (row["ownerID"] as String?) != owner {
                lost = true
                return
            }
            if row == nil {
                try Self.insertRow(job, db)
            } else {
                // The request is in a row of its own, written once (`insertRow`).
                try job.update(db, columns: try db.columns(in: JobRecord.databaseTableName).map(\.name).filter { $0 != "requestJSON" })
            }
            if previous != job.phase.rawValue || detail != nil {
                try JobEventRecord(jobID: job.id, at: job.updatedAt, phase: job.phase, detail: detail).insert(db)
            }
        }
        if lost { throw .lostOwnership(jobID: job.id) }
    }

    /// A new job's row, its request in `job_request` (the job row's own column stays empty).
    private static func insertRow(_ job: JobRecord, _ db: Database) throws {
        var row = job
        row.requestJSON = ""
        try row.insert(db)
        try db.execute(sql: "INSERT INTO job_request (jobID, body, bytes) VALUES (?, ?, ?)",
                       arguments: [job.id, job.requestJSON, job.requestJSON.utf8.count])
    }

    /// Makes `owner` the job's owner if the ledger still names `previous` (nil: no owner).
    /// True when the job is now `owner`'s; false when another runner got there first.
    public func claim(jobID: String, owner: String, from previous: String?) throws(JobStoreError) -> Bool {
        var claimed = false
        try write { db in
            if let previous {
                try db.execute(sql: "UPDATE job SET ownerID = ? WHERE id = ? AND ownerID = ?", arguments: [owner, jobID, previous])
            } else {
                try db.execute(sql: "UPDATE job SET ownerID = ? WHERE id = ? AND ownerID IS NULL", arguments: [owner, jobID])
            }
            claimed = db.changesCount > 0
        }
        return claimed
    }

    // MARK: runners

    /// Registers a runner (or refreshes its row).
    public func register(_ runner: RunnerRecord) throws(JobStoreError) {
        try write { db in try runner.save(db) }
    }

    /// Records that `runnerID` is alive at `date`.
    public func heartbeat(runnerID: String, at date: Date) throws(JobStoreError) {
        try write { db in
            try db.execute(sql: "UPDATE runner SET heartbeatAt = ? WHERE id = ?", arguments: [date, runnerID])
        }
    }

    /// Removes a runner that stops cleanly (its unfinished jobs are free to adopt at once).
    public func unregister(runnerID: String) throws(JobStoreError) {
        try write { db in _ = try RunnerRecord.deleteOne(db, key: runnerID) }
    }

    /// Forgets runners that are gone and follow no unfinished job any more.
    public func pruneRunners(now: Date, keeping: String) throws(JobStoreError) {
        let unfinished = JobPhase.unfinished.map { "'\($0.rawValue)'" }.joined(separator: ",")
        try write { db in
            let busy = Set(try String.fetchAll(db, sql: "SELECT DISTINCT ownerID FROM job WHERE ownerID IS NOT NULL AND phase IN (\(unfinished))"))
            for runner in try RunnerRecord.fetchAll(db) where runner.id != keeping && !busy.contains(runner.id) && runner.isGone(now: now) {
                _ = try RunnerRecord.deleteOne(db, key: runner.id)
            }
        }
    }

    public func runners() throws(JobStoreError) -> [RunnerRecord] {
        try read { db in try RunnerRecord.fetchAll(db) }
    }

    /// Deletes a job and its history (its files are the caller's business).
    public func delete(id: String) throws(JobStoreError) {
        try write { db in _ = try JobRecord.deleteOne(db, key: id) }
    }

    // MARK: reading

    public func job(id: String) throws(JobStoreError) -> JobRecord? {
        try read { db in try JobRecord.fetchOne(db, key: id) }
    }

    /// Jobs whose id starts with `prefix` (people type short ids).
    public func jobs(idPrefix prefix: String) throws(JobStoreError) -> [JobRecord] {
        try read { db in try JobRecord.filter(sql: "id LIKE ?", arguments: [prefix.lowercased() + "%"]).fetchAll(db) }
    }

    /// Jobs, newest first, optionally only in some phases.
    public func jobs(phases: [JobPhase]? = nil, limit: Int? = nil) throws(JobStoreError) -> [JobRecord] {
        try read { db in
            var request = JobRecord.order(Column("createdAt").desc, Column("id"))
            if let phases { request = request.filter(phases.map(\.rawValue).contains(Column("phase"))) }
            if let limit { request = request.limit(limit) }
            return try request.fetchAll(db)
        }
    }

    /// The id of the job whose saved image is at `path` (the newest, should two have been saved
    /// there); its request, megabytes for an edit, is not read.
    public func jobID(outputPath path: String) throws(JobStoreError) -> String? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT id FROM job WHERE outputPath = ? ORDER BY createdAt DESC LIMIT 1", arguments: [path])
        }
    }

    /// Jobs added to the ledger after row `rowID` (for display: large request bodies left
    /// out), oldest first, with the newest row there is; nil `rowID` only asks the latter.
    /// Reads the table's own row order (no index to keep), in one snapshot.
    public func jobsAdded(after rowID: Int64?) throws(JobStoreError) -> (jobs: [JobRecord], last: Int64) {
        try read { db in
            let last = try Int64.fetchOne(db, sql: "SELECT max(rowid) FROM job") ?? 0
            guard let rowID, last > rowID else { return ([], last) }
            return (try Self.forDisplay(JobRecord.filter(sql: "rowid > ?", arguments: [rowID]).order(sql: "rowid"), db, 65_536), last)
        }
    }

    /// Jobs a resume may take: those in `phases`, and failed jobs that had a task id when the
    /// network failed (their image may still be fetched). Filtered in SQL: a runner asks every
    /// heartbeat, and a long ledger holds hundreds of other failures.
    public func resumableJobs(phases: [JobPhase]) throws(JobStoreError) -> [JobRecord] {
        try read { db in
            try JobRecord
                .filter(phases.map(\.rawValue).contains(Column("phase"))
                    || (Column("phase") == JobPhase.failed.rawValue && Column("errorKind") == JobErrorKind.network.rawValue && Column("taskID") != nil))
                .order(Column("createdAt"), Column("id"))
                .fetchAll(db)
        }
    }

    /// The newest jobs for display: request bodies longer than `maxRequestBytes` (edits carry
    /// their input images in base64) are left empty, read one row at a time, so a long ledger of
    /// edits never sits in memory. `job(id:)` still gives the whole record.
    public func recentJobs(limit: Int, maxRequestBytes: Int = 65_536) throws(JobStoreError) -> [JobRecord] {
        try read { db in
            try Self.forDisplay(JobRecord.order(Column("createdAt").desc, Column("id")).limit(limit), db, maxRequestBytes)
        }
    }

    /// Saved images made before `cursor` (a page's last), newest first, that `query` matches,
    /// searched in SQL. Large request bodies are left out as in `recentJobs`.
    public func outputs(before cursor: Date?, query: OutputQuery, limit: Int, maxRequestBytes: Int = 65_536) throws(JobStoreError) -> [JobRecord] {
        // A filter that cannot be read matches nothing, here as in memory.
        guard query.problems.isEmpty else { return [] }
        return try read { db in
            var request = JobRecord.filter(Column("outputPath") != nil)
            // A family comes whole, oldest first: no page of it is older than another.
            if let cursor, !query.oldestFirst { request = request.filter(Column("createdAt") < cursor) }
            func like(_ text: String) -> String {
                "%" + text.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
            }
            let haystack = "(lower(prompt) LIKE ? ESCAPE '\\' OR lower(model) LIKE ? ESCAPE '\\' OR lower(outputPath) LIKE ? ESCAPE '\\')"
            for word in query.words where !word.isEmpty {
                request = request.filter(sql: haystack, arguments: [like(word), like(word), like(word)])
            }
            for word in query.excluded where !word.isEmpty {
                request = request.filter(sql: "NOT " + haystack, arguments: [like(word), like(word), like(word)])
            }
            if !query.models.isEmpty {
                request = request.filter(sql: "(" + query.models.map { _ in "lower(model) LIKE ? ESCAPE '\\'" }.joined(separator: " OR ") + ")",
                                         arguments: StatementArguments(query.models.map(like)))
            }
            if !query.statuses.isEmpty {
                request = request.filter(sql: "(" + query.statuses.map { _ in "phase LIKE ? ESCAPE '\\'" }.joined(separator: " OR ") + ")",
                                         arguments: StatementArguments(query.statuses.map { String(like($0).dropFirst()) }))
            }
            if query.starred { request = request.filter(Column("starred") == true) }
            for tag in query.tags {
                // Tags are a JSON array of plain words: a quoted match is the whole tag.
                request = request.filter(sql: "tags LIKE ? ESCAPE '\\'", arguments: [like("\"" + tag + "\"")])
            }
            if let seed = query.seed { request = request.filter(Column("seed") == seed) }
            if let after = query.after { request = request.filter(Column("createdAt") >= after) }
            if let before = query.before { request = request.filter(Column("createdAt") < before) }
            // Group ids are hex and dashes (the parser takes nothing else), so no escaping.
            if let group = query.group { request = request.filter(sql: "lower(groupID) LIKE ?", arguments: [group + "%"]) }
            if let family = query.family {
                // The jobs named, their parents in turn, and the jobs that name them in turn (as
                // `Lineage.family` walks the loaded jobs). Ids are hex and dashes: no escaping.
                request = request.filter(sql: """
                    id IN (WITH RECURSIVE
                      root(id) AS (SELECT id FROM job WHERE lower(id) LIKE ?),
                      up(id) AS (SELECT id FROM root UNION SELECT p.value FROM up JOIN job ON job.id = up.id, json_each(job.parents) AS p),
                      down(id) AS (SELECT id FROM root UNION SELECT child.id FROM down, job AS child, json_each(child.parents) AS p
                                   WHERE child.parents != '[]' AND p.value = down.id)
                    SELECT id FROM up UNION SELECT id FROM down)
                    """, arguments: [family + "%"])
            }
            let order = query.oldestFirst ? request.order(Column("createdAt"), Column("id")) : request.order(Column("createdAt").desc, Column("id"))
            return try Self.forDisplay(order.limit(limit), db, maxRequestBytes)
        }
    }

    /// Stars or tags a job (the two columns only: whoever follows the job is not disturbed).
    /// Returns the job as it is now, or nil when it is not in the ledger.
    @discardableResult
    public func curate(id: String, starred: Bool, tags: [String]) throws(JobStoreError) -> JobRecord? {
        let tagsJSON = String(decoding: (try? JSONEncoder().encode(tags)) ?? Data("[]".utf8), as: UTF8.self)
        try write { db in
            try db.execute(sql: "UPDATE job SET starred = ?, tags = ? WHERE id = ?", arguments: [starred, tagsJSON, id])
        }
        return try job(id: id)
    }

    /// Jobs with their requests, those over `maxRequestBytes` left unread (empty).
    private static func forDisplay(_ request: QueryInterfaceRequest<JobRecord>, _ db: Database,
                                   _ maxRequestBytes: Int) throws -> [JobRecord] {
        try request.select(JobRecord.selection(maxRequestBytes: maxRequestBytes)).fetchAll(db)
    }

    /// How many jobs the studio loads at a time (the newest at start, then pages of images).
    public static let displayPage = 500

    /// Credits charged by jobs created at or after `date`, leaving out the ids given. Only the
    /// cost columns are read.
    public func charged(since date: Date, excluding ids: Set<String> = []) throws(JobStoreError) -> Credits {
        let rows = try read { db in
            try Row.fetchAll(db, sql: "SELECT id, settledCost, submitCost FROM job WHERE createdAt >= ?", arguments: [date])
        }
        return rows.reduce(Credits.zero) { total, row in
            let id: String = row["id"]
            guard !ids.contains(id), let charged = JobRecord.credits((row["settledCost"] as String?) ?? (row["submitCost"] as String?)) else {
                return total
            }
            return total + charged
        }
    }

    public func count() throws(JobStoreError) -> Int {
        try read { db in try JobRecord.fetchCount(db) }
    }

    public func history(id: String) throws(JobStoreError) -> [JobEventRecord] {
        try read { db in
            try JobEventRecord.filter(Column("jobID") == id).order(Column("rowid")).fetchAll(db)
        }
    }

    // MARK: plumbing

    private func write(_ body: (Database) throws -> Void) throws(JobStoreError) {
        do { try pool.write(body) } catch {
            throw JobStoreError(message: "cannot write the job ledger at \(path): \(Self.describe(error))")
        }
        checkpointSoon()
    }

    /// Copies the WAL into the database half a second after a write, beside the writer (on a
    /// connection of its own, a passive checkpoint lets writes go on):
    /// SQLite's own checkpoint runs inside the commit that crosses its threshold, and for an
    /// edit's megabytes that doubled the time from Enter to the POST. Writes in between share
    /// one checkpoint; a process that ends first leaves the WAL to the next opener, as SQLite
    /// always does.
    private func checkpointSoon() {
        guard checkpointDue.withLock({ due in defer { due = true }; return !due }) else { return }
        Task.detached(priority: .background) { [self] in
            try? await Task.sleep(for: .milliseconds(500))
            checkpointDue.withLock { $0 = false }
            try? await checkpointer.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(JobStoreError) -> T {
        do { return try pool.read(body) } catch {
            throw JobStoreError(message: "cannot read the job ledger at \(path): \(Self.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.message ?? "\(error.resultCode)"
        }
        return "\(error)"
    }
}

/// The ledger could not be opened, read or written.
public struct JobStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// True when a save was refused because another runner took the job over.
    public var isLostOwnership = false

    public init(message: String, isLostOwnership: Bool = false) {
        self.message = message
        self.isLostOwnership = isLostOwnership
    }

    public var description: String { message }

    static func lostOwnership(jobID: String) -> JobStoreError {
        JobStoreError(message: "job \(jobID.prefix(8)) is followed by another fluxdeck now", isLostOwnership: true)
    }
}
