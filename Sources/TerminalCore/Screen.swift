/// Where frames go: ncurses in the app, memory in tests.
public protocol TerminalBackend: AnyObject {
    /// The size in cells.
    var size: (width: Int, height: Int) { get }
    /// Puts these cells on screen (each positioned explicitly) and shows the cursor, if any.
    func flush(_ updates: [(x: Int, y: Int, cell: Cell)], cursor: (x: Int, y: Int)?)
}

/// Draws frames on a backend, sending only what changed since the last frame.
public final class Screen<Backend: TerminalBackend> {
    public let backend: Backend
    private var previous: Buffer?

    public init(backend: Backend) { self.backend = backend }

    /// Draws a frame; returns how many cells were sent.
    @discardableResult
    public func draw(_ frame: Buffer, cursor: (x: Int, y: Int)? = nil) -> Int {
        let updates = frame.diff(from: previous ?? Buffer(area: .zero))
        backend.flush(updates, cursor: cursor)
        previous = frame
        return updates.count
    }

    /// Forgets the last frame, so the next is drawn whole (after a resize or a redraw request).
    public func invalidate() { previous = nil }
}

/// A backend in memory: what a terminal would show, for tests and pilots.
public final class MemoryBackend: TerminalBackend {
    public private(set) var screen: Buffer
    public private(set) var cursor: (x: Int, y: Int)?
    public private(set) var flushes = 0
    public private(set) var cellsWritten = 0

    public init(width: Int, height: Int) {
        screen = Buffer(area: Rect(width: width, height: height))
    }

    public var size: (width: Int, height: Int) { (screen.area.width, screen.area.height) }

    public func resize(width: Int, height: Int) {
        screen = Buffer(area: Rect(width: width, height: height))
    }

    public func flush(_ updates: [(x: Int, y: Int, cell: Cell)], cursor: (x: Int, y: Int)?) {
        for update in updates {
            screen[update.x, update.y] = update.cell
            if update.cell.width == 2 { screen[update.x + 1, update.y] = Cell("", style: update.cell.style) }
        }
        self.cursor = cursor
        flushes += 1
        cellsWritten += updates.count
    }
}
