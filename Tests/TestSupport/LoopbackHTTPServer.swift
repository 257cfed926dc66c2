public import BFL
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A tiny HTTP/1.1 server on 127.0.0.1 for transport tests: each request is answered by a
/// closure. It records every request it receives.
public final class LoopbackHTTPServer: Sendable {
    /// A request as the server saw it.
    public struct Received: Sendable {
        public var method: String
        public var uri: String
        public var headers: [HeaderField]
        public var body: [UInt8]

        public func header(_ name: String) -> String? { headers.value(for: name) }
    }

    /// How to answer.
    public enum Reply: Sendable {
        /// A response, its body written in chunks of `chunkSize` bytes.
        case respond(status: Int, headers: [HeaderField] = [], body: [UInt8] = [], chunkSize: Int = 16_384)
        /// Close the connection without answering.
        case close
        /// Never answer.
        case hang
        /// A head announcing `body`, then the body one byte every `every` (a hostile slow drip).
        case drip(status: Int, headers: [HeaderField] = [], body: [UInt8], every: Duration)
    }

    /// The shared record of requests, and tests waiting for more of them.
    private final class RequestLog: Sendable {
        struct State {
            var entries: [Received] = []
            var waiters: [(count: Int, continuation: CheckedContinuation<[Received], Never>)] = []
        }
        let state = Mutex(State())

        func append(_ request: Received) {
            let (ready, entries) = state.withLock { s in
                s.entries.append(request)
                let ready = s.waiters.filter { $0.count <= s.entries.count }
                s.waiters.removeAll { $0.count <= s.entries.count }
                return (ready, s.entries)
            }
            for waiter in ready { waiter.continuation.resume(returning: entries) }
        }

        /// Returns once `count` requests arrived, or after 30 s of real time with what there is
        /// (a safety net: the test then fails instead of hanging).
        func wait(atLeast count: Int) async -> [Received] {
            let timer = Task { [weak self] in
                try await ContinuousClock().sleep(for: .seconds(30))
                self?.releaseAll()
            }
            defer { timer.cancel() }
            return await withCheckedContinuation { continuation in
                let ready = state.withLock { s -> [Received]? in
                    if s.entries.count >= count { return s.entries }
                    s.waiters.append((count, continuation))
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }

        func releaseAll() {
            let (waiting, entries) = state.withLock { s in
                defer { s.waiters.removeAll() }
                return (s.waiters, s.entries)
            }
            for waiter in waiting { waiter.continuation.resume(returning: entries) }
        }
    }

    private let channel: any Channel
    private let log = RequestLog()
    public let port: Int

    public var received: [Received] { log.state.withLock { $0.entries } }

    /// Waits until at least `count` requests have arrived; returns all of them.
    public func requests(atLeast count: Int) async -> [Received] { await log.wait(atLeast: count) }
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public init(_ answer: @escaping @Sendable (Received) -> Reply) async throws {
        let log = self.log
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(answer: answer, log: log))
                }
            }
        channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    public func stop() async {
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        /// Writes the first byte of `rest` after `every`, then the next, until the body is out or
        /// the client has gone.
        static func drip(_ rest: ArraySlice<UInt8>, every: TimeAmount, channel: any Channel) {
            channel.eventLoop.scheduleTask(in: every) {
                guard channel.isActive else { return }
                guard let byte = rest.first else {
                    channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
                    return
                }
                channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(bytes: [byte]))), promise: nil)
                drip(rest.dropFirst(), every: every, channel: channel)
            }
        }

        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let answer: @Sendable (Received) -> Reply
        let log: RequestLog
        var current: Received?

        init(answer: @escaping @Sendable (Received) -> Reply, log: RequestLog) {
            self.answer = answer
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                current = Received(method: head.method.rawValue, uri: head.uri,
                                   headers: head.headers.map { HeaderField($0.name, $0.value) }, body: [])
            case .body(var buffer):
                current?.body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
            case .end:
                guard let request = current else { return }
                current = nil
                log.append(request)
                switch answer(request) {
                case .close:
                    context.close(promise: nil)
                case .hang:
                    break
                case .drip(let status, let headers, let body, let every):
                    var head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
                    for header in headers { head.headers.add(name: header.name, value: header.value) }
                    head.headers.add(name: "Content-Length", value: String(body.count))
                    context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
                    let nanoseconds = every.components.seconds * 1_000_000_000 + every.components.attoseconds / 1_000_000_000
                    Self.drip(body[...], every: .nanoseconds(nanoseconds), channel: context.channel)
                case .respond(let status, let headers, let body, let chunkSize):
                    var head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
                    for header in headers { head.headers.add(name: header.name, value: header.value) }
                    if !headers.contains(where: { $0.name.lowercased() == "content-length" }) {
                        head.headers.add(name: "Content-Length", value: String(body.count))
                    }
                    context.write(wrapOutboundOut(.head(head)), promise: nil)
                    var offset = 0
                    while offset < body.count {
                        let end = min(body.count, offset + max(1, chunkSize))
                        let buffer = context.channel.allocator.buffer(bytes: body[offset..<end])
                        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                        offset = end
                    }
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                }
            }
        }
    }
}
