public import Foundation

/// A finished download.
public struct DownloadResult: Sendable, Hashable {
    public var file: URL
    public var byteCount: Int
    public var contentType: String?
}

/// Talks to the BFL API: submit, poll, credits and result download, with the contract's retry
/// rules. It holds no mutable state and can be shared freely.
public struct BFLClient: Sendable {
    public struct Configuration: Sendable {
        public var endpoint: Endpoint
        public var apiKey: APIKey?
        public var userAgent = "fluxdeck/0.1"
        /// Deadline of one API request (submit, poll, credits).
        public var requestTimeout: Duration = .seconds(30)
        /// Deadline of a download, for its head and then for its body (the transport's pace
        /// ends a body dripped slowly long before).
        public var downloadTimeout: Duration = .seconds(300)
        /// Largest image accepted.
        public var maxDownloadBytes = 64 * 1_048_576
        /// Largest JSON reply accepted.
        public var maxReplyBytes = 4 * 1_048_576
        public var retry = RetryPolicy()
        /// The region front doors: BFL's for a region endpoint; for a custom one, what the
        /// configuration (or the built-in simulator) declares, else none.
        public var regions: RegionMap
        /// The cluster hosts a task without a polling URL (a webhook submission's) is looked
        /// for on when the front door does not know it: BFL's for a region endpoint; for a
        /// custom one, what the configuration (or the built-in simulator) declares, else none.
        public var clusters: [URL]

        public init(endpoint: Endpoint, apiKey: APIKey?, regions: RegionMap? = nil, clusters: [URL]? = nil) {
            self.endpoint = endpoint
            self.apiKey = apiKey
            let isBFL = if case .region = endpoint { true } else { false }
            self.regions = regions ?? (isBFL ? .bfl : .none)
            self.clusters = clusters ?? (isBFL ? ClusterHosts.bfl : [])
        }
    }

    public let configuration: Configuration
    public let keyPolicy: KeyPolicy
    private let transport: any Transport
    private let clock: any Clock<Duration>

    public init(configuration: Configuration, transport: any Transport,
                clock: any Clock<Duration> = ContinuousClock()) {
        self.configuration = configuration
        self.keyPolicy = KeyPolicy(endpoint: configuration.endpoint, regions: configuration.regions,
                                   clusters: configuration.clusters)
        self.transport = transport
        self.clock = clock
    }

    /// The region a request asking for `asked` goes to: that one, where the endpoint has it;
    /// without one, the region whose front door is the endpoint itself (BFL's global door, a
    /// proxy's declared `global`), so a job says `global` wherever it went through it.
    public func region(for asked: Region?) -> Region? {
        if let asked, configuration.regions[asked] != nil { return asked }
        guard asked == nil else { return nil }
        let base = configuration.endpoint.baseURL.absoluteString
        return configuration.regions.regions.first { configuration.regions[$0]?.absoluteString == base }
    }

    /// Where a submit for `region` goes: the region's front door when the endpoint has one,
    /// else the endpoint.
    public func frontDoor(for region: Region?) -> URL {
        region.flatMap { configuration.regions[$0] } ?? configuration.endpoint.baseURL
    }

    // MARK: - API calls

    /// Submits a validated request. Resent only when nothing reached the server; a 429 throws
    /// `.rateLimited` at once (the engine decides how long to wait, and shows it); after a 5xx,
    /// a timeout or a lost connection it throws `.submitOutcomeUnknown`.
    public func submit(_ request: PreparedRequest) async throws -> SubmitResponse {
        let body: Data
        do { body = try request.jsonBody() } catch {
            throw BFLError.invalidRequest(["the request could not be encoded: \(error)"])
        }
        return try await submit(path: request.path, body: Array(body))
    }

