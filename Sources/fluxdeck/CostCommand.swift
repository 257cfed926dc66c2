import ArgumentParser
import FluxdeckApp
import BFL
import Foundation

struct CostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost",
        abstract: "Estimate what a request costs, with the breakdown.",
        discussion: """
            FLUX.2 models are priced per megapixel (the first output megapixel, then each \
            further output or input megapixel); FLUX.1 models are flat per image. The server's \
            charged cost is authoritative; this is the estimate fluxdeck shows before you submit.
            """)

    @Option(help: "The model id (see `fluxdeck models`).", completion: Completions.models)
    var model: String

    @Option(parsing: .unconditional, help: "Output width in pixels.")
    var width: Int?

    @Option(parsing: .unconditional, help: "Output height in pixels.")
    var height: Int?

    @Option(name: .customLong("aspect-ratio"), help: "Output aspect ratio W:H, for Kontext and Ultra.")
    var aspectRatio: String?

    @Option(name: .customLong("input-size"), help: "The size WxH of a reference image; repeat for each.")
    var inputSizes: [String] = []

    @Option(parsing: .unconditional, help: "How many images.")
    var count: Int = 1

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        try await runReportingFailures {
            let estimate = try makeEstimate()
            if json {
                try Output.json(CostReport(estimate))
            } else {
                printText(estimate)
            }
        }
    }

    func makeEstimate() throws -> CostEstimate {
        try CostQuote.estimate(modelID: model, width: width, height: height, aspectRatio: aspectRatio, inputSizes: inputSizes, count: count)
    }

    func printText(_ estimate: CostEstimate) {
        for line in CostQuote.lines(estimate, width: width, height: height, inputSizesGiven: !inputSizes.isEmpty) { Output.line(line) }
    }
}
