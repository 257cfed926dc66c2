import Foundation
import Synchronization

/// The submit bodies, one type per family. Optional fields are encoded only when set, so the
/// server applies its own defaults to everything the user left alone.

/// Fields every family accepts.
public struct CommonFields: Sendable, Hashable, Encodable {
    public var seed: Int?
    public var outputFormat: OutputFormat?
    public var safetyTolerance: Int?
    public var webhookURL: String?
    public var webhookSecret: String?
    public var user: String?

    enum CodingKeys: String, CodingKey {
        case seed, user
        case outputFormat = "output_format", safetyTolerance = "safety_tolerance"
        case webhookURL = "webhook_url", webhookSecret = "webhook_secret"
    }
}

/// A coding key made at run time (`input_image_2` …).
struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Encodes `input_image`, `input_image_2`, … for the given references.
func encodeInputImages(_ images: [String], to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: DynamicKey.self)
    for (index, image) in images.enumerated() {
        let key = index == 0 ? "input_image" : "input_image_\(index + 1)"
        try container.encodeImage(image, forKey: DynamicKey(key), userInfo: encoder.userInfo)
    }
}

/// Long image data written into a body as it is, after the encoder has placed everything
/// else: JSONEncoder looks at each of a base64 image's millions of characters for one to
/// escape, and there is none (2048² PNG: 41 ms of a repaint's 65). Each value is encoded as a
/// token unique to the body, and the tokens are replaced by the values afterwards.
final class ImageSplices: Sendable {
    static let key = CodingUserInfoKey(rawValue: "fluxdeck.image-splices")
    /// Values shorter than this are encoded as any string is.
    static let threshold = 4096

    private let token = UUID().uuidString
    private let values = Mutex<[String]>([])

    /// The token standing for `value`, or nil when the encoder must write it itself (short,
    /// or holding a character JSON escapes: a quote, a backslash, a control or non-ASCII one).
    func token(for value: String) -> String? {
        guard value.utf8.count >= Self.threshold, Self.needsNoEscape(value) else { return nil }
        return values.withLock { values in
            values.append(value)
            return "\(token)#\(values.count - 1)"
        }
    }

    /// Whether JSON writes `value` as it is: printable ASCII without a quote or a backslash.
    /// Read from its UTF-8 storage in one pass (megabytes, at memory speed).
    static func needsNoEscape(_ value: String) -> Bool {
        var copy = value
        return copy.withUTF8 { bytes in
            // Without branches, so the loop runs a vector at a time.
            var flags: UInt8 = 0
            for byte in bytes {
                flags |= (byte &- 0x20 >= 0x5F ? 1 : 0) | (byte == UInt8(ascii: "\"") ? 1 : 0) | (byte == UInt8(ascii: "\\") ? 1 : 0)
            }
            return flags == 0
        }
    }

    /// `encoded` with each token replaced by its value; nil when a token is not where the
    /// encoder was to write it.
    func splice(into encoded: Data) -> Data? {
        let values = values.withLock { $0 }
        guard !values.isEmpty else { return encoded }
        let bytes = [UInt8](encoded)
        var result = Data(capacity: bytes.count + values.reduce(0) { $0 + $1.utf8.count })
        var start = 0
        for (index, value) in values.enumerated() {
            let needle = Array("\(token)#\(index)\"".utf8)
            guard let at = Self.find(needle, in: bytes, from: start) else { return nil }
            result.append(contentsOf: bytes[start..<at])
            var copy = value
            copy.withUTF8 { result.append($0) }
            result.append(UInt8(ascii: "\""))
            start = at + needle.count
        }
        result.append(contentsOf: bytes[start...])
        return result
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
        for at in start...(bytes.count - needle.count) where bytes[at] == needle[0] && bytes[at..<(at + needle.count)].elementsEqual(needle) {
            return at
        }
        return nil
    }
}

