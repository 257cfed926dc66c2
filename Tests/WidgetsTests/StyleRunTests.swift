import TerminalCore
import Testing
import Widgets

/// Widgets by their styles: runs of cells that share a style, row by row.
@Suite("Widgets as style runs")
struct StyleRunTests {
    static let key = Style(fg: .ansi(6), add: .bold)
    static let label = Style(fg: .ansi(7))

    /// "row: first-last name" for every run not drawn plain; names come from `names`.
    func runs(_ buffer: Buffer, _ names: [CellStyle: String]) -> [String] {
        var runs: [String] = []
        for y in 0..<buffer.area.height {
            var x = 0
            while x < buffer.area.width {
                let style = buffer[x, y].style
                var end = x
                while end + 1 < buffer.area.width, buffer[end + 1, y].style == style { end += 1 }
                if style != .plain { runs.append("\(y): \(x)-\(end) \(names[style] ?? "\(style)")") }
                x = end + 1
            }
        }
        return runs
    }

    @Test("key hints: each key in its style, each label in its own, the gap plain; a hint that does not fit is left out whole")
    func keyHints() {
        var buffer = Buffer(area: Rect(width: 24, height: 1))
        KeyHints([("q", "quit"), ("?", "help"), ("Tab", "pane")]).keyStyle(Self.key).labelStyle(Self.label)
            .render(into: &buffer, area: buffer.area)
        #expect(buffer.lines == ["q quit  ? help  Tab pane"])
        let names = [CellStyle.plain.applying(Self.key): "key", CellStyle.plain.applying(Self.label): "label"]
        #expect(runs(buffer, names) == ["0: 0-0 key", "0: 1-5 label", "0: 8-8 key", "0: 9-13 label", "0: 16-18 key", "0: 19-23 label"])
        var narrow = Buffer(area: Rect(width: 20, height: 1))
        KeyHints([("q", "quit"), ("?", "help"), ("Tab", "pane")]).render(into: &narrow, area: narrow.area)
        #expect(narrow.lines == ["q quit  ? help      "])
    }

    @Test("a list: the selected row is highlighted across the whole width, over the row's own styles")
    func listHighlight() {
        var buffer = Buffer(area: Rect(width: 10, height: 3))
        var state = ListState(selected: 1)
        List([Line("one"), Line([Span("two", style: Style(fg: .ansi(1)))]), Line("three")])
            .highlightStyle(Style(add: .reverse)).highlightSymbol("")
            .render(into: &buffer, area: buffer.area, state: &state)
        let names = [CellStyle(fg: .ansi(1), modifiers: .reverse): "red reversed", CellStyle(modifiers: .reverse): "reversed"]
        #expect(runs(buffer, names) == ["1: 0-2 red reversed", "1: 3-9 reversed"])
    }

    @Test("a gauge: the filled part in the filled style, the rest in the empty style, the label over both")
    func gauge() {
        var buffer = Buffer(area: Rect(width: 10, height: 1))
        var gauge = Gauge(ratio: 0.5)
        gauge.filledStyle = Style(fg: .ansi(2))
        gauge.emptyStyle = Style(fg: .ansi(8))
        gauge.render(into: &buffer, area: buffer.area)
        let names = [CellStyle(fg: .ansi(2)): "filled", CellStyle(fg: .ansi(8)): "empty"]
        #expect(runs(buffer, names) == ["0: 0-4 filled", "0: 5-9 empty"])
    }
}
