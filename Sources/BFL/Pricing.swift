public import Foundation

/// An amount of BFL credits (1 credit = US$0.01), held as a decimal so sums never drift.
public struct Credits: Sendable, Hashable, Comparable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral, ExpressibleByIntegerLiteral
{
    public var value: Decimal

    public init(_ value: Decimal) { self.value = value }

    /// Credits from a decimal string such as "1.4"; a malformed literal is a programming error.
    public init(stringLiteral text: String) {
        guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else {
            preconditionFailure("not a decimal literal: \(text)")
        }
        self.value = value
    }

    public init(integerLiteral value: Int) { self.value = Decimal(value) }

    /// Credits from a number the server sent (a JSON double), rounded to 4 decimals so that
    /// binary noise such as 4.499999999 reads as 4.5.
    /// Nil for NaN, infinities and magnitudes beyond `WireNumber.balanceRange`: a `Credits`
    /// never holds a value that would break comparisons (budgets) or arithmetic.
    public init?(serverValue: Double) {
        guard serverValue.isFinite, WireNumber.balanceRange.contains(serverValue) else { return nil }
        // Below Decimal's smallest exponent a Double converts to NaN; such amounts are nothing.
        var exact = abs(serverValue) < 1e-9 ? Decimal(0) : Decimal(serverValue)
        guard !exact.isNaN else { return nil }
        var rounded = Decimal()
        NSDecimalRound(&rounded, &exact, 4, .plain)
        self.value = rounded
    }

    public static let zero = Credits(Decimal(0))

    public static func + (a: Credits, b: Credits) -> Credits { Credits(a.value + b.value) }
    public static func - (a: Credits, b: Credits) -> Credits { Credits(a.value - b.value) }
    public static func * (a: Credits, n: Int) -> Credits { Credits(a.value * Decimal(n)) }
    public static func += (a: inout Credits, b: Credits) { a = a + b }
    public static func < (a: Credits, b: Credits) -> Bool { a.value < b.value }

    /// The amount in US dollars.
    public var usd: Decimal { value / 100 }

    /// The amount as a Double, for proportions (bar heights, percentages, JSON numbers);
    /// never for sums.
    public var doubleValue: Double { NSDecimalNumber(decimal: value).doubleValue }

    /// "4.5", "3", "0.25": the plain decimal with no trailing zeros.
    public var description: String { Self.plain(value, maxFractionDigits: 4, minFractionDigits: 0) }

    /// "$0.045", "$0.03", "$1.20": dollars with at least two decimals, more only when needed.
    public var usdText: String { "$" + Self.plain(usd, maxFractionDigits: 4, minFractionDigits: 2) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self.value = try container.decode(Decimal.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    /// Formats a decimal without going through a binary floating-point number.
    static func plain(_ number: Decimal, maxFractionDigits: Int, minFractionDigits: Int) -> String {
        var input = number
        var rounded = Decimal()
        NSDecimalRound(&rounded, &input, maxFractionDigits, .plain)
        var (integerPart, fraction) = digits(of: rounded)
        while fraction.count > minFractionDigits, fraction.hasSuffix("0") { fraction.removeLast() }
        while fraction.count < minFractionDigits { fraction.append("0") }
        let text = fraction.isEmpty ? integerPart : integerPart + "." + fraction
        return rounded < 0 ? "-" + text : text
    }

    private static let exactLimit = Decimal(1_000_000_000_000_000_000)

    /// The integer and fraction digits of |value|. A significand below 10¹⁸ (every price and
    /// balance) is read as an integer and the point placed by the exponent: the studio prints
    /// credits on every row of every frame, and Decimal's description formats and parses again.
    private static func digits(of value: Decimal) -> (integer: String, fraction: String) {
        let exponent = value.exponent
        if value.significand < exactLimit, (-38...18).contains(exponent) {
            let significand = String(NSDecimalNumber(decimal: value.significand).uint64Value)
            if exponent >= 0 { return (significand + String(repeating: "0", count: exponent), "") }
            let places = -exponent
            let padded = String(repeating: "0", count: max(0, places + 1 - significand.count)) + significand
            return (String(padded.dropLast(places)), String(padded.suffix(places)))
        }
        let text = value.magnitude.description
        guard let dot = text.firstIndex(of: ".") else { return (text, "") }
        return (String(text[..<dot]), String(text[text.index(after: dot)...]))
    }
}

/// Width and height in pixels.
public struct PixelSize: Sendable, Hashable, Codable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public var pixels: Int { width * height }
    public var description: String { "\(width)x\(height)" }

    /// Parses "1920x1080" (also with `X` or `×`).
    public init?(parsing text: String) {
        let parts = text.lowercased().replacingOccurrences(of: "×", with: "x")
            .split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2,
              let width = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let height = Int(parts[1].trimmingCharacters(in: .whitespaces)),
              width > 0, height > 0
        else { return nil }
        self.init(width: width, height: height)
    }
}

/// What an estimate is made of, line by line.
public struct CostBreakdown: Sendable, Hashable, Codable {
    /// Output megapixels billed (rule A); `nil` for flat-priced models.
    public var outputMegapixels: Int?
    /// The price of the first output megapixel, or the flat price.
    public var base: Credits
    /// The price of the output megapixels after the first.
    public var extraOutput: Credits
    /// Per input image: its billed megapixels and price.
    public var inputs: [InputCharge]
    /// Credits for one image.
    public var perImage: Credits
    /// How many images.
    public var count: Int

