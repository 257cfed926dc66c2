import BFL
import FluxdeckApp
import Foundation
import Jobs
import Logging
import Synchronization
import Testing
import TestSupport
import TOMLFiles

/// What the commands share, reached without spawning the binary.
@Suite("The commands' shared room: configuration, .env, exit codes, batch files, sessions")
struct FluxdeckAppTests {
    @Test("config.toml: known keys read; an unknown key or a bad value names its line")
    func configuration() throws {
        let config = try Config.parse("""
            region = "eu"
            model = "flux-2-max"
            [budget]
            daily = 200
            [endpoint.regions]
            eu = "https://proxy.example/eu"
            """)
        #expect(config.region == .eu && config.model == "flux-2-max" && config.dailyBudget == Credits(200))
        #expect(config.endpointRegions.regions == [.eu])
        #expect(config.repeatGuard)
        #expect(try !Config.parse("[budget]\nrepeat_guard = false").repeatGuard)
        do {
            _ = try Config.parse("[budget]\nrepeat_guard = 2")
            Issue.record("repeat_guard = 2 was accepted")
        } catch let error as TOMLError {
            #expect(error.line == 2 && error.message == "budget.repeat_guard must be true or false", "\(error)")
        }
        #expect(throws: TOMLError.self) { try Config.parse("model = \"flux-9\"") }
        // A region or cluster host in plain http beyond this machine would carry prompts and the key in clear.
        for text in ["[endpoint.regions]\neu = \"http://proxy.example/eu\"", "[endpoint]\nclusters = [\"http://proxy.example/eu2\"]"] {
            do {
                _ = try Config.parse(text)
                Issue.record("accepted: \(text)")
            } catch let error as TOMLError {
                #expect(error.message.contains("plain http") && error.line != nil, "\(error)")
            }
        }
        #expect(try Config.parse("[endpoint.regions]\neu = \"http://127.0.0.1:8703\"").endpointRegions.regions == [.eu])
        do {
            _ = try Config.parse("region = \"eu\"\n\ncolour = \"red\"")
            Issue.record("an unknown key was accepted")
        } catch let error as TOMLError {
            #expect(error.line == 3 && error.message.contains("unknown key colour"), "\(error)")
        }
    }