extension KeyedEncodingContainer {
    /// Encodes image data (base64 or a URL), through `ImageSplices` when the encoder has one.
    mutating func encodeImage(_ value: String?, forKey key: Key, userInfo: [CodingUserInfoKey: Any]) throws {
        guard let value else { return }
        if let splicesKey = ImageSplices.key, let splices = userInfo[splicesKey] as? ImageSplices, let token = splices.token(for: value) {
            try encode(token, forKey: key)
        } else {
            try encode(value, forKey: key)
        }
    }
}

/// FLUX.2 [pro] / [max].
public struct Flux2Request: Sendable, Hashable, Encodable {
    public var prompt: String
    public var inputImages: [String]
    public var width: Int?
    public var height: Int?
    public var disablePup: Bool?
    public var common: CommonFields

    enum CodingKeys: String, CodingKey { case prompt, width, height, disablePup = "disable_pup" }

    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        try encodeInputImages(inputImages, to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(prompt, forKey: .prompt)
        try c.encodeIfPresent(width, forKey: .width)
        try c.encodeIfPresent(height, forKey: .height)
        try c.encodeIfPresent(disablePup, forKey: .disablePup)
    }
}

/// FLUX.2 [flex].
public struct FlexRequest: Sendable, Hashable, Encodable {
    public var prompt: String
    public var inputImages: [String]
    public var width: Int?
    public var height: Int?
    public var promptUpsampling: Bool?
    public var guidance: Double?
    public var steps: Int?
    public var common: CommonFields

    enum CodingKeys: String, CodingKey {
        case prompt, width, height, guidance, steps, promptUpsampling = "prompt_upsampling"
    }

    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        try encodeInputImages(inputImages, to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(prompt, forKey: .prompt)
        try c.encodeIfPresent(width, forKey: .width)
        try c.encodeIfPresent(height, forKey: .height)
        try c.encodeIfPresent(promptUpsampling, forKey: .promptUpsampling)
        try c.encodeIfPresent(guidance, forKey: .guidance)
        try c.encodeIfPresent(steps, forKey: .steps)
    }
}

/// FLUX.2 [klein].
public struct KleinRequest: Sendable, Hashable, Encodable {
    public var prompt: String
    public var inputImages: [String]
    public var width: Int?
    public var height: Int?
    public var common: CommonFields

    enum CodingKeys: String, CodingKey { case prompt, width, height }

    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        try encodeInputImages(inputImages, to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(prompt, forKey: .prompt)
        try c.encodeIfPresent(width, forKey: .width)
        try c.encodeIfPresent(height, forKey: .height)
    }
}

/// FLUX.1 Kontext [pro] / [max].
public struct KontextRequest: Sendable, Hashable, Encodable {
    public var prompt: String
    public var inputImages: [String]
    public var aspectRatio: String?
    public var promptUpsampling: Bool?
    public var common: CommonFields

    enum CodingKeys: String, CodingKey {
        case prompt, aspectRatio = "aspect_ratio", promptUpsampling = "prompt_upsampling"
    }

    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        try encodeInputImages(inputImages, to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(prompt, forKey: .prompt)
        try c.encodeIfPresent(aspectRatio, forKey: .aspectRatio)
        try c.encodeIfPresent(promptUpsampling, forKey: .promptUpsampling)
    }
}

/// FLUX1.1 [pro].
public struct Pro11Request: Sendable, Hashable, Encodable {
    public var prompt: String?
    public var imagePrompt: String?
    public var width: Int?
    public var height: Int?
    public var promptUpsampling: Bool?
    public var common: CommonFields

    enum CodingKeys: String, CodingKey {
        case prompt, width, height, imagePrompt = "image_prompt", promptUpsampling = "prompt_upsampling"
    }

    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(prompt, forKey: .prompt)
        try c.encodeImage(imagePrompt, forKey: .imagePrompt, userInfo: encoder.userInfo)
        try c.encodeIfPresent(width, forKey: .width)
        try c.encodeIfPresent(height, forKey: .height)
        try c.encodeIfPresent(promptUpsampling, forKey: .promptUpsampling)
    }
}

