import Dispatch
public import Foundation
import Synchronization
public import TerminalCore
public import Studio
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT/SIGTERM/SIGHUP (or by the program); polled by the run loop. Unchecked: the
/// dispatch sources it keeps alive are touched only under its lock.
public final class StopFlag: @unchecked Sendable {
    private let state = Mutex(false)
    private let received = Mutex(0)
    private let lock = NSLock()
    private var sources: [any DispatchSourceSignal] = []
    private let onSet: @Sendable () -> Void
    private let onSignal: @Sendable (_ number: Int32, _ count: Int) -> Void

    /// `onSet` runs each time the flag is set; `onSignal` each time a watched signal comes,
    /// with its number and how many have come so far.
    public init(onSet: @escaping @Sendable () -> Void = {},
                onSignal: @escaping @Sendable (_ number: Int32, _ count: Int) -> Void = { _, _ in }) {
        self.onSet = onSet
        self.onSignal = onSignal
    }

    public var isSet: Bool { state.withLock { $0 } }
    public func set() {
        state.withLock { $0 = true }
        onSet()
    }

    /// Calls `handler` on SIGWINCH (which may be delivered to any thread, so curses' own
    /// handler cannot be relied on).
    public nonisolated func watchResize(_ handler: @escaping @Sendable () -> Void) {
        let source = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        lock.withLock { sources.append(source) }
    }

    /// Installs the handlers. Created outside any actor: a closure made in main-actor code and
    /// run on a dispatch queue traps under Swift 6.
    public nonisolated func watchSignals() {
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.signalled(number) }
            source.resume()
            lock.withLock { sources.append(source) }
        }
    }

    private func signalled(_ number: Int32) {
        let count = received.withLock { value -> Int in
            value += 1
            return value
        }
        set()
        onSignal(number, count)
    }

    /// Stops watching signals and gives them their default actions back.
    public func stop() {
        lock.withLock {
            for source in sources { source.cancel() }
            sources.removeAll()
        }
        for number in [SIGINT, SIGTERM, SIGHUP] { signal(number, SIG_DFL) }
    }
}

/// Opens the file or FIFO that tests read frame reports from. open(2), because Foundation's
/// file handles refuse FIFOs.
public func openNotifier(_ path: String) -> FileHandle? {
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    return fd >= 0 ? FileHandle(fileDescriptor: fd, closeOnDealloc: true) : nil
}

/// The self-pipe that wakes the studio's loop for engine events and signals (keys wake it
/// through stdin).
public struct WakePipe: Sendable {
    public let read: Int32
    public let write: Int32

    /// Nil when no pipe can be made.
    public init?() {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        (read, write) = (fds[0], fds[1])
        _ = fcntl(read, F_SETFL, O_NONBLOCK)
        _ = fcntl(write, F_SETFL, O_NONBLOCK)
    }

    /// Wakes the loop (safe from any thread or signal handler's queue).
    public var wake: @Sendable () -> Void {
        let fd = write
        return { var byte: UInt8 = 1; _ = Glibc.write(fd, &byte, 1) }
    }

    /// Empties the pipe.
    public func drain() {
        var sink = [UInt8](repeating: 0, count: 64)
        while Glibc.read(read, &sink, sink.count) > 0 {}
    }
}

/// The studio's event loop: draw when something changed, then block in poll(2) until a key, a
/// signal, an engine event or the next tick; hand keys, pastes, clicks and resizes to the driver.
/// Returns when the user quits, a signal sets `stop`, or the terminal hangs up.
@MainActor
public enum StudioLoop {
    /// Why the loop ended.
    public enum Ending: Sendable, Equatable { case quit, signal, hangUp }

    public static func run<Terminal: InteractiveTerminal>(
        driver: StudioDriver<Terminal>, terminal: Terminal, wake: WakePipe, stop: StopFlag,
        input: Int32 = STDIN_FILENO, onFrame: (AppState) -> Void = { _ in }
    ) -> Ending {
        var lastFrame = -1
        var ticks = TickSchedule()
        let clock = ContinuousClock()
        while !driver.quitRequested, !stop.isSet {
            driver.drainInbox()
            driver.drawIfNeeded()
            if driver.frames != lastFrame {
                lastFrame = driver.frames
                onFrame(driver.state)
            }
            // Idle means idle: block until a key, a signal or an event. While jobs run the
            // spinner ticks on deadlines, however busy input is.
            var waits = [pollfd(fd: input, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
            _ = poll(&waits, 2, ticks.timeout(now: clock.now, active: driver.state.runningCount > 0))
            // Keys know when they were pressed (the repeat guard); idle, nothing else ticks.
            if waits[0].revents & Int16(POLLIN) != 0 { driver.send(.clock(Date())) }
            if ticks.due(now: clock.now, active: driver.state.runningCount > 0) { driver.send(.tick(Date())) }
            // The terminal hung up or failed: nobody is there any more. The jobs stay in the
            // ledger for the next start or `jobs resume`.
            if waits[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { return .hangUp }
            if waits[1].revents != 0 { wake.drain() }
            if terminal.syncSize() {
                let (width, height) = terminal.size
                driver.invalidate()
                terminal.clear()
                driver.send(.resize(width: width, height: height))
            }
            // Keys (and KEY_RESIZE after SIGWINCH interrupted poll).
            for event in terminal.nextEvents(timeout: 0) {
                switch event {
                case .key(let key): driver.send(.key(key))
                case .resize(let width, let height):
                    driver.invalidate()
                    terminal.clear()
                    driver.send(.resize(width: width, height: height))
                case .paste(let text): driver.send(.paste(text))
                case .mouse(let event): driver.send(.mouse(event))
                }
                if driver.quitRequested { break }
            }
        }
        return driver.quitRequested ? .quit : .signal
    }
}
