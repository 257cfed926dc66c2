public import Studio
public import BFL
public import Foundation
import TOMLFiles
public import TerminalGraphics
import BaseDirectories

/// `config.toml`: the studio's defaults. Every key is optional; an unknown key or a bad value
/// is an error that names its line.
///
///     region = "eu"              # global, eu or us
///     model = "flux-2-pro"
///     theme = "frost"            # a shipped theme or a file
///     graphics = "auto"          # auto, kitty, iterm2, sixel or blocks
///     output_dir = "~/Pictures/fluxdeck"
///     max_decode_megapixels = 50 # previews refuse images larger than this
///     [budget]
///     daily = 200                # credits per calendar day
///     session = 50               # credits per studio session
///     confirm_above = 100        # ask before a submission estimated at this or more (0: never)
///     warn_below = 500           # the balance turns red below this; a submission leaving less says so once
///     [webhook]
///     listen = "127.0.0.1:8787"  # receive BFL's webhooks here (as --webhook-listen)
///     url = "https://tunnel.example/fluxdeck/webhook"   # the public URL that forwards to it
///     secret = "…"               # else a random one each run
///     [notify]
///     via = "both"               # bell, osc9, osc777, both (bell + osc9) or off
///     min_seconds = 10           # only for groups that took at least this long
///     [keys]
///     quit = ["ctrl-q"]          # a command's keys, everywhere it is bound
///     "jobs.abandon" = "A"       # or in one place only
///     [endpoint]
///     clusters = ["https://proxy.example/eu2"]   # where a webhook job is looked for (BFL's are built in)
///     [endpoint.regions]         # a proxy's region front doors (BFL's are built in)
///     eu = "https://proxy.example/eu"
public struct Config: Sendable, Equatable {
    public var region: Region?
    public var model: String?
    public var theme: String?
    /// `graphics`: how the studio shows pictures.
    public var graphics: GraphicsChoice?
    public var outputDirectory: String?
    public var dailyBudget: Credits?
    public var sessionBudget: Credits?
    /// The most megapixels a preview decodes (default 50).
    public var maxDecodeMegapixels: Int?
    /// Nil: the default (`Budget.defaultConfirmAbove`); zero: never ask.
    public var confirmAbove: Credits?
    /// `[budget] warn_below`: the balance is low below this.
    public var warnBelow: Credits?
    /// `[budget] repeat_guard`: the same submission twice within two seconds asks first.
    public var repeatGuard = true
    /// `[notify]`: how finished groups are announced.
    public var notify = NotifySettings()
    /// `[webhook]`: the receiver's address, the public URL that reaches it, and its secret.
    public var webhookListen: String?
    public var webhookURL: String?
    public var webhookSecret: String?
    /// The studio's keys, with `[keys]` applied.
    public var keymap = Keymap.standard
    /// `[endpoint.regions]`: the region front doors of a custom endpoint.
    public var endpointRegions = RegionMap.none
    /// `[endpoint] clusters`: the cluster hosts of a custom endpoint (where a task submitted
    /// without a polling URL is looked for).
    public var endpointClusters: [URL] = []

    /// `$XDG_CONFIG_HOME/fluxdeck/config.toml`, else `~/.config/fluxdeck/config.toml`.
    public static func defaultPath(environment: [String: String]) -> String {
        BaseDirectory.config.path("config.toml", environment: environment)
    }

    /// Reads the file at `path`; a missing file is an empty configuration.
    public static func load(path: String) throws -> Config {
        guard FileManager.default.fileExists(atPath: path) else { return Config() }
        let text: String
        do { text = try TOMLDocument.read(path: path) } catch {
            throw CommandFailure.usage(error.message)
        }
        do { return try parse(text) } catch let error as TOMLError {
            throw CommandFailure.usage("\(path): \(error)")
        }
    }

