public import Foundation

/// An HTTP method the client uses.
public enum HTTPMethod: String, Sendable, Hashable {
    case get = "GET", post = "POST"
}

/// One header field.
public struct HeaderField: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

extension [HeaderField] {
    /// The value of the first field with this name (names compare without regard to case).
    public func value(for name: String) -> String? {
        first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// What the client asks a transport to send.
public struct TransportRequest: Sendable {
    public var method: HTTPMethod
    public var url: URL
    public var headers: [HeaderField]
    public var body: [UInt8]?
    /// The deadline for the whole exchange, from sending to the response head.
    public var timeout: Duration

    public init(method: HTTPMethod, url: URL, headers: [HeaderField] = [], body: [UInt8]? = nil,
                timeout: Duration = .seconds(60)) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// The value of the first header with this name (any case).
    public func header(_ name: String) -> String? { headers.value(for: name) }
}

/// A response head and a streamed body.
public struct TransportResponse: Sendable {
    public var status: Int
    public var headers: [HeaderField]
    /// Body chunks as they arrive. Iterate once.
    public var body: AsyncThrowingStream<[UInt8], any Error>

    public init(status: Int, headers: [HeaderField] = [], body: AsyncThrowingStream<[UInt8], any Error>) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response with a body held in memory.
    public init(status: Int, headers: [HeaderField] = [], bytes: [UInt8]) {
        self.init(status: status, headers: headers, body: AsyncThrowingStream { continuation in
            if !bytes.isEmpty { continuation.yield(bytes) }
            continuation.finish()
        })
    }

    public func header(_ name: String) -> String? { headers.value(for: name) }

    /// Reads the whole body, failing once it exceeds `limit` bytes.
    public func collect(upTo limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in body {
            guard bytes.count + chunk.count <= limit else {
                throw TransportError(.bodyTooLarge, "reply larger than \(limit) bytes")
            }
            bytes.append(contentsOf: chunk)
        }
        return bytes
    }
}

/// A transport failure, classified by whether the request can have reached the server.
public struct TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// DNS, connect or TLS failed: nothing was sent, so even a POST may be resent.
        case connectFailed
        /// No answer in time; the request may have been received.
        case timeout
        /// The connection closed mid-exchange; the request may have been received.
        case connectionLost
        /// The body exceeded a size limit.
        case bodyTooLarge
        /// Anything else.
        case other
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// Whether the request certainly never reached the server.
    public var nothingWasSent: Bool { kind == .connectFailed }
}

/// Sends HTTP requests. The client decides headers (including whether the key goes along);
/// a transport only moves bytes and must not follow redirects.
public protocol Transport: Sendable {
    func execute(_ request: TransportRequest) async throws -> TransportResponse
}
