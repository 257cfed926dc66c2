import Foundation
import StudioRuntime
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT, SIGTERM and SIGHUP as events for a headless command: the first is handed over (a
/// graceful stop: no new request leaves, those already sent are given a few seconds to be
/// answered and recorded), the second ends the process at once. Built on the studio's
/// `StopFlag`, which watches the same signals.
public final class Interrupts: Sendable {
    private let stream: AsyncStream<Int32>
    private let continuation: AsyncStream<Int32>.Continuation
    private let flag: StopFlag

    /// How long a graceful stop waits for the answers of requests already sent.
    public static let grace: Duration = .seconds(5)

    /// Starts watching (their default actions, which end the process at once, are off until
    /// `stop`).
    public nonisolated init() {
        let (stream, continuation) = AsyncStream<Int32>.makeStream(bufferingPolicy: .bufferingNewest(1))
        (self.stream, self.continuation) = (stream, continuation)
        flag = StopFlag(onSignal: { number, count in
            // The second: at once (the ledger already holds every job; what was not answered
            // becomes unknown on the next resume, never resent).
            if count == 1 { continuation.yield(number) } else { Glibc._exit(128 + number) }
        })
        flag.watchSignals()
    }

    /// The first signal, when it comes (nil when watching stopped first).
    public func first() async -> Int32? {
        var iterator = stream.makeAsyncIterator()
        return await iterator.next()
    }

    /// Stops watching and gives the signals their default actions back.
    public func stop() {
        continuation.finish()
        flag.stop()
    }

    /// "SIGTERM" and the like.
    public static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        default: "signal \(number)"
        }
    }
}
