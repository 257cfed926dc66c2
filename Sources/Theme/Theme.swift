import Foundation
public import TerminalCore
import TOMLFiles

/// The semantic roles the interface draws with. Themes style roles, never widgets.
public enum Role: String, CaseIterable, Sendable {
    case uiText = "ui.text"
    case uiTextDim = "ui.text.dim"
    case uiBackground = "ui.background"
    case paneBorder = "pane.border"
    case paneBorderFocused = "pane.border.focused"
    case paneTitle = "pane.title"
    case paneTitleFocused = "pane.title.focused"
    case statusBar = "status.bar"
    case statusKey = "status.key"
    case statusSimulator = "status.simulator"
    case listSelected = "list.selected"
    case inputText = "input.text"
    case inputPlaceholder = "input.placeholder"
    case gaugeFilled = "gauge.filled"
    case gaugeEmpty = "gauge.empty"
    case jobQueued = "job.status.queued"
    case jobRunning = "job.status.running"
    case jobDone = "job.status.done"
    case jobFailed = "job.status.failed"
    case jobModerated = "job.status.moderated"
    case jobExpired = "job.status.expired"
    case jobUnknown = "job.status.unknown"
    case costEstimate = "cost.estimate"
    case costCharged = "cost.charged"
    case costOverBudget = "cost.over-budget"
    case messageError = "message.error"
    case messageWarning = "message.warning"
    case messageHint = "message.hint"
    /// The series of a chart (spending by model), in order.
    case chart1 = "chart.1", chart2 = "chart.2", chart3 = "chart.3", chart4 = "chart.4", chart5 = "chart.5", chart6 = "chart.6"

    public static let chartSeries: [Role] = [.chart1, .chart2, .chart3, .chart4, .chart5, .chart6]

    /// The compiled-in default: ANSI colours that follow the terminal's palette.
    public var fallback: Style {
        switch self {
        case .uiText, .uiBackground, .inputText: .plain
        case .uiTextDim, .inputPlaceholder, .gaugeEmpty, .paneBorder: Style(add: .dim)
        case .paneBorderFocused: Style(fg: .cyan)
        case .paneTitle: Style(add: .bold)
        case .paneTitleFocused: Style(fg: .cyan, add: .bold)
        case .statusBar: Style(add: .reverse)
        case .statusKey: Style(add: [.bold, .reverse])
        case .statusSimulator: Style(fg: .black, bg: .yellow, add: .bold)
        case .listSelected: Style(add: .reverse)
        case .gaugeFilled: Style(fg: .green)
        case .jobQueued: Style(add: .dim)
        case .jobRunning: Style(fg: .cyan)
        case .jobDone: Style(fg: .green)
        case .jobFailed, .messageError, .costOverBudget: Style(fg: .red, add: .bold)
        case .jobModerated, .jobExpired, .messageWarning: Style(fg: .yellow)
        case .jobUnknown: Style(fg: .magenta)
        case .costEstimate: .plain
        case .costCharged: Style(add: .bold)
        case .messageHint: Style(add: .dim)
        case .chart1: Style(fg: .cyan)
        case .chart2: Style(fg: .green)
        case .chart3: Style(fg: .yellow)
        case .chart4: Style(fg: .magenta)
        case .chart5: Style(fg: .blue)
        case .chart6: Style(fg: .red)
        }
    }
}

/// A problem in a theme file, with where it is.
public struct ThemeError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var line: Int?
    public var column: Int?
    /// The file the line is in, when the error came from a file (a path, or "shipped theme NAME").
    public var file: String?

    init(_ error: TOMLError) {
        self.init(message: error.message, line: error.line, column: error.column)
    }

    public init(message: String, line: Int? = nil, column: Int? = nil, file: String? = nil) {
        self.message = message
        self.line = line
        self.column = column
        self.file = file
    }

    public var description: String {
        guard let line else { return file.map { "\($0): \(message)" } ?? message }
        guard let file else { return "line \(line)\(column.map { ", column \($0)" } ?? ""): \(message)" }
        return "\(file):\(line)\(column.map { ":\($0)" } ?? ""): \(message)"
    }
}

/// A resolved theme: a style per role, reduced to what the terminal can show.
public struct Theme: Sendable {
    public var name: String
    public var variant: String
    /// The styles set by the file (and what it inherits), by dotted key.
    var styles: [String: Style] {
        didSet { resolved = Self.resolve(styles, monochrome: monochrome) }
    }
    /// Every role's style, resolved once (views ask for styles thousands of times a frame).
    private var resolved: [Role: Style]
    /// No colour at all, even where the file sets none and a role's default has one; previews
    /// are drawn in shades (`monochrome = true` in the file, or a terminal without colours).
    public internal(set) var monochrome: Bool {
        didSet { resolved = Self.resolve(styles, monochrome: monochrome) }
    }

    init(name: String, variant: String, styles: [String: Style], monochrome: Bool = false) {
        self.name = name
        self.variant = variant
        self.styles = styles
        self.monochrome = monochrome
        resolved = Self.resolve(styles, monochrome: monochrome)
    }

