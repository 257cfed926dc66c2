import CNcursesw
#if canImport(Glibc)
import Glibc
#endif
import Imaging
public import TerminalCore
import TerminalGraphics

/// Why the terminal could not be used.
public struct TerminalError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The ncurses screen. All ncurses calls happen through this one object, on one thread: the
/// compiler cannot check a C call made from another task, so keep it on the main actor's thread.
/// `stop()` (also run by `deinit`) restores the terminal.
public final class NcursesTerminal: InteractiveTerminal {
    public let colorDepth: ColorDepth
    /// Whether the locale is UTF-8 (box characters need it).
    public let isUTF8: Bool
    private var pairs: [Int64: Int32] = [:]
    private var running = true
    /// Started on the real terminal (bracketed paste on), not on a file.
    private let interactive: Bool
    private var decoder = InputDecoder()
    /// Events read together that are handed out one at a time (a press with its release).
    private var pendingUnits: [InputUnit] = []
    /// How pictures are shown (see `GraphicsDetection`).
    public let graphics: GraphicsProtocol
    /// Picture escapes go through tmux's passthrough.
    private let passthrough: Bool
    /// Where the screen's bytes go (stdout, or the benchmark's file).
    private let output: UnsafeMutablePointer<FILE>
    /// Kitty image numbers sent this session (deleted at the end).
    private var sentImages: Set<Int> = []
    /// Sixel and iTerm2 pictures are drawn again after a full repaint.
    private var repaintPictures = false
    /// Said once in the log when the terminal type was replaced (`TerminalType`), else nil.
    public let typeNote: String?

    /// Takes over the terminal. Set `noColor` for `NO_COLOR`; `graphics` is how pictures are
    /// shown, through tmux's passthrough when `passthrough` is set.
    public init(noColor: Bool = false, graphics: GraphicsProtocol = .blocks, passthrough: Bool = false) throws(TerminalError) {
        let term: String
        switch TerminalType.choose(getenv("TERM").map { String(cString: $0) }) {
        case .use(let name):
            term = name
            typeNote = nil
        case .fallback(let missing, let instead):
            term = instead
            typeNote = "TERM=\(missing) has no terminfo entry here; drawing as \(instead)"
        case .refuse(let message):
            throw TerminalError(message: message)
        }
        switch term.withCString({ cnc_start($0) }) {
        case 0: break
        case -2:
            throw TerminalError(message: "the terminal type \"\(term)\" cannot be loaded; try TERM=xterm-256color")
        default:
            throw TerminalError(message: "cannot start the terminal interface (is this a terminal?)")
        }
        interactive = true
        isUTF8 = cnc_utf8() != 0
        colorDepth = noColor ? .none : Self.depth(colors: Int(cnc_colors()))
        // Kitty placeholders name their image by a 256-colour index.
        self.graphics = graphics == .kitty && (colorDepth != .indexed256 || !isUTF8) ? .blocks : graphics
        self.passthrough = passthrough
        output = cnc_stdout()
    }

    /// Draws on a screen that writes to the file at `outputPath` instead of a terminal
    /// (benchmarks write to /dev/null).
    public init(outputPath: String, term: String, width: Int, height: Int, graphics: GraphicsProtocol = .blocks) throws(TerminalError) {
        guard let output = fopen(outputPath, "w"), let input = fopen("/dev/null", "r") else {
            throw TerminalError(message: "cannot open \(outputPath)")
        }
        let status = term.withCString { cnc_start_on(output, input, $0, Int32(height), Int32(width)) }
        guard status == 0 else { throw TerminalError(message: "cannot start a screen for \(term)") }
        typeNote = nil
        interactive = false
        isUTF8 = cnc_utf8() != 0
        colorDepth = Self.depth(colors: Int(cnc_colors()))
        self.graphics = graphics
        passthrough = false
        self.output = output
    }

    deinit { stop() }

    /// Restores the terminal; safe to call more than once.
    public func stop() {
        guard running else { return }
        running = false
        // The terminal keeps kitty images until told: free the ones this session sent.
        for id in sentImages.sorted() { write(KittyGraphics.delete(id: id)) }
        sentImages = []
        cnc_end(interactive ? 1 : 0)
    }

    static func depth(colors: Int) -> ColorDepth {
        colors >= 256 ? .indexed256 : colors >= 8 ? .ansi16 : .none
    }

    /// The screen size in cells.
    public var size: (width: Int, height: Int) { (Int(cnc_cols()), Int(cnc_lines())) }

    /// Re-reads the terminal size after a SIGWINCH; true when it changed.
    public func syncSize() -> Bool { cnc_sync_size() != 0 }

    /// Makes ncurses repaint everything on the next refresh (after a resize, or Ctrl-L).
    public func clear() {
        cnc_clear()
        repaintPictures = true
    }

    /// The size of a cell in pixels, as the terminal reports it (10×20 when it does not).
    public var cellPixels: (width: Int, height: Int) {
        var width: Int32 = 0, height: Int32 = 0, columns: Int32 = 0, rows: Int32 = 0
        if interactive { cnc_pixel_size(STDOUT_FILENO, &width, &height, &columns, &rows) }
        guard width > 0, height > 0, columns > 0, rows > 0 else { return (10, 20) }
        return (max(1, Int(width / columns)), max(1, Int(height / rows)))
    }