    /// Submits a raw JSON body to `/v1/<path>`.
    /// `region` sends it to that region's front door when the endpoint has regions (BFL's, or a
    /// proxy's or the simulator's region map); without one, it goes to the endpoint.
    public func submit(path: String, body: [UInt8], region: Region? = nil) async throws -> SubmitResponse {
        let url = frontDoor(for: region).appendingPathComponent("v1/\(path)")
        let request = try apiRequest(.post, url, body: body)
        var retries = 0
        while true {
            let response: TransportResponse
            do {
                response = try await transport.execute(request)
            } catch let error as TransportError {
                if error.nothingWasSent, retries < configuration.retry.submitRetries {
                    retries += 1
                    try await clock.sleep(for: configuration.retry.delay(forRetry: retries, retryAfter: nil))
                    continue
                }
                if error.nothingWasSent { throw BFLError.network(error.message) }
                throw BFLError.submitOutcomeUnknown(error.message)
            }
            let bytes: [UInt8]
            do {
                bytes = try await response.collect(upTo: configuration.maxReplyBytes)
            } catch {
                // The server answered, so the task may exist even if the reply was cut short.
                throw BFLError.submitOutcomeUnknown("the reply was interrupted: \(error)")
            }
            if (500...599).contains(response.status) {
                let message = ErrorBody(bytes: bytes).message
                throw BFLError.submitOutcomeUnknown("HTTP \(response.status)" + (message.map { ": \($0)" } ?? ""))
            }
            guard response.status == 200 || response.status == 201 || response.status == 202 else {
                throw Self.error(status: response.status, body: bytes, headers: response.headers)
            }
            do {
                return try JSONDecoder().decode(SubmitResponse.self, from: Data(bytes))
            } catch {
                throw BFLError.submitOutcomeUnknown("the reply could not be read (\(Self.describe(error)))")
            }
        }
    }

    /// Polls a task through its `polling_url`, used verbatim (regional tasks live on cluster
    /// hosts). Retries 5xx, timeouts and connection failures with backoff, honouring Retry-After.
    public func poll(_ pollingURL: String) async throws -> PollResponse {
        let shown = TerminalText.capped(TerminalText.sanitize(pollingURL), bytes: 200)
        // A polling URL that is not an http(s) URL (file://, a bare path) can never be polled:
        // refused at once, not retried.
        guard let url = URL(string: pollingURL), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
              url.host?.isEmpty == false else {
            throw BFLError.refusedURL("the polling URL \"\(shown)\" (not an http(s) URL)")
        }
        guard keyPolicy.allowsPolling(url) else {
            throw BFLError.refusedURL("the polling URL \"\(shown)\" (not a BFL API host over https, nor the configured endpoint)")
        }
        let request = try apiRequest(.get, url, body: nil)
        let (status, headers, bytes) = try await getBuffered(request, retries: configuration.retry.pollRetries, allows: keyPolicy.allowsPolling)
        // A failed task can come back as HTTP 422 with a poll body.
        if status == 200 || (status == 422 && Self.looksLikePoll(bytes)) {
            do {
                return try JSONDecoder().decode(PollResponse.self, from: Data(bytes))
            } catch {
                throw BFLError.malformedResponse("poll reply: \(Self.describe(error))")
            }
        }
        throw Self.error(status: status, body: bytes, headers: headers)
    }

    /// The `get_result` URL on the configured endpoint, for jobs that only have an id (webhook
    /// submissions). Regional tasks may answer 404 there.
    public func rebuiltPollingURL(taskID: String) -> String {
        Self.pollingURL(taskID: taskID, on: configuration.endpoint.baseURL)
    }

    /// The `get_result` URL of `taskID` on the host at `base`.
    public static func pollingURL(taskID: String, on base: URL) -> String {
        let resource = base.appendingPathComponent("v1/get_result")
        var components = URLComponents(url: resource, resolvingAgainstBaseURL: false)
        components?.queryItems = [URLQueryItem(name: "id", value: taskID)]
        return components?.url?.absoluteString ?? resource.absoluteString + "?id=\(taskID)"
    }

    /// The account's credit balance.
    public func credits() async throws -> Credits {
        let request = try apiRequest(.get, configuration.endpoint.url(path: "v1/credits"), body: nil)
        let (status, headers, bytes) = try await getBuffered(request, retries: configuration.retry.getRetries, allows: keyPolicy.allowsPolling)
        guard status == 200 else { throw Self.error(status: status, body: bytes, headers: headers) }
        do {
            return try JSONDecoder().decode(CreditsResponse.self, from: Data(bytes)).credits
        } catch {
            throw BFLError.malformedResponse("credits reply: \(Self.describe(error))")
        }
    }

    /// Downloads a result sample to `destination`: never with the key, streamed to a temporary
    /// file beside it, size-capped, then renamed into place. 403/404 mean the URL expired.
    /// - Parameter durable: flush to disk before the rename; a caller that rewrites the file
    ///   at once can skip that.
    public func download(_ sampleURL: String, to destination: URL, durable: Bool = true) async throws -> DownloadResult {
        let writer = try AtomicFileWriter(destination: destination)
        do {
            let result = try await download(sampleURL, into: writer)
            try writer.commit(durable: durable)
            return result
        } catch {
            writer.discard()
            throw error
        }
    }

