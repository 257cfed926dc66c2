public import BFL
import Crypto
import Foundation
import Imaging

/// Which host a request arrived on: the three API front doors, the two cluster hosts where
/// tasks live and are polled, and the delivery host. Each is a listener of its own.
public enum Listener: String, Sendable, Hashable, CaseIterable {
    /// Plays `api.bfl.ai`: global, spreads tasks over the clusters that are up.
    case api
    /// Plays `api.eu.bfl.ai`: tasks stay in the EU.
    case apiEU = "api-eu"
    /// Plays `api.us.bfl.ai`: tasks stay in the US.
    case apiUS = "api-us"
    /// Plays the EU cluster host `api.eu2.bfl.ai`.
    case cluster
    /// Plays the US cluster host `api.us1.bfl.ai`.
    case clusterUS = "cluster-us"
    /// Plays `delivery-eu.bfl.ai`, which serves the samples.
    case delivery

    /// The BFL host this listener plays.
    public var host: String {
        switch self {
        case .api: "api.bfl.ai"
        case .apiEU: "api.eu.bfl.ai"
        case .apiUS: "api.us.bfl.ai"
        case .cluster: "api.eu2.bfl.ai"
        case .clusterUS: "api.us1.bfl.ai"
        case .delivery: "delivery-eu.bfl.ai"
        }
    }

    /// The region of an API front door.
    public var frontDoor: Region? {
        switch self {
        case .api: .global
        case .apiEU: .eu
        case .apiUS: .us
        default: nil
        }
    }

    /// The region a cluster host is in.
    public var clusterRegion: Region? {
        switch self {
        case .cluster: .eu
        case .clusterUS: .us
        default: nil
        }
    }

    public var isCluster: Bool { clusterRegion != nil }

    /// The cluster that holds tasks sent to a regional front door.
    static func cluster(in region: Region) -> Listener? {
        switch region {
        case .eu: .cluster
        case .us: .clusterUS
        case .global: nil
        }
    }
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
    /// The body of a POST, as received (tests compare it with what a dry run printed).
    public var body: [UInt8]?
}

