/// The text of one cell, stored inline: up to 15 bytes of UTF-8 and no heap storage, so a
/// cell is plain data that copies, compares and frees for nothing (decision 43). A longer
/// grapheme (a long emoji ZWJ sequence) keeps its leading scalars that fit; ncurses keeps at
/// most five scalars of a cell anyway.
public struct Glyph: Sendable, Hashable {
    /// Bytes 0–7 of the UTF-8.
    private var low: UInt64
    /// Bytes 8–14 of the UTF-8; the top byte is the byte count.
    private var high: UInt64

    public static let capacity = 15

    private init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// One ASCII byte.
    @inline(__always)
    public init(ascii byte: UInt8) {
        self.init(low: UInt64(byte), high: 1 << 56)
    }

    public init(_ text: some StringProtocol) {
        var bytes: [UInt8] = []
        var lastScalarStart = 0
        var cut = false
        for scalar in text.unicodeScalars {
            guard let encoded = UTF8.encode(scalar) else { continue }
            guard bytes.count + encoded.count <= Self.capacity else {
                cut = true
                break
            }
            lastScalarStart = bytes.count
            bytes.append(contentsOf: encoded)
        }
        // A cut sequence does not end in a joiner waiting for what was cut.
        if cut, bytes.count > lastScalarStart, bytes[lastScalarStart...].elementsEqual([0xE2, 0x80, 0x8D]) {
            bytes.removeSubrange(lastScalarStart...)
        }
        var low: UInt64 = 0, high: UInt64 = 0
        for (k, byte) in bytes.enumerated() {
            if k < 8 { low |= UInt64(byte) << (8 * k) } else { high |= UInt64(byte) << (8 * (k - 8)) }
        }
        self.init(low: low, high: high | UInt64(bytes.count) << 56)
    }

    public static let space = Glyph(ascii: 0x20)
    /// The second half of a wide character.
    public static let empty = Glyph(low: 0, high: 0)

    public var byteCount: Int { Int(high >> 56) }
    public var isEmpty: Bool { high >> 56 == 0 }

    /// The UTF-8 bytes.
    public var utf8: [UInt8] {
        (0..<byteCount).map { k in UInt8(truncatingIfNeeded: k < 8 ? low >> (8 * k) : high >> (8 * (k - 8))) }
    }

    public var string: String {
        if byteCount == 1 { return String(UnicodeScalar(UInt8(truncatingIfNeeded: low))) }
        return String(decoding: utf8, as: UTF8.self)
    }
}

/// One screen cell: a grapheme (empty for the second half of a wide one) and its style.
public struct Cell: Sendable, Hashable {
    public private(set) var glyph: Glyph
    public var style: CellStyle
    /// Columns the symbol takes, kept with it so diffing never measures text again.
    public private(set) var width: UInt8

    public var symbol: String {
        get { glyph.string }
        set {
            glyph = Glyph(newValue)
            width = Self.columns(newValue)
        }
    }

    public init(_ symbol: String = " ", style: CellStyle = .plain) {
        glyph = Glyph(symbol)
        self.style = style
        width = Self.columns(symbol)
    }

    /// A cell from a glyph already measured.
    @inline(__always)
    public init(glyph: Glyph, width: UInt8, style: CellStyle) {
        self.glyph = glyph
        self.width = width
        self.style = style
    }

    private static func columns(_ symbol: String) -> UInt8 { UInt8(clamping: DisplayWidth.of(symbol)) }

    public static let blank = Cell()

    /// The second half of a wide character: drawn by the cell before it.
    public var isContinuation: Bool { glyph.isEmpty }
}

/// A grid of cells: what a frame looks like. Widgets draw into it; the backend draws the
/// difference between two of them.
public struct Buffer: Sendable, Hashable {
    public private(set) var area: Rect
    public private(set) var cells: [Cell]
    /// Pictures to show in real pixels where the terminal can (see `place`).
    public private(set) var images: [ImagePlacement] = []

    public init(area: Rect, filling cell: Cell = .blank) {
        self.area = area
        cells = Array(repeating: cell, count: area.area)
    }

    /// Asks for `picture` in real pixels over `area`, where it has just been drawn in blocks.
    /// Anything drawn over part of it later (an overlay, a popup) withdraws the request, so
    /// the blocks stay and nothing paints pixels over the overlay.
    public mutating func place(_ picture: Picture, key: String, in area: Rect) {
        let clipped = area.intersection(self.area)
        guard !clipped.isEmpty, clipped == area else { return }
        images.removeAll { $0.area.intersects(area) }
        images.append(ImagePlacement(key: key, area: area, picture: picture))
    }

