public import Studio
public import BFL
import Foundation
public import Imaging
public import Jobs
import Synchronization
public import TerminalCore
public import Theme
import StudioViews

/// Actions arriving from other tasks (engine events, effect results), handed to the main
/// loop. `onPush` wakes it (a self-pipe in the app, a main-actor task in tests).
public final class Inbox: Sendable {
    private let pending = Mutex<[Action]>([])
    private let wake: @Sendable () -> Void
    private let observe: @Sendable (Action) -> Void

    /// `observe` sees every action as it arrives (the app logs them).
    public init(wake: @escaping @Sendable () -> Void, observe: @escaping @Sendable (Action) -> Void = { _ in }) {
        self.wake = wake
        self.observe = observe
    }

    public func push(_ action: Action) {
        observe(action)
        pending.withLock { $0.append(action) }
        wake()
    }

    public func drain() -> [Action] {
        pending.withLock { actions in
            defer { actions.removeAll() }
            return actions
        }
    }
}

/// What the studio asks of the desktop: opening a file in the system viewer and copying text.
/// Each returns the sentence the message line shows.
public protocol StudioSystem: Sendable {
    func open(path: String) async -> (text: String, isError: Bool)
    func copy(_ text: String) async -> (text: String, isError: Bool)
}

/// The studio's loop body: reduce actions, interpret effects, draw when something changed.
/// The terminal, the clock and the engine are passed in, so a pilot test can drive the real
/// reducer, views and interpreter on an in-memory backend against the simulator.
@MainActor
public final class StudioDriver<Backend: TerminalBackend> {
    public private(set) var state: AppState
    public private(set) var quitRequested = false
    public private(set) var frames = 0
    public let inbox: Inbox
    private let screen: Screen<Backend>
    private let theme: Theme
    private let engine: JobEngine
    private let client: BFLClient
    private let store: JobStore
    private let system: any StudioSystem
    private var dirty = true
    private var previewsInFlight: Set<String> = []
    /// The most pixels a preview decodes (`max_decode_megapixels` in config.toml).
    private let maxDecodePixels: Int
    /// Where decoded thumbnails are kept between runs (nil: nowhere).
    private let thumbnailCache: ThumbnailCache?
    /// The pixels a side of a preview and of the viewer's picture: blocks need few, a
    /// terminal that shows real pixels more.
    private let pictureBoxes: (preview: Int, large: Int)
    private var listeners: [(id: UUID, check: (AppState) -> Bool)] = []
    /// The effects under way: owned here, cancelled when the studio closes.
    private let tasks = EffectTasks()
    /// Numbers the balance reads, so a late answer to an older read cannot replace a newer one.
    private var creditsReads = 0

    public init(state: AppState, backend: Backend, theme: Theme, engine: JobEngine, client: BFLClient, store: JobStore,
                system: any StudioSystem, inbox: Inbox, maxDecodePixels: Int = 50_000_000, thumbnailCache: ThumbnailCache? = nil) {
        self.maxDecodePixels = maxDecodePixels
        // The viewer's picture fills most of a large terminal: 320 pixels a side is 160
        // columns of quadrant blocks. In real pixels it is decoded at the size its area shows
        // (two thirds of the width beside the text, the height less the borders), so a picture
        // from the cache goes out without being scaled again.
        pictureBoxes = Self.pictureBoxes(graphics: backend.graphics, size: backend.size, cell: backend.cellPixels)
        self.thumbnailCache = thumbnailCache
        self.state = state
        self.screen = Screen(backend: backend)
        self.theme = theme
        self.engine = engine
        self.client = client
        self.store = store
        self.system = system
        self.inbox = inbox
        let size = backend.size
        _ = reduce(&self.state, .resize(width: size.width, height: size.height))
    }

    /// Sends submissions as one group: their references read, their requests enqueued
    /// together and in order.
    private func submit(_ effects: [Effect], group: String) {
        let engine = self.engine
        // A comparison (models or prompt variants) without a seed shares one drawn here, so
        // its images differ by what is compared, not by BFL's random seeds (SubmissionPlan).
        let sharedSeed = SubmissionPlan.drawSharedSeed()
        reportingFailure("submit") {
            var requests: [JobRequest] = []
            for effect in effects {
                guard case .submit(let modelID, let parameters, let count, let region, let offset) = effect, let model = Catalog.model(id: modelID) else { continue }
                let loaded = try loadingReferences(SubmissionPlan.applying(sharedSeed: sharedSeed, offset: offset, to: parameters))
                requests += (0..<count).map { _ in JobRequest(model: model, parameters: loaded, groupID: group, region: region) }
            }
            try await engine.enqueue(requests)
        }
    }

