public import Foundation

/// When and how often requests are tried again (`bfl-api.md` §5).
///
/// - GETs (poll, credits, download) are retried after 5xx, timeouts and connection failures.
/// - A POST is retried only when nothing was sent (connect failure). A 429 is not waited out
///   here: it surfaces as `rateLimited` at once, and the job engine puts the job back in its
///   queue (its slot freed, the wait capped and shown, cut short when a slot frees).
/// - Delays grow as `base · 2^(n-1)`, capped, with full jitter; a `Retry-After` header wins.
public struct RetryPolicy: Sendable {
    public var baseDelay: Duration = .milliseconds(500)
    public var maxDelay: Duration = .seconds(30)
    /// The longest `Retry-After` honoured; longer values are cut to this.
    public var maxRetryAfter: Duration = .seconds(300)
    /// Retries of a poll after a failure (the job engine keeps polling until its deadline).
    public var pollRetries = 8
    /// Retries of other GETs (credits, downloads).
    public var getRetries = 3
    /// Retries of a POST that certainly was not sent.
    public var submitRetries = 3
    /// A number in 0…1 that scales each backoff delay (full jitter); injectable for tests.
    public var jitter: @Sendable () -> Double

    public init(jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }) {
        self.jitter = jitter
    }

    /// A policy with no randomness: every delay is its full backoff value.
    public static var deterministic: RetryPolicy { RetryPolicy(jitter: { 1 }) }

    /// The delay before retry number `retry` (1 for the first retry).
    public func delay(forRetry retry: Int, retryAfter: Duration?) -> Duration {
        if let retryAfter { return min(max(retryAfter, .zero), maxRetryAfter) }
        let exponent = min(max(retry - 1, 0), 30)
        let backoff = min(baseDelay * (1 << exponent), maxDelay)
        let fraction = min(1, max(0, jitter()))
        return backoff * fraction
    }

    /// The longest `Retry-After` honoured, in seconds.
    public static let maxRetryAfter: Double = 3600

    /// Reads a `Retry-After` value: delay-seconds, or an HTTP date relative to `now`, clamped
    /// to `maxRetryAfter`.
    public static func parseRetryAfter(_ value: String?, now: Date = Date()) -> Duration? {
        guard let text = value?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let seconds = Double(text) {
            // A server may say anything; an hour is the longest wait we honour.
            guard seconds.isFinite, seconds >= 0 else { return nil }
            return WireNumber.duration(seconds: seconds, clampedTo: 0...maxRetryAfter)
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return WireNumber.duration(seconds: date.timeIntervalSince(now), clampedTo: 0...maxRetryAfter)
    }
}
