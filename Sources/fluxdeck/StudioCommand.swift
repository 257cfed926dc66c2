import Studio
import StudioRuntime
import StudioViews
import ArgumentParser
import FluxdeckApp
import BFL
import Foundation
import Imaging
import Jobs
import NcursesBackend
import TerminalCore
import TerminalGraphics
import Theme
import Widgets

#if canImport(Glibc)
import Glibc
#endif

/// The full-screen studio: `swift run fluxdeck`.
struct StudioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "studio",
        abstract: "Open the full-screen studio (the default command). Without BFL_API_KEY it runs on the built-in simulator.")

    @OptionGroup var service: ServiceOptions
    @Option(name: .customLong("output-dir"), help: "Where images go (default ~/Pictures/fluxdeck, or output_dir in config.toml).") var outputDir: String?
    @Option(help: "A theme by name (see `fluxdeck themes`) or a path to a .toml file (default: theme in config.toml, else default).") var theme: String?
    @Option(help: "How pictures are shown: auto (ask the terminal), kitty, iterm2, sixel or blocks (default: graphics in config.toml, else auto).")
    var graphics: String?
    @Option(help: ArgumentHelp("Write a line per frame to this file or FIFO (tests).", visibility: .hidden)) var notify: String?

    /// How pictures are shown, and why: as asked, or (auto) from tmux's answers inside tmux,
    /// else from the terminal's answers to the kitty graphics query and device attributes.
    static func chooseGraphics(_ choice: GraphicsChoice, environment: [String: String]) async
        -> (graphics: GraphicsProtocol, reason: String, passthrough: Bool) {
        let inTmux = GraphicsDetection.insideTmux(environment)
        var tmux: TmuxFacts?
        var answers: TerminalAnswers?
        if inTmux {
            tmux = await DesktopSystem.tmuxFormat(TmuxFacts.format, environment: environment).map(TmuxFacts.init(parsing:))
        } else if choice == .auto {
            answers = TerminalProbe.ask(GraphicsDetection.query, timeoutMilliseconds: GraphicsDetection.timeoutMilliseconds,
                                        isComplete: TerminalAnswers.isComplete).map(TerminalAnswers.init(parsing:))
        }
        // 256 colours are checked again by the terminal once curses knows them.
        let chosen = GraphicsDetection.choose(choice, environment: environment, colors256: true, answers: answers, tmux: tmux)
        return (chosen.graphics, chosen.reason, inTmux && chosen.graphics == .kitty)
    }

    @MainActor
    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let settings: Config
        do {
            if let config = service.config, !FileManager.default.fileExists(atPath: config) {
                throw CommandFailure.usage("no configuration file at \(config)")
            }
            settings = try service.settings.configuration(environment: environment)
        } catch let failure as CommandFailure {
            Output.error("fluxdeck: \(failure.message)")
            throw ExitCode(failure.code.rawValue)
        }
        let loadedTheme = try loadTheme(theme ?? settings.theme ?? "default")
        let graphicsChoice: GraphicsChoice
        if let graphics {
            guard let choice = GraphicsChoice(graphics) else {
                Output.error("fluxdeck: --graphics must be one of \(GraphicsChoice.names.joined(separator: ", ")), not \"\(TerminalText.sanitize(graphics))\"")
                throw ExitCode(2)
            }
            graphicsChoice = choice
        } else {
            graphicsChoice = settings.graphics ?? .auto
        }
        // Without a terminal there is nobody to read keys from: say where to go instead.
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            Output.error("fluxdeck: the studio needs a terminal on stdin and stdout; from scripts and pipes use `fluxdeck generate`, `fluxdeck batch` or `fluxdeck jobs` (see `fluxdeck --help`)")
            throw ExitCode(2)
        }
        var service = self.service.settings
        if service.region == nil { service.region = settings.region }
        let session: Session
        do {
            session = try await Session.open(service, outputDirectory: outputDir ?? settings.outputDirectory, simulatorWithoutKey: true,
                                             settings: settings)
        } catch let failure as CommandFailure {
            Output.error("fluxdeck: \(failure.message)")
            throw ExitCode(failure.code.rawValue)
        }
        // Which account pays is on screen: the key's source (never the key) beside the endpoint.
        let label = session.simulator != nil ? "SIMULATOR — no credits spent"
            : session.endpointLabel + (session.keySource.map { " · key from \($0)" } ?? "")
        let logFile = LogFile(path: LogFile.defaultPath(environment: environment))
        defer { logFile.close() }
        let log = StudioLogger(file: logFile)
        log.info("studio started on \(session.simulator != nil ? "the built-in simulator" : session.endpointLabel)")
        let recent = (try? session.store.recentJobs(limit: JobStore.displayPage)) ?? []
        let startOfToday = Calendar.current.startOfDay(for: Date())
        let chargedElsewhere = (try? session.store.charged(since: startOfToday, excluding: Set(recent.map(\.id)))) ?? .zero
        let followed = Set(((try? await session.engine.resume()) ?? []).map(\.id))
        // Other fluxdeck processes' jobs are shown as the ledger changes, and taken over
        // when their process is gone.
        await session.engine.startRunnerDuties(adopt: true, watchOthers: true)
        let detached = Set(recent.filter { !$0.phase.isFinal && !followed.contains($0.id) }.map(\.id))

        // A self-pipe wakes the loop for engine events and signals; keys wake it through stdin.
        guard let wakePipe = WakePipe() else { throw CommandFailure(code: .usage, message: "cannot create a pipe") }
        let wake = wakePipe.wake
        let stop = StopFlag(onSet: wake)
        stop.watchSignals()
        stop.watchResize(wake)

        let pictures = await Self.chooseGraphics(graphicsChoice, environment: environment)
        log.info("pictures: \(pictures.graphics.rawValue) (\(pictures.reason))")
        let terminal: NcursesTerminal
        do {
            terminal = try NcursesTerminal(noColor: environment["NO_COLOR"] != nil, graphics: pictures.graphics, passthrough: pictures.passthrough)
        } catch {
            await session.close()
            Output.error("fluxdeck: \(error)")
            throw ExitCode(2)
        }
        let state = AppState(
            modelID: settings.model ?? "flux-2-pro", modeLabel: label,
            // The region row is live where the endpoint has regions (BFL's, a proxy's, the simulator's).
            region: Self.startRegion(session.client.configuration.regions, label: session.endpointLabel, asked: service.region),
            keymap: settings.keymap,
            budget: Budget(daily: settings.dailyBudget, session: settings.sessionBudget,
                           confirmAbove: settings.confirmAbove ?? Budget.defaultConfirmAbove, warnBelow: settings.warnBelow),
            jobsOutliveSession: session.simulator == nil,
            regions: session.client.configuration.regions.regions,
            notify: settings.notify,
            slotLimits: (session.engine.configuration.accountLimit,
                         min(session.engine.configuration.accountLimit, session.engine.configuration.limit(for: "flux-kontext-max"))))
        let driver = StudioDriver(
            state: state, backend: terminal, theme: loadedTheme.reduced(to: terminal.colorDepth),
            engine: session.engine, client: session.client, store: session.store,
            system: DesktopSystem(environment: environment), inbox: Inbox(wake: wake, observe: log.observe),
            maxDecodePixels: (settings.maxDecodeMegapixels ?? 50) * 1_000_000,
            thumbnailCache: ThumbnailCache(directory: ThumbnailCache.defaultDirectory(environment: environment)))
        driver.start(recentJobs: recent, detachedJobIDs: detached, chargedTodayElsewhere: chargedElsewhere,
                     olderOutputsMayExist: recent.count >= JobStore.displayPage)
        let notifier = notify.flatMap(openNotifier)
        let ending = StudioLoop.run(driver: driver, terminal: terminal, wake: wakePipe, stop: stop) { s in
            guard let notifier else { return }
            let done = s.jobs.filter { $0.phase == .done }.count
            let message = s.message.map { " message=" + TerminalText.sanitize($0.text) } ?? ""
            let prompt = s.editor.text
            let lines = prompt.isEmpty ? 0 : prompt.split(separator: "\n", omittingEmptySubsequences: false).count
            notifier.write(Data("frame \(s.width)x\(s.height) jobs=\(s.jobs.count) running=\(s.runningCount) done=\(done) count=\(s.count) lines=\(lines) confirming=\(s.confirming != nil) focus=\(s.focus) details=\(s.details != nil) pids=\(Set(s.elsewherePIDs.values).count)\(message)\n".utf8))
        }
        if ending == .hangUp { log.info("the terminal hung up; stopping") }
        terminal.stop()
        log.info("studio stopped; \(driver.state.runningCount) job(s) still running")
        await driver.cancelEffects()
        await session.close()
        notifier?.write(Data("stopped\n".utf8))
        let running = driver.state.runningCount
        if running > 0, session.simulator != nil {
            print("fluxdeck: \(running) job(s) were still running on the built-in simulator, which has stopped; they will not finish.")
        } else if running > 0 {
            print("fluxdeck: \(running) job(s) still running; they continue when you start fluxdeck again (or run `fluxdeck jobs resume`).")
        }
    }

    /// The region the studio starts on: the endpoint's own (BFL), else the one asked for, else
    /// global, else the first the endpoint has; nil when it has none.
    static func startRegion(_ map: RegionMap, label: String, asked: Region?) -> Region? {
        let available = map.regions
        guard !available.isEmpty else { return nil }
        for candidate in [Region(rawValue: label), asked, .global].compactMap({ $0 }) where available.contains(candidate) {
            return candidate
        }
        return available.first
    }

    private func loadTheme(_ theme: String) throws -> Theme {
        let catalog = ThemeCatalog(userDirectory: ThemeCatalog.userDirectory(environment: ProcessInfo.processInfo.environment))
        do { return try catalog.load(theme).theme } catch {
            throw CommandFailure(code: .usage, message: "theme \(theme): \(error)")
        }
    }
}
