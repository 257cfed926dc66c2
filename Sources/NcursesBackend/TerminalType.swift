import Foundation

/// Which terminfo entry the studio draws with. A terminal whose own entry is missing here (kitty's
/// `xterm-kitty` over ssh, a new `xterm-*` or `*-256color` type) is drawn as `xterm-256color`,
/// which they all understand; `dumb` and unknown types are refused with a sentence.
public enum TerminalType {
    public enum Choice: Sendable, Hashable {
        case use(String)
        /// `from` has no entry here; `to` is drawn instead (said once in the log).
        case fallback(from: String, to: String)
        case refuse(String)
    }

    public static let fallbackEntry = "xterm-256color"

    public static func choose(_ term: String?, hasEntry: (String) -> Bool = { TerminalType.hasEntry($0) }) -> Choice {
        guard let term, !term.isEmpty else {
            return .refuse("TERM is not set, so the terminal cannot be driven; set it (for example TERM=xterm-256color)")
        }
        let shown = term.filter { $0.isLetter || $0.isNumber || "-_.+".contains($0) }
        if term == "dumb" {
            return .refuse("TERM=dumb cannot move the cursor, so the studio cannot be drawn; run it in a full terminal, "
                + "or use the headless commands (fluxdeck generate, batch, jobs)")
        }
        if hasEntry(term) { return .use(term) }
        if (term.hasPrefix("xterm-") || term.hasSuffix("-256color")) && hasEntry(fallbackEntry) {
            return .fallback(from: shown, to: fallbackEntry)
        }
        return .refuse("the terminal type \"\(shown)\" is unknown here; try TERM=xterm-256color")
    }

    /// Whether a compiled terminfo entry for `name` is in one of the places ncurses looks
    /// ($TERMINFO, ~/.terminfo, $TERMINFO_DIRS, /etc/terminfo, /lib/terminfo, /usr/share/terminfo),
    /// under its first letter or that letter's hex code.
    public static func hasEntry(_ name: String) -> Bool {
        hasEntry(name, environment: ProcessInfo.processInfo.environment)
    }

    public static func hasEntry(_ name: String, environment: [String: String]) -> Bool {
        guard let first = name.unicodeScalars.first, !name.contains("/") else { return false }
        var folders: [String] = []
        if let own = environment["TERMINFO"], !own.isEmpty { folders.append(own) }
        if let home = environment["HOME"] { folders.append(home + "/.terminfo") }
        folders += (environment["TERMINFO_DIRS"] ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
        folders += ["/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo"]
        let letters = [String(first), String(format: "%02x", first.value)]
        return folders.contains { folder in
            letters.contains { FileManager.default.fileExists(atPath: "\(folder)/\($0)/\(name)") }
        }
    }
}
