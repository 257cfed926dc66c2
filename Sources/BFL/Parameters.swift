public import Foundation

/// The output formats the API knows.
public enum OutputFormat: String, Sendable, Hashable, CaseIterable, Codable {
    case jpeg, png, webp

    /// The file extension for saved images.
    public var fileExtension: String { self == .jpeg ? "jpg" : rawValue }
}

/// A reference image as it is sent: a URL the server fetches, or base64 data; with its pixel
/// size when it is known locally (for pricing and validation).
public struct ImageReference: Sendable, Hashable {
    /// A URL or base64-encoded image data, sent verbatim.
    public var value: String
    /// The image's size, when the caller knows it.
    public var size: PixelSize?
    /// A short label for messages and the ledger (a file name or URL), never the data itself.
    public var label: String
    /// The local file the image was made from (the job it belongs to is its parent); never sent.
    public var path: String?

    public init(value: String, size: PixelSize? = nil, label: String? = nil, path: String? = nil) {
        self.value = value
        self.size = size
        self.label = label ?? (value.count > 60 ? "image data" : value)
        self.path = path
    }
}

/// Everything a user can ask of a generation, independent of the model. Validation against a
/// model turns it into the family's wire request, sending only the fields that were set.
public struct GenerationParameters: Sendable, Hashable {
    public var prompt: String?
    /// Reference images: `input_image…` slots, or the single `image_prompt` of FLUX1.1/dev.
    public var references: [ImageReference] = []
    public var width: Int?
    public var height: Int?
    /// "16:9" and the like.
    public var aspectRatio: String?
    public var seed: Int?
    public var outputFormat: OutputFormat?
    public var safetyTolerance: Int?
    /// The user's wish for prompt upsampling; sent as `disable_pup` to FLUX.2 [pro]/[max].
    public var promptUpsampling: Bool?
    public var steps: Int?
    public var guidance: Double?
    public var raw: Bool?
    public var imagePromptStrength: Double?
    /// Fill: the image to repaint and its mask.
    public var image: ImageReference?
    public var mask: ImageReference?
    public var webhookURL: String?
    public var webhookSecret: String?
    public var user: String?

    public init(prompt: String? = nil) { self.prompt = prompt }

    /// The explicit output size, when both sides are set.
    public var size: PixelSize? {
        guard let width, let height else { return nil }
        return PixelSize(width: width, height: height)
    }
}

/// One problem found by local validation.
public struct ValidationIssue: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable { case error, warning }
    public var severity: Severity
    /// The wire name of the field concerned (`width`, `steps`, `input_image_9`, `prompt`, …).
    public var field: String
    public var message: String

    public static func error(_ field: String, _ message: String) -> ValidationIssue {
        ValidationIssue(severity: .error, field: field, message: message)
    }

    public static func warning(_ field: String, _ message: String) -> ValidationIssue {
        ValidationIssue(severity: .warning, field: field, message: message)
    }

    public var description: String { message }
}

/// A request ready to POST: the path, the JSON body, any warnings and the estimate.
public struct PreparedRequest: Sendable {
    public var model: Model
    /// The path after `/v1/`.
    public var path: String
    public var body: FamilyRequest
    public var warnings: [ValidationIssue]
    public var estimate: CostEstimate

    /// The JSON bytes of the body, keys sorted (stable for tests and the ledger). Image data
    /// is spliced in as it is (`ImageSplices`): the bytes are the encoder's own.
    public func jsonBody() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let splices = ImageSplices()
        if let key = ImageSplices.key { encoder.userInfo[key] = splices }
        if let spliced = splices.splice(into: try encoder.encode(body)) { return spliced }
        encoder.userInfo = [:]
        return try encoder.encode(body)
    }
}

extension GenerationParameters {
    /// Every problem with these parameters for `model`: errors block submission, warnings do not.
    public func validate(for model: Model) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        let family = model.family
        let name = model.displayName
        let tuning = model.tuningFields

