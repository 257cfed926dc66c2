/// The request families of the BFL API: models in one family accept the same fields.
public enum ModelFamily: String, Sendable, Hashable, CaseIterable, Codable {
    /// FLUX.2 [pro] and [max].
    case flux2
    /// FLUX.2 [flex]: flux2 plus guidance, steps and prompt upsampling.
    case flex
    /// FLUX.2 [klein] 4B and 9B.
    case klein
    /// FLUX.1 Kontext [pro] and [max].
    case kontext
    /// FLUX1.1 [pro].
    case pro11
    /// FLUX1.1 [pro] Ultra (and Raw, which is Ultra with `raw: true`).
    case ultra
    /// FLUX.1 Fill [pro]: inpainting with an image and a mask.
    case fill
    /// FLUX.1 [dev].
    case dev
}

/// How a model is told the size of its output.
public enum SizeRule: Sendable, Hashable {
    /// FLUX.2: `width`/`height`, 64…2048, snapped down to ×16, area ≤ 4 MP, 2 MP recommended
    /// (`sideLimits`).
    case flux2
    /// FLUX1.1 [pro] and dev: `width`/`height` in 256…1440, ×32, default 1024x768.
    case pro11
    /// Kontext: `aspect_ratio` between 21:9 and 9:21; about 1 MP.
    case aspectRatio
    /// Ultra: `aspect_ratio` between 21:9 and 9:21, default 16:9, about 4 MP.
    case aspectRatioUltra
    /// Fill: the output has the size of the input image.
    case sameAsImage
}

/// What a size rule does with a side that is not a multiple of its step.
public enum OddSidePolicy: Sendable, Hashable {
    /// Snapped down to the step before sending (the server would round it down anyway, and the
    /// price of an odd size is undocumented), and shown as `1025x1024 → 1024x1024`.
    case snapDown
    /// Refused, naming the nearest side that fits.
    case refuse
}

/// The limits of a width/height size rule: the one place that knows them. Validation, the
/// estimator, `fluxdeck models`, the studio, translation between models and the simulator's
/// schema all read these.
public struct SideLimits: Sendable, Hashable {
    /// Each side, in pixels.
    public var sides: ClosedRange<Int>
    /// Each side is a multiple of this.
    public var multiple: Int
    /// The largest area, in pixels.
    public var maxPixels: Int?
    /// Above this area fluxdeck warns (the family's recommended size).
    public var recommendedPixels: Int?
    public var oddSides: OddSidePolicy

    /// `side` snapped down to the multiple.
    public func snapped(_ side: Int) -> Int { side - side % multiple }

    /// The size as it is sent: snapped down where the rule snaps, else as asked.
    public func sent(_ size: PixelSize) -> PixelSize {
        guard oddSides == .snapDown else { return size }
        return PixelSize(width: snapped(size.width), height: snapped(size.height))
    }

    /// The largest size within the limits with about the aspect of `size` (a size that fits,
    /// for messages and for translating a size to another model).
    public func fitting(_ size: PixelSize) -> PixelSize {
        let (w, h) = (Double(max(1, size.width)), Double(max(1, size.height)))
        var scale = min(1, Double(sides.upperBound) / max(w, h))
        if let maxPixels, w * h * scale * scale > Double(maxPixels) { scale = (Double(maxPixels) / (w * h)).squareRoot() }
        scale = max(scale, Double(sides.lowerBound) / min(w, h))
        func side(_ value: Double) -> Int {
            let whole = value.isFinite ? Int(min(value, Double(sides.upperBound)).rounded(.down)) : sides.upperBound
            return min(sides.upperBound, max(sides.lowerBound, snapped(whole)))
        }
        var fit = PixelSize(width: side(w * scale), height: side(h * scale))
        // Clamping a very long, thin size to the shortest side can leave it over the area.
        while let maxPixels, fit.pixels > maxPixels, fit.width > sides.lowerBound || fit.height > sides.lowerBound {
            if fit.width >= fit.height { fit.width -= multiple } else { fit.height -= multiple }
        }
        return fit
    }

    /// "64-2048, x16, <=4MP".
    public var summary: String {
        var text = "\(sides.lowerBound)-\(sides.upperBound), x\(multiple)"
        if let maxPixels { text += ", <=\(maxPixels / PriceEstimator.megapixel)MP" }
        return text
    }
}

extension SizeRule {
    /// The width/height limits, for the rules that take a width and a height.
    public var sideLimits: SideLimits? {
        switch self {
        case .flux2:
            // BFL documents ×16, ≥ 64 and ≤ 4 MP, and leaves the longest side open; fluxdeck
            // keeps to 2048 (what 4 MP allows for a square, and what wrappers cap at).
            SideLimits(sides: 64...2048, multiple: 16, maxPixels: 4_194_304, recommendedPixels: 2_097_152, oddSides: .snapDown)
        case .pro11:
            SideLimits(sides: 256...1440, multiple: 32, maxPixels: nil, recommendedPixels: nil, oddSides: .refuse)
        case .aspectRatio, .aspectRatioUltra, .sameAsImage:
            nil
        }
    }

