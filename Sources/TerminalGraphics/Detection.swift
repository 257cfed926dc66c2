import Foundation
public import TerminalCore

/// What the user asked for: `auto` (detect), or one protocol.
public enum GraphicsChoice: Sendable, Hashable {
    case auto
    case forced(GraphicsProtocol)

    /// `auto`, `kitty`, `iterm2`, `sixel` or `blocks`; nil for anything else.
    public init?(_ text: String) {
        let word = text.trimmingCharacters(in: .whitespaces).lowercased()
        if word == "auto" { self = .auto; return }
        guard let chosen = GraphicsProtocol(rawValue: word) else { return nil }
        self = .forced(chosen)
    }

    public static let names = ["auto"] + GraphicsProtocol.allCases.map(\.rawValue)
}

/// What a terminal said to the startup query (`GraphicsDetection.query`).
public struct TerminalAnswers: Sendable, Hashable {
    /// It answered the kitty graphics query with OK.
    public var kitty = false
    /// Its primary device attributes list 4 (sixel graphics).
    public var sixel = false
    /// It answered the device attributes request at all (so it has finished answering).
    public var answered = false
    /// Its name and version, as it answered XTVERSION (`kitty(0.26.5)`, `XTerm(379)`), with
    /// control characters removed; nil when it did not.
    public var version: String?
    /// Its background colour, as it answered OSC 11; nil when it did not.
    public var background: TerminalBackground?

    public init(kitty: Bool = false, sixel: Bool = false, answered: Bool = false, version: String? = nil,
                background: TerminalBackground? = nil) {
        self.kitty = kitty
        self.sixel = sixel
        self.answered = answered
        self.version = version
        self.background = background
    }

    /// The first kitty that draws Unicode placeholders, the only way fluxdeck shows kitty
    /// pictures (kitty's changelog, 0.28.0).
    public static let placeholderKitty = [0, 28, 0]

    /// The version of a kitty older than `placeholderKitty` (it answers the graphics query,
    /// then rejects the placement fluxdeck sends), else nil.
    public var kittyWithoutPlaceholders: String? {
        guard let version, version.hasPrefix("kitty("), let close = version.firstIndex(of: ")") else { return nil }
        let number = version[version.index(version.startIndex, offsetBy: 6)..<close]
        let parts = number.split(separator: ".").map { Int($0) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        let numbers = parts.compactMap { $0 } + [0, 0]
        return numbers.prefix(3).lexicographicallyPrecedes(Self.placeholderKitty) ? String(number) : nil
    }

    /// Reads the replies: a kitty graphics reply `ESC _ G i=31;OK ESC \` and a primary device
    /// attributes reply `ESC [ ? Ps ; … c` (VT510 reference: DA1; parameter 4 is sixel).
    /// Anything else in between (a key the user pressed) is skipped.
    public init(parsing bytes: [UInt8]) {
        self.init()
        let text = String(decoding: bytes, as: UTF8.self)
        if let range = text.range(of: "\u{1B}_Gi=31;") {
            kitty = text[range.upperBound...].hasPrefix("OK")
        }
        // XTVERSION: DCS > | text ST.
        if let start = text.range(of: "\u{1B}P>|"), let end = text[start.upperBound...].range(of: "\u{1B}\\") {
            version = String(String.UnicodeScalarView(text[start.upperBound..<end.lowerBound].unicodeScalars
                .filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(64)))
        }
        background = TerminalBackground(answer: text)
        if let start = text.range(of: "\u{1B}[?") {
            let rest = text[start.upperBound...]
            if let end = rest.firstIndex(of: "c") {
                let parameters = rest[..<end].split(separator: ";").map(String.init)
                if parameters.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) {
                    answered = true
                    sixel = parameters.dropFirst().contains("4")
                }
            }
        }
    }

    /// Whether `bytes` hold the device attributes reply, the last the query asks for.
    public static func isComplete(_ bytes: [UInt8]) -> Bool { TerminalAnswers(parsing: bytes).answered }
}

/// What tmux says about the terminal outside it.
public struct TmuxFacts: Sendable, Hashable {
    /// `allow-passthrough` is on (or `all`).
    public var passthrough: Bool
    /// The outer terminal's type (`#{client_termname}`), e.g. `xterm-kitty`.
    public var clientTerm: String

    public init(passthrough: Bool, clientTerm: String) {
        self.passthrough = passthrough
        self.clientTerm = clientTerm
    }

    /// What to ask tmux (`display-message -p`): the outer terminal and the passthrough setting.
    public static let format = "#{client_termname}|#{allow-passthrough}"

    /// Reads tmux's answer to `format`.
    public init(parsing answer: String) {
        let parts = answer.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        self.init(passthrough: ["on", "all", "1"].contains(parts.last ?? ""), clientTerm: parts.first ?? "")
    }
}

/// Chooses how pictures are shown.
public enum GraphicsDetection {
    /// The startup query: the kitty graphics query, the terminal's name and version
    /// (XTVERSION), its background colour (OSC 11), then primary device attributes, which every terminal answers, so the
    /// answers are complete when the last arrives.
    public static let query: [UInt8] = KittyGraphics.query + Array("\u{1B}[>q".utf8) + TerminalBackground.query

    /// The question asked when pictures are not detected (chosen, or inside tmux): only the
    /// background, with device attributes after it to end the wait.
    public static let backgroundQuery: [UInt8] = TerminalBackground.query

    /// How long to wait for the answers before deciding from the environment alone.
    public static let timeoutMilliseconds = 300

