import BFLSimulator
import Foundation
import Jobs
import Testing

@Suite("fluxdeck binary: webhook mode", .timeLimit(.minutes(2)))
struct WebhookEndToEndTests {
    @Test("generate --webhook-listen: every job ends through its webhook, none polled, the secret in no file written")
    func webhookMode() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await sandbox.simulator(timeFactor: 0.05)
        let run = try await BinaryRunner.run([
            "generate", "--endpoint", server.apiURL, "--webhook-listen", "127.0.0.1:0", "--webhook-margin", "60", "--model", "flux-2-klein-4b",
            "--prompt", "a {red|blue} kite", "--count", "2", "--width", "256", "--height", "256", "--output-dir", sandbox.output.path, "--json",
        ], environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        let reports = try run.stdout.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(reports.count == 4 && reports.allSatisfy { $0["status"] as? String == "done" && $0["followed_by"] as? String == "webhook" })
        let jobs = try sandbox.store().jobs()
        // The webhook's body was the answer (BFL sends no polling URL with a webhook): no polls.
        #expect(jobs.count == 4 && jobs.allSatisfy { $0.phase == .done && $0.polls == 0 && $0.followedBy == "webhook" })
        #expect(sandbox.files().filter { $0.hasSuffix(".jpg") }.count == 4)
        // What was sent carried a secret; nothing written here holds it.
        let bodies = await server.core.requests.filter { $0.method == "POST" }.compactMap(\.body)
        let sent = try bodies.map { try #require(try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any]) }
        let secrets = Set(sent.compactMap { $0["webhook_secret"] as? String })
        #expect(secrets.count == 1 && (secrets.first?.count ?? 0) == 64)
        #expect(sent.allSatisfy { ($0["webhook_url"] as? String)?.hasSuffix("/fluxdeck/webhook") == true })
        let secret = try #require(secrets.first)
        // The two fields are spliced in: the rest of each sent body is the ledger's, byte for byte.
        let url = try #require(sent.first?["webhook_url"] as? String)
        let added = #"{"webhook_secret":"\#(secret)","webhook_url":"\#(url)","#
        let unspliced = Set(bodies.map { String(decoding: $0, as: UTF8.self).replacingOccurrences(of: added, with: "{") })
        #expect(unspliced == Set(jobs.map(\.requestJSON)), "\(unspliced)")
        let attempts = await server.core.webhookAttempts(atLeast: 4)
        #expect(attempts.count == 4 && attempts.allSatisfy { $0.status == 200 })
        let written = FileManager.default.enumerator(at: sandbox.root, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        // The ledger, four images and their sidecars at least.
        #expect(written.count >= 9, "\(written)")
        for file in written where (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            let bytes = try Data(contentsOf: file)
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file.lastPathComponent)")
            #expect(bytes.range(of: Data("webhook_secret".utf8)) == nil, "\(file.lastPathComponent)")
        }
        #expect(!run.stderr.contains(secret) && !run.stdout.contains(secret))
        await server.stop()
    }

    @Test("generate --simulator --webhook-listen 127.0.0.1:0: the built-in simulator calls the receiver")
    func builtIn() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let run = try await BinaryRunner.run([
            "generate", "--simulator", "--sim-time-scale", "0.05", "--webhook-listen", "127.0.0.1:0", "--webhook-margin", "60", "--model", "flux-2-klein-4b",
            "--prompt", "a plover", "--count", "2", "--width", "256", "--height", "256", "--output-dir", sandbox.output.path,
        ], environment: sandbox.environment)
        #expect(run.status == 0, "\(run.stderr)")
        let jobs = try sandbox.store().jobs()
        #expect(jobs.count == 2 && jobs.allSatisfy { $0.phase == .done && $0.followedBy == "webhook" && $0.polls == 0 }, "\(jobs.map(\.followedBy))")
        // No polling URL came, so no cluster is known (the rebuilt URL names the front door).
        #expect(jobs.allSatisfy { $0.clusterHost == nil && $0.apiHost != nil })
        #expect(sandbox.files().filter { $0.hasSuffix(".jpg") }.count == 2)
    }

