import Testing
import TerminalCore
import Widgets

func render(_ width: Int, _ height: Int, _ draw: (inout Buffer, Rect) -> Void) -> [String] {
    var buffer = Buffer(area: Rect(width: width, height: height))
    draw(&buffer, buffer.area)
    return buffer.lines
}

@Suite("Widgets as buffer pictures")
struct WidgetTests {
    @Test("block with borders and a title")
    func block() {
        let picture = render(12, 3) { buffer, area in
            Block().title(" Jobs ").border(.rounded).render(into: &buffer, area: area)
        }
        #expect(picture == ["╭ Jobs ────╮", "│          │", "╰──────────╯"])
        #expect(Block().inner(Rect(width: 12, height: 3)) == Rect(x: 1, y: 1, width: 10, height: 1))
    }

    @Test("paragraph wraps at words, cuts long words, aligns")
    func paragraph() {
        #expect(render(10, 3) { b, a in Paragraph("a lighthouse at dusk").render(into: &b, area: a) }
            == ["a         ", "lighthouse", "at dusk   "])
        #expect(render(5, 3) { b, a in Paragraph("abcdefghij k").render(into: &b, area: a) }
            == ["abcde", "fghij", "k    "])
        #expect(render(8, 1) { b, a in Paragraph("mid").alignment(.center).render(into: &b, area: a) } == ["  mid   "])
        #expect(render(6, 2) { b, a in Paragraph("日本語のテキスト").render(into: &b, area: a) } == ["日本語", "のテキ"])
        #expect(render(6, 1) { b, a in Paragraph("one\ntwo").scroll(1).render(into: &b, area: a) } == ["two   "])
    }

    @Test("list scrolls to keep the selection visible")
    func list() {
        var state = ListState(selected: 3)
        let picture = render(8, 2) { b, a in
            List(["zero", "one", "two", "three", "four"]).render(into: &b, area: a, state: &state)
        }
        #expect(picture == ["  two   ", "▶ three "])
        #expect(state.offset == 2)
        state.move(by: 5, count: 5)
        #expect(state.selected == 4)
        state.move(by: -9, count: 5)
        #expect(state.selected == 0)
    }

    @Test("table with header, columns and a sort indicator")
    func table() {
        var state = ListState(selected: 0)
        let picture = render(20, 3) { b, a in
            Table(header: ["model", "cost"], rows: [["flux-2-pro", "4.5"], ["klein", "1.4"]], widths: [.fill(1), .length(6)])
                .sort(column: 1, ascending: false)
                .render(into: &b, area: a, state: &state)
        }
        #expect(picture == ["model         cost ▼", "flux-2-pro    4.5   ", "klein         1.4   "])
    }

    @Test("gauge fills by eighths and centres its label; slot gauge")
    func gauges() {
        #expect(render(4, 1) { b, a in Gauge(ratio: 0.5).render(into: &b, area: a) } == ["██  "])
        #expect(render(4, 1) { b, a in Gauge(ratio: 0.3125).render(into: &b, area: a) } == ["█▎  "])
        #expect(render(8, 1) { b, a in Gauge(ratio: 1, label: "done").render(into: &b, area: a) } == ["██done██"])
        #expect(render(10, 1) { b, a in SlotGauge(used: 4, limit: 6).render(into: &b, area: a) } == ["■■■■□□ 4/6"])
        #expect(render(5, 1) { b, a in SlotGauge(used: 20, limit: 24).render(into: &b, area: a) } == ["20/24"])
    }

    @Test("spinner and key hints")
    func small() {
        #expect(Spinner(tick: 11).symbol == "⠙")
        #expect(Spinner(tick: -1, frames: Spinner.line).symbol == "/")
        #expect(render(20, 1) { b, a in KeyHints([("q", "quit"), ("?", "help"), ("Tab", "focus")]).render(into: &b, area: a) }
            == ["q quit  ? help      "])
    }

    @Test("image block: top pixel in the foreground, bottom in the background")
    func image() {
        // 2x2 pixels: red, green / blue, white.
        let pixels: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]
        var buffer = Buffer(area: Rect(width: 2, height: 1))
        ImageBlock(width: 2, height: 2, pixels: pixels).render(into: &buffer, area: buffer.area)
        #expect(buffer[0, 0] == Cell("▀", style: CellStyle(fg: .rgb(255, 0, 0), bg: .rgb(0, 0, 255))))
        #expect(buffer[1, 0] == Cell("▀", style: CellStyle(fg: .rgb(0, 255, 0), bg: .rgb(255, 255, 255))))
        // A wide picture in a tall area keeps its aspect and is centred.
        let wide = ImageBlock(width: 4, height: 2, pixels: Array(repeating: 9, count: 24))
        #expect(wide.fitted(in: Rect(width: 4, height: 4)) == Rect(x: 0, y: 1, width: 4, height: 1))
    }
}

