public import BFL
import Foundation
import Imaging
public import Jobs

/// One line of generation wishes, as flags or as a batch line: turned into job requests by one
/// code path, so `generate` and `batch` cannot drift apart.
public struct GenerationSpec: Decodable {
    public var model: String?
    public var prompt: String?
    public var width: Int?
    public var height: Int?
    public var aspectRatio: String?
    public var seed: Int?
    public var format: String?
    public var safety: Int?
    public var inputs: [String] = []
    public var image: String?
    public var mask: String?
    /// Fill: rectangles `X,Y,W,H` of `image` to repaint (the mask is made from them).
    public var maskRects: [String] = []
    /// Fill: `left=N,right=N,top=N,bottom=N`, the canvas grown and the new area painted.
    public var extend: String?
    public var raw: Bool?
    public var steps: Int?
    public var guidance: Double?
    public var upsample: Bool?
    public var count: Int?
    /// With a seed and a count of N: seeds seed, seed+1, …, seed+N−1 (for each prompt).
    public var seedSweep: Bool?

    public init() {}

    /// The keys a batch line may use: the flag names, with `-` or `_`.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case model, prompt, width, height, seed, format, safety, image, mask, raw, steps, guidance, upsample, count
        case seedSweep = "seed_sweep", maskRect = "mask_rect", extend
        case aspectRatio = "aspect_ratio", input
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        prompt = try c.decodeIfPresent(String.self, forKey: .prompt)
        width = try c.decodeIfPresent(Int.self, forKey: .width)
        height = try c.decodeIfPresent(Int.self, forKey: .height)
        aspectRatio = try c.decodeIfPresent(String.self, forKey: .aspectRatio)
        seed = try c.decodeIfPresent(Int.self, forKey: .seed)
        format = try c.decodeIfPresent(String.self, forKey: .format)
        safety = try c.decodeIfPresent(Int.self, forKey: .safety)
        if let many = try? c.decodeIfPresent([String].self, forKey: .input) {
            inputs = many
        } else if let one = try c.decodeIfPresent(String.self, forKey: .input) {
            inputs = [one]
        }
        image = try c.decodeIfPresent(String.self, forKey: .image)
        mask = try c.decodeIfPresent(String.self, forKey: .mask)
        if let many = try? c.decodeIfPresent([String].self, forKey: .maskRect) {
            maskRects = many
        } else if let one = try c.decodeIfPresent(String.self, forKey: .maskRect) {
            maskRects = [one]
        }
        extend = try c.decodeIfPresent(String.self, forKey: .extend)
        raw = try c.decodeIfPresent(Bool.self, forKey: .raw)
        steps = try c.decodeIfPresent(Int.self, forKey: .steps)
        guidance = try c.decodeIfPresent(Double.self, forKey: .guidance)
        upsample = try c.decodeIfPresent(Bool.self, forKey: .upsample)
        count = try c.decodeIfPresent(Int.self, forKey: .count)
        seedSweep = try c.decodeIfPresent(Bool.self, forKey: .seedSweep)
    }

    /// The submission this spec asks for; every problem is one clear sentence.
    public func plan() throws -> SubmissionPlan {
        guard let modelID = model else { throw CommandFailure.usage("a model is required (--model; see `fluxdeck models`)") }
        guard let model = Catalog.model(id: modelID) else {
            throw CommandFailure.usage("unknown model \"\(modelID)\"; known models: \(Catalog.knownIDsSentence)")
        }
        var parameters = GenerationParameters(prompt: prompt)
        parameters.width = width
        parameters.height = height
        parameters.aspectRatio = aspectRatio
        parameters.seed = seed
        if let format {
            guard let parsed = OutputFormat(rawValue: format.lowercased() == "jpg" ? "jpeg" : format.lowercased()) else {
                throw CommandFailure.usage("format must be jpeg, png or webp (got \"\(format)\")")
            }
            parameters.outputFormat = parsed
        }
        parameters.safetyTolerance = safety
        parameters.references = try inputs.map(Self.reference)
        if let (image, mask) = try fillEdit(model) {
            parameters.image = image
            parameters.mask = mask
        } else {
            parameters.image = try image.map(Self.reference)
            parameters.mask = try mask.map(Self.reference)
        }
        parameters.raw = raw == true ? true : nil
        parameters.steps = steps
        parameters.guidance = guidance
        parameters.promptUpsampling = upsample
        // The one submission plan the studio uses too: the matrix × the count × the sweep,
        // each request validated and priced; every problem before anything is written.
        let form = SubmissionForm(model: model, parameters: parameters, count: count ?? 1, seedSweep: seedSweep == true)
        do { return try SubmissionPlan.make(form) } catch { throw CommandFailure.usage(error.message) }
    }

    /// The job requests this spec asks for; every problem is one clear sentence. What
    /// validation changed or warns about (a size snapped to the model's step) is said on stderr.
    /// `sharedSeed`: the seed a comparison without one shares (see `SubmissionPlan.sharesSeed`).
    public func requests(groupID: String, label: String = "", sharedSeed: Int = SubmissionPlan.drawSharedSeed()) throws -> [JobRequest] {
        let plan = try plan()
        var said: Set<String> = []
        for warning in plan.targets.flatMap(\.warnings) where said.insert(warning.message).inserted {
            Output.error("fluxdeck: \(label)\(warning.message)")
        }
        return plan.requests(sharedSeed: sharedSeed).map { JobRequest(model: $0.model, parameters: $0.parameters, groupID: groupID) }
    }

    /// The image and mask `--mask-rect` or `--extend` make of `image`; nil when neither is asked.
    func fillEdit(_ model: Model) throws -> (ImageReference, ImageReference)? {
        guard !maskRects.isEmpty || extend != nil else { return nil }
        let what = maskRects.isEmpty ? "--extend" : "--mask-rect"
        guard model.sizeRule == .sameAsImage else {
            throw CommandFailure.usage("\(what) is for Fill (--model flux-pro-1.0-fill), not \(model.id)")
        }
        guard maskRects.isEmpty || extend == nil else { throw CommandFailure.usage("--mask-rect and --extend cannot be used together") }
        guard mask == nil else { throw CommandFailure.usage("\(what) makes the mask; leave out --mask") }
        guard let image else { throw CommandFailure.usage("\(what) needs --image, the local PNG or JPEG to work on") }
        do {
            if let extend {
                switch CanvasExtension.parse(extend) {
                case .success(let sides): return try FillEdits.extend(path: image, by: sides)
                case .failure(let problem): throw CommandFailure.usage(problem.message)
                }
            }
            let rects = try maskRects.map { text in
                guard let rect = PixelRect(parsing: text) else {
                    throw CommandFailure.usage("--mask-rect takes X,Y,W,H in whole pixels, W and H at least 1 (got \"\(text)\")")
                }
                return rect
            }
            return try FillEdits.repaint(path: image, rects: rects)
        } catch let error as EngineError {
            throw CommandFailure.usage(error.message)
        }
    }

    /// A URL is sent as is; a local file is read and sent as base64, with its size for pricing.
    public static func reference(_ text: String) throws -> ImageReference {
        do { return try LocalImages.reference(text) } catch { throw CommandFailure.usage(error.message) }
    }

    /// Reads a JSONL batch: one spec per non-empty line; errors name the line.
    public static func batch(_ text: String) throws -> [GenerationSpec] {
        var specs: [GenerationSpec] = []
        let known = Set(CodingKeys.allCases.map(\.stringValue))
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let number = index + 1
            guard let object = try? JSONDecoder().decode(JSONValue.self, from: Data(trimmed.utf8)), case .object(let fields) = object else {
                throw CommandFailure.usage("line \(number): not a JSON object")
            }
            let normalized = fields.reduce(into: [String: JSONValue]()) { $0[$1.key.replacingOccurrences(of: "-", with: "_")] = $1.value }
            if let unknown = normalized.keys.sorted().first(where: { !known.contains($0) }) {
                throw CommandFailure.usage("line \(number): unknown key \"\(unknown)\"; known keys: \(known.sorted().joined(separator: ", "))")
            }
            do {
                specs.append(try JSONDecoder().decode(GenerationSpec.self, from: try JSONEncoder().encode(JSONValue.object(normalized))))
            } catch DecodingError.typeMismatch(_, let context) {
                let key = context.codingPath.last?.stringValue ?? "a value"
                throw CommandFailure.usage("line \(number): \(key) has the wrong type")
            } catch {
                throw CommandFailure.usage("line \(number): \(error)")
            }
        }
        guard !specs.isEmpty else { throw CommandFailure.usage("the batch file has no jobs") }
        return specs
    }
}
