public import BFL
import Crypto
import Foundation
import Imaging

/// Which of the three hosts a request arrived on.
public enum Listener: String, Sendable, Hashable {
    /// Plays `api.bfl.ai`.
    case api
    /// Plays a regional cluster host such as `api.eu2.bfl.ai`, where tasks are polled.
    case cluster
    /// Plays `delivery-eu.bfl.ai`, which serves the samples.
    case delivery
}

/// A request as the simulator sees it, independent of the HTTP server.
public struct SimRequest: Sendable {
    public var listener: Listener
    public var method: String
    public var path: String
    public var query: [String: String]
    public var headers: [HeaderField]
    public var body: [UInt8]

    public init(listener: Listener, method: String, path: String, query: [String: String] = [:],
                headers: [HeaderField] = [], body: [UInt8] = []) {
        self.listener = listener
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    func header(_ name: String) -> String? { headers.value(for: name) }
}

/// What to answer.
public struct SimResponse: Sendable {
    public var status: Int
    public var headers: [HeaderField]
    public var body: [UInt8]
    /// Close the connection instead of answering (a reset).
    public var dropConnection = false
    /// Wait this long before answering.
    public var delay: Duration = .zero

    static func json(_ status: Int, _ value: JSONValue, headers: [HeaderField] = []) -> SimResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(value)).map(Array.init) ?? Array("{}".utf8)
        return SimResponse(status: status, headers: headers + [HeaderField("Content-Type", "application/json")], body: body)
    }

    static func detail(_ status: Int, _ text: String, headers: [HeaderField] = []) -> SimResponse {
        json(status, .object(["detail": .string(text)]), headers: headers)
    }
}

/// A request the simulator received, for tests: which host, what, and whether it carried a key.
public struct LoggedRequest: Sendable, Hashable {
    public var listener: Listener
    public var method: String
    public var path: String
    public var carriedKey: Bool
    /// The prompt of a submit, when it had one.
    public var prompt: String?
}

