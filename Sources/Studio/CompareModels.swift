public import BFL
import Foundation

// Comparing models: one submission sent to several models, each given the settings in its own
// terms (sizes translated by the model's size rule, what it does not take left out, and said).

/// One model a submission goes to: its parameters, and what was changed or left out for it.
public struct ModelTarget: Sendable, Hashable {
    public var model: Model
    public var parameters: GenerationParameters
    public var notes: [String]
}

extension AppState {
    /// The models a submission goes to: the ones marked in the model list (Space), else the
    /// current one; each with the form's settings translated, or why it is left out.
    public var targets: (targets: [ModelTarget], skipped: [String]) {
        let ids = comparedModels.isEmpty ? [model.id] : comparedModels
        var targets: [ModelTarget] = []
        var skipped: [String] = []
        let base = parameters
        for id in ids {
            guard let target = Catalog.model(id: id) else { continue }
            if target.id == model.id {
                targets.append(ModelTarget(model: target, parameters: base, notes: []))
                continue
            }
            switch translated(base, to: target) {
            case .success(let (parameters, notes)): targets.append(ModelTarget(model: target, parameters: parameters, notes: notes))
            case .failure(let reason): skipped.append("\(target.displayName): \(reason.message)")
            }
        }
        return (targets, skipped)
    }

    /// Credits one submission would cost: every prompt and image, on every target model.
    public var submissionCredits: Credits {
        guard !comparedModels.isEmpty else { return estimate.credits }
        return submissionCredits(for: targets.targets)
    }

    /// `submissionCredits` for targets already worked out (a frame works them out once).
    public func submissionCredits(for targets: [ModelTarget]) -> Credits {
        targets.reduce(Credits.zero) { $0 + estimate($1.model, $1.parameters).credits }
    }

    /// The output size the form describes now, in pixels (an aspect ratio at about 1 MP).
    var sourceSize: PixelSize? {
        let p = parameters
        if let size = p.size { return size }
        if let ratio = p.aspectRatio.flatMap(GenerationParameters.parseAspectRatio) {
            let width = (1_048_576 * Double(ratio.0) / Double(ratio.1)).squareRoot()
            return PixelSize(width: Int(width.rounded()), height: Int((width * Double(ratio.1) / Double(ratio.0)).rounded()))
        }
        return p.image?.size
    }

    /// The form's settings for `target`.
    func translated(_ base: GenerationParameters, to target: Model) -> Result<(GenerationParameters, [String]), CompareProblem> {
        var p = GenerationParameters(prompt: base.prompt)
        if p.prompt?.isEmpty == true, !target.family.requiresPrompt { p.prompt = nil }
        var notes: [String] = []
        let size = sourceSize ?? PixelSize(width: 1024, height: 1024)
        switch target.sizeRule {
        case .flux2:
            var (w, h) = (Double(size.width), Double(size.height))
            let limit = 4_194_304.0
            if w * h > limit { let s = (limit / (w * h)).squareRoot(); w *= s; h *= s }
            p.width = max(64, Int(w) / 16 * 16)
            p.height = max(64, Int(h) / 16 * 16)
        case .pro11:
            var (w, h) = (Double(size.width), Double(size.height))
            let s = min(1, 1440 / max(w, h))
            w *= s
            h *= s
            p.width = min(1440, max(256, Int((w / 32).rounded()) * 32))
            p.height = min(1440, max(256, Int((h / 32).rounded()) * 32))
        case .aspectRatio, .aspectRatioUltra:
            p.aspectRatio = Self.ratio(size)
        case .sameAsImage:
            guard base.image != nil else { return .failure(CompareProblem(message: "it repaints an image; choose it as the model to give it one")) }
            p.image = base.image
            p.mask = base.mask
        }
        if let w = p.width, let h = p.height, base.size.map({ $0.width != w || $0.height != h }) ?? (base.aspectRatio != nil) {
            notes.append("\(w)x\(h)")
        } else if let ratio = p.aspectRatio, base.aspectRatio != ratio {
            notes.append(ratio)
        }
        p.seed = base.seed
        p.outputFormat = base.outputFormat
        if let safety = base.safetyTolerance {
            p.safetyTolerance = min(max(safety, target.family.safetyRange.lowerBound), target.family.safetyRange.upperBound)
        }
        let tuning = target.tuningFields
        if let steps = base.steps {
            if let range = target.family.stepsRange, tuning.contains(.steps) { p.steps = min(max(steps, range.lowerBound), range.upperBound) } else { notes.append("no steps") }
        }
        if let guidance = base.guidance {
            if let range = target.family.guidanceRange, tuning.contains(.guidance) { p.guidance = min(max(guidance, range.lowerBound), range.upperBound) } else { notes.append("no guidance") }
        }
        if let upsampling = base.promptUpsampling {
            if tuning.contains(.promptUpsampling) || tuning.contains(.disablePup) { p.promptUpsampling = upsampling } else { notes.append("no upsampling") }
        }
        if target.sizeRule != .sameAsImage {
            let kept = Array(base.references.prefix(target.maxReferences))
            p.references = kept
            if kept.count < base.references.count {
                notes.append(target.maxReferences == 0 ? "no references" : "\(kept.count) of \(base.references.count) references")
            }
        }
        if let problem = p.validate(for: target).first(where: { $0.severity == .error }) {
            return .failure(CompareProblem(message: problem.message))
        }
        return .success((p, notes))
    }

    /// `w:h` in lowest terms, kept within 21:9 … 9:21.
    static func ratio(_ size: PixelSize) -> String {
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

/// Why a model cannot take the submission.
public struct CompareProblem: Error, Sendable, Hashable {
    public var message: String
}
