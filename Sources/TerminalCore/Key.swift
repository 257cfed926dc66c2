/// A key, with the modifiers held.
public struct Key: Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        case char(Character)
        case enter, escape, backspace, tab, backTab, delete, insert
        case up, down, left, right, home, end, pageUp, pageDown
        case function(Int)
    }

    public struct Modifiers: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let ctrl = Modifiers(rawValue: 1)
        public static let alt = Modifiers(rawValue: 2)
        public static let shift = Modifiers(rawValue: 4)
    }

    public var code: Code
    public var modifiers: Modifiers

    public init(_ code: Code, _ modifiers: Modifiers = []) {
        self.code = code
        self.modifiers = modifiers
    }

    public static func char(_ c: Character) -> Key { Key(.char(c)) }
    public static func ctrl(_ c: Character) -> Key { Key(.char(c), .ctrl) }
    public static func alt(_ c: Character) -> Key { Key(.char(c), .alt) }

    /// "Ctrl-C", "Alt-x", "Shift-Tab", "F5", "Enter": how help text names keys.
    public var description: String {
        var parts: [String] = []
        if modifiers.contains(.ctrl) { parts.append("Ctrl") }
        if modifiers.contains(.alt) { parts.append("Alt") }
        if modifiers.contains(.shift) { parts.append("Shift") }
        let name: String = switch code {
        case .char(" "): "Space"
        case .char(let c): modifiers.contains(.ctrl) ? String(c).uppercased() : String(c)
        case .enter: "Enter"
        case .escape: "Esc"
        case .backspace: "Backspace"
        case .tab: "Tab"
        case .backTab: "Shift-Tab"
        case .delete: "Del"
        case .insert: "Ins"
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .home: "Home"
        case .end: "End"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .function(let n): "F\(n)"
        }
        return (parts + [name]).joined(separator: "-")
    }
}

/// A mouse action.
public struct MouseEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case press, release, scrollUp, scrollDown }
    public var kind: Kind
    public var x: Int
    public var y: Int
    public init(kind: Kind, x: Int, y: Int) {
        self.kind = kind
        self.x = x
        self.y = y
    }
}

/// Input from the terminal.
public enum TerminalEvent: Sendable, Hashable {
    case key(Key)
    case mouse(MouseEvent)
    case resize(width: Int, height: Int)
    /// Several characters at once (a paste).
    case paste(String)
}
