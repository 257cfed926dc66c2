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
        subcommands: [StudioCommand.self, GenerateCommand.self, BatchCommand.self, JobsCommand.self, CreditsCommand.self, ModelsCommand.self, CostCommand.self, SpendCommand.self, SimulateCommand.self, TerminalCheckCommand.self, CheckThemeCommand.self, ThemesCommand.self],
        defaultSubcommand: StudioCommand.self
    )

    /// A helper that exits without reading what fluxdeck writes to it (a clipboard tool that
    /// cannot reach the display) must not end fluxdeck with SIGPIPE: the write fails with
    /// EPIPE instead, and the helper's failure is reported. Children start with it at its
    /// default again (their spawners reset every signal).
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        await main(nil)
    }
}
