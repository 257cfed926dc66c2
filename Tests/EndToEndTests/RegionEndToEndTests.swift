import BFL
import BFLSimulator
import Foundation
import Jobs
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Regions through the real binary against the simulator's three front doors and two clusters.
@Suite("Regions offline", .timeLimit(.minutes(3)))
struct RegionEndToEndTests {
    /// A config.toml that declares the simulator's front doors, as `fluxdeck simulate` prints.
    func config(_ sandbox: Sandbox, _ server: SimulatorServer) throws -> String {
        let lines = server.regionURLs.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) = \"\($0.value)\"" }
        let file = sandbox.root.appendingPathComponent("config.toml")
        try Data(("[endpoint.regions]\n" + lines.joined(separator: "\n") + "\n").utf8).write(to: file)
        return file.path
    }

    func host(_ url: String?) -> String? {
        url.flatMap(URL.init(string:)).map { "\($0.host ?? ""):\($0.port ?? 0)" }
    }

    func generate(_ region: String, _ sandbox: Sandbox, _ server: SimulatorServer, _ environment: [String: String], config: String,
                  extra: [String] = []) async throws -> (BinaryRunner.Outcome, [String: Any]) {
        let outcome = try await BinaryRunner.run([
            "generate", "--endpoint", server.apiURL, "--config", config, "--region", region, "--model", "flux-2-pro",
            "--prompt", "a \(region) heron", "--width", "256", "--height", "256", "--output-dir", sandbox.output.path, "--json",
        ] + extra, environment: environment)
        let line = outcome.stdout.split(separator: "\n").first.map(String.init) ?? "{}"
        let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? [:]
        return (outcome, object)
    }

    @Test("one job per region lands on that region's cluster; each is polled only there; jobs --json says where it went")
    func perRegion() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await sandbox.simulator(timeFactor: 0.02)
        defer { Task { await server.stop() } }
        let config = try config(sandbox, server)
        var clusters: [String: String] = [:]
        for region in ["eu", "us", "global"] {
            let (outcome, job) = try await generate(region, sandbox, server, environment, config: config)
            #expect(outcome.status == 0, "\(region): \(outcome.stderr)")
            #expect(job["status"] as? String == "done" && job["region"] as? String == region, "\(job)")
            clusters[region] = job["cluster_host"] as? String
        }
        #expect(clusters["eu"] == host(server.urls[.cluster]))
        #expect(clusters["us"] == host(server.urls[.clusterUS]))
        let posts = await server.core.requests.filter { $0.method == "POST" && !$0.path.hasPrefix("/__sim/") }.map(\.listener.host)
        #expect(posts == ["api.eu.bfl.ai", "api.us.bfl.ai", "api.bfl.ai"])
        #expect(await server.core.misdirectedPolls == 0)
        let listed = try await BinaryRunner.run(["jobs", "--json"], environment: environment)
        #expect(listed.stdout.contains(#""region":"eu""#) && listed.stdout.contains(#""api_host":"127.0.0.1"#), "\(listed.stdout)")
        await server.stop()
    }

    @Test("an EU outage fails only the EU job, at once, naming the region and the others; global goes to the US")
    func outage() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await sandbox.simulator(timeFactor: 0.02)
        defer { Task { await server.stop() } }
        await server.core.setFaults(try Faults(spec: "region-down=eu"))
        let config = try config(sandbox, server)
        let (eu, euJob) = try await generate("eu", sandbox, server, environment, config: config)
        #expect(eu.status == 1)
        let message = euJob["error"] as? String ?? ""
        let advice = euJob["advice"] as? String ?? ""
        #expect(message.contains("eu region"), "\(message)")
        #expect(advice == "The eu region may be down: try global or us (--region).", "\(euJob)")
        #expect(euJob["status"] as? String == "unknown")
        for region in ["us", "global"] {
            let (outcome, job) = try await generate(region, sandbox, server, environment, config: config)
            #expect(outcome.status == 0 && job["cluster_host"] as? String == host(server.urls[.clusterUS]), "\(region): \(job)")
        }
        await server.stop()
    }

    @Test("killed mid-run, resumed: each job is polled on its own cluster and finishes")
    func resume() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        // Slow enough that the jobs are still running when their run is killed.
        let (server, environment) = try await sandbox.simulator(timeFactor: 1)
        defer { Task { await server.stop() } }
        let config = try config(sandbox, server)
        var submitted = 0
        for region in ["eu", "us"] {
            let run = try BinaryRunner.start([
                "generate", "--endpoint", server.apiURL, "--config", config, "--region", region, "--model", "flux-2-pro",
                "--prompt", "a \(region) crane", "--count", "2", "--width", "256", "--height", "256", "--output-dir", sandbox.output.path,
            ], environment: environment)
            submitted += 2
            // Polled once each: accepted and written to the ledger as sent, not yet Ready.
            try #require(await server.core.waitForPolls(atLeast: submitted, within: .seconds(60)))
            run.send(SIGKILL)
            #expect(await run.wait() == 128 + SIGKILL)
        }
        let resumed = try await BinaryRunner.run(["jobs", "resume", "--endpoint", server.apiURL, "--config", config], environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let jobs = try sandbox.store().jobs()
        #expect(jobs.count == 4 && jobs.allSatisfy { $0.phase == .done }, "\(jobs.map { "\($0.region ?? "-") \($0.phase)" })")
        for job in jobs {
            let expected = job.region == "eu" ? server.urls[.cluster] : server.urls[.clusterUS]
            #expect(job.clusterHost == host(expected), "\(job.region ?? "-"): \(job.clusterHost ?? "-")")
        }
        #expect(await server.core.misdirectedPolls == 0)
        await server.stop()
    }

    @Test("the studio on the built-in simulator: the region row is live; a job sent to eu says eu in its row", .enabled(if: MoneyTests.hasTmux))
    func studio() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let studio = try await StudioRig.start(["--simulator", "--sim-time-scale", "0.05"], in: sandbox.root, environment: sandbox.environment)
        defer { studio.stop() }
        #expect(await studio.frame(containing: "frame 120x40 jobs=0 ") != nil)
        #expect(try await studio.screen(showing: "region   global"))
        try await studio.literal("a heron in the reeds")
        // The model pane, the region row, one step right: eu; Enter there sends.
        try await studio.keys("Tab", "Down", "Right")
        #expect(try await studio.screen(showing: "region   ◂ eu ▸"))
        try await studio.keys("Enter")
        #expect(await studio.frame(containing: " done=1 ") != nil)
        let row = try await studio.screen().split(separator: "\n").first { $0.contains("a heron") && $0.contains("done") }
        #expect(row?.contains(" eu ") == true, "\(row ?? "no job row")")
        let jobs = try sandbox.store().jobs()
        #expect(jobs.count == 1 && jobs.first?.region == "eu" && jobs.first?.phase == .done)
    }
}
