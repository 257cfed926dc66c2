public import TerminalCore

/// A vertical list of lines with a highlighted selection.
public struct List: Sendable {
    public var items: [Line]
    public var highlightStyle: Style = Style(add: .reverse)
    public var highlightSymbol = "▶ "

    public init(_ items: [Line]) { self.items = items }

    public func highlightStyle(_ s: Style) -> List { var l = self; l.highlightStyle = s; return l }
    public func highlightSymbol(_ s: String) -> List { var l = self; l.highlightSymbol = s; return l }

    public func render(into buffer: inout Buffer, area: Rect, state: inout ListState) {
        state.reveal(height: area.height, count: items.count)
        let gutter = DisplayWidth.of(highlightSymbol)
        for row in 0..<area.height {
            let index = state.offset + row
            guard index < items.count else { break }
            let y = area.y + row
            let selected = index == state.selected
            if selected {
                buffer.setStyle(highlightStyle, in: Rect(x: area.x, y: y, width: area.width, height: 1))
                buffer.setString(x: area.x, y: y, highlightSymbol, style: .plain, maxWidth: area.width)
            }
            buffer.setLine(x: area.x + gutter, y: y, items[index], maxWidth: area.width - gutter)
        }
    }
}

/// Rows under a header, in columns sized by constraints, with an optional sort indicator.
public struct Table: Sendable {
    public var header: [String]
    public var rows: [[Line]]
    public var widths: [Constraint]
    /// The sorted column and whether ascending.
    public var sort: (column: Int, ascending: Bool)?
    public var headerStyle: Style = Style(add: .bold)
    public var highlightStyle: Style = Style(add: .reverse)

    public init(header: [String], rows: [[Line]], widths: [Constraint]) {
        self.header = header
        self.rows = rows
        self.widths = widths
    }

    public func sort(column: Int, ascending: Bool) -> Table { var t = self; t.sort = (column, ascending); return t }
    public func headerStyle(_ s: Style) -> Table { var t = self; t.headerStyle = s; return t }
    public func highlightStyle(_ s: Style) -> Table { var t = self; t.highlightStyle = s; return t }

    public func render(into buffer: inout Buffer, area: Rect, state: inout ListState) {
        guard area.height > 0 else { return }
        let columns = Layout.horizontal(widths, spacing: 1).split(Rect(x: area.x, y: area.y, width: area.width, height: 1))
        for (index, title) in header.enumerated() where index < columns.count {
            var text = title
            if let sort, sort.column == index { text += sort.ascending ? " ▲" : " ▼" }
            buffer.setString(x: columns[index].x, y: area.y, text, style: headerStyle, maxWidth: columns[index].width)
        }
        let body = Rect(x: area.x, y: area.y + 1, width: area.width, height: area.height - 1)
        state.reveal(height: body.height, count: rows.count)
        for line in 0..<body.height {
            let index = state.offset + line
            guard index < rows.count else { break }
            let y = body.y + line
            if index == state.selected {
                buffer.setStyle(highlightStyle, in: Rect(x: body.x, y: y, width: body.width, height: 1))
            }
            for (column, cell) in rows[index].enumerated() where column < columns.count {
                buffer.setLine(x: columns[column].x, y: y, cell, maxWidth: columns[column].width)
            }
        }
    }
}

/// A horizontal bar for a ratio, with eighth-block precision and a centred label.
public struct Gauge: Widget, Sendable {
    public var ratio: Double
    public var label: String?
    public var filledStyle: Style = Style(fg: .green)
    public var emptyStyle: Style = Style(add: .dim)
    /// What an empty cell shows: a space, or a shade that keeps an empty gauge visible
    /// where the empty style has no background (the slots gauge at 80 columns).
    public var emptySymbol = " "

    public init(ratio: Double, label: String? = nil) {
        self.ratio = ratio.isFinite ? min(1, max(0, ratio)) : 0
        self.label = label
    }

    public func filledStyle(_ s: Style) -> Gauge { var g = self; g.filledStyle = s; return g }