/// The simulated BFL service: accounts, tasks, prices, limits and faults. It knows nothing of
/// HTTP servers; `SimulatorServer` feeds it requests.
public actor SimulatorCore {
    /// A signed result URL, issued once when a task is first seen Ready.
    struct Sample: Sendable {
        var taskID: String
        var expiresAt: Duration
        /// `se`: the expiry as ISO-8601 wall time.
        var expiry: String
        var signature: String
    }

    public private(set) var options: SimulatorOptions
    public let acceptedKeys: [String]
    let now: @Sendable () -> Duration
    let wallStart = Date()
    let signingKey = SymmetricKey(size: .bits256)
    var rng: SplitMix64
    var balances: [String: Credits] = [:]
    var tasks: [String: SimTask] = [:]
    var samples: [String: Sample] = [:]
    /// Encoded samples by hex id, rendered off the actor and shared by concurrent downloads.
    var rendering: [String: Task<[UInt8]?, Never>] = [:]
    var log: [LoggedRequest] = []
    var pendingWebhooks: [PendingWebhook] = []
    var webhookLog: [WebhookAttempt] = []
    let submissionWaiters = CountWaiters<Bool>()
    let pollWaiters = CountWaiters<Bool>()
    let webhookWaiters = CountWaiters<[WebhookAttempt]>()
    /// Signals the dispatcher that a webhook was queued.
    let webhookSignal: AsyncStream<Void>.Continuation
    /// What the dispatcher waits on while no webhook is queued.
    public nonisolated let webhookSignals: AsyncStream<Void>
    var baseURLs: [Listener: String] = [:]
    /// Polls of a task on a cluster host that does not hold it (each answered 404).
    public private(set) var misdirectedPolls = 0
    /// The next cluster the global front door gives a task to (it takes turns).
    var globalTurn = 0

    /// - Parameter now: the time since the simulator started; tests pass a manual clock.
    public init(options: SimulatorOptions, now: (@Sendable () -> Duration)? = nil) {
        self.options = options
        rng = SplitMix64(seed: options.randomSeed)
        (webhookSignals, webhookSignal) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
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

    /// Tells the core where its listeners are, for the URLs it hands out.
    public func setBaseURLs(_ urls: [Listener: String]) {
        baseURLs = urls
    }

    var deliveryBase: String { baseURLs[.delivery] ?? "http://127.0.0.1" }

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

    private var pollCount: Int { log.filter { $0.listener.isCluster && $0.method == "GET" }.count }

    /// Waits until the cluster hosts have answered at least `count` polls in all (false when
    /// `limit` passes first).
    @discardableResult
    public func waitForPolls(atLeast count: Int, within limit: Duration = .seconds(60)) async -> Bool {
        if pollCount >= count { return true }
        return await wait(in: pollWaiters, count: count, limit: limit) { false }
    }

    /// Waits until at least `count` submissions (POSTs to a model path) have arrived; false
    /// when `limit` of real time passed first (a safety net for tests, whatever the core's clock).
    @discardableResult
    public func waitForSubmissions(atLeast count: Int, within limit: Duration = .seconds(60)) async -> Bool {
        if submissionCount >= count { return true }
        return await wait(in: submissionWaiters, count: count, limit: limit) { false }
    }

    private var submissionCount: Int { log.filter { $0.method == "POST" && $0.listener.frontDoor != nil && !$0.path.hasPrefix("/__sim/") }.count }

    /// How many submissions created a task (what was charged).
    public var acceptedSubmissions: Int { tasks.count }

    /// The simulator's clock: time since it started (the time base of `timelines`).
    public var currentTime: Duration { now() }

    /// What happened to each task, by task id: when it was accepted, when it became (or will
    /// become) Ready, and when each poll arrived. Benchmarks compare these with what the
    /// client saw, to know its detection latency exactly.
    public var timelines: [String: TaskTimeline] {
        tasks.mapValues { task in
            TaskTimeline(acceptedAt: task.createdAt, readyAt: task.readyAt, polls: task.pollTimes, cluster: task.cluster)
        }
    }

    /// Replaces the fault knobs while running.
    public func setFaults(_ faults: Faults) { options.faults = faults }

    /// Holds the answers to submissions (each task made and charged, its answer not sent)
    /// until `releaseSubmissions`: requests that stay out exactly as long as a test needs.
    public func holdSubmissions() { holdingSubmissions = true }

    /// Sends every held answer, and stops holding.
    public func releaseSubmissions() {
        holdingSubmissions = false
        let waiting = heldSubmissions
        heldSubmissions = []
        for continuation in waiting { continuation.resume() }
    }

    /// Returns when `request`'s answer may be sent (at once, unless it is a held submission).
    func answerWhenReleased(_ request: SimRequest) async {
        guard holdingSubmissions, request.method == "POST", request.listener.frontDoor != nil, !request.path.hasPrefix("/__sim/") else { return }
        await withCheckedContinuation { heldSubmissions.append($0) }
    }

    private var holdingSubmissions = false
    private var heldSubmissions: [CheckedContinuation<Void, Never>] = []

    /// The same controls over HTTP, on the API listener (loopback only, no key):
    /// `GET /__sim/requests`, `GET /__sim/tasks` (each task's accepted and Ready times and its
    /// polls, in seconds since the simulator started), `GET /__sim/webhooks`, `POST /__sim/keys {"key", "credits"?}`,
    /// `POST /__sim/faults {"spec"}`.
    private func control(_ request: SimRequest) -> SimResponse {
        let body = (try? JSONDecoder().decode(JSONValue.self, from: Data(request.body))) ?? .null
        switch (request.method, request.path) {
        case ("GET", "/__sim/requests"):
            return .json(200, .array(log.map { entry in
                .object(["listener": .string(entry.listener.rawValue), "host": .string(entry.listener.host), "method": .string(entry.method),
                         "path": .string(entry.path), "carried_key": .bool(entry.carriedKey)])
            }))
        case ("GET", "/__sim/tasks"):
            func seconds(_ duration: Duration) -> JSONValue { .number(duration.seconds) }
            return .json(200, .array(timelines.sorted { $0.value.acceptedAt < $1.value.acceptedAt }.map { id, timeline in
                .object(["id": .string(id), "cluster": .string(timeline.cluster.host), "accepted_at": seconds(timeline.acceptedAt),
                         "ready_at": timeline.readyAt.map(seconds) ?? .null, "polls": .array(timeline.polls.map(seconds))])
            }))
        case ("GET", "/__sim/webhooks"):
            return .json(200, .array(webhookLog.map { attempt in
                .object(["task_id": .string(attempt.taskID), "attempt": .number(Double(attempt.attempt)),
                         "status": attempt.status.map { .number(Double($0)) } ?? .null,
                         "note": attempt.note.map(JSONValue.string) ?? .null])
            }))
        case ("POST", "/__sim/keys"):
            guard let key = body["key"]?.stringValue, !key.isEmpty else {
                return .detail(400, "send {\"key\": \"…\", \"credits\": 100}")
            }
            let credits = body["credits"]?.doubleValue.flatMap(Credits.init(serverValue:)) ?? options.initialCredits
            addKey(key, credits: credits)
            return .json(200, .object(["key": .string(key), "credits": .number(credits.doubleValue)]))
        case ("POST", "/__sim/faults"):
            do {
                options.faults = try Faults(spec: body["spec"]?.stringValue ?? "")
                return .json(200, .object(["ok": .bool(true)]))
            } catch {
                return .detail(400, error.message)
            }
        default:
            return .detail(404, "Not Found")
        }
    }

    // MARK: handling

    public func handle(_ request: SimRequest) async -> SimResponse {
        var response = await route(request)
        response.delay += request.listener == .delivery ? options.faults.slowDelivery : options.faults.latency
        return response
    }

    private func route(_ request: SimRequest) async -> SimResponse {
        var entry = LoggedRequest(listener: request.listener, method: request.method, path: request.path,
                                  carriedKey: request.header("x-key") != nil)
        if request.method == "POST", !request.path.hasPrefix("/__sim/") { entry.body = request.body }
        defer {
            log.append(entry)
            if entry.method == "POST", !submissionWaiters.isEmpty {
                submissionWaiters.resume(reached: submissionCount, with: true)
            }
            if entry.listener.isCluster, !pollWaiters.isEmpty {
                pollWaiters.resume(reached: pollCount, with: true)
            }
        }
        let frontDoor = request.listener.frontDoor
        switch (request.listener, request.method) {
        case (.api, _) where request.path.hasPrefix("/__sim/"):
            return control(request)
        case (_, "POST") where frontDoor != nil && request.path.hasPrefix("/v1/"):
            let path = String(request.path.dropFirst(4))
            guard let model = Catalog.model(path: path), let frontDoor else { return .detail(404, "Not Found") }
            if let failure = authenticate(request) { return failure }
            guard let cluster = clusterFor(frontDoor) else {
                let retryAfter = options.faults.retryAfter.map { [HeaderField("Retry-After", String($0))] } ?? []
                return .detail(503, "The \(frontDoor.rawValue.uppercased()) region is unavailable", headers: retryAfter)
            }
            let (response, prompt) = submit(request, model: model, cluster: cluster)
            entry.prompt = prompt
            return response
        case (_, "GET") where frontDoor != nil && request.path == "/v1/credits":
            if let failure = authenticate(request) { return failure }
            let key = request.header("x-key") ?? ""
            return .json(200, .object(["credits": .number((balances[key] ?? .zero).doubleValue)]))
        case (_, "GET") where frontDoor != nil && request.path == "/v1/get_result":
            if let failure = authenticate(request) { return failure }
            // Every task lives on a cluster host; the front doors do not know it.
            return .detail(404, "Not Found")
        case (let cluster, "GET") where cluster.isCluster && request.path == "/v1/get_result":
            if let region = cluster.clusterRegion, options.faults.downRegions.contains(region) {
                return .detail(503, "The \(region.rawValue.uppercased()) cluster is unavailable")
            }
            if let failure = authenticate(request) { return failure }
            return poll(request, on: cluster)
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

    /// The cluster a front door gives a new task to: its region's, or for the global door the
    /// next one that is up, in turn; nil when none is up.
    private func clusterFor(_ frontDoor: Region) -> Listener? {
        let up = [Listener.cluster, .clusterUS].filter { cluster in
            cluster.clusterRegion.map { !options.faults.downRegions.contains($0) } ?? false
        }
        if let own = Listener.cluster(in: frontDoor) { return up.contains(own) ? own : nil }
        guard !up.isEmpty else { return nil }
        defer { globalTurn += 1 }
        return up[globalTurn % up.count]
    }

    private func submit(_ request: SimRequest, model catalogModel: Model, cluster: Listener) -> (SimResponse, String?) {
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
        let active = tasks.values.filter { $0.key == key && $0.isActive(at: current) }
        let retryAfter = options.faults.retryAfter.map { [HeaderField("Retry-After", String($0))] } ?? []
        if active.count >= options.accountLimit
            || active.filter({ $0.model.id == model.id }).count >= model.concurrencyLimit
            || chance(options.faults.submit429Rate)
        {
            return (.detail(429, "Too many active tasks", headers: retryAfter), prompt)
        }

        // Fill: a mask of another size than the image is refused, as BFL does.
        var fill: FillSource?
        if model.sizeRule == .sameAsImage, let image = Self.imageData(object["image"]), let imageSize = ImageHeader.size(of: image) {
            let mask = Self.imageData(object["mask"])
            if let mask, let maskSize = ImageHeader.size(of: mask), maskSize != imageSize {
                return (schemaError([SchemaIssue(loc: ["body", "mask"], msg: "mask size \(maskSize.width)x\(maskSize.height) does not match image size \(imageSize.width)x\(imageSize.height)", type: "value_error")]), prompt)
            }
            fill = FillSource(image: image, mask: mask)
        }

        // Price and balance.
        let inputSizes = inputSizes(object, model: model)
        let size = outputSize(object, model: model, inputSizes: inputSizes)
        let cost = PriceList.charge(modelID: model.id, output: size, inputs: inputSizes) ?? .zero
        let balance = balances[key] ?? .zero
        guard cost <= balance else { return (.detail(402, "Insufficient credits"), prompt) }
        balances[key] = balance - cost

        let id = UUID().uuidString.lowercased()
        let seed = object["seed"]?.doubleValue.flatMap { Int(exactly: $0.rounded(.towardZero)) } ?? Int(rng.next() % 4_294_967_295)
        let format = object["output_format"]?.stringValue.flatMap(OutputFormat.init(rawValue:)) ?? model.defaultOutputFormat
        let jitter = 0.8 + 0.4 * Double(rng.next() % 10_000) / 10_000
        let serviceTime = model.typicalDuration * (options.timeFactor * jitter)
        var hex = ""
        for _ in 0..<2 { hex += String(format: "%016llx", rng.next()) }
        let webhook = object["webhook_url"]?.stringValue.map {
            WebhookTarget(url: $0, secret: object["webhook_secret"]?.stringValue)
        }
        let task = SimTask(
            id: id, key: key, model: model, prompt: prompt, seed: seed, size: size, format: format,
            cost: cost, createdAt: current, serviceTime: serviceTime,
            outcome: Outcome(prompt: prompt), sampleHex: hex, webhook: webhook, cluster: cluster, fill: fill)
        tasks[id] = task
        if webhook != nil, !options.faults.webhookLost, let finishesAt = task.finishesAt {
            let due = finishesAt + options.faults.webhookLate * options.timeFactor
            scheduleWebhook(taskID: id, at: due, attempt: 0)
            // A replayed call: the same delivery again, in the same dispatch.
            if options.faults.webhookReplay { scheduleWebhook(taskID: id, at: due, attempt: 0) }
        }

        var reply: [String: JSONValue] = ["id": .string(id)]
        let pollingURL = JSONValue.string("\(baseURLs[cluster] ?? "http://127.0.0.1")/v1/get_result?id=\(id)")
        if let webhook = object["webhook_url"]?.stringValue {
            reply["status"] = .string("Pending")
            reply["webhook_url"] = .string(webhook)
            if options.faults.webhookPollingURL { reply["polling_url"] = pollingURL }
        } else {
            reply["polling_url"] = pollingURL
        }
        if model.sizeRule == .flux2 {
            reply["cost"] = .number(cost.doubleValue)
            let inputPixels = inputSizes.reduce(0) { $0 + $1.pixels }
            reply["input_mp"] = .number(Self.megapixels(inputPixels))
            reply["output_mp"] = .number(Self.megapixels(size.pixels))
        }
        var response = SimResponse.json(200, .object(reply))
        // A reset after the task exists and is charged: the client must not resend.
        if chance(options.faults.resetRate) { response.dropConnection = true }
        return (response, prompt)
    }

    /// The bytes of an image sent as base64 (nil for a URL, or what is not base64).
    static func imageData(_ value: JSONValue?) -> [UInt8]? {
        guard let text = value?.stringValue, !text.hasPrefix("http"), let data = Data(base64Encoded: text) else { return nil }
        return Array(data)
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
        let width = object["width"]?.doubleValue.flatMap { Int(exactly: $0.rounded(.towardZero)) }
        let height = object["height"]?.doubleValue.flatMap { Int(exactly: $0.rounded(.towardZero)) }
        switch model.sizeRule {
        case .flux2:
            // The server rounds odd sides down (fluxdeck snaps them before sending).
            if let width, let height, let limits = model.sizeRule.sideLimits {
                return PixelSize(width: max(limits.sides.lowerBound, limits.snapped(width)), height: max(limits.sides.lowerBound, limits.snapped(height)))
            }
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

    private func poll(_ request: SimRequest, on cluster: Listener) -> SimResponse {
        let id = request.query["id"] ?? ""
        // A task is known only on the cluster that holds it: elsewhere, 404 as BFL answers.
        if let task = tasks[id], task.cluster != cluster {
            misdirectedPolls += 1
            return .detail(404, "Not Found")
        }
        if chance(options.faults.poll5xxRate) {
            let status = [500, 502, 503][Int(rng.next() % 3)]
            let after = options.faults.retryAfter.map { [HeaderField("Retry-After", String($0))] } ?? []
            return .detail(status, "Simulated server fault", headers: status == 503 ? after : [])
        }
        if chance(options.faults.resetRate) || chance(options.faults.pollResetRate) {
            var dropped = SimResponse.detail(500, "reset")
            dropped.dropConnection = true
            return dropped
        }
        guard var task = tasks[id], task.key == (request.header("x-key") ?? "") else {
            return .json(200, .object(["id": .string(id), "status": .string("Task not found")]))
        }
        task.polls += 1
        let current = now()
        task.pollTimes.append(current)
        let phase = task.phase(at: current, reasoningPhase: options.reasoningPhase, retention: options.retention)
        if phase.isFailure { refundIfAsked(&task) }
        tasks[id] = task
        var reply: [String: JSONValue] = ["id": .string(id), "result": .null, "progress": .null, "details": .null, "preview": .null]
        let settled = JSONValue.number(task.cost.doubleValue)
        switch phase {
        case .gone:
            return .json(200, .object(["id": .string(id), "status": .string("Task not found")]))
        case .pending:
            reply["status"] = .string("Pending")
        case .paused:
            reply["status"] = .string("Paused")
        case .running(let status, let progress):
            reply["status"] = .string(status.wireValue)
            reply["progress"] = .number(progress)
        case .failed(let status, let message):
            reply["status"] = .string(status.wireValue)
            reply["details"] = status == .error
                ? .object(["error": .string(message)])
                : .object(["Moderation Reasons": .array([.string(message)])])
            reply["cost"] = settled
        case .failedAs422(let message):
            reply["status"] = .string("Error")
            reply["details"] = .object(["error": .string(message)])
            return .json(422, .object(reply))
        case .ready:
            reply["status"] = .string("Ready")
            reply["progress"] = .number(1)
            reply["result"] = result(of: task)
            reply["cost"] = settled
        }
        return .json(200, .object(reply))
    }

    /// The `result` object of a ready task, with its signed sample URL.
    func result(of task: SimTask) -> JSONValue {
        let sample = samples[task.sampleHex] ?? issueSample(for: task)
        let ext = task.format.rawValue
        let se = sample.expiry.replacingOccurrences(of: ":", with: "%3A")
        let query = "se=\(se)&sp=r&sv=2024-11-04&sr=b&rsct=image/\(ext)&sig=\(sample.signature)"
        let start = task.createdAt.seconds
        let duration = task.serviceTime.seconds
        return .object([
            "sample": .string("\(deliveryBase)/results/\(task.sampleHex)/sample.\(ext)?\(query)"),
            "seed": .number(Double(task.seed)), "prompt": .string(task.prompt),
            "start_time": .number(start), "end_time": .number(start + duration), "duration": .number(duration),
        ])
    }

    /// Gives the charge back once, when the options ask for refunds of failed tasks.
    func refundIfAsked(_ task: inout SimTask) {
        guard options.refundOnFailure, !task.refunded else { return }
        task.refunded = true
        balances[task.key] = (balances[task.key] ?? .zero) + task.cost
    }

    /// Signs the task's result URL; it expires `deliveryTTL` after the task became ready.
    func issueSample(for task: SimTask) -> Sample {
        let expiresAt = task.createdAt + task.serviceTime + options.deliveryTTL
        let expiry = ISO8601DateFormatter().string(from: wallStart.addingTimeInterval(expiresAt.seconds))
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
            let (model, prompt, seed, size, format, fill) = (task.model.id, task.prompt, task.seed, task.size, task.format, task.fill)
            job = Task.detached {
                var image = SampleRenderer.render(model: model, prompt: prompt, seed: seed, width: size.width, height: size.height)
                if let fill { image = SampleRenderer.filled(image, from: fill) }
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

    func chance(_ rate: Double) -> Bool {
        rate > 0 && Double(rng.next() % 1_000_000) / 1_000_000 < rate
    }

    static func megapixels(_ pixels: Int) -> Double {
        (Double(pixels) / 1_048_576 * 100).rounded() / 100
    }
}
