public import BFL
public import Foundation

/// `fluxdeck cost`: the estimate of a request, its breakdown in lines, and its JSON.
public enum CostQuote {
    /// The estimate of `count` images of `modelID` at the size asked, with references of
    /// `inputSizes` (`WxH` each); every problem is a usage failure naming it. What validation
    /// warns about (a snapped size) is said on stderr.
    public static func estimate(modelID: String, width: Int?, height: Int?, aspectRatio: String?, inputSizes: [String], count: Int) throws -> CostEstimate {
        guard let model = Catalog.model(id: modelID) else {
            throw CommandFailure.usage("unknown model \"\(modelID)\"; known models: \(Catalog.knownIDsSentence)")
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

    /// The breakdown as `fluxdeck cost` prints it, line by line.
    public static func lines(_ estimate: CostEstimate, width: Int?, height: Int?, inputSizesGiven: Bool) -> [String] {
        var out: [String] = []
        let b = estimate.breakdown
        var lines: [(String, String)] = []
        if let outMP = b.outputMegapixels {
            // The size priced is the size sent (snapped by the model's size rule).
            let asked = width.flatMap { w in height.map { PixelSize(width: w, height: $0) } }
            let sent = asked.flatMap { estimate.model.sizeRule.sideLimits?.sent($0) }
            let size = asked.map { asked in sent.map { $0 == asked ? "\(asked)" : "\(asked) → \($0)" } ?? "\(asked)" } ?? "default size"
            out.append("\(estimate.model.displayName) (\(estimate.model.id)), \(size), \(outMP) output MP")
            lines.append(("first megapixel", "\(b.base)"))
            if outMP > 1 { lines.append(("\(outMP - 1) extra output MP", "\(b.extraOutput)")) }
            for (index, input) in b.inputs.enumerated() {
                lines.append(("input \(index + 1) \(input.size) (\(input.megapixels) MP)", "\(input.credits)"))
            }
        } else {
            out.append("\(estimate.model.displayName) (\(estimate.model.id)), flat price")
            lines.append(("per image", "\(b.base)"))
            if !b.inputs.isEmpty || inputSizesGiven { lines.append(("inputs", "free")) }
        }
        if b.count > 1, b.outputMegapixels != nil {
            lines.append(("per image", "\(b.perImage)"))
        }
        let labelWidth = lines.map(\.0.count).max() ?? 0
        for (label, value) in lines {
            let amount = value == "free" ? value : "\(value) credits"
            out.append("  " + label.padding(toLength: labelWidth, withPad: " ", startingAt: 0) + "  " + amount)
        }
        let images = b.count > 1 ? " for \(b.count) images" : ""
        out.append("Total: \(estimate.credits) credits (\(estimate.credits.usdText))\(images)")
        return out
    }
}

/// The JSON shape of `fluxdeck cost --json`.
public struct CostReport: Encodable {
    public var model: String
    public var credits: Credits
    public var usd: Decimal
    public var breakdown: CostBreakdown

    public init(_ estimate: CostEstimate) {
        model = estimate.model.id
        credits = estimate.credits
        usd = estimate.usd
        breakdown = estimate.breakdown
    }
}