    /// A short description for `fluxdeck models`.
    public var summary: String {
        switch self {
        case .flux2, .pro11: sideLimits?.summary ?? ""
        case .aspectRatio: "21:9 to 9:21"
        case .aspectRatioUltra: "21:9 to 9:21, ~4MP"
        case .sameAsImage: "same as image"
        }
    }
}

/// How a model is priced, in credits (1 credit = US$0.01).
public enum PriceRule: Sendable, Hashable {
    /// FLUX.2: `first` for the first output megapixel, `perMP` for each further output megapixel
    /// and for each input megapixel.
    case megapixel(first: Credits, perMP: Credits)
    /// FLUX.1: a flat price per image, inputs free.
    case flat(Credits)
}

/// A request field that only some families accept. The catalog lists them per family so that
/// both validation and the UI know what to offer.
public enum TuningField: String, Sendable, Hashable, CaseIterable, Codable {
    case width, height
    case aspectRatio = "aspect_ratio"
    case steps, guidance, raw
    case promptUpsampling = "prompt_upsampling"
    case disablePup = "disable_pup"
    case imagePrompt = "image_prompt"
    case imagePromptStrength = "image_prompt_strength"
    case image, mask
}

/// One model of the catalog. Adding a model is adding one `Model` value to `Catalog.all`.
public struct Model: Sendable, Hashable, Identifiable {
    /// The catalog id users type, e.g. `flux-2-pro`.
    public let id: String
    public let displayName: String
    /// The path segment after `/v1/` that the request is POSTed to.
    public let path: String
    public let family: ModelFamily
    /// How many reference images (`input_image`, `input_image_2`, …) it accepts; for the FLUX1.1
    /// family this is the single `image_prompt`.
    public let maxReferences: Int
    public let sizeRule: SizeRule
    /// Active tasks allowed per account for this model.
    public let concurrencyLimit: Int
    public let price: PriceRule
    /// Fields always sent for this model (Raw sends `raw: true` to the Ultra path).
    public let fixedFields: [String: Bool]
    /// A typical end-to-end generation time, used to plan polling before anything is learned.
    public let typicalDuration: Duration

    public init(
        id: String, displayName: String, path: String? = nil, family: ModelFamily,
        maxReferences: Int, sizeRule: SizeRule, concurrencyLimit: Int = 24, price: PriceRule,
        fixedFields: [String: Bool] = [:], typicalDuration: Duration
    ) {
        self.id = id
        self.displayName = displayName
        self.path = path ?? id
        self.family = family
        self.maxReferences = maxReferences
        self.sizeRule = sizeRule
        self.concurrencyLimit = concurrencyLimit
        self.price = price
        self.fixedFields = fixedFields
        self.typicalDuration = typicalDuration
    }

    /// The tuning fields this model accepts (beyond prompt, seed, format, safety, webhook).
    public var tuningFields: Set<TuningField> { family.tuningFields }

    /// Whether the references are `input_image*` slots (FLUX.2, Kontext) rather than a single
    /// `image_prompt` (FLUX1.1, dev) or the fill `image`.
    public var usesInputImageSlots: Bool {
        switch family {
        case .flux2, .flex, .klein, .kontext: true
        case .pro11, .ultra, .fill, .dev: false
        }
    }

    /// The default output format the server picks when none is sent.
    public var defaultOutputFormat: OutputFormat { family == .kontext ? .png : .jpeg }
}

extension ModelFamily {
    /// The tuning fields each family accepts.
    public var tuningFields: Set<TuningField> {
        switch self {
        case .flux2: [.width, .height, .disablePup]
        case .flex: [.width, .height, .promptUpsampling, .guidance, .steps]
        case .klein: [.width, .height]
        case .kontext: [.aspectRatio, .promptUpsampling]
        case .pro11: [.width, .height, .imagePrompt, .promptUpsampling]
        case .ultra: [.aspectRatio, .raw, .imagePrompt, .imagePromptStrength, .promptUpsampling]
        case .fill: [.image, .mask, .steps, .guidance, .promptUpsampling]
        case .dev: [.width, .height, .imagePrompt, .promptUpsampling, .steps, .guidance]
        }
    }

    /// Whether a non-empty prompt is required.
    public var requiresPrompt: Bool {
        switch self {
        case .flux2, .flex, .klein, .kontext: true
        case .pro11, .ultra, .fill, .dev: false
        }
    }

    /// The accepted `safety_tolerance` range.
    public var safetyRange: ClosedRange<Int> {
        switch self {
        case .flux2, .flex, .klein: 0...5
        case .kontext, .pro11, .ultra, .fill, .dev: 0...6
        }
    }

