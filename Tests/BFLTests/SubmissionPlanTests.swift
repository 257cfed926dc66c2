import BFL
import Foundation
import Testing

@Suite("The submission plan and the size rules")
struct SubmissionPlanTests {
    static let flux2 = Catalog.all.filter { $0.sizeRule == .flux2 }

    func body(_ request: SubmissionPlan.Request) throws -> [String: Any] {
        let data = try request.parameters.prepare(for: request.model).jsonBody()
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("an odd FLUX.2 size is snapped down before sending, and the estimate prices the size sent", arguments: flux2)
    func snapped(model: Model) throws {
        var parameters = GenerationParameters(prompt: "a kite")
        parameters.width = 1025
        parameters.height = 1024
        let plan = try SubmissionPlan.make(SubmissionForm(model: model, parameters: parameters))
        let request = try #require(plan.requests(sharedSeed: 0).first)
        let sent = try body(request)
        #expect(sent["width"] as? Int == 1024 && sent["height"] as? Int == 1024)
        let square = PriceEstimator.estimate(model: model, outputSize: PixelSize(width: 1024, height: 1024))
        #expect(request.estimate.credits == square.credits)
        #expect(plan.total == square.credits)
        #expect(plan.targets[0].warnings.map(\.message).contains { $0.hasPrefix("1025x1024 → 1024x1024") })
    }

    @Test("the variants of a matrix share one seed: image n of each gets the drawn seed + n, unless a seed or a sweep is given")
    func matrixSharesSeed() throws {
        let model = try #require(Catalog.model(id: "flux-2-pro"))
        let matrix = try SubmissionPlan.make(SubmissionForm(model: model, parameters: GenerationParameters(prompt: "a {red|blue} kite"), count: 2))
        #expect(matrix.sharesSeed)
        let sent = matrix.requests(sharedSeed: 500)
        #expect(sent.map(\.parameters.prompt) == ["a red kite", "a red kite", "a blue kite", "a blue kite"])
        #expect(sent.map(\.parameters.seed) == [500, 501, 500, 501])
        #expect(matrix.requestCount == sent.count && matrix.total == sent.reduce(.zero) { $0 + $1.estimate.credits })
        // Compared models too, in their own terms.
        let compared = try SubmissionPlan.make(SubmissionForm(model: model, parameters: GenerationParameters(prompt: "a kite"),
                                                              compared: [model, try #require(Catalog.model(id: "flux-2-klein-4b"))]))
        #expect(compared.requests(sharedSeed: 9).map(\.parameters.seed) == [9, 9])
        // A given seed is kept as it is; a sweep sweeps; one prompt on one model is left to BFL.
        var seeded = GenerationParameters(prompt: "a {red|blue} kite")
        seeded.seed = 42
        let fixed = try SubmissionPlan.make(SubmissionForm(model: model, parameters: seeded, count: 2))
        #expect(!fixed.sharesSeed && fixed.requests(sharedSeed: 500).map(\.parameters.seed) == [42, 42, 42, 42])
        let sweep = try SubmissionPlan.make(SubmissionForm(model: model, parameters: seeded, count: 2, seedSweep: true))
        #expect(sweep.requests(sharedSeed: 500).map(\.parameters.seed) == [42, 43, 42, 43])
        let single = try SubmissionPlan.make(SubmissionForm(model: model, parameters: GenerationParameters(prompt: "a kite"), count: 3))
        #expect(!single.sharesSeed && single.requests(sharedSeed: 500).map(\.parameters.seed) == [nil, nil, nil])
        #expect(SubmissionPlan.sharedSeeds.upperBound + SubmissionPlan.counts.upperBound <= Int(Int32.max))
    }

    @Test("each size rule refuses a side one step past its limit, names a size that fits, and says its limits in one summary")
    func limitsAgree() throws {
        for model in Catalog.all {
            guard let limits = model.sizeRule.sideLimits else { continue }
            #expect(model.sizeRule.summary.hasPrefix("\(limits.sides.lowerBound)-\(limits.sides.upperBound), x\(limits.multiple)"))
            var parameters = GenerationParameters(prompt: "a kite")
            parameters.width = limits.sides.upperBound + limits.multiple
            parameters.height = limits.sides.lowerBound
            let errors = parameters.validate(for: model).filter { $0.severity == .error }
            let fit = limits.fitting(PixelSize(width: parameters.width ?? 0, height: parameters.height ?? 0))
            #expect(errors.map(\.message) == ["width must be between \(limits.sides.lowerBound) and \(limits.sides.upperBound) for \(model.sizeRule == .flux2 ? "FLUX.2" : model.displayName) (got \(limits.sides.upperBound + limits.multiple)); \(fit) fits"])
            // The size named as fitting does fit.
            var fitting = GenerationParameters(prompt: "a kite")
            fitting.width = fit.width
            fitting.height = fit.height
            #expect(fitting.validate(for: model).filter { $0.severity == .error }.isEmpty, "\(model.id) \(fit)")
        }
        // 4000x1000 is within 4 MP but past the longest FLUX.2 side.
        var wide = GenerationParameters(prompt: "a kite")
        wide.width = 4000
        wide.height = 1000
        #expect(throws: BFLError.self) { try wide.prepare(for: try #require(Catalog.model(id: "flux-2-pro"))) }
    }

    @Test("a size that fits keeps within every limit, whatever was asked")
    func fittingIsInside() {
        // Sides from 1 to 20,000 on uneven steps: thin, square, huge and tiny sizes.
        let sides = Array(stride(from: 1, through: 20_000, by: 457)) + [63, 64, 65, 2047, 2048, 2049, 4096]
        for rule in [SizeRule.flux2, .pro11] {
            guard let limits = rule.sideLimits else { continue }
            for width in sides {
                for height in sides {
                    let asked = PixelSize(width: width, height: height)
                    let fit = limits.fitting(asked)
                    #expect(limits.sides.contains(fit.width) && limits.sides.contains(fit.height), "\(asked) → \(fit)")
                    #expect(fit.width % limits.multiple == 0 && fit.height % limits.multiple == 0, "\(asked) → \(fit)")
                    #expect(fit.pixels <= (limits.maxPixels ?? .max), "\(asked) → \(fit)")
                }
            }
        }
    }

    @Test("a prompt without groups is sent unescaped, as one with groups is")
    func escapes() throws {
        let pro = try #require(Catalog.model(id: "flux-2-pro"))
        let plain = try SubmissionPlan.make(SubmissionForm(model: pro, parameters: GenerationParameters(prompt: #"a \{b\} c"#)))
        #expect(plain.requests(sharedSeed: 0).map(\.parameters.prompt) == ["a {b} c"])
        let grouped = try SubmissionPlan.make(SubmissionForm(model: pro, parameters: GenerationParameters(prompt: #"a \{b\} {c|d}"#)))
        #expect(grouped.requests(sharedSeed: 0).map(\.parameters.prompt) == ["a {b} c", "a {b} d"])
    }

    @Test("one cap: 1,000 requests a submission, whatever multiplies them")
    func cap() throws {
        let klein = try #require(Catalog.model(id: "flux-2-klein-4b"))
        let choices = (1...400).map { "w\($0)" }.joined(separator: "|")
        let prompt = "{\(choices)} {a|b}"   // 800 prompts
        let form = SubmissionForm(model: klein, parameters: GenerationParameters(prompt: "{\(choices)}"), count: 3)
        #expect(throws: SubmissionProblem(["400 prompts × 3 images is 1200 requests, over the 1000 one submission may send"])) {
            try SubmissionPlan.make(form)
        }
        let under = try SubmissionPlan.make(SubmissionForm(model: klein, parameters: GenerationParameters(prompt: "{\(choices)}"), count: 2))
        #expect(under.requestCount == 800 && under.requests(sharedSeed: 0).count == 800)
        let compared = SubmissionForm(model: klein, parameters: GenerationParameters(prompt: prompt), count: 1,
                                      compared: [klein, try #require(Catalog.model(id: "flux-2-pro"))])
        #expect(throws: SubmissionProblem.self) { try SubmissionPlan.make(compared) }
    }

    @Test("a comparison: every model's requests are counted, priced and sent; the title says so")
    func comparison() throws {
        let models = try ["flux-2-pro", "flux-kontext-max", "flux-pro-1.1"].map { try #require(Catalog.model(id: $0)) }
        var parameters = GenerationParameters(prompt: "a lighthouse")
        parameters.width = 1920
        parameters.height = 1080
        let plan = try SubmissionPlan.make(SubmissionForm(model: models[0], parameters: parameters, count: 4, compared: models))
        #expect(plan.requestCount == 12 && plan.requests(sharedSeed: 0).count == 12)
        #expect(plan.requestTitle == "1 prompt × 4 × 3 models = 12 requests")
        #expect(Set(plan.requests(sharedSeed: 0).map(\.model.id)) == Set(models.map(\.id)))
        #expect(plan.total == plan.requests(sharedSeed: 0).reduce(Credits.zero) { $0 + $1.estimate.credits })
        let pro11 = try #require(plan.requests(sharedSeed: 0).first { $0.model.id == "flux-pro-1.1" })
        #expect(pro11.parameters.width == 1440 && pro11.parameters.height == 800)
        #expect(pro11.estimate.credits == Credits(4))
    }

    @Test("a URL reference is priced as one input megapixel, the least it can cost")
    func urlReference() throws {
        let pro = try #require(Catalog.model(id: "flux-2-pro"))
        var parameters = GenerationParameters(prompt: "the same, at night")
        parameters.references = [ImageReference(value: "https://example.com/a.jpg")]
        let prepared = try parameters.prepare(for: pro)
        #expect(prepared.estimate.credits == Credits("4.5"))
        #expect(PriceEstimator.estimate(model: pro, parameters: parameters).credits == Credits("4.5"))
    }
}