    public static let builtIn = Theme(name: "built-in", variant: "dark", styles: [:])

    /// The style of a role: exact key, else the longest dotted prefix, else the compiled default.
    public func style(_ role: Role) -> Style {
        resolved[role] ?? role.fallback
    }

    private static func resolve(_ styles: [String: Style], monochrome: Bool) -> [Role: Style] {
        Dictionary(uniqueKeysWithValues: Role.allCases.map { role in
            var key = role.rawValue
            var style = role.fallback
            while true {
                if let found = styles[key] {
                    style = found
                    break
                }
                guard let dot = key.lastIndex(of: ".") else { break }
                key = String(key[..<dot])
            }
            if monochrome {
                style.fg = nil
                style.bg = nil
            }
            return (role, style)
        })
    }

    /// This theme as a terminal of `depth` shows it (NO_COLOR: `.none`, modifiers only).
    public func reduced(to depth: ColorDepth) -> Theme {
        var copy = self
        copy.styles = styles.mapValues { style in
            var s = style
            s.fg = style.fg.flatMap { depth.reduce($0) }
            s.bg = style.bg.flatMap { depth.reduce($0) }
            return s
        }
        // The compiled defaults lose their colours too.
        if depth == .none { copy.monochrome = true }
        return copy
    }
}

extension Theme {
    /// Whether the theme can be read on a background: one made for the same kind (its
    /// `variant`), or a monochrome one, which sets no colour of its own.
    public func fits(darkBackground dark: Bool) -> Bool {
        monochrome || (variant == "dark") == dark
    }

    /// A sentence when the theme is made for the other kind of background than the terminal's
    /// (`dark`, its colour `colour`), naming the shipped themes that fit; nil when it fits.
    public func backgroundNote(terminalIsDark dark: Bool, colour: String) -> String? {
        guard !fits(darkBackground: dark) else { return nil }
        let fitting = ThemeLoader.shippedNames.filter { name in
            guard let text = ThemeLoader.shippedTheme(named: name), let theme = try? ThemeLoader().load(text) else { return false }
            return theme.fits(darkBackground: dark)
        }
        let choices = fitting.count > 1 ? fitting.dropLast().joined(separator: ", ") + " or " + (fitting.last ?? "") : fitting.joined()
        return "the theme \(name) is made for \(variant) backgrounds, this terminal's is \(dark ? "dark" : "light") (\(colour)): try --theme \(choices)"
    }
}

/// Reads theme files: TOML with `name`, `variant`, optional `inherits`, a `[palette]` and
/// `[styles]` keyed by role (`"pane.border.focused" = { fg = "frost", modifiers = ["bold"] }`,
/// or a colour alone for the foreground).
public struct ThemeLoader: Sendable {
    /// The text of the theme named by `inherits`, given the names already on the chain
    /// (innermost last), or nil when there is none.
    public var resolveInherited: @Sendable (_ name: String, _ chain: [String]) -> String?

    /// Resolves `inherits` among the shipped themes only.
    public init() {
        self.init(resolveInherited: { name, _ in ThemeLoader.shippedTheme(named: name) })
    }

    public init(resolveInherited: @escaping @Sendable (String) -> String?) {
        self.init(resolveInherited: { name, _ in resolveInherited(name) })
    }

    public init(resolveInherited: @escaping @Sendable (_ name: String, _ chain: [String]) -> String?) {
        self.resolveInherited = resolveInherited
    }

    /// The TOML text of a shipped theme (built into the binary from `themes/`).
    public static func shippedTheme(named name: String) -> String? {
        embeddedThemes.first { $0.name == name }?.text
    }

    /// The names of the shipped themes.
    public static var shippedNames: [String] { embeddedThemes.map(\.name).sorted() }

    static let topKeys: Set<String> = ["name", "variant", "inherits", "monochrome", "palette", "styles"]
    static let styleKeys: Set<String> = ["fg", "bg", "modifiers"]
    static let modifierNames: [String: Modifiers] = [
        "bold": .bold, "dim": .dim, "italic": .italic, "underline": .underline, "underlined": .underline,
        "reverse": .reverse, "reversed": .reverse, "strikethrough": .strikethrough, "crossed_out": .strikethrough,
    ]
    static let ansiNames: [String: Color] = [
        "black": .black, "red": .red, "green": .green, "yellow": .yellow, "blue": .blue, "magenta": .magenta,
        "cyan": .cyan, "white": .white, "gray": .brightBlack, "grey": .brightBlack, "bright-black": .brightBlack,
        "bright-red": .brightRed, "bright-green": .brightGreen, "bright-yellow": .brightYellow, "bright-blue": .brightBlue,
        "bright-magenta": .brightMagenta, "bright-cyan": .brightCyan, "bright-white": .brightWhite, "default": .default,
    ]

