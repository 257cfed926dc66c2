import BFL
import BFLSimulator
import Foundation
import Jobs
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The reliability suite's end-to-end half (figures in RELIABILITY.md): kills at random points,
/// a scan for the key in everything written and shown, and hostile text drawn inert.
@Suite("Reliability: the real binary", .timeLimit(.minutes(3)))
struct ReliabilityEndToEndTests {
    static let hasTmux = FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")

    @Test("kill -9 at three random points of a 100-job batch, then resume: every job final, each image once, no POST twice; the key is nowhere",
          .enabled(if: hasTmux))
    func threeKills() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await sandbox.simulator(timeFactor: 0.1, credits: 100_000)
        let count = 100
        let batch = sandbox.root.appendingPathComponent("batch.jsonl")
        try Data((0..<count).map { #"{"model":"flux-2-klein-4b","prompt":"kill point test \#($0)","width":256,"height":256}"# }
            .joined(separator: "\n").utf8).write(to: batch)
        let endpoint = ["--endpoint", server.apiURL]
        // Three kill points, as counts of submissions the simulator has seen.
        var rng = SystemRandomNumberGenerator()
        let first = Int.random(in: 10...30, using: &rng)
        let second = first + Int.random(in: 10...25, using: &rng)
        let third = second + Int.random(in: 10...25, using: &rng)
        let points = [first, second, third]
        let runs: [[String]] = [
            ["batch", batch.path, "--max-active", "6", "--output-dir", sandbox.output.path] + endpoint,
            ["jobs", "resume", "--max-active", "6"] + endpoint,
            ["jobs", "resume", "--max-active", "6"] + endpoint,
        ]
        for (run, point) in zip(runs, points) {
            let process = try BinaryRunner.start(run, environment: environment)
            let reached = await server.core.waitForSubmissions(atLeast: point, within: .seconds(60))
            process.send(SIGKILL)
            _ = await process.wait()
            try #require(reached, "kill points \(points): \(run.first ?? "") never reached \(point) submissions")
        }
        let last = try await BinaryRunner.run(["jobs", "resume"] + endpoint, environment: environment)
        #expect([0, 1].contains(last.status), "\(last.stderr)")

        let jobs = try sandbox.store().jobs()
        #expect(jobs.count == count)
        #expect(jobs.allSatisfy { $0.phase == .done || $0.phase == .unknown }, "kill points \(points): \(jobs.map(\.phase.rawValue))")
        let done = jobs.filter { $0.phase == .done }
        // Only a job caught inside its POST by a kill is unknown: at most six per kill.
        #expect(done.count >= count - 3 * 6, "kill points \(points)")
        let images = sandbox.files().filter { $0.hasSuffix(".jpg") }
        #expect(images.count == done.count)
        #expect(Set(done.compactMap(\.outputPath).map { URL(fileURLWithPath: $0).lastPathComponent }) == Set(images))
        let posts = await server.core.requests.filter { $0.method == "POST" && $0.listener == .api }.compactMap(\.prompt)
        #expect(posts.count == Set(posts).count, "no job was sent twice (kill points \(points))")
        #expect(posts.count >= done.count && posts.count <= count)
        #expect(await server.core.acceptedSubmissions == posts.count)
        print("reliability: kill points \(points) submissions; \(done.count) done, \(count - done.count) unknown; \(posts.count) POSTs for \(count) jobs, none twice")

        // The key in no file written: ledger, WAL, log, images, sidecars; never at delivery.
        var written: [URL] = []
        for folder in ["data/fluxdeck", "state/fluxdeck", "out"] {
            let url = sandbox.root.appendingPathComponent(folder)
            written += ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).map { url.appendingPathComponent($0) }
        }
        #expect(written.count > done.count * 2)
        for file in written {
            #expect(try Data(contentsOf: file).range(of: Data(server.apiKey.utf8)) == nil, "\(file.lastPathComponent)")
        }
        #expect(await server.core.deliveryRequestsWithKey.isEmpty)

