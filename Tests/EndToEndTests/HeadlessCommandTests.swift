import Foundation
import Jobs
import Testing

@Suite("fluxdeck binary: models and cost")
struct HeadlessCommandTests {
    @Test("a command line it cannot take exits 2 with one fluxdeck: line, as a local validation error does; help and version exit 0",
          arguments: [["generate", "--bogus"], ["generate", "--model", "flux-2-pro", "--prompt", "x", "--count", "-1"], ["cost", "--model"], ["--no-such-flag"],
                      ["jobs", "frobnicate"]])
    func usageErrors(_ arguments: [String]) async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let outcome = try await BinaryRunner.run(arguments, environment: sandbox.environment)
        #expect(outcome.status == 2, "\(arguments): exit \(outcome.status), \(outcome.stderr)")
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines.first?.hasPrefix("fluxdeck: ") == true, "\(outcome.stderr)")
        #expect(outcome.stdout.isEmpty)
        // A negative number is the option's value, judged as one (not taken for a flag).
        if arguments.contains("-1") { #expect(outcome.stderr == "fluxdeck: count must be between 1 and 100 (got -1)\n", "\(outcome.stderr)") }
    }

    @Test("a missing batch file says no such file: PATH; --no-wait with the built-in simulator is refused before anything is sent")
    func fileAndNoWait() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let missing = sandbox.root.appendingPathComponent("nowhere.jsonl").path
        let batch = try await BinaryRunner.run(["batch", missing], environment: sandbox.environment)
        #expect(batch.status == 2 && batch.stderr == "fluxdeck: no such file: \(missing)\n", "\(batch.stderr)")
        let noWait = try await BinaryRunner.run(["generate", "--simulator", "--no-wait", "--model", "flux-2-klein-4b", "--prompt", "x",
                                                 "--output-dir", sandbox.output.path], environment: sandbox.environment)
        #expect(noWait.status == 2 && noWait.stderr.contains("--no-wait cannot be used with --simulator"), "\(noWait.stderr)")
        // Nothing was made: no ledger job, no file.
        #expect(try sandbox.store().jobs().isEmpty)
        #expect(sandbox.files().isEmpty)
    }

    @Test("shell completions offer model ids, formats, regions, statuses, and theme names (the user's too)")
    func completions() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        for shell in ["bash", "zsh", "fish"] {
            let script = try await BinaryRunner.run(["--generate-completion-script", shell], environment: sandbox.environment)
            #expect(script.status == 0)
            for word in ["flux-2-pro", "flux-kontext-max", "webp", "eu", "timed_out"] {
                #expect(script.stdout.contains(word), "\(shell) completes no \(word)")
            }
        }
        let themes = sandbox.root.appendingPathComponent("config/fluxdeck/themes")
        try FileManager.default.createDirectory(at: themes, withIntermediateDirectories: true)
        try Data("name = \"harbour\"\nvariant = \"dark\"\ninherits = \"frost\"\n".utf8).write(to: themes.appendingPathComponent("harbour.toml"))
        let offered = try await BinaryRunner.run(["---completion", "studio", "--", "--theme", "2", "0", "fluxdeck", "studio", "--theme"],
                                                 environment: sandbox.environment)
        let names = offered.stdout.split(separator: "\n").map(String.init)
        #expect(names.contains("frost") && names.contains("mono") && names.contains("harbour"), "\(offered.stdout) \(offered.stderr)")
    }

    @Test("--help and --version still exit 0 with their text")
    func helpAndVersion() async throws {
        let help = try await BinaryRunner.run(["generate", "--help"])
        #expect(help.status == 0 && help.stdout.contains("--prompt"), "\(help.stderr)")
        let version = try await BinaryRunner.run(["--version"])
        #expect(version.status == 0 && version.stdout.contains("0.1.0"))
    }

    @Test("cost reports 4.5 credits ($0.045) for flux-2-pro at 1920x1080")
    func costText() async throws {
        let outcome = try await BinaryRunner.run(["cost", "--model", "flux-2-pro", "--width", "1920", "--height", "1080"])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.contains("Total: 4.5 credits ($0.045)"))
        #expect(outcome.stdout.contains("1 extra output MP"))
    }

    @Test("a bad config.toml stops the studio before the screen is taken, naming the line", arguments: [
        ("region = \"mars\"\n", "line 1, column 1: region must be \"global\", \"eu\" or \"us\""),
        ("theme = \"frost\"\ncolour = 3\n", "line 2, column 1: unknown key colour"),
        ("[budget]\ndaily = -5\n", "line 2, column 1: budget.daily must be a positive number of credits"),
        ("[budget]\nweekly = 5\n", "line 2, column 1: unknown key budget.weekly"),
        ("model = \"flux-3\"\n", "line 1, column 1: model must be one of"),
        ("region = [\n", "line 1"),
        ("max_decode_megapixels = 0\n", "line 1, column 1: max_decode_megapixels must be a whole number from 1 to 1000"),
        ("[budget]\nconfirm_above = -1\n", "line 2, column 1: budget.confirm_above must be a positive number of credits, or 0 to never ask"),
        ("[webhook]\nsecret = \"\"\n", "line 2, column 1: webhook.secret is empty; leave it out for a random one each run"),
        ("[webhook]\nurl = \"ftp://x\"\n", "line 2, column 1: webhook.url must be an http(s) URL"),
        ("[notify]\nvia = \"loud\"\n", "line 2, column 1: notify.via must be one of \"bell\", \"osc9\", \"osc777\", \"both\", \"off\""),
        ("[notify]\nmin_seconds = -1\n", "line 2, column 1: notify.min_seconds must be a number of seconds from 0 to 86400"),
        ("[budget]\ndaily = true\n", "line 2, column 1: budget.daily must be a positive number of credits"),
        ("graphics = \"pixels\"\n", "line 1, column 1: graphics must be one of \"auto\", \"blocks\", \"kitty\", \"iterm2\", \"sixel\""),
        ("[endpoint]\nclusters = \"https://x\"\n", "line 2, column 1: endpoint.clusters must be a list of URLs in quotes"),
        ("[endpoint]\nclusters = [\"https://ok.example\", \"ftp://x\"]\n", "line 2, column 1: endpoint.clusters: \"ftp://x\" is not an absolute http(s) URL"),
        ("[endpoint]\nhosts = []\n", "line 2, column 1: unknown key endpoint.hosts (known: clusters, [endpoint.regions])"),
    ])
    func badConfig(text: String, message: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("config.toml")
        try Data(text.utf8).write(to: file)
        let outcome = try await BinaryRunner.run(["--config", file.path], environment: ["HOME": directory.path])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains(file.path + ": " + message), "\(outcome.stderr)")
        #expect(outcome.stderr.split(separator: "\n").count == 1)
        let missing = try await BinaryRunner.run(["--config", directory.appendingPathComponent("none.toml").path], environment: ["HOME": directory.path])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no configuration file at"))
    }

    @Test("0 and 1 are numbers, not flags: confirm_above = 0, daily = 1 and warn_below = 1 are accepted")
    func zeroAndOne() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("config.toml")
        try Data("max_decode_megapixels = 1\n[budget]\nconfirm_above = 0\ndaily = 1\nwarn_below = 1\n".utf8).write(to: file)
        let outcome = try await BinaryRunner.run(["--config", file.path], environment: ["HOME": directory.path])
        // Past the configuration: the studio stops only for want of a terminal.
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("the studio needs a terminal"), "\(outcome.stderr)")
    }

    @Test("--graphics takes auto, blocks, kitty, iterm2 or sixel, and says so")
    func badGraphics() async throws {
        let outcome = try await BinaryRunner.run(["--graphics", "pixels"], environment: ["HOME": FileManager.default.temporaryDirectory.path])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("--graphics must be one of auto, blocks, kitty, iterm2, sixel, not \"pixels\""), "\(outcome.stderr)")
    }

    @Test("cost --json has model, credits, usd and breakdown")
    func costJSON() async throws {
        let outcome = try await BinaryRunner.run([
            "cost", "--model", "flux-2-max", "--width", "1024", "--height", "1024",
            "--input-size", "1024x1024", "--input-size", "1920x1080", "--input-size", "4000x3000", "--count", "2", "--json",
        ])
        #expect(outcome.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["model", "credits", "usd", "breakdown"])
        #expect(object["model"] as? String == "flux-2-max")
        #expect((object["credits"] as? NSNumber)?.doubleValue == 56)
        #expect((object["usd"] as? NSNumber)?.doubleValue == 0.56)
        let breakdown = try #require(object["breakdown"] as? [String: Any])
        let inputs = try #require(breakdown["inputs"] as? [[String: Any]])
        #expect(inputs.compactMap { $0["megapixels"] as? Int } == [1, 2, 4])
        #expect(breakdown["count"] as? Int == 2)
    }

    @Test("unknown model and impossible sizes exit 2 with one clear line", arguments: [
        (["cost", "--model", "flux-3"], "unknown model \"flux-3\""),
        (["cost", "--model", "flux-2-pro", "--width", "32", "--height", "64"], "width must be between 64 and 2048 for FLUX.2 (got 32); 64x128 fits"),
        (["cost", "--model", "flux-2-pro", "--width", "4096", "--height", "4096"], "width must be between 64 and 2048 for FLUX.2 (got 4096); 2048x2048 fits"),
        (["cost", "--model", "flux-pro-1.1", "--width", "2000", "--height", "768"], "width must be between 256 and 1440 for FLUX1.1 [pro] (got 2000); 1440x544 fits"),
        (["cost", "--model", "flux-kontext-pro", "--aspect-ratio", "5:1"], "aspect ratio 5:1 is outside 21:9 … 9:21"),
        (["cost", "--model", "flux-2-pro", "--input-size", "big"], "--input-size must look like 1024x768"),
    ])
    func costErrors(_ arguments: [String], _ message: String) async throws {
        let outcome = try await BinaryRunner.run(arguments)
        #expect(outcome.status == 2)
        #expect(outcome.stdout.isEmpty)
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(outcome.stderr.contains(message))
    }

    @Test("models lists all twelve, in text and JSON")
    func models() async throws {
        let text = try await BinaryRunner.run(["models"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("flux-kontext-max        FLUX.1 Kontext [max]  8 per image"))
        let json = try await BinaryRunner.run(["models", "--json"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(list.count == 12)
        let raw = try #require(list.first { $0["id"] as? String == "flux-pro-1.1-ultra-raw" })
        #expect(raw["path"] as? String == "flux-pro-1.1-ultra")
        #expect(raw["raw"] as? Bool == true)
        let kontextMax = try #require(list.first { $0["id"] as? String == "flux-kontext-max" })
        #expect(kontextMax["concurrency_limit"] as? Int == 6)
    }

    @Test("check-theme accepts a good file and names the line of a problem")
    func checkTheme() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-theme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.toml")
        try Data("name = \"mine\"\ninherits = \"frost\"\n[styles]\n\"job.status.done\" = \"#00ff00\"\n".utf8).write(to: good)
        let ok = try await BinaryRunner.run(["check-theme", good.path])
        #expect(ok.status == 0)
        #expect(ok.stdout.contains("ok, theme \"mine\""))
        let bad = directory.appendingPathComponent("bad.toml")
        try Data("name = \"mine\"\n[styles]\n\"job.status.done\" = \"greenish\"\n".utf8).write(to: bad)
        let refused = try await BinaryRunner.run(["check-theme", bad.path])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("bad.toml:3:1: \"job.status.done\": unknown colour \"greenish\""))
    }

    @Test("--help works for every command")
    func help() async throws {
        for arguments in [["--help"], ["cost", "--help"], ["models", "--help"]] {
            let outcome = try await BinaryRunner.run(arguments)
            #expect(outcome.status == 0, "\(arguments)")
            #expect(outcome.stdout.contains("USAGE"), "\(arguments)")
        }
    }
}
