import ArgumentParser
import FluxdeckApp
import BFL
import Foundation
import Theme

struct CheckThemeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-theme",
        abstract: "Check a theme: TOML syntax, known keys and roles, colours, inheritance.",
        discussion: "Give a path to a .toml file, or the name of a theme (`fluxdeck themes` lists them).")

    @Argument(help: "A theme file (.toml) or a theme's name.", completion: Completions.themes) var theme: String

    func run() async throws {
        try await runReportingFailures {
            let catalog = ThemeCatalog(userDirectory: ThemeCatalog.userDirectory(environment: ProcessInfo.processInfo.environment))
            do throws(ThemeError) {
                let (loaded, origin) = try catalog.load(theme)
                Output.line(TerminalText.sanitize("\(theme): ok, theme \"\(loaded.name)\" (\(loaded.variant), \(origin))"))
            } catch {
                throw CommandFailure.usage(TerminalText.sanitize(error.file == nil ? "\(theme): \(error)" : "\(error)"))
            }
        }
    }
}

struct ThemesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "themes",
        abstract: "List the themes: shipped ones and yours.",
        discussion: "Your themes are .toml files in $XDG_CONFIG_HOME/fluxdeck/themes/ (else ~/.config/fluxdeck/themes/); one named like a shipped theme replaces it.")

    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await runReportingFailures {
            let directory = ThemeCatalog.userDirectory(environment: ProcessInfo.processInfo.environment)
            let catalog = ThemeCatalog(userDirectory: directory)
            var rows: [[String: Any]] = []
            for entry in catalog.entries() {
                let problem: String?
                let variant: String?
                do {
                    let loaded = try catalog.load(entry.name).theme
                    (variant, problem) = (loaded.variant, nil)
                } catch {
                    (variant, problem) = (nil, "\(error)")
                }
                var row: [String: Any] = ["name": entry.name, "origin": entry.origin == .shipped ? "shipped" : "user",
                                          "overrides_shipped": entry.overridesShipped]
                if case .user(let path) = entry.origin { row["path"] = path }
                if let variant { row["variant"] = variant }
                if let problem { row["error"] = problem }
                rows.append(row)
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys])
                Output.line(String(decoding: data, as: UTF8.self))
                return
            }
            for row in rows {
                let name = row["name"] as? String ?? ""
                var where_ = row["origin"] as? String ?? ""
                if let path = row["path"] as? String {
                    where_ = (row["overrides_shipped"] as? Bool ?? false) ? "\(path) (replaces the shipped one)" : path
                }
                let detail = (row["error"] as? String).map { "unusable: \($0)" } ?? (row["variant"] as? String ?? "")
                Output.line(TerminalText.sanitize("\(name.padding(toLength: max(12, name.count), withPad: " ", startingAt: 0)) \(where_)  \(detail)"))
            }
            Output.line("your themes: \(directory)")
        }
    }
}
