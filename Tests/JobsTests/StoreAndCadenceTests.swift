import BFL
import Foundation
import Imaging
import Jobs
import Testing

func temporaryDirectory(_ name: String = "fluxdeck-jobs") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite("Poll cadence")
struct CadenceTests {
    let cadence = PollCadence()
    /// Nothing learned yet: the catalog's typical 10 s (low 7.5 s, high 13 s).
    let fresh = LearnedTiming(typical: .seconds(10))
    /// Twenty tasks of 2.0…2.95 s (low end 2.05 s), with a learned pending share of 15 %.
    var learned: LearnedTiming {
        var timing = LearnedTiming(typical: .seconds(10))
        for n in 0..<20 { timing.learn(seconds: 2 + Double(n) * 0.05, readings: []) }
        timing.pendingShare = 0.15
        return timing
    }

    func inputs(_ elapsed: Duration, _ readings: [(Duration, Double)] = [], _ timing: LearnedTiming, past: Int = 0) -> PollCadence.Inputs {
        PollCadence.Inputs(elapsed: elapsed, readings: readings.map { PollCadence.Reading(elapsed: $0.0, progress: $0.1) },
                           timing: timing, pollsPastExpected: past)
    }

    @Test("the first poll comes at 60 % of the learned low end, within 0.25 s and 3 s")
    func first() {
        #expect(cadence.firstDelay(fresh) == .seconds(3))
        #expect(cadence.firstDelay(learned) == .milliseconds(1230))
        var quick = LearnedTiming(typical: .milliseconds(200))
        quick.durations = []
        #expect(cadence.firstDelay(quick) == .milliseconds(250))
    }

    @Test("table: where the next poll goes", arguments: [
        // (elapsed s, readings, learned?, past, expected delay ms, why)
        (1.0, [(1.0, 0.05)] as [(Double, Double)], false, 0, 5000, "one early reading (20 s) is not trusted past the high end (13 s); half-way, within the 5 s cap"),
        (1.2, [(1.2, 0.4)], true, 0, 1_259, "one reading with a learned pending share: aimed at 2.449 s + margin"),
        (2.0, [(1.0, 0.2), (2.0, 0.6)], false, 0, 1_010, "two readings give the rate: finish at 3 s + margin"),
        (3.1, [(1.0, 0.2), (2.0, 0.6)], false, 0, 100, "just past the expected finish: short gaps"),
        (20.0, [], false, 3, 338, "clearly overdue (beyond 1.25 × 13 s): backing off from the short gap"),
        (5.0, [], false, 0, 2_510, "no readings: half-way to the median, plus the margin"),
    ])
    func table(_ elapsed: Double, _ readings: [(Double, Double)], _ useLearned: Bool, _ past: Int, _ expectedMS: Int, _ why: String) {
        let timing = useLearned ? learned : fresh
        let delay = cadence.delay(inputs(.milliseconds(Int64(elapsed * 1000)), readings.map { (.milliseconds(Int64($0.0 * 1000)), $0.1) },
                                         timing, past: past))
        let ms = Int((Double(delay.components.seconds) * 1000 + Double(delay.components.attoseconds) / 1e15).rounded())
        #expect(abs(ms - expectedMS) <= 2, "\(why): got \(ms) ms")
    }

    @Test("the back-off grows by 1.5 to the 5 s cap")
    func backOff() {
        let delays = (0..<12).map { cadence.delay(inputs(.seconds(60), [], fresh, past: $0)) }
        #expect(delays.first == .milliseconds(100))
        #expect(zip(delays, delays.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(delays.last == .seconds(5))
    }

    @Test("learning keeps the last 64 durations and the pending share from readings; quantiles need five")
    func learning() {
        var timing = LearnedTiming(typical: .seconds(5))
        #expect(timing.quantile(0.5) == nil)
        #expect(timing.median == .seconds(5))
        // A task of 4 s that read 50 % at 2.3 s spent 15 % of its time pending.
        timing.learn(seconds: 4, readings: [PollCadence.Reading(elapsed: .milliseconds(2300), progress: 0.5)])
        #expect(abs((timing.pendingShare ?? 0) - 0.15) < 0.001)
        for n in 0..<100 { timing.learn(seconds: Double(n % 10) + 1, readings: []) }
        #expect(timing.durations.count == LearnedTiming.capacity)
        #expect(timing.quantile(0.5) != nil)
        for absurd in [Double.nan, .infinity, -1, 1e17] { timing.learn(seconds: absurd, readings: []) }
        #expect(timing.durations.allSatisfy { $0 > 0 && $0 <= 10 })
    }
}