    public struct InputCharge: Sendable, Hashable, Codable {
        public var size: PixelSize
        public var megapixels: Int
        public var credits: Credits
    }

    enum CodingKeys: String, CodingKey {
        case outputMegapixels = "output_mp", base = "first_mp_or_flat"
        case extraOutput = "extra_output", inputs, perImage = "per_image", count
    }
}

/// A priced request: the total and how it is made up.
public struct CostEstimate: Sendable, Hashable {
    public var model: Model
    public var credits: Credits
    public var breakdown: CostBreakdown
    public var usd: Decimal { credits.usd }
}

/// Estimates the cost of a request by the contract's "rule A" (`bfl-api.md` §9).
public enum PriceEstimator {
    /// One megapixel: 1024x1024 pixels.
    public static let megapixel = 1_048_576
    /// FLUX.2 inputs are downscaled to at most this many pixels before billing.
    public static let maxInputPixels = 4_194_304

    /// Billed output megapixels: `max(1, ceil(px / 1 MP))`.
    public static func outputMegapixels(_ size: PixelSize) -> Int {
        max(1, ceilDiv(size.pixels, megapixel))
    }

    /// Billed input megapixels, counted after the downscale to ≤ 4 MP: between 1 and 4.
    public static func inputMegapixels(_ size: PixelSize) -> Int {
        max(1, ceilDiv(min(size.pixels, maxInputPixels), megapixel))
    }

    /// The cost of `count` images of `model` at `outputSize` with reference images of `inputSizes`.
    /// For FLUX.2, `outputSize` nil means the server default: the first input's size (×16), or
    /// 1024x1024 without inputs.
    public static func estimate(
        model: Model, outputSize: PixelSize?, inputSizes: [PixelSize] = [], count: Int = 1
    ) -> CostEstimate {
        let count = max(1, count)
        switch model.price {
        case .flat(let price):
            let breakdown = CostBreakdown(
                outputMegapixels: nil, base: price, extraOutput: .zero, inputs: [],
                perImage: price, count: count)
            return CostEstimate(model: model, credits: price * count, breakdown: breakdown)
        case .megapixel(let first, let perMP):
            let output = outputSize ?? defaultFlux2Output(inputSizes: inputSizes)
            let outMP = outputMegapixels(output)
            let extra = perMP * (outMP - 1)
            let inputs = inputSizes.map { size in
                let mp = inputMegapixels(size)
                return CostBreakdown.InputCharge(size: size, megapixels: mp, credits: perMP * mp)
            }
            let perImage = inputs.reduce(first + extra) { $0 + $1.credits }
            let breakdown = CostBreakdown(
                outputMegapixels: outMP, base: first, extraOutput: extra, inputs: inputs,
                perImage: perImage, count: count)
            return CostEstimate(model: model, credits: perImage * count, breakdown: breakdown)
        }
    }

    /// A reference whose size is not known here (a URL that BFL fetches itself) is priced as
    /// the least an input can cost: one megapixel.
    public static let unknownInputSize = PixelSize(width: 1024, height: 1024)

    /// The cost of `count` images of `parameters` sent to `model`: the one rule every estimate
    /// goes through (the CLI, the studio, the engine). The output is priced at the size that is
    /// sent (snapped by the model's size rule); references of unknown size at one megapixel;
    /// Fill's image and mask are not references.
    public static func estimate(model: Model, parameters: GenerationParameters, count: Int = 1) -> CostEstimate {
        let inputs = model.sizeRule == .sameAsImage ? [] : parameters.references.map { $0.size ?? unknownInputSize }
        return estimate(model: model, outputSize: parameters.sentSize(for: model), inputSizes: inputs, count: count)
    }

    /// The FLUX.2 server default when no size is sent.
    public static func defaultFlux2Output(inputSizes: [PixelSize]) -> PixelSize {
        guard let first = inputSizes.first else { return PixelSize(width: 1024, height: 1024) }
        let scaled = downscaledInput(first)
        guard let limits = SizeRule.flux2.sideLimits else { return scaled }
        return PixelSize(width: max(limits.sides.lowerBound, limits.snapped(scaled.width)),
                         height: max(limits.sides.lowerBound, limits.snapped(scaled.height)))
    }

    /// A FLUX.2 input as the server sees it: scaled down to ≤ 4 MP with its aspect kept.
    public static func downscaledInput(_ size: PixelSize) -> PixelSize {
        guard size.pixels > maxInputPixels else { return size }
        let scale = (Double(maxInputPixels) / Double(size.pixels)).squareRoot()
        return PixelSize(width: Int(Double(size.width) * scale), height: Int(Double(size.height) * scale))
    }

    static func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
}
