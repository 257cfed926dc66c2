import BFL
import BFLSimulator
import Foundation
@testable import Studio
import TerminalCore
import Testing

/// The one submission plan, seen through the binary: `models`, validation, `cost` and
/// `--dry-run` say the same thing, and the studio's plan sends the bodies the CLI sends.
@Suite("fluxdeck binary: one size rule, one submission plan", .timeLimit(.minutes(2)))
struct SubmissionPlanEndToEndTests {
    @Test("models says FLUX.2 sides are 64-2048, and generate refuses 4000x1000 before sending (exit 2, naming a size that fits)")
    func limitsAgree() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let models = try await BinaryRunner.run(["models", "--json"], environment: sandbox.environment)
        #expect(models.status == 0)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(models.stdout.utf8)) as? [[String: Any]])
        let pro = try #require(list.first { $0["id"] as? String == "flux-2-pro" })
        #expect(pro["size"] as? String == "64-2048, x16, <=4MP")
        let wide = try await BinaryRunner.run(["generate", "--simulator", "--model", "flux-2-pro", "--prompt", "a pier", "--width", "4000",
                                               "--height", "1000", "--dry-run"], environment: sandbox.environment)
        #expect(wide.status == 2, "\(wide.stdout)")
        #expect(wide.stdout.isEmpty)
        #expect(wide.stderr.contains("width must be between 64 and 2048 for FLUX.2 (got 4000); 2048x512 fits"), "\(wide.stderr)")
        let cost = try await BinaryRunner.run(["cost", "--model", "flux-2-pro", "--width", "4000", "--height", "1000"], environment: sandbox.environment)
        #expect(cost.status == 2 && cost.stderr.contains("2048x512 fits"), "\(cost.stderr)")
    }

    @Test("an odd size: cost and --dry-run show the snap and price and send the size sent")
    func snapShown() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let cost = try await BinaryRunner.run(["cost", "--model", "flux-2-pro", "--width", "1025", "--height", "1024"], environment: sandbox.environment)
        #expect(cost.status == 0, "\(cost.stderr)")
        #expect(cost.stdout.contains("1025x1024 → 1024x1024, 1 output MP"), "\(cost.stdout)")
        #expect(cost.stdout.contains("Total: 3 credits ($0.03)"), "\(cost.stdout)")
        let dry = try await BinaryRunner.run(["generate", "--model", "flux-2-pro", "--prompt", "a pier", "--width", "1025", "--height", "1024",
                                              "--dry-run"], environment: sandbox.environment)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains(#""height":1024,"prompt":"a pier","width":1024"#), "\(dry.stdout)")
        #expect(dry.stdout.contains("1 request, estimated 3 credits ($0.03)"), "\(dry.stdout)")
        #expect(dry.stderr.contains("1025x1024 → 1024x1024"), "\(dry.stderr)")
    }

    /// A random form: a model, a prompt with groups and escapes, a count, a seed or none, a
    /// sweep, a size (odd ones too), a format and a safety level.
    struct Form: CustomStringConvertible {
        var model: Model
        var prompt: String
        var count: Int
        var seed: Int?
        var sweep: Bool
        var size: String?
        var format: OutputFormat?
        var safety: Int?

        var description: String { "\(model.id) \(prompt) ×\(count) seed \(seed.map(String.init) ?? "-")\(sweep ? " sweep" : "") \(size ?? "-") \(format?.rawValue ?? "-") \(safety.map(String.init) ?? "-")" }

        init(_ rng: inout SplitMix64) {
            let models = Catalog.all.filter { $0.family != .fill }
            model = models[Int(rng.next() % UInt64(models.count))]
            let words = ["a kite", "{red|blue} fox", #"a sign saying \{open\}"#, "{dawn|dusk|noon}", "owl {big|small}", "plain", #"a \| b"#]
            prompt = (0..<(1 + Int(rng.next() % 3))).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ")
            count = 1 + Int(rng.next() % 3)
            seed = rng.next() % 2 == 0 ? Int(rng.next() % 1_000_000) : nil
            sweep = seed != nil && rng.next() % 2 == 0
            switch model.sizeRule {
            case .flux2:
                size = rng.next() % 4 == 0 ? nil : "\(64 + Int(rng.next() % 3000))x\(64 + Int(rng.next() % 2000))"
            case .pro11:
                size = "\(256 + 32 * Int(rng.next() % 37))x\(256 + 32 * Int(rng.next() % 37))"
            case .aspectRatio, .aspectRatioUltra:
                size = ["1:1", "16:9", "9:21", "4:3"][Int(rng.next() % 4)]
            case .sameAsImage:
                size = nil
            }
            format = rng.next() % 2 == 0 ? nil : [OutputFormat.jpeg, .png][Int(rng.next() % 2)]
            safety = rng.next() % 2 == 0 ? nil : Int(rng.next() % UInt64(model.family.safetyRange.upperBound + 1))
        }

        var arguments: [String] {
            var arguments = ["generate", "--model", model.id, "--prompt", prompt, "--count", String(count), "--dry-run", "--json"]
            if let seed { arguments += ["--seed", String(seed)] }
            if sweep { arguments.append("--seed-sweep") }
            // The studio always shows a size (its first preset when none is typed): the CLI is given the same.
            if let size = size ?? studio.sizeChoice as String? {
                if let pixels = PixelSize(parsing: size) {
                    arguments += ["--width", String(pixels.width), "--height", String(pixels.height)]
                } else {
                    arguments += ["--aspect-ratio", size]
                }
            }
            if let format { arguments += ["--format", format.rawValue] }
            if let safety { arguments += ["--safety", String(safety)] }
            return arguments
        }

        /// The studio with this form filled in, as a user would leave it.
        var studio: AppState {
            var state = AppState(modelID: model.id)
            state.editor = TextEditor(text: prompt)
            state.count = count
            state.settings.seed = seed
            state.settings.seedSweep = sweep
            state.settings.format = format
            state.settings.safety = safety
            state.customSize = size
            return state
        }
    }

    static func canonical(_ json: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    @Test("for random forms, the bodies the studio's plan sends are the bodies generate --dry-run prints")
    func studioAndCLIAgree() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        var rng = SplitMix64(seed: 0xF1_0DEC)
        var compared = 0
        var refused = 0
        for _ in 0..<24 {
            let form = Form(&rng)
            let dry = try await BinaryRunner.run(form.arguments, environment: sandbox.environment)
            let plan = form.studio.plan
            guard dry.status == 0 else {
                // What the CLI refuses, the studio refuses too, with the same words.
                guard case .failure(let problem) = plan else {
                    Issue.record("the CLI refused \(form) (\(dry.stderr)) but the studio would send it")
                    continue
                }
                #expect(dry.stderr.contains(problem.messages.first ?? "-"), "\(form): \(dry.stderr) vs \(problem)")
                refused += 1
                continue
            }
            var firstSeed: Int?
            let printed = try dry.stdout.split(separator: "\n").map { line in
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let body = try #require(object["body"] as? [String: Any])
                firstSeed = firstSeed ?? (body["seed"] as? Int)
                return "\(object["path"] ?? "") " + (try Self.canonical(body))
            }
            // A comparison without a seed shares the one the CLI drew: the first request's
            // (image 0 of the first variant), the same for every variant.
            let made = try plan.get()
            let shared = made.sharesSeed ? try #require(firstSeed) : -1
            let studio = try made.requests(sharedSeed: shared).map { request in
                let prepared = try request.parameters.prepare(for: request.model)
                return "/v1/\(prepared.path) " + (try Self.canonical(try JSONSerialization.jsonObject(with: prepared.jsonBody())))
            }
            #expect(studio == printed, "\(form)")
            compared += 1
        }
        #expect(compared >= 12 && refused >= 1, "\(compared) compared, \(refused) refused")
    }
}

