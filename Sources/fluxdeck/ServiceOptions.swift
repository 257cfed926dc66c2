public import ArgumentParser
import BFL
import FluxdeckApp

extension Region: ExpressibleByArgument {}
extension OutputFormat: ExpressibleByArgument {}

/// The options every command that talks to the API shares.
struct ServiceOptions: ParsableArguments {
    @Option(help: "The BFL region: global, eu or us (default: global).")
    var region: Region?

    @Option(help: "A custom API base URL (a proxy, or a running `fluxdeck simulate`); also BFL_API_ENDPOINT.")
    var endpoint: String?

    @Flag(help: "Run against an in-process offline simulator (no credits spent).")
    var simulator = false

    @Option(name: .customLong("max-active"), help: "Jobs active at once on the account (default 24; Kontext [max] is held to 6).")
    var maxActive: Int?

    @Option(name: .customLong("sim-time-scale"), help: ArgumentHelp("Service-time scale of --simulator.", visibility: .hidden))
    var simulatorTimeScale: Double = 1

    @Option(help: "The configuration file (default $XDG_CONFIG_HOME/fluxdeck/config.toml).")
    var config: String?

    @Option(name: .customLong("webhook-listen"), help: "Receive BFL's webhooks on HOST:PORT (port 0: any free one); jobs then wait for their webhook and confirm it with one poll.")
    var webhookListen: String?

    @Option(name: .customLong("webhook-url"), help: "The public URL that forwards to --webhook-listen (default, on the simulator or a loopback endpoint: the receiver itself).")
    var webhookURL: String?

    @Option(name: .customLong("webhook-margin"), help: ArgumentHelp("Seconds a job waits for its webhook past its model's slow end (default 2).", visibility: .hidden))
    var webhookMargin: Double?

    /// What the library is told.
    var settings: ServiceSettings {
        var settings = ServiceSettings()
        settings.region = region
        settings.endpoint = endpoint
        settings.simulator = simulator
        settings.maxActive = maxActive
        settings.simulatorTimeScale = simulatorTimeScale
        settings.config = config
        settings.webhookListen = webhookListen
        settings.webhookURL = webhookURL
        settings.webhookMargin = webhookMargin
        return settings
    }
}

