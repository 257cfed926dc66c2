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

extension Key {
    /// A key as a configuration file spells it: `q`, `Q`, `?`, `ctrl-q`, `alt-enter`,
    /// `shift-tab`, `enter`, `esc`, `tab`, `space`, `backspace`, `del`, `ins`, `up`, `down`,
    /// `left`, `right`, `home`, `end`, `pgup`, `pgdn`, `f1`…`f12`. Case does not matter in
    /// names (`Ctrl-Q` too); a single character is taken as it is.
    public init?(name: String) {
        var parts = name.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        // "-" alone, or a binding of the minus key such as "ctrl--".
        if parts.count >= 2, parts.suffix(2) == ["", ""] { parts = Array(parts.dropLast(2)) + ["-"] }
        guard let last = parts.popLast(), !last.isEmpty else { return nil }
        var modifiers: Modifiers = []
        for part in parts {
            switch part.lowercased() {
            case "ctrl": modifiers.insert(.ctrl)
            case "alt", "meta": modifiers.insert(.alt)
            case "shift": modifiers.insert(.shift)
            default: return nil
            }
        }
        if last.count == 1, let character = last.first {
            // Ctrl with a letter is the same key whichever case is written.
            let code = Code.char(modifiers.contains(.ctrl) ? Character(last.lowercased()) : character)
            self.init(code, modifiers)
            return
        }
        let named: [String: Code] = [
            "enter": .enter, "return": .enter, "esc": .escape, "escape": .escape, "tab": .tab, "space": .char(" "),
            "backspace": .backspace, "del": .delete, "delete": .delete, "ins": .insert, "insert": .insert,
            "up": .up, "down": .down, "left": .left, "right": .right, "home": .home, "end": .end,
            "pgup": .pageUp, "pageup": .pageUp, "pgdn": .pageDown, "pagedown": .pageDown,
        ]
        let lower = last.lowercased()
        if lower == "tab", modifiers == .shift {
            self.init(.backTab)
        } else if let code = named[lower] {
            self.init(code, modifiers)
        } else if lower.first == "f", let n = Int(lower.dropFirst()), (1...24).contains(n) {
            self.init(.function(n), modifiers)
        } else {
            return nil
        }
    }

    /// A printable character typed without Ctrl or Alt: text, where text is being edited.
    public var isText: Bool {
        guard case .char = code else { return false }
        return modifiers.subtracting(.shift).isEmpty
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
