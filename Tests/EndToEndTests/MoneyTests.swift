import BFL
import BFLSimulator
import Foundation
import Jobs
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Never pay by accident, never pay twice, never lose a paid image: the real binary.
@Suite("Money: pastes, confirmations, owners, destinations", .timeLimit(.minutes(3)))
struct MoneyTests {
    static let hasTmux = FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")

    @Test("pasted three-line prompts (bracketed and plain) submit nothing; Enter then submits one; a large spend asks first",
          .enabled(if: hasTmux))
    func pasteAndConfirm() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let config = sandbox.root.appendingPathComponent("config.toml")
        try Data("[budget]\nconfirm_above = 5\n".utf8).write(to: config)
        let studio = try await StudioRig.start(["--simulator", "--sim-time-scale", "0.05", "--config", config.path],
                                               in: sandbox.root, environment: sandbox.environment)
        defer { studio.stop() }
        #expect(await studio.frame(containing: "frame 120x40 jobs=0 ") != nil)

        try await studio.paste("line one\nline two\nline three", bracketed: true)
        let pasted = await studio.frame(containing: " lines=3 ")
        #expect(pasted?.contains(" jobs=0 ") == true, "\(pasted ?? "no frame")")
        try await studio.keys("Enter")
        #expect(await studio.frame(containing: " jobs=1 ") != nil)

        // A paste without brackets: its line ends arrive as CR, in the same read as the text.
        try await studio.paste("line one\nline two\nline three", bracketed: false)
        let plain = await studio.frame(containing: " lines=5 ")
        #expect(plain?.contains(" jobs=1 ") == true, "\(plain ?? "no frame")")
        try await studio.keys("Enter")
        #expect(await studio.frame(containing: " jobs=2 ") != nil)

