public import TerminalCore

/// Lines of text, optionally wrapped at word boundaries, scrolled and aligned.
public struct Paragraph: Widget, Sendable {
    public enum Alignment: Sendable { case left, center, right }

    public var lines: [Line]
    public var wrap = true
    public var alignment = Alignment.left
    /// Rows skipped at the top.
    public var scroll = 0
    public var style: Style = .plain

    public init(_ lines: [Line]) { self.lines = lines }
    public init(_ text: String) { self.lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Line(String($0)) } }

    public func wrap(_ on: Bool) -> Paragraph { var p = self; p.wrap = on; return p }
    public func alignment(_ a: Alignment) -> Paragraph { var p = self; p.alignment = a; return p }
    public func scroll(_ rows: Int) -> Paragraph { var p = self; p.scroll = rows; return p }
    public func style(_ s: Style) -> Paragraph { var p = self; p.style = s; return p }

    /// The rows the paragraph takes at `width`.
    public func rows(width: Int) -> [Line] {
        guard wrap, width > 0 else { return lines }
        return lines.flatMap { Self.wrap($0, width: width) }
    }

    /// Word-wraps one line: breaks at spaces, and inside words longer than the width.
    static func wrap(_ line: Line, width: Int) -> [Line] {
        var rows: [Line] = []
        var current: [Span] = []
        var used = 0
        // Tokens: runs of spaces and runs of other characters, each keeping its span's style.
        var tokens: [(text: String, style: Style, isSpace: Bool)] = []
        for span in line.spans {
            var token = ""
            var isSpace = false
            for character in span.content {
                let space = character == " "
                if !token.isEmpty, space != isSpace {
                    tokens.append((token, span.style, isSpace))
                    token = ""
                }
                isSpace = space
                token.append(character)
            }
            if !token.isEmpty { tokens.append((token, span.style, isSpace)) }
        }
        func flush() {
            rows.append(Line(current, style: line.style))
            current = []
            used = 0
        }
        for token in tokens {
            let w = DisplayWidth.of(token.text)
            if token.isSpace {
                if used == 0 { continue }  // no leading spaces on a wrapped row
                if used + w > width { flush(); continue }
                current.append(Span(token.text, style: token.style))
                used += w
                continue
            }
            if used + w > width, used > 0 { flush() }
            if w <= width {
                current.append(Span(token.text, style: token.style))
                used += w
                continue
            }
            // A word longer than a row: cut it.
            var piece = ""
            for character in token.text {
                let cw = DisplayWidth.of(character)
                if used + DisplayWidth.of(piece) + cw > width {
                    current.append(Span(piece, style: token.style))
                    flush()
                    piece = ""
                }
                piece.append(character)
            }
            current.append(Span(piece, style: token.style))
            used += DisplayWidth.of(piece)
        }
        if !current.isEmpty || rows.isEmpty { flush() }
        // Trailing spaces are dropped.
        return rows.map { row in
            var spans = row.spans
            while let last = spans.last, last.content.allSatisfy({ $0 == " " }) { spans.removeLast() }
            return Line(spans, style: row.style)
        }
    }

    public func render(into buffer: inout Buffer, area: Rect) {
        buffer.setStyle(style, in: area)
        for (index, row) in rows(width: area.width).dropFirst(scroll).prefix(area.height).enumerated() {
            let width = row.width
            let x: Int = switch alignment {
            case .left: area.x
            case .center: area.x + max(0, (area.width - width) / 2)
            case .right: area.x + max(0, area.width - width)
            }
            buffer.setLine(x: x, y: area.y + index, row, maxWidth: area.width - (x - area.x))
        }
    }
}

/// Key hints for a status bar: "q quit  ? help", cut to the width without breaking a hint.
public struct KeyHints: Widget, Sendable {
    public var hints: [(key: String, label: String)]
    public var keyStyle: Style = Style(add: .bold)
    public var labelStyle: Style = .plain

    public init(_ hints: [(key: String, label: String)]) { self.hints = hints }

    public func keyStyle(_ s: Style) -> KeyHints { var k = self; k.keyStyle = s; return k }
    public func labelStyle(_ s: Style) -> KeyHints { var k = self; k.labelStyle = s; return k }

    public func render(into buffer: inout Buffer, area: Rect) {
        guard area.height > 0 else { return }
        var x = area.x
        for (index, hint) in hints.enumerated() {
            let gap = index == 0 ? 0 : 2
            let width = gap + DisplayWidth.of(hint.key) + 1 + DisplayWidth.of(hint.label)
            if x + width > area.right { break }
            x += gap
            x = buffer.setString(x: x, y: area.y, hint.key, style: keyStyle)
            x = buffer.setString(x: x, y: area.y, " " + hint.label, style: labelStyle)
        }
    }
}

/// A spinner: one frame per tick.
public struct Spinner: Widget, Sendable {
    public static let dots = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
    public static let line = ["-", "\\", "|", "/"]

    public var frames: [String]
    public var tick: Int
    public var style: Style = .plain

    public init(tick: Int, frames: [String] = Spinner.dots) {
        self.tick = tick
        self.frames = frames
    }

    public var symbol: String { frames.isEmpty ? " " : frames[((tick % frames.count) + frames.count) % frames.count] }

    public func render(into buffer: inout Buffer, area: Rect) {
        guard !area.isEmpty else { return }
        buffer.setString(x: area.x, y: area.y, symbol, style: style, maxWidth: area.width)
    }
}
