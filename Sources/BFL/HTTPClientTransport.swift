import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
public import NIOSSL
import Synchronization

/// The production transport, on AsyncHTTPClient. It never follows redirects (the client
/// decides, so the key cannot ride along to another host), fails fast on connect errors (the
/// client owns the retry policy) and streams bodies. Call `shutdown()` on every exit path, or
/// use `withTransport`.
public final class HTTPClientTransport: Transport {
    private let client: HTTPClient
    private let pace: BodyPace

    /// `tls` replaces the default TLS settings (tests trust their own certificate with it).
    /// A body must arrive in full within its request's timeout, and at `pace`.
    public init(connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(60), tls: TLSConfiguration? = nil,
                pace: BodyPace = BodyPace()) {
        self.pace = pace
        var configuration = HTTPClient.Configuration()
        if let tls { configuration.tlsConfiguration = tls }
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(
            connect: .milliseconds(connectTimeout.wholeMilliseconds),
            read: .milliseconds(readTimeout.wholeMilliseconds))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Runs `body` with a transport and shuts it down afterwards, whatever happens.
    public static func withTransport<T: Sendable>(
        pace: BodyPace = BodyPace(), _ body: (HTTPClientTransport) async throws -> T
    ) async throws -> T {
        let transport = HTTPClientTransport(pace: pace)
        do {
            let value = try await body(transport)
            try? await transport.shutdown()
            return value
        } catch {
            try? await transport.shutdown()
            throw error
        }
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }

    public func execute(_ request: TransportRequest) async throws -> TransportResponse {
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = request.method == .get ? .GET : .POST
        for header in request.headers {
            outgoing.headers.add(name: header.name, value: header.value)
        }
        // The body is handed over only when the client asks for it, which it does after the
        // request head went out: until then, provably nothing was written.
        let bodyPulled = PullFlag()
        if let body = request.body {
            outgoing.body = .stream(WatchedBody(bytes: body, flag: bodyPulled), length: .known(Int64(body.count)))
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(outgoing, timeout: .milliseconds(request.timeout.wholeMilliseconds))
        } catch {
            throw Self.classify(error, bodyTaken: request.body != nil && bodyPulled.isSet)
        }
        let headers = response.headers.map { HeaderField($0.name, $0.value) }
        // Pulled one chunk at a time as the consumer asks: the server is read no faster than
        // the body is written to disk, so a large download never piles up in memory.
        let source = BodySource(response.body.makeAsyncIterator())
        let stream = AsyncThrowingStream<[UInt8], any Error> {
            do { return try await source.next() } catch { throw Self.classify(error) }
        }
        return TransportResponse(status: Int(response.status.code), headers: headers, body: stream).paced(pace, deadline: request.timeout)
    }

    /// Sorts an AsyncHTTPClient/NIO error by whether the request can have been sent. Whatever
    /// the error says, a request whose body the client took (`bodyTaken`) may have reached the
    /// server: it is never "nothing was sent".
    public static func classify(_ error: any Error, bodyTaken: Bool) -> any Error {
        let classified = classify(error)
        if bodyTaken, let transportError = classified as? TransportError, transportError.nothingWasSent {
            return TransportError(.connectionLost, transportError.message + " (after the request was sent)")
        }
        return classified
    }

    static func classify(_ error: any Error) -> any Error {
        if error is CancellationError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .getConnectionFromPoolTimeout:
                return TransportError(.connectFailed, "could not connect (\(error))")
            case .deadlineExceeded, .readTimeout:
                return TransportError(.timeout, "no reply in time")
            case .remoteConnectionClosed:
                return TransportError(.connectionLost, "the connection was closed")
            case .cancelled:
                return CancellationError()
            default:
                return TransportError(.other, String(describing: error))
            }
        }
        if error is NIOConnectionError {
            return TransportError(.connectFailed, "could not connect (\(error))")
        }
        if let error = error as? NIOSSLError {
            // Only failures of the handshake and of the certificate come before the request;
            // anything else (an unclean shutdown, a bad record) may follow it.
            switch error {
            case .handshakeFailed, .noCertificateToValidate, .unableToValidateCertificate, .cannotMatchULabel,
                 .failedToLoadCertificate, .failedToLoadPrivateKey, .noSuchFilesystemObject, .unableToAllocateBoringSSLObject,
                 .cannotFindPeerIP:
                return TransportError(.connectFailed, "TLS failed while connecting (\(error))")
            default:
                return TransportError(.connectionLost, "TLS connection failed (\(error))")
            }
        }
        if error is NIOSSLExtraError {
            return TransportError(.connectFailed, "TLS failed while connecting (\(error))")
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return TransportError(.connectFailed, "connection timed out")
        }
        if let error = error as? IOError {
            // On TCP these errnos arise only while connecting; anything else may follow a send.
            if [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL].contains(error.errnoCode) {
                return TransportError(.connectFailed, "could not connect (\(error))")
            }
            return TransportError(.connectionLost, "connection error: \(error)")
        }
        return TransportError(.other, String(describing: error))
    }
}

extension Duration {
    /// Whole milliseconds, for APIs that take them.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// Set once the HTTP client asks for a request's body.
final class PullFlag: Sendable {
    private let state = Mutex(false)
    var isSet: Bool { state.withLock { $0 } }
    func set() { state.withLock { $0 = true } }
}

/// A request body in one chunk that records when it is first asked for.
struct WatchedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let bytes: [UInt8]
    let flag: PullFlag

    struct AsyncIterator: AsyncIteratorProtocol {
        var pending: [UInt8]?
        let flag: PullFlag
        mutating func next() async -> ByteBuffer? {
            flag.set()
            guard let chunk = pending else { return nil }
            pending = nil
            return ByteBuffer(bytes: chunk)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pending: bytes, flag: flag) }
}

/// The response body's iterator, for a stream that pulls on demand. Unchecked: the stream calls
/// `next()` for one consumer, one call at a time.
final class BodySource: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    init(_ iterator: HTTPClientResponse.Body.AsyncIterator) { self.iterator = iterator }

    func next() async throws -> [UInt8]? {
        guard let buffer = try await iterator.next() else { return nil }
        return Array(buffer.readableBytesView)
    }
}