@Suite("Job ledger")
struct JobStoreTests {
    func record(_ model: String = "flux-2-pro", at date: Date = Date()) -> JobRecord {
        JobRecord(id: UUID().uuidString.lowercased(), createdAt: date, model: model, endpoint: "global",
                  prompt: "a lighthouse", requestJSON: #"{"prompt":"a lighthouse"}"#, estimatedCredits: "4.5",
                  fileExtension: "jpg", groupID: "g1")
    }

    @Test("insert, save with history, filter by phase, newest first; survives reopening")
    func roundTrip() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ledger/fluxdeck.sqlite").path
        let store = try JobStore(path: path)
        let older = record(at: Date(timeIntervalSince1970: 1_000))
        var newer = record("flux-kontext-max", at: Date(timeIntervalSince1970: 2_000))
        try store.insert([older, newer])
        newer.phase = .submitting
        try store.save(newer)
        newer.phase = .pending
        newer.taskID = "task-1"
        newer.pollingURL = "https://api.eu2.bfl.ai/v1/get_result?id=task-1"
        try store.save(newer)
        try store.save(newer, detail: "unknown status \"Paused\"; still polling")
        #expect(try store.jobs().map(\.id) == [newer.id, older.id])
        #expect(try store.jobs(phases: [.pending]).map(\.id) == [newer.id])
        #expect(try store.jobs(limit: 1).count == 1)
        #expect(try store.history(id: newer.id).map(\.phase) == [.queued, .submitting, .pending, .pending])
        #expect(try store.history(id: newer.id).last?.detail == "unknown status \"Paused\"; still polling")
        #expect(try store.jobs(idPrefix: String(newer.id.prefix(6))).map(\.id) == [newer.id])
        #expect(try store.job(id: newer.id)?.estimate == "4.5")

