public import AppCore
public import BFL
import Foundation
public import Jobs
import Synchronization
public import TerminalCore
public import Theme

/// Actions arriving from other tasks (engine events, effect results), handed to the main
/// loop. `onPush` wakes it (a self-pipe in the app, a main-actor task in tests).
public final class Inbox: Sendable {
    private let pending = Mutex<[Action]>([])
    private let wake: @Sendable () -> Void

    public init(wake: @escaping @Sendable () -> Void) { self.wake = wake }

    public func push(_ action: Action) {
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
    private var dirty = true
    private var listeners: [(AppState) -> Bool] = []

    public init(state: AppState, backend: Backend, theme: Theme, engine: JobEngine, client: BFLClient, inbox: Inbox) {
        self.state = state
        self.screen = Screen(backend: backend)
        self.theme = theme
        self.engine = engine
        self.client = client
        self.inbox = inbox
        let size = backend.size
        _ = reduce(&self.state, .resize(width: size.width, height: size.height))
    }

    /// Follows engine events, loads recent jobs and the balance.
    public func start(recentJobs: [JobRecord]) {
        let inbox = self.inbox
        let events = engine.events
        Task.detached {
            for await event in events {
                switch event {
                case .updated(let job): inbox.push(.jobUpdated(job))
                case .progress(let id, let value): inbox.push(.jobProgress(id: id, progress: value))
                }
            }
        }
        send(.jobsLoaded(recentJobs))
        interpret(.refreshCredits)
    }

    /// Applies one action now.
    public func send(_ action: Action) {
        for effect in reduce(&state, action) { interpret(effect) }
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

    /// Waits until the state satisfies `condition` (tests and pilots).
    public func waitUntil(_ condition: @escaping (AppState) -> Bool) async {
        if condition(state) { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            listeners.append { state in
                guard condition(state) else { return false }
                continuation.resume()
                return true
            }
        }
    }

    private func notifyListeners() {
        listeners.removeAll { $0(state) }
    }

    /// Effects run detached: the app's loop blocks the main thread in poll(2) while idle, so
    /// nothing they do may need the main actor. Results come back through the inbox.
    private func interpret(_ effect: Effect) {
        let inbox = self.inbox
        let engine = self.engine
        let client = self.client
        switch effect {
        case .quit:
            quitRequested = true
        case .submit(let modelID, let parameters, let count):
            guard let model = Catalog.model(id: modelID) else { return }
            let requests = (0..<count).map { _ in JobRequest(model: model, parameters: parameters) }
            Task.detached {
                do { try await engine.enqueue(requests) } catch let error as BFLError {
                    inbox.push(.submitFailed(error.message))
                } catch {
                    inbox.push(.submitFailed("\(error)"))
                }
            }
        case .cancel(let id):
            Task.detached {
                do { try await engine.cancel(id) } catch { inbox.push(.submitFailed("\(error)")) }
            }
        case .refreshCredits:
            Task.detached {
                let credits = try? await client.credits()
                inbox.push(.creditsLoaded(credits))
            }
        }
    }
}
