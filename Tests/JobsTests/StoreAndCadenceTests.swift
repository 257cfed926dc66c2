import BFL
import Foundation
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

    @Test("halves the time left before the expected finish, within 0.25 s and 5 s")
    func beforeFinish() {
        #expect(cadence.delay(elapsed: .milliseconds(500), expected: .seconds(10), pollsPastExpected: 0) == .seconds(4.75))
        #expect(cadence.delay(elapsed: .milliseconds(500), expected: .seconds(30), pollsPastExpected: 0) == .seconds(5))
        #expect(cadence.delay(elapsed: .milliseconds(9800), expected: .seconds(10), pollsPastExpected: 0) == .milliseconds(250))
    }

    @Test("backs off by 1.5 after the expected finish, to the cap")
    func afterFinish() {
        let delays = (0..<8).map { cadence.delay(elapsed: .seconds(11), expected: .seconds(10), pollsPastExpected: $0) }
        #expect(delays == [0.25, 0.375, 0.5625, 0.84375, 1.265625, 1.8984375, 2.84765625, 4.271484375].map { Duration.seconds($0) })
        #expect(cadence.delay(elapsed: .seconds(60), expected: .seconds(10), pollsPastExpected: 12) == .seconds(5))
    }

    @Test("two progress readings give the finish; a confident estimate is aimed at directly")
    func slope() throws {
        let expected = try #require(PollCadence.expected(from: (.seconds(2), 0.2), to: (.seconds(4), 0.6)))
        #expect(expected > .milliseconds(5999) && expected < .milliseconds(6001))
        #expect(PollCadence.expected(from: (.seconds(2), 0.5), to: (.seconds(4), 0.5)) == nil)
        #expect(cadence.delay(elapsed: .seconds(4), expected: .seconds(6), confident: true, pollsPastExpected: 0) == .milliseconds(2040))
    }

    @Test("progress refines the expected duration")
    func progress() {
        #expect(PollCadence.expected(fromProgress: 0.5, elapsed: .seconds(2)) == .seconds(4))
        #expect(PollCadence.expected(fromProgress: 0.01, elapsed: .seconds(2)) == nil)
        #expect(PollCadence.expected(fromProgress: 1, elapsed: .seconds(2)) == nil)
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
        #expect(try store.outputs(before: nil, limit: 10).map(\.id) == ["j3", "j2", "j1", "j0"])
        #expect(try store.outputs(before: nil, words: ["RED"], limit: 10).map(\.id) == ["j3", "j2", "j0"])
        #expect(try store.outputs(before: nil, words: ["red"], models: ["pro"], limit: 10).map(\.id) == ["j3", "j0"])
        #expect(try store.outputs(before: nil, statuses: ["do"], limit: 10).count == 4)
        #expect(try store.outputs(before: nil, statuses: ["failed"], limit: 10).isEmpty)
        #expect(try store.outputs(before: nil, words: ["100%_"], limit: 10).map(\.id) == ["j3"])
        #expect(try store.outputs(before: nil, words: ["0%x"], limit: 10).isEmpty)
        #expect(try store.outputs(before: Date(timeIntervalSince1970: 2), limit: 10).map(\.id) == ["j1", "j0"])
        #expect(try store.outputs(before: nil, limit: 2).map(\.id) == ["j3", "j2"])
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

    @Test("learned durations are a running mean")
    func learning() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try JobStore(path: directory.appendingPathComponent("l.sqlite").path)
        #expect(try store.learnedSeconds(model: "flux-2-pro") == nil)
        try store.learn(model: "flux-2-pro", seconds: 10)
        try store.learn(model: "flux-2-pro", seconds: 20)
        #expect(try store.learnedSeconds(model: "flux-2-pro") == 13)
        // A reply claiming 1e17 s (it used to be learned, and every later job of the model
        // trapped converting it): ignored, like NaN and infinity.
        for absurd in [1e17, .infinity, .nan, -1] { try store.learn(model: "flux-2-pro", seconds: absurd) }
        #expect(try store.learnedSeconds(model: "flux-2-pro") == 13)
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

    @Test("the default path follows XDG_DATA_HOME")
    func defaultPath() {
        #expect(JobStore.defaultPath(environment: ["XDG_DATA_HOME": "/x/data", "HOME": "/h"]) == "/x/data/fluxdeck/fluxdeck.sqlite")
        #expect(JobStore.defaultPath(environment: ["HOME": "/h"]) == "/h/.local/share/fluxdeck/fluxdeck.sqlite")
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
            try store.learn(model: "flux-2-pro", seconds: 3)
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
}
