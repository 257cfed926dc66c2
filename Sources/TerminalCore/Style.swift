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

/// What a cell finally looks like. Packed into one word (each colour 26 bits, then the
/// modifiers), so that comparing two cells and laying a style over one are a few integer
/// operations: a frame does both for every cell (decision 43).
public struct CellStyle: Sendable, Hashable {
    private var bits: UInt64

    private static let colorMask: UInt64 = 0x3FF_FFFF
    private static let bgShift: UInt64 = 26
    private static let modifierShift: UInt64 = 52

    public init(fg: Color = .default, bg: Color = .default, modifiers: Modifiers = []) {
        bits = UInt64(fg.packed) | UInt64(bg.packed) << Self.bgShift | UInt64(modifiers.rawValue) << Self.modifierShift
    }

    private init(bits: UInt64) { self.bits = bits }

    public var fg: Color {
        get { Color(packed: UInt32(truncatingIfNeeded: bits & Self.colorMask)) }
        set { bits = bits & ~Self.colorMask | UInt64(newValue.packed) }
    }

    public var bg: Color {
        get { Color(packed: UInt32(truncatingIfNeeded: bits >> Self.bgShift & Self.colorMask)) }
        set { bits = bits & ~(Self.colorMask << Self.bgShift) | UInt64(newValue.packed) << Self.bgShift }
    }

    public var modifiers: Modifiers {
        get { Modifiers(rawValue: UInt8(truncatingIfNeeded: bits >> Self.modifierShift)) }
        set { bits = bits & ~(0xFF << Self.modifierShift) | UInt64(newValue.rawValue) << Self.modifierShift }
    }

    public static let plain = CellStyle()

    /// This cell style with a patch applied.
    public func applying(_ style: Style) -> CellStyle { applying(Patch(style)) }

    @inline(__always)
    public func applying(_ patch: Patch) -> CellStyle { CellStyle(bits: bits & ~patch.clear | patch.set) }

    /// A `Style` as bits to clear and bits to set: made once, laid over many cells.
    public struct Patch: Sendable {
        fileprivate let clear: UInt64
        fileprivate let set: UInt64

        public init(_ style: Style) {
            var clear = UInt64(style.remove.union(style.add).rawValue) << CellStyle.modifierShift
            var set = UInt64(style.add.rawValue) << CellStyle.modifierShift
            if let fg = style.fg {
                clear |= CellStyle.colorMask
                set |= UInt64(fg.packed)
            }
            if let bg = style.bg {
                clear |= CellStyle.colorMask << CellStyle.bgShift
                set |= UInt64(bg.packed) << CellStyle.bgShift
            }
            self.clear = clear
            self.set = set
        }
    }
}

extension Color {
    /// A tag in bits 24–25 (0 default, 1 ANSI, 2 indexed, 3 RGB) and the value below.
    var packed: UInt32 {
        switch self {
        case .default: 0
        case .ansi(let n): 1 << 24 | UInt32(n)
        case .indexed(let n): 2 << 24 | UInt32(n)
        case .rgb(let r, let g, let b): 3 << 24 | UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b)
        }
    }

    init(packed: UInt32) {
        let value = UInt8(truncatingIfNeeded: packed)
        switch packed >> 24 {
        case 1: self = .ansi(value)
        case 2: self = .indexed(value)
        case 3: self = .rgb(UInt8(truncatingIfNeeded: packed >> 16), UInt8(truncatingIfNeeded: packed >> 8), value)
        default: self = .default
        }
    }
}
