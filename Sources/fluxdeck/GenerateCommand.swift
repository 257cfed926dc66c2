import ArgumentParser
import FluxdeckApp
import BFL
import BFLSimulator
import Foundation
import Imaging
import Jobs

#if canImport(Glibc)
import Glibc
#endif

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate images and save them with their sidecars.",
        discussion: """
            Progress goes to stderr; results to stdout (one JSON object per job with --json). \
            Exit codes: 0 all saved; 1 a job failed, was moderated or expired; 2 usage or \
            validation; 3 the API refused; 4 network failure after retries.
            """)

    @Option(help: "The model id (see `fluxdeck models`).", completion: Completions.models) var model: String
    @Option(help: "The prompt.") var prompt: String?
    @Option(parsing: .unconditional, help: "Output width in pixels.") var width: Int?
    @Option(parsing: .unconditional, help: "Output height in pixels.") var height: Int?
    @Option(name: .customLong("aspect-ratio"), help: "Aspect ratio W:H (Kontext, Ultra).") var aspectRatio: String?
    @Option(parsing: .unconditional, help: "A fixed seed.") var seed: Int?
    @Option(help: "jpeg, png or webp.", completion: Completions.formats) var format: String?
    @Option(parsing: .unconditional, help: "Safety tolerance (0 strictest).") var safety: Int?
    @Option(name: .customLong("input"), help: "A reference image: a path or an http(s) URL; repeat for more.") var inputs: [String] = []
    @Option(help: "Fill: the image to repaint.") var image: String?
    @Option(help: "Fill: the mask (white repaints).") var mask: String?
    @Option(name: .customLong("mask-rect"), help: "Fill: repaint the rectangle X,Y,W,H of --image (pixels); repeat for more.") var maskRects: [String] = []
    @Option(help: "Fill: grow --image's canvas, e.g. right=256 or left=128,top=64 (pixels), and paint the new area.") var extend: String?
    @Flag(help: "Ultra: the raw look.") var raw = false
    @Option(parsing: .unconditional, help: "Steps (flex, dev, fill).") var steps: Int?
    @Option(parsing: .unconditional, help: "Guidance (flex, dev, fill).") var guidance: Double?
    @Flag(inversion: .prefixedNo, help: "Prompt upsampling on or off (default: the model's).") var upsample: Bool?
    @OptionGroup var service: ServiceOptions
    @Option(name: .customLong("output-dir"), help: "Where images go (default ~/Pictures/fluxdeck).") var outputDir: String?
    @Option(parsing: .unconditional, help: "How many images (of each prompt a {a|b} matrix makes).") var count: Int = 1
    @Flag(name: .customLong("seed-sweep"), help: "With --seed S and --count N: seeds S, S+1, …, S+N−1.") var seedSweep = false
    @Flag(name: .customLong("dry-run"), help: "Print the exact request bodies and the estimate; send nothing.") var dryRun = false
    @Option(name: .customLong("max-spend"), parsing: .unconditional, help: "Refuse to start when the estimate is above this many credits.") var maxSpend: Double?
    @Flag(name: .customLong("no-wait"), help: "Return once the jobs are submitted; `fluxdeck jobs resume` finishes them.") var noWait = false
    @Flag(help: "One JSON object per job on stdout.") var json = false

    func run() async throws {
        try await runReportingFailures {
            var spec = GenerationSpec()
            spec.model = model
            spec.prompt = prompt
            spec.width = width
            spec.height = height
            spec.aspectRatio = aspectRatio
            spec.seed = seed
            spec.format = format
            spec.safety = safety
            spec.inputs = inputs
            spec.image = image
            spec.mask = mask
            spec.maskRects = maskRects
            spec.extend = extend
            spec.raw = raw ? true : nil
            spec.steps = steps
            spec.guidance = guidance
            spec.upsample = upsample
            spec.count = count
            spec.seedSweep = seedSweep ? true : nil
            let requests = try spec.requests(groupID: UUID().uuidString.lowercased())
            if dryRun { return try JobRunner.dryRun(requests, json: json) }
            try JobRunner.checkSpend(requests, maxSpend: maxSpend)
            try await JobRunner.run(requests, service: service.settings, outputDir: outputDir, wait: !noWait, json: json)
        }
    }
}

struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Run every job of a JSONL file (one object per line, keys as generate's flags).",
        discussion: #"Example line: {"model":"flux-2-pro","prompt":"a lighthouse","width":1024,"height":768,"count":2}"#)

    @Argument(help: "The JSONL file.") var file: String
    @OptionGroup var service: ServiceOptions
    @Option(name: .customLong("output-dir"), help: "Where images go (default ~/Pictures/fluxdeck).") var outputDir: String?
    @Flag(name: .customLong("no-wait"), help: "Return once the jobs are submitted.") var noWait = false
    @Option(name: .customLong("max-spend"), parsing: .unconditional, help: "Refuse to start when the estimate is above this many credits.") var maxSpend: Double?
    @Flag(help: "One JSON object per job on stdout.") var json = false
    @Flag(name: .customLong("dry-run"), help: "Print the exact request bodies and the estimate; send nothing.") var dryRun = false

    func run() async throws {
        try await runReportingFailures {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw CommandFailure.usage("\(readFailure(error)): \(file)")
            }
            let group = UUID().uuidString.lowercased()
            var requests: [JobRequest] = []
            for (index, spec) in try GenerationSpec.batch(text).enumerated() {
                do { requests += try spec.requests(groupID: group, label: "job \(index + 1): ") } catch let failure as CommandFailure {
                    throw CommandFailure.usage("job \(index + 1): \(failure.message)")
                }
            }
            if dryRun { return try JobRunner.dryRun(requests, json: json) }
            try JobRunner.checkSpend(requests, maxSpend: maxSpend)
            try await JobRunner.run(requests, service: service.settings, outputDir: outputDir, wait: !noWait, json: json)
        }
    }
}
