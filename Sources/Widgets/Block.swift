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
            for x in area.x + 1..<area.right - 1 {
                buffer.setString(x: x, y: area.y, s.h, style: borderStyle)
                buffer.setString(x: x, y: area.bottom - 1, s.h, style: borderStyle)
            }
            for y in area.y + 1..<area.bottom - 1 {
                buffer.setString(x: area.x, y: y, s.v, style: borderStyle)
                buffer.setString(x: area.right - 1, y: y, s.v, style: borderStyle)
            }
            buffer.setString(x: area.x, y: area.y, s.tl, style: borderStyle)
            buffer.setString(x: area.right - 1, y: area.y, s.tr, style: borderStyle)
            buffer.setString(x: area.x, y: area.bottom - 1, s.bl, style: borderStyle)
            buffer.setString(x: area.right - 1, y: area.bottom - 1, s.br, style: borderStyle)
        }
        if let title, area.width > 4 {
            var line = title
            line.style = titleStyle.patched(with: title.style)
            let x = border == .none ? area.x : area.x + 1
            buffer.setLine(x: x, y: area.y, line, maxWidth: area.width - (border == .none ? 0 : 2))
        }
    }
}