        let reopened = try JobStore(path: path)
        #expect(try reopened.job(id: newer.id)?.pollingURL == "https://api.eu2.bfl.ai/v1/get_result?id=task-1")
        #expect(try reopened.count() == 2)
    }

    @Test("a save writes the job's state, never its request: a copy read for display (its large request left out) saves without losing it; a job not yet written is inserted")
    func saveKeepsTheRequest() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try JobStore(path: directory.appendingPathComponent("ledger.sqlite").path)
        var edit = record("flux-pro-1.0-fill")
        edit.requestJSON = #"{"image":""# + String(repeating: "QUJD", count: 40_000) + #"","prompt":"a lantern"}"#
        try store.insert([edit])
        var shown = try #require(try store.recentJobs(limit: 10).first)
        #expect(shown.requestJSON.isEmpty)
        shown.phase = .submitting
        try store.save(shown)
        let saved = try #require(try store.job(id: edit.id))
        #expect(saved.phase == .submitting)
        #expect(saved.requestJSON == edit.requestJSON)
        let fresh = record()
        try store.save(fresh)
        #expect(try store.job(id: fresh.id)?.requestJSON == fresh.requestJSON)
    }

    @Test("what a resume may take: the phases asked for, and failures of the network after a task id, oldest first")
    func resumable() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try JobStore(path: directory.appendingPathComponent("ledger.sqlite").path)
        func job(_ n: Int, _ phase: JobPhase, _ kind: JobErrorKind? = nil, task: String? = nil) -> JobRecord {
            var job = record(at: Date(timeIntervalSince1970: Double(1_000 - n)))
            job.phase = phase
            job.errorKind = kind
            job.taskID = task
            return job
        }
        let running = job(1, .running, task: "t1")
        let lostNetwork = job(2, .failed, .network, task: "t2")
        let noTask = job(3, .failed, .network)
        let refused = job(4, .failed, .apiRefused, task: "t4")
        let queued = job(5, .queued)
        try store.insert([running, lostNetwork, noTask, refused, queued, job(6, .done, task: "t6")])
        #expect(try store.resumableJobs(phases: [.queued, .running]).map(\.id) == [queued.id, lostNetwork.id, running.id])
    }

    @Test("recent jobs for display leave out large request bodies; the full record is still there")
    func recentJobs() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try JobStore(path: directory.appendingPathComponent("r.sqlite").path)
        let big = #"{"input_image":"\#(String(repeating: "A", count: 100_000))","prompt":"edit"}"#
        var records: [JobRecord] = []
        for (n, body) in [#"{"prompt":"small"}"#, big].enumerated() {
            records.append(JobRecord(id: "job-\(n)", createdAt: Date(timeIntervalSince1970: Double(n)), model: "flux-2-pro",
                                     endpoint: "global", prompt: "p\(n)", requestJSON: body, estimatedCredits: "3",
                                     fileExtension: "jpg", groupID: nil))
        }
        try store.insert(records)
        let recent = try store.recentJobs(limit: 10)
        #expect(recent.map(\.id) == ["job-1", "job-0"])
        #expect(recent[0].requestJSON.isEmpty)
        #expect(recent[1].requestJSON == #"{"prompt":"small"}"#)
        #expect(try store.job(id: "job-1")?.requestJSON == big)
        #expect(try store.recentJobs(limit: 1).count == 1)
    }

    @Test("saved images are searched in the ledger by words, model and status, a page before a date")
    func outputsSearch() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try JobStore(path: directory.appendingPathComponent("o.sqlite").path)
        let specs: [(String, String, JobPhase, Bool)] = [
            ("a red fox", "flux-2-pro", .done, true), ("a blue heron", "flux-2-klein-4b", .done, true),
            ("a red barn", "flux-kontext-max", .done, true), ("a red kite 100%_off", "flux-2-pro", .done, true),
            ("a red hen", "flux-2-pro", .failed, false),
        ]
        try store.insert(specs.enumerated().map { n, spec in
            var job = JobRecord(id: "j\(n)", createdAt: Date(timeIntervalSince1970: Double(n)), model: spec.1, endpoint: "global",
                                prompt: spec.0, requestJSON: "{}", estimatedCredits: "3", fileExtension: "jpg", groupID: nil)
            job.phase = spec.2
            job.outputPath = spec.3 ? "/o/j\(n).jpg" : nil
            return job
        })
        #expect(try store.outputs(before: nil, query: OutputQuery(""), limit: 10).map(\.id) == ["j3", "j2", "j1", "j0"])
        #expect(try store.outputs(before: nil, query: OutputQuery("RED"), limit: 10).map(\.id) == ["j3", "j2", "j0"])
        #expect(try store.outputs(before: nil, query: OutputQuery("red model:pro"), limit: 10).map(\.id) == ["j3", "j0"])
        #expect(try store.outputs(before: nil, query: OutputQuery("status:do"), limit: 10).count == 4)
        #expect(try store.outputs(before: nil, query: OutputQuery("status:failed"), limit: 10).isEmpty)
        #expect(try store.outputs(before: nil, query: OutputQuery("100%_"), limit: 10).map(\.id) == ["j3"])
        #expect(try store.outputs(before: nil, query: OutputQuery("0%x"), limit: 10).isEmpty)
        #expect(try store.outputs(before: Date(timeIntervalSince1970: 2), query: OutputQuery(""), limit: 10).map(\.id) == ["j1", "j0"])
        #expect(try store.outputs(before: nil, query: OutputQuery(""), limit: 2).map(\.id) == ["j3", "j2"])
    }

    @Test("credits charged since a date: settled cost, else the submit cost; ids can be left out")
    func chargedSince() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try JobStore(path: directory.appendingPathComponent("c.sqlite").path)
        let specs: [(String, Double, String?, String?)] = [("old", 10, "3", nil), ("a", 100, "4.5", "3"), ("b", 200, nil, "1.5"), ("c", 300, nil, nil), ("d", 400, "2", nil)]
        try store.insert(specs.map { id, time, settled, submit in
            var job = JobRecord(id: id, createdAt: Date(timeIntervalSince1970: time), model: "flux-2-pro", endpoint: "global", prompt: "p",
                                requestJSON: "{}", estimatedCredits: "3", fileExtension: "jpg", groupID: nil)
            job.settledCost = settled
            job.submitCost = submit
            return job
        })
        #expect(try store.charged(since: Date(timeIntervalSince1970: 50)) == Credits("8"))
        #expect(try store.charged(since: Date(timeIntervalSince1970: 50), excluding: ["d"]) == Credits("6"))
    }

    @Test("learned timings are kept per endpoint; absurd ones written by anything are dropped when read")
    func timings() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try JobStore(path: directory.appendingPathComponent("l.sqlite").path)
        #expect(try store.timing(endpoint: "global", model: "flux-2-pro") == nil)
        // A duration of 1e17 s used to be learned, and every later job of the model trapped
        // converting it: it is dropped, like a negative one and an impossible pending share.
        try store.saveTiming(LearnedTiming(durations: [10, 1e17, -1, 20], pendingShare: 5, typical: .seconds(10)),
                             endpoint: "global", model: "flux-2-pro")
        let read = try #require(try store.timing(endpoint: "global", model: "flux-2-pro"))
        #expect(read.durations == [10, 20])
        #expect(read.pendingShare == nil)
        #expect(try store.timing(endpoint: "simulator", model: "flux-2-pro") == nil)
    }

    @Test("an unusable path gives a clear error")
    func badPath() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("not-a-dir")
        try Data("x".utf8).write(to: file)
        #expect(throws: JobStoreError.self) { try JobStore(path: file.appendingPathComponent("db.sqlite").path) }
        do {
            _ = try JobStore(path: file.appendingPathComponent("db.sqlite").path)
        } catch {
            #expect(error.message.hasPrefix("cannot open the job ledger at \(file.path)/db.sqlite"))
        }
    }

    @Test("the default path follows XDG_DATA_HOME when it is absolute; empty or relative, it is ignored (one ledger from any folder)")
    func defaultPath() {
        #expect(JobStore.defaultPath(environment: ["XDG_DATA_HOME": "/x/data", "HOME": "/h"]) == "/x/data/fluxdeck/fluxdeck.sqlite")
        #expect(JobStore.defaultPath(environment: ["XDG_DATA_HOME": "/x/data/", "HOME": "/h"]) == "/x/data/fluxdeck/fluxdeck.sqlite")
        #expect(JobStore.defaultPath(environment: ["HOME": "/h"]) == "/h/.local/share/fluxdeck/fluxdeck.sqlite")
        #expect(JobStore.defaultPath(environment: ["XDG_DATA_HOME": "", "HOME": "/h"]) == "/h/.local/share/fluxdeck/fluxdeck.sqlite")
        #expect(JobStore.defaultPath(environment: ["XDG_DATA_HOME": "data", "HOME": "/h"]) == "/h/.local/share/fluxdeck/fluxdeck.sqlite")
        #expect(ThumbnailCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "./c", "HOME": "/h"]).path == "/h/.cache/fluxdeck/thumbs")
        #expect(ThumbnailCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"]).path == "/c/fluxdeck/thumbs")
    }
}