    @Test("[webhook] in config.toml: the receiver's address and a configured secret")
    func configured() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await sandbox.simulator(timeFactor: 0.05)
        let config = sandbox.root.appendingPathComponent("config.toml")
        try Data("[webhook]\nlisten = \"127.0.0.1:0\"\nsecret = \"configured-secret-123\"\n".utf8).write(to: config)
        let run = try await BinaryRunner.run([
            "generate", "--endpoint", server.apiURL, "--config", config.path, "--webhook-margin", "60", "--model", "flux-2-klein-4b", "--prompt", "a tern",
            "--width", "256", "--height", "256", "--output-dir", sandbox.output.path,
        ], environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try sandbox.store().jobs().map(\.followedBy) == ["webhook"])
        let sent = await server.core.requests.filter { $0.method == "POST" }.compactMap(\.body)
        #expect(sent.count == 1 && String(decoding: sent[0], as: UTF8.self).contains(#""webhook_secret":"configured-secret-123""#))
        await server.stop()
    }

    @Test("--webhook-listen against a remote endpoint needs --webhook-url; a bad address is named")
    func refusals() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        var environment = sandbox.environment
        environment["BFL_API_KEY"] = "bfl_test_key_that_is_long_enough_0000"
        let remote = try await BinaryRunner.run(["generate", "--webhook-listen", "127.0.0.1:0", "--model", "flux-2-pro", "--prompt", "x", "--dry-run"],
                                                environment: environment)
        // A dry run sends nothing and starts nothing.
        #expect(remote.status == 0, "\(remote.stderr)")
        let needsURL = try await BinaryRunner.run(["jobs", "resume", "--webhook-listen", "127.0.0.1:0"], environment: environment)
        #expect(needsURL.status == 2 && needsURL.stderr.contains("--webhook-listen needs --webhook-url"), "\(needsURL.stderr)")
        let bad = try await BinaryRunner.run(["jobs", "resume", "--webhook-listen", "nowhere", "--simulator"], environment: sandbox.environment)
        #expect(bad.status == 2 && bad.stderr.contains("--webhook-listen must be HOST:PORT"), "\(bad.stderr)")
        let margin = try await BinaryRunner.run(["jobs", "resume", "--webhook-margin=-1", "--simulator"], environment: sandbox.environment)
        #expect(margin.status == 2 && margin.stderr.contains("--webhook-margin takes seconds from 0 to 3600"), "\(margin.stderr)")
    }
}

@Suite("fluxdeck binary: webhooks that misbehave", .timeLimit(.minutes(3)))
struct WebhookFaultTests {
    func simulator(_ faults: String, in sandbox: Sandbox) async throws -> (SimulatorServer, [String: String]) {
        var options = SimulatorOptions()
        options.timeFactor = 0.05
        options.faults = try Faults(spec: faults)
        let server = try await SimulatorServer.start(options: options)
        var environment = sandbox.environment
        environment["BFL_API_KEY"] = server.apiKey
        return (server, environment)
    }

    /// `margin`: how long past the model's slow end a job waits for its call. Long where the
    /// call must win (a loaded machine may deliver it late), none where the fallback is tested.
    func generate(_ server: SimulatorServer, _ environment: [String: String], _ sandbox: Sandbox, count: Int, margin: Int,
                  extra: [String] = []) async throws -> BinaryRunner.Outcome {
        try await BinaryRunner.run([
            "generate", "--endpoint", server.apiURL, "--webhook-listen", "127.0.0.1:0", "--webhook-margin", "\(margin)",
            "--model", "flux-2-klein-4b", "--prompt", "a gull",
            "--count", "\(count)", "--width", "256", "--height", "256", "--output-dir", sandbox.output.path,
        ] + extra, environment: environment)
    }

