// Comparing models: one submission sent to several models, each given the settings in its own
// terms (sizes fitted by the model's size rule, what it does not take left out, and said).

/// Why a model cannot take a submission's settings.
public struct TranslationProblem: Error, Sendable, Hashable {
    public var message: String
}

extension GenerationParameters {
    /// The output size these settings describe, in pixels (an aspect ratio at about 1 MP, Fill's
    /// image size).
    public var describedSize: PixelSize? {
        if let size { return size }
        if let ratio = aspectRatio.flatMap(Self.parseAspectRatio) {
            let width = (Double(PriceEstimator.megapixel) * Double(ratio.0) / Double(ratio.1)).squareRoot()
            return PixelSize(width: Int(width.rounded()), height: Int((width * Double(ratio.1) / Double(ratio.0)).rounded()))
        }
        return image?.size
    }

    /// These settings for `target`, with what was changed or left out, or why it cannot take them.
    public func translated(to target: Model) -> Result<(GenerationParameters, [String]), TranslationProblem> {
        var p = GenerationParameters(prompt: prompt)
        if p.prompt?.isEmpty == true, !target.family.requiresPrompt { p.prompt = nil }
        var notes: [String] = []
        let size = describedSize ?? PixelSize(width: 1024, height: 1024)
        switch target.sizeRule {
        case .flux2, .pro11:
            if let limits = target.sizeRule.sideLimits {
                let fit = limits.fitting(size)
                p.width = fit.width
                p.height = fit.height
            }
        case .aspectRatio, .aspectRatioUltra:
            p.aspectRatio = Self.ratio(size)
        case .sameAsImage:
            guard image != nil else { return .failure(TranslationProblem(message: "it repaints an image; choose it as the model to give it one")) }
            p.image = image
            p.mask = mask
        }
        if let w = p.width, let h = p.height, self.size.map({ $0.width != w || $0.height != h }) ?? (aspectRatio != nil) {
            notes.append("\(w)x\(h)")
        } else if let ratio = p.aspectRatio, aspectRatio != ratio {
            notes.append(ratio)
        }
        p.seed = seed
        p.outputFormat = outputFormat
        if let safety = safetyTolerance {
            p.safetyTolerance = min(max(safety, target.family.safetyRange.lowerBound), target.family.safetyRange.upperBound)
        }
        let tuning = target.tuningFields
        if let steps {
            if let range = target.family.stepsRange, tuning.contains(.steps) { p.steps = min(max(steps, range.lowerBound), range.upperBound) } else { notes.append("no steps") }
        }
        if let guidance {
            if let range = target.family.guidanceRange, tuning.contains(.guidance) { p.guidance = min(max(guidance, range.lowerBound), range.upperBound) } else { notes.append("no guidance") }
        }
        if let promptUpsampling {
            if tuning.contains(.promptUpsampling) || tuning.contains(.disablePup) { p.promptUpsampling = promptUpsampling } else { notes.append("no upsampling") }
        }
        if target.sizeRule != .sameAsImage {
            let kept = Array(references.prefix(target.maxReferences))
            p.references = kept
            if kept.count < references.count {
                notes.append(target.maxReferences == 0 ? "no references" : "\(kept.count) of \(references.count) references")
            }
        }
        if let problem = p.validate(for: target).first(where: { $0.severity == .error }) {
            return .failure(TranslationProblem(message: problem.message))
        }
        return .success((p, notes))
    }

    /// `w:h` in lowest terms, kept within 21:9 … 9:21.
    public static func ratio(_ size: PixelSize) -> String {
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        let w = max(1, size.width), h = max(1, size.height)
        if w * 9 > h * 21 { return "21:9" }
        if w * 21 < h * 9 { return "9:21" }
        let g = gcd(w, h)
        let (a, b) = (w / g, h / g)
        if a <= 100, b <= 100 { return "\(a):\(b)" }
        // An awkward ratio: the first with small terms within 1 %, else the nearest of them.
        let target = Double(w) / Double(h)
        var best = (1, 1, Double.infinity)
        for d in 1...16 {
            let n = Int((target * Double(d)).rounded())
            guard n > 0 else { continue }
            let error = abs(Double(n) / Double(d) - target) / target
            if error < 0.01 { return "\(n):\(d)" }
            if error < best.2 { best = (n, d, error) }
        }
        return "\(best.0):\(best.1)"
    }
}