    /// The pixels a side of a preview and of the viewer's picture for this terminal.
    nonisolated public static func pictureBoxes(graphics: GraphicsProtocol, size: (width: Int, height: Int), cell: (width: Int, height: Int)) -> (preview: Int, large: Int) {
        guard graphics.isPixels else { return (64, 320) }
        let large = max(size.width * 2 / 3 * cell.width, max(0, size.height - 3) * cell.height)
        return (192, min(2048, max(320, large)))
    }

    /// Follows engine events, loads recent jobs, today's spending and the balance.
    /// `olderOutputsMayExist`: the ledger holds more than `recentJobs` (older images are read
    /// as the outputs list is scrolled).
    public func start(recentJobs: [JobRecord], detachedJobIDs: Set<String> = [], chargedTodayElsewhere: Credits = .zero,
                      olderOutputsMayExist: Bool = false) {
        let inbox = self.inbox
        let events = engine.events
        Task.detached {
            for await event in events {
                switch event {
                case .updated(let job): inbox.push(.jobUpdated(job))
                case .progress(let id, let value): inbox.push(.jobProgress(id: id, progress: value))
                case .elsewhere(let job, let pid): inbox.push(.jobElsewhere(job, ownerPID: pid))
                }
            }
        }
        send(.jobsLoaded(recentJobs, detached: detachedJobIDs))
        if olderOutputsMayExist { send(.outputsLoaded([], filter: "", exhausted: false)) }
        send(.chargedTodayLoaded(chargedTodayElsewhere))
        interpret(.refreshCredits)
    }

    /// Applies one action now.
    public func send(_ action: Action) {
        if case .previewLoaded(let path, _, _, let large) = action { previewsInFlight.remove(large ? "large:" + path : path) }
        let effects = reduce(&state, action)
        // The submissions of one action (a prompt matrix, a seed sweep) are one group, sent
        // in order by one task.
        let submissions = effects.filter { if case .submit = $0 { true } else { false } }
        if !submissions.isEmpty { submit(submissions, group: UUID().uuidString.lowercased()) }
        for effect in effects {
            if case .submit = effect { continue }
            interpret(effect)
        }
        dirty = true
        notifyListeners()
    }

    /// Applies everything other tasks have delivered.
    public func drainInbox() {
        for action in inbox.drain() { send(action) }
    }

    /// Draws a frame if anything changed since the last one.
    public func drawIfNeeded() {
        guard dirty else { return }
        dirty = false
        let (buffer, cursor) = render(state, theme: theme, area: Rect(width: state.width, height: state.height))
        screen.draw(buffer, cursor: cursor)
        frames += 1
    }

    /// Forgets the last frame (after a resize).
    public func invalidate() {
        screen.invalidate()
        dirty = true
    }

