/// One screen cell: a grapheme (or "" for the second half of a wide one) and its style.
public struct Cell: Sendable, Hashable {
    public var symbol: String {
        didSet { width = UInt8(DisplayWidth.of(symbol)) }
    }
    public var style: CellStyle
    /// Columns the symbol takes, kept with it so diffing never measures text again.
    public private(set) var width: UInt8

    public init(_ symbol: String = " ", style: CellStyle = .plain) {
        self.symbol = symbol
        self.style = style
        width = UInt8(DisplayWidth.of(symbol))
    }

    public static let blank = Cell()

    /// The second half of a wide character: drawn by the cell before it.
    public var isContinuation: Bool { symbol.isEmpty }
}

/// A grid of cells: what a frame looks like. Widgets draw into it; the backend draws the
/// difference between two of them.
public struct Buffer: Sendable, Hashable {
    public private(set) var area: Rect
    public private(set) var cells: [Cell]

    public init(area: Rect, filling cell: Cell = .blank) {
        self.area = area
        cells = Array(repeating: cell, count: area.area)
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
        set { if let i = index(x: x, y: y) { cells[i] = newValue } }
    }

    /// Applies a style patch to every cell of `rect`.
    public mutating func setStyle(_ style: Style, in rect: Rect) {
        let clipped = rect.intersection(area)
        for y in clipped.y..<clipped.bottom {
            for x in clipped.x..<clipped.right {
                if let i = index(x: x, y: y) { cells[i].style = cells[i].style.applying(style) }
            }
        }
    }

    /// Fills `rect` with a symbol.
    public mutating func fill(_ rect: Rect, symbol: String = " ", style: Style = .plain) {
        let clipped = rect.intersection(area)
        // The symbol is measured once, not once per cell, and a cell that already shows it
        // only has its style changed (no string is copied).
        var cell = Cell(symbol)
        for y in clipped.y..<clipped.bottom {
            for x in clipped.x..<clipped.right {
                if let i = index(x: x, y: y) {
                    if cells[i].symbol == symbol {
                        cells[i].style = cells[i].style.applying(style)
                    } else {
                        cell.style = cells[i].style.applying(style)
                        cells[i] = cell
                    }
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
        var column = x
        guard y >= area.y, y < area.bottom else { return x }
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
                    cells[i] = Cell(String(character), style: cells[i].style.applying(style))
                }
                if width == 2 {
                    clearWide(at: column + 1, y: y)
                    if let j = index(x: column + 1, y: y) { cells[j] = Cell("", style: cells[j].style.applying(style)) }
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
        for i in cells.indices {
            let current = cells[i]
            let before = previous.cells[i]
            if !current.isContinuation, current != before || invalidated > 0, toSkip == 0 {
                updates.append((area.x + i % area.width, area.y + i / area.width, current))
            }
            let currentWidth = Int(current.width)
            toSkip = max(currentWidth - 1, 0)
            invalidated = max(max(currentWidth, Int(before.width)), invalidated) - 1
            if invalidated < 0 { invalidated = 0 }
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
