import BFL
import Foundation
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import Synchronization
import Testing
import TestSupport

/// A TLS server on loopback that offers only HTTP/2 (ALPN `h2`), as BFL's front door very likely
/// does, and answers each request as its script says: normally, with a stream reset, or with a
/// GOAWAY and the connection closed, after the whole request was read.
final class HTTP2LoopbackServer: Sendable {
    enum Reply: Sendable {
        case respond(status: Int, body: [UInt8])
        /// RST_STREAM once the request is in.
        case reset
        /// GOAWAY naming the request's stream as processed, then the connection closes.
        case goAway
    }

    let port: Int
    private let channel: any Channel
    private final class Counts: Sendable {
        let value = Mutex<[String: Int]>([:])
    }
    private let counts = Counts()

    /// Requests that arrived whole, by method ("POST", "GET").
    func count(_ method: String) -> Int { counts.value.withLock { $0[method] ?? 0 } }

    init(_ reply: @escaping @Sendable (_ method: String, _ uri: String) -> Reply) async throws {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(TLSDroppingServer.certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(TLSDroppingServer.keyPEM.utf8), format: .pem)))
        tls.applicationProtocols = ["h2"]
        let context = try NIOSSLContext(configuration: tls)
        let counts = self.counts
        let counted: @Sendable (String) -> Void = { method in counts.value.withLock { $0[method, default: 0] += 1 } }
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                }.flatMap {
                    channel.configureHTTP2Pipeline(mode: .server, connectionConfiguration: .init(), streamConfiguration: .init()) { stream in
                        stream.eventLoop.makeCompletedFuture {
                            try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                            try stream.pipeline.syncOperations.addHandler(StreamHandler(reply: reply, counted: counted))
                        }
                    }.map { _ in }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    func stop() async { try? await channel.close() }

    final class StreamHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let reply: @Sendable (String, String) -> Reply
        let counted: @Sendable (String) -> Void
        var head: HTTPRequestHead?

        init(reply: @escaping @Sendable (String, String) -> Reply, counted: @escaping @Sendable (String) -> Void) {
            self.reply = reply
            self.counted = counted
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): self.head = head
            case .body: break
            case .end:
                guard let head else { return }
                counted(head.method.rawValue)
                switch reply(head.method.rawValue, head.uri) {
                case .respond(let status, let body):
                    var headers = HTTPHeaders()
                    headers.add(name: "content-length", value: String(body.count))
                    headers.add(name: "content-type", value: "application/json")
                    context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http2, status: .init(statusCode: status), headers: headers))), promise: nil)
                    context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                case .reset:
                    // A stream closed before its response ends is reset (RST_STREAM, CANCEL).
                    context.close(promise: nil)
                case .goAway:
                    guard let parent = context.channel.parent else { return }
                    let streamID = (try? context.channel.syncOptions?.getOption(HTTP2StreamChannelOptions.streamID)) ?? .rootStream
                    let frame = HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: streamID, errorCode: .internalError, opaqueData: nil))
                    parent.writeAndFlush(frame).whenComplete { _ in parent.close(promise: nil) }
                }
            }
        }
    }
}

@Suite("HTTP/2 over TLS on loopback", .timeLimit(.minutes(1)))
struct HTTP2Tests {
    static let key = APIKey("h2_test_key_0123456789abcdef")

    func client(_ server: HTTP2LoopbackServer, _ transport: HTTPClientTransport) throws -> BFLClient {
        let endpoint = try #require(Endpoint(customURL: "https://127.0.0.1:\(server.port)"))
        var configuration = BFLClient.Configuration(endpoint: endpoint, apiKey: Self.key)
        configuration.retry = RetryPolicy(jitter: { 0 })
        configuration.requestTimeout = .seconds(10)
        return BFLClient(configuration: configuration, transport: transport)
    }

