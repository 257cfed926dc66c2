public import BFL
import Foundation
import HTTPTypes
import Hummingbird
import HTTPListening
import Logging
import NIOCore

/// A request context that keeps the channel, so a simulated reset can close it.
struct SimContext: RequestContext {
    typealias Source = ApplicationRequestContextSource
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: Source) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// The simulator on loopback listeners, each an Hummingbird application bound to 127.0.0.1
/// only: three API front doors (global, EU, US), two cluster hosts (EU, US) and the delivery
/// host. Start it, use its URLs, stop it.
public final class SimulatorServer: Sendable {
    public let core: SimulatorCore
    /// Every listener's base URL.
    public let urls: [Listener: String]
    private let listeners: [RunningListener]
    private let webhooks: Task<Void, Never>

    /// The global front door (`api.bfl.ai`).
    public var apiURL: String { urls[.api] ?? "" }
    /// The EU cluster host (`api.eu2.bfl.ai`).
    public var clusterURL: String { urls[.cluster] ?? "" }
    public var deliveryURL: String { urls[.delivery] ?? "" }

    /// The cluster hosts' base URLs (`[endpoint] clusters`).
    public var clusterURLs: [String] {
        Listener.allCases.filter(\.isCluster).compactMap { urls[$0] }
    }

    /// The front door of each region, as a region map for a client (`[endpoint.regions]`).
    public var regionURLs: [Region: String] {
        var map: [Region: String] = [:]
        for listener in Listener.allCases { if let region = listener.frontDoor { map[region] = urls[listener] } }
        return map
    }

    private init(core: SimulatorCore, urls: [Listener: String], listeners: [RunningListener], webhooks: Task<Void, Never>) {
        self.core = core
        self.urls = urls
        self.listeners = listeners
        self.webhooks = webhooks
    }

    /// A key the simulator accepts.
    public var apiKey: String { core.acceptedKeys[0] }

    /// Starts the three listeners (on free ports unless the options name them).
    public static func start(options: SimulatorOptions = SimulatorOptions(),
                             now: (@Sendable () -> Duration)? = nil) async throws -> SimulatorServer {
        let core = SimulatorCore(options: options, now: now)
        var urls: [Listener: String] = [:]
        let plan: [(Listener, Int)] = [
            (.api, options.apiPort), (.cluster, options.clusterPort), (.delivery, options.deliveryPort),
            (.apiEU, options.apiEUPort), (.apiUS, options.apiUSPort), (.clusterUS, options.clusterUSPort),
        ]
        var listeners: [RunningListener] = []
        for (listener, port) in plan {
            guard let running = await RunningListener.start(host: "127.0.0.1", port: port, label: "fluxdeck.simulator.\(listener.rawValue)",
                                                            responder: responder(listener: listener, core: core)) else {
                for started in listeners { await started.stop() }
                throw SimulatorError(message: "the simulator could not listen on 127.0.0.1:\(port) (\(listener.rawValue)); is the port in use?")
            }
            listeners.append(running)
            urls[listener] = "http://127.0.0.1:\(running.port)"
        }
        await core.setBaseURLs(urls)
        let webhooks = Task { await dispatchWebhooks(core) }
        return SimulatorServer(core: core, urls: urls, listeners: listeners, webhooks: webhooks)
    }

    /// Stops every listener and waits until they are closed.
    public func stop() async {
        await core.releaseSubmissions()
        webhooks.cancel()
        for listener in listeners { await listener.stop() }
        await webhooks.value
    }

    /// Sends due webhooks until cancelled. While some are queued it checks back every 50 ms
    /// (the core's time may be a test's manual clock); otherwise it waits for a new one.
    private static func dispatchWebhooks(_ core: SimulatorCore) async {
        var transport: HTTPClientTransport?
        var signals = core.webhookSignals.makeAsyncIterator()
        while !Task.isCancelled {
            let due = await core.takeDueWebhooks()
            if !due.isEmpty {
                let sender = transport ?? HTTPClientTransport()
                transport = sender
                await withTaskGroup(of: Void.self) { group in
                    for delivery in due {
                        group.addTask {
                            do {
                                let response = try await sender.execute(TransportRequest(
                                    method: .post, url: delivery.url, headers: delivery.headers, body: delivery.body,
                                    timeout: .seconds(30)))
                                _ = try? await response.collect(upTo: 1_048_576)
                                await core.webhookFinished(delivery, status: response.status)
                            } catch {
                                await core.webhookFinished(delivery, status: nil, note: "\(error)")
                            }
                        }
                    }
                }
            }
            if await core.hasPendingWebhooks {
                do { try await Task.sleep(for: .milliseconds(50)) } catch { break }
            } else if await signals.next() == nil {
                break
            }
        }
        try? await transport?.shutdown()
    }

    /// A PNG signature followed by zeros, `size` bytes in all, written 64 KB at a time.
    private static func blob(_ size: Int) -> ResponseBody {
        ResponseBody(contentLength: size) { writer in
            let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            try await writer.write(ByteBuffer(bytes: signature))
            let chunk = ByteBuffer(repeating: 0, count: 65_536)
            var left = size - signature.count
            while left > 0 {
                let part = min(left, chunk.readableBytes)
                try await writer.write(chunk.getSlice(at: 0, length: part) ?? chunk)
                left -= part
            }
            try await writer.finish(nil)
        }
    }

    private static func responder(listener: Listener, core: SimulatorCore) -> CallbackResponder<SimContext> {
        CallbackResponder<SimContext> { request, context in
            // `/__sim/blob/<bytes>.png` on the delivery host: that many bytes of a "PNG" (its
            // signature, then zeros), streamed with backpressure, for download benchmarks.
            if listener == .delivery, request.uri.path.hasPrefix("/__sim/blob/"),
               let size = Int(request.uri.path.dropFirst("/__sim/blob/".count).prefix { $0.isNumber }), (8...(1 << 30)).contains(size) {
                return Response(status: .ok, headers: [.contentType: "image/png"], body: blob(size))
            }
            var request = request
            let body = (try? await request.collectBody(upTo: 64 * 1_048_576)).map { Array($0.readableBytesView) } ?? []
            var query: [String: String] = [:]
            if let items = URLComponents(string: "http://simulator\(request.uri.description)")?.queryItems {
                for item in items { query[item.name] = item.value ?? "" }
            }
            let headers = request.headers.map { HeaderField($0.name.rawName, $0.value) }
            let simRequest = SimRequest(listener: listener, method: request.method.rawValue, path: request.uri.path,
                                        query: query, headers: headers, body: body)
            let reply = await core.handle(simRequest)
            if reply.delay > .zero { try await Task.sleep(for: reply.delay) }
            await core.answerWhenReleased(simRequest)
            if reply.dropConnection {
                try? await context.channel.close()
                throw CancellationError()
            }
            var fields = HTTPFields()
            for header in reply.headers {
                if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
            }
            return Response(status: .init(code: reply.status), headers: fields,
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
        }
    }
}
