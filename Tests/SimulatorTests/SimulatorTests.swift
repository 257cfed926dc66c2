import BFL
import BFLSimulator
import Foundation
import Imaging
import Testing
import TestSupport

/// The simulator, driven through our own client over loopback, with simulated time under the
/// test's control.
@Suite("Simulator over loopback", .timeLimit(.minutes(2)))
struct SimulatorTests {
    /// A running simulator, a transport, a client with its key and the clock that drives time.
    struct Rig {
        let server: SimulatorServer
        let transport: HTTPClientTransport
        let clock: TestClock
        let client: BFLClient
        let directory: URL

        func stop() async {
            try? await transport.shutdown()
            await server.stop()
            try? FileManager.default.removeItem(at: directory)
        }

        func client(key: String?) throws -> BFLClient {
            var configuration = client.configuration
            configuration.apiKey = key.flatMap(APIKey.init)
            return BFLClient(configuration: configuration, transport: transport)
        }

        /// A raw request to one of the listeners.
        func raw(_ method: HTTPMethod, _ base: String, _ path: String, key: String? = nil, body: String? = nil) async throws -> (Int, String) {
            let url = try #require(URL(string: base + path))
            var headers: [HeaderField] = []
            if let key { headers.append(HeaderField("x-key", key)) }
            let response = try await transport.execute(TransportRequest(method: method, url: url, headers: headers, body: body.map { Array($0.utf8) }))
            return (response.status, String(decoding: try await response.collect(upTo: 1 << 20), as: UTF8.self))
        }

