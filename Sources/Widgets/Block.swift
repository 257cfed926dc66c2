public import TerminalCore

/// Something that draws itself into a part of a buffer.
public protocol Widget {
    func render(into buffer: inout Buffer, area: Rect)
}

/// A frame with optional borders and a title.
public struct Block: Widget, Sendable {
    public enum Border: Sendable { case none, plain, rounded, double, thick, ascii }

    public var border: Border = .plain
    public var title: Line?
    public var style: Style = .plain
    public var borderStyle: Style = .plain
    public var titleStyle: Style = .plain

    public init() {}

    public func border(_ border: Border) -> Block { var b = self; b.border = border; return b }
    public func title(_ title: Line?) -> Block { var b = self; b.title = title; return b }
    public func style(_ style: Style) -> Block { var b = self; b.style = style; return b }
    public func borderStyle(_ style: Style) -> Block { var b = self; b.borderStyle = style; return b }
    public func titleStyle(_ style: Style) -> Block { var b = self; b.titleStyle = style; return b }

    /// The area inside the borders.
    public func inner(_ area: Rect) -> Rect {
        border == .none ? area : area.inset(by: 1)
    }

    var symbols: (h: String, v: String, tl: String, tr: String, bl: String, br: String) {
        switch border {
        case .none, .plain: ("─", "│", "┌", "┐", "└", "┘")
        case .rounded: ("─", "│", "╭", "╮", "╰", "╯")
        case .double: ("═", "║", "╔", "╗", "╚", "╝")
        case .thick: ("━", "┃", "┏", "┓", "┗", "┛")
        case .ascii: ("-", "|", "+", "+", "+", "+")
        }
    }

    public func render(into buffer: inout Buffer, area: Rect) {
        let area = area.intersection(buffer.area)
        guard !area.isEmpty else { return }
        buffer.fill(area, style: style)
        if border != .none, area.width >= 2, area.height >= 2 {
            let s = symbols
            // Each edge is one fill: the symbol is measured once, not once per cell.
            let top = Rect(x: area.x + 1, y: area.y, width: area.width - 2, height: 1)
            let side = Rect(x: area.x, y: area.y + 1, width: 1, height: area.height - 2)
            buffer.fill(top, symbol: s.h, style: borderStyle)
            buffer.fill(Rect(x: top.x, y: area.bottom - 1, width: top.width, height: 1), symbol: s.h, style: borderStyle)
            buffer.fill(side, symbol: s.v, style: borderStyle)
            buffer.fill(Rect(x: area.right - 1, y: side.y, width: 1, height: side.height), symbol: s.v, style: borderStyle)
            buffer.fill(Rect(x: area.x, y: area.y, width: 1, height: 1), symbol: s.tl, style: borderStyle)
            buffer.fill(Rect(x: area.right - 1, y: area.y, width: 1, height: 1), symbol: s.tr, style: borderStyle)
            buffer.fill(Rect(x: area.x, y: area.bottom - 1, width: 1, height: 1), symbol: s.bl, style: borderStyle)
            buffer.fill(Rect(x: area.right - 1, y: area.bottom - 1, width: 1, height: 1), symbol: s.br, style: borderStyle)
        }
        if let title, area.width > 4 {
            var line = title
            line.style = titleStyle.patched(with: title.style)
            let x = border == .none ? area.x : area.x + 1
            buffer.setLine(x: x, y: area.y, line, maxWidth: area.width - (border == .none ? 0 : 2))
        }
    }
}
