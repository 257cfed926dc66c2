import ArgumentParser
import BFL
import FluxdeckApp
import Foundation
import Imaging
import Jobs

/// Mask mode's Enter, to the POST handed to the transport: the image's size read, the cells
/// mapped to pixels, the mask PNG made, the image and mask encoded, the body prepared and
/// written to the ledger, and the engine's runner sending it (the part of the time fluxdeck
/// spends; the POST's journey is the network's).
struct RepaintBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repaint",
        abstract: "Time from Enter in mask mode to Fill's POST, for an image of --size² pixels.")

    @Option(help: "The side of the square test image, in pixels.") var size = 2048
    @Option(help: "How many times to measure.") var runs = 15
    @Option(help: "Milliseconds between two runs, as between two edits a person sends (the ledger copies its log into the database in between).")
    var pause = 1000
    @Flag(help: "Print a JSON line.") var json = false

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-bench-repaint-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // A picture with a photo's grain (gradients with noise, so its PNG is megabytes as a
        // real one's is), saved as fluxdeck saves a PNG result.
        var pixels = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0..<size {
            for x in 0..<size {
                var n = UInt32(truncatingIfNeeded: x &* 374_761_393 &+ y &* 668_265_263)
                n = (n ^ (n >> 13)) &* 1_274_126_177
                let grain = Int(n >> 27)
                let i = (y * size + x) * 3
                pixels[i] = UInt8(truncatingIfNeeded: x / 9 + grain)
                pixels[i + 1] = UInt8(truncatingIfNeeded: y / 9 + grain)
                pixels[i + 2] = UInt8(truncatingIfNeeded: (x + y) / 17 + grain)
            }
        }
        let file = folder.appendingPathComponent("picture.png")
        try Data(try ImageCodec.encodePNG(RGBImage(width: size, height: size, pixels: pixels))).write(to: file)
        let bytes = (try? Data(contentsOf: file).count) ?? 0
        // Two rectangles drawn on a 78×39 grid (the picture's cells at 120×40).
        let cells = [GridRect(x: 10, y: 5, width: 20, height: 10, columns: 78, rows: 39),
                     GridRect(x: 40, y: 20, width: 12, height: 12, columns: 78, rows: 39)]
        // Enter to the POST, through the engine the studio uses: the request made, validated,
        // encoded and written to a ledger, and its runner's POST handed to the transport.
        let ledger = folder.appendingPathComponent("bench.sqlite")
        let transport = PostClock()
        guard let endpoint = Endpoint(customURL: "http://127.0.0.1:9") else { throw CommandFailure.usage("bad endpoint") }
        let client = BFLClient(configuration: .init(endpoint: endpoint, apiKey: APIKey("bench-key")), transport: transport)
        let engine = JobEngine(client: client, store: try JobStore(path: ledger.path), library: OutputLibrary(directory: folder.appendingPathComponent("out")),
                               configuration: EngineConfiguration(endpointLabel: "bench"))
        var samples: [Duration] = []
        var requests: [Duration] = []
        var bodies: [Duration] = []
        var enqueued: [Duration] = []
        let clock = ContinuousClock()
        var posts = transport.posts.makeAsyncIterator()
        for _ in 0..<runs {
            try await Task.sleep(for: .milliseconds(pause))
            let start = clock.now
            let request = try FillEdits.request(path: file.path, cells: cells, inverted: false, prompt: "a red lantern", region: nil)
            let made = clock.now
            _ = try await engine.enqueue([request])
            enqueued.append(clock.now - made)
            guard let sent = await posts.next() else { throw CommandFailure.usage("the engine sent nothing") }
            samples.append(sent.at - start)
            requests.append(made - start)
            precondition(sent.bytes > bytes)
            // The body alone, as the engine encodes it (for the breakdown).
            let before = clock.now
            _ = try request.parameters.prepare(for: request.model).jsonBody()
            bodies.append(clock.now - before)
        }
        await engine.shutdown()
        // The mask alone (its levels and its one-channel PNG), for the breakdown.
        var masks: [Duration] = []
        for _ in 0..<runs {
            let start = clock.now
            let levels = FillMasks.levels(width: size, height: size, rects: cells.map { $0.pixels(width: size, height: size) })
            _ = try ImageCodec.encodeGrayPNG(width: size, height: size, levels: levels)
            masks.append(clock.now - start)
        }
        let mask = BenchCommand.medianMilliseconds(masks)
        let median = BenchCommand.medianMilliseconds(samples)
        let request = BenchCommand.medianMilliseconds(requests)
        let body = BenchCommand.medianMilliseconds(bodies)
        let enqueue = BenchCommand.medianMilliseconds(enqueued)
        let worst = (samples.max() ?? .zero).milliseconds
        if json {
            print("{\"bench\":\"repaint\",\"side\":\(size),\"image_bytes\":\(bytes),\"runs\":\(runs),\"median_ms\":\(median),\"request_ms\":\(request),\"mask_ms\":\(mask),\"body_ms\":\(body),\"enqueue_ms\":\(enqueue),\"max_ms\":\(worst),\"pause_ms\":\(pause)}")
        } else {
            print(String(format: "repaint %d×%d (PNG %.1f MB): Enter → Fill POST sent, median %.1f ms (image and mask %.1f ms, of which the mask %.1f ms; the body alone %.1f ms; enqueued, body and ledger row, %.1f ms), max %.1f ms over %d runs %d ms apart",
                         size, size, Double(bytes) / 1_048_576, median, request, mask, body, enqueue, worst, runs, pause))
        }
    }
}

/// A transport that notes when each POST reaches it (and its size), answers it as BFL accepts a
/// task, and answers every poll Pending.
final class PostClock: Transport {
    let posts: AsyncStream<(at: ContinuousClock.Instant, bytes: Int)>
    private let sink: AsyncStream<(at: ContinuousClock.Instant, bytes: Int)>.Continuation

    init() { (posts, sink) = AsyncStream.makeStream() }

    func execute(_ request: TransportRequest) async throws -> TransportResponse {
        guard request.method == .post else { return TransportResponse(status: 200, bytes: Array(#"{"status":"Pending"}"#.utf8)) }
        sink.yield((ContinuousClock.now, request.body?.count ?? 0))
        let id = UUID().uuidString.lowercased()
        return TransportResponse(status: 200, bytes: Array(#"{"id":"\#(id)","polling_url":"http://127.0.0.1:9/v1/get_result?id=\#(id)"}"#.utf8))
    }
}
