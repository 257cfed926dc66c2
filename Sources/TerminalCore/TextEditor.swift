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

    /// Carries out an editing command (the studio's keymap decides which key is which).
    public mutating func apply(_ command: EditCommand) {
        switch command {
        case .newLine: newline()
        case .deleteBackward: backspace()
        case .deleteForward: delete()
        case .left: moveLeft()
        case .right: moveRight()
        case .wordLeft: moveWordLeft()
        case .wordRight: moveWordRight()
        case .up: if row == 0 { historyPrevious() } else { moveUp() }
        case .down: if row == lines.count - 1, historyIndex != nil { historyNext() } else { moveDown() }
        case .lineStart: moveHome()
        case .lineEnd: moveEnd()
        case .killToLineStart: killToLineStart()
        case .killToLineEnd: killToLineEnd()
        case .killWordBackward: deleteWordBackward()
        case .yank: yank()
        }
    }
}

/// What editing a text can do, apart from typing.
public enum EditCommand: String, Sendable, Hashable, CaseIterable {
    case newLine = "new-line"
    case deleteBackward = "delete-backward"
    case deleteForward = "delete-forward"
    case left, right
    case wordLeft = "word-left"
    case wordRight = "word-right"
    /// A line up, or the previous history entry from the first line.
    case up
    /// A line down, or the next history entry from the last line.
    case down
    case lineStart = "line-start"
    case lineEnd = "line-end"
    case killToLineStart = "kill-to-line-start"
    case killToLineEnd = "kill-to-line-end"
    case killWordBackward = "kill-word-backward"
    case yank
}