    static let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]

    public func render(into buffer: inout Buffer, area: Rect) {
        guard !area.isEmpty else { return }
        let total = area.width * 8
        let filled = Int((ratio * Double(total)).rounded())
        let y = area.y + (area.height - 1) / 2
        for column in 0..<area.width {
            let part = min(8, max(0, filled - column * 8))
            let symbol = part == 8 ? "█" : part == 0 ? emptySymbol : Self.eighths[part]
            buffer.setString(x: area.x + column, y: y, symbol, style: part > 0 ? filledStyle : emptyStyle)
        }
        if let label {
            let w = DisplayWidth.of(label)
            buffer.setString(x: area.x + max(0, (area.width - w) / 2), y: y, label, style: .plain, maxWidth: area.width)
        }
    }
}

/// Slots in use out of a limit: "■■■■□□ 4/6". Shrinks to the number alone when narrow.
public struct SlotGauge: Widget, Sendable {
    public var used: Int
    public var limit: Int
    public var usedStyle: Style = Style(fg: .cyan)
    public var freeStyle: Style = Style(add: .dim)
    public var fullStyle: Style = Style(fg: .yellow, add: .bold)

    public init(used: Int, limit: Int) {
        self.used = max(0, used)
        self.limit = max(0, limit)
    }

    public func render(into buffer: inout Buffer, area: Rect) {
        guard !area.isEmpty else { return }
        let count = " \(used)/\(limit)"
        let slots = area.width - count.count
        var x = area.x
        if slots >= limit {
            let style = used >= limit ? fullStyle : usedStyle
            for slot in 0..<limit {
                x = buffer.setString(x: x, y: area.y, slot < used ? "■" : "□", style: slot < used ? style : freeStyle)
            }
            buffer.setString(x: x, y: area.y, count, style: .plain)
        } else {
            buffer.setString(x: x, y: area.y, String(count.dropFirst()), style: used >= limit ? fullStyle : .plain, maxWidth: area.width)
        }
    }
}

/// RGB pixels drawn with upper-half blocks: foreground = top pixel, background = bottom.
/// The picture is scaled (nearest neighbour) to fit, keeping its aspect, and centred.
public struct ImageBlock: Widget, Sendable {
    public var width: Int
    public var height: Int
    /// `width * height * 3` bytes, rows top to bottom.
    public var pixels: [UInt8]
    /// Drawn in shades of one colour (block characters by brightness): for themes and
    /// terminals without colour.
    public var monochrome = false
    /// Quadrant blocks: each cell shows 2×2 pixels in two colours (the pattern and the pair
    /// that fit its four pixels best), twice the horizontal detail of half blocks.
    public var quadrants = false
    /// When set, the picture is also offered in real pixels under this key (see
    /// `Buffer.place`); the blocks stay for terminals that draw none.
    public var pixelKey: String?

    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(_ picture: Picture, monochrome: Bool = false, quadrants: Bool = false, pixelKey: String? = nil) {
        self.init(width: picture.width, height: picture.height, pixels: picture.pixels)
        self.monochrome = monochrome
        self.quadrants = quadrants
        self.pixelKey = pixelKey
    }

    /// The quadrant characters by mask (bit 0 upper left, 1 upper right, 2 lower left, 3 lower right).
    static let quadrantGlyphs: [Glyph] = [" ", "▘", "▝", "▀", "▖", "▌", "▞", "▛", "▗", "▚", "▐", "▜", "▄", "▙", "▟", "█"].map { Glyph($0) }

    /// The quadrant cell for four pixels (upper left, upper right, lower left, lower right):
    /// of the patterns that split them into two groups, the one whose two mean colours leave
    /// the least squared error; its mask, and the colours of the set and unset quadrants.
    static func quadrant(_ pixels: [(Int, Int, Int)]) -> (mask: Int, fg: (Int, Int, Int), bg: (Int, Int, Int)) {
        var best = (mask: 15, fg: pixels[0], bg: pixels[0], error: Int.max)
        // The odd masks (the upper left pixel in the foreground) cover every split once; 15, one
        // colour, comes first so that it wins a tie (a flat cell is a full block).
        for mask in [15] + Array(stride(from: 1, through: 13, by: 2)) {
            var sums = [(0, 0, 0, 0), (0, 0, 0, 0)]
            for (bit, pixel) in pixels.enumerated() {
                let side = mask & (1 << bit) != 0 ? 0 : 1
                sums[side] = (sums[side].0 + pixel.0, sums[side].1 + pixel.1, sums[side].2 + pixel.2, sums[side].3 + 1)
            }
            func mean(_ s: (Int, Int, Int, Int)) -> (Int, Int, Int) { s.3 == 0 ? (0, 0, 0) : (s.0 / s.3, s.1 / s.3, s.2 / s.3) }
            let fg = mean(sums[0]), bg = mean(sums[1])
            var error = 0
            for (bit, pixel) in pixels.enumerated() {
                let c = mask & (1 << bit) != 0 ? fg : bg
                error += (pixel.0 - c.0) * (pixel.0 - c.0) + (pixel.1 - c.1) * (pixel.1 - c.1) + (pixel.2 - c.2) * (pixel.2 - c.2)
            }
            if error < best.error { best = (mask, fg, mask == 15 ? fg : bg, error) }
        }
        return (best.mask, best.fg, best.bg)
    }