/// The simulated BFL service: accounts, tasks, prices, limits and faults. It knows nothing of
/// HTTP servers; `SimulatorServer` feeds it requests.
public actor SimulatorCore {
    enum Outcome: Sendable { case normal, requestModerated, contentModerated, error, stuck, unknownStatus, poll422 }

    struct SimTask: Sendable {
        var id: String
        var key: String
        var model: Model
        var prompt: String
        var seed: Int
        var size: PixelSize
        var format: OutputFormat
        var cost: Credits
        var createdAt: Duration
        var serviceTime: Duration
        var outcome: Outcome
        var polls = 0
        var sampleHex: String

        var finishesAt: Duration {
            switch outcome {
            case .stuck: .seconds(Int64.max / 4)
            case .requestModerated: createdAt
            case .error: createdAt + serviceTime / 2
            default: createdAt + serviceTime
            }
        }
    }

    /// A signed result URL, issued once when a task is first seen Ready.
    struct Sample: Sendable {
        var taskID: String
        var expiresAt: Duration
        /// `se`: the expiry as ISO-8601 wall time.
        var expiry: String
        var signature: String
    }

    public let options: SimulatorOptions
    public let acceptedKeys: [String]
    private let now: @Sendable () -> Duration
    private let wallStart = Date()
    private let signingKey = SymmetricKey(size: .bits256)
    private var rng: SplitMix64
    private var balances: [String: Credits] = [:]
    private var tasks: [String: SimTask] = [:]
    private var samples: [String: Sample] = [:]
    /// Encoded samples by hex id, rendered off the actor and shared by concurrent downloads.
    private var rendering: [String: Task<[UInt8]?, Never>] = [:]
    private var log: [LoggedRequest] = []
    private var clusterBase = "http://127.0.0.1"
    private var deliveryBase = "http://127.0.0.1"

    /// - Parameter now: the time since the simulator started; tests pass a manual clock.
    public init(options: SimulatorOptions, now: (@Sendable () -> Duration)? = nil) {
        self.options = options
        rng = SplitMix64(seed: options.randomSeed)
        if options.apiKeys.isEmpty {
            let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
            var random = SystemRandomNumberGenerator()
            let suffix = String((0..<32).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            acceptedKeys = ["sim_" + suffix]
        } else {
            acceptedKeys = options.apiKeys
        }
        for key in acceptedKeys { balances[key] = options.initialCredits }
        if let now {
            self.now = now
        } else {
            let clock = ContinuousClock()
            let start = clock.now
            self.now = { clock.now - start }
        }
    }

    /// Tells the core where the cluster and delivery listeners are, for the URLs it hands out.
    public func setBaseURLs(cluster: String, delivery: String) {
        clusterBase = cluster
        deliveryBase = delivery
    }

    // MARK: control API

    public func addKey(_ key: String, credits: Credits? = nil) {
        balances[key] = credits ?? options.initialCredits
    }

    public func balance(of key: String) -> Credits? { balances[key] }

    public func setBalance(_ credits: Credits, for key: String) { balances[key] = credits }

    /// Every request received so far.
    public var requests: [LoggedRequest] { log }

    /// Requests that reached the delivery host carrying `x-key` (must stay empty).
    public var deliveryRequestsWithKey: [LoggedRequest] {
        log.filter { $0.listener == .delivery && $0.carriedKey }
    }

    /// How many submissions created a task (what was charged).
    public var acceptedSubmissions: Int { tasks.count }

    // MARK: handling

    public func handle(_ request: SimRequest) async -> SimResponse {
        var response = await route(request)
        response.delay += request.listener == .delivery ? options.faults.slowDelivery : options.faults.latency
        return response
    }

    private func route(_ request: SimRequest) async -> SimResponse {
        var entry = LoggedRequest(listener: request.listener, method: request.method, path: request.path,
                                  carriedKey: request.header("x-key") != nil)
        defer { log.append(entry) }
        switch (request.listener, request.method) {
        case (.api, "POST") where request.path.hasPrefix("/v1/"):
            let path = String(request.path.dropFirst(4))
            guard let model = Catalog.model(path: path) else { return .detail(404, "Not Found") }
            if let failure = authenticate(request) { return failure }
            let (response, prompt) = submit(request, model: model)
            entry.prompt = prompt
            return response
        case (.api, "GET") where request.path == "/v1/credits":
            if let failure = authenticate(request) { return failure }
            let key = request.header("x-key") ?? ""
            return .json(200, .object(["credits": .number(Self.double(balances[key] ?? .zero))]))
        case (.api, "GET") where request.path == "/v1/get_result":
            if let failure = authenticate(request) { return failure }
            // Every task lives on the cluster host; the global host does not know it.
            return .detail(404, "Not Found")
        case (.cluster, "GET") where request.path == "/v1/get_result":
            if let failure = authenticate(request) { return failure }
            return poll(request)
        case (.delivery, "GET") where request.path.hasPrefix("/results/"):
            return await deliver(request)
        default:
            return .detail(404, "Not Found")
        }
    }

    private func authenticate(_ request: SimRequest) -> SimResponse? {
        guard let key = request.header("x-key") else { return .detail(403, "Not authenticated") }
        let allowed = key.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
        guard key.count >= 16, allowed else { return .detail(422, "Invalid API key format") }
        guard balances[key] != nil else { return .detail(403, "Not authenticated - Invalid Authentication") }
        return nil
    }

    // MARK: submit

    private func submit(_ request: SimRequest, model catalogModel: Model) -> (SimResponse, String?) {
        let key = request.header("x-key") ?? ""
        let object: [String: JSONValue]
        do {
            let json = try JSONDecoder().decode(JSONValue.self, from: Data(request.body))
            guard case .object(let fields) = json else {
                return (schemaError([SchemaIssue(loc: ["body"], msg: "Input should be a valid dictionary or object to extract fields from", type: "model_attributes_type")]), nil)
            }
            object = fields
        } catch {
            return (schemaError([SchemaIssue(loc: ["body"], msg: "JSON decode error", type: "json_invalid")]), nil)
        }
        var model = catalogModel
        if model.family == .ultra, object["raw"] == .bool(true), let raw = Catalog.model(id: "flux-pro-1.1-ultra-raw") {
            model = raw
        }
        let issues = Schema.validate(object, for: model)
        guard issues.isEmpty else { return (schemaError(issues), object["prompt"]?.stringValue) }
        let prompt = object["prompt"]?.stringValue ?? ""

        // Limits: per key, and per model where the model has its own.
        let current = now()
        let active = tasks.values.filter { $0.key == key && $0.finishesAt > current }
        let retryAfter = options.faults.retryAfter.map { [HeaderField("Retry-After", String($0))] } ?? []
        if active.count >= options.accountLimit
            || active.filter({ $0.model.id == model.id }).count >= model.concurrencyLimit
            || chance(options.faults.submit429Rate)
        {
            return (.detail(429, "Too many active tasks", headers: retryAfter), prompt)
        }

        // Price and balance.
        let inputSizes = inputSizes(object, model: model)
        let size = outputSize(object, model: model, inputSizes: inputSizes)
        let estimate = PriceEstimator.estimate(
            model: model, outputSize: model.sizeRule == .flux2 ? size : nil, inputSizes: inputSizes)
        let balance = balances[key] ?? .zero
        guard estimate.credits <= balance else { return (.detail(402, "Insufficient credits"), prompt) }
        balances[key] = balance - estimate.credits

        let id = UUID().uuidString.lowercased()
        let lower = prompt.lowercased()
        let outcome: Outcome =
            lower.contains("sim:request-moderated") ? .requestModerated
            : lower.contains("sim:content-moderated") ? .contentModerated
            : lower.contains("sim:error") ? .error
            : lower.contains("sim:stuck") ? .stuck
            : lower.contains("sim:unknown-status") ? .unknownStatus
            : lower.contains("sim:poll-422") ? .poll422
            : .normal
        let seed = object["seed"]?.doubleValue.map { Int($0) } ?? Int(rng.next() % 4_294_967_295)
        let format = object["output_format"]?.stringValue.flatMap(OutputFormat.init(rawValue:)) ?? model.defaultOutputFormat
        let jitter = 0.8 + 0.4 * Double(rng.next() % 10_000) / 10_000
        let seconds = Self.medianSeconds(model) * options.timeFactor * jitter
        var hex = ""
        for _ in 0..<2 { hex += String(format: "%016llx", rng.next()) }
        let task = SimTask(
            id: id, key: key, model: model, prompt: prompt, seed: seed, size: size, format: format,
            cost: estimate.credits, createdAt: current, serviceTime: .milliseconds(Int64(seconds * 1000)),
            outcome: outcome, sampleHex: hex)
        tasks[id] = task

        var reply: [String: JSONValue] = ["id": .string(id)]
        if let webhook = object["webhook_url"]?.stringValue {
            reply["status"] = .string("Pending")
            reply["webhook_url"] = .string(webhook)
        } else {
            reply["polling_url"] = .string("\(clusterBase)/v1/get_result?id=\(id)")
        }
        if model.sizeRule == .flux2 {
            reply["cost"] = .number(Self.double(estimate.credits))
            let inputPixels = inputSizes.reduce(0) { $0 + $1.pixels }
            reply["input_mp"] = .number(Self.megapixels(inputPixels))
            reply["output_mp"] = .number(Self.megapixels(size.pixels))
        }
        var response = SimResponse.json(200, .object(reply))
        // A reset after the task exists and is charged: the client must not resend.
        if chance(options.faults.resetRate) { response.dropConnection = true }
        return (response, prompt)
    }

    private func schemaError(_ issues: [SchemaIssue]) -> SimResponse {
        .json(422, .object(["detail": .array(issues.map(\.json))]))
    }

    /// Sizes of the reference images: decoded from base64 headers where possible; URLs count
    /// as 1 MP (the simulator fetches nothing).
    private func inputSizes(_ object: [String: JSONValue], model: Model) -> [PixelSize] {
        guard model.sizeRule == .flux2 else { return [] }
        return (1...8).compactMap { index -> PixelSize? in
            let key = index == 1 ? "input_image" : "input_image_\(index)"
            guard let value = object[key]?.stringValue else { return nil }
            if let data = Data(base64Encoded: value), let size = ImageHeader.size(of: Array(data)) {
                return PixelSize(width: size.width, height: size.height)
            }
            return PixelSize(width: 1024, height: 1024)
        }
    }

    private func outputSize(_ object: [String: JSONValue], model: Model, inputSizes: [PixelSize]) -> PixelSize {
        let width = object["width"]?.doubleValue.map { Int($0) }
        let height = object["height"]?.doubleValue.map { Int($0) }
        switch model.sizeRule {
        case .flux2:
            if let width, let height { return PixelSize(width: max(64, width / 16 * 16), height: max(64, height / 16 * 16)) }
            return PriceEstimator.defaultFlux2Output(inputSizes: inputSizes)
        case .pro11:
            return PixelSize(width: width ?? 1024, height: height ?? 768)
        case .aspectRatio:
            return Self.size(ratio: object["aspect_ratio"]?.stringValue ?? "1:1", pixels: 1_048_576)
        case .aspectRatioUltra:
            return Self.size(ratio: object["aspect_ratio"]?.stringValue ?? "16:9", pixels: 4_194_304)
        case .sameAsImage:
            if let value = object["image"]?.stringValue, let data = Data(base64Encoded: value),
               let size = ImageHeader.size(of: Array(data)) {
                return PixelSize(width: size.width, height: size.height)
            }
            return PixelSize(width: 1024, height: 1024)
        }
    }

    /// About `pixels` pixels at aspect `ratio`, sides multiples of 32.
    static func size(ratio: String, pixels: Int) -> PixelSize {
        let (w, h) = GenerationParameters.parseAspectRatio(ratio) ?? (1, 1)
        let height = (Double(pixels) * Double(h) / Double(w)).squareRoot()
        let width = height * Double(w) / Double(h)
        return PixelSize(width: max(32, Int(width / 32) * 32), height: max(32, Int(height / 32) * 32))
    }

    // MARK: poll

    private func poll(_ request: SimRequest) -> SimResponse {
        let id = request.query["id"] ?? ""
        if chance(options.faults.poll5xxRate) {
            let status = [500, 502, 503][Int(rng.next() % 3)]
            let after = options.faults.retryAfter.map { [HeaderField("Retry-After", String($0))] } ?? []
            return .detail(status, "Simulated server fault", headers: status == 503 ? after : [])
        }
        guard var task = tasks[id], task.key == (request.header("x-key") ?? "") else {
            return .json(200, .object(["id": .string(id), "status": .string("Task not found")]))
        }
        task.polls += 1
        tasks[id] = task
        let elapsed = now() - task.createdAt
        let service = task.serviceTime
        var reply: [String: JSONValue] = ["id": .string(id), "result": .null, "progress": .null, "details": .null, "preview": .null]
        func status(_ text: String) { reply["status"] = .string(text) }
        func settle() { reply["cost"] = .number(Self.double(task.cost)) }

        if elapsed > task.finishesAt - task.createdAt + options.retention {
            return .json(200, .object(["id": .string(id), "status": .string("Task not found")]))
        }
        switch task.outcome {
        case .requestModerated:
            status("Request Moderated")
            reply["details"] = .object(["Moderation Reasons": .array([.string("Simulated request moderation")])])
            settle()
            return .json(200, .object(reply))
        case .stuck:
            status("Pending")
            return .json(200, .object(reply))
        case .unknownStatus where task.polls <= 3:
            status("Paused")
            return .json(200, .object(reply))
        case .error where elapsed >= service / 2:
            status("Error")
            reply["details"] = .object(["error": .string("Simulated generation failure")])
            settle()
            return .json(200, .object(reply))
        default:
            break
        }
        if elapsed < service * 0.15 {
            status("Pending")
        } else if elapsed < service {
            let fraction = (elapsed - service * 0.15) / (service * 0.85)
            status(options.reasoningPhase && fraction < 0.2 ? "Reasoning" : "Generating")
            reply["progress"] = .number((fraction * 100).rounded() / 100)
        } else if task.format == .webp {
            status("Error")
            reply["details"] = .object(["error": .string("webp output not supported by the simulator")])
            settle()
        } else if task.outcome == .contentModerated {
            status("Content Moderated")
            reply["details"] = .object(["Moderation Reasons": .array([.string("Simulated content moderation")])])
            settle()
        } else if task.outcome == .poll422 {
            status("Error")
            reply["details"] = .object(["error": .string("Simulated failure reported as HTTP 422")])
            return .json(422, .object(reply))
        } else {
            status("Ready")
            reply["progress"] = .number(1)
            let sample = samples[task.sampleHex] ?? issueSample(for: task)
            let ext = task.format.rawValue
            let se = sample.expiry.replacingOccurrences(of: ":", with: "%3A")
            let query = "se=\(se)&sp=r&sv=2024-11-04&sr=b&rsct=image/\(ext)&sig=\(sample.signature)"
            let start = Self.seconds(task.createdAt)
            reply["result"] = .object([
                "sample": .string("\(deliveryBase)/results/\(task.sampleHex)/sample.\(ext)?\(query)"),
                "seed": .number(Double(task.seed)), "prompt": .string(task.prompt),
                "start_time": .number(start), "end_time": .number(start + Self.seconds(service)),
                "duration": .number(Self.seconds(service)),
            ])
            settle()
        }
        return .json(200, .object(reply))
    }

    /// Signs the task's result URL; it expires `deliveryTTL` after the task became ready.
    private func issueSample(for task: SimTask) -> Sample {
        let expiresAt = task.createdAt + task.serviceTime + options.deliveryTTL
        let expiry = ISO8601DateFormatter().string(from: wallStart.addingTimeInterval(Self.seconds(expiresAt)))
        let sample = Sample(taskID: task.id, expiresAt: expiresAt, expiry: expiry, signature: sign(task.sampleHex, expiry))
        samples[task.sampleHex] = sample
        return sample
    }

    // MARK: delivery

    private func deliver(_ request: SimRequest) async -> SimResponse {
        let parts = request.path.split(separator: "/")
        let forbidden = SimResponse(
            status: 403, headers: [HeaderField("Content-Type", "application/xml")],
            body: Array("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code></Error>".utf8))
        guard parts.count == 3, let sample = samples[String(parts[1])], let task = tasks[sample.taskID] else {
            return forbidden
        }
        guard let sig = request.query["sig"], sig == sample.signature, now() < sample.expiresAt else {
            return forbidden
        }
        let job: Task<[UInt8]?, Never>
        if let existing = rendering[task.sampleHex] {
            job = existing
        } else {
            // Drawing and encoding take a while for large images: do it off the actor, so other
            // requests are served meanwhile.
            let (model, prompt, seed, size, format) = (task.model.id, task.prompt, task.seed, task.size, task.format)
            job = Task.detached {
                let image = SampleRenderer.render(model: model, prompt: prompt, seed: seed, width: size.width, height: size.height)
                return format == .png ? try? ImageCodec.encodePNG(image) : try? ImageCodec.encodeJPEG(image, quality: 88)
            }
            rendering[task.sampleHex] = job
        }
        guard let bytes = await job.value else { return .detail(500, "Image encoding failed") }
        let type = task.format == .png ? "image/png" : "image/jpeg"
        return SimResponse(status: 200, headers: [HeaderField("Content-Type", type)], body: bytes)
    }

    // MARK: helpers

    private func sign(_ hex: String, _ expiry: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(hex)|\(expiry)".utf8), using: signingKey)
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    private func chance(_ rate: Double) -> Bool {
        rate > 0 && Double(rng.next() % 1_000_000) / 1_000_000 < rate
    }

    /// The contract's median service times.
    static func medianSeconds(_ model: Model) -> Double {
        switch model.id {
        case "flux-2-klein-4b": 1.2
        case "flux-2-klein-9b": 2
        case "flux-2-flex": 7
        case "flux-kontext-pro", "flux-kontext-max": 7
        case "flux-2-pro": 10
        case "flux-pro-1.1-ultra", "flux-pro-1.1-ultra-raw": 12
        case "flux-2-max": 30
        case "flux-pro-1.0-fill": 8
        default: 5
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func megapixels(_ pixels: Int) -> Double {
        (Double(pixels) / 1_048_576 * 100).rounded() / 100
    }

    static func double(_ credits: Credits) -> Double {
        NSDecimalNumber(decimal: credits.value).doubleValue
    }
}