    /// The accepted `steps` range, for families that have steps.
    public var stepsRange: ClosedRange<Int>? {
        switch self {
        case .flex, .dev: 1...50
        case .fill: 15...50
        default: nil
        }
    }

    /// The accepted `guidance` range, for families that have guidance.
    public var guidanceRange: ClosedRange<Double>? {
        switch self {
        case .flex: 1.5...10
        case .fill: 1.5...100
        case .dev: 1.5...5
        default: nil
        }
    }
}

/// The model catalog of the contract (`bfl-api.md` §2).
public enum Catalog {
    public static let all: [Model] = [
        Model(id: "flux-2-klein-4b", displayName: "FLUX.2 [klein] 4B", family: .klein,
              maxReferences: 4, sizeRule: .flux2, price: .megapixel(first: "1.4", perMP: "0.1"),
              typicalDuration: .milliseconds(1200)),
        Model(id: "flux-2-klein-9b", displayName: "FLUX.2 [klein] 9B", family: .klein,
              maxReferences: 4, sizeRule: .flux2, price: .megapixel(first: "1.5", perMP: "0.2"),
              typicalDuration: .seconds(2)),
        Model(id: "flux-2-pro", displayName: "FLUX.2 [pro]", family: .flux2,
              maxReferences: 8, sizeRule: .flux2, price: .megapixel(first: "3", perMP: "1.5"),
              typicalDuration: .seconds(10)),
        Model(id: "flux-2-max", displayName: "FLUX.2 [max]", family: .flux2,
              maxReferences: 8, sizeRule: .flux2, price: .megapixel(first: "7", perMP: "3"),
              typicalDuration: .seconds(30)),
        Model(id: "flux-2-flex", displayName: "FLUX.2 [flex]", family: .flex,
              maxReferences: 8, sizeRule: .flux2, price: .megapixel(first: "5", perMP: "5"),
              typicalDuration: .seconds(7)),
        Model(id: "flux-kontext-pro", displayName: "FLUX.1 Kontext [pro]", family: .kontext,
              maxReferences: 4, sizeRule: .aspectRatio, price: .flat("4"),
              typicalDuration: .seconds(7)),
        Model(id: "flux-kontext-max", displayName: "FLUX.1 Kontext [max]", family: .kontext,
              maxReferences: 4, sizeRule: .aspectRatio, concurrencyLimit: 6, price: .flat("8"),
              typicalDuration: .seconds(7)),
        Model(id: "flux-pro-1.1", displayName: "FLUX1.1 [pro]", family: .pro11,
              maxReferences: 1, sizeRule: .pro11, price: .flat("4"),
              typicalDuration: .seconds(5)),
        Model(id: "flux-pro-1.1-ultra", displayName: "FLUX1.1 [pro] Ultra", family: .ultra,
              maxReferences: 1, sizeRule: .aspectRatioUltra, price: .flat("6"),
              typicalDuration: .seconds(12)),
        Model(id: "flux-pro-1.1-ultra-raw", displayName: "FLUX1.1 [pro] Raw",
              path: "flux-pro-1.1-ultra", family: .ultra, maxReferences: 1,
              sizeRule: .aspectRatioUltra, price: .flat("6"), fixedFields: ["raw": true],
              typicalDuration: .seconds(12)),
        Model(id: "flux-pro-1.0-fill", displayName: "FLUX.1 Fill [pro]", family: .fill,
              maxReferences: 0, sizeRule: .sameAsImage, price: .flat("5"),
              typicalDuration: .seconds(8)),
        Model(id: "flux-dev", displayName: "FLUX.1 [dev]", family: .dev,
              maxReferences: 1, sizeRule: .pro11, price: .flat("2.5"),
              typicalDuration: .seconds(5)),
    ]

    /// The model with this catalog id, matched without regard to case.
    public static func model(id: String) -> Model? {
        let wanted = id.lowercased()
        return all.first { $0.id == wanted }
    }

    /// The model whose POST path is `path` (the plain Ultra model for the shared Ultra path).
    public static func model(path: String) -> Model? {
        all.first { $0.path == path && $0.fixedFields.isEmpty }
    }

    /// The models that edit an image with words (FLUX.2, Kontext), the image being reference 1.
    /// FLUX1.1 [pro] and Ultra take an image only as a prompt to remix, not to edit.
    public static var editing: [Model] {
        all.filter { [.flux2, .flex, .klein, .kontext].contains($0.family) && $0.maxReferences > 0 }
    }

    /// The model that repaints through a mask (Fill [pro]): mask mode and `--mask-rect` send to it.
    public static var fill: Model? { all.first { $0.sizeRule == .sameAsImage } }

    /// The editing model used when none has been chosen yet.
    public static let defaultEditingModelID = "flux-2-pro"

    /// A sentence naming the known ids, for "unknown model" messages.
    public static var knownIDsSentence: String {
        all.map(\.id).joined(separator: ", ")
    }
}
