public import TerminalCore

/// Draws a `TextEditor`, soft-wrapped at the width, scrolled to keep the cursor in view, with a
/// placeholder when empty. Returns where the cursor goes on screen.
public struct TextArea: Sendable {
    public var editor: TextEditor
    public var placeholder: String?
    public var style: Style = .plain
    public var placeholderStyle: Style = Style(add: .dim)

    public init(_ editor: TextEditor, placeholder: String? = nil) {
        self.editor = editor
        self.placeholder = placeholder
    }

    public func style(_ s: Style) -> TextArea { var t = self; t.style = s; return t }
    public func placeholderStyle(_ s: Style) -> TextArea { var t = self; t.placeholderStyle = s; return t }

    /// Visual rows: (logical row, first character index, characters) per row at `width`. Rows
    /// break after a space where they can, so a word moves whole to the next row; a word wider
    /// than the row is cut where it meets the edge. A space that meets the edge stays at the end
    /// of its row (drawn clipped), so the next row starts with the next word.
    func visualRows(width: Int) -> [(line: Int, start: Int, characters: ArraySlice<Character>)] {
        var rows: [(Int, Int, ArraySlice<Character>)] = []
        for (index, line) in editor.lines.enumerated() {
            var start = 0
            var used = 0
            var afterSpace: Int?  // the index just after the row's last space
            for (i, character) in line.enumerated() {
                let w = DisplayWidth.of(character)
                if used + w > width, i > start, character == " " {
                    rows.append((index, start, line[start...i]))
                    start = i + 1
                    used = 0
                    afterSpace = nil
                    continue
                }
                while used + w > width, i > start {
                    let cut = afterSpace.flatMap { $0 > start && $0 <= i ? $0 : nil } ?? i
                    rows.append((index, start, line[start..<cut]))
                    used = line[cut..<i].reduce(0) { $0 + DisplayWidth.of($1) }
                    start = cut
                    afterSpace = nil
                }
                used += w
                if character == " " { afterSpace = i + 1 }
            }
            rows.append((index, start, line[start..<line.count]))
            // A full last row leaves room for the cursor on a new visual row.
            if used >= width, start < line.count, editor.row == index, editor.column == line.count, width > 0 {
                rows.append((index, line.count, line[line.count..<line.count]))
            }
        }
        return rows
    }

    @discardableResult
    public func render(into buffer: inout Buffer, area: Rect, scroll: inout Int) -> (x: Int, y: Int)? {
        guard !area.isEmpty else { return nil }
        buffer.setStyle(style, in: area)
        if editor.isEmpty, let placeholder {
            Paragraph(placeholder).style(placeholderStyle).render(into: &buffer, area: area)
            return (area.x, area.y)
        }
        let rows = visualRows(width: area.width)
        // The cursor's visual row: the last row of its line starting at or before the column.
        let cursorRow = rows.lastIndex { $0.line == editor.row && $0.start <= editor.column } ?? 0
        if cursorRow < scroll { scroll = cursorRow }
        if cursorRow >= scroll + area.height { scroll = cursorRow - area.height + 1 }
        scroll = max(0, min(scroll, max(0, rows.count - area.height)))
        for (offset, row) in rows.dropFirst(scroll).prefix(area.height).enumerated() {
            buffer.setString(x: area.x, y: area.y + offset, String(row.characters), style: style, maxWidth: area.width)
        }
        let row = rows[cursorRow]
        let before = editor.lines[editor.row][row.start..<editor.column]
        let x = area.x + min(area.width - 1, before.reduce(0) { $0 + DisplayWidth.of($1) })
        return (x, area.y + cursorRow - scroll)
    }
}
