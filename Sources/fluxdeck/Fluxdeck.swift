import ArgumentParser

@main
struct Fluxdeck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fluxdeck",
        abstract: "A terminal studio for the Black Forest Labs FLUX image API.",
        discussion: """
            Headless commands price and list models; generation, the job ledger and the \
            full-screen studio are being built (see README.md).
            """,
        version: "0.1.0",
        subcommands: [GenerateCommand.self, BatchCommand.self, JobsCommand.self, CreditsCommand.self, ModelsCommand.self, CostCommand.self, SimulateCommand.self, BenchCommand.self, TerminalCheckCommand.self, CheckThemeCommand.self]
    )
}
