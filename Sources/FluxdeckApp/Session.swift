public import BFL
public import BFLSimulator
public import Foundation
public import Jobs
import Synchronization
import TerminalCore
public import WebhookListener
#if canImport(Glibc)
import Glibc
#endif

/// What every command that talks to the API is told (`ServiceOptions` in the executable
/// parses it from the command line).
public struct ServiceSettings: Sendable {
    /// The BFL region (default global).
    public var region: Region?
    /// A custom API base URL (a proxy, or a running `fluxdeck simulate`).
    public var endpoint: String?
    /// Run against an in-process offline simulator.
    public var simulator = false
    /// Jobs active at once on the account.
    public var maxActive: Int?
    /// The service-time scale of the in-process simulator.
    public var simulatorTimeScale: Double = 1
    /// The configuration file (default `$XDG_CONFIG_HOME/fluxdeck/config.toml`).
    public var config: String?
    /// Webhook mode: the receiver's address, its public URL, and how long past a model's slow
    /// end a job waits for its call.
    public var webhookListen: String?
    public var webhookURL: String?
    public var webhookMargin: Double?

    public init() {}

    /// The configuration file's settings (a missing file is an empty configuration).
    public func configuration(environment: [String: String]) throws -> Config {
        try Config.load(path: config ?? Config.defaultPath(environment: environment))
    }
}

/// Webhook mode as asked for: the receiver's address, the public URL that reaches it (nil: the
/// receiver itself, on the simulator or a loopback endpoint), a fixed secret (nil: a random
/// one), and how long past a model's slow end a job waits for its call (nil: the default).
public struct WebhookSetup {
    public var listen: String
    public var url: String?
    public var secret: String?
    public var margin: Duration?
}

/// The engine, once there is one (the webhook receiver starts before it).
public actor EngineBox {
    public private(set) var engine: JobEngine?
    public init() {}
    public func set(_ engine: JobEngine) { self.engine = engine }
}

/// What a command needs to talk to BFL and keep jobs: the client, the ledger, the engine, and
/// an in-process simulator when asked for. `close()` releases all of it.
public struct Session {
    public let client: BFLClient
    public let engine: JobEngine
    public let store: JobStore
    public let endpointLabel: String
    public let transport: HTTPClientTransport
    public let simulator: SimulatorServer?
    /// The webhook receiver, in webhook mode.
    public let webhooks: WebhookServer?
    /// Where the key came from: `BFL_API_KEY` or `./.env` (nil on the built-in simulator).
    public var keySource: String?