/// FLUX1.1 [pro] Ultra (and Raw).
public struct UltraRequest: Sendable, Hashable, Encodable {
    public var prompt: String?
    public var aspectRatio: String?
    public var raw: Bool?
    public var imagePrompt: String?
    public var imagePromptStrength: Double?
    public var promptUpsampling: Bool?
    public var common: CommonFields

    enum CodingKeys: String, CodingKey {
        case prompt, raw, aspectRatio = "aspect_ratio", imagePrompt = "image_prompt"
        case imagePromptStrength = "image_prompt_strength", promptUpsampling = "prompt_upsampling"
    }

    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(prompt, forKey: .prompt)
        try c.encodeIfPresent(aspectRatio, forKey: .aspectRatio)
        try c.encodeIfPresent(raw, forKey: .raw)
        try c.encodeImage(imagePrompt, forKey: .imagePrompt, userInfo: encoder.userInfo)
        try c.encodeIfPresent(imagePromptStrength, forKey: .imagePromptStrength)
        try c.encodeIfPresent(promptUpsampling, forKey: .promptUpsampling)
    }
}

/// FLUX.1 Fill [pro].
public struct FillRequest: Sendable, Hashable, Encodable {
    public var image: String
    public var mask: String?
    public var prompt: String?
    public var steps: Int?
    public var guidance: Double?
    public var promptUpsampling: Bool?
    public var common: CommonFields

    enum CodingKeys: String, CodingKey {
        case image, mask, prompt, steps, guidance, promptUpsampling = "prompt_upsampling"
    }

    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeImage(image, forKey: .image, userInfo: encoder.userInfo)
        try c.encodeImage(mask, forKey: .mask, userInfo: encoder.userInfo)
        try c.encodeIfPresent(prompt, forKey: .prompt)
        try c.encodeIfPresent(steps, forKey: .steps)
        try c.encodeIfPresent(guidance, forKey: .guidance)
        try c.encodeIfPresent(promptUpsampling, forKey: .promptUpsampling)
    }
}

/// FLUX.1 [dev].
public struct DevRequest: Sendable, Hashable, Encodable {
    public var prompt: String?
    public var imagePrompt: String?
    public var width: Int?
    public var height: Int?
    public var promptUpsampling: Bool?
    public var steps: Int?
    public var guidance: Double?
    public var common: CommonFields

    enum CodingKeys: String, CodingKey {
        case prompt, width, height, steps, guidance
        case imagePrompt = "image_prompt", promptUpsampling = "prompt_upsampling"
    }

    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(prompt, forKey: .prompt)
        try c.encodeImage(imagePrompt, forKey: .imagePrompt, userInfo: encoder.userInfo)
        try c.encodeIfPresent(width, forKey: .width)
        try c.encodeIfPresent(height, forKey: .height)
        try c.encodeIfPresent(promptUpsampling, forKey: .promptUpsampling)
        try c.encodeIfPresent(steps, forKey: .steps)
        try c.encodeIfPresent(guidance, forKey: .guidance)
    }
}

/// A submit body of any family.
public enum FamilyRequest: Sendable, Hashable, Encodable {
    case flux2(Flux2Request)
    case flex(FlexRequest)
    case klein(KleinRequest)
    case kontext(KontextRequest)
    case pro11(Pro11Request)
    case ultra(UltraRequest)
    case fill(FillRequest)
    case dev(DevRequest)

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .flux2(let r): try r.encode(to: encoder)
        case .flex(let r): try r.encode(to: encoder)
        case .klein(let r): try r.encode(to: encoder)
        case .kontext(let r): try r.encode(to: encoder)
        case .pro11(let r): try r.encode(to: encoder)
        case .ultra(let r): try r.encode(to: encoder)
        case .fill(let r): try r.encode(to: encoder)
        case .dev(let r): try r.encode(to: encoder)
        }
    }
}