    /// Downloads a result sample into `writer` (not committed: the caller reads it back through
    /// the writer and decides), with the same rules: never the key, streamed with the size cap
    /// enforced as bytes arrive, 403/404 meaning the URL expired. An attempt cut off mid-way
    /// starts the file again.
    public func download(_ sampleURL: String, into writer: AtomicFileWriter) async throws -> DownloadResult {
        guard let url = URL(string: sampleURL), let scheme = url.scheme?.lowercased(),
              scheme == "https" || scheme == "http", url.host != nil
        else {
            throw BFLError.malformedResponse("the result URL \"\(TerminalText.sanitize(String(sampleURL.prefix(200))))\" is not a URL")
        }
        guard KeyPolicy.allowsDownload(url) else {
            throw BFLError.refusedURL("the result URL \"\(TerminalText.sanitize(String(sampleURL.prefix(200))))\" (plain http off this machine)")
        }
        // Deliberately no x-key: delivery hosts must never see it.
        let request = TransportRequest(
            method: .get, url: url,
            headers: [HeaderField("User-Agent", configuration.userAgent), HeaderField("Accept", "image/*")],
            timeout: configuration.downloadTimeout)
        return try await getWithRetries(request, retries: configuration.retry.getRetries, allows: KeyPolicy.allowsDownload) { response in
            switch response.status {
            case 200:
                return try await save(response, into: writer)
            case 403, 404, 410:
                await discard(response)
                throw BFLError.resultExpired
            default:
                let bytes = (try? await response.collect(upTo: configuration.maxReplyBytes)) ?? []
                throw Self.error(status: response.status, body: bytes, headers: response.headers)
            }
        }
    }

    // MARK: - Plumbing

    /// Builds a request to an API host, with the key when the policy allows it.
    private func apiRequest(_ method: HTTPMethod, _ url: URL, body: [UInt8]?) throws(BFLError) -> TransportRequest {
        guard let key = configuration.apiKey else { throw .missingKey }
        guard keyPolicy.endpointIsSecure else {
            throw .insecureEndpoint(configuration.endpoint.baseURL.absoluteString)
        }
        var headers = [HeaderField("User-Agent", configuration.userAgent), HeaderField("Accept", "application/json")]
        if keyPolicy.allowsKey(for: url) {
            headers.append(HeaderField("x-key", key.headerValue))
        }
        if body != nil { headers.append(HeaderField("Content-Type", "application/json")) }
        return TransportRequest(method: method, url: url, headers: headers, body: body,
                                timeout: configuration.requestTimeout)
    }

    /// A GET whose whole (JSON-sized) reply is read, with retries.
    private func getBuffered(_ request: TransportRequest, retries: Int, allows: (URL) -> Bool) async throws -> (Int, [HeaderField], [UInt8]) {
        try await getWithRetries(request, retries: retries, allows: allows, replyLimit: configuration.maxReplyBytes) { response in
            (response.status, response.headers, try await response.collect(upTo: configuration.maxReplyBytes))
        }
    }

    /// Sends a GET, following redirects (the key goes along only to the same host, and only if
    /// the policy allows it there) and retrying 5xx answers and transport failures with backoff.
    /// `read` consumes the final response inside the retry loop, so a body cut off mid-way is
    /// fetched again.
    private func getWithRetries<T: Sendable>(
        _ request: TransportRequest, retries maxRetries: Int, allows: (URL) -> Bool, replyLimit: Int? = nil,
        read: (TransportResponse) async throws -> T
    ) async throws -> T {
        var retries = 0
        var current = request
        var redirects = 0
        while true {
            do {
                let response = try await transport.execute(current)
                if let next = redirectTarget(response, from: current.url) {
                    await discard(response)
                    let shown = TerminalText.sanitize(String(next.absoluteString.prefix(200)))
                    // Each hop passes the rule the first URL passed; a loop ends at once.
                    guard redirects < Self.maxRedirects else {
                        throw BFLError.refusedURL("a redirect to \(shown) after \(Self.maxRedirects) already (a loop?)")
                    }
                    if current.url.scheme?.lowercased() == "https", next.scheme?.lowercased() != "https" {
                        throw BFLError.refusedURL("a redirect from https to \(shown)")
                    }
                    guard allows(next) else {
                        throw BFLError.refusedURL("a redirect to \(shown), which the first URL's rule does not allow")
                    }
                    redirects += 1
                    current = redirected(current, to: next)
                    continue
                }
                if Self.redirectStatuses.contains(response.status), let location = response.header("Location") {
                    // A redirect to something that is not an http(s) URL can never be followed.
                    await discard(response)
                    throw BFLError.refusedURL("a redirect to \"\(TerminalText.sanitize(String(location.prefix(200))))\" (not an http(s) URL)")
                }
                if (500...599).contains(response.status), retries < maxRetries {
                    retries += 1
                    let after = RetryPolicy.parseRetryAfter(response.header("Retry-After"))
                    await discard(response)
                    try await clock.sleep(for: configuration.retry.delay(forRetry: retries, retryAfter: after))
                    continue
                }
                return try await read(response)
            } catch let error as TransportError {
                if error.kind == .bodyTooLarge {
                    if let replyLimit { throw BFLError.replyTooLarge(limit: replyLimit) }
                    throw BFLError.malformedResponse(error.message)
                }
                guard retries < maxRetries else { throw BFLError.network(error.message) }
                retries += 1
                try await clock.sleep(for: configuration.retry.delay(forRetry: retries, retryAfter: nil))
            }
        }
    }