    /// The bell through curses (it knows the terminal's way: audible or visible); desktop
    /// notifications as OSC escapes, through tmux's passthrough when fluxdeck has it.
    public func alert(_ alerts: [Alert], title: String, body: String) {
        for alert in alerts {
            if alert == .bell { cnc_beep() } else { write(alert.bytes(title: title, body: body)) }
        }
    }

    /// Writes bytes straight to the terminal (picture escapes), after what curses wrote.
    private func write(_ bytes: [UInt8]) {
        let wrapped = passthrough ? TmuxPassthrough.wrap(bytes) : bytes
        wrapped.withUnsafeBufferPointer { buffer in _ = fwrite(buffer.baseAddress, 1, buffer.count, output) }
        fflush(output)
    }

    /// The picture scaled down to the pixels of its cells (never up). Kitty and iTerm2 scale
    /// pictures into their cells themselves, so theirs is scaled only when it is over twice
    /// the pixels it will show (fewer bytes to send); sixel has no scaling, so `exact`.
    private func fitted(_ placement: ImagePlacement, cell: (width: Int, height: Int), exact: Bool = false, heightMultiple: Int = 1) -> Picture {
        let boxWidth = placement.area.width * cell.width
        var boxHeight = placement.area.height * cell.height
        if heightMultiple > 1 { boxHeight -= boxHeight % heightMultiple }
        let image = RGBImage(placement.picture)
        let needed = exact ? image.width > boxWidth || image.height > boxHeight : image.width * image.height > 2 * boxWidth * boxHeight
        guard needed else { return placement.picture }
        return Picture(ImageCodec.downsample(image, fitting: boxWidth, max(1, boxHeight)))
    }

    /// Puts cells and pictures on screen. Kitty pictures are sent once, before the
    /// placeholder cells that show them; a sixel or iTerm2 picture is drawn over its blank
    /// cells after curses has written them, again whenever something in its rows changed (curses
    /// may have cleared a line under it), and the rows of one that left are repainted.
    public func flush(_ updates: [(x: Int, y: Int, cell: Cell)], cursor: (x: Int, y: Int)?, images: FrameImages) {
        // The cell size is asked of the terminal once a frame, not once a picture.
        let cell = cellPixels
        switch graphics {
        case .kitty:
            for shown in images.shown where shown.isNew || !sentImages.contains(shown.id) {
                let picture = fitted(shown.placement, cell: cell)
                write(KittyGraphics.transmit(picture, id: shown.id, columns: shown.placement.area.width, rows: shown.placement.area.height))
                sentImages.insert(shown.id)
            }
            flush(updates, cursor: cursor)
        case .sixel, .iterm2:
            for area in images.removed { cnc_redrawln(Int32(area.y), Int32(area.height)) }
            let repaint = repaintPictures
            repaintPictures = false
            flush(updates, cursor: cursor)
            let changedRows = Set(updates.map(\.y))
            for shown in images.shown {
                let area = shown.placement.area
                guard shown.isNew || repaint || (area.y..<area.bottom).contains(where: changedRows.contains) else { continue }
                var bytes = Array("\u{1B}7\u{1B}[\(area.y + 1);\(area.x + 1)H".utf8)
                if graphics == .sixel {
                    bytes += SixelGraphics.image(fitted(shown.placement, cell: cell, exact: true, heightMultiple: 6))
                } else if let image = try? ITerm2Graphics.image(fitted(shown.placement, cell: cell), columns: area.width, rows: area.height) {
                    bytes += image
                }
                bytes += Array("\u{1B}8".utf8)
                write(bytes)
            }
        case .blocks:
            flush(updates, cursor: cursor)
        }
    }

    /// Puts cells on screen and refreshes once.
    public func flush(_ updates: [(x: Int, y: Int, cell: Cell)], cursor: (x: Int, y: Int)?) {
        var wide = [wchar_t](repeating: 0, count: 8)
        for update in updates {
            var count = 0
            for scalar in update.cell.symbol.unicodeScalars where count < 5 {
                wide[count] = wchar_t(bitPattern: scalar.value)
                count += 1
            }
            if count == 0 { continue }
            wide[count] = 0
            let (attributes, pair) = attributes(for: update.cell.style)
            _ = cnc_put(Int32(update.y), Int32(update.x), wide, attributes, pair)
        }
        if let cursor {
            cnc_move(Int32(cursor.y), Int32(cursor.x))
            cnc_cursor(1)
        } else {
            cnc_cursor(0)
        }
        cnc_refresh()
    }

