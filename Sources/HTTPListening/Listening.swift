public import Hummingbird
import Logging
import Synchronization
import NIOCore
import HummingbirdCore
import NIOHTTPTypes

/// Bounds for a listener that strangers can reach (the webhook receiver): how many connections
/// it holds at once, and how long a request may take to arrive in full.
public struct ListenerGuards: Sendable {
    /// Connections held at once; more wait, unaccepted, in the system's queue (they cost no
    /// file descriptor of ours until they are taken). NIO takes up to 4 in one read before the
    /// cap is asked again, so the count can pass it by 3.
    public var connections: Int
    /// From a connection's start, or from the end of its previous answer, to the last byte of
    /// the next request: a half-sent header or a body dripped byte by byte ends here.
    public var requestDeadline: Duration

    /// The most connections held at once so far, as the listener counted them.
    public let gauge = ConnectionGauge()

    public init(connections: Int, requestDeadline: Duration) {
        self.connections = max(1, connections)
        self.requestDeadline = requestDeadline
    }
}

/// Connections a listener holds: now, and at most so far.
public final class ConnectionGauge: Sendable {
    private let counts = Mutex((now: 0, peak: 0))

    public var peak: Int { counts.withLock { $0.peak } }
    public var now: Int { counts.withLock { $0.now } }

    func opened() {
        counts.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
    }

    func closed() {
        counts.withLock { $0.now -= 1 }
    }
}

/// Takes no new connection while `limit` are open; counts them on the gauge.
struct GaugedConnections: AvailableConnectionsDelegate {
    let limit: Int
    let gauge: ConnectionGauge

    mutating func connectionOpened() { gauge.opened() }
    mutating func connectionClosed() { gauge.closed() }
    func isAcceptingNewConnections() -> Bool { gauge.now < limit }
}

/// A Hummingbird server started on an address, with the port it is bound to. The simulator's
/// listeners and the webhook receiver start and stop through this one helper.
public struct RunningListener: Sendable {
    /// The port the server is bound to (the system's choice when 0 was asked).
    public let port: Int
    private let run: Task<Void, Never>

    /// Starts `responder` on `host:port`, quiet in the logs (the callers log what matters), and
    /// waits until it listens; nil when it cannot (the port is in use, the host is not ours).
    /// With `guards`, connections are capped and each request must arrive within the deadline.
    public static func start<Context: RequestContext>(
        host: String, port: Int, label: String, guards: ListenerGuards? = nil, responder: CallbackResponder<Context>
    ) async -> RunningListener? where Context.Source == ApplicationRequestContextSource {
        var logger = Logger(label: label)
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server: HTTPServerBuilder
        if let guards {
            let deadline = TimeAmount.nanoseconds(guards.requestDeadline.components.seconds * 1_000_000_000
                + guards.requestDeadline.components.attoseconds / 1_000_000_000)
            server = .http1(configuration: .init(
                additionalChannelHandlers: [RequestDeadlineHandler(deadline: deadline)],
                idleTimeout: deadline))
        } else {
            server = .http1()
        }
        let app = Application(
            responder: responder,
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: nil,
                                 availableConnectionsDelegate: guards.map { GaugedConnections(limit: $0.connections, gauge: $0.gauge) }),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? port) },
            logger: logger)
        let run = Task {
            do { try await app.run() } catch {}
            continuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next() else {
            run.cancel()
            await run.value
            return nil
        }
        return RunningListener(port: bound, run: run)
    }

    /// Stops listening (Hummingbird's graceful shutdown on cancellation) and waits until it has.
    public func stop() async {
        run.cancel()
        await run.value
    }
}

/// Closes a connection whose next request has not fully arrived within the deadline, counted
/// from the connection's start or from the end of the previous exchange (the request read and
/// answered). A request refused from its headers is answered at once; the rest of its body
/// passes unread, and must do so within the same deadline.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let deadline: TimeAmount
    private var timer: Scheduled<Void>?
    private var requestEnded = false
    private var answered = false

    init(deadline: TimeAmount) {
        self.deadline = deadline
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            requestEnded = true
            if answered { exchangeDone(context: context) } else { disarm() }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            answered = true
            // Answered before its body came (a refusal): the deadline still runs for the body.
            if requestEnded { exchangeDone(context: context) }
        }
        context.write(data, promise: promise)
    }

    private func exchangeDone(context: ChannelHandlerContext) {
        requestEnded = false
        answered = false
        arm(context: context)
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }

    private func arm(context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: deadline) { channel.close(promise: nil) }
    }
}
