/// Where frames go: ncurses in the app, memory in tests.
public protocol TerminalBackend: AnyObject {
    /// The size in cells.
    var size: (width: Int, height: Int) { get }
    /// Puts these cells on screen (each positioned explicitly) and shows the cursor, if any.
    func flush(_ updates: [(x: Int, y: Int, cell: Cell)], cursor: (x: Int, y: Int)?)
    /// How this backend shows pictures (`.blocks` unless it says otherwise).
    var graphics: GraphicsProtocol { get }
    /// The size of a cell in pixels (10×20 unless the terminal says).
    var cellPixels: (width: Int, height: Int) { get }
    /// `flush`, with the frame's pictures in real pixels: the backend sends the picture data
    /// its protocol needs; the cells (kitty placeholders, or blanks under sixel and iTerm2
    /// images) are already among `updates`.
    func flush(_ updates: [(x: Int, y: Int, cell: Cell)], cursor: (x: Int, y: Int)?, images: FrameImages)
}

extension TerminalBackend {
    public var graphics: GraphicsProtocol { .blocks }
    public var cellPixels: (width: Int, height: Int) { (10, 20) }
    public func flush(_ updates: [(x: Int, y: Int, cell: Cell)], cursor: (x: Int, y: Int)?, images: FrameImages) {
        flush(updates, cursor: cursor)
    }
}

/// Draws frames on a backend, sending only what changed since the last frame.
public final class Screen<Backend: TerminalBackend> {
    public let backend: Backend
    private var previous: Buffer?
    /// Kitty image numbers by picture (kept across frames: the terminal keeps the images).
    private var numbers = ImageNumbers()
    /// The pictures shown in the last frame.
    private var lastShown: [ShownImage] = []

    public init(backend: Backend) { self.backend = backend }

    /// Draws a frame; returns how many cells were sent.
    @discardableResult
    public func draw(_ frame: Buffer, cursor: (x: Int, y: Int)? = nil) -> Int {
        var frame = frame
        let images = pixels(in: &frame)
        let updates = frame.diff(from: previous ?? Buffer(area: .zero))
        if images.isEmpty {
            backend.flush(updates, cursor: cursor)
        } else {
            backend.flush(updates, cursor: cursor, images: images)
        }
        previous = frame
        return updates.count
    }

    /// Forgets the last frame, so the next is drawn whole (after a resize or a redraw request).
    public func invalidate() {
        previous = nil
        lastShown = []
    }

    /// Turns the frame's picture requests into what the backend's protocol needs: kitty
    /// placeholder cells naming the picture's image number, or blank cells for a sixel or
    /// iTerm2 image to be drawn over. On a blocks backend the frame is left as it is.
    private func pixels(in frame: inout Buffer) -> FrameImages {
        let protocolInUse = backend.graphics
        guard protocolInUse.isPixels, !(frame.images.isEmpty && lastShown.isEmpty) else { return .none }
        var shown: [ShownImage] = []
        for placement in frame.images {
            let area = placement.area
            switch protocolInUse {
            case .kitty:
                // A placement wider or taller than the placeholder table can name keeps its blocks.
                guard area.width <= KittyPlaceholder.maxSpan, area.height <= KittyPlaceholder.maxSpan else { continue }
                let number = numbers.number(for: "\(placement.key)@\(area.width)x\(area.height)")
                let style = CellStyle(fg: .indexed(UInt8(truncatingIfNeeded: number.id)), bg: .default)
                for row in 0..<area.height {
                    for column in 0..<area.width {
                        frame[area.x + column, area.y + row] = Cell(glyph: KittyPlaceholder.glyph(row: row, column: column), width: 1, style: style)
                    }
                }
                shown.append(ShownImage(id: number.id, placement: placement, isNew: number.isNew))
            case .iterm2, .sixel:
                frame.fill(area, glyph: .space, width: 1, style: Style(fg: .default, bg: .default, remove: [.bold, .dim, .italic, .underline, .reverse]))
                let before = lastShown.contains { $0.placement.key == placement.key && $0.placement.area == area }
                shown.append(ShownImage(id: 0, placement: placement, isNew: !before))
            case .blocks:
                break
            }
        }
        let removed = lastShown.filter { old in
            !shown.contains { $0.placement.key == old.placement.key && $0.placement.area == old.placement.area }
        }.map(\.placement.area)
        lastShown = shown
        return FrameImages(shown: shown, removed: removed)
    }
}

/// A backend in memory: what a terminal would show, for tests and pilots.
public final class MemoryBackend: TerminalBackend {
    public private(set) var screen: Buffer
    public private(set) var cursor: (x: Int, y: Int)?
    public private(set) var flushes = 0
    public private(set) var cellsWritten = 0
    /// The protocol this pretend terminal speaks (tests of real pixels set it).
    public var graphics: GraphicsProtocol = .blocks
    /// The pictures of the last frame that had any.
    public private(set) var lastImages = FrameImages.none

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

    public func flush(_ updates: [(x: Int, y: Int, cell: Cell)], cursor: (x: Int, y: Int)?, images: FrameImages) {
        flush(updates, cursor: cursor)
        lastImages = images
    }
}
