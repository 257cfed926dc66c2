import Testing
import TerminalCore

@Suite("Display width")
struct DisplayWidthTests {
    @Test("known code points", arguments: [
        ("a", 1), ("é", 1), ("e\u{301}", 1), ("中", 2), ("한", 2), ("ｱ", 1), ("Ａ", 2), ("🎨", 2), ("👍🏽", 2),
        ("👨‍👩‍👧", 2), ("🇩🇪", 2), ("❤️", 2), ("✓", 1), ("─", 1), ("\u{200B}", 0), ("\u{301}", 0), ("の", 2),
    ])
    func widths(_ text: String, _ width: Int) throws {
        let character = try #require(text.first)
        #expect(text.count == 1)
        #expect(DisplayWidth.of(character) == width)
    }

    @Test("strings add up")
    func strings() {
        #expect(DisplayWidth.of("日本語 ok") == 9)
        #expect(DisplayWidth.of("") == 0)
    }
}

@Suite("Buffer")
struct BufferTests {
    @Test("strings are clipped to the width, wide characters take two cells and are not cut in half")
    func setString() {
        var buffer = Buffer(area: Rect(width: 6, height: 1))
        let end = buffer.setString(x: 0, y: 0, "ab中文x", style: .plain)
        #expect(end == 6)
        #expect(buffer.lines == ["ab中文"])
        #expect(buffer[3, 0].isContinuation)
        var narrow = Buffer(area: Rect(width: 3, height: 1))
        narrow.setString(x: 0, y: 0, "a中文", style: .plain)
        #expect(narrow.lines == ["a中"])
        var cut = Buffer(area: Rect(width: 4, height: 1))
        cut.setString(x: 0, y: 0, "abc中", style: .plain)
        #expect(cut.lines == ["abc "])
    }

    @Test("overwriting half of a wide character blanks the other half")
    func overwriteHalf() {
        var buffer = Buffer(lines: ["中文"])
        buffer.setString(x: 1, y: 0, "x", style: .plain)
        #expect(buffer.lines == [" x文"])
    }

    @Test("a cell keeps its grapheme inline: round trips, and a sequence too long keeps whole leading scalars")
    func glyphs() {
        for symbol in [" ", "a", "─", "中", "é", "e\u{301}", "🇫🇷", "👍🏽", ""] {
            #expect(Cell(symbol).symbol == symbol)
            #expect(Glyph(symbol).string == symbol)
        }
        #expect(Glyph(ascii: 0x41) == Glyph("A"))
        #expect(Cell("中").width == 2 && Cell("").isContinuation && !Cell(" ").isContinuation)
        // 👨‍👩‍👧‍👦 is 25 bytes; 15 hold 👨, a joiner, 👩 and a joiner, and the kept part
        // does not end in a joiner waiting for what was cut.
        let family = "👨\u{200D}👩\u{200D}👧\u{200D}👦"
        let kept = Cell(family)
        #expect(kept.symbol == "👨\u{200D}👩")
        #expect(kept.width == 2)
        #expect(Glyph(String(repeating: "a", count: 40)).byteCount == Glyph.capacity)
    }

    @Test("ASCII and other text agree: left clipping, maxWidth, the column returned")
    func asciiPath() {
        for text in ["hello", "héllo"] {
            var buffer = Buffer(area: Rect(x: 2, y: 0, width: 6, height: 1))
            #expect(buffer.setString(x: 0, y: 0, text, style: .plain) == 5)
            #expect(buffer.lines == ["llo   "])
            #expect(buffer.setString(x: 3, y: 0, text, style: .plain, maxWidth: 3) == 6)
            #expect(buffer.lines == ["lhél  "] || buffer.lines == ["lhel  "])
            #expect(buffer.setString(x: 9, y: 0, text, style: .plain) == 9)
            #expect(buffer.setString(x: 0, y: 0, "ab", style: .plain) == 2)
        }
        // ASCII over half of a wide character blanks the other half, on both edges.
        var buffer = Buffer(lines: ["中文字"])
        buffer.setString(x: 1, y: 0, "xyz", style: .plain)
        #expect(buffer.lines == [" xyz字"])
    }

