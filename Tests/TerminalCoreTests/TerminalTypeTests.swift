import NcursesBackend
import Testing

@Suite("The terminal type the studio draws with")
struct TerminalTypeTests {
    /// A terminfo database holding only these.
    static let here: Set<String> = ["xterm", "xterm-256color", "tmux-256color", "linux", "screen"]
    func choose(_ term: String?) -> TerminalType.Choice { TerminalType.choose(term, hasEntry: { Self.here.contains($0) }) }

    @Test("a known type is used as it is")
    func known() {
        #expect(choose("tmux-256color") == .use("tmux-256color"))
        #expect(choose("linux") == .use("linux"))
    }

    @Test("xterm-kitty and other xterm-* or *-256color types missing here are drawn as xterm-256color")
    func fallback() {
        #expect(choose("xterm-kitty") == .fallback(from: "xterm-kitty", to: "xterm-256color"))
        #expect(choose("xterm-ghostty") == .fallback(from: "xterm-ghostty", to: "xterm-256color"))
        #expect(choose("wezterm-256color") == .fallback(from: "wezterm-256color", to: "xterm-256color"))
        // Without xterm-256color either, there is nothing to fall back to.
        #expect(TerminalType.choose("xterm-kitty", hasEntry: { $0 == "xterm" }) == .refuse("the terminal type \"xterm-kitty\" is unknown here; try TERM=xterm-256color"))
    }

    @Test("dumb, unknown and unset types are refused with a sentence")
    func refused() {
        guard case .refuse(let dumb) = choose("dumb") else { Issue.record("dumb was not refused"); return }
        #expect(dumb.contains("TERM=dumb") && dumb.contains("headless"))
        #expect(choose("vt52x") == .refuse("the terminal type \"vt52x\" is unknown here; try TERM=xterm-256color"))
        guard case .refuse(let unset) = choose(nil), case .refuse = choose("") else { Issue.record("no TERM was not refused"); return }
        #expect(unset.contains("TERM is not set"))
        // What is named is stripped to a type's characters.
        #expect(choose("x\u{1B}]0;t\u{7}") == .refuse("the terminal type \"x0t\" is unknown here; try TERM=xterm-256color"))
    }

    @Test("entries are found where ncurses looks, under the first letter or its hex code")
    func lookup() {
        #expect(TerminalType.hasEntry("xterm-256color"))
        #expect(!TerminalType.hasEntry("no-such-terminal-type"))
        #expect(!TerminalType.hasEntry("../x/xterm"))
    }
}
