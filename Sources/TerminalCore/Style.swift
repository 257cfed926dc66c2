/// A terminal colour.
public enum Color: Sendable, Hashable {
    /// The terminal's own foreground or background.
    case `default`
    /// One of the 16 ANSI colours (0–7 normal, 8–15 bright), following the terminal's palette.
    case ansi(UInt8)
    /// One of the 256 indexed colours.
    case indexed(UInt8)
    /// A truecolor value.
    case rgb(UInt8, UInt8, UInt8)

    public static let black = Color.ansi(0), red = Color.ansi(1), green = Color.ansi(2), yellow = Color.ansi(3)
    public static let blue = Color.ansi(4), magenta = Color.ansi(5), cyan = Color.ansi(6), white = Color.ansi(7)
    public static let brightBlack = Color.ansi(8), brightRed = Color.ansi(9), brightGreen = Color.ansi(10)
    public static let brightYellow = Color.ansi(11), brightBlue = Color.ansi(12), brightMagenta = Color.ansi(13)
    public static let brightCyan = Color.ansi(14), brightWhite = Color.ansi(15)
}

/// Text attributes.
public struct Modifiers: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let bold = Modifiers(rawValue: 1 << 0)
    public static let dim = Modifiers(rawValue: 1 << 1)
    public static let italic = Modifiers(rawValue: 1 << 2)
    public static let underline = Modifiers(rawValue: 1 << 3)
    public static let reverse = Modifiers(rawValue: 1 << 4)
    public static let strikethrough = Modifiers(rawValue: 1 << 5)
}

/// A style patch: unset colours leave what is underneath; modifiers are added and removed.
public struct Style: Sendable, Hashable {
    public var fg: Color?
    public var bg: Color?
    public var add: Modifiers
    public var remove: Modifiers

    public init(fg: Color? = nil, bg: Color? = nil, add: Modifiers = [], remove: Modifiers = []) {
        self.fg = fg
        self.bg = bg
        self.add = add
        self.remove = remove
    }

    public static let plain = Style()

    public func fg(_ color: Color) -> Style { var s = self; s.fg = color; return s }
    public func bg(_ color: Color) -> Style { var s = self; s.bg = color; return s }
    public func adding(_ modifiers: Modifiers) -> Style {
        var s = self
        s.add.formUnion(modifiers)
        s.remove.subtract(modifiers)
        return s
    }

    /// This style with `other` laid over it.
    public func patched(with other: Style) -> Style {
        Style(fg: other.fg ?? fg, bg: other.bg ?? bg,
              add: add.subtracting(other.remove).union(other.add),
              remove: remove.subtracting(other.add).union(other.remove))
    }
}

/// What a cell finally looks like.
public struct CellStyle: Sendable, Hashable {
    public var fg: Color
    public var bg: Color
    public var modifiers: Modifiers

    public init(fg: Color = .default, bg: Color = .default, modifiers: Modifiers = []) {
        self.fg = fg
        self.bg = bg
        self.modifiers = modifiers
    }

    public static let plain = CellStyle()

    /// This cell style with a patch applied.
    public func applying(_ style: Style) -> CellStyle {
        CellStyle(fg: style.fg ?? fg, bg: style.bg ?? bg,
                  modifiers: modifiers.subtracting(style.remove).union(style.add))
    }
}
