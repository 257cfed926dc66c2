import BFL
import Foundation

/// What the simulator charges: BFL's price list and rule A, written down from the API contract
/// on their own, not read from the client's `PriceEstimator`, so that a test comparing the
/// client's estimate with the simulator's charge compares two independent readings.
enum PriceList {
    /// FLUX.2: credits for the first output megapixel, and for each further output or input one.
    private static let megapixelPrices: [String: (first: String, each: String)] = [
        "flux-2-klein-4b": ("1.4", "0.1"),
        "flux-2-klein-9b": ("1.5", "0.2"),
        "flux-2-pro": ("3", "1.5"),
        "flux-2-max": ("7", "3"),
        "flux-2-flex": ("5", "5"),
    ]

    /// FLUX.1: credits per image, inputs free.
    private static let flatPrices: [String: String] = [
        "flux-kontext-pro": "4", "flux-kontext-max": "8", "flux-pro-1.1": "4",
        "flux-pro-1.1-ultra": "6", "flux-pro-1.1-ultra-raw": "6", "flux-pro-1.0-fill": "5", "flux-dev": "2.5",
    ]

    /// 1 MP = 1024 × 1024 pixels; inputs count after their downscale to 4 MP.
    private static let pixelsPerMP = 1_048_576
    private static let inputCap = 4 * 1_048_576

    /// The charge for one image of `modelID` with output `output` (as generated) and inputs of
    /// `inputs`; nil for a model the list does not know.
    static func charge(modelID: String, output: PixelSize, inputs: [PixelSize]) -> Credits? {
        if let flat = flatPrices[modelID] { return credits(flat) }
        guard let (first, each) = megapixelPrices[modelID] else { return nil }
        func mp(_ pixels: Int) -> Int { max(1, (pixels + pixelsPerMP - 1) / pixelsPerMP) }
        let units = (mp(output.width * output.height) - 1) + inputs.reduce(0) { $0 + mp(min($1.width * $1.height, inputCap)) }
        return Credits(credits(first).value + credits(each).value * Decimal(units))
    }

    private static func credits(_ text: String) -> Credits {
        Credits(Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) ?? 0)
    }
}
