import BFL
import Testing

@Suite("Local validation")
struct ValidationTests {
    /// A parameter set, the model, and the exact messages expected (errors first, then warnings).
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var model: String
        var parameters: GenerationParameters
        var errors: [String]
        var warnings: [String] = []
        var testDescription: String { name }
    }

    static func p(_ prompt: String? = "a lighthouse", _ edit: (inout GenerationParameters) -> Void = { _ in }) -> GenerationParameters {
        var parameters = GenerationParameters(prompt: prompt)
        edit(&parameters)
        return parameters
    }

    static func refs(_ n: Int, size: PixelSize? = nil) -> [ImageReference] {
        (1...n).map { ImageReference(value: "https://example.com/\($0).png", size: size) }
    }

    static let flux2Cases: [Case] = [
        Case(name: "pro: plain prompt is fine", model: "flux-2-pro", parameters: p(), errors: []),
        Case(name: "pro: 2048x2048 is exactly 4 MP", model: "flux-2-pro",
             parameters: p { $0.width = 2048; $0.height = 2048 }, errors: [],
             warnings: ["2048x2048 is 4 MP; up to 2 MP is recommended"]),
        Case(name: "pro: missing prompt", model: "flux-2-pro", parameters: p(nil),
             errors: ["a prompt is required for FLUX.2 [pro]"]),
        Case(name: "pro: blank prompt", model: "flux-2-pro", parameters: p("  \n "),
             errors: ["a prompt is required for FLUX.2 [pro]"]),
        Case(name: "pro: side below 64", model: "flux-2-pro",
             parameters: p { $0.width = 32; $0.height = 512 },
             errors: ["width must be between 64 and 2048 for FLUX.2 (got 32); 64x1024 fits"]),
        Case(name: "pro: area above 4 MP", model: "flux-2-pro",
             parameters: p { $0.width = 2048; $0.height = 2064 },
             errors: ["height must be between 64 and 2048 for FLUX.2 (got 2064); 2032x2048 fits"]),
        Case(name: "pro: a side over 2048 within 4 MP", model: "flux-2-pro",
             parameters: p { $0.width = 4000; $0.height = 1000 },
             errors: ["width must be between 64 and 2048 for FLUX.2 (got 4000); 2048x512 fits"]),
        Case(name: "pro: 2050 is snapped to 2048, within the rule", model: "flux-2-pro",
             parameters: p { $0.width = 2050; $0.height = 1024 }, errors: [],
             warnings: ["2050x1024 → 2048x1024: FLUX.2 sides are multiples of 16, so fluxdeck sends them rounded down"]),
        Case(name: "pro: not ×16 only warns", model: "flux-2-pro",
             parameters: p { $0.width = 1000; $0.height = 65 }, errors: [],
             warnings: ["1000x65 → 992x64: FLUX.2 sides are multiples of 16, so fluxdeck sends them rounded down"]),
        Case(name: "pro: width without height", model: "flux-2-pro",
             parameters: p { $0.width = 1024 }, errors: ["give both width and height, or neither"]),
        Case(name: "pro: nine references", model: "flux-2-pro",
             parameters: p { $0.references = refs(9) },
             errors: ["FLUX.2 [pro] takes at most 8 reference images; 9 given"]),
        Case(name: "pro: steps are flex-only", model: "flux-2-pro",
             parameters: p { $0.steps = 20 }, errors: ["steps is not supported by FLUX.2 [pro]"]),
        Case(name: "pro: safety 0-5", model: "flux-2-pro",
             parameters: p { $0.safetyTolerance = 6 }, errors: ["safety tolerance must be between 0 and 5 (got 6)"]),
        Case(name: "pro: aspect ratio is not a FLUX.2 field", model: "flux-2-pro",
             parameters: p { $0.aspectRatio = "16:9" }, errors: ["aspect_ratio is not supported by FLUX.2 [pro]"]),
        Case(name: "pro: a 21 MP reference", model: "flux-2-pro",
             parameters: p { $0.references = refs(1, size: PixelSize(width: 6000, height: 3700)) },
             errors: ["reference 1 (https://example.com/1.png) is 21.17 MP; FLUX.2 [pro] accepts at most 20 MP"]),
        Case(name: "klein: five references", model: "flux-2-klein-4b",
             parameters: p { $0.references = refs(5) },
             errors: ["FLUX.2 [klein] 4B takes at most 4 reference images; 5 given"]),
        Case(name: "flex: steps and guidance in range", model: "flux-2-flex",
             parameters: p { $0.steps = 50; $0.guidance = 1.5 }, errors: []),
        Case(name: "flex: steps and guidance out of range", model: "flux-2-flex",
             parameters: p { $0.steps = 51; $0.guidance = 10.5 },
             errors: ["steps must be between 1 and 50 (got 51)", "guidance must be between 1.5 and 10 (got 10.5)"]),
    ]

    static let flux1Cases: [Case] = [
        Case(name: "kontext: aspect ratio 21:9 ok", model: "flux-kontext-pro",
             parameters: p { $0.aspectRatio = "21:9" }, errors: []),
        Case(name: "kontext: aspect ratio too wide", model: "flux-kontext-pro",
             parameters: p { $0.aspectRatio = "3:1" }, errors: ["aspect ratio 3:1 is outside 21:9 … 9:21"]),
        Case(name: "kontext: aspect ratio garbage", model: "flux-kontext-max",
             parameters: p { $0.aspectRatio = "wide" }, errors: [#"aspect ratio must look like 16:9 (got "wide")"#]),
        Case(name: "kontext: width is not a Kontext field", model: "flux-kontext-pro",
             parameters: p { $0.width = 1024; $0.height = 1024 },
             errors: ["width is not supported by FLUX.1 Kontext [pro]", "height is not supported by FLUX.1 Kontext [pro]"]),
        Case(name: "kontext: prompt required", model: "flux-kontext-pro", parameters: p(""),
             errors: ["a prompt is required for FLUX.1 Kontext [pro]"]),
        Case(name: "pro1.1: prompt optional", model: "flux-pro-1.1", parameters: p(nil), errors: []),
        Case(name: "pro1.1: side out of 256-1440", model: "flux-pro-1.1",
             parameters: p { $0.width = 1472; $0.height = 224 },
             errors: ["width must be between 256 and 1440 for FLUX1.1 [pro] (got 1472); 1440x256 fits",
                      "height must be between 256 and 1440 for FLUX1.1 [pro] (got 224); 1440x256 fits"]),
        Case(name: "pro1.1: not ×32", model: "flux-pro-1.1",
             parameters: p { $0.width = 1000; $0.height = 768 },
             errors: ["width must be a multiple of 32 (got 1000; try 992)"]),
        Case(name: "pro1.1: two image prompts", model: "flux-pro-1.1",
             parameters: p { $0.references = refs(2) },
             errors: ["FLUX1.1 [pro] takes at most 1 reference image; 2 given"]),
        Case(name: "ultra: strength out of range", model: "flux-pro-1.1-ultra",
             parameters: p { $0.imagePromptStrength = 1.5; $0.references = refs(1) },
             errors: ["image prompt strength must be between 0 and 1 (got 1.5)"]),
        Case(name: "ultra: strength without image warns", model: "flux-pro-1.1-ultra",
             parameters: p { $0.imagePromptStrength = 0.3 }, errors: [],
             warnings: ["image prompt strength has no effect without a reference image"]),
        Case(name: "ultra: safety 6 allowed on FLUX.1", model: "flux-pro-1.1-ultra",
             parameters: p { $0.safetyTolerance = 6 }, errors: []),
        Case(name: "raw is ultra-only", model: "flux-2-pro",
             parameters: p { $0.raw = true }, errors: ["raw is not supported by FLUX.2 [pro]"]),
        Case(name: "fill: needs an image", model: "flux-pro-1.0-fill", parameters: p(),
             errors: ["FLUX.1 Fill [pro] needs an image to fill"]),
        Case(name: "fill: mask size must match", model: "flux-pro-1.0-fill",
             parameters: p {
                 $0.image = ImageReference(value: "aGVsbG8=", size: PixelSize(width: 512, height: 512))
                 $0.mask = ImageReference(value: "aGVsbG8=", size: PixelSize(width: 256, height: 256))
                 $0.steps = 10
             },
             errors: ["the mask is 256x256 but the image is 512x512; they must match",
                      "steps must be between 15 and 50 (got 10)"]),
        Case(name: "fill: references go in image, not input slots", model: "flux-pro-1.0-fill",
             parameters: p { $0.image = ImageReference(value: "aGVsbG8="); $0.references = refs(1) },
             errors: ["FLUX.1 Fill [pro] takes no reference images (use image and mask); 1 given"]),
        Case(name: "dev: guidance 1.5-5", model: "flux-dev",
             parameters: p { $0.guidance = 7 }, errors: ["guidance must be between 1.5 and 5 (got 7)"]),
        Case(name: "klein: upsampling does not exist", model: "flux-2-klein-9b",
             parameters: p { $0.promptUpsampling = true }, errors: ["prompt upsampling is not supported by FLUX.2 [klein] 9B"]),
        Case(name: "webhook secret needs a URL", model: "flux-2-pro",
             parameters: p { $0.webhookSecret = "s" }, errors: ["a webhook secret needs a webhook URL"]),
        Case(name: "negative seed", model: "flux-2-pro",
             parameters: p { $0.seed = -1 }, errors: ["seed must not be negative (got -1)"]),
    ]

    @Test("FLUX.2 families", arguments: flux2Cases)
    func flux2(_ c: Case) throws { try check(c) }

    @Test("FLUX.1 families", arguments: flux1Cases)
    func flux1(_ c: Case) throws { try check(c) }

    func check(_ c: Case) throws {
        let model = try #require(Catalog.model(id: c.model))
        let issues = c.parameters.validate(for: model)
        #expect(issues.filter { $0.severity == .error }.map(\.message) == c.errors)
        #expect(issues.filter { $0.severity == .warning }.map(\.message) == c.warnings)
        if c.errors.isEmpty {
            #expect(throws: Never.self) { try c.parameters.prepare(for: model) }
        } else {
            #expect(throws: BFLError.invalidRequest(c.errors)) { try c.parameters.prepare(for: model) }
        }
    }

    @Test("the error names the problem and the hint points at the models list")
    func errorText() {
        let error = BFLError.invalidRequest(["width must be at least 64 (got 32)"])
        #expect(error.message == "Invalid request: width must be at least 64 (got 32).")
        #expect(error.hint.contains("fluxdeck models"))
    }
}
