public import TerminalCore

/// Multi-line text being edited: cursor by character, word and line; kill and yank; history.
public struct TextEditor: Sendable, Hashable {
    public private(set) var lines: [[Character]]
    public private(set) var row = 0
    public private(set) var column = 0
    private var killBuffer = ""
    private var history: [String] = []
    private var historyIndex: Int?
    private var draft = ""

    public init(text: String = "") {
        lines = [[]]
        setText(text)
    }

    public var text: String { lines.map { String($0) }.joined(separator: "\n") }
    public var isEmpty: Bool { lines.count == 1 && lines[0].isEmpty }
    public var characterCount: Int { lines.reduce(0) { $0 + $1.count } + lines.count - 1 }

    /// Replaces the text; the cursor goes to the end.
    public mutating func setText(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        if lines.isEmpty { lines = [[]] }
        row = lines.count - 1
        column = lines[row].count
    }

    // MARK: typing

    public mutating func insert(_ character: Character) {
        if character == "\n" || character == "\r\n" || character == "\r" { return newline() }
        if character == "\t" { return insert(" ") }
        guard !character.unicodeScalars.allSatisfy({ $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) }) else { return }
        lines[row].insert(character, at: column)
        column += 1
    }

    /// Inserts pasted text: line breaks kept, tabs as spaces, other control characters dropped.
    public mutating func insert(_ text: String) {
        for character in text { insert(character) }
    }

    public mutating func newline() {
        let rest = Array(lines[row][column...])
        lines[row].removeSubrange(column...)
        lines.insert(rest, at: row + 1)
        row += 1
        column = 0
    }

    public mutating func backspace() {
        if column > 0 {
            lines[row].remove(at: column - 1)
            column -= 1
        } else if row > 0 {
            column = lines[row - 1].count
            lines[row - 1] += lines[row]
            lines.remove(at: row)
            row -= 1
        }
    }

    public mutating func delete() {
        if column < lines[row].count {
            lines[row].remove(at: column)
        } else if row + 1 < lines.count {
            lines[row] += lines[row + 1]
            lines.remove(at: row + 1)
        }
    }

    // MARK: moving

    public mutating func moveLeft() {
        if column > 0 { column -= 1 } else if row > 0 { row -= 1; column = lines[row].count }
    }

    public mutating func moveRight() {
        if column < lines[row].count { column += 1 } else if row + 1 < lines.count { row += 1; column = 0 }
    }

    public mutating func moveUp() {
        guard row > 0 else { column = 0; return }
        row -= 1
        column = min(column, lines[row].count)
    }

    public mutating func moveDown() {
        guard row + 1 < lines.count else { column = lines[row].count; return }
        row += 1
        column = min(column, lines[row].count)
    }

    public mutating func moveHome() { column = 0 }
    public mutating func moveEnd() { column = lines[row].count }

    private static func isWord(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }

    /// To the start of the word before the cursor (across lines).
    public mutating func moveWordLeft() {
        if column == 0 { return moveLeft() }
        let line = lines[row]
        var i = column
        while i > 0, !Self.isWord(line[i - 1]) { i -= 1 }
        while i > 0, Self.isWord(line[i - 1]) { i -= 1 }
        column = i
    }

    /// To the end of the word after the cursor (across lines).
    public mutating func moveWordRight() {
        let line = lines[row]
        if column == line.count { return moveRight() }
        var i = column
        while i < line.count, !Self.isWord(line[i]) { i += 1 }
        while i < line.count, Self.isWord(line[i]) { i += 1 }
        column = i
    }

    // MARK: kill and yank

    /// Ctrl-U: deletes from the line start to the cursor, keeping it for yank.
    public mutating func killToLineStart() {
        killBuffer = String(lines[row][..<column])
        lines[row].removeSubrange(..<column)
        column = 0
    }

    /// Ctrl-K: deletes from the cursor to the line end (or joins the next line).
    public mutating func killToLineEnd() {
        if column == lines[row].count {
            if row + 1 < lines.count { killBuffer = "\n"; delete() }
            return
        }
        killBuffer = String(lines[row][column...])
        lines[row].removeSubrange(column...)
    }

    /// Ctrl-W: deletes the word before the cursor.
    public mutating func deleteWordBackward() {
        let end = column
        moveWordLeft()
        if row < lines.count, column < end {
            killBuffer = String(lines[row][column..<end])
            lines[row].removeSubrange(column..<end)
        }
    }

    /// Ctrl-Y: inserts what was last killed.
    public mutating func yank() { insert(killBuffer) }

    // MARK: history

    /// Remembers the current text as the newest history entry.
    public mutating func commitToHistory() {
        let current = text
        guard !current.allSatisfy(\.isWhitespace) else { return }
        if history.last != current { history.append(current) }
        historyIndex = nil
    }

    /// Puts earlier entries (oldest first) before the ones of this session, without repeats.
    public mutating func seedHistory(_ entries: [String]) {
        // Newest first, so a prompt used several times sits where it was last used.
        var seen = Set(history)
        var older: [String] = []
        for entry in entries.reversed() where !entry.isEmpty && !seen.contains(entry) {
            seen.insert(entry)
            older.append(entry)
        }
        history = older.reversed() + history
    }

    /// Replaces the text with the previous history entry (keeping the draft).
    public mutating func historyPrevious() {
        guard !history.isEmpty else { return }
        if historyIndex == nil { draft = text; historyIndex = history.count }
        guard let index = historyIndex, index > 0 else { return }
        historyIndex = index - 1
        setText(history[index - 1])
    }

    /// Moves forward in history, back to the draft at the end.
    public mutating func historyNext() {
        guard let index = historyIndex else { return }
        if index + 1 < history.count {
            historyIndex = index + 1
            setText(history[index + 1])
        } else {
            historyIndex = nil
            setText(draft)
        }
    }

    /// The usual bindings. Returns whether the key was used.
    @discardableResult
    public mutating func handle(_ key: Key) -> Bool {
        switch (key.code, key.modifiers) {
        case (.char(let c), []), (.char(let c), .shift): insert(c)
        case (.enter, .alt), (.char("j"), .ctrl): newline()
        case (.backspace, _), (.char("h"), .ctrl): backspace()
        case (.delete, _), (.char("d"), .ctrl): delete()
        case (.left, []), (.char("b"), .ctrl): moveLeft()
        case (.right, []), (.char("f"), .ctrl): moveRight()
        case (.left, .ctrl), (.left, .alt), (.char("b"), .alt): moveWordLeft()
        case (.right, .ctrl), (.right, .alt), (.char("f"), .alt): moveWordRight()
        case (.up, []): if row == 0 { historyPrevious() } else { moveUp() }
        case (.down, []): if row == lines.count - 1, historyIndex != nil { historyNext() } else { moveDown() }
        case (.home, _), (.char("a"), .ctrl): moveHome()
        case (.end, _), (.char("e"), .ctrl): moveEnd()
        case (.char("u"), .ctrl): killToLineStart()
        case (.char("k"), .ctrl): killToLineEnd()
        case (.char("w"), .ctrl): deleteWordBackward()
        case (.char("y"), .ctrl): yank()
        default: return false
        }
        return true
    }
}

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

    /// Visual rows: (logical row, first character index, characters) per row at `width`.
    func visualRows(width: Int) -> [(line: Int, start: Int, characters: ArraySlice<Character>)] {
        var rows: [(Int, Int, ArraySlice<Character>)] = []
        for (index, line) in editor.lines.enumerated() {
            var start = 0
            var used = 0
            for (i, character) in line.enumerated() {
                let w = DisplayWidth.of(character)
                if used + w > width, i > start {
                    rows.append((index, start, line[start..<i]))
                    start = i
                    used = 0
                }
                used += w
            }
            rows.append((index, start, line[start..<line.count]))
            // A full last row leaves room for the cursor on a new visual row.
            if used >= width, editor.row == index, editor.column == line.count, width > 0 {
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