    /// Builds a session, or explains in one line what is missing.
    /// `settings`: the configuration when the caller has read it already (else it is read here,
    /// and only for a custom endpoint's `[endpoint.regions]`).
    /// `log` hears what the webhook receiver has to say (refused calls): stderr for a headless
    /// command; the studio, whose screen curses owns, sends it to its log file.
    public static func open(_ options: ServiceSettings, outputDirectory: String? = nil, simulatorWithoutKey: Bool = false, settings: Config? = nil,
                     environment: [String: String] = ProcessInfo.processInfo.environment,
                     log: @escaping @Sendable (String) -> Void = { Output.error("fluxdeck: " + $0) }) async throws -> Session {
        // The configuration (its [webhook] table; a custom endpoint's regions): a bad file is
        // named here, before anything starts.
        let settings = try settings ?? options.configuration(environment: environment)
        // Webhook mode, from the options or else the configuration.
        var margin: Duration?
        if let seconds = options.webhookMargin {
            guard (0...3600).contains(seconds), let duration = WireNumber.duration(seconds: seconds, clampedTo: 0...3600) else {
                throw CommandFailure.usage("--webhook-margin takes seconds from 0 to 3600")
            }
            margin = duration
        }
        let webhook = (options.webhookListen ?? settings.webhookListen).map { listen in
            WebhookSetup(listen: listen, url: options.webhookURL ?? settings.webhookURL, secret: settings.webhookSecret, margin: margin)
        }
        let noEndpoint = options.endpoint == nil && (environment["BFL_API_ENDPOINT"] ?? "").isEmpty
        // Read once (a `.env` warning is said once): not at all when the simulator is asked for.
        let found = options.simulator ? nil : Self.findKey(environment: environment)
        let useSimulator = options.simulator || (simulatorWithoutKey && noEndpoint && found == nil)
        if useSimulator {
            var simOptions = SimulatorOptions()
            // Fresh randomness each run: picked seeds (and so images) differ between sessions.
            simOptions.randomSeed = UInt64.random(in: 1...UInt64.max)
            guard options.simulatorTimeScale > 0 else { throw CommandFailure.usage("--sim-time-scale must be above 0") }
            simOptions.timeFactor = options.simulatorTimeScale
            let server: SimulatorServer
            do { server = try await SimulatorServer.start(options: simOptions) } catch {
                throw CommandFailure(code: .network, message: "the simulator could not start: \(error)")
            }
            do {
                guard let endpoint = Endpoint(customURL: server.apiURL) else {
                    throw CommandFailure(code: .network, message: "the simulator gave an unusable URL \(server.apiURL)")
                }
                // The simulator's three front doors: the region row is live on it.
                let regions = try? RegionMap(texts: server.regionURLs)
                let session = try await make(endpoint: endpoint, key: APIKey(server.apiKey), regions: regions,
                                             clusters: server.clusterURLs.compactMap(ClusterHosts.url), simulator: server,
                                             label: SimulatorLabel.current, maxActive: options.maxActive,
                                             outputDirectory: outputDirectory, environment: environment,
                                             webhook: webhook, log: log)
                // A simulator that stopped took its tasks with it; one still running (another
                // fluxdeck) keeps its own.
                _ = try? await session.engine.retireSentJobs(
                    where: SimulatorLabel.isStopped, reason: "the built-in simulator that ran this job stopped with its session")
                return session
            } catch {
                await server.stop()
                throw error
            }
        }
        let endpoint: Endpoint
        let key = found?.key
        if let custom = options.endpoint ?? environment["BFL_API_ENDPOINT"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let parsed = Endpoint(customURL: custom) else {
                if let url = URL(string: custom), url.user != nil || url.password != nil {
                    throw CommandFailure.usage("the endpoint URL carries credentials (user:password@), which would travel with every request; use the key (BFL_API_KEY) instead")
                }
                throw CommandFailure.usage("the endpoint \"\(custom)\" is not an http(s) URL")
            }
            endpoint = parsed
        } else {
            endpoint = .region(options.region ?? .global)
        }
        if let problem = key?.headerProblem {
            throw CommandFailure.usage(problem + (found.map { " (it comes from \($0.source))" } ?? ""))
        }
        guard key != nil else {
            throw CommandFailure.usage(
                "no BFL_API_KEY is set: export BFL_API_KEY=<your key> (or put it in a .env file), or add --simulator to try the offline simulator")
        }
        let label: String = switch endpoint {
        case .region(let region): region.rawValue
        case .custom(let url): url.absoluteString
        }
        // A custom endpoint has regions when the configuration declares its front doors.
        var regions: RegionMap?
        var clusters: [URL]?
        if case .custom = endpoint {
            let declared = settings.endpointRegions
            regions = declared.isEmpty ? nil : declared
            clusters = settings.endpointClusters.isEmpty ? nil : settings.endpointClusters
        }
        var session = try await make(endpoint: endpoint, key: key, regions: regions, clusters: clusters, simulator: nil, label: label, maxActive: options.maxActive,
                                     outputDirectory: outputDirectory, environment: environment,
                                     webhook: webhook, log: log)
        session.keySource = found?.source
        return session
    }

