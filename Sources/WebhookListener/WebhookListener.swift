public import BFL
import Foundation
import HTTPTypes
import Hummingbird
public import HTTPListening
import Logging
import NIOCore

/// Why the receiver cannot start.
public struct WebhookSetupError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// What the receiver answers a call, and why.
public enum WebhookVerdict: Sendable, Hashable {
    /// A verified, new update for a task this run follows: hand it on (200).
    case accept(WebhookEvent)
    /// Verified, but this task and status were already delivered (200, nothing done).
    case replay
    /// Refused, with the HTTP status and what the log says.
    case refuse(status: Int, reason: String)

    public var status: Int {
        switch self {
        case .accept, .replay: 200
        case .refuse(let status, _): status
        }
    }
}

/// The receiver's rules, apart from any server: only POSTs to its path, bodies up to 1 MB,
/// the secret (`X-Webhook-Secret`) or an HMAC-SHA256 signature (`X-BFL-Signature`) checked in
/// constant time, a body in one of the two payload shapes, a task this run follows, and each
/// (task, status) acted on once.
public actor WebhookGate {
    public static let maxBody = 1_048_576

    public let path: String
    private let secret: String
    private let isKnown: @Sendable (String) async -> Bool
    private var seen: Set<String> = []

    /// `isKnown` says whether a task id belongs to a job this run follows. An empty secret is
    /// refused: every call would be accepted.
    public init(path: String, secret: String, isKnown: @escaping @Sendable (String) async -> Bool) throws(WebhookSetupError) {
        guard !secret.isEmpty else { throw WebhookSetupError(message: "the webhook secret is empty; set one, or leave it out for a random one") }
        guard path.hasPrefix("/") else { throw WebhookSetupError(message: "the webhook path must start with /") }
        self.path = path
        self.secret = secret
        self.isKnown = isKnown
    }

    /// A random secret: 32 bytes from the system's generator, in hex.
    public static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// What the request line and headers alone decide: a refusal, or nil when the body is to
    /// be read. A call without the secret or a well-formed signature, or announcing a body over
    /// 1 MB, is refused here, before any of its body is read.
    public func screen(method: String, path: String, headers: [HeaderField]) -> WebhookVerdict? {
        guard path == self.path else { return .refuse(status: 404, reason: "a call to \(TerminalText.capped(TerminalText.sanitize(path), bytes: 80)), not the webhook path") }
        guard method == "POST" else { return .refuse(status: 405, reason: "a \(TerminalText.capped(TerminalText.sanitize(method), bytes: 16)) call; only POST is taken") }
        if let length = headers.value(for: "Content-Length").flatMap({ Int($0) }), length > Self.maxBody {
            return .refuse(status: 413, reason: "a body of \(length) bytes, over 1 MB")
        }
        if WebhookReceiver.credential(headers: headers, secret: secret) == .missing {
            return .refuse(status: 401, reason: "neither the secret nor a signature")
        }
        return nil
    }

    /// `body` is nil when it was not read because it is over `maxBody`.
    public func decide(method: String, path: String, headers: [HeaderField], body: [UInt8]?) async -> WebhookVerdict {
        if let refusal = screen(method: method, path: path, headers: headers) { return refusal }
        guard let body, body.count <= Self.maxBody else {
            return .refuse(status: 413, reason: body.map { "a body of \($0.count) bytes, over 1 MB" } ?? "a body over 1 MB")
        }
        guard WebhookReceiver.verify(headers: headers, body: body, secret: secret) else {
            return .refuse(status: 401, reason: "a signature that does not match the body")
        }
        let event: WebhookEvent
        do { event = try WebhookReceiver.parse(body) } catch {
            return .refuse(status: 400, reason: error.message)
        }
        // A repeat of what was acted on is acknowledged even when its job has ended since.
        let key = "\(event.taskID)|\(event.status.wireValue)"
        if seen.contains(key) { return .replay }
        guard await isKnown(event.taskID) else {
            return .refuse(status: 404, reason: "task \(TerminalText.capped(event.taskID, bytes: 80)) is not one this run follows")
        }
        guard seen.insert(key).inserted else { return .replay }
        return .accept(event)
    }
}

/// The webhook receiver: a Hummingbird server on `host:port` (0: any free port) that puts each
/// call through a `WebhookGate` and hands accepted updates to `deliver`. Refusals are logged
/// with their reason, never with the secret.
public final class WebhookServer: Sendable {
    /// The address it listens on, with the path: `http://127.0.0.1:PORT/PATH`.
    public let url: String
    private let listener: RunningListener

    private init(url: String, listener: RunningListener) {
        self.url = url
        self.listener = listener
    }

    /// The bounds that keep one stranger from starving the engine: 64 connections at once (of a
    /// process's 1,024 descriptors, the rest stay the engine's), and 5 s for a request to
    /// arrive. BFL's call is one small POST sent at once.
    public static let standardGuards = ListenerGuards(connections: 64, requestDeadline: .seconds(5))

    public static func start(host: String, port: Int, gate: WebhookGate, guards: ListenerGuards = standardGuards,
                             log: @escaping @Sendable (String) -> Void,
                             deliver: @escaping @Sendable (WebhookEvent) async -> Void) async throws(WebhookSetupError) -> WebhookServer {
        let responder = CallbackResponder<WebhookContext> { request, _ in
            var request = request
            let method = request.method.rawValue, path = request.uri.path
            let headers = request.headers.map { HeaderField($0.name.rawName, $0.value) }
            let verdict: WebhookVerdict
            if let refusal = await gate.screen(method: method, path: path, headers: headers) {
                // The body is never kept: it passes unread, within the request deadline.
                verdict = refusal
            } else {
                // One byte over the limit is enough to know it is too large.
                let body = (try? await request.collectBody(upTo: WebhookGate.maxBody + 1)).map { Array($0.readableBytesView) }
                verdict = await gate.decide(method: method, path: path, headers: headers, body: body)
            }
            switch verdict {
            case .accept(let event): await deliver(event)
            case .replay: log("webhook: a repeated delivery, acknowledged and ignored")
            // Whatever of the call the reason quotes is stripped of control characters.
            case .refuse(let status, let reason): log(TerminalText.sanitize("webhook: refused (\(status)): \(reason)"))
            }
            return Response(status: .init(code: verdict.status))
        }
        guard let listener = await RunningListener.start(host: host, port: port, label: "fluxdeck.webhook", guards: guards, responder: responder) else {
            throw WebhookSetupError(message: "cannot listen for webhooks on \(host):\(port); is the port in use?")
        }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return WebhookServer(url: "http://\(shownHost):\(listener.port)\(gate.path)", listener: listener)
    }

    /// Stops listening and waits until it has.
    public func stop() async {
        await listener.stop()
    }
}

struct WebhookContext: RequestContext {
    typealias Source = ApplicationRequestContextSource
    var coreContext: CoreRequestContextStorage

    init(source: Source) {
        coreContext = .init(source: source)
    }
}