    /// The cells the picture takes in `area` (two pixel rows per cell row).
    public func fitted(in area: Rect) -> Rect { Picture.fitted(width: width, height: height, in: area) }

    public func render(into buffer: inout Buffer, area: Rect) {
        guard pixels.count >= width * height * 3 else { return }
        let target = fitted(in: area)
        guard !target.isEmpty else { return }
        drawBlocks(into: &buffer, target: target)
        // Mono themes keep their shades: real pixels would bring the colour back.
        if let pixelKey, !monochrome {
            buffer.place(Picture(width: width, height: height, pixels: pixels), key: "\(pixelKey)#\(width)x\(height)", in: target)
        }
    }

    private func drawBlocks(into buffer: inout Buffer, target: Rect) {
        let pixelRows = target.height * 2
        /// The source pixel under (px, py) of a grid `columns` wide and two rows a cell.
        func sample(_ px: Int, _ py: Int, columns: Int) -> (Int, Int, Int) {
            let sx = min(width - 1, px * width / columns)
            let sy = min(height - 1, py * height / pixelRows)
            let i = (sy * width + sx) * 3
            return (Int(pixels[i]), Int(pixels[i + 1]), Int(pixels[i + 2]))
        }
        func rgb(_ c: (Int, Int, Int)) -> Color { .rgb(UInt8(clamping: c.0), UInt8(clamping: c.1), UInt8(clamping: c.2)) }
        func color(_ px: Int, _ py: Int) -> Color { rgb(sample(px, py, columns: target.width)) }
        func luma(_ px: Int, _ py: Int) -> Int {
            let (r, g, b) = sample(px, py, columns: target.width)
            return (299 * r + 587 * g + 114 * b) / 1000
        }
        if quadrants, !monochrome {
            // Two pixel columns and two rows a cell.
            func pixel(_ px: Int, _ py: Int) -> (Int, Int, Int) { sample(px, py, columns: target.width * 2) }
            for row in 0..<target.height {
                for column in 0..<target.width {
                    let four = [pixel(column * 2, row * 2), pixel(column * 2 + 1, row * 2), pixel(column * 2, row * 2 + 1), pixel(column * 2 + 1, row * 2 + 1)]
                    let cell = Self.quadrant(four)
                    buffer[target.x + column, target.y + row] = Cell(glyph: Self.quadrantGlyphs[cell.mask], width: 1,
                                                                     style: CellStyle(fg: rgb(cell.fg), bg: rgb(cell.bg)))
                }
            }
            return
        }
        if monochrome {
            // Two pixel rows a cell, as brightness: space, ░, ▒, ▓, █.
            let shades = [" ", "░", "▒", "▓", "█"].map { Glyph($0) }
            for row in 0..<target.height {
                for column in 0..<target.width {
                    let level = (luma(column, row * 2) + luma(column, row * 2 + 1)) / 2
                    let shade = shades[min(shades.count - 1, level * shades.count / 256)]
                    let x = target.x + column, y = target.y + row
                    buffer[x, y] = Cell(glyph: shade, width: 1, style: buffer[x, y].style)
                }
            }
            return
        }
        for row in 0..<target.height {
            for column in 0..<target.width {
                let top = color(column, row * 2)
                let bottom = color(column, row * 2 + 1)
                buffer[target.x + column, target.y + row] = Cell("▀", style: CellStyle(fg: top, bg: bottom))
            }
        }
    }
}
