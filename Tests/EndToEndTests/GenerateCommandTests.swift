import BFL
import BFLSimulator
import Foundation
import TestSupport
import Jobs
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A scratch HOME / XDG_DATA_HOME / output folder for one test.
struct Sandbox {
    let root: URL
    var output: URL { root.appendingPathComponent("out") }
    var environment: [String: String] {
        // Every place fluxdeck reads or writes is inside the sandbox, whatever the runner has set.
        ["HOME": root.path, "XDG_DATA_HOME": root.appendingPathComponent("data").path,
         "XDG_CONFIG_HOME": root.appendingPathComponent("config").path, "XDG_STATE_HOME": root.appendingPathComponent("state").path,
         "XDG_CACHE_HOME": root.appendingPathComponent("cache").path]
    }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func store() throws -> JobStore { try JobStore(path: JobStore.defaultPath(environment: environment)) }
    func files() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? [] }
    func remove() { try? FileManager.default.removeItem(at: root) }

    /// An in-process simulator at `timeFactor` (and `credits`, if given), and this sandbox's
    /// environment with its key.
    func simulator(timeFactor: Double, credits: Credits? = nil) async throws -> (server: SimulatorServer, environment: [String: String]) {
        var options = SimulatorOptions()
        options.timeFactor = timeFactor
        if let credits { options.initialCredits = credits }
        let server = try await SimulatorServer.start(options: options)
        var environment = self.environment
        environment["BFL_API_KEY"] = server.apiKey
        return (server, environment)
    }
}

