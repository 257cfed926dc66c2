public import Hummingbird
import Logging

/// A Hummingbird server started on an address, with the port it is bound to. The simulator's
/// listeners and the webhook receiver start and stop through this one helper.
public struct RunningListener: Sendable {
    /// The port the server is bound to (the system's choice when 0 was asked).
    public let port: Int
    private let run: Task<Void, Never>

    /// Starts `responder` on `host:port`, quiet in the logs (the callers log what matters), and
    /// waits until it listens; nil when it cannot (the port is in use, the host is not ours).
    public static func start<Context: RequestContext>(
        host: String, port: Int, label: String, responder: CallbackResponder<Context>
    ) async -> RunningListener? where Context.Source == ApplicationRequestContextSource {
        var logger = Logger(label: label)
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? port) },
            logger: logger)
        let run = Task {
            do { try await app.run() } catch {}
            continuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next() else {
            run.cancel()
            await run.value
            return nil
        }
        return RunningListener(port: bound, run: run)
    }

    /// Stops listening (Hummingbird's graceful shutdown on cancellation) and waits until it has.
    public func stop() async {
        run.cancel()
        await run.value
    }
}
