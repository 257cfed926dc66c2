public import BFL
public import Foundation
import Logging
import Imaging
import Jobs
import NcursesBackend
import Studio
import StudioRuntime
public import TerminalCore
public import TerminalGraphics
import Theme

#if canImport(Glibc)
import Glibc
#endif

/// What the studio is asked for besides the service: where images go, the theme, how pictures
/// are shown, and (for tests) a file that hears of every frame.
public struct StudioOptions: Sendable {
    public var outputDirectory: String?
    public var theme: String?
    public var graphics: String?
    public var notify: String?
    public init() {}
}

/// The full-screen studio: the session, the terminal, the driver and the loop, put together.
public enum StudioLauncher {
    /// How pictures are shown, and why: as asked, or (auto) from tmux's answers inside tmux,
    /// else from the terminal's answers to the kitty graphics query and device attributes.
    /// The terminal is asked its background colour either way (nil when it did not say).
    public static func chooseGraphics(_ choice: GraphicsChoice, environment: [String: String]) async
        -> (graphics: GraphicsProtocol, reason: String, passthrough: Bool, background: TerminalBackground?) {
        let inTmux = GraphicsDetection.insideTmux(environment)
        var tmux: TmuxFacts?
        if inTmux {
            tmux = await DesktopSystem.tmuxFormat(TmuxFacts.format, environment: environment).map(TmuxFacts.init(parsing:))
        }
        // Inside tmux, or with the protocol chosen, only the background is asked (tmux answers
        // for the terminal outside it).
        let detects = choice == .auto && !inTmux
        let query = detects ? GraphicsDetection.query : GraphicsDetection.backgroundQuery
        let answers = !GraphicsDetection.mayAsk(environment) ? nil
            : TerminalProbe.ask(query, timeoutMilliseconds: GraphicsDetection.timeoutMilliseconds,
                                isComplete: TerminalAnswers.isComplete).map(TerminalAnswers.init(parsing:))
        // 256 colours are checked again by the terminal once curses knows them.
        let chosen = GraphicsDetection.choose(choice, environment: environment, colors256: true,
                                              answers: detects ? answers : nil, tmux: tmux)
        return (chosen.graphics, chosen.reason, inTmux && chosen.graphics == .kitty, answers?.background)
    }