    /// Whether the terminal may be sent a query at all: not when its type is unset, `dumb`
    /// (which would print the query as text) or the Linux console (which answers none of them
    /// and may show part of one).
    public static func mayAsk(_ environment: [String: String]) -> Bool {
        let term = environment["TERM"] ?? ""
        return !(term.isEmpty || term == "dumb" || term == "linux")
    }

    /// Whether fluxdeck runs inside tmux (which answers queries itself).
    public static func insideTmux(_ environment: [String: String]) -> Bool {
        environment["TMUX"].map { !$0.isEmpty } ?? false
    }

    /// The protocol, and why, from the request, the environment, the terminal's answers (nil
    /// when it was not asked or said nothing in time) and, inside tmux, what tmux says.
    public static func choose(_ choice: GraphicsChoice, environment: [String: String], colors256: Bool,
                              answers: TerminalAnswers?, tmux: TmuxFacts?) -> (graphics: GraphicsProtocol, reason: String) {
        if case .forced(let chosen) = choice {
            if chosen == .kitty, !colors256 {
                return (.blocks, "kitty images need 256 colours, which this terminal type lacks")
            }
            return (chosen, "asked for")
        }
        let term = environment["TERM"] ?? ""
        if !mayAsk(environment) { return (.blocks, "the terminal type \(term.isEmpty ? "is unset" : "is " + term)") }
        if insideTmux(environment) {
            guard let tmux else { return (.blocks, "inside tmux, which could not be asked about the terminal outside") }
            let outer = tmux.clientTerm.lowercased()
            let kittyOutside = outer.contains("kitty") || outer.contains("ghostty")
            guard kittyOutside else { return (.blocks, "inside tmux on \(tmux.clientTerm.isEmpty ? "an unknown terminal" : tmux.clientTerm)") }
            guard tmux.passthrough else { return (.blocks, "inside tmux without allow-passthrough (set -g allow-passthrough on)") }
            guard colors256 else { return (.blocks, "kitty images need 256 colours") }
            return (.kitty, "tmux passes kitty images through to \(tmux.clientTerm)")
        }
        let program = (environment["TERM_PROGRAM"] ?? "").lowercased()
        // WezTerm answers the kitty query but draws no Unicode placeholders; its iTerm2
        // images work. iTerm2 itself speaks its own protocol.
        if program == "wezterm" || program == "iterm.app" { return (.iterm2, "TERM_PROGRAM is \(environment["TERM_PROGRAM"] ?? "")") }
        if let answers {
            if answers.kitty, let old = answers.kittyWithoutPlaceholders {
                let first = TerminalAnswers.placeholderKitty.map(String.init).joined(separator: ".")
                return (.blocks, "kitty \(old) draws no Unicode placeholders (kitty \(first) and later do)")
            }
            if answers.kitty, colors256 { return (.kitty, "the terminal answered the kitty graphics query") }
            if answers.sixel { return (.sixel, "the terminal lists sixel graphics") }
            if answers.answered { return (.blocks, "the terminal lists no image protocol") }
        }
        // No answer in time: the environment alone.
        if colors256, environment["KITTY_WINDOW_ID"] != nil || term.contains("kitty") || term.contains("ghostty") || program == "ghostty" {
            return (.kitty, "the environment names kitty or Ghostty")
        }
        if term.hasPrefix("foot") || term.hasPrefix("mlterm") { return (.sixel, "TERM is \(term)") }
        return (.blocks, answers == nil ? "the terminal was not asked" : "the terminal did not answer in time")
    }
}

/// The terminal's background colour, as it answers the OSC 11 query (xterm's control
/// sequences: `ESC ] 11 ; rgb:RRRR/GGGG/BBBB` ended by BEL or ST, each channel 1 to 4 hex
/// digits), so the studio can say when a theme is made for the other kind of background.
public struct TerminalBackground: Sendable, Hashable {
    /// Red, green and blue, 0–255.
    public var red: Int, green: Int, blue: Int

    public init(red: Int, green: Int, blue: Int) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// OSC 11 asked, then primary device attributes (answered by every terminal, so the wait
    /// ends when that answer comes whether or not the colour was given).
    public static let query: [UInt8] = Array("\u{1B}]11;?\u{1B}\\\u{1B}[c".utf8)

    /// The colour in an answer, nil when there is none or it is not of the `rgb:` form.
    public init?(answer text: String) {
        guard let start = text.range(of: "\u{1B}]11;rgb:") else { return nil }
        let rest = text[start.upperBound...]
        // Ended by BEL or ST (ESC \\); an escape that starts something else is not an end.
        guard let end = rest.firstIndex(where: { $0 == "\u{07}" || $0 == "\u{1B}" }),
              rest[end] == "\u{07}" || rest[rest.index(after: end)...].hasPrefix("\\") else { return nil }
        let channels = rest[..<end].split(separator: "/", omittingEmptySubsequences: false)
        let values = channels.compactMap { channel -> Int? in
            guard (1...4).contains(channel.count), let value = Int(channel, radix: 16) else { return nil }
            // Scaled from its own width: `f`, `ff` and `ffff` are all full.
            let full = (1 << (4 * channel.count)) - 1
            return (value * 255 + full / 2) / full
        }
        guard channels.count == 3, values.count == 3 else { return nil }
        self.init(red: values[0], green: values[1], blue: values[2])
    }

    /// Dark when its relative luminance (ITU-R BT.709 weights) is under half.
    public var isDark: Bool {
        (2126 * red + 7152 * green + 722 * blue) < 10_000 * 128
    }

    /// `#rrggbb`.
    public var hex: String {
        "#" + [red, green, blue].map { value in
            let digits = String(value, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}
