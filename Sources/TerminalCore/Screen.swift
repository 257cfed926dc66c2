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
    /// Rings the bell or raises desktop notifications (nothing, unless the backend can).
    func alert(_ alerts: [Alert], title: String, body: String)
    /// `flush`, with the frame's pictures in real pixels: the backend sends the picture data
    /// its protocol needs; the cells (kitty placeholders, or blanks under sixel and iTerm2
    /// images) are already among `updates`.
    func flush(_ updates: [(x: Int, y: Int, cell: Cell)], cursor: (x: Int, y: Int)?, images: FrameImages)
}

/// A terminal the studio can run in: a backend that also reports its size changes, hands over
/// input and stops (ncurses in the app).
public protocol InteractiveTerminal: TerminalBackend {
    /// Whether the size changed since last asked (after SIGWINCH).
    func syncSize() -> Bool
    /// Forgets what is on screen, so the next frame is drawn whole.
    func clear()
    /// Keys, pastes, clicks and resizes waiting now (`timeout` in milliseconds).
    func nextEvents(timeout: Int32) -> [TerminalEvent]
    /// Gives the terminal back as it was.
    func stop()
}

/// Ways to get the attention of the person at the terminal.
public enum Alert: String, Sendable, Hashable {
    /// The bell.
    case bell
    /// A desktop notification: `ESC ] 9 ; text BEL`.
    case osc9
    /// A desktop notification: `ESC ] 777 ; notify ; title ; body BEL`.
    case osc777

    /// The bytes that raise it (control characters and `;` in the texts are dropped or
    /// replaced, so a title cannot end the sequence early).
    public func bytes(title: String, body: String) -> [UInt8] {
        func clean(_ text: String, semicolons: Bool) -> String {
            String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F && !(0x80..<0xA0).contains($0.value) }
                .map { !semicolons && $0 == ";" ? "," : Character($0) })
        }
        switch self {
        case .bell: return [0x07]
        case .osc9: return Array("\u{1B}]9;\(clean(title, semicolons: true)): \(clean(body, semicolons: true))\u{07}".utf8)
        case .osc777: return Array("\u{1B}]777;notify;\(clean(title, semicolons: false));\(clean(body, semicolons: false))\u{07}".utf8)
        }
    }
}

extension TerminalBackend {
    public var graphics: GraphicsProtocol { .blocks }
    public func alert(_ alerts: [Alert], title: String, body: String) {}
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
        for placement in frame.takeImages() {
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
    /// Every alert raised, as (alert, title, body).
    public private(set) var alerts: [(alert: Alert, title: String, body: String)] = []

    public func alert(_ alerts: [Alert], title: String, body: String) {
        for alert in alerts { self.alerts.append((alert, title, body)) }
    }

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
