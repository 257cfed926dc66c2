import BFLSimulator
import Foundation
import Testing

@Suite("fluxdeck binary: prompt matrices, seed sweeps, dry runs", .timeLimit(.minutes(2)))
struct DryRunTests {
    @Test("a dry run prints exactly the bodies the simulator then receives for the same command, and writes nothing")
    func generateBodies() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await sandbox.simulator(timeFactor: 0.02)
        let arguments = ["generate", "--model", "flux-2-pro", "--prompt", "a {red|blue} {fox|owl at \\{night\\}}", "--seed", "40",
                         "--seed-sweep", "--count", "3", "--width", "256", "--height", "256"]
        let dry = try await BinaryRunner.run(arguments + ["--dry-run", "--json"], environment: environment)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stderr.contains("12 requests, estimated 36 credits ($0.36); dry run: nothing was sent"), "\(dry.stderr)")
        // Nothing was written: no ledger, no images; the simulator saw nothing.
        #expect(!FileManager.default.fileExists(atPath: sandbox.root.appendingPathComponent("data").path))
        #expect(await server.core.requests.isEmpty)
        let printed = try dry.stdout.split(separator: "\n").map { line -> String in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["path"] as? String == "/v1/flux-2-pro" && object["method"] as? String == "POST")
            let body = try #require(object["body"])
            return String(decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
        }
        #expect(printed.count == 12)
        #expect(printed.contains(#"{"height":256,"prompt":"a blue owl at {night}","seed":42,"width":256}"#))

        let real = try await BinaryRunner.run(arguments + ["--endpoint", server.apiURL, "--output-dir", sandbox.output.path], environment: environment)
        #expect(real.status == 0, "\(real.stderr)")
        let received = await server.core.requests.filter { $0.method == "POST" }.compactMap(\.body).map { bytes -> String in
            let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) ?? [:]
            return String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data(), as: UTF8.self)
        }
        #expect(received.sorted() == printed.sorted())
        await server.stop()
    }

    @Test("batch lines expand too; seed_sweep needs a seed; a bad matrix names its line")
    func batch() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let file = sandbox.root.appendingPathComponent("jobs.jsonl")
        try Data(#"""
            {"model":"flux-2-klein-4b","prompt":"{dawn|dusk} over the sea","count":2,"seed":5,"seed_sweep":true}
            {"model":"flux-2-pro","prompt":"a kite"}
            """#.utf8).write(to: file)
        let dry = try await BinaryRunner.run(["batch", file.path, "--dry-run"], environment: sandbox.environment)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.components(separatedBy: "POST /v1/").count - 1 == 5)
        #expect(dry.stdout.contains(#""prompt":"dusk over the sea","seed":6"#), "\(dry.stdout)")
        try Data(#"{"model":"flux-2-pro","prompt":"{a|}","count":1}"#.utf8).write(to: file)
        let bad = try await BinaryRunner.run(["batch", file.path, "--dry-run"], environment: sandbox.environment)
        #expect(bad.status == 2 && bad.stderr.contains("job 1: the prompt: choice 2 of the { at character 1 is empty"), "\(bad.stderr)")
        try Data(#"{"model":"flux-2-pro","prompt":"x","count":2,"seed_sweep":true}"#.utf8).write(to: file)
        let unseeded = try await BinaryRunner.run(["batch", file.path, "--dry-run"], environment: sandbox.environment)
        #expect(unseeded.status == 2 && unseeded.stderr.contains("a seed sweep needs a starting seed"), "\(unseeded.stderr)")
    }
}