        // Fields the model does not take.
        func unsupported(_ field: TuningField, _ isSet: Bool) {
            if isSet, !tuning.contains(field) {
                issues.append(.error(field.rawValue, "\(field.rawValue) is not supported by \(name)"))
            }
        }
        unsupported(.width, width != nil)
        unsupported(.height, height != nil)
        unsupported(.aspectRatio, aspectRatio != nil)
        unsupported(.steps, steps != nil)
        unsupported(.guidance, guidance != nil)
        unsupported(.raw, raw != nil && model.fixedFields["raw"] == nil)
        unsupported(.imagePromptStrength, imagePromptStrength != nil)
        unsupported(.image, image != nil)
        unsupported(.mask, mask != nil)
        if promptUpsampling != nil, !tuning.contains(.promptUpsampling), !tuning.contains(.disablePup) {
            issues.append(.error("prompt_upsampling", "prompt upsampling is not supported by \(name)"))
        }

        // Prompt.
        let trimmedPrompt = prompt?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if family.requiresPrompt, trimmedPrompt.isEmpty {
            issues.append(.error("prompt", "a prompt is required for \(name)"))
        }

        // References.
        if references.count > model.maxReferences {
            let field = model.usesInputImageSlots ? slotName(model.maxReferences + 1) : "image_prompt"
            let noun = model.maxReferences == 1 ? "reference image" : "reference images"
            let what = model.maxReferences == 0
                ? "\(name) takes no reference images (use image and mask)"
                : "\(name) takes at most \(model.maxReferences) \(noun)"
            issues.append(.error(field, "\(what); \(references.count) given"))
        }
        if model.usesInputImageSlots, family != .kontext {
            for (index, reference) in references.enumerated() {
                if let size = reference.size, size.pixels > 20 * PriceEstimator.megapixel {
                    issues.append(.error(slotName(index + 1),
                        "reference \(index + 1) (\(reference.label)) is \(megapixelText(size.pixels)) MP; \(name) accepts at most 20 MP"))
                }
            }
        }

        // Size.
        switch model.sizeRule {
        case .flux2, .pro11:
            if let limits = model.sizeRule.sideLimits { validateSides(limits, model: model, into: &issues) }
        case .aspectRatio, .aspectRatioUltra:
            if let aspectRatio, let problem = Self.aspectRatioProblem(aspectRatio) {
                issues.append(.error("aspect_ratio", problem))
            }
        case .sameAsImage:
            if image == nil { issues.append(.error("image", "\(name) needs an image to fill")) }
            if let imageSize = image?.size, let maskSize = mask?.size, imageSize != maskSize {
                issues.append(.error("mask", "the mask is \(maskSize) but the image is \(imageSize); they must match"))
            }
        }