    static func trusting() throws -> HTTPClientTransport {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(TLSDroppingServer.certificatePEM.utf8)))
        return HTTPClientTransport(tls: tls)
    }

    /// Runs `body` against a server answering as `reply` says; both are stopped afterwards.
    func with(_ reply: @escaping @Sendable (String, String) -> HTTP2LoopbackServer.Reply,
              _ body: (HTTP2LoopbackServer, BFLClient) async throws -> Void) async throws {
        let server = try await HTTP2LoopbackServer(reply)
        let transport = try Self.trusting()
        do {
            try await body(server, try client(server, transport))
        } catch {
            try? await transport.shutdown()
            await server.stop()
            throw error
        }
        try? await transport.shutdown()
        await server.stop()
    }

    /// What a submit ends in against a server that breaks the exchange after reading it.
    func brokenSubmit(_ reply: HTTP2LoopbackServer.Reply) async throws {
        try await with({ _, _ in reply }) { server, client in
            do {
                _ = try await client.submit(path: "flux-2-pro", body: Array(#"{"prompt":"x"}"#.utf8))
                Issue.record("a broken exchange gave an answer")
            } catch let error as BFLError {
                guard case .submitOutcomeUnknown = error else {
                    Issue.record("expected an unknown outcome, got \(error)")
                    return
                }
            }
            #expect(server.count("POST") == 1, "the POST was sent exactly once")
        }
    }

    @Test("a stream reset after the POST was read: the outcome is unknown, and it is not resent")
    func reset() async throws {
        try await brokenSubmit(.reset)
    }

    @Test("a GOAWAY after the POST was read: the outcome is unknown, and it is not resent")
    func goAway() async throws {
        try await brokenSubmit(.goAway)
    }

    @Test("a poll and a download over HTTP/2 work; a submit is answered")
    func works() async throws {
        let image: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + [UInt8](repeating: 1, count: 40_000)
        try await with({ method, uri in
            if method == "POST" { return .respond(status: 200, body: Array(#"{"id":"t1","polling_url":"POLL"}"#.utf8)) }
            if uri.hasPrefix("/v1/get_result") {
                return .respond(status: 200, body: Array(#"{"id":"t1","status":"Ready","result":{"sample":"SAMPLE"}}"#.utf8))
            }
            return .respond(status: 200, body: image)
        }) { server, client in
            let base = "https://127.0.0.1:\(server.port)"
            let submitted = try await client.submit(path: "flux-2-pro", body: Array(#"{"prompt":"x"}"#.utf8))
            #expect(submitted.id == "t1")
            let poll = try await client.poll(base + "/v1/get_result?id=t1")
            #expect(poll.status == .ready)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-h2-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let saved = try await client.download(base + "/results/t1/sample.jpg", to: directory.appendingPathComponent("a.jpg"))
            #expect(saved.byteCount == image.count)
            #expect(server.count("POST") == 1 && server.count("GET") == 2)
        }
    }

    @Test("a refused connection is \"not sent\": a network error, never an unknown outcome")
    func refused() async throws {
        // Bound by this test and never listened on: refused, and no other test's server can
        // take the port meanwhile (one freed and reused answered with a reset once).
        let refusing = try #require(RefusingPort())
        let port = refusing.port
        let transport = try Self.trusting()
        let endpoint = try #require(Endpoint(customURL: "https://127.0.0.1:\(port)"))
        var configuration = BFLClient.Configuration(endpoint: endpoint, apiKey: Self.key)
        configuration.retry = RetryPolicy(jitter: { 0 })
        configuration.retry.submitRetries = 0
        let client = BFLClient(configuration: configuration, transport: transport)
        var outcome: BFLError?
        do { _ = try await client.submit(path: "flux-2-pro", body: Array("{}".utf8)) } catch let error as BFLError { outcome = error }
        try? await transport.shutdown()
        withExtendedLifetime(refusing) {}
        guard case .network? = outcome else {
            Issue.record("expected a network error (nothing sent), got \(String(describing: outcome))")
            return
        }
    }
}
