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

/// How slowly a reply's body may arrive: in full within a deadline counted from its head, and,
/// after a short grace, at no less than a minimum average rate. A body dripped a byte at a time
/// ends at the grace, not at the deadline; a slow but honest link has the whole deadline.
public struct BodyPace: Sendable, Hashable {
    public var grace: Duration
    public var minimumBytesPerSecond: Int

    public init(grace: Duration = .seconds(10), minimumBytesPerSecond: Int = 16_384) {
        self.grace = grace
        self.minimumBytesPerSecond = max(1, minimumBytesPerSecond)
    }

    /// How long after the head the next byte may come, with `received` bytes in hand: the
    /// rate would fall below the minimum after that (never sooner than the grace), and never
    /// past `deadline`.
    public func allowance(received: Int, deadline: Duration) -> Duration {
        let byRate = Duration.seconds(Double(received) / Double(minimumBytesPerSecond))
        return min(deadline, max(grace, byRate))
    }
}

extension TransportResponse {
    /// The same response, whose body fails with a `.timeout` transport error once it arrives
    /// slower than `pace` allows or past `deadline` (counted from now, when the head is in).
    public func paced(_ pace: BodyPace, deadline: Duration) -> TransportResponse {
        let reader = PacedReader(body, pace: pace, deadline: deadline)
        return TransportResponse(status: status, headers: headers, body: AsyncThrowingStream { try await reader.next() })
    }
}

/// Reads a body one chunk at a time, each raced against the time it is due. Unchecked: the
/// stream calls `next()` for one consumer, one call at a time.
private final class PacedReader: @unchecked Sendable {
    private var iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
    private let pace: BodyPace
    private let deadline: Duration
    private let start = ContinuousClock.now
    private var received = 0
    private var ended = false

    init(_ body: AsyncThrowingStream<[UInt8], any Error>, pace: BodyPace, deadline: Duration) {
        iterator = body.makeAsyncIterator()
        self.pace = pace
        self.deadline = deadline
    }

    private enum Step: Sendable {
        case chunk([UInt8]?)
        case late
    }

    func next() async throws -> [UInt8]? {
        guard !ended else { return nil }
        let due = start + pace.allowance(received: received, deadline: deadline)
        let step = try await withThrowingTaskGroup(of: Step.self) { group in
            group.addTask { .chunk(try await self.pull()) }
            group.addTask {
                try await Task.sleep(until: due, clock: .continuous)
                return .late
            }
            defer { group.cancelAll() }
            return try await group.next() ?? .late
        }
        switch step {
        case .chunk(let chunk?):
            received += chunk.count
            return chunk
        case .chunk(nil):
            ended = true
            return nil
        case .late:
            ended = true
            let seconds = (ContinuousClock.now - start).seconds
            throw TransportError(.timeout, "the reply came too slowly (\(received) bytes in \(String(format: "%.0f", seconds)) s)")
        }
    }

    private func pull() async throws -> [UInt8]? {
        try await iterator.next()
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