        // Ranges.
        if let safetyTolerance, !family.safetyRange.contains(safetyTolerance) {
            issues.append(.error("safety_tolerance",
                "safety tolerance must be between \(family.safetyRange.lowerBound) and \(family.safetyRange.upperBound) (got \(safetyTolerance))"))
        }
        if let steps, let range = family.stepsRange, !range.contains(steps) {
            issues.append(.error("steps", "steps must be between \(range.lowerBound) and \(range.upperBound) (got \(steps))"))
        }
        if let guidance, let range = family.guidanceRange, !(range.contains(guidance)) {
            issues.append(.error("guidance",
                "guidance must be between \(Self.number(range.lowerBound)) and \(Self.number(range.upperBound)) (got \(Self.number(guidance)))"))
        }
        if let imagePromptStrength, tuning.contains(.imagePromptStrength), !(0...1).contains(imagePromptStrength) {
            issues.append(.error("image_prompt_strength",
                "image prompt strength must be between 0 and 1 (got \(Self.number(imagePromptStrength)))"))
        }
        if let imagePromptStrength, tuning.contains(.imagePromptStrength), references.isEmpty, (0...1).contains(imagePromptStrength) {
            issues.append(.warning("image_prompt_strength", "image prompt strength has no effect without a reference image"))
        }
        if let seed, seed < 0 {
            issues.append(.error("seed", "seed must not be negative (got \(seed))"))
        }
        if let webhookURL {
            if webhookURL.isEmpty || webhookURL.count > 2083 {
                issues.append(.error("webhook_url", "webhook URL must be 1 to 2083 characters long"))
            } else if URL(string: webhookURL)?.scheme == nil {
                issues.append(.error("webhook_url", "webhook URL must be an absolute URL (got \(webhookURL))"))
            }
        }
        if webhookSecret != nil, webhookURL == nil {
            issues.append(.error("webhook_secret", "a webhook secret needs a webhook URL"))
        }
        if let user, user.isEmpty || user.count > 256 {
            issues.append(.error("user", "user must be 1 to 256 characters long"))
        }
        return issues
    }

    /// The size rule's checks: both sides or neither; a side the rule snaps is snapped (and
    /// said), one it refuses is refused naming a side that fits; then range and area, naming
    /// a size that fits.
    private func validateSides(_ limits: SideLimits, model: Model, into issues: inout [ValidationIssue]) {
        if (width == nil) != (height == nil) {
            issues.append(.error(width == nil ? "width" : "height", "give both width and height, or neither"))
            return
        }
        guard let width, let height else { return }
        let asked = PixelSize(width: width, height: height)
        let sent = limits.sent(asked)
        let family = model.sizeRule == .flux2 ? "FLUX.2" : model.displayName
        let range = "\(limits.sides.lowerBound) and \(limits.sides.upperBound)"
        if limits.oddSides == .refuse {
            for (field, value) in [("width", width), ("height", height)] where value % limits.multiple != 0 && limits.sides.contains(value) {
                issues.append(.error(field, "\(field) must be a multiple of \(limits.multiple) (got \(value); try \(limits.snapped(value)))"))
            }
        }
        let outside = [("width", width, sent.width), ("height", height, sent.height)].filter { !limits.sides.contains($0.2) }
        if !outside.isEmpty {
            let fit = limits.fitting(asked)
            for (field, value, _) in outside {
                issues.append(.error(field, "\(field) must be between \(range) for \(family) (got \(value)); \(fit) fits"))
            }
            return
        }
        if let maxPixels = limits.maxPixels, sent.pixels > maxPixels {
            issues.append(.error("width",
                "\(asked) is \(megapixelText(sent.pixels)) MP; \(family) allows at most \(megapixelText(maxPixels)) MP (\(Self.grouped(maxPixels)) pixels); \(limits.fitting(asked)) fits"))
            return
        }
        if sent != asked {
            issues.append(.warning(sent.width != width ? "width" : "height",
                "\(asked) → \(sent): \(family) sides are multiples of \(limits.multiple), so fluxdeck sends them rounded down"))
        }
        if let recommended = limits.recommendedPixels, sent.pixels > recommended {
            issues.append(.warning("width",
                "\(sent) is \(megapixelText(sent.pixels)) MP; up to \(megapixelText(recommended)) MP is recommended"))
        }
    }

    /// The output size as it is sent to `model`: the asked size snapped by the model's size
    /// rule; nil when no size is asked (or the model takes none).
    public func sentSize(for model: Model) -> PixelSize? {
        guard let size, let limits = model.sizeRule.sideLimits else { return nil }
        return limits.sent(size)
    }

    /// Why an aspect ratio is not acceptable, or nil when it is (21:9 … 9:21).
    public static func aspectRatioProblem(_ text: String) -> String? {
        guard let (w, h) = parseAspectRatio(text) else {
            return "aspect ratio must look like 16:9 (got \"\(text)\")"
        }
        // w/h within 9/21 ... 21/9, compared without division.
        if w * 9 > h * 21 || w * 21 < h * 9 {
            return "aspect ratio \(w):\(h) is outside 21:9 … 9:21"
        }
        return nil
    }

    /// "16:9" → (16, 9).
    public static func parseAspectRatio(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0,
              w <= 10_000, h <= 10_000
        else { return nil }
        return (w, h)
    }

    /// Validates for `model` and builds the wire request; throws `BFLError.invalidRequest` with
    /// every blocking problem.
    public func prepare(for model: Model, count: Int = 1) throws(BFLError) -> PreparedRequest {
        let issues = validate(for: model)
        let errors = issues.filter { $0.severity == .error }
        guard errors.isEmpty else { throw BFLError.invalidRequest(errors.map(\.message)) }
        let estimate = PriceEstimator.estimate(model: model, parameters: self, count: count)
        return PreparedRequest(
            model: model, path: model.path, body: wireRequest(for: model),
            warnings: issues.filter { $0.severity == .warning }, estimate: estimate)
    }

    /// The family's wire request with only the set fields.
    func wireRequest(for model: Model) -> FamilyRequest {
        let common = CommonFields(
            seed: seed, outputFormat: outputFormat, safetyTolerance: safetyTolerance,
            webhookURL: webhookURL, webhookSecret: webhookSecret, user: user)
        let inputs = references.map(\.value)
        let prompt = self.prompt ?? ""
        // The size as sent: snapped where the rule snaps (the estimate prices the same).
        let sent = sentSize(for: model)
        let (width, height) = sent.map { (Optional($0.width), Optional($0.height)) } ?? (self.width, self.height)
        switch model.family {
        case .flux2:
            return .flux2(Flux2Request(
                prompt: prompt, inputImages: inputs, width: width, height: height,
                disablePup: promptUpsampling.map { !$0 }, common: common))
        case .flex:
            return .flex(FlexRequest(
                prompt: prompt, inputImages: inputs, width: width, height: height,
                promptUpsampling: promptUpsampling, guidance: guidance, steps: steps, common: common))
        case .klein:
            return .klein(KleinRequest(prompt: prompt, inputImages: inputs, width: width, height: height, common: common))
        case .kontext:
            return .kontext(KontextRequest(
                prompt: prompt, inputImages: inputs, aspectRatio: aspectRatio,
                promptUpsampling: promptUpsampling, common: common))
        case .pro11:
            return .pro11(Pro11Request(
                prompt: self.prompt, imagePrompt: inputs.first, width: width, height: height,
                promptUpsampling: promptUpsampling, common: common))
        case .ultra:
            return .ultra(UltraRequest(
                prompt: self.prompt, aspectRatio: aspectRatio, raw: model.fixedFields["raw"] ?? raw,
                imagePrompt: inputs.first, imagePromptStrength: imagePromptStrength,
                promptUpsampling: promptUpsampling, common: common))
        case .fill:
            return .fill(FillRequest(
                image: image?.value ?? "", mask: mask?.value, prompt: self.prompt, steps: steps,
                guidance: guidance, promptUpsampling: promptUpsampling, common: common))
        case .dev:
            return .dev(DevRequest(
                prompt: self.prompt, imagePrompt: inputs.first, width: width, height: height,
                promptUpsampling: promptUpsampling, steps: steps, guidance: guidance, common: common))
        }
    }

    private func slotName(_ index: Int) -> String {
        index == 1 ? "input_image" : "input_image_\(index)"
    }

    /// Megapixels with up to two decimals: "4", "4.03", "21.17".
    private func megapixelText(_ pixels: Int) -> String {
        Credits.plain(Decimal(pixels) / Decimal(PriceEstimator.megapixel), maxFractionDigits: 2, minFractionDigits: 0)
    }

    /// 4194304 → "4,194,304".
    static func grouped(_ value: Int) -> String {
        var digits = String(value.magnitude)
        var groups: [Substring] = []
        while digits.count > 3 {
            groups.insert(Substring(digits.suffix(3)), at: 0)
            digits.removeLast(3)
        }
        groups.insert(Substring(digits), at: 0)
        return (value < 0 ? "-" : "") + groups.joined(separator: ",")
    }

    /// "5" for whole numbers, "4.5" otherwise.
    public static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