    /// Redirects followed for one request at most.
    static let maxRedirects = 5
    static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]

    private func redirectTarget(_ response: TransportResponse, from url: URL) -> URL? {
        guard Self.redirectStatuses.contains(response.status),
              let location = response.header("Location"),
              let target = URL(string: location, relativeTo: url)?.absoluteURL,
              let scheme = target.scheme?.lowercased(), scheme == "https" || scheme == "http"
        else { return nil }
        return target
    }

    /// The request re-aimed at a redirect target: the key stays only on the same host.
    private func redirected(_ request: TransportRequest, to target: URL) -> TransportRequest {
        var next = request
        next.url = target
        let sameHost = target.host?.lowercased() == request.url.host?.lowercased()
        if !(sameHost && keyPolicy.allowsKey(for: target)) {
            next.headers.removeAll { $0.name.caseInsensitiveCompare("x-key") == .orderedSame }
        }
        return next
    }

    private func save(_ response: TransportResponse, into writer: AtomicFileWriter) async throws -> DownloadResult {
        let limit = configuration.maxDownloadBytes
        if let length = response.header("Content-Length").flatMap(Int.init), length > limit {
            await discard(response)
            throw BFLError.downloadTooLarge(limit: limit)
        }
        try writer.reset()
        for try await chunk in response.body {
            guard writer.bytesWritten + chunk.count <= limit else { throw BFLError.downloadTooLarge(limit: limit) }
            try writer.write(chunk)
        }
        return DownloadResult(file: writer.destination, byteCount: writer.bytesWritten,
                              contentType: response.header("Content-Type"))
    }

    /// Consumes a body that is not needed so the connection can be reused.
    private func discard(_ response: TransportResponse) async {
        _ = try? await response.collect(upTo: 1_048_576)
    }

    private static func looksLikePoll(_ bytes: [UInt8]) -> Bool {
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) else { return false }
        return json["status"]?.stringValue != nil
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            context.debugDescription.isEmpty ? "missing \(key.stringValue)" : context.debugDescription
        case DecodingError.dataCorrupted: "not valid JSON"
        case DecodingError.typeMismatch(_, let context): "unexpected shape at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: String(describing: error)
        }
    }

    /// Maps an error status and body to the taxonomy.
    public static func error(status: Int, body: [UInt8], headers: [HeaderField]) -> BFLError {
        let parsed = ErrorBody(bytes: body)
        let message = parsed.message
        switch status {
        case 400:
            return .validation([message ?? "bad request"])
        case 401:
            return .invalidKey
        case 402:
            return .insufficientCredits(message)
        case 403:
            if let message, message.localizedCaseInsensitiveContains("invalid authentication") { return .invalidKey }
            if let message, message.trimmingCharacters(in: .whitespaces).caseInsensitiveCompare("Not authenticated") == .orderedSame {
                return .missingKey
            }
            return .permissionDenied(message)
        case 404:
            return .notFound(message)
        case 422:
            if let message, message.localizedCaseInsensitiveContains("api key format") { return .malformedKey }
            if !parsed.details.isEmpty { return .validation(parsed.details.map { TerminalText.sanitize($0.readable) }) }
            return .validation([message ?? "unprocessable request"])
        case 429:
            let after = RetryPolicy.parseRetryAfter(headers.value(for: "Retry-After"))
            return .rateLimited(retryAfter: after)
        case 500...599:
            return .serverError(status: status, message: message)
        default:
            return .unexpectedStatus(status: status, message: message)
        }
    }
}
