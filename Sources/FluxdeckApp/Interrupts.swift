import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT, SIGTERM and SIGHUP as events for a headless command: the first is handed over (a
/// graceful stop: no new request leaves, those already sent are given a few seconds to be
/// answered and recorded), the second ends the process at once. Unchecked: the dispatch
/// sources it keeps alive are touched only under its lock.
public final class Interrupts: @unchecked Sendable {
    private let stream: AsyncStream<Int32>
    private let continuation: AsyncStream<Int32>.Continuation
    private let count = Mutex(0)
    private let lock = NSLock()
    private var sources: [any DispatchSourceSignal] = []

    /// The signals watched.
    public static let watched = [SIGINT, SIGTERM, SIGHUP]
    /// How long a graceful stop waits for the answers of requests already sent.
    public static let grace: Duration = .seconds(5)

    /// Starts watching (their default actions, which end the process at once, are off until
    /// `stop`). Created outside any actor: a closure made in main-actor code and run on a
    /// dispatch queue traps under Swift 6.
    public nonisolated init() {
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        for number in Self.watched {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.received(number) }
            source.resume()
            lock.withLock { sources.append(source) }
        }
    }

    private func received(_ number: Int32) {
        let seen = count.withLock { value -> Int in
            value += 1
            return value
        }
        if seen == 1 {
            continuation.yield(number)
        } else {
            // The second: at once (the ledger already holds every job; what was not answered
            // becomes unknown on the next resume, never resent).
            Glibc._exit(128 + number)
        }
    }

    /// The first signal, when it comes (nil when watching stopped first).
    public func first() async -> Int32? {
        var iterator = stream.makeAsyncIterator()
        return await iterator.next()
    }

    /// Stops watching and gives the signals their default actions back.
    public func stop() {
        continuation.finish()
        lock.withLock {
            for source in sources { source.cancel() }
            sources.removeAll()
        }
        for number in Self.watched { signal(number, SIG_DFL) }
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