        // Nor on screen: the studio over this ledger, captured.
        let studio = try await StudioRig.start(endpoint, in: sandbox.root, environment: environment)
        defer { studio.stop() }
        #expect(await studio.frame(containing: "frame 120x40 jobs=\(count) ") != nil)
        let screen = try await studio.screen()
        #expect(!screen.contains(server.apiKey))
        #expect(screen.contains("kill point test"))
        let log = sandbox.root.appendingPathComponent("state/fluxdeck/fluxdeck.log")
        try await studio.keys("C-q")
        #expect(await studio.frame(containing: "stopped") != nil)
        #expect(try Data(contentsOf: log).range(of: Data(server.apiKey.utf8)) == nil)
        await server.stop()
    }

    @Test("escape sequences in a prompt, a server's error message and a file name are drawn inert", .enabled(if: hasTmux))
    func inertText() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let hostile = "\u{1B}]0;PWNED\u{07}\u{1B}[2J\u{1B}[31m"
        var record = JobRecord(id: "e5cafe00-0000-4000-8000-000000000000", createdAt: Date(), model: "flux-2-pro", endpoint: "global",
                               prompt: "prompt \(hostile)visible", requestJSON: "{}", estimatedCredits: Credits(3), fileExtension: "jpg",
                               groupID: nil)
        record.phase = .failed
        record.errorMessage = "server said \(hostile)boom"
        record.outputPath = sandbox.root.appendingPathComponent("file\(hostile)name.jpg").path
        try sandbox.store().insert([record])
        let studio = try await StudioRig.start(["--simulator"], in: sandbox.root, environment: sandbox.environment)
        defer { studio.stop() }
        #expect(await studio.frame(containing: "frame 120x40 jobs=1 ") != nil)
        let title = try await studio.smoke.tmux(["-L", studio.socket, "display-message", "-p", "-t", "t", "#{pane_title}"])
        // The details of the job show its prompt, error and file in full.
        for _ in 0..<8 {
            guard let line = await studio.lines.next(within: 20), !line.contains(" focus=jobs ") else { break }
            try await studio.keys("Tab")
        }
        try await studio.keys("i")
        #expect(await studio.frame(containing: " details=true ") != nil)
        let screen = try await studio.screen()
        // The text is there, its escapes are not: no title was set, nothing was cleared or coloured.
        #expect(screen.contains("prompt ]0;PWNED[2J[31mvisible"), "\(screen)")
        #expect(screen.contains("server said ]0;PWNED[2J[31mboom"))
        #expect(screen.contains("file]0;PWNED[2J[31mname.jpg"))
        // With its attributes (-e), the capture shows only the studio's own SGR sequences: no
        // OSC, no clear, never the server's red.
        let raw = try await studio.smoke.tmux(["-L", studio.socket, "capture-pane", "-p", "-e", "-t", "t"])
        #expect(!raw.contains("\u{1B}]") && !raw.contains("\u{1B}[2J"), "\(raw.debugDescription)")
        let titleAfter = try await studio.smoke.tmux(["-L", studio.socket, "display-message", "-p", "-t", "t", "#{pane_title}"])
        #expect(titleAfter == title)
        #expect(!titleAfter.contains("PWNED"))
        let colours = try await studio.smoke.tmux(["-L", studio.socket, "capture-pane", "-p", "-e", "-t", "t"])
        // The line that shows the error, found by its text once the studio's own SGR is taken out.
        let boomLine = try #require(colours.split(separator: "\n").first { $0.replacing(/\u{1B}\[[0-9;]*m/, with: "").contains("boom") }
            .map(String.init), "no line shows the error: \(colours.debugDescription)")
        #expect(!boomLine.contains("\u{1B}[31m"), "\(boomLine.debugDescription)")
        try await studio.keys("Escape")
        #expect(await studio.frame(containing: " details=false ") != nil)
        try await studio.keys("C-q")
        #expect(await studio.frame(containing: "stopped") != nil)
    }
}
