import ArgumentParser
import BFL
import FluxdeckApp

/// The full-screen studio: `swift run fluxdeck`.
struct StudioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "studio",
        abstract: "Open the full-screen studio (the default command). Without BFL_API_KEY it runs on the built-in simulator.")

    @OptionGroup var service: ServiceOptions
    @Option(name: .customLong("output-dir"), help: "Where images go (default ~/Pictures/fluxdeck, or output_dir in config.toml).") var outputDir: String?
    @Option(help: "A theme by name (see `fluxdeck themes`) or a path to a .toml file (default: theme in config.toml, else default).",
            completion: Completions.themes) var theme: String?
    @Option(help: "How pictures are shown: auto (ask the terminal), kitty, iterm2, sixel or blocks (default: graphics in config.toml, else auto).")
    var graphics: String?
    @Option(help: ArgumentHelp("Write a line per frame to this file or FIFO (tests).", visibility: .hidden)) var notify: String?

    @MainActor
    func run() async throws {
        var options = StudioOptions()
        options.outputDirectory = outputDir
        options.theme = theme
        options.graphics = graphics
        options.notify = notify
        do { try await StudioLauncher.run(service: service.settings, options: options) } catch let failure as CommandFailure {
            Output.error("fluxdeck: " + TerminalText.sanitize(failure.message))
            throw ExitCode(failure.code.rawValue)
        }
    }
}
