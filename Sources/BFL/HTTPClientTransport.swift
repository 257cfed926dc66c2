import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The production transport, on AsyncHTTPClient. It never follows redirects (the client
/// decides, so the key cannot ride along to another host), fails fast on connect errors (the
/// client owns the retry policy) and streams bodies. Call `shutdown()` on every exit path, or
/// use `withTransport`.
public final class HTTPClientTransport: Transport {
    private let client: HTTPClient

    public init(connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(60)) {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(
            connect: .milliseconds(connectTimeout.milliseconds),
            read: .milliseconds(readTimeout.milliseconds))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Runs `body` with a transport and shuts it down afterwards, whatever happens.
    public static func withTransport<T: Sendable>(
        _ body: (HTTPClientTransport) async throws -> T
    ) async throws -> T {
        let transport = HTTPClientTransport()
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
        if let body = request.body {
            outgoing.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(outgoing, timeout: .milliseconds(request.timeout.milliseconds))
        } catch {
            throw Self.classify(error)
        }
        let headers = response.headers.map { HeaderField($0.name, $0.value) }
        let body = response.body
        let stream = AsyncThrowingStream<[UInt8], any Error> { continuation in
            let pump = Task {
                do {
                    for try await buffer in body {
                        continuation.yield(Array(buffer.readableBytesView))
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: Self.classify(error))
                }
            }
            continuation.onTermination = { _ in pump.cancel() }
        }
        return TransportResponse(status: Int(response.status.code), headers: headers, body: stream)
    }

    /// Sorts an AsyncHTTPClient/NIO error by whether the request can have been sent.
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
        if error is NIOConnectionError || error is NIOSSLError {
            return TransportError(.connectFailed, "could not connect (\(error))")
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
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