    private static func make(endpoint: Endpoint, key: APIKey?, regions: RegionMap? = nil, clusters: [URL]? = nil, simulator: SimulatorServer?, label: String,
                             maxActive: Int?, outputDirectory: String?, environment: [String: String],
                             webhook: WebhookSetup?, log: @escaping @Sendable (String) -> Void) async throws -> Session {
        if let maxActive, !(1...24).contains(maxActive) {
            throw CommandFailure.usage("--max-active must be between 1 and 24 (got \(maxActive))")
        }
        // Everything that can fail comes before the HTTP client, which must be shut down once made.
        let store: JobStore
        do { store = try JobStore(path: JobStore.defaultPath(environment: environment)) } catch {
            throw CommandFailure(code: .usage, message: error.message)
        }
        let directory = outputDirectory.map { URL(fileURLWithPath: LocalImages.expandingHome($0)) }
            ?? environment["FLUXDECK_OUTPUT_DIR"].map { URL(fileURLWithPath: $0) }
            ?? OutputLibrary.defaultDirectory(environment: environment)
        var configuration = EngineConfiguration(endpointLabel: label)
        if let maxActive { configuration.accountLimit = maxActive }
        // A deleted image (paid for) goes to the freedesktop Trash, from where it can be restored.
        configuration.trash = Trash.home(environment: environment)
        // Webhook mode: the receiver starts first (its port may be chosen by the system), and
        // hands calls to the engine once there is one.
        var webhooks: WebhookServer?
        let engineBox = EngineBox()
        if let webhook {
            let listen = webhook.listen
            let (host, port) = try Self.hostAndPort(listen)
            let loopback = simulator != nil || endpoint.baseURL.host.map(KeyPolicy.isLoopback) == true
            guard webhook.url != nil || loopback else {
                throw CommandFailure.usage("--webhook-listen needs --webhook-url: the public URL that forwards to \(listen) (BFL cannot call a local address)")
            }
            // Every interface: its own address is no URL anybody can call, and anyone who
            // reaches this machine can knock (the secret is still checked).
            if ["0.0.0.0", "::", "*"].contains(host) {
                guard webhook.url != nil else {
                    throw CommandFailure.usage("--webhook-listen \(listen) listens on every interface: give --webhook-url, the address BFL should call")
                }
                log("webhook: listening on every interface (\(listen)); anyone who reaches this machine can call it, and calls without the secret are refused")
            }
            // The secret travels with every call: never in clear beyond this machine.
            if let url = webhook.url {
                guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "https" || scheme == "http",
                      parsed.host?.isEmpty == false else {
                    throw CommandFailure.usage("--webhook-url must be an absolute https URL (got \"\(TerminalText.sanitize(url))\")")
                }
                guard KeyPolicy.isSecureTransport(parsed) else {
                    throw CommandFailure.usage("--webhook-url \(TerminalText.sanitize(url)) is plain http to another machine: BFL would send the webhook secret in clear; use https (a tunnel gives one)")
                }
            }
            let secret = webhook.secret ?? WebhookGate.randomSecret()
            do {
                let gate = try WebhookGate(path: "/fluxdeck/webhook", secret: secret, isKnown: { id in await engineBox.engine?.follows(taskID: id) ?? false })
                webhooks = try await WebhookServer.start(host: host, port: port, gate: gate, log: log,
                                                         deliver: { event in await engineBox.engine?.webhookArrived(event) })
            } catch {
                throw CommandFailure.usage(error.message)
            }
            configuration.webhook = (webhook.url ?? webhooks?.url ?? "", secret)
            if let margin = webhook.margin { configuration.webhookMargin = margin }
        }
        let transport = HTTPClientTransport()
        let client = BFLClient(configuration: BFLClient.Configuration(endpoint: endpoint, apiKey: key, regions: regions, clusters: clusters), transport: transport)
        let engine = JobEngine(client: client, store: store, library: OutputLibrary(directory: directory),
                               configuration: configuration)
        await engineBox.set(engine)
        // Keep this runner's claim on its jobs alive (another fluxdeck takes them over only
        // when this process is gone).
        Task { await engine.startRunnerDuties(adopt: false, watchOthers: false) }
        return Session(client: client, engine: engine, store: store, endpointLabel: label, transport: transport,
                       simulator: simulator, webhooks: webhooks)
    }

    /// Refuses a region the endpoint cannot keep: users pick EU or US for where their data
    /// goes, so a job is never sent elsewhere in its place. Nil `asked` asks nothing.
    public func check(region asked: Region?) throws {
        guard let asked else { return }
        let available = client.configuration.regions.regions
        guard !available.contains(asked) else { return }
        let has = available.isEmpty ? "no regions of its own" : "only " + available.map(\.rawValue).joined(separator: ", ")
        throw CommandFailure.usage(
            "region \(asked.rawValue) was asked for, but \(endpointLabel) has \(has); nothing was sent. "
                + "Map its front door in config.toml ([endpoint.regions] \(asked.rawValue) = \"https://…\"), or leave the region out")
    }