    @Test("a fill cut through a wide character blanks its other half")
    func fillOverWide() {
        var buffer = Buffer(lines: ["中文字"])
        buffer.fill(Rect(x: 1, y: 0, width: 2, height: 1), symbol: "─")
        #expect(buffer.lines == [" ── 字"])
        var right = Buffer(lines: ["中文字"])
        right.fill(Rect(x: 0, y: 0, width: 3, height: 1), symbol: ".")
        #expect(right.lines == ["... 字"])
    }

    @Test("styles patch what is underneath")
    func styles() {
        var buffer = Buffer(area: Rect(width: 3, height: 1))
        buffer.setStyle(Style(bg: .blue), in: buffer.area)
        buffer.setString(x: 0, y: 0, "ab", style: Style(fg: .red, add: .bold))
        #expect(buffer[0, 0].style == CellStyle(fg: .red, bg: .blue, modifiers: .bold))
        #expect(buffer[2, 0].style == CellStyle(fg: .default, bg: .blue))
        let base = Style(fg: .green, add: [.bold, .italic])
        #expect(base.patched(with: Style(remove: .bold)) == Style(fg: .green, add: .italic, remove: .bold))
    }

    @Test("a packed cell style keeps every colour and modifier, and a patch does what the old field-by-field rule did")
    func packedStyles() {
        let colors: [Color] = [.default, .ansi(0), .ansi(15), .indexed(0), .indexed(255), .rgb(0, 0, 0), .rgb(255, 128, 1), .rgb(255, 255, 255)]
        let modifierSets: [Modifiers] = [[], .bold, [.dim, .italic], [.underline, .reverse, .strikethrough]]
        for fg in colors {
            for bg in colors.reversed() {
                for modifiers in modifierSets {
                    let cell = CellStyle(fg: fg, bg: bg, modifiers: modifiers)
                    #expect(cell.fg == fg && cell.bg == bg && cell.modifiers == modifiers)
                    for patch in [Style(fg: bg), Style(bg: fg, add: .bold), Style(remove: modifiers), Style(fg: .ansi(3), bg: .rgb(1, 2, 3), add: .dim, remove: .bold)] {
                        let patched = cell.applying(patch)
                        #expect(patched.fg == (patch.fg ?? fg))
                        #expect(patched.bg == (patch.bg ?? bg))
                        #expect(patched.modifiers == modifiers.subtracting(patch.remove).union(patch.add))
                    }
                }
            }
        }
        var edited = CellStyle.plain
        edited.bg = .rgb(9, 8, 7)
        edited.modifiers = .underline
        edited.fg = .indexed(42)
        #expect(edited == CellStyle(fg: .indexed(42), bg: .rgb(9, 8, 7), modifiers: .underline))
    }

    @Test("diff sends only changed cells, once per wide character")
    func diff() {
        let before = Buffer(lines: ["hello", "world"])
        var after = before
        after.setString(x: 1, y: 1, "a", style: .plain)
        #expect(after.diff(from: before).map { "\($0.x),\($0.y),\($0.cell.symbol)" } == ["1,1,a"])
        var wide = before
        wide.setString(x: 0, y: 0, "中", style: .plain)
        #expect(wide.diff(from: before).map { "\($0.x),\($0.y),\($0.cell.symbol)" } == ["0,0,中"])
        // A wide character replaced by two narrow ones: both cells are sent.
        let hadWide = Buffer(lines: ["中x"])
        let narrow = Buffer(lines: ["abx"])
        #expect(narrow.diff(from: hadWide).map(\.cell.symbol) == ["a", "b"])
        #expect(before.diff(from: before).isEmpty)
        var restyled = before
        restyled.setStyle(Style(fg: .red), in: Rect(x: 4, y: 0, width: 1, height: 1))
        #expect(restyled.diff(from: before).map { "\($0.x),\($0.y)" } == ["4,0"])
    }