@Suite("Text editing")
struct TextEditorTests {
    @Test("insert, move by character, word and line, delete")
    func editing() {
        var editor = TextEditor(text: "a lighthouse")
        editor.moveWordLeft()
        #expect(editor.column == 2)
        editor.insert("red ")
        #expect(editor.text == "a red lighthouse")
        editor.moveEnd()
        editor.newline()
        editor.insert("at dusk")
        #expect(editor.text == "a red lighthouse\nat dusk")
        editor.moveUp()
        #expect((editor.row, editor.column) == (0, 7))
        editor.moveHome()
        editor.backspace()
        #expect(editor.text == "a red lighthouse\nat dusk")
        editor.moveDown()
        editor.moveHome()
        editor.backspace()
        #expect(editor.text == "a red lighthouseat dusk")
        editor.delete()
        #expect(editor.text == "a red lighthouset dusk")
        editor.moveWordRight()
        #expect(editor.column == 17)
    }

    @Test("cut to the start, to the end, a word, and yank", arguments: [
        ([EditCommand.killToLineStart], "", 0), ([.killWordBackward], "one two ", 8), ([.killWordBackward, .yank], "one two three", 13),
        ([.lineStart, .killToLineEnd], "", 0), ([.left, .left, .killToLineEnd, .lineStart, .yank], "eeone two thr", 2),
    ])
    func killAndYank(_ commands: [EditCommand], _ text: String, _ column: Int) {
        var editor = TextEditor(text: "one two three")
        for command in commands { editor.apply(command) }
        #expect(editor.text == text)
        #expect(editor.column == column)
    }

    @Test("paste keeps line breaks and drops control characters; wide characters count as one")
    func paste() {
        var editor = TextEditor()
        editor.insert("日本\tx\u{1B}[31m\nsecond")
        #expect(editor.text == "日本 x[31m\nsecond")
        #expect(editor.characterCount == 15)
    }

    @Test("history: up recalls, down returns to the draft")
    func history() {
        var editor = TextEditor(text: "first")
        editor.commitToHistory()
        editor.setText("second")
        editor.commitToHistory()
        editor.setText("draft")
        editor.apply(.up)
        #expect(editor.text == "second")
        editor.apply(.up)
        #expect(editor.text == "first")
        editor.apply(.up)
        #expect(editor.text == "first")
        editor.apply(.down)
        editor.apply(.down)
        #expect(editor.text == "draft")
    }

    @Test("the text area soft-wraps, scrolls to the cursor and places it; placeholder when empty")
    func area() {
        var scroll = 0
        var buffer = Buffer(area: Rect(width: 5, height: 2))
        let cursor = TextArea(TextEditor(text: "abcdefghijkl")).render(into: &buffer, area: buffer.area, scroll: &scroll)
        #expect(buffer.lines == ["fghij", "kl   "])
        #expect(scroll == 1)
        #expect(cursor.map { [$0.x, $0.y] } == [2, 1])
        var empty = Buffer(area: Rect(width: 12, height: 1))
        var s = 0
        TextArea(TextEditor(), placeholder: "Describe…").render(into: &empty, area: empty.area, scroll: &s)
        #expect(empty.lines == ["Describe…   "])
        var wide = Buffer(area: Rect(width: 4, height: 2))
        var w = 0
        let wideCursor = TextArea(TextEditor(text: "日本語")).render(into: &wide, area: wide.area, scroll: &w)
        #expect(wide.lines == ["日本", "語  "])
        #expect(wideCursor.map { [$0.x, $0.y] } == [2, 1])
    }

    @Test("the text area wraps at spaces: a word moves whole to the next row, a space at the edge stays behind")
    func wordWrap() {
        var scroll = 0
        var buffer = Buffer(area: Rect(width: 10, height: 3))
        let cursor = TextArea(TextEditor(text: "a quiet harbour at dawn")).render(into: &buffer, area: buffer.area, scroll: &scroll)
        #expect(buffer.lines == ["a quiet   ", "harbour at", "dawn      "])
        #expect(cursor.map { [$0.x, $0.y] } == [4, 2])
        // The cursor just after the space that met the edge is at the start of the next row.
        var editor = TextEditor(text: "harbour at dawn")
        for _ in 0..<4 { editor.apply(.left) }
        var b = Buffer(area: Rect(width: 10, height: 2))
        var s = 0
        let c = TextArea(editor).render(into: &b, area: b.area, scroll: &s)
        #expect(b.lines == ["harbour at", "dawn      "])
        #expect(c.map { [$0.x, $0.y] } == [0, 1])
    }
}