@Suite("fluxdeck binary: generate, batch, jobs, credits", .timeLimit(.minutes(3)))
struct GenerateCommandTests {
    @Test("generate --simulator saves the images with sidecars and prints one JSON object per job")
    func generateSimulator() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let outcome = try await BinaryRunner.run([
            "generate", "--simulator", "--sim-time-scale", "0.02", "--model", "flux-2-pro", "--prompt", "a lighthouse at dusk",
            "--width", "512", "--height", "384", "--count", "2", "--output-dir", sandbox.output.path, "--json",
        ], environment: sandbox.environment)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("offline simulator"))
        let lines = outcome.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(Set(object.keys) == ["id", "model", "status", "phase", "task_id", "api_status", "output_dir", "file", "seed", "cost",
                                         "estimated_cost", "input_mp", "output_mp", "error", "region", "api_host", "cluster_host", "followed_by",
                                         "prompt", "created_at", "finished_at", "parents"])
            #expect(object["prompt"] as? String != nil && object["created_at"] as? String != nil && object["finished_at"] as? String != nil)
            // The built-in simulator has regions: a job sent without one went through the global door.
            #expect(object["region"] as? String == "global", "\(object)")
            #expect(object["followed_by"] as? String == "polling")
            // Made from no saved image: no parents.
            #expect(object["parents"] as? [String] == [])
            #expect(object["status"] as? String == "done")
            #expect(object["phase"] as? String == "done")
            #expect(object["api_status"] as? String == "Ready")
            #expect((object["task_id"] as? String)?.isEmpty == false)
            #expect((object["cost"] as? NSNumber)?.doubleValue == 3)
            let file = try #require(object["file"] as? String)
            #expect(FileManager.default.fileExists(atPath: file))
            #expect(file.hasPrefix(sandbox.output.path + "/"))
            #expect(file.range(of: #"/\d{4}-\d{2}-\d{2}_\d{4}_flux-2-pro_[0-9a-f]{8}\.jpg$"#, options: .regularExpression) != nil)
        }
        #expect(sandbox.files().filter { $0.hasSuffix(".json") }.count == 2)
        let listed = try await BinaryRunner.run(["jobs", "--json"], environment: sandbox.environment)
        #expect(listed.stdout.split(separator: "\n").count == 2)
        let done = try await BinaryRunner.run(["jobs", "--status", "failed"], environment: sandbox.environment)
        #expect(done.stdout.isEmpty || done.stdout.contains("No jobs"))
    }

    @Test("jobs left on a stopped built-in simulator are retired as abandoned by the next simulator run")
    func retiredSimulatorJobs() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        // Two jobs sent to a built-in simulator whose process has ended (a run killed with -9
        // leaves them so; --no-wait with the built-in simulator is refused).
        let ended = try ChildProcess.start("/bin/true", [], environment: [:])
        _ = ended.waitBlocking()
        let store = try sandbox.store()
        try store.insert((1...2).map { n in
            fixtureJob("0000000\(n)-0000-4000-8000-000000000000", .pending, model: "flux-2-klein-4b", endpoint: "simulator pid \(ended.pid)",
                       prompt: "left behind", created: Date()) { $0.taskID = "task-\(n)" }
        })
        let left = try store.jobs()
        #expect(left.count == 2)
        let second = try await BinaryRunner.run([
            "generate", "--simulator", "--sim-time-scale", "0.02", "--model", "flux-2-klein-4b", "--prompt", "a new one",
            "--output-dir", sandbox.output.path,
        ], environment: sandbox.environment)
        #expect(second.status == 0, "\(second.stderr)")
        let jobs = try sandbox.store().jobs()
        #expect(jobs.filter { $0.prompt == "left behind" }.map(\.phase) == [.abandoned, .abandoned])
        #expect(jobs.filter { $0.prompt == "left behind" }.allSatisfy { $0.errorMessage?.contains("simulator that ran this job stopped") == true })
        #expect(jobs.first { $0.prompt == "a new one" }?.phase == .done)
    }

    @Test("without a key or a simulator, one sentence says how to set a key and how to try the simulator")
    func missingKey() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let outcome = try await BinaryRunner.run(["generate", "--model", "flux-2-pro", "--prompt", "x"], environment: sandbox.environment)
        #expect(outcome.status == 2)
        #expect(outcome.stderr.split(separator: "\n").count == 1)
        #expect(outcome.stderr.contains("BFL_API_KEY"))
        #expect(outcome.stderr.contains("--simulator"))
    }

    @Test("local validation and bad batch lines exit 2 before anything is sent or written")
    func validation() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let tooSmall = try await BinaryRunner.run(["generate", "--simulator", "--model", "flux-2-pro", "--prompt", "x", "--width", "32", "--height", "32"],
                                            environment: sandbox.environment)
        #expect(tooSmall.status == 2)
        #expect(tooSmall.stderr.contains("width must be between 64 and 2048 for FLUX.2 (got 32)"))
        let batch = sandbox.root.appendingPathComponent("jobs.jsonl")
        try Data("""
            {"model":"flux-2-pro","prompt":"ok"}
            {"model":"flux-2-pro","prompt":"bad","colour":"red"}
            """.utf8).write(to: batch)
        let bad = try await BinaryRunner.run(["batch", batch.path, "--simulator"], environment: sandbox.environment)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("line 2: unknown key \"colour\""))
        let missingInput = try await BinaryRunner.run(["generate", "--simulator", "--model", "flux-2-pro", "--prompt", "x", "--input", "/nonexistent.png"],
                                                environment: sandbox.environment)
        #expect(missingInput.status == 2)
        #expect(missingInput.stderr.contains("cannot read the image /nonexistent.png"))
        #expect(try sandbox.store().count() == 0)
    }

    @Test("failed and moderated jobs exit 1; credits reads the balance")
    func failures() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let failed = try await BinaryRunner.run(["generate", "--simulator", "--sim-time-scale", "0.02", "--model", "flux-2-klein-4b",
                                           "--prompt", "sim:content-moderated", "--output-dir", sandbox.output.path],
                                          environment: sandbox.environment)
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("moderated"))
        let credits = try await BinaryRunner.run(["credits", "--simulator", "--json"], environment: sandbox.environment)
        #expect(credits.status == 0)
        #expect(credits.stdout.contains("\"credits\":1000"))
    }

    @Test("kill -9 mid-batch --output-dir DIR, then `jobs resume`: every job final, every saved image in DIR once, no POST twice")
    func killAndResume() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await sandbox.simulator(timeFactor: 0.05, credits: 100_000)
        let count = 40
        let lines = (0..<count).map { n in
            #"{"model":"\#(n % 3 == 0 ? "flux-2-pro" : "flux-2-klein-4b")","prompt":"resume test \#(n)","width":256,"height":256}"#
        }
        let batch = sandbox.root.appendingPathComponent("batch.jsonl")
        try Data(lines.joined(separator: "\n").utf8).write(to: batch)
        let arguments = ["--endpoint", server.apiURL, "--output-dir", sandbox.output.path]

        let first = try BinaryRunner.start(["batch", batch.path] + arguments, environment: environment)
        let reached = await server.core.waitForSubmissions(atLeast: 30, within: .seconds(60))
        first.send(SIGKILL)
        let status = await first.wait()
        try #require(reached, "the batch never sent 30 submissions")
        #expect(status == 128 + SIGKILL)

        // Resumed without --output-dir: each job still saves where the batch asked.
        let resumed = try await BinaryRunner.run(["jobs", "resume", "--endpoint", server.apiURL], environment: environment)
        #expect([0, 1].contains(resumed.status), "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming"))
        let elsewhere = sandbox.root.appendingPathComponent("Pictures/fluxdeck")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: elsewhere.path)) ?? []).isEmpty)
        let jobs = try sandbox.store().jobs()
        #expect(jobs.count == count)
        #expect(jobs.allSatisfy { $0.phase.isFinal })
        #expect(jobs.allSatisfy { $0.phase == .done || $0.phase == .unknown })
        let done = jobs.filter { $0.phase == .done }
        let images = sandbox.files().filter { $0.hasSuffix(".jpg") }
        #expect(images.count == done.count)
        #expect(Set(done.compactMap(\.outputPath).map { URL(fileURLWithPath: $0).lastPathComponent }) == Set(images))
        #expect(sandbox.files().filter { $0.hasPrefix(".") }.isEmpty)
        let posts = await server.core.requests.filter { $0.method == "POST" }.compactMap(\.prompt)
        #expect(posts.count == Set(posts).count)
        #expect(Set(done.map(\.prompt)).isSubset(of: Set(posts)))
        #expect(posts.count <= count)
        #expect(posts.count >= done.count)
        // The key is in no file fluxdeck wrote: not the ledger (with its WAL), not a sidecar.
        let data = sandbox.root.appendingPathComponent("data/fluxdeck")
        let written = ((try? FileManager.default.contentsOfDirectory(atPath: data.path)) ?? []).map { data.appendingPathComponent($0) }
            + sandbox.files().map { sandbox.output.appendingPathComponent($0) }
        #expect(written.count > done.count)
        for file in written {
            let bytes = try Data(contentsOf: file)
            #expect(bytes.range(of: Data(server.apiKey.utf8)) == nil, "\(file.lastPathComponent)")
        }
        await server.stop()
    }

    @Test("--no-wait returns once submitted; `jobs` lists them in flight; `jobs resume` finishes them")
    func noWait() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await sandbox.simulator(timeFactor: 0.05)
        let arguments = ["--endpoint", server.apiURL, "--output-dir", sandbox.output.path]
        let submitted = try await BinaryRunner.run(["generate", "--model", "flux-2-pro", "--prompt", "later", "--count", "3", "--no-wait"] + arguments,
                                             environment: environment)
        #expect(submitted.status == 0, "\(submitted.stderr)")
        #expect(submitted.stdout.split(separator: "\n").allSatisfy { $0.contains("submitted") })
        #expect(try sandbox.store().jobs().allSatisfy { [.pending, .running].contains($0.phase) })
        let listed = try await BinaryRunner.run(["jobs"], environment: environment)
        // A header row, then the three jobs.
        let rows = listed.stdout.split(separator: "\n")
        #expect(rows.count == 4 && rows.first?.hasPrefix("job ") == true && rows.first?.contains("prompt") == true, "\(listed.stdout)")
        let resumed = try await BinaryRunner.run(["jobs", "resume"] + arguments, environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try sandbox.store().jobs().allSatisfy { $0.phase == .done })
        #expect(sandbox.files().filter { $0.hasSuffix(".jpg") }.count == 3)
        #expect(await server.core.requests.filter { $0.method == "POST" }.count == 3)
        await server.stop()
    }
}