    @Test("a different size redraws everything")
    func resized() {
        let small = Buffer(area: Rect(width: 2, height: 1))
        let big = Buffer(area: Rect(width: 3, height: 2))
        #expect(big.diff(from: small).count == 6)
    }
}

@Suite("Layout")
struct LayoutTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var constraints: [Constraint]
        var total: Int
        var sizes: [Int]
        var testDescription: String { "\(constraints) in \(total)" }
    }

    @Test("splits", arguments: [
        Case(constraints: [.length(10), .fill(1)], total: 50, sizes: [10, 40]),
        Case(constraints: [.percentage(25), .fill(1), .length(5)], total: 100, sizes: [25, 70, 5]),
        Case(constraints: [.fill(1), .fill(2)], total: 30, sizes: [10, 20]),
        Case(constraints: [.fill(1), .fill(1), .fill(1)], total: 10, sizes: [3, 3, 4]),
        Case(constraints: [.min(10), .fill(1)], total: 40, sizes: [25, 15]),
        Case(constraints: [.max(8), .fill(1)], total: 40, sizes: [8, 32]),
        Case(constraints: [.length(30), .length(30)], total: 40, sizes: [20, 20]),
        Case(constraints: [.length(3), .min(5), .length(2)], total: 8, sizes: [2, 4, 2]),
        Case(constraints: [.length(5)], total: 0, sizes: [0]),
    ])
    func split(_ c: Case) {
        let rects = Layout.horizontal(c.constraints).split(Rect(x: 2, y: 1, width: c.total, height: 3))
        #expect(rects.map(\.width) == c.sizes)
        #expect(rects.allSatisfy { $0.y == 1 && $0.height == 3 })
        var x = 2
        for rect in rects {
            #expect(rect.x == x)
            x += rect.width
        }
    }

    @Test("vertical with spacing")
    func vertical() {
        let rects = Layout.vertical([.length(1), .fill(1), .length(1)], spacing: 1).split(Rect(width: 10, height: 12))
        #expect(rects.map(\.y) == [0, 2, 11])
        #expect(rects.map(\.height) == [1, 8, 1])
    }
}

@Suite("Keys")
struct KeyTests {
    @Test("help text names keys", arguments: [
        (Key.ctrl("c"), "Ctrl-C"), (Key.alt("x"), "Alt-x"), (Key(.backTab), "Shift-Tab"), (Key(.function(5)), "F5"),
        (Key.char("?"), "?"), (Key(.enter), "Enter"), (Key.char(" "), "Space"),
    ])
    func names(_ key: Key, _ text: String) {
        #expect(key.description == text)
    }
}

@Suite("Screen over the in-memory backend")
struct ScreenTests {
    @Test("only changed cells are sent; the backend ends up showing the frame; invalidate redraws all")
    func screen() {
        let backend = MemoryBackend(width: 6, height: 2)
        let screen = Screen(backend: backend)
        var frame = Buffer(area: Rect(width: 6, height: 2))
        frame.setString(x: 0, y: 0, "日本 ab", style: .plain)
        #expect(screen.draw(frame) == 10)
        #expect(backend.screen == frame)
        frame.setString(x: 4, y: 0, "c", style: Style(fg: .red))
        #expect(screen.draw(frame, cursor: (1, 1)) == 1)
        #expect(backend.screen.lines == ["日本ca", "      "])
        #expect(backend.cursor.map { [$0.x, $0.y] } == [1, 1])
        #expect(screen.draw(frame) == 0)
        screen.invalidate()
        #expect(screen.draw(frame) == 10)
        #expect(backend.flushes == 4)
    }
}