        func submit(_ model: String, _ edit: (inout GenerationParameters) -> Void = { _ in }) async throws -> SubmitResponse {
            var parameters = GenerationParameters(prompt: "a lighthouse at dusk")
            edit(&parameters)
            return try await client.submit(try parameters.prepare(for: try #require(Catalog.model(id: model))))
        }
    }

    static func rig(_ edit: (inout SimulatorOptions) -> Void = { _ in }) async throws -> Rig {
        var options = SimulatorOptions()
        options.timeFactor = 1
        edit(&options)
        let clock = TestClock()
        let server = try await SimulatorServer.start(options: options, now: { clock.now.offset })
        let transport = HTTPClientTransport(pace: .patientForTests)
        var configuration = BFLClient.Configuration(endpoint: try #require(Endpoint(customURL: server.apiURL)), apiKey: APIKey(server.apiKey))
        configuration.retry = RetryPolicy(jitter: { 0 })
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return Rig(server: server, transport: transport, clock: clock,
                   client: BFLClient(configuration: configuration, transport: transport), directory: directory)
    }

    static func withRig(_ edit: (inout SimulatorOptions) -> Void = { _ in }, _ body: (Rig) async throws -> Void) async throws {
        let rig = try await rig(edit)
        do { try await body(rig) } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
    }

    @Test("the estimate is what the simulator charges: odd sizes (snapped before sending), many megapixels, URL and data inputs, every model")
    func estimateIsCharge() async throws {
        try await Self.withRig({ $0.initialCredits = 1_000_000 }) { rig in
            var pixels = [UInt8](repeating: 90, count: 1500 * 1100 * 3)
            pixels[0] = 1
            let png = try ImageCodec.encodePNG(RGBImage(width: 1500, height: 1100, pixels: pixels))
            let data = ImageReference(value: Data(png).base64EncodedString(), size: PixelSize(width: 1500, height: 1100))
            let url = ImageReference(value: "https://example.com/a.jpg")
            let sizes = [(1025, 1024), (1030, 777), (65, 65), (2047, 2047), (1920, 1080), (2048, 2048)]
            for model in Catalog.all where model.family != .fill {
                for (width, height) in sizes {
                    var parameters = GenerationParameters(prompt: "a kite")
                    switch model.sizeRule {
                    case .flux2:
                        parameters.width = width
                        parameters.height = height
                        parameters.references = Array([data, url].prefix(model.maxReferences))
                    case .pro11:
                        parameters.width = min(1440, max(256, width / 32 * 32))
                        parameters.height = min(1440, max(256, height / 32 * 32))
                    case .aspectRatio, .aspectRatioUltra, .sameAsImage:
                        parameters.aspectRatio = "16:9"
                    }
                    let prepared = try parameters.prepare(for: model)
                    let before = try await rig.client.credits()
                    _ = try await rig.client.submit(prepared)
                    let after = try await rig.client.credits()
                    rig.clock.advance(by: .seconds(300))   // the task ends: no active-task limit is reached
                    #expect(before - after == prepared.estimate.credits, "\(model.id) \(width)x\(height): charged \(before - after), estimated \(prepared.estimate.credits)")
                }
            }
        }
    }

    @Test("submit, poll the cluster polling_url to Ready, download without the key: a real JPEG of the size asked")
    func happyPath() async throws {
        try await Self.withRig { rig in
            let submitted = try await rig.submit("flux-2-pro") { $0.width = 640; $0.height = 480; $0.seed = 9 }
            #expect(submitted.cost == "3")
            #expect(submitted.outputMP == 0.29)
            let pollingURL = try #require(submitted.pollingURL)
            #expect(pollingURL.hasPrefix(rig.server.clusterURL))
            #expect(try await rig.client.poll(pollingURL).status == .pending)
            rig.clock.advance(by: .seconds(6))
            let midway = try await rig.client.poll(pollingURL)
            #expect(midway.status == .generating)
            #expect((midway.progress ?? 0) > 0 && (midway.progress ?? 1) < 1)
            rig.clock.advance(by: .seconds(10))
            let done = try await rig.client.poll(pollingURL)
            #expect(done.status == .ready)
            #expect(done.cost == "3")
            #expect(done.result?.seed == 9)
            let sample = try #require(done.result?.sample)
            #expect(sample.hasPrefix(rig.server.deliveryURL + "/results/"))
            let file = rig.directory.appendingPathComponent("a.jpg")
            let download = try await rig.client.download(sample, to: file)
            #expect(download.contentType == "image/jpeg")
            let image = try ImageCodec.decode(Array(try Data(contentsOf: file)))
            #expect(image.width == 640 && image.height == 480)
            #expect(await rig.server.core.deliveryRequestsWithKey.isEmpty)
            #expect(try await rig.client.credits() == "997")
            // The global host does not know cluster tasks.
            let id = submitted.id
            await #expect(throws: BFLError.notFound("Not Found")) {
                try await rig.client.poll(rig.server.apiURL + "/v1/get_result?id=\(id)")
            }
        }
    }

    @Test("PNG output is a PNG; the same prompt and seed give the same bytes, another prompt different ones")
    func pngDeterministic() async throws {
        try await Self.withRig { rig in
            func render(_ prompt: String) async throws -> [UInt8] {
                let submitted = try await rig.submit("flux-2-klein-4b") { $0.prompt = prompt; $0.width = 256; $0.height = 128; $0.seed = 4; $0.outputFormat = .png }
                rig.clock.advance(by: .seconds(5))
                let done = try await rig.client.poll(try #require(submitted.pollingURL))
                let file = rig.directory.appendingPathComponent(UUID().uuidString + ".png")
                _ = try await rig.client.download(try #require(done.result?.sample), to: file)
                return Array(try Data(contentsOf: file))
            }
            let a = try await render("red sea")
            let b = try await render("red sea")
            let c = try await render("green forest")
            #expect(ImageFormat.sniff(a) == .png)
            #expect(ImageHeader.size(of: a)! == (256, 128))
            #expect(a == b)
            #expect(a != c)
        }
    }

    @Test("authentication: route before auth, then missing, malformed and unknown keys")
    func authentication() async throws {
        try await Self.withRig { rig in
            let api = rig.server.apiURL
            let unknownPath = try await rig.raw(.post, api, "/v1/flux-9", body: "{}")
            #expect(unknownPath == (404, #"{"detail":"Not Found"}"#))
            let noKey = try await rig.raw(.post, api, "/v1/flux-2-pro", body: "{}")
            #expect(noKey == (403, #"{"detail":"Not authenticated"}"#))
            await #expect(throws: BFLError.malformedKey) { try await rig.client(key: "short!").credits() }
            await #expect(throws: BFLError.invalidKey) { try await rig.client(key: "unknown_key_0123456789").credits() }
            let pollNoKey = try await rig.raw(.get, rig.server.clusterURL, "/v1/get_result?id=x")
            #expect(pollNoKey == (403, #"{"detail":"Not authenticated"}"#))
        }
    }

    @Test("the simulator refuses what BFL refuses", arguments: [
        (#"{"prompt":"x","foo":1}"#, "foo: Extra inputs are not permitted"),
        (#"{"prompt":"x","width":48,"height":512}"#, "width: Input should be greater than or equal to 64"),
        (#"{"prompt":"x","width":2048,"height":2080}"#, "height: Input should be less than or equal to 2048"),
        (#"{"prompt":"x","input_image":"a","input_image_2":"a","input_image_3":"a","input_image_4":"a","input_image_5":"a","input_image_6":"a","input_image_7":"a","input_image_8":"a","input_image_9":"a"}"#,
         "input_image_9: Extra inputs are not permitted"),
        (#"{"width":512,"height":512}"#, "prompt: Field required"),
        (#"{"prompt":"x","seed":"many"}"#, "seed: Input should be a valid integer"),
        (#"{"prompt":"x","output_format":"gif"}"#, "output_format: Input should be 'jpeg', 'png' or 'webp'"),
    ])
    func refusals(_ body: String, _ message: String) async throws {
        try await Self.withRig { rig in
            await #expect(throws: BFLError.validation([message])) {
                try await rig.client.submit(path: "flux-2-pro", body: Array(body.utf8))
            }
            #expect(await rig.server.core.acceptedSubmissions == 0)
        }
    }

    @Test("a seventh concurrent kontext-max task and a 25th task are refused with 429")
    func concurrency() async throws {
        try await Self.withRig({ $0.faults.retryAfter = 2 }) { rig in
            var client = rig.client.configuration
            client.retry = RetryPolicy(jitter: { 0 })
            client.retry.submitRetries = 0
            let c = BFLClient(configuration: client, transport: rig.transport)
            let kontextMax = try #require(Catalog.model(id: "flux-kontext-max"))
            let request = try GenerationParameters(prompt: "x").prepare(for: kontextMax)
            for _ in 0..<6 { _ = try await c.submit(request) }
            await #expect(throws: BFLError.rateLimited(retryAfter: .seconds(2))) { try await c.submit(request) }
            let pro = try GenerationParameters(prompt: "x").prepare(for: try #require(Catalog.model(id: "flux-2-klein-4b")))
            for _ in 0..<18 { _ = try await c.submit(pro) }
            await #expect(throws: BFLError.rateLimited(retryAfter: .seconds(2))) { try await c.submit(pro) }
            // Once the klein tasks finish, slots free up.
            rig.clock.advance(by: .seconds(3))
            _ = try await c.submit(pro)
        }
    }

    @Test("credits are charged on accept; a short balance gives 402")
    func credits() async throws {
        try await Self.withRig({ $0.initialCredits = 10 }) { rig in
            _ = try await rig.submit("flux-2-max")  // 7
            #expect(try await rig.client.credits() == "3")
            await #expect(throws: BFLError.insufficientCredits("Insufficient credits")) { try await rig.submit("flux-2-pro") { $0.width = 2048; $0.height = 1024 } }
            _ = try await rig.submit("flux-2-pro")  // 3
            #expect(try await rig.client.credits() == "0")
        }
    }

    @Test("magic words: moderation, error, unknown status, HTTP 422 poll, webp")
    func magicWords() async throws {
        try await Self.withRig { rig in
            func poll(_ submitted: SubmitResponse) async throws -> PollResponse {
                try await rig.client.poll(try #require(submitted.pollingURL))
            }
            let requestModerated = try await rig.submit("flux-2-pro") { $0.prompt = "sim:request-moderated" }
            #expect(try await poll(requestModerated).status == .requestModerated)
            let contentModerated = try await rig.submit("flux-2-pro") { $0.prompt = "x sim:content-moderated" }
            let failing = try await rig.submit("flux-2-pro") { $0.prompt = "sim:error" }
            let unknown = try await rig.submit("flux-2-klein-4b") { $0.prompt = "sim:unknown-status" }
            let poll422 = try await rig.submit("flux-2-klein-4b") { $0.prompt = "sim:poll-422" }
            let stuck = try await rig.submit("flux-2-klein-4b") { $0.prompt = "sim:stuck" }
            let webp = try await rig.submit("flux-2-klein-4b") { $0.outputFormat = .webp }
            for _ in 0..<3 { #expect(try await poll(unknown).status == .unknown("Paused")) }
            #expect(try await poll(unknown).status == .pending)
            rig.clock.advance(by: .seconds(6.5))
            let failed = try await poll(failing)
            #expect(failed.status == .error)
            #expect(failed.errorMessage == "Simulated generation failure")
            rig.clock.advance(by: .seconds(10))
            #expect(try await poll(contentModerated).status == .contentModerated)
            #expect(try await poll(unknown).status == .ready)
            let via422 = try await poll(poll422)
            #expect(via422.status == .error)
            #expect(try await poll(stuck).status == .pending)
            let webpResult = try await poll(webp)
            #expect(webpResult.status == .error)
            #expect(webpResult.errorMessage == "webp output not supported by the simulator")
            let missing = try await rig.client.poll(rig.server.clusterURL + "/v1/get_result?id=nope")
            #expect(missing.status == .taskNotFound)
        }
    }

    @Test("sample URLs expire after the delivery TTL; a bad signature is refused")
    func expiry() async throws {
        try await Self.withRig({ $0.deliveryTTL = .seconds(60) }) { rig in
            let submitted = try await rig.submit("flux-2-klein-4b") { $0.width = 64; $0.height = 64 }
            rig.clock.advance(by: .seconds(3))
            let pollingURL = try #require(submitted.pollingURL)
            let sample = try #require(try await rig.client.poll(pollingURL).result?.sample)
            let tampered = sample.replacingOccurrences(of: "sig=", with: "sig=0")
            await #expect(throws: BFLError.resultExpired) {
                try await rig.client.download(tampered, to: rig.directory.appendingPathComponent("t.jpg"))
            }
            rig.clock.advance(by: .seconds(61))
            await #expect(throws: BFLError.resultExpired) {
                try await rig.client.download(sample, to: rig.directory.appendingPathComponent("e.jpg"))
            }
        }
    }

    @Test("a reset after the task was created: the client does not resend, the task exists")
    func resetFault() async throws {
        try await Self.withRig({ $0.faults.resetRate = 1 }) { rig in
            await #expect(throws: BFLError.self) {
                do { _ = try await rig.submit("flux-2-pro") } catch let error as BFLError {
                    guard case .submitOutcomeUnknown = error else { Issue.record("got \(error)"); throw error }
                    throw error
                }
            }
            #expect(await rig.server.core.acceptedSubmissions == 1)
            let posts = await rig.server.core.requests.filter { $0.method == "POST" }
            #expect(posts.count == 1)
        }
    }

    @Test("poll 5xx faults with Retry-After are retried by the client until it gives up")
    func pollFaults() async throws {
        try await Self.withRig({ $0.faults.poll5xxRate = 1; $0.faults.retryAfter = 0 }) { rig in
            var configuration = rig.client.configuration
            configuration.retry = RetryPolicy(jitter: { 0 })
            configuration.retry.pollRetries = 2
            let c = BFLClient(configuration: configuration, transport: rig.transport)
            let submitted = try await rig.submit("flux-2-pro")
            await #expect(throws: BFLError.self) { try await c.poll(try #require(submitted.pollingURL)) }
            let polls = await rig.server.core.requests.filter { $0.listener.isCluster }
            #expect(polls.count == 3)
        }
    }

    @Test("fault specs parse, and bad ones are explained")
    func faultSpec() throws {
        let faults = try Faults(spec: "5xx=0.1, 429=0.2,reset=0.05,retry-after=2,latency=150ms,slow-delivery=2s")
        #expect(faults.poll5xxRate == 0.1)
        #expect(faults.submit429Rate == 0.2)
        #expect(faults.retryAfter == 2)
        #expect(faults.latency == .milliseconds(150))
        #expect(faults.slowDelivery == .seconds(2))
        #expect(throws: SimulatorError.badOption("fault 5xx needs a rate between 0 and 1 (got 2)")) { try Faults(spec: "5xx=2") }
        #expect(throws: SimulatorError.self) { try Faults(spec: "boom=1") }
    }
}