    /// Waits until the state satisfies `condition` (tests and pilots); false when `limit`
    /// passed first, so a broken pilot fails instead of hanging.
    @discardableResult
    public func waitUntil(limit: Duration = .seconds(30), _ condition: @escaping (AppState) -> Bool) async -> Bool {
        if condition(state) { return true }
        let id = UUID()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            listeners.append((id, { state in
                guard condition(state) else { return false }
                continuation.resume(returning: true)
                return true
            }))
            Task { @MainActor [weak self] in
                try? await Task.sleep(for: limit)
                guard let self, let index = self.listeners.firstIndex(where: { $0.id == id }) else { return }
                self.listeners.remove(at: index)
                continuation.resume(returning: false)
            }
        }
    }

    private func notifyListeners() {
        listeners.removeAll { $0.check(state) }
    }

    /// Runs `work` as one of the driver's effect tasks; a failure becomes a message that names
    /// `what` failed.
    private func reportingFailure(_ what: String, _ work: @escaping @Sendable () async throws -> Void) {
        let inbox = self.inbox
        tasks.run {
            do {
                try await work()
            } catch {
                guard !(error is CancellationError) else { return }
                inbox.push(what == "submit" ? .submitFailed(describeFailure(error)) : .effectFailed(what: what, reason: describeFailure(error)))
            }
        }
    }

    /// Ends every effect still running (the studio is closing): their results would have
    /// nowhere to go.
    public func cancelEffects() async {
        await tasks.cancelAll()
    }

    /// Effects run detached: the app's loop blocks the main thread in poll(2) while idle, so
    /// nothing they do may need the main actor. Results come back through the inbox.
    private func interpret(_ effect: Effect) {
        let inbox = self.inbox
        let engine = self.engine
        let client = self.client
        let store = self.store
        let system = self.system
        switch effect {
        case .quit:
            quitRequested = true
        case .submit:
            submit([effect], group: UUID().uuidString.lowercased())
        case .repaint(let path, let rects, let inverted, let prompt, let region):
            reportingFailure("submit") {
                _ = try await engine.enqueue([FillEdits.request(path: path, cells: rects, inverted: inverted, prompt: prompt, region: region)])
            }
        case .extend(let path, let sides, let prompt, let region):
            reportingFailure("submit") {
                _ = try await engine.enqueue([FillEdits.request(path: path, extending: sides, prompt: prompt, region: region)])
            }
        case .readImageSize(let path):
            tasks.run {
                do {
                    inbox.push(.imageSizeRead(path: path, size: try LocalImages.size(of: path), problem: nil))
                } catch {
                    inbox.push(.imageSizeRead(path: path, size: nil, problem: describeFailure(error)))
                }
            }
        case .notify(let title, let body, let via):
            let alerts: [Alert] = switch via {
            case .bell: [.bell]
            case .osc9: [.osc9]
            case .osc777: [.osc777]
            case .both: [.bell, .osc9]
            case .off: []
            }
            screen.backend.alert(alerts, title: title, body: body)
        case .cancel(let id):
            reportingFailure("cancel \(id.prefix(8))") { try await engine.cancel(id) }
        case .abandon(let id):
            reportingFailure("abandon \(id.prefix(8))") { try await engine.abandon(id) }
        case .rerun(let id, let newSeed):
            reportingFailure("run \(id.prefix(8)) again") {
                if try await engine.rerun(id, seed: newSeed ? .new : .same) == nil {
                    inbox.push(.effectFailed(what: "run \(id.prefix(8)) again", reason: "the job is no longer in the ledger"))
                }
            }
        case .retrySave(let id):
            reportingFailure("download \(id.prefix(8)) again") {
                if try await !engine.retrySave(id) {
                    inbox.push(.effectFailed(what: "download \(id.prefix(8)) again",
                                             reason: "no result URL here, or another fluxdeck follows the job"))
                }
            }
        case .completePath(let text):
            tasks.run {
                // `~` as LocalImages reads it when the reference is sent.
                let completion = LocalImages.complete(text, home: LocalImages.home,
                                                      directory: FileManager.default.currentDirectoryPath)
                inbox.push(.pathCompleted(typed: text, completion))
            }
        case .inspectReference(let slot, let path):
            tasks.run {
                do {
                    let size = try LocalImages.size(of: path)
                    // A URL has no local size; it is priced as the estimator prices any unknown input.
                    inbox.push(.referenceInspected(slot: slot, path: path, size: size ?? PriceEstimator.unknownInputSize, problem: nil))
                } catch {
                    inbox.push(.referenceInspected(slot: slot, path: path, size: nil, problem: describeFailure(error)))
                }
            }
        case .loadOutputs(let before, let filter, let generation):
            let query = OutputQuery(filter, calendar: state.calendar)
            tasks.run {
                let page = JobStore.displayPage
                do {
                    let records = try store.outputs(before: before, query: query, limit: page)
                    inbox.push(.outputsLoaded(records, filter: filter, exhausted: records.count < page, generation: generation))
                } catch {
                    inbox.push(.outputsLoaded([], filter: filter, exhausted: true, generation: generation))
                    inbox.push(.notice(describeFailure(error), isError: true))
                }
            }
        case .loadPreview(let path, let large):
            // One decode per path (and size) at a time, however often the selection passes over it.
            guard previewsInFlight.insert(large ? "large:" + path : path).inserted else { return }
            let limit = maxDecodePixels
            let cache = thumbnailCache
            let box = large ? pictureBoxes.large : pictureBoxes.preview
            tasks.run {
                do {
                    // A reference typed as `~/…` is keyed as typed and read where the shell would.
                    let file = LocalImages.expandingHome(path)
                    let preview = try cache.map { try $0.thumbnail(path: file, box: box, maxPixels: limit) }
                        ?? Thumbnails.of(path: file, box: box, maxPixels: limit)
                    inbox.push(.previewLoaded(path: path, Picture(width: preview.width, height: preview.height, pixels: preview.pixels), large: large))
                } catch {
                    inbox.push(.previewLoaded(path: path, nil, problem: describeFailure(error), large: large))
                }
            }
        case .open(let path):
            tasks.run {
                let outcome = await system.open(path: path)
                inbox.push(.notice(outcome.text, isError: outcome.isError))
            }
        case .copy(let text):
            tasks.run {
                let outcome = await system.copy(text)
                inbox.push(.notice(outcome.text, isError: outcome.isError))
            }
        case .deleteOutput(let id):
            tasks.run {
                do {
                    let deleted = try await engine.deleteOutput(id)
                    inbox.push(.outputDeleted(jobID: id, problem: deleted ? nil : "the job \(id.prefix(8)) is no longer in the ledger"))
                } catch {
                    inbox.push(.outputDeleted(jobID: id, problem: "could not delete: \(describeFailure(error))"))
                }
            }
        case .curate(let id, let starred, let tags):
            let what = starred ? "star \(id.prefix(8))" : "tag \(id.prefix(8))"
            reportingFailure(what) {
                guard let record = try store.curate(id: id, starred: starred, tags: tags) else {
                    throw EngineError(message: "the job is no longer in the ledger")
                }
                inbox.push(.jobCurated(record))
                if let sidecar = record.sidecarPath { try OutputLibrary.updateSidecar(at: sidecar, starred: starred, tags: tags) }
            }
        case .loadSpend:
            tasks.run {
                do {
                    inbox.push(.spendLoaded(try store.spendOverview(now: Date())))
                } catch {
                    inbox.push(.effectFailed(what: "read the spending", reason: describeFailure(error)))
                }
            }
        case .refreshCredits:
            creditsReads += 1
            let sequence = creditsReads
            tasks.run {
                do {
                    inbox.push(.creditsLoaded(try await client.credits(), sequence: sequence))
                } catch {
                    guard !(error is CancellationError) else { return }
                    inbox.push(.creditsFailed(describeFailure(error), sequence: sequence))
                }
            }
        }
    }
}

