import BFL
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import Testing
import TestSupport

/// A TLS server on loopback that reads one whole POST and then drops the TCP connection
/// without a TLS close: the client sees a TLS error after its request went out.
final class TLSDroppingServer: Sendable {
    /// A self-signed certificate for localhost and 127.0.0.1, for tests only (valid to 2126).
    static let certificatePEM = """
-----BEGIN CERTIFICATE-----
MIIBmjCCAUGgAwIBAgIUOir2UZQ4fdo6xobKaQ9X0EVsBQ0wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEzMDEyMTMxMVoYDzIxMjYxMTA2
MTIxMzExWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQkw0+SoY4YP/KJW/DpaGAmsDWXegC1olNIqp0wUahALefwwblvv2It
cCxeeWR/ZzdcOY1YLbPp60H668pDsKNeo28wbTAdBgNVHQ4EFgQUAkteOgncYUe4
cACT0QTh6mwD1UEwHwYDVR0jBBgwFoAUAkteOgncYUe4cACT0QTh6mwD1UEwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDRwAwRAIgQsEW8qhZaBBUngIefjsbplnOU2QUxEsSI0CUdc4RWHkCIE8K
rDj22oz87WK+dYKZLCrT3YTeywY7Dl0sDD5f8GhK
-----END CERTIFICATE-----
"""
    static let keyPEM = """
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgBacWGX8S3X036FSt
VdJQ8z8zR064RNVHrn68Kh+wAWyhRANCAAQkw0+SoY4YP/KJW/DpaGAmsDWXegC1
olNIqp0wUahALefwwblvv2ItcCxeeWR/ZzdcOY1YLbPp60H668pDsKNe
-----END PRIVATE KEY-----
"""

    let port: Int
    private let channel: any Channel
    private final class Counter: Sendable {
        let value = Mutex(0)
    }
    private let posts = Counter()
    var postCount: Int { posts.value.withLock { $0 } }

    init() async throws {
        let context = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(Self.certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(Self.keyPEM.utf8), format: .pem))))
        let posts = self.posts
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let closer = RawCloser()
                    try channel.pipeline.syncOperations.addHandler(closer)
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.addHandler(PostReader(closer: closer) { posts.value.withLock { $0 += 1 } })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    func stop() async { try? await channel.close() }

    /// Sits next to the socket: its close skips the TLS handler's close_notify.
    final class RawCloser: ChannelDuplexHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundIn = ByteBuffer
        private var context: ChannelHandlerContext?
        func handlerAdded(context: ChannelHandlerContext) { self.context = context }
        /// Sends bytes that are no TLS record, then closes, all beneath the TLS handler.
        func closeRaw() {
            guard let context else { return }
            context.writeAndFlush(NIOAny(ByteBuffer(string: "HTTP/1.1 500 not TLS at all\r\n\r\n")), promise: nil)
            context.close(promise: nil)
        }
    }

    /// Reads the request head and its Content-Length of body, counts it, then drops the line.
    final class PostReader: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        private var received: [UInt8] = []
        private let closer: RawCloser
        private let counted: @Sendable () -> Void
        init(closer: RawCloser, counted: @escaping @Sendable () -> Void) {
            self.closer = closer
            self.counted = counted
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            received += buffer.readBytes(length: buffer.readableBytes) ?? []
            let text = String(decoding: received, as: UTF8.self)
            guard let headEnd = text.range(of: "\r\n\r\n") else { return }
            let head = text[..<headEnd.lowerBound].lowercased()
            let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            guard received.count - text[..<headEnd.upperBound].utf8.count >= length else { return }
            if head.hasPrefix("post ") { counted() }
            received = []
            closer.closeRaw()
        }
    }
}

@Suite("A POST over TLS that fails after it was sent", .timeLimit(.minutes(1)))
struct TLSSubmitTests {
    @Test("the server read the POST, then the TLS connection broke: the outcome is unknown and it is sent once")
    func tlsFailureAfterSending() async throws {
        let server = try await TLSDroppingServer()
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(TLSDroppingServer.certificatePEM.utf8)))
        let transport = HTTPClientTransport(tls: tls)
        let endpoint = try #require(Endpoint(customURL: "https://127.0.0.1:\(server.port)"))
        var configuration = BFLClient.Configuration(endpoint: endpoint, apiKey: APIKey("tls_test_key_0123456789abcdef"))
        configuration.retry = RetryPolicy(jitter: { 0 })
        configuration.requestTimeout = .seconds(10)
        let client = BFLClient(configuration: configuration, transport: transport)
        var outcome: BFLError?
        do { _ = try await client.submit(path: "flux-2-pro", body: Array(#"{"prompt":"x"}"#.utf8)) } catch let error as BFLError {
            outcome = error
        } catch {
            Issue.record("unexpected \(error)")
        }
        try? await transport.shutdown()
        await server.stop()
        guard case .submitOutcomeUnknown(let message)? = outcome else {
            Issue.record("expected an unknown outcome, got \(String(describing: outcome))")
            return
        }
        #expect(!message.isEmpty, "\(message)")
        #expect(server.postCount == 1, "the POST was sent exactly once")
    }

    @Test("only connect-phase failures mean nothing was sent: TLS errors after the handshake, or any error once the body was taken, do not")
    func classification() {
        func kind(_ error: any Error, bodyTaken: Bool = false) -> TransportError.Kind? {
            (HTTPClientTransport.classify(error, bodyTaken: bodyTaken) as? TransportError)?.kind
        }
        #expect(kind(NIOSSLError.uncleanShutdown) == .connectionLost)
        #expect(kind(NIOSSLError.readInInvalidTLSState) == .connectionLost)
        #expect(kind(NIOSSLError.writeDuringTLSShutdown) == .connectionLost)
        #expect(kind(NIOSSLError.handshakeFailed(.sslError([]))) == .connectFailed)
        #expect(kind(NIOSSLError.unableToValidateCertificate) == .connectFailed)
        #expect(kind(NIOSSLExtraError.invalidSNIHostname) == .connectFailed)
        #expect(kind(IOError(errnoCode: ECONNREFUSED, reason: "connect")) == .connectFailed)
        // The same connect-phase errors after the client took the body: it may have arrived.
        #expect(kind(NIOSSLError.handshakeFailed(.sslError([])), bodyTaken: true) == .connectionLost)
        #expect(kind(IOError(errnoCode: ECONNREFUSED, reason: "connect"), bodyTaken: true) == .connectionLost)
        #expect(kind(IOError(errnoCode: ECONNRESET, reason: "read")) == .connectionLost)
    }

    @Test("a certificate the client does not trust fails the handshake: nothing was sent, and it says so")
    func untrustedCertificate() async throws {
        let server = try await TLSDroppingServer()
        let transport = HTTPClientTransport(pace: .patientForTests)
        let url = try #require(URL(string: "https://127.0.0.1:\(server.port)/v1/flux-2-pro"))
        var kind: TransportError.Kind?
        do { _ = try await transport.execute(TransportRequest(method: .post, url: url, body: Array("{}".utf8))) } catch let error as TransportError {
            kind = error.kind
        } catch {
            Issue.record("unexpected \(error)")
        }
        try? await transport.shutdown()
        await server.stop()
        #expect(kind == .connectFailed)
        #expect(server.postCount == 0)
    }
}