    public static func parse(_ text: String) throws -> Config {
        let document = try TOMLDocument(text)
        var config = Config()
        for (key, value) in document.values {
            switch key {
            case "region":
                guard let text = value as? String, let region = Region(rawValue: text) else {
                    throw document.error("region must be \"global\", \"eu\" or \"us\"", key: key)
                }
                config.region = region
            case "model":
                guard let text = value as? String, Catalog.model(id: text) != nil else {
                    throw document.error("model must be one of: \(Catalog.knownIDsSentence)", key: key)
                }
                config.model = text
            case "graphics":
                guard let text = value as? String, let choice = GraphicsChoice(text) else {
                    throw document.error("graphics must be one of \(GraphicsChoice.names.map { "\"\($0)\"" }.joined(separator: ", "))", key: key)
                }
                config.graphics = choice
            case "theme":
                guard let text = value as? String else { throw document.error("theme must be a name or a path in quotes", key: key) }
                config.theme = text
            case "output_dir":
                guard let text = value as? String else { throw document.error("output_dir must be a path in quotes", key: key) }
                config.outputDirectory = text
            case "max_decode_megapixels":
                guard let number = TOMLDocument.number(value),
                      (1...1000).contains(number.doubleValue), number.doubleValue == number.doubleValue.rounded() else {
                    throw document.error("max_decode_megapixels must be a whole number from 1 to 1000", key: key)
                }
                config.maxDecodeMegapixels = number.intValue
            case "budget":
                guard let table = value as? [String: Any] else { throw document.error("budget must be a table ([budget])", key: key) }
                for (name, limit) in table {
                    guard ["daily", "session", "confirm_above", "warn_below", "repeat_guard"].contains(name) else {
                        throw document.error("unknown key budget.\(name) (known: daily, session, confirm_above, warn_below, repeat_guard)", key: name)
                    }
                    if name == "repeat_guard" {
                        guard let on = TOMLDocument.boolean(limit) else { throw document.error("budget.repeat_guard must be true or false", key: name) }
                        config.repeatGuard = on
                        continue
                    }
                    let zeroAllowed = name == "confirm_above"
                    guard let number = TOMLDocument.number(limit),
                          number.doubleValue > 0 || (zeroAllowed && number.doubleValue == 0),
                          let decimal = Decimal(string: number.stringValue, locale: Locale(identifier: "en_US_POSIX")) else {
                        throw document.error("budget.\(name) must be a \(zeroAllowed ? "positive number of credits, or 0 to never ask" : "positive number of credits")", key: name)
                    }
                    let credits = Credits(decimal)
                    switch name {
                    case "daily": config.dailyBudget = credits
                    case "session": config.sessionBudget = credits
                    case "warn_below": config.warnBelow = credits
                    default: config.confirmAbove = credits
                    }
                }
            case "webhook":
                guard let table = value as? [String: Any] else { throw document.error("webhook must be a table ([webhook])", key: key) }
                for (name, entry) in table {
                    guard let text = entry as? String else { throw document.error("webhook.\(name) must be text in quotes", key: name) }
                    switch name {
                    case "listen": config.webhookListen = text
                    case "url":
                        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                            throw document.error("webhook.url must be an http(s) URL", key: name)
                        }
                        config.webhookURL = text
                    case "secret":
                        guard !text.isEmpty else { throw document.error("webhook.secret is empty; leave it out for a random one each run", key: name) }
                        config.webhookSecret = text
                    default:
                        throw document.error("unknown key webhook.\(name) (known: listen, url, secret)", key: name)
                    }
                }
            case "notify":
                guard let table = value as? [String: Any] else { throw document.error("notify must be a table ([notify])", key: key) }
                for (name, entry) in table {
                    switch name {
                    case "via":
                        guard let text = entry as? String, let via = NotifySettings.Via(rawValue: text) else {
                            throw document.error("notify.via must be one of \(NotifySettings.Via.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))", key: name)
                        }
                        config.notify.via = via
                    case "min_seconds":
                        guard let number = TOMLDocument.number(entry),
                              (0...86_400).contains(number.doubleValue) else {
                            throw document.error("notify.min_seconds must be a number of seconds from 0 to 86400", key: name)
                        }
                        config.notify.minSeconds = number.doubleValue
                    default:
                        throw document.error("unknown key notify.\(name) (known: via, min_seconds)", key: name)
                    }
                }
            case "keys":
                guard let table = value as? [String: Any] else { throw document.error("keys must be a table ([keys])", key: key) }
                var entries: [(name: String, keys: [String])] = []
                // `jobs.abandon = "A"` is a table `jobs` in TOML; `"jobs.abandon" = "A"` is one key.
                func collect(_ table: [String: Any], prefix: String) throws {
                    for (name, raw) in table.sorted(by: { $0.key < $1.key }) {
                        let full = prefix + name
                        if let nested = raw as? [String: Any], prefix.isEmpty {
                            try collect(nested, prefix: full + ".")
                        } else if let one = raw as? String {
                            entries.append((full, [one]))
                        } else if let many = raw as? [Any], let names = many as? [String] {
                            entries.append((full, names))
                        } else {
                            throw document.error("keys.\(full) must be a key in quotes or a list of them, such as \"ctrl-q\" or [\"q\", \"f10\"]", key: name)
                        }
                    }
                }
                try collect(table, prefix: "")
                do {
                    config.keymap = try Keymap.standard.remapped(entries)
                } catch {
                    let name = error.entry.split(separator: ".").last.map(String.init) ?? error.entry
                    throw document.error("[keys] \(error.message)", key: name)
                }
            case "endpoint":
                guard let table = value as? [String: Any] else { throw document.error("endpoint must be a table ([endpoint.regions])", key: key) }
                for (name, entry) in table {
                    switch name {
                    case "regions":
                        guard let regions = entry as? [String: Any] else {
                            throw document.error("endpoint.regions must be a table of region = \"URL\"", key: name)
                        }
                        var texts: [Region: String] = [:]
                        for (regionName, url) in regions {
                            guard let region = Region(rawValue: regionName) else {
                                throw document.error("endpoint.regions.\(regionName): a region is global, eu or us", key: regionName)
                            }
                            guard let text = url as? String else {
                                throw document.error("endpoint.regions.\(regionName) must be a URL in quotes", key: regionName)
                            }
                            texts[region] = text
                        }
                        // Each front door on its own first, so a problem names its line.
                        for (region, text) in texts.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                            do { _ = try RegionMap(texts: [region: text]) } catch {
                                throw document.error("[endpoint.regions] \(error.message)", key: region.rawValue)
                            }
                        }
                        do { config.endpointRegions = try RegionMap(texts: texts) } catch {
                            throw document.error("[endpoint.regions] \(error.message)", key: "regions")
                        }
                    case "clusters":
                        guard let list = entry as? [Any], let texts = list as? [String] else {
                            throw document.error("endpoint.clusters must be a list of URLs in quotes, such as [\"https://proxy.example/eu2\"]", key: name)
                        }
                        config.endpointClusters = try texts.map { text in
                            guard let url = ClusterHosts.url(text) else {
                                throw document.error("endpoint.clusters: \"\(TerminalText.sanitize(text))\" is not an absolute http(s) URL", key: name)
                            }
                            guard KeyPolicy.isSecureTransport(url) else {
                                throw document.error("endpoint.clusters: \"\(TerminalText.sanitize(text))\" is plain http to another machine (the key would travel in clear); use https", key: name)
                            }
                            return url
                        }
                    default:
                        throw document.error("unknown key endpoint.\(name) (known: clusters, [endpoint.regions])", key: name)
                    }
                }
            default:
                throw document.error("unknown key \(key) (known: region, model, theme, graphics, output_dir, [notify], [webhook], max_decode_megapixels, [budget], [keys], [endpoint])", key: key)
            }
        }
        return config
    }
}