@Suite("Ledger files are private")
struct LedgerPermissionTests {
    func mode(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o777 : nil
    }

    @Test("the ledger's folder is 0700; the database, its WAL and shared memory are 0600, even when they existed wider")
    func privateLedger() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = directory.appendingPathComponent("data/fluxdeck")
        let path = folder.appendingPathComponent("fluxdeck.sqlite").path
        do {
            let store = try JobStore(path: path)
            try store.saveTiming(LearnedTiming(durations: [3], typical: .seconds(10)), endpoint: "global", model: "flux-2-pro")
            #expect(mode(folder.path) == 0o700)
            #expect(mode(path) == 0o600)
            #expect(mode(path + "-wal") == 0o600)
            #expect(mode(path + "-shm") == 0o600)
        }
        // A ledger made by an older version, world-readable: tightened when opened.
        chmod(folder.path, 0o755)
        chmod(path, 0o644)
        _ = try JobStore(path: path)
        #expect(mode(folder.path) == 0o700)
        #expect(mode(path) == 0o600)
    }

    @Test("a symbolic link at the ledger's path, dangling or to a readable file, is refused with a sentence; nothing is made at its target")
    func symlinkedLedger() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = directory.appendingPathComponent("data/fluxdeck")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("fluxdeck.sqlite").path
        let target = directory.appendingPathComponent("elsewhere.sqlite").path
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        do {
            _ = try JobStore(path: path)
            Issue.record("a dangling link was opened")
        } catch {
            #expect(error.message.contains("is a symbolic link") && error.message.contains(target), "\(error.message)")
        }
        #expect(!FileManager.default.fileExists(atPath: target), "a file was made at the link's target")
        // A link to an existing world-readable file: refused too, and the file left as it is.
        #expect(FileManager.default.createFile(atPath: target, contents: Data(), attributes: [.posixPermissions: 0o644]))
        #expect(throws: JobStoreError.self) { try JobStore(path: path) }
        #expect(mode(target) == 0o644)
    }
}
