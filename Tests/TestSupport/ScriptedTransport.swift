public import BFL
import Foundation

/// A transport that answers from a script and records what it was asked.
public actor ScriptedTransport: Transport {
    /// One scripted answer.
    public enum Step: Sendable {
        case respond(status: Int, headers: [HeaderField] = [], body: [UInt8] = [])
        /// A response whose body arrives in these chunks.
        case stream(status: Int, headers: [HeaderField] = [], chunks: [[UInt8]])
        case fail(TransportError)

        /// A JSON reply.
        public static func json(_ status: Int, _ text: String, headers: [HeaderField] = []) -> Step {
            .respond(status: status, headers: headers + [HeaderField("Content-Type", "application/json")],
                     body: Array(text.utf8))
        }
    }

    private var steps: [Step]
    public private(set) var requests: [TransportRequest] = []

    public init(_ steps: [Step]) { self.steps = steps }

    /// Appends more answers.
    public func enqueue(_ more: [Step]) { steps.append(contentsOf: more) }

    public func execute(_ request: TransportRequest) async throws -> TransportResponse {
        requests.append(request)
        guard !steps.isEmpty else {
            throw TransportError(.other, "script exhausted at request \(requests.count): \(request.method.rawValue) \(request.url)")
        }
        switch steps.removeFirst() {
        case .respond(let status, let headers, let body):
            return TransportResponse(status: status, headers: headers, bytes: body)
        case .stream(let status, let headers, let chunks):
            let body = AsyncThrowingStream<[UInt8], any Error> { continuation in
                for chunk in chunks { continuation.yield(chunk) }
                continuation.finish()
            }
            return TransportResponse(status: status, headers: headers, body: body)
        case .fail(let error):
            throw error
        }
    }
}

extension TransportRequest {
    /// The body as text, for assertions.
    public var bodyText: String { body.map { String(decoding: $0, as: UTF8.self) } ?? "" }
}