    /// The picture requests, handed over and cleared (the screen turns them into cells, and
    /// writing those must not withdraw them one cell at a time).
    public mutating func takeImages() -> [ImagePlacement] {
        defer { images = [] }
        return images
    }

    /// Withdraws the pictures that `rect` overlaps (it is being drawn over).
    @inline(__always)
    private mutating func drawing(over rect: Rect) {
        if !images.isEmpty { images.removeAll { $0.area.intersects(rect) } }
    }

    /// A buffer from lines of text, for tests: each line is one row, padded with spaces.
    public init(lines: [String]) {
        let width = lines.map { DisplayWidth.of($0) }.max() ?? 0
        self.init(area: Rect(width: width, height: lines.count))
        for (row, line) in lines.enumerated() { setString(x: 0, y: row, line, style: .plain) }
    }

    public func index(x: Int, y: Int) -> Int? {
        guard area.contains(x: x, y: y) else { return nil }
        return (y - area.y) * area.width + (x - area.x)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { index(x: x, y: y).map { cells[$0] } ?? .blank }
        set {
            if let i = index(x: x, y: y) {
                drawing(over: Rect(x: x, y: y, width: 1, height: 1))
                cells[i] = newValue
            }
        }
    }

    /// Applies a style patch to every cell of `rect`.
    public mutating func setStyle(_ style: Style, in rect: Rect) {
        let clipped = rect.intersection(area)
        guard !clipped.isEmpty else { return }
        drawing(over: clipped)
        let patch = CellStyle.Patch(style)
        for y in clipped.y..<clipped.bottom {
            let start = (y - area.y) * area.width + (clipped.x - area.x)
            cells.withUnsafeMutableBufferPointer { row in
                for i in start..<start + clipped.width { row[i].style = row[i].style.applying(patch) }
            }
        }
    }

    /// Resets `rect` to blank cells with no style, withdrawing the pictures it overlaps: what
    /// is drawn there next starts from nothing (a full-screen view over the panes, whose
    /// colours and reversed rows would otherwise show through its blanks).
    public mutating func clear(_ rect: Rect) {
        let clipped = rect.intersection(area)
        guard !clipped.isEmpty else { return }
        drawing(over: clipped)
        for y in clipped.y..<clipped.bottom {
            clearWide(at: clipped.x, y: y)
            clearWide(at: clipped.right - 1, y: y)
            let start = (y - area.y) * area.width + (clipped.x - area.x)
            cells.replaceSubrange(start..<start + clipped.width, with: repeatElement(Cell.blank, count: clipped.width))
        }
    }

    /// Fills `rect` with a symbol (one column wide) over the style already there patched with
    /// `style`. A wide character cut by the edge of `rect` loses its other half.
    public mutating func fill(_ rect: Rect, symbol: String = " ", style: Style = .plain) {
        fill(rect, glyph: symbol == " " ? .space : Glyph(symbol), width: UInt8(clamping: DisplayWidth.of(symbol)), style: style)
    }

    /// `fill` with a glyph measured by the caller (a border drawn many times measures once).
    public mutating func fill(_ rect: Rect, glyph: Glyph, width: UInt8, style: Style) {
        let clipped = rect.intersection(area)
        guard !clipped.isEmpty else { return }
        drawing(over: clipped)
        let patch = CellStyle.Patch(style)
        for y in clipped.y..<clipped.bottom {
            clearWide(at: clipped.x, y: y)
            clearWide(at: clipped.right - 1, y: y)
            let start = (y - area.y) * area.width + (clipped.x - area.x)
            cells.withUnsafeMutableBufferPointer { row in
                for i in start..<start + clipped.width {
                    row[i] = Cell(glyph: glyph, width: width, style: row[i].style.applying(patch))
                }
            }
        }
    }