/// The effects under way, each a task this registry owns until it ends; `cancelAll` cancels
/// and awaits them.
final class EffectTasks: Sendable {
    private let running = Mutex<[UUID: Task<Void, Never>]>([:])

    /// Starts `work` off the main actor (the loop blocks it in poll(2) while idle).
    func run(_ work: @escaping @Sendable () async -> Void) {
        let id = UUID()
        running.withLock { tasks in
            tasks[id] = Task.detached { [weak self] in
                await work()
                _ = self?.running.withLock { $0.removeValue(forKey: id) }
            }
        }
    }

    func cancelAll() async {
        let tasks = running.withLock { tasks in
            defer { tasks.removeAll() }
            return Array(tasks.values)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    var count: Int { running.withLock { $0.count } }
}

/// The parameters with every reference path replaced by the file's contents.
private func loadingReferences(_ parameters: GenerationParameters) throws -> GenerationParameters {
    var loaded = parameters
    loaded.references = try parameters.references.map { try LocalImages.reference($0.value) }
    loaded.image = try parameters.image.map { try LocalImages.reference($0.value) }
    loaded.mask = try parameters.mask.map { try LocalImages.reference($0.value) }
    return loaded
}

/// One sentence for a failure of an effect.
private func describeFailure(_ error: any Error) -> String {
    switch error {
    case let error as BFLError: error.message
    case let error as EngineError: error.message
    case let error as JobStoreError: error.description
    case let error as ImagingError: error.message
    default: "\(error)"
    }
}
