import ArgumentParser
import Foundation
import Theme

struct CheckThemeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-theme",
        abstract: "Check a theme file: TOML syntax, known keys and roles, colours, inheritance.",
        discussion: "Shipped themes: \(ThemeLoader.shippedNames.joined(separator: ", ")).")

    @Argument(help: "The theme file (.toml).") var file: String

    func run() async throws {
        try await runReportingFailures {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw CommandFailure.usage("cannot read \(file): \((error as NSError).localizedDescription)")
            }
            do {
                let theme = try ThemeLoader().load(text)
                Output.line("\(file): ok, theme \"\(theme.name)\" (\(theme.variant))")
            } catch let error as ThemeError {
                let place = error.line.map { ":\($0)" + (error.column.map { ":\($0)" } ?? "") } ?? ""
                throw CommandFailure.usage("\(file)\(place): \(error.message)")
            }
        }
    }
}
