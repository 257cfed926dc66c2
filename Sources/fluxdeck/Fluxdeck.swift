import ArgumentParser

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
        subcommands: [StudioCommand.self, GenerateCommand.self, BatchCommand.self, JobsCommand.self, CreditsCommand.self, ModelsCommand.self, CostCommand.self, SimulateCommand.self, BenchCommand.self, TerminalCheckCommand.self, CheckThemeCommand.self, ThemesCommand.self],
        defaultSubcommand: StudioCommand.self
    )
}