        // Two images of 3 credits: at or above confirm_above = 5, so Enter asks.
        try await studio.keys("Tab", "Down", "Down", "Down", "+")
        #expect(await studio.frame(containing: " count=2 ") != nil)
        try await studio.keys("Enter")
        let asked = await studio.frame(containing: " confirming=true ")
        #expect(asked?.contains(" jobs=2 ") == true)
        #expect(asked?.contains("2 × FLUX.2 [pro] for 6 credits ($0.06)") == true, "\(asked ?? "no frame")")
        try await studio.keys("n")
        let declined = await studio.frame(containing: " confirming=false ")
        #expect(declined?.contains(" jobs=2 ") == true)
        try await studio.keys("Enter")
        #expect(await studio.frame(containing: " confirming=true ") != nil)
        try await studio.keys("y")
        #expect(await studio.frame(containing: " jobs=4 running=0 done=4 ") != nil)
        // Exactly four were made: two single ones and the confirmed pair.
        let jobs = try sandbox.store().jobs()
        #expect(jobs.count == 4)
        #expect(jobs.filter { $0.prompt == "line one\nline two\nline three" }.count == 1)
        try await studio.keys("C-q")
        #expect(await studio.frame(containing: "stopped") != nil)
    }

    @Test("the studio with stdin from a pipe says it needs a terminal and exits 2 at once")
    func noTerminal() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let outcome = try await BinaryRunner.run(["--simulator"], environment: sandbox.environment, deadline: .seconds(20))
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("needs a terminal"))
        #expect(outcome.stderr.contains("fluxdeck generate"))
    }

    @Test("--max-spend refuses a batch whose estimate is above it, naming both numbers, and sends nothing")
    func maxSpend() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let refused = try await BinaryRunner.run([
            "generate", "--simulator", "--model", "flux-2-pro", "--prompt", "a heron", "--count", "4", "--max-spend", "10",
        ], environment: sandbox.environment)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("12 credits"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--max-spend 10"))
        #expect(try sandbox.store().count() == 0)
        let batch = sandbox.root.appendingPathComponent("b.jsonl")
        try Data(#"{"model":"flux-2-pro","prompt":"a","count":2}"#.utf8).write(to: batch)
        let refusedBatch = try await BinaryRunner.run(["batch", batch.path, "--simulator", "--max-spend", "5.9"], environment: sandbox.environment)
        #expect(refusedBatch.status == 2)
        #expect(refusedBatch.stderr.contains("6 credits"))
        let allowed = try await BinaryRunner.run([
            "generate", "--simulator", "--sim-time-scale", "0.02", "--model", "flux-2-pro", "--prompt", "a heron", "--count", "2",
            "--width", "256", "--height", "256", "--max-spend", "6", "--output-dir", sandbox.output.path,
        ], environment: sandbox.environment)
        #expect(allowed.status == 0, "\(allowed.stderr)")
    }

    @Test("a batch with its jobs waiting, then `jobs resume` and a studio beside it: each job is sent once; after kill -9 the studio finishes them all",
          .enabled(if: hasTmux))
    func secondTerminal() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await sandbox.simulator(timeFactor: 0.5, credits: 100_000)
        let count = 60
        let batch = sandbox.root.appendingPathComponent("batch.jsonl")
        try Data((0..<count).map { #"{"model":"flux-2-klein-4b","prompt":"owner test \#($0)","width":256,"height":256}"# }
            .joined(separator: "\n").utf8).write(to: batch)
        let first = try BinaryRunner.start(["batch", batch.path, "--endpoint", server.apiURL, "--max-active", "2",
                                            "--output-dir", sandbox.output.path], environment: environment)
        defer { first.send(SIGKILL) }
        try #require(await server.core.waitForSubmissions(atLeast: 2, within: .seconds(60)))

        // A second terminal: resume takes nothing of a live batch.
        let resumed = try await BinaryRunner.run(["jobs", "resume", "--endpoint", server.apiURL], environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("followed by another running fluxdeck"), "\(resumed.stderr)")
        #expect(resumed.stdout.contains("Nothing to resume"))

        // A third: the studio shows the batch's jobs and leaves them to it, then adopts them.
        let studio = try await StudioRig.start(["--endpoint", server.apiURL], in: sandbox.root, environment: environment)
        defer { studio.stop() }
        #expect(await studio.frame(containing: "frame 120x40 jobs=\(count) running=0 ") != nil)
        #expect(await studio.frame(containing: " pids=1") != nil)
        let screen = try await studio.screen()
        #expect(screen.contains("pid \(first.pid)"), "\(screen)")
        first.send(SIGKILL)
        let status = await first.wait()
        #expect(status == 128 + SIGKILL)
        // Adopted within the heartbeat's pace, and finished.
        #expect(await studio.frame(containing: " running=0 ", " pids=0") != nil)

        let jobs = try sandbox.store().jobs()
        #expect(jobs.count == count)
        // A job caught inside its POST by the kill is unknown (never resent): at most the two
        // the batch had in flight. All others are done.
        #expect(jobs.allSatisfy { $0.phase == .done || $0.phase == .unknown }, "\(jobs.map(\.phase.rawValue))")
        let done = jobs.filter { $0.phase == .done }.count
        #expect(done >= count - 2)
        let posts = await server.core.requests.filter { $0.method == "POST" && !$0.path.hasPrefix("/__sim/") }.compactMap(\.prompt)
        #expect(Set(posts).count == posts.count, "no job sent twice")
        #expect(posts.count >= done && posts.count <= count)
        // Every image went where the batch asked, even those the studio saved.
        #expect(sandbox.files().filter { $0.hasSuffix(".jpg") }.count == done)
        try await studio.keys("C-q")
        #expect(await studio.frame(containing: "stopped") != nil)
        await server.stop()
    }

    @Test("an unwritable output folder: the paid job is save_failed; once writable, `jobs resume` saves it once, never re-sent")
    func readOnlyFolder() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await sandbox.simulator(timeFactor: 0.02)
        // Root writes anywhere: the runs drop to nobody so the folder's mode means something.
        let asRoot = geteuid() == 0
        let nobody: uid_t = 65534
        var prefix: [String] = []
        if asRoot {
            chmod(sandbox.root.path, 0o777)
            prefix = ["--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups", try BinaryRunner.binaryURL().path]
        }
        func run(_ arguments: [String]) async throws -> BinaryRunner.Outcome {
            guard asRoot else { return try await BinaryRunner.run(arguments, environment: environment) }
            let outcome = try await ChildProcess.run("/usr/bin/setpriv", prefix + arguments,
                                                     environment: BinaryRunner.environment(environment), deadline: .seconds(90))
            return BinaryRunner.Outcome(status: outcome.status, stdout: outcome.stdout, stderr: outcome.stderr)
        }
        try FileManager.default.createDirectory(at: sandbox.output, withIntermediateDirectories: true)
        if asRoot { chown(sandbox.output.path, nobody, gid_t(nobody)) }
        chmod(sandbox.output.path, 0o555)
        let failed = try await run(["generate", "--endpoint", server.apiURL, "--model", "flux-2-pro", "--prompt", "a paid heron",
                                    "--width", "256", "--height", "256", "--output-dir", sandbox.output.path, "--json"])
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(failed.stdout.contains("\"status\":\"save_failed\""), "\(failed.stdout)")
        #expect(failed.stderr.contains(sandbox.output.path))
        let job = try #require(try sandbox.store().jobs().first)
        #expect(job.phase == .saveFailed)
        #expect(sandbox.files().isEmpty)

        chmod(sandbox.output.path, 0o755)
        let resumed = try await run(["jobs", "resume", "--endpoint", server.apiURL])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try sandbox.store().job(id: job.id)?.phase == .done)
        #expect(sandbox.files().filter { $0.hasSuffix(".jpg") }.count == 1)
        let posts = await server.core.requests.filter { $0.method == "POST" && !$0.path.hasPrefix("/__sim/") }
        #expect(posts.count == 1, "the image was fetched again, not bought again")
        await server.stop()
    }

    @Test("a hang-up of the terminal ends the studio cleanly; its job stays in the ledger and `jobs resume` finishes it",
          .enabled(if: hasTmux))
    func hangUp() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await sandbox.simulator(timeFactor: 0.1)
        // Every poll is answered 503 until the studio is gone: the job cannot end before the
        // hang-up, however slowly this machine runs the test.
        await server.core.setFaults(try Faults(spec: "5xx=1"))
        let config = sandbox.root.appendingPathComponent("config.toml")
        try Data("model = \"flux-2-klein-4b\"\n".utf8).write(to: config)
        let studio = try await StudioRig.start(["--endpoint", server.apiURL, "--output-dir", sandbox.output.path, "--config", config.path],
                                               in: sandbox.root, environment: environment)
        defer { studio.stop() }
        #expect(await studio.frame(containing: "frame 120x40 jobs=0 ") != nil)
        // Which account pays is on screen: where the key came from, never the key.
        let title = try await studio.screen()
        #expect(title.contains("key from BFL_API_KEY"), "\(title)")
        #expect(!title.contains(server.apiKey))
        try await studio.literal("a slow heron")
        #expect(await studio.frame(containing: " lines=1 ") != nil)
        try await studio.keys("Enter")
        #expect(await studio.frame(containing: " jobs=1 running=1 ") != nil)
        try #require(await server.core.waitForSubmissions(atLeast: 1, within: .seconds(30)))
        // The terminal goes away (its tmux server is killed): SIGHUP, and a hung-up tty.
        studio.stop()
        #expect(await studio.frame(containing: "stopped") != nil)
        let left = try #require(try sandbox.store().jobs().first)
        #expect(!left.phase.isFinal, "\(left.phase)")
        #expect(try sandbox.store().runners().isEmpty, "a clean stop leaves its jobs free to resume")
        await server.core.setFaults(try Faults(spec: ""))
        let resumed = try await BinaryRunner.run(["jobs", "resume", "--endpoint", server.apiURL], environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming 1 job"), "\(resumed.stderr)")
        #expect(try sandbox.store().jobs().first?.phase == .done)
        #expect(sandbox.files().filter { $0.hasSuffix(".jpg") }.count == 1)
        let posts = await server.core.requests.filter { $0.method == "POST" && !$0.path.hasPrefix("/__sim/") }
        #expect(posts.count == 1)
        await server.stop()
    }
}