    @Test(".env is trusted only as a private regular file of this user's; otherwise it is ignored with one warning")
    func dotEnv() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-app-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent(".env").path
        try Data("BFL_API_KEY=abcdefghijklmnopqrstuvwxyz\n".utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        var warnings: [String] = []
        #expect(Session.readDotEnv(file, warn: { warnings.append($0) })?.contains("BFL_API_KEY=") == true)
        #expect(warnings.isEmpty)
        try FileManager.default.setAttributes([.posixPermissions: 0o666], ofItemAtPath: file)
        #expect(Session.readDotEnv(file, warn: { warnings.append($0) }) == nil)
        #expect(warnings.count == 1 && warnings[0].contains("others may write to it"), "\(warnings)")
        let link = folder.appendingPathComponent("linked").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: file)
        #expect(Session.readDotEnv(link, warn: { warnings.append($0) }) == nil)
        #expect(warnings.last?.contains("symbolic link") == true)
    }

    @Test("exit codes: the API's refusal beats the network, which beats a failed job; all saved is 0")
    func exitCodes() {
        func job(_ phase: JobPhase, _ kind: JobErrorKind? = nil) -> JobRecord {
            fixtureJob(UUID().uuidString, phase, endpoint: "global") { $0.errorKind = kind }
        }
        #expect(JobRunner.exitCode([job(.done), job(.done)]) == .ok)
        #expect(JobRunner.exitCode([job(.done), job(.failed)]) == .jobFailed)
        #expect(JobRunner.exitCode([job(.failed), job(.failed, .network)]) == .network)
        #expect(JobRunner.exitCode([job(.failed, .network), job(.failed, .apiRefused)]) == .apiRefused)
        #expect(BFLError.invalidRequest(["x"]).exitCode == .usage)
        #expect(BFLError.insufficientCredits(nil).exitCode == .apiRefused)
    }

    @Test("batch files: a line per job, comments and blank lines skipped; a bad line is named")
    func batchFiles() throws {
        let specs = try GenerationSpec.batch("""
            # a comment
            {"model":"flux-2-pro","prompt":"a {red|blue} kite","count":2}

            {"model":"flux-2-klein-4b","prompt":"dusk","seed":5,"seed-sweep":true,"count":3}
            """)
        #expect(specs.count == 2)
        #expect(try specs[0].plan().requestCount == 4)
        #expect(try specs[1].plan().requests(sharedSeed: 0).map(\.parameters.seed) == [5, 6, 7])
        #expect(throws: CommandFailure.self) { try GenerationSpec.batch("{\"model\":\"flux-2-pro\",\"colour\":1}") }
        do {
            _ = try GenerationSpec.batch("{\"model\":\"flux-2-pro\"}\nnot json")
        } catch let failure as CommandFailure {
            #expect(failure.message == "line 2: not a JSON object" && failure.code == .usage)
        }
    }

    @Test("cost: the size priced is the size sent, said with its snap; a size outside the rule names one that fits")
    func cost() throws {
        let odd = try CostQuote.estimate(modelID: "flux-2-pro", width: 1025, height: 1024, aspectRatio: nil, inputSizes: [], count: 2)
        #expect(odd.credits == Credits(6))
        let lines = CostQuote.lines(odd, width: 1025, height: 1024, inputSizesGiven: false)
        #expect(lines.first == "FLUX.2 [pro] (flux-2-pro), 1025x1024 → 1024x1024, 1 output MP")
        #expect(lines.last == "Total: 6 credits ($0.06) for 2 images")
        do {
            _ = try CostQuote.estimate(modelID: "flux-2-pro", width: 4000, height: 1000, aspectRatio: nil, inputSizes: [], count: 1)
            Issue.record("4000x1000 was priced")
        } catch let failure as CommandFailure {
            #expect(failure.code == .usage && failure.message.hasSuffix("2048x512 fits"), "\(failure.message)")
        }
        #expect(throws: CommandFailure.self) {
            try CostQuote.estimate(modelID: "flux-9", width: nil, height: nil, aspectRatio: nil, inputSizes: [], count: 1)
        }
    }

    @Test("a key with a byte no header can carry is refused at start (usage), masked, before anything is sent or written")
    func badKey() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-app-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        var settings = ServiceSettings()
        settings.endpoint = "http://127.0.0.1:9"
        for key in ["abcd\nefgh_ijklmnop_1234", "abcdefgh\u{7F}ijklmnop_1234", "abcdefgh\tijkl_1234"] {
            let environment = ["HOME": home.path, "XDG_DATA_HOME": home.appendingPathComponent("data").path, "BFL_API_KEY": key]
            do {
                let session = try await Session.open(settings, environment: environment)
                await session.close()
                Issue.record("a key with a control character was accepted")
            } catch let failure as CommandFailure {
                #expect(failure.code == .usage && failure.message.contains("no HTTP header can carry"), "\(failure.message)")
                #expect(failure.message.contains("••••_1234") || failure.message.contains("••••1234"), "\(failure.message)")
                #expect(!failure.message.contains("abcd"), "the key leaked: \(failure.message)")
            }
        }
        // Nothing was written: no ledger was opened.
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("data/fluxdeck").path))
        #expect(APIKey("abcdefgh_ijklmnop-1234")?.headerProblem == nil)
    }

    @Test("a region asked for is a region kept: an endpoint without it is refused, naming what it has and how to map one")
    func regionKept() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-app-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        var settings = ServiceSettings()
        settings.endpoint = "http://127.0.0.1:9"
        let environment = ["HOME": home.path, "XDG_DATA_HOME": home.appendingPathComponent("data").path,
                           "XDG_CONFIG_HOME": home.appendingPathComponent("config").path, "BFL_API_KEY": "abcdefgh_ijklmnop_1234"]
        let proxy = try await Session.open(settings, environment: environment)
        #expect(throws: Never.self) { try proxy.check(region: nil) }
        do {
            try proxy.check(region: .eu)
            Issue.record("eu was accepted by an endpoint without regions")
        } catch let failure as CommandFailure {
            #expect(failure.code == .usage, "\(failure)")
            #expect(failure.message.contains("has no regions of its own") && failure.message.contains("[endpoint.regions] eu ="), "\(failure.message)")
        }
        await proxy.close()
        var simulated = ServiceSettings()
        simulated.simulator = true
        let simulator = try await Session.open(simulated, environment: environment)
        #expect(throws: Never.self) { try simulator.check(region: .eu) }
        await simulator.close()
    }

    @Test("webhook mode: a wildcard bind needs --webhook-url and is said in the log; a plain-http URL beyond this machine is refused")
    func webhookAddresses() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-app-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let environment = ["HOME": home.path, "XDG_DATA_HOME": home.appendingPathComponent("data").path,
                           "XDG_CONFIG_HOME": home.appendingPathComponent("config").path]
        func open(_ listen: String, _ url: String?) async throws -> [String] {
            let said = LinesHeard()
            var settings = ServiceSettings()
            settings.simulator = true
            settings.webhookListen = listen
            settings.webhookURL = url
            let session = try await Session.open(settings, environment: environment, log: { said.add($0) })
            await session.close()
            return said.lines
        }
        await #expect(throws: CommandFailure.self) { _ = try await open("0.0.0.0:0", nil) }
        await #expect(throws: CommandFailure.self) { _ = try await open("127.0.0.1:0", "http://tunnel.example/fluxdeck/webhook") }
        let wide = try await open("0.0.0.0:0", "https://tunnel.example/fluxdeck/webhook")
        #expect(wide.contains { $0.contains("every interface") }, "\(wide)")
        #expect(try await open("127.0.0.1:0", nil).isEmpty)
    }

    @Test("--webhook-listen takes HOST:PORT and [v6]:PORT; anything else says what it wants")
    func listenAddress() throws {
        #expect(try Session.hostAndPort("127.0.0.1:0") == ("127.0.0.1", 0))
        #expect(try Session.hostAndPort("[::1]:8787") == ("::1", 8787))
        #expect(throws: CommandFailure.self) { try Session.hostAndPort("localhost") }
        #expect(throws: CommandFailure.self) { try Session.hostAndPort(":80") }
    }

    @Test("a session on the built-in simulator opens with its own ledger and closes leaving nothing running")
    func simulatorSession() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-app-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        var settings = ServiceSettings()
        settings.simulator = true
        let environment = ["HOME": home.path, "XDG_DATA_HOME": home.appendingPathComponent("data").path,
                           "XDG_CONFIG_HOME": home.appendingPathComponent("config").path]
        let session = try await Session.open(settings, outputDirectory: home.appendingPathComponent("out").path, environment: environment)
        #expect(session.simulator != nil && session.keySource == nil)
        #expect(session.endpointLabel.hasPrefix("simulator pid "))
        #expect(try await session.client.credits() == Credits(1000))
        await session.close()
        #expect(FileManager.default.fileExists(atPath: home.appendingPathComponent("data/fluxdeck").path))
    }
}