    private func attributes(for style: CellStyle) -> (UInt32, Int32) {
        var attributes: UInt32 = 0
        if style.modifiers.contains(.bold) { attributes |= cnc_a_bold() }
        if style.modifiers.contains(.dim) { attributes |= cnc_a_dim() }
        if style.modifiers.contains(.italic) { attributes |= cnc_a_italic() }
        if style.modifiers.contains(.underline) { attributes |= cnc_a_underline() }
        if style.modifiers.contains(.reverse) { attributes |= cnc_a_reverse() }
        guard colorDepth != .none else { return (attributes, 0) }
        let fg = number(colorDepth.reduce(style.fg))
        let bg = number(colorDepth.reduce(style.bg))
        if fg == -1 && bg == -1 { return (attributes, 0) }
        let key = Int64(fg) << 32 | Int64(UInt32(bitPattern: bg))
        if let pair = pairs[key] { return (attributes, pair) }
        let pair = cnc_alloc_pair(fg, bg)
        let usable = pair > 0 ? pair : 0
        pairs[key] = usable
        return (attributes, usable)
    }

    private func number(_ color: Color?) -> Int32 {
        switch color {
        case .ansi(let n)?: Int32(n)
        case .indexed(let n)?: Int32(n)
        case .rgb(let r, let g, let b)?: Int32(ColorDepth.nearest256(r, g, b))
        case .default?, nil: -1
        }
    }

    /// Everything the terminal has delivered, waiting at most `timeout` milliseconds for the
    /// first input (-1: until there is some). What arrived together is decoded together, so a
    /// paste is one `.paste` event and never a string of keys (see `InputDecoder`).
    public func nextEvents(timeout: Int32) -> [TerminalEvent] {
        var units: [InputUnit] = []
        guard let first = readUnit(timeout: timeout) else { return [] }
        units.append(first)
        var events: [TerminalEvent] = []
        while true {
            while units.count < 65_536, let unit = readUnit(timeout: 0) { units.append(unit) }
            events += decoder.decode(units)
            units = []
            // A read that ended inside an escape sequence or a bracketed paste: the rest is on
            // its way.
            guard decoder.awaitsMore || decoder.isPasting else { return events }
            guard let next = readUnit(timeout: 50) else {
                events += decoder.decode([], final: true)
                return events
            }
            units.append(next)
        }
    }

    /// One character or key code, or nil when nothing arrived within `timeout` ms.
    private func readUnit(timeout: Int32) -> InputUnit? {
        if !pendingUnits.isEmpty { return pendingUnits.removeFirst() }
        cnc_timeout(timeout)
        var value: UInt32 = 0
        let status = cnc_get(&value)
        if status == cnc_key_code_yes() {
            if Int32(value) == cnc_key_resize() {
                return .event(.resize(width: size.width, height: size.height))
            }
            if Int32(value) == cnc_key_mouse() {
                // A press and a release read together may come as one event with both: each is told.
                var events = mouseEvents()
                guard !events.isEmpty else { return readUnit(timeout: 0) }
                let first = events.removeFirst()
                pendingUnits += events.map(InputUnit.event)
                return .event(first)
            }
            return KeyDecoder.keyCode(Int32(value)).map { .event(.key($0)) } ?? readUnit(timeout: 0)
        }
        guard status == cnc_ok() else { return nil }
        return .scalar(value)
    }

    private func mouseEvents() -> [TerminalEvent] {
        var x: Int32 = 0, y: Int32 = 0
        var buttons: UInt = 0
        guard cnc_getmouse(&x, &y, &buttons) == cnc_ok() else { return [] }
        var kinds: [MouseEvent.Kind] = []
        if buttons & cnc_wheel_up() != 0 { kinds = [.scrollUp] }
        else if buttons & cnc_wheel_down() != 0 { kinds = [.scrollDown] }
        else {
            if buttons & cnc_button1_pressed() != 0 { kinds.append(.press) }
            // A click (press and release at once) is a release too.
            if buttons & cnc_button1_released() != 0 || buttons & cnc_button1_clicked() != 0 { kinds.append(.release) }
        }
        return kinds.map { .mouse(MouseEvent(kind: $0, x: Int(x), y: Int(y))) }
    }
}

/// Turns what `get_wch` returns into keys.
public enum KeyDecoder {
    /// A character read with status OK.
    public static func character(_ value: UInt32) -> Key? { Key(character: value) }

    /// A key code read with status KEY_CODE_YES.
    public static func keyCode(_ code: Int32) -> Key? {
        switch code {
        case cnc_key_up(): return Key(.up)
        case cnc_key_down(): return Key(.down)
        case cnc_key_left(): return Key(.left)
        case cnc_key_right(): return Key(.right)
        case cnc_key_sleft(): return Key(.left, .shift)
        case cnc_key_sright(): return Key(.right, .shift)
        case cnc_key_sr(): return Key(.up, .shift)
        case cnc_key_sf(): return Key(.down, .shift)
        case cnc_key_home(): return Key(.home)
        case cnc_key_end(): return Key(.end)
        case cnc_key_ppage(): return Key(.pageUp)
        case cnc_key_npage(): return Key(.pageDown)
        case cnc_key_dc(): return Key(.delete)
        case cnc_key_ic(): return Key(.insert)
        case cnc_key_backspace(): return Key(.backspace)
        case cnc_key_enter(): return Key(.enter)
        case cnc_key_btab(): return Key(.backTab)
        default:
            for n in 1...24 where code == cnc_key_f(Int32(n)) { return Key(.function(n)) }
            return nil
        }
    }
}
