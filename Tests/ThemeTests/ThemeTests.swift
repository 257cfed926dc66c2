import TerminalCore
import Testing
import Theme

@Suite("Themes")
struct ThemeTests {
    @Test("every shipped theme loads and every role resolves")
    func shipped() throws {
        let names = ThemeLoader.shippedNames
        #expect(names == ["default", "frost", "mono", "paper"])
        for name in names {
            let text = try #require(ThemeLoader.shippedTheme(named: name))
            let theme = try ThemeLoader().load(text)
            #expect(theme.name == name)
            for role in Role.allCases { _ = theme.style(role) }
        }
    }

    @Test("a theme says which background it is made for: paper on a dark terminal is named with the themes that fit; mono and NO_COLOR fit any")
    func background() throws {
        func shipped(_ name: String) throws -> Theme { try ThemeLoader().load(try #require(ThemeLoader.shippedTheme(named: name))) }
        let paper = try shipped("paper")
        #expect(paper.variant == "light")
        #expect(paper.backgroundNote(terminalIsDark: true, colour: "#000000")
                == "the theme paper is made for light backgrounds, this terminal's is dark (#000000): try --theme default, frost or mono")
        #expect(paper.backgroundNote(terminalIsDark: false, colour: "#ffffff") == nil)
        #expect(try shipped("default").backgroundNote(terminalIsDark: true, colour: "#000000") == nil)
        #expect(try shipped("default").backgroundNote(terminalIsDark: false, colour: "#ffffff")?.hasSuffix("try --theme mono or paper") == true)
        #expect(try shipped("mono").fits(darkBackground: true) && shipped("mono").fits(darkBackground: false))
        // Without colours (NO_COLOR, a terminal that has none) any theme fits.
        #expect(paper.reduced(to: .none).backgroundNote(terminalIsDark: true, colour: "#000000") == nil)
    }

    @Test("default uses only ANSI colours; mono uses no colours")
    func palettes() throws {
        let loader = ThemeLoader()
        let ansiOnly = try loader.load(try #require(ThemeLoader.shippedTheme(named: "default")))
        let mono = try loader.load(try #require(ThemeLoader.shippedTheme(named: "mono")))
        for role in Role.allCases {
            for color in [ansiOnly.style(role).fg, ansiOnly.style(role).bg].compactMap({ $0 }) {
                if case .rgb = color { Issue.record("\(role) uses truecolor in default") }
                if case .indexed = color { Issue.record("\(role) uses indexed colour in default") }
            }
            let style = mono.style(role)
            let explicit = style != role.fallback
            if explicit { #expect(style.fg == nil && style.bg == nil, "\(role)") }
        }
    }

    @Test("resolution: exact key, then the longest dotted prefix, then inherited, then the default")
    func resolution() throws {
        let parent = #"""
            name = "parent"
            [styles]
            "job" = "blue"
            "message.error" = "#ff0000"
            """#
        let loader = ThemeLoader(resolveInherited: { $0 == "parent" ? parent : nil })
        let theme = try loader.load(#"""
            name = "child"
            inherits = "parent"
            [palette]
            mint = "#00ffaa"
            [styles]
            "job.status" = "mint"
            "job.status.failed" = { fg = "red", bg = "default", modifiers = ["bold", "underline"] }
            """#)
        #expect(theme.style(.jobFailed) == Style(fg: .red, bg: .default, add: [.bold, .underline]))
        #expect(theme.style(.jobDone) == Style(fg: .rgb(0, 255, 170)))
        #expect(theme.style(.messageError) == Style(fg: .rgb(255, 0, 0)))
        #expect(theme.style(.paneBorderFocused) == Role.paneBorderFocused.fallback)
    }

    @Test("reduction to 256 and 16 colours, and NO_COLOR keeps only modifiers")
    func reduction() throws {
        let theme = try ThemeLoader().load(try #require(ThemeLoader.shippedTheme(named: "frost")))
        #expect(theme.reduced(to: .indexed256).style(.jobFailed).fg == .indexed(131))
        if case .ansi? = theme.reduced(to: .ansi16).style(.jobFailed).fg {} else { Issue.record("not reduced to ANSI") }
        let none = theme.reduced(to: .none)
        for role in Role.allCases {
            #expect(none.style(role).fg == nil && none.style(role).bg == nil, "\(role)")
        }
        #expect(none.style(.jobFailed).add.contains(.bold))
    }

    @Test("bad files name the line", arguments: [
        ("name = \"x\"\n[styles]\n\"pane.border\" = { fg = \"nope\" }\n", "line 3, column 1: \"pane.border\": unknown colour \"nope\" for fg"),
        ("name = \"x\"\ncolour = 1\n", "line 2, column 1: unknown key \"colour\" (known: inherits, monochrome, name, palette, styles, variant)"),
        ("name = \"x\"\n[styles]\n  \"pane.borders\" = \"red\"\n", "line 3, column 3: unknown role \"pane.borders\""),
        ("name = \"x\"\n[palette]\nsea = \"#12345\"\n", "line 3, column 1: palette colour \"sea\" must be #rrggbb or an ANSI name (got #12345)"),
        ("name = \"x\"\n[styles]\n\"ui.text\" = { modifiers = [\"blink\"] }\n", "line 3, column 1: \"ui.text\": unknown modifier \"blink\""),
        ("name = \"x\"\ninherits = \"nowhere\"\n", "line 2, column 1: cannot inherit from \"nowhere\": no such theme"),
        ("name = \"x\"\nmonochrome = 1\n", "line 2, column 1: monochrome must be true or false"),
    ])
    func badFiles(_ text: String, _ message: String) {
        do {
            _ = try ThemeLoader().load(text)
            Issue.record("accepted a bad theme")
        } catch {
            #expect(error.description.hasPrefix(message), "\(error.description)")
        }
    }

    @Test("broken TOML reports the parser's line and column")
    func brokenTOML() {
        do {
            _ = try ThemeLoader().load("name = \"x\"\n[styles\n")
            Issue.record("accepted broken TOML")
        } catch {
            #expect(error.line == 2)
            #expect(error.column != nil)
        }
    }
}
