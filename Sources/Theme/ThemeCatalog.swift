import Foundation
import BaseDirectories
import TOMLFiles

/// Where themes come from: the shipped ones, built into the binary from `themes/`, and the
/// user's own `.toml` files in `$XDG_CONFIG_HOME/fluxdeck/themes/`. A user theme overrides a
/// shipped one of the same name. `--theme`, `theme =` in the configuration, `inherits` and
/// `check-theme` all resolve through one catalog.
public struct ThemeCatalog: Sendable {
    public enum Origin: Sendable, Equatable, CustomStringConvertible {
        case shipped
        /// A file in the user's theme folder.
        case user(path: String)
        /// A file named by its path.
        case file(path: String)

        public var description: String {
            switch self {
            case .shipped: "shipped"
            case .user(let path), .file(let path): path
            }
        }
    }

    public struct Entry: Sendable, Equatable {
        public var name: String
        public var origin: Origin
        /// A user theme that hides a shipped one of the same name.
        public var overridesShipped: Bool
    }

    /// The user's theme folder (nil: shipped themes only).
    public let userDirectory: String?

    public init(userDirectory: String?) {
        self.userDirectory = userDirectory
    }

    /// `$XDG_CONFIG_HOME/fluxdeck/themes`, else `~/.config/fluxdeck/themes`.
    public static func userDirectory(environment: [String: String]) -> String {
        BaseDirectory.config.path("themes", environment: environment)
    }

    /// Every theme by name: the user's where they exist, else the shipped ones.
    public func entries() -> [Entry] {
        let shipped = Set(ThemeLoader.shippedNames)
        var byName: [String: Entry] = [:]
        for name in shipped { byName[name] = Entry(name: name, origin: .shipped, overridesShipped: false) }
        for (name, path) in userFiles() {
            byName[name] = Entry(name: name, origin: .user(path: path), overridesShipped: shipped.contains(name))
        }
        return byName.values.sorted { $0.name < $1.name }
    }

    /// The text of the theme called `name`, the user's first.
    public func text(named name: String) throws(ThemeError) -> (text: String, origin: Origin)? {
        if let path = userFiles()[name] { return (try Self.read(path), .user(path: path)) }
        return ThemeLoader.shippedTheme(named: name).map { ($0, .shipped) }
    }

    /// A loader whose `inherits` resolves through this catalog. A theme that inherits a name
    /// already on its chain (a user's `default` that inherits `default`) gets the shipped one.
    public var loader: ThemeLoader {
        let catalog = self
        return ThemeLoader { name, chain in
            if chain.contains(name) { return ThemeLoader.shippedTheme(named: name) }
            return (try? catalog.text(named: name))??.text
        }
    }

    /// A theme by name, or by path when `reference` holds a `/` or ends in `.toml`.
    public func load(_ reference: String) throws(ThemeError) -> (theme: Theme, origin: Origin) {
        let text: String, origin: Origin, chain: [String]
        if reference.contains("/") || reference.hasSuffix(".toml") {
            text = try Self.read(reference)
            origin = .file(path: reference)
            chain = []
        } else if let found = try self.text(named: reference) {
            (text, origin) = found
            chain = [reference]
        } else {
            let known = entries().map(\.name).joined(separator: ", ")
            throw ThemeError(message: "no theme \"\(reference)\" (themes: \(known); or give a path to a .toml file)")
        }
        do {
            return (try loader.load(text, chain: chain), origin)
        } catch {
            // The error's line is in the file that was read: say which.
            var located = error
            if located.file == nil { located.file = origin == .shipped ? "shipped theme \(reference)" : origin.description }
            throw located
        }
    }

    /// The user's theme files by name.
    private func userFiles() -> [String: String] {
        guard let userDirectory,
              let names = try? FileManager.default.contentsOfDirectory(atPath: userDirectory)
        else { return [:] }
        var files: [String: String] = [:]
        for file in names where file.hasSuffix(".toml") && !file.hasPrefix(".") {
            files[String(file.dropLast(5))] = (userDirectory as NSString).appendingPathComponent(file)
        }
        return files
    }

    /// The file's text, refused before reading when it is not a regular file or larger than
    /// `TOMLDocument.maxBytes`.
    private static func read(_ path: String) throws(ThemeError) -> String {
        do { return try TOMLDocument.read(path: path) } catch {
            throw ThemeError(message: error.message)
        }
    }
}
