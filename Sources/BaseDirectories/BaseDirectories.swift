import Foundation

/// The XDG base directories fluxdeck keeps its files in, each with its `fluxdeck` folder.
///
/// A variable that is unset, empty or relative is ignored, as the XDG specification asks: a
/// relative one would name a different folder in every working directory, so two terminals
/// would open two ledgers.
public enum BaseDirectory: Sendable, CaseIterable {
    /// `$XDG_DATA_HOME`, else `~/.local/share`: the ledger.
    case data
    /// `$XDG_CONFIG_HOME`, else `~/.config`: `config.toml` and themes.
    case config
    /// `$XDG_CACHE_HOME`, else `~/.cache`: thumbnails.
    case cache
    /// `$XDG_STATE_HOME`, else `~/.local/state`: the log.
    case state

    var variable: String {
        switch self {
        case .data: "XDG_DATA_HOME"
        case .config: "XDG_CONFIG_HOME"
        case .cache: "XDG_CACHE_HOME"
        case .state: "XDG_STATE_HOME"
        }
    }

    var fallback: String {
        switch self {
        case .data: ".local/share"
        case .config: ".config"
        case .cache: ".cache"
        case .state: ".local/state"
        }
    }

    /// `<base>/fluxdeck`, then `components` below it, as a path.
    public func path(_ components: String..., environment: [String: String]) -> String {
        ([base(environment: environment), "fluxdeck"] + components).joined(separator: "/")
    }

    /// The base directory itself (`$XDG_DATA_HOME`, …), for what is shared with other programs
    /// (the freedesktop Trash lives in `$XDG_DATA_HOME/Trash`).
    public func base(environment: [String: String]) -> String {
        var base: String
        if let value = environment[variable], value.hasPrefix("/") {
            base = value
        } else {
            base = (environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()) + "/" + fallback
        }
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        return base
    }
}