/// Lines a log closure heard, for tests.
final class LinesHeard: Sendable {
    private let store = Mutex<[String]>([])
    func add(_ line: String) { store.withLock { $0.append(line) } }
    var lines: [String] { store.withLock { $0 } }
}

@Suite("The log file")
struct LogFileTests {
    @Test("two writers on one log (two fluxdecks) append whole lines: none lost, none split; each line names its pid")
    func concurrentWriters() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-log-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("fluxdeck.log").path
        let first = LogFile(path: path), second = LogFile(path: path)
        let line = String(repeating: "x", count: 300)
        await withTaskGroup(of: Void.self) { group in
            for (name, file) in [("a", first), ("b", second)] {
                group.addTask {
                    for n in 0..<2_000 { file.write("\(name) \(n) \(line)") }
                }
            }
        }
        first.close()
        second.close()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4_000)
        #expect(lines.allSatisfy { $0.hasSuffix(line) && ($0.hasPrefix("a ") || $0.hasPrefix("b ")) })
        #expect(Set(lines).count == 4_000)
        // Through the logger: time, pid, level, label, text.
        let log = LogFile(path: path)
        let logger = Logger(label: "studio") { label in FileLogHandler(file: log, label: label) }
        logger.info("hello")
        log.close()
        let last = try #require(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").last)
        #expect(last.contains(" \(ProcessInfo.processInfo.processIdentifier) info [studio] hello"), "\(last)")
    }
}
