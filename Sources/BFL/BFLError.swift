/// Everything that can go wrong talking to the BFL API, each with a one-line message and a hint.
public enum BFLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No key configured, or the server said "Not authenticated".
    case missingKey
    /// The server rejected the key's format (422 "Invalid API key format").
    case malformedKey
    /// The key is unknown or revoked (403 "… Invalid Authentication", or 401).
    case invalidKey
    /// The key is valid but lacks permission for this request (other 403s).
    case permissionDenied(String?)
    /// 402: no credits or no payment method.
    case insufficientCredits(String?)
    /// Local validation failed; nothing was sent.
    case invalidRequest([String])
    /// The server refused the request's fields (422 with a FastAPI detail list, or a 400).
    case validation([String])
    /// 429: too many active tasks. Requeue, do not fail.
    case rateLimited(retryAfter: Duration?)
    /// 404: unknown path, or a regional task polled on the wrong host.
    case notFound(String?)
    /// The input was blocked by moderation.
    case requestModerated(String?)
    /// The output was blocked by moderation.
    case contentModerated(String?)
    /// The task ended in `Error`.
    case generationFailed(String?)
    /// The task id is unknown or has expired on the server.
    case taskNotFound
    /// 5xx after retries.
    case serverError(status: Int, message: String?)
    /// Another HTTP status the client does not expect.
    case unexpectedStatus(status: Int, message: String?)
    /// A connection failure or timeout after retries.
    case network(String)
    /// The POST may have reached the server (5xx, timeout or reset after sending): the task may
    /// exist and be billed, so it is never sent again automatically.
    case submitOutcomeUnknown(String)
    /// The result URL answered 403/404: it has expired (they live 10 minutes).
    case resultExpired
    /// The download exceeded the size cap.
    case downloadTooLarge(limit: Int)
    /// The server's reply could not be read.
    case malformedResponse(String)
    /// An API reply larger than fluxdeck reads (a poll or credits answer is a few KB): asking
    /// again would only fetch it again, so it is final.
    case replyTooLarge(limit: Int)
    /// The endpoint would send the key in clear text to a non-loopback host.
    case insecureEndpoint(String)
    /// A local file could not be written or read.
    case fileSystem(String)
    /// A URL from the server that fluxdeck will not follow (a polling URL off the API hosts, a
    /// result URL in clear text, a redirect from https to http). Nothing was sent to it.
    case refusedURL(String)

    /// One sentence saying what happened.
    public var message: String {
        switch self {
        case .missingKey: "Not authenticated: no BFL API key was sent."
        case .malformedKey: "The BFL API key is malformed (the server rejected its format)."
        case .invalidKey: "The BFL API key is not valid (unknown or revoked)."
        case .permissionDenied(let m): "The API key may not do this" + Self.suffix(m)
        case .insufficientCredits(let m): "Not enough credits for this request" + Self.suffix(m)
        case .invalidRequest(let problems): "Invalid request: " + problems.joined(separator: "; ") + "."
        case .validation(let problems): "The API rejected the request: " + problems.joined(separator: "; ") + "."
        case .rateLimited: "Too many active tasks on this account (HTTP 429)."
        case .notFound(let m): "Not found (HTTP 404)" + Self.suffix(m)
        case .requestModerated(let m): "The request was blocked by moderation" + Self.suffix(m)
        case .contentModerated(let m): "The generated image was blocked by moderation" + Self.suffix(m)
        case .generationFailed(let m): "The generation failed" + Self.suffix(m)
        case .taskNotFound: "The task is unknown to the server or has expired."
        case .serverError(let status, let m): "The BFL server failed (HTTP \(status))" + Self.suffix(m)
        case .unexpectedStatus(let status, let m): "Unexpected reply (HTTP \(status))" + Self.suffix(m)
        case .network(let m): "Network failure: \(m)."
        case .submitOutcomeUnknown(let m): "The submission may or may not have reached BFL (\(m))."
        case .resultExpired: "The result URL has expired (results can be downloaded for 10 minutes)."
        case .downloadTooLarge(let limit): "The image is larger than the \(limit / 1_048_576) MiB download limit."
        case .replyTooLarge(let limit): "The API's reply is larger than the \(limit / 1024) KiB an answer may be."
        case .malformedResponse(let m): "The server's reply could not be read: \(m)."
        case .insecureEndpoint(let url): "Refusing to send the API key in clear text to \(url)."
        case .fileSystem(let m): "File error: \(m)."
        case .refusedURL(let m): "Refused to follow \(m); nothing was sent there."
        }
    }

    /// What the user can do about it.
    public var hint: String {
        switch self {
        case .missingKey:
            "Set BFL_API_KEY in the environment or in a .env file (keys come from the BFL dashboard), or try the offline simulator with --simulator."
        case .malformedKey, .invalidKey:
            "Check BFL_API_KEY: copy the key again from the BFL dashboard, without quotes or spaces."
        case .permissionDenied: "Check the key's permissions in the BFL dashboard."
        case .insufficientCredits: "Add credits or a payment method in the BFL dashboard; `fluxdeck credits` shows the balance."
        case .invalidRequest, .validation: "Fix the parameters named above; `fluxdeck models` lists what each model takes."
        case .rateLimited(let after):
            after.map { "The job is queued again and retried in \($0.components.seconds) s." }
                ?? "The job is queued again and retried shortly."
        case .notFound: "Check the model id and the endpoint or region."
        case .requestModerated: "Rephrase the prompt or change the input images; moderated requests are not retried."
        case .contentModerated: "Try another prompt or seed; moderated results are not retried."
        case .generationFailed: "Retry the job; if it keeps failing, change the parameters."
        case .taskNotFound: "Tasks are kept for a limited time; submit again if you still need the image."
        case .serverError: "BFL may be overloaded; try again in a minute."
        case .unexpectedStatus: "Try again; if it persists, check the endpoint."
        case .network: "Check the network connection and the endpoint, then retry."
        case .submitOutcomeUnknown:
            "It was not resent, to avoid paying twice; `fluxdeck jobs` shows it as unknown. Check the BFL dashboard before resubmitting."
        case .resultExpired: "Submit the job again to get a new image (this costs credits again)."
        case .downloadTooLarge: "Raise the download limit if this image is expected to be this large."
        case .malformedResponse: "The API may have changed; please report this with the log file."
        case .replyTooLarge: "If you use a proxy, check what it returns; fluxdeck does not ask again."
        case .insecureEndpoint: "Use an https:// endpoint, or a loopback address for a local proxy or the simulator."
        case .fileSystem: "Check that the output folder exists, is writable and has free space."
        case .refusedURL: "The server answered with a URL outside BFL's API hosts (or in clear text); if you use a proxy, check what it returns."
        }
    }

    public var description: String { message }

    /// Whether the failure is about the key (exit code and hint choices depend on it).
    public var isAuthentication: Bool {
        switch self {
        case .missingKey, .malformedKey, .invalidKey, .permissionDenied: true
        default: false
        }
    }

    private static func suffix(_ detail: String?) -> String {
        guard let detail, !detail.isEmpty else { return "." }
        let clean = TerminalText.message(detail)
        return clean.hasSuffix(".") ? ": \(clean)" : ": \(clean)."
    }
}
