import ArgumentParser
import FluxdeckApp
import BFL
import Foundation

struct CostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost",
        abstract: "Estimate what a request costs, with the breakdown.",
        discussion: """
            FLUX.2 models are priced per megapixel (the first output megapixel, then each \
            further output or input megapixel); FLUX.1 models are flat per image. The server's \
            charged cost is authoritative; this is the estimate fluxdeck shows before you submit.
            """)

    @Option(help: "The model id (see `fluxdeck models`).")
    var model: String

    @Option(help: "Output width in pixels.")
    var width: Int?

    @Option(help: "Output height in pixels.")
    var height: Int?

    @Option(name: .customLong("aspect-ratio"), help: "Output aspect ratio W:H, for Kontext and Ultra.")
    var aspectRatio: String?

    @Option(name: .customLong("input-size"), help: "The size WxH of a reference image; repeat for each.")
    var inputSizes: [String] = []

    @Option(help: "How many images.")
    var count: Int = 1

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        try await runReportingFailures {
            let estimate = try makeEstimate()
            if json {
                try Output.json(CostReport(estimate))
            } else {
                printText(estimate)
            }
        }
    }

    func makeEstimate() throws -> CostEstimate {
        guard let model = Catalog.model(id: model) else {
            throw CommandFailure.usage("unknown model \"\(self.model)\"; known models: \(Catalog.knownIDsSentence)")
        }
        guard count >= 1, count <= 1000 else {
            throw CommandFailure.usage("--count must be between 1 and 1000 (got \(count))")
        }
        var inputs: [PixelSize] = []
        for text in inputSizes {
            guard let size = PixelSize(parsing: text) else {
                throw CommandFailure.usage("--input-size must look like 1024x768 (got \"\(text)\")")
            }
            inputs.append(size)
        }
        var parameters = GenerationParameters(prompt: "estimate")
        parameters.width = width
        parameters.height = height
        parameters.aspectRatio = aspectRatio
        if model.family == .fill {
            // Fill takes its size from the image; reference sizes do not apply.
            parameters.image = ImageReference(value: "", label: "image")
        } else {
            parameters.references = inputs.enumerated().map { index, size in
                ImageReference(value: "", size: size, label: "input \(index + 1)")
            }
        }
        let problems = parameters.validate(for: model).filter { $0.severity == .error }
        if let first = problems.first {
            throw CommandFailure.usage(first.message)
        }
        for warning in parameters.validate(for: model) where warning.severity == .warning {
            Output.error("fluxdeck: \(warning.message)")
        }
        return PriceEstimator.estimate(model: model, parameters: parameters, count: count)
    }

    func printText(_ estimate: CostEstimate) {
        let b = estimate.breakdown
        var lines: [(String, String)] = []
        if let outMP = b.outputMegapixels {
            // The size priced is the size sent (snapped by the model's size rule).
            let asked = width.flatMap { w in height.map { PixelSize(width: w, height: $0) } }
            let sent = asked.flatMap { estimate.model.sizeRule.sideLimits?.sent($0) }
            let size = asked.map { asked in sent.map { $0 == asked ? "\(asked)" : "\(asked) → \($0)" } ?? "\(asked)" } ?? "default size"
            Output.line("\(estimate.model.displayName) (\(estimate.model.id)), \(size), \(outMP) output MP")
            lines.append(("first megapixel", "\(b.base)"))
            if outMP > 1 { lines.append(("\(outMP - 1) extra output MP", "\(b.extraOutput)")) }
            for (index, input) in b.inputs.enumerated() {
                lines.append(("input \(index + 1) \(input.size) (\(input.megapixels) MP)", "\(input.credits)"))
            }
        } else {
            Output.line("\(estimate.model.displayName) (\(estimate.model.id)), flat price")
            lines.append(("per image", "\(b.base)"))
            if !b.inputs.isEmpty || !inputSizes.isEmpty { lines.append(("inputs", "free")) }
        }
        if b.count > 1, b.outputMegapixels != nil {
            lines.append(("per image", "\(b.perImage)"))
        }
        let width = lines.map(\.0.count).max() ?? 0
        for (label, value) in lines {
            let amount = value == "free" ? value : "\(value) credits"
            Output.line("  " + label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + amount)
        }
        let images = b.count > 1 ? " for \(b.count) images" : ""
        Output.line("Total: \(estimate.credits) credits (\(estimate.credits.usdText))\(images)")
    }
}

/// The JSON shape of `fluxdeck cost --json`.
struct CostReport: Encodable {
    var model: String
    var credits: Credits
    var usd: Decimal
    var breakdown: CostBreakdown

    init(_ estimate: CostEstimate) {
        model = estimate.model.id
        credits = estimate.credits
        usd = estimate.usd
        breakdown = estimate.breakdown
    }
}
