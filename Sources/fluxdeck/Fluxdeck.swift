import ArgumentParser
import FluxdeckApp

#if canImport(Glibc)
import Glibc
#endif

@main
struct Fluxdeck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fluxdeck",
        abstract: "A terminal studio for the Black Forest Labs FLUX image API.",
        discussion: """
            Without a subcommand, fluxdeck opens the full-screen studio (on the built-in \
            simulator when BFL_API_KEY is not set). The other commands work headless.
            """,
        version: "0.1.0",
        subcommands: [StudioCommand.self, GenerateCommand.self, EditCommand.self, BatchCommand.self, JobsCommand.self, CreditsCommand.self, ModelsCommand.self, CostCommand.self, SpendCommand.self, SimulateCommand.self, TerminalCheckCommand.self, CheckThemeCommand.self, ThemesCommand.self],
        defaultSubcommand: StudioCommand.self
    )

    /// A helper that exits without reading what fluxdeck writes to it (a clipboard tool that
    /// cannot reach the display) must not end fluxdeck with SIGPIPE: the write fails with
    /// EPIPE instead, and the helper's failure is reported. Children start with it at its
    /// default again (their spawners reset every signal).
    ///
    /// A command line it cannot take (an unknown flag, `--count -1`) exits 2 with one
    /// `fluxdeck: …` line, as the checks of a request do (ArgumentParser's own would exit 64).
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exitForUsage(error)
        }
        do {
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                var synchronous = command
                try synchronous.run()
            }
        } catch {
            exitForUsage(error)
        }
    }

    /// Help and version exit as ArgumentParser has them; a usage error is one line and 2.
    static func exitForUsage(_ error: any Error) -> Never {
        guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
        let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "the command line is not valid"
        Output.error("fluxdeck: " + message.prefix(1).lowercased() + message.dropFirst() + " (see --help)")
        Glibc.exit(Output.Code.usage.rawValue)
    }
}