    /// Opens the studio in this terminal and runs it until the user quits, a signal comes or
    /// the terminal hangs up. Problems before the screen is taken are `CommandFailure`s.
    @MainActor
    public static func run(service asked: ServiceSettings, options: StudioOptions,
                           environment: [String: String] = ProcessInfo.processInfo.environment) async throws {
        if let config = asked.config, !FileManager.default.fileExists(atPath: config) {
            throw CommandFailure.usage("no configuration file at \(config)")
        }
        let settings = try asked.configuration(environment: environment)
        let loadedTheme = try loadTheme(options.theme ?? settings.theme ?? "default", environment: environment)
        let graphicsChoice: GraphicsChoice
        if let graphics = options.graphics {
            guard let choice = GraphicsChoice(graphics) else {
                throw CommandFailure.usage("--graphics must be one of \(GraphicsChoice.names.joined(separator: ", ")), not \"\(TerminalText.sanitize(graphics))\"")
            }
            graphicsChoice = choice
        } else {
            graphicsChoice = settings.graphics ?? .auto
        }
        // Without a terminal there is nobody to read keys from: say where to go instead.
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw CommandFailure.usage("the studio needs a terminal on stdin and stdout; from scripts and pipes use `fluxdeck generate`, `fluxdeck batch` or `fluxdeck jobs` (see `fluxdeck --help`)")
        }
        var service = asked
        if service.region == nil { service.region = settings.region }
        // Nothing may be written to the terminal once curses owns it: what the webhook receiver
        // says goes to the log file, and a one-line notice to the studio.
        let logFile = LogFile(path: LogFile.defaultPath(environment: environment))
        defer { logFile.close() }
        let notices = NoticeRelay()
        let receiverLog = Logger(label: "webhook") { label in FileLogHandler(file: logFile, label: label) }
        let session = try await Session.open(service, outputDirectory: options.outputDirectory ?? settings.outputDirectory, simulatorWithoutKey: true,
                                             settings: settings, environment: environment,
                                             log: { line in
                                                 receiverLog.info("\(line)")
                                                 notices.push(line + " (more in the log)")
                                             })
        // A region asked for (--region, or region in config.toml) is a region kept.
        do { try session.check(region: service.region) } catch {
            await session.close()
            throw error
        }
        // Which account pays is on screen: the key's source (never the key) beside the endpoint.
        let label = session.simulator != nil ? "SIMULATOR — no credits spent"
            : session.endpointLabel + (session.keySource.map { " · key from \($0)" } ?? "")
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
            throw CommandFailure.usage("\(error)")
        }
        if let note = terminal.typeNote { log.info(note) }
        let theme = loadedTheme.reduced(to: terminal.colorDepth)
        // A theme made for the other kind of background is said once, on screen and in the log
        // (one without colours, as NO_COLOR makes it, fits any).
        var backgroundNote: String?
        if let background = pictures.background {
            log.info("terminal background: \(background.hex) (\(background.isDark ? "dark" : "light"))")
            backgroundNote = theme.backgroundNote(terminalIsDark: background.isDark, colour: background.hex)
            if let backgroundNote { log.info(backgroundNote) }
        } else {
            log.info("terminal background: not told, so the theme's fit is not checked")
        }
        let state = AppState(
            modelID: settings.model ?? "flux-2-pro", modeLabel: label,
            // The region row is live where the endpoint has regions (BFL's, a proxy's, the simulator's).
            region: Self.startRegion(session.client.configuration.regions, label: session.endpointLabel, asked: service.region),
            keymap: settings.keymap,
            budget: Budget(daily: settings.dailyBudget, session: settings.sessionBudget,
                           confirmAbove: settings.confirmAbove ?? Budget.defaultConfirmAbove, warnBelow: settings.warnBelow,
                           repeatGuard: settings.repeatGuard),
            jobsOutliveSession: session.simulator == nil,
            regions: session.client.configuration.regions.regions,
            notify: settings.notify,
            slotLimits: (session.engine.configuration.accountLimit,
                         min(session.engine.configuration.accountLimit, session.engine.configuration.limit(for: "flux-kontext-max"))))
        let driver = StudioDriver(
            state: state, backend: terminal, theme: theme,
            engine: session.engine, client: session.client, store: session.store,
            system: DesktopSystem(environment: environment), inbox: Inbox(wake: wake, observe: log.observe),
            maxDecodePixels: (settings.maxDecodeMegapixels ?? 50) * 1_000_000,
            thumbnailCache: ThumbnailCache(directory: ThumbnailCache.defaultDirectory(environment: environment)))
        notices.attach(driver.inbox)
        let formFile = FormMemory.path(environment: environment)
        if let form = FormMemory.load(formFile, log: log) { driver.send(.formRestored(form)) }
        // Said in the error style: the theme's quieter text is what may not show.
        if let backgroundNote { driver.send(.notice(backgroundNote, isError: true)) }
        driver.start(recentJobs: recent, detachedJobIDs: detached, chargedTodayElsewhere: chargedElsewhere,
                     olderOutputsMayExist: recent.count >= JobStore.displayPage)
        let notifier = options.notify.flatMap(openNotifier)
        let ending = StudioLoop.run(driver: driver, terminal: terminal, wake: wakePipe, stop: stop) { s in
            guard let notifier else { return }
            let done = s.jobs.filter { $0.phase == .done }.count
            let message = s.message.map { " message=" + TerminalText.sanitize($0.text) } ?? ""
            let prompt = s.editor.text
            let lines = prompt.isEmpty ? 0 : prompt.split(separator: "\n", omittingEmptySubsequences: false).count
            notifier.write(Data("frame \(s.width)x\(s.height) jobs=\(s.jobs.count) running=\(s.runningCount) done=\(done) count=\(s.count) lines=\(lines) confirming=\(s.confirming != nil) focus=\(s.focus) details=\(s.details != nil) pids=\(Set(s.elsewherePIDs.values).count) mode=\(s.mode.keyContext.rawValue)\(message)\n".utf8))
        }
        if ending == .hangUp { log.info("the terminal hung up; stopping") }
        terminal.stop()
        FormMemory.save(driver.state.rememberedForm, to: formFile, log: log)
        log.info("studio stopped; \(driver.state.runningCount) job(s) still running")
        // As a headless command on a signal: no new request leaves, and those already sent get
        // a few seconds to be answered and recorded (a signal now skips the wait).
        await session.engine.stopAdmitting()
        await driver.cancelEffects()
        let sent = await session.engine.sending.count
        if sent > 0 {
            print("fluxdeck: waiting up to \(Int(Interrupts.grace.seconds)) s for the \(sent) request(s) already sent to be answered (Ctrl-C skips)…")
            let interrupts = Interrupts()
            let engine = session.engine
            await withTaskGroup(of: Void.self) { group in
                group.addTask { _ = await engine.waitForSending(upTo: Interrupts.grace) }
                group.addTask { _ = await interrupts.first() }
                _ = await group.next()
                group.cancelAll()
            }
            interrupts.stop()
        }
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
    public static func startRegion(_ map: RegionMap, label: String, asked: Region?) -> Region? {
        let available = map.regions
        guard !available.isEmpty else { return nil }
        for candidate in [Region(rawValue: label), asked, .global].compactMap({ $0 }) where available.contains(candidate) {
            return candidate
        }
        return available.first
    }

    private static func loadTheme(_ theme: String, environment: [String: String]) throws -> Theme {
        let catalog = ThemeCatalog(userDirectory: ThemeCatalog.userDirectory(environment: environment))
        do { return try catalog.load(theme).theme } catch {
            throw CommandFailure(code: .usage, message: "theme \(theme): \(error)")
        }
    }
}
