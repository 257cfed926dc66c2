public import Foundation

/// A BFL region.
public enum Region: String, Sendable, Hashable, CaseIterable, Codable {
    case global, eu, us

    /// The API base URL of the region.
    public var baseURL: URL {
        switch self {
        case .global: URL(literal: "https://api.bfl.ai")
        case .eu: URL(literal: "https://api.eu.bfl.ai")
        case .us: URL(literal: "https://api.us.bfl.ai")
        }
    }
}

/// Where each region's API front door is: BFL's own hosts, or those a proxy or the simulator
/// declares (`[endpoint.regions]` in `config.toml`). An empty map: the endpoint has no regions.
public struct RegionMap: Sendable, Hashable {
    public private(set) var urls: [Region: URL]

    public init(urls: [Region: URL]) {
        self.urls = urls
    }

    /// BFL's regions.
    public static let bfl = RegionMap(urls: Dictionary(uniqueKeysWithValues: Region.allCases.map { ($0, $0.baseURL) }))
    public static let none = RegionMap(urls: [:])

    public var isEmpty: Bool { urls.isEmpty }
    public subscript(region: Region) -> URL? { urls[region] }
    /// The regions it has, in `Region` order.
    public var regions: [Region] { Region.allCases.filter { urls[$0] != nil } }

    /// A map from user-given URLs (each checked like a custom endpoint); the problem, if any,
    /// names the region.
    public init(texts: [Region: String]) throws(BFLError) {
        var urls: [Region: URL] = [:]
        for (region, text) in texts {
            guard case .custom(let url)? = Endpoint(customURL: text) else {
                throw BFLError.invalidRequest(["the \(region.rawValue) region's URL is not an absolute http(s) URL: \(text)"])
            }
            // The prompt, the images and the key go to a front door: never in clear text beyond
            // this machine (as a plain-http endpoint is refused).
            guard KeyPolicy.isSecureTransport(url) else {
                throw BFLError.invalidRequest(["the \(region.rawValue) region's URL \(text) is plain http to another machine: prompts and the key would travel in clear; use https (plain http only on loopback)"])
            }
            urls[region] = url
        }
        self.init(urls: urls)
    }
}

/// Where requests go: a BFL region, or a custom base URL (a proxy, the simulator).
public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
    case region(Region)
    case custom(URL)

    /// Parses a user-given base URL; nil when it is not an absolute http(s) URL.
    public init?(customURL text: String) {
        var trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        // Credentials in the URL (user:password@) would travel with every request: refused.
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty,
              url.user == nil, url.password == nil
        else { return nil }
        self = .custom(url)
    }

    public var baseURL: URL {
        switch self {
        case .region(let region): region.baseURL
        case .custom(let url): url
        }
    }

    public var description: String {
        switch self {
        case .region(let region): "\(region.rawValue) (\(region.baseURL.absoluteString))"
        case .custom(let url): url.absoluteString
        }
    }

    /// The URL of an API path such as `v1/credits` below the base URL.
    public func url(path: String) -> URL {
        baseURL.appendingPathComponent(path)
    }
}

/// The cluster hosts where tasks live (`bfl-api.md` §1): the hosts BFL's polling URLs have
/// named. A webhook submission's answer names none, and the front door may not know its task.
public enum ClusterHosts {
    public static let bfl: [URL] = [
        URL(literal: "https://api.eu2.bfl.ai"), URL(literal: "https://api.eu4.bfl.ai"),
        URL(literal: "https://api.us1.bfl.ai"), URL(literal: "https://api.isr.bfl.ai"),
    ]

    /// A user-given cluster base URL, checked like a custom endpoint; nil when it is not one.
    public static func url(_ text: String) -> URL? {
        guard case .custom(let url)? = Endpoint(customURL: text) else { return nil }
        return url
    }
}

/// Decides which URLs may receive the API key: only API hosts, never delivery hosts, never in
/// clear text beyond the loopback interface.
public struct KeyPolicy: Sendable, Hashable {
    public let endpoint: Endpoint
    /// The region front doors requests may also go to (their hosts carry the key too).
    public let regions: RegionMap
    /// The cluster hosts a task may be looked for on (they carry the key too).
    public let clusters: [URL]

    public init(endpoint: Endpoint, regions: RegionMap = .none, clusters: [URL] = []) {
        self.endpoint = endpoint
        self.regions = regions
        self.clusters = clusters
    }

    /// The configured hosts: the endpoint's, its region front doors' and its cluster hosts'.
    private var configuredHosts: Set<String> {
        Set(([endpoint.baseURL] + regions.urls.values + clusters).compactMap { $0.host?.lowercased() })
    }

    /// Whether the endpoint itself may carry the key (https, or plain http to loopback).
    public var endpointIsSecure: Bool { Self.isSecureTransport(endpoint.baseURL) }

    /// Whether a request to `url` may carry `x-key`.
    ///
    /// Allowed: https (or loopback http) to the configured endpoint's host, or https to a BFL API
    /// host (`api.bfl.ai`, `api.eu.bfl.ai`, `api.eu2.bfl.ai`, … — the cluster hosts of polling URLs).
    /// Delivery hosts (`delivery-*.bfl.ai`) and any other host never get it.
    public func allowsKey(for url: URL) -> Bool {
        guard Self.isSecureTransport(url), let host = url.host?.lowercased() else { return false }
        if configuredHosts.contains(host) { return true }
        return url.scheme?.lowercased() == "https" && Self.isBFLAPIHost(host)
    }

    /// `api.bfl.ai` or `api<anything>.<anything>.bfl.ai` whose first label starts with "api".
    public static func isBFLAPIHost(_ host: String) -> Bool {
        let labels = host.lowercased().split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 3, labels.suffix(2) == ["bfl", "ai"],
              let first = labels.first, first.hasPrefix("api")
        else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
        }
    }

    /// Whether a polling URL may be followed: https on a BFL API host on port 443, or the
    /// configured endpoint's own host (a proxy, the simulator, whose cluster listens on another
    /// port) over a transport that may carry the key there.
    public func allowsPolling(_ url: URL) -> Bool {
        guard let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else { return false }
        if scheme == "https", Self.isBFLAPIHost(host), url.port == nil || url.port == 443, url.user == nil { return true }
        // Against BFL's regions only their API hosts on 443 qualify; a custom endpoint's own
        // host does too.
        guard case .custom = endpoint else { return false }
        return configuredHosts.contains(host) && url.user == nil && Self.isSecureTransport(url)
    }

    /// Whether a result URL may be downloaded: https anywhere, http on loopback only.
    public static func allowsDownload(_ url: URL) -> Bool {
        guard url.host.map({ !$0.isEmpty }) == true, url.user == nil else { return false }
        return isSecureTransport(url)
    }

    /// https anywhere, or http to a loopback host.
    public static func isSecureTransport(_ url: URL) -> Bool {
        switch url.scheme?.lowercased() {
        case "https": return true
        case "http": return isLoopback(url.host ?? "")
        default: return false
        }
    }

    /// localhost, 127.0.0.0/8 or ::1.
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if h == "localhost" || h == "::1" { return true }
        let parts = h.split(separator: ".")
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}

extension URL {
    /// A URL from a literal written in our own source; a typo there is a programming error.
    init(literal: StaticString) {
        guard let url = URL(string: "\(literal)") else { preconditionFailure("bad URL literal \(literal)") }
        self = url
    }
}