    @Test("every call sent twice: the second is acknowledged and ignored; each image is saved once")
    func replayed() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await simulator("webhook=replay", in: sandbox)
        let run = try await generate(server, environment, sandbox, count: 3, margin: 60)
        #expect(run.status == 0, "\(run.stderr)")
        let attempts = await server.core.webhookAttempts(atLeast: 6)
        // No call was refused; a repeat that reached the receiver before fluxdeck exited was
        // acknowledged and ignored (one that came after it exited found nobody listening).
        #expect(attempts.count >= 6 && attempts.allSatisfy { $0.status == 200 || $0.status == nil }, "\(attempts)")
        // Both copies are sent at once, while the first is being acted on: at least one repeat
        // reached the receiver and was recognised as one (the log line counted below).
        let acknowledged = attempts.filter { $0.status == 200 }.count
        #expect(acknowledged > 3, "no repeat reached the receiver: \(attempts)")
        #expect(run.stderr.components(separatedBy: "a repeated delivery, acknowledged and ignored").count - 1 == acknowledged - 3, "\(run.stderr)")
        let jobs = try sandbox.store().jobs()
        #expect(jobs.count == 3 && jobs.allSatisfy { $0.phase == .done && $0.followedBy == "webhook" })
        #expect(sandbox.files().filter { $0.hasSuffix(".jpg") }.count == 3)
        await server.stop()
    }

    /// A config.toml naming the simulator's cluster hosts (as `fluxdeck simulate` prints it).
    func clustersConfig(_ server: SimulatorServer, in sandbox: Sandbox) throws -> String {
        let config = sandbox.root.appendingPathComponent("config.toml")
        let list = server.clusterURLs.map { "\"\($0)\"" }.joined(separator: ", ")
        try Data("[endpoint]\nclusters = [\(list)]\n".utf8).write(to: config)
        return config.path
    }

    @Test("forged and unsigned calls are refused (401) and never complete a job; it falls back to polling and is found on its cluster", arguments: ["webhook=forged", "webhook=unsigned"])
    func refused(_ fault: String) async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await simulator(fault, in: sandbox)
        let run = try await generate(server, environment, sandbox, count: 1, margin: 0, extra: ["--config", try clustersConfig(server, in: sandbox)])
        #expect(run.status == 0, "\(run.stderr)")
        let attempts = await server.core.webhookAttempts(atLeast: 1)
        #expect(attempts.first?.status == 401, "\(attempts)")
        // An unsigned call is refused from its headers; a forged one by its signature.
        let reason = fault == "webhook=unsigned" ? "neither the secret nor a signature" : "a signature that does not match the body"
        #expect(run.stderr.contains("webhook: refused (401): \(reason)"), "\(run.stderr)")
        // BFL gives no polling URL with a webhook: the rebuilt one on the front door 404s, and
        // the task is found on the cluster host that holds it.
        let jobs = try sandbox.store().jobs()
        #expect(jobs.count == 1 && jobs[0].followedBy == "polling" && jobs[0].phase == .done, "\(jobs.map(\.phase))")
        let host = try #require(jobs.first?.clusterHost)
        #expect(server.clusterURLs.contains { $0.hasSuffix(host) }, "\(host)")
        #expect(try sandbox.store().history(id: jobs[0].id).contains { $0.detail?.hasPrefix("found on \(host)") == true })
        #expect(sandbox.files().filter { $0.hasSuffix(".jpg") }.count == 1)
        await server.stop()
    }

    @Test("a lost webhook: the job falls back to polling, finds its cluster (configured, or learned from the ledger) and completes")
    func lost() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await simulator("webhook=lost", in: sandbox)
        // Nothing declares the clusters and the ledger has seen none: nobody knows the task.
        let unknown = try await generate(server, environment, sandbox, count: 1, margin: 0)
        #expect(unknown.status != 0)
        var jobs = try sandbox.store().jobs()
        #expect(jobs.count == 1 && jobs[0].phase == .failed && jobs[0].errorMessage?.contains("no host knows this task") == true,
                "\(jobs.map(\.errorMessage))")
        // Declared in config.toml: found there.
        let configured = try await generate(server, environment, sandbox, count: 2, margin: 0, extra: ["--config", try clustersConfig(server, in: sandbox)])
        #expect(configured.status == 0, "\(configured.stderr)")
        // Now the ledger knows the cluster from those jobs' polling URLs: found without the file.
        let learned = try await generate(server, environment, sandbox, count: 1, margin: 0)
        #expect(learned.status == 0, "\(learned.stderr)")
        jobs = try sandbox.store().jobs()
        let done = jobs.filter { $0.phase == .done }
        #expect(done.count == 3 && done.allSatisfy { $0.followedBy == "polling" && $0.clusterHost != nil && $0.pollingURL?.contains("/v1/get_result?id=") == true })
        #expect(sandbox.files().filter { $0.hasSuffix(".jpg") }.count == 3)
        #expect(await server.core.webhookAttempts.isEmpty)
        await server.stop()
    }

    @Test("a submit answer that names its polling URL: the webhook is confirmed with exactly one poll")
    func confirmed() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await simulator("webhook=polling-url", in: sandbox)
        let run = try await generate(server, environment, sandbox, count: 3, margin: 60)
        #expect(run.status == 0, "\(run.stderr)")
        let jobs = try sandbox.store().jobs()
        #expect(jobs.count == 3 && jobs.allSatisfy { $0.phase == .done && $0.followedBy == "webhook" && $0.polls == 1 }, "\(jobs.map(\.polls))")
        let polls = await server.core.requests.filter { $0.listener.isCluster && $0.method == "GET" }
        #expect(polls.count == 3)
        #expect(sandbox.files().filter { $0.hasSuffix(".jpg") }.count == 3)
        await server.stop()
    }
}
