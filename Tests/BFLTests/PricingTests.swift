import BFL
import Foundation
import Testing

@Suite("Pricing (rule A)")
struct PricingTests {
    struct Example: Sendable, CustomTestStringConvertible {
        var number: Int
        var model: String
        var output: PixelSize?
        var inputs: [PixelSize]
        var credits: Credits
        var usd: String
        var testDescription: String { "example \(number): \(model)" }
    }

    static func size(_ w: Int, _ h: Int) -> PixelSize { PixelSize(width: w, height: h) }

    /// The worked examples of bfl-api.md §9.
    static let examples: [Example] = [
        Example(number: 1, model: "flux-2-klein-4b", output: size(1024, 1024), inputs: [], credits: "1.4", usd: "$0.014"),
        Example(number: 2, model: "flux-2-klein-9b", output: size(1920, 1080), inputs: [size(1024, 1024)], credits: "1.9", usd: "$0.019"),
        Example(number: 3, model: "flux-2-pro", output: size(1024, 1024), inputs: [size(1024, 1024)], credits: "4.5", usd: "$0.045"),
        Example(number: 4, model: "flux-2-pro", output: size(2048, 2048), inputs: [], credits: "7.5", usd: "$0.075"),
        Example(number: 5, model: "flux-2-pro", output: size(64, 64), inputs: [], credits: "3", usd: "$0.03"),
        Example(number: 6, model: "flux-2-pro", output: size(1920, 1080), inputs: [size(1920, 1080), size(1920, 1080)], credits: "10.5", usd: "$0.105"),
        Example(number: 7, model: "flux-2-max", output: size(1024, 1024), inputs: [size(1024, 1024), size(1920, 1080), size(4000, 3000)], credits: "28", usd: "$0.28"),
        Example(number: 8, model: "flux-2-flex", output: size(1152, 2048), inputs: [size(640, 480)], credits: "20", usd: "$0.20"),
        Example(number: 9, model: "flux-pro-1.1-ultra-raw", output: nil, inputs: [], credits: "6", usd: "$0.06"),
        Example(number: 10, model: "flux-kontext-max", output: nil, inputs: [size(1024, 1024)], credits: "8", usd: "$0.08"),
    ]

    @Test("the contract's worked examples", arguments: examples)
    func workedExample(_ example: Example) throws {
        let model = try #require(Catalog.model(id: example.model))
        let estimate = PriceEstimator.estimate(model: model, outputSize: example.output, inputSizes: example.inputs)
        #expect(estimate.credits == example.credits)
        #expect(estimate.credits.usdText == example.usd)
    }

    @Test("the issue's acceptance example: flux-2-pro 1920x1080 is 4.5 credits")
    func acceptance() throws {
        let model = try #require(Catalog.model(id: "flux-2-pro"))
        let estimate = PriceEstimator.estimate(model: model, outputSize: Self.size(1920, 1080))
        #expect(estimate.credits == "4.5")
        #expect(estimate.usd == Decimal(string: "0.045"))
        #expect(estimate.breakdown.outputMegapixels == 2)
        #expect(estimate.breakdown.base == "3")
        #expect(estimate.breakdown.extraOutput == "1.5")
    }

    @Test("breakdown lists every input with its billed megapixels")
    func breakdown() throws {
        let model = try #require(Catalog.model(id: "flux-2-max"))
        let estimate = PriceEstimator.estimate(
            model: model, outputSize: Self.size(1024, 1024),
            inputSizes: [Self.size(1024, 1024), Self.size(1920, 1080), Self.size(4000, 3000)])
        #expect(estimate.breakdown.inputs.map(\.megapixels) == [1, 2, 4])
        #expect(estimate.breakdown.inputs.map(\.credits) == ["3", "6", "12"])
        #expect(estimate.breakdown.perImage == "28")
    }

    @Test("count multiplies; FLUX.2 without a size uses 1024² or the first input")
    func countAndDefaults() throws {
        let pro = try #require(Catalog.model(id: "flux-2-pro"))
        #expect(PriceEstimator.estimate(model: pro, outputSize: nil, count: 4).credits == "12")
        // First input 2000x1500 (2.86 MP) → output 2000x1488 → 3 MP; input 3 MP.
        let edit = PriceEstimator.estimate(model: pro, outputSize: nil, inputSizes: [Self.size(2000, 1500)])
        #expect(edit.breakdown.outputMegapixels == 3)
        #expect(edit.credits == Credits("3") + Credits("3") + Credits("4.5"))
        let dev = try #require(Catalog.model(id: "flux-dev"))
        #expect(PriceEstimator.estimate(model: dev, outputSize: nil, count: 3).credits == "7.5")
    }

    @Test("USD text keeps two decimals at least and never drifts", arguments: [
        ("1.4", "$0.014"), ("3", "$0.03"), ("10", "$0.10"), ("120", "$1.20"), ("0", "$0.00"),
        ("2.5", "$0.025"), ("1234.5", "$12.345"), ("0.35", "$0.0035"),
    ])
    func usdText(_ credits: String, _ expected: String) {
        #expect(Credits(stringLiteral: credits).usdText == expected)
    }

    @Test("credits print plainly: no exponent, no locale, at most four decimals", arguments: [
        ("0", "0"), ("3", "3"), ("1.50", "1.5"), ("1000000", "1000000"), ("123456789.125", "123456789.125"),
        ("0.00004", "0"), ("0.00005", "0.0001"), ("2.71828", "2.7183"), ("-1.25", "-1.25"), ("-0.00001", "0"),
        ("1e3", "1000"), ("0.1e-1", "0.01"), ("123456789012345678901234.5", "123456789012345678901234.5"),
        ("12345678901234567890", "12345678901234567890"), ("1e30", "1000000000000000000000000000000"),
    ])
    func plainDescription(_ credits: String, _ expected: String) {
        #expect(Credits(stringLiteral: credits).description == expected)
    }

    @Test("sums of tenths stay exact")
    func exactSums() {
        var total = Credits.zero
        for _ in 0..<10 { total += "0.1" }
        #expect(total == "1")
        #expect(total.description == "1")
        #expect(Credits("1.9").description == "1.9")
        #expect(Credits(serverValue: 4.499999999999)?.description == "4.5")
    }
}