    /// Writes text from (x, y), at most `maxWidth` columns, clipped to the buffer. Wide
    /// characters take two cells (the second left empty); one that would be cut in half is
    /// not drawn. Returns the column after the last one written.
    @discardableResult
    public mutating func setString(x: Int, y: Int, _ text: some StringProtocol, style: Style, maxWidth: Int? = nil) -> Int {
        let limit = min(area.right, x + (maxWidth ?? Int.max / 2))
        guard y >= area.y, y < area.bottom else { return x }
        if !images.isEmpty { drawing(over: Rect(x: x, y: y, width: max(0, min(limit, x + DisplayWidth.of(text)) - x), height: 1)) }
        // Printable ASCII (most of a frame) is one byte, one cell, one column: no grapheme
        // breaking, no width tables, no strings made.
        let ascii = text.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
        } ?? text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
        if ascii {
            let first = max(x, area.x)
            let end = min(limit, x + text.utf8.count)
            guard first < end else { return max(x, min(end, x + text.utf8.count)) }
            clearWide(at: first, y: y)
            clearWide(at: end - 1, y: y)
            let row = (y - area.y) * area.width - area.x
            let patch = CellStyle.Patch(style)
            var column = x
            for byte in text.utf8 {
                if column >= end { break }
                if column >= first {
                    let i = row + column
                    cells[i] = Cell(glyph: Glyph(ascii: byte), width: 1, style: cells[i].style.applying(patch))
                }
                column += 1
            }
            return column
        }
        var column = x
        for character in text {
            let width = DisplayWidth.of(character)
            if width == 0 {
                // A lone zero-width scalar joins the previous cell.
                if column > x, let i = index(x: column - 1, y: y), !cells[i].isContinuation {
                    cells[i].symbol.append(character)
                }
                continue
            }
            if column + width > limit { break }
            if column >= area.x {
                clearWide(at: column, y: y)
                if let i = index(x: column, y: y) {
                    cells[i] = Cell(glyph: Glyph(String(character)), width: UInt8(width), style: cells[i].style.applying(style))
                }
                if width == 2 {
                    clearWide(at: column + 1, y: y)
                    if let j = index(x: column + 1, y: y) { cells[j] = Cell(glyph: .empty, width: 0, style: cells[j].style.applying(style)) }
                }
            }
            column += width
        }
        return column
    }

    /// Writes styled spans in a row; returns the column after the last.
    @discardableResult
    public mutating func setLine(x: Int, y: Int, _ line: Line, maxWidth: Int) -> Int {
        var column = x
        for span in line.spans {
            let remaining = x + maxWidth - column
            guard remaining > 0 else { break }
            column = setString(x: column, y: y, span.content, style: line.style.patched(with: span.style), maxWidth: remaining)
        }
        return column
    }

    /// Overwriting half of a wide character blanks the other half.
    private mutating func clearWide(at x: Int, y: Int) {
        guard let i = index(x: x, y: y) else { return }
        if cells[i].isContinuation, let left = index(x: x - 1, y: y) {
            cells[left].symbol = " "
        } else if cells[i].width == 2, let right = index(x: x + 1, y: y), cells[right].isContinuation {
            cells[right].symbol = " "
        }
    }

    /// Resizes, keeping nothing.
    public mutating func resize(to newArea: Rect) {
        area = newArea
        images = []
        cells = Array(repeating: .blank, count: newArea.area)
    }

    /// The cells that differ from `previous`, as (x, y, cell), row by row. After a wide
    /// character the next cell is skipped (the terminal draws both halves); where a wide
    /// character stood before, the cells it covered are sent again.
    public func diff(from previous: Buffer) -> [(x: Int, y: Int, cell: Cell)] {
        guard previous.area == area else {
            return cells.indices.compactMap { i in
                cells[i].isContinuation ? nil : (area.x + i % area.width, area.y + i / area.width, cells[i])
            }
        }
        var updates: [(x: Int, y: Int, cell: Cell)] = []
        var toSkip = 0
        var invalidated = 0
        cells.withUnsafeBufferPointer { now in
            previous.cells.withUnsafeBufferPointer { then in
                for i in 0..<now.count {
                    let current = now[i]
                    let before = then[i]
                    if toSkip == 0, !current.isContinuation, invalidated > 0 || current != before {
                        updates.append((area.x + i % area.width, area.y + i / area.width, current))
                    }
                    let currentWidth = Int(current.width)
                    toSkip = max(currentWidth - 1, 0)
                    invalidated = max(max(currentWidth, Int(before.width)), invalidated) - 1
                    if invalidated < 0 { invalidated = 0 }
                }
            }
        }
        return updates
    }

    /// The text of each row (continuations dropped), for tests and screen captures.
    public var lines: [String] {
        (0..<area.height).map { row in
            var line = ""
            for column in 0..<area.width {
                let cell = cells[row * area.width + column]
                if !cell.isContinuation { line += cell.symbol }
            }
            return line
        }
    }
}
