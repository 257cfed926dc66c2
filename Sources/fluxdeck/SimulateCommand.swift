import ArgumentParser
import FluxdeckApp
import BFL
import BFLSimulator
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run the offline BFL API simulator on loopback until Ctrl-C.",
        discussion: """
            Three listeners play the API host, a regional cluster host (where polling_url \
            points) and the image delivery host. Prompts containing sim:request-moderated, \
            sim:content-moderated, sim:error, sim:stuck, sim:unknown-status or sim:poll-422 \
            trigger those outcomes. No credits are spent: the simulator keeps its own balance.
            """)

    @Option(help: "Port of the global API listener; the EU cluster, delivery, EU API, US API and US cluster listeners take the next five (0: any free ports).")
    var port: Int = 8700

    @Option(name: .customLong("time-scale"), help: "Scales service times (0.1 makes a 10 s model take 1 s).")
    var timeScale: Double = 1

    @Option(help: "Starting credits of the key.")
    var credits: Int = 1000

    @Option(help: "Faults, e.g. 5xx=0.1,429=0.2,reset=0.05,retry-after=2,latency=150ms,slow-delivery=2s.")
    var faults: String = ""

    @Option(help: "Seconds a result URL stays valid.")
    var expiry: Int = 600

    @Option(help: "The API key to accept (default: a new random one).")
    var key: String?

    func run() async throws {
        try await runReportingFailures {
            var options = SimulatorOptions()
            guard port == 0 || (1...65530).contains(port) else { throw CommandFailure.usage("--port must be between 1 and 65530, or 0") }
            guard timeScale > 0, timeScale <= 1000 else { throw CommandFailure.usage("--time-scale must be above 0 and at most 1000") }
            guard credits >= 0 else { throw CommandFailure.usage("--credits must not be negative") }
            guard expiry > 0 else { throw CommandFailure.usage("--expiry must be at least 1 second") }
            do { options.faults = try Faults(spec: faults) } catch { throw CommandFailure.usage("\(error)") }
            if let key {
                guard key.count >= 16, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                    throw CommandFailure.usage("--key must be at least 16 characters of letters, digits, _ or -")
                }
                options.apiKeys = [key]
            }
            options.timeFactor = timeScale
            options.initialCredits = Credits(Decimal(credits))
            options.deliveryTTL = .seconds(expiry)
            if port != 0 {
                options.apiPort = port
                options.clusterPort = port + 1
                options.deliveryPort = port + 2
                options.apiEUPort = port + 3
                options.apiUSPort = port + 4
                options.clusterUSPort = port + 5
            }
            let server: SimulatorServer
            do { server = try await SimulatorServer.start(options: options) } catch {
                throw CommandFailure(code: .usage, message: "\(error)")
            }
            // Written unbuffered, so a pipe or a log file sees it at once.
            Output.write(Array("""
                fluxdeck simulator: an offline BFL API (no real credits are spent)
                  api global  \(server.urls[.api] ?? "")   (api.bfl.ai: tasks go to the clusters that are up, in turn)
                  api eu      \(server.urls[.apiEU] ?? "")   (api.eu.bfl.ai: tasks stay on the EU cluster)
                  api us      \(server.urls[.apiUS] ?? "")   (api.us.bfl.ai: tasks stay on the US cluster)
                  cluster eu  \(server.urls[.cluster] ?? "")   (api.eu2.bfl.ai, where EU polling_urls point)
                  cluster us  \(server.urls[.clusterUS] ?? "")   (api.us1.bfl.ai, where US polling_urls point)
                  delivery    \(server.deliveryURL)   (result images; no key needed)

                Point fluxdeck or curl at it:
                  export BFL_API_ENDPOINT=\(server.apiURL)
                  export BFL_API_KEY=\(server.apiKey)

                For the region row and --region, and to find webhook tasks whose call never
                came, add to ~/.config/fluxdeck/config.toml:
                  [endpoint]
                  clusters = [\(server.clusterURLs.map { "\"\($0)\"" }.joined(separator: ", "))]
                  [endpoint.regions]
                  global = "\(server.urls[.api] ?? "")"
                  eu = "\(server.urls[.apiEU] ?? "")"
                  us = "\(server.urls[.apiUS] ?? "")"

                Ctrl-C stops it.

                """.utf8), to: STDOUT_FILENO)
            // Ctrl-C, SIGTERM or SIGHUP stops it (a second one at once), as it does a command.
            let interrupts = Interrupts()
            _ = await interrupts.first()
            interrupts.stop()
            await server.stop()
            Output.error("simulator stopped")
        }
    }
}