    /// `HOST:PORT` (`[::1]:PORT` for IPv6).
    public static func hostAndPort(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            throw CommandFailure.usage("--webhook-listen must be HOST:PORT, e.g. 127.0.0.1:0 (got \"\(TerminalText.sanitize(text))\")")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw CommandFailure.usage("--webhook-listen must name a host, e.g. 127.0.0.1:0") }
        return (host, port)
    }

    /// `BFL_API_KEY` from the environment, else from `.env` in the current folder, and where it
    /// came from (`BFL_API_KEY` or `./.env`), so the user knows which account pays. A `.env` is
    /// read only when it is a regular file of this user's, not writable by others, and at most
    /// 64 KB; otherwise it is ignored with one warning.
    public static func findKey(environment: [String: String]) -> (key: APIKey, source: String)? {
        if let value = environment["BFL_API_KEY"], let key = APIKey(value) { return (key, "BFL_API_KEY") }
        guard let text = readDotEnv(".env", warn: { Output.error("fluxdeck: \($0)") }) else { return nil }
        for line in text.split(whereSeparator: \.isNewline) {
            var entry = line.trimmingCharacters(in: .whitespaces)
            if entry.hasPrefix("export ") { entry = String(entry.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard entry.hasPrefix("BFL_API_KEY=") else { continue }
            var value = String(entry.dropFirst("BFL_API_KEY=".count)).trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == value.last, first == "\"" || first == "'" {
                value = String(value.dropFirst().dropLast())
            }
            return APIKey(value).map { ($0, "./.env") }
        }
        return nil
    }

    /// The text of `.env` when it is safe to trust; nil (with a warning when one exists but is
    /// not) otherwise. Opened without following links and without blocking (a FIFO cannot hang
    /// start-up), then checked through the descriptor.
    public static func readDotEnv(_ path: String, warn: (String) -> Void) -> String? {
        let fd = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ELOOP { warn("ignoring \(path): it is a symbolic link") }
            return nil
        }
        defer { Glibc.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        let limit = 65_536
        if (info.st_mode & S_IFMT) != S_IFREG {
            warn("ignoring \(path): not a regular file")
            return nil
        }
        if info.st_uid != geteuid() {
            warn("ignoring \(path): it belongs to another user")
            return nil
        }
        if info.st_mode & 0o022 != 0 {
            warn("ignoring \(path): others may write to it (chmod go-w \(path))")
            return nil
        }
        if info.st_size > limit {
            warn("ignoring \(path): larger than 64 KB")
            return nil
        }
        var bytes = [UInt8](repeating: 0, count: limit)
        let count = Glibc.read(fd, &bytes, limit)
        guard count >= 0 else { return nil }
        return String(decoding: bytes[..<count], as: UTF8.self)
    }

    /// Stops the engine, then the HTTP client and the simulator. The work that was paid for is
    /// already in the ledger, so closing never holds the process: each step has `limit`, and a
    /// step that overruns is named on standard error and left behind (the process is ending).
    public func close(limit: Duration = .seconds(5)) async {
        await engine.shutdown()
        if let webhooks, await !finishes(within: limit, { await webhooks.stop() }) {
            Output.error("fluxdeck: the webhook receiver did not stop within \(limit); leaving it")
        }
        let transport = transport
        if await !finishes(within: limit, { try? await transport.shutdown() }) {
            Output.error("fluxdeck: the HTTP client did not close within \(limit); leaving it")
        }
        if let simulator, await !finishes(within: limit, { await simulator.stop() }) {
            Output.error("fluxdeck: the simulator did not stop within \(limit); leaving it")
        }
    }

    /// Runs `operation` in its own task and waits for it at most `limit`; true when it finished.
    private func finishes(within limit: Duration, _ operation: @escaping @Sendable () async -> Void) async -> Bool {
        let once = Mutex(false)
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let resume: @Sendable (Bool) -> Void = { value in
                if once.withLock({ done in defer { done = true }; return !done }) { continuation.resume(returning: value) }
            }
            let timer = Task {
                do { try await Task.sleep(for: limit) } catch { return }
                resume(false)
            }
            Task {
                await operation()
                timer.cancel()
                resume(true)
            }
        }
    }

    /// Runs `body` with an open session and always closes it.
    public static func with<T>(_ options: ServiceSettings, outputDirectory: String? = nil,
                        _ body: (Session) async throws -> T) async throws -> T {
        let session = try await open(options, outputDirectory: outputDirectory)
        do {
            let value = try await body(session)
            await session.close()
            return value
        } catch {
            await session.close()
            throw error
        }
    }
}

extension BFLError {
    /// The exit code of a command that failed with this error.
    public var exitCode: Output.Code {
        switch self {
        case .network: .network
        case .invalidRequest, .insecureEndpoint: .usage
        case .missingKey, .malformedKey, .invalidKey, .permissionDenied, .insufficientCredits, .validation,
             .notFound, .rateLimited, .unexpectedStatus:
            .apiRefused
        default: .jobFailed
        }
    }
}

/// Ledger labels of jobs run on an in-process simulator: `simulator pid N`, so a later run can
/// tell whether the process (and so the simulator) that ran them is still alive.
public enum SimulatorLabel {
    public static var current: String { "simulator pid \(getpid())" }

    /// True for simulator labels whose process has stopped (older labels carry no pid).
    @Sendable public static func isStopped(_ label: String) -> Bool {
        guard label.hasPrefix("simulator") else { return false }
        guard let pid = Int32(label.dropFirst("simulator pid ".count)), label.hasPrefix("simulator pid ") else { return true }
        if pid == getpid() { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}
