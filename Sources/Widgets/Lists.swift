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
            let symbol = part == 8 ? "█" : part == 0 ? " " : Self.eighths[part]
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

    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(_ picture: Picture, monochrome: Bool = false) {
        self.init(width: picture.width, height: picture.height, pixels: picture.pixels)
        self.monochrome = monochrome
    }

    /// The cells the picture takes in `area` (two pixel rows per cell row).
    public func fitted(in area: Rect) -> Rect {
        guard width > 0, height > 0, !area.isEmpty else { return .zero }
        let maxW = area.width, maxH = area.height * 2
        var w = maxW
        var h = w * height / width
        if h > maxH { h = maxH; w = max(1, h * width / height) }
        let cells = Rect(x: area.x + (area.width - w) / 2, y: area.y + (area.height - (h + 1) / 2) / 2, width: w, height: (h + 1) / 2)
        return cells
    }

    public func render(into buffer: inout Buffer, area: Rect) {
        guard pixels.count >= width * height * 3 else { return }
        let target = fitted(in: area)
        guard !target.isEmpty else { return }
        let pixelRows = target.height * 2
        func color(_ px: Int, _ py: Int) -> Color {
            let sx = min(width - 1, px * width / target.width)
            let sy = min(height - 1, py * height / pixelRows)
            let i = (sy * width + sx) * 3
            return .rgb(pixels[i], pixels[i + 1], pixels[i + 2])
        }
        func luma(_ px: Int, _ py: Int) -> Int {
            let sx = min(width - 1, px * width / target.width)
            let sy = min(height - 1, py * height / pixelRows)
            let i = (sy * width + sx) * 3
            return (299 * Int(pixels[i]) + 587 * Int(pixels[i + 1]) + 114 * Int(pixels[i + 2])) / 1000
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