    /// Parses and checks a theme. Every problem names its line.
    public func load(_ text: String, chain: [String] = []) throws(ThemeError) -> Theme {
        guard chain.count < 8 else { throw ThemeError(message: "themes inherit from each other in a loop (\(chain.joined(separator: " → ")))") }
        let document: TOMLDocument
        do { document = try TOMLDocument(text) } catch { throw ThemeError(error) }
        let root = document.values
        let locate = Locator(document: document)
        for key in root.keys.sorted() where !Self.topKeys.contains(key) {
            throw locate.error("unknown key \"\(key)\" (known: \(Self.topKeys.sorted().joined(separator: ", ")))", key: key)
        }
        guard let name = root["name"] as? String, !name.isEmpty else {
            throw ThemeError(message: "the theme needs a name (name = \"…\")", line: 1, column: 1)
        }
        let variant = root["variant"] as? String ?? "dark"
        guard variant == "dark" || variant == "light" else {
            throw locate.error("variant must be \"dark\" or \"light\" (got \"\(variant)\")", key: "variant")
        }
        var base = Theme(name: name, variant: variant, styles: [:])
        if let parent = root["inherits"] {
            guard let parentName = parent as? String, let parentText = resolveInherited(parentName, chain) else {
                throw locate.error("cannot inherit from \"\(parent)\": no such theme", key: "inherits")
            }
            do {
                let inherited = try load(parentText, chain: chain + [parentName])
            base.styles = inherited.styles
            base.monochrome = inherited.monochrome
            } catch {
                var located = error
                if located.file == nil { located.file = "theme \(parentName)" }
                throw located
            }
        }
        if let flag = root["monochrome"] {
            guard let monochrome = TOMLDocument.boolean(flag) else { throw locate.error("monochrome must be true or false", key: "monochrome") }
            base.monochrome = monochrome
        }
        var palette: [String: Color] = [:]
        if let table = root["palette"] {
            guard let entries = table as? [String: Any] else { throw locate.error("[palette] must be a table", key: "palette") }
            for (key, value) in entries.sorted(by: { $0.key < $1.key }) {
                guard let text = value as? String, let color = Self.color(text, palette: [:]) else {
                    throw locate.error("palette colour \"\(key)\" must be #rrggbb or an ANSI name (got \(value))", key: key)
                }
                palette[key] = color
            }
        }
        if let table = root["styles"] {
            guard let entries = table as? [String: Any] else { throw locate.error("[styles] must be a table", key: "styles") }
            let roles = Set(Role.allCases.map(\.rawValue))
            for (key, value) in entries.sorted(by: { $0.key < $1.key }) {
                guard roles.contains(key) || roles.contains(where: { $0.hasPrefix(key + ".") }) else {
                    throw locate.error("unknown role \"\(key)\"", key: key)
                }
                base.styles[key] = try style(value, key: key, palette: palette, locate: locate)
            }
        }
        return base
    }

    private func style(_ value: Any, key: String, palette: [String: Color], locate: Locator) throws(ThemeError) -> Style {
        if let text = value as? String {
            guard let color = Self.color(text, palette: palette) else {
                throw locate.error("\"\(key)\": unknown colour \"\(text)\" (a palette name, #rrggbb, an ANSI name or default)", key: key)
            }
            return Style(fg: color)
        }
        guard let fields = value as? [String: Any] else {
            throw locate.error("\"\(key)\" must be a colour or a table { fg, bg, modifiers }", key: key)
        }
        var style = Style()
        for field in fields.keys.sorted() where !Self.styleKeys.contains(field) {
            throw locate.error("\"\(key)\": unknown key \"\(field)\" (known: bg, fg, modifiers)", key: key)
        }
        for (field, path) in [("fg", \Style.fg), ("bg", \Style.bg)] {
            guard let raw = fields[field] else { continue }
            guard let text = raw as? String, let color = Self.color(text, palette: palette) else {
                throw locate.error("\"\(key)\": unknown colour \"\(raw)\" for \(field)", key: key)
            }
            style[keyPath: path] = color
        }
        if let raw = fields["modifiers"] {
            guard let names = raw as? [Any] else { throw locate.error("\"\(key)\": modifiers must be a list", key: key) }
            for name in names {
                guard let text = name as? String, let modifier = Self.modifierNames[text] else {
                    throw locate.error("\"\(key)\": unknown modifier \"\(name)\" (known: \(Self.modifierNames.keys.sorted().joined(separator: ", ")))", key: key)
                }
                style.add.insert(modifier)
            }
        }
        return style
    }

    /// A colour from a palette name, `#rrggbb`, an ANSI name or `default`.
    static func color(_ text: String, palette: [String: Color]) -> Color? {
        if let named = palette[text] { return named }
        if let ansi = ansiNames[text.lowercased()] { return ansi }
        guard text.hasPrefix("#"), text.count == 7, let value = UInt32(text.dropFirst(), radix: 16) else { return nil }
        return .rgb(UInt8(value >> 16), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF))
    }

    /// Where keys are written, for errors that name their line.
    struct Locator {
        let document: TOMLDocument

        func error(_ message: String, key: String) -> ThemeError { ThemeError(document.error(message, key: key)) }
    }
}
