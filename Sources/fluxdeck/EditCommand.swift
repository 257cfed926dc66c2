import ArgumentParser
import BFL
import FluxdeckApp
import Foundation
import Jobs

struct EditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Edit an image with words: the image is reference 1 of an editing model (FLUX.2, Kontext).",
        discussion: """
            The new image records the one it was made from as its parent (`fluxdeck jobs --json`, the
            sidecar). To repaint a region or extend the canvas, use `generate --model flux-pro-1.0-fill`
            with --mask-rect or --extend.
            """)

    @Argument(help: "The image to edit (a PNG or JPEG, or an http(s) URL).") var path: String
    @Option(help: "What to change, in words.") var prompt: String
    @Option(help: "An editing model (default \(Catalog.defaultEditingModelID)).", completion: Completions.models) var model: String = Catalog.defaultEditingModelID
    @Option(name: .customLong("input"), help: "More reference images after the edited one; repeat for more.") var inputs: [String] = []
    @Option(parsing: .unconditional, help: "A fixed seed.") var seed: Int?
    @Option(help: "jpeg, png or webp.", completion: Completions.formats) var format: String?
    @Option(parsing: .unconditional, help: "How many images.") var count: Int = 1
    @OptionGroup var service: ServiceOptions
    @Option(name: .customLong("output-dir"), help: "Where images go (default ~/Pictures/fluxdeck).") var outputDir: String?
    @Flag(name: .customLong("dry-run"), help: "Print the request bodies and the estimate; send nothing.") var dryRun = false
    @Option(name: .customLong("max-spend"), parsing: .unconditional, help: "Refuse to start when the estimate is above this many credits.") var maxSpend: Double?
    @Flag(name: .customLong("no-wait"), help: "Return once the jobs are submitted; `fluxdeck jobs resume` finishes them.") var noWait = false
    @Flag(help: "One JSON object per job on stdout.") var json = false

    func run() async throws {
        try await runReportingFailures {
            guard let chosen = Catalog.model(id: model), Catalog.editing.contains(chosen) else {
                throw CommandFailure.usage("\(model) does not edit with words; editing models: \(Catalog.editing.map(\.id).joined(separator: ", "))")
            }
            var spec = GenerationSpec()
            spec.model = chosen.id
            spec.prompt = prompt
            spec.inputs = [path] + inputs
            spec.seed = seed
            spec.format = format
            spec.count = count
            let requests = try spec.requests(groupID: UUID().uuidString.lowercased())
            if dryRun { return try JobRunner.dryRun(requests, json: json) }
            try JobRunner.checkSpend(requests, maxSpend: maxSpend)
            try await JobRunner.run(requests, service: service.settings, outputDir: outputDir, wait: !noWait, json: json)
        }
    }
}
