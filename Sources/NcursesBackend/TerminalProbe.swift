import CNcursesw
#if canImport(Glibc)
import Glibc
#endif

/// Asks the terminal something before the screen starts: the query is written, the terminal
/// put in raw mode so its answer is neither echoed nor held for a line end, and whatever
/// arrives is collected until `isComplete` says so or the time is up. The terminal's
/// settings are put back either way.
public enum TerminalProbe {
    /// The bytes that arrived (empty when nothing did in time), or nil when `input` is not a
    /// terminal and nothing was asked.
    public static func ask(_ query: [UInt8], input: Int32 = 0, output: Int32 = 1,
                           timeoutMilliseconds: Int, isComplete: ([UInt8]) -> Bool) -> [UInt8]? {
        guard isatty(input) == 1 else { return nil }
        var saved = termios()
        guard tcgetattr(input, &saved) == 0 else { return nil }
        var raw = saved
        cfmakeraw(&raw)
        guard tcsetattr(input, TCSANOW, &raw) == 0 else { return nil }
        defer { _ = tcsetattr(input, TCSANOW, &saved) }

        var written = 0
        while written < query.count {
            let n = query[written...].withUnsafeBytes { Glibc.write(output, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return [] }
            written += n
        }
        let deadline = now() + timeoutMilliseconds
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while !isComplete(answer) {
            let left = deadline - now()
            guard left > 0 else { break }
            var poller = pollfd(fd: input, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(clamping: left))
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { break }
            let n = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR || errno == EAGAIN { continue }
            guard n > 0 else { break }
            answer += chunk[0..<n]
        }
        return answer
    }

    /// Milliseconds on the monotonic clock.
    private static func now() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1000 + time.tv_nsec / 1_000_000
    }
}
