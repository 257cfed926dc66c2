import Foundation
import TerminalCore
import Testing
import Theme

@Suite("Theme catalog")
struct ThemeCatalogTests {
    /// The repository's `themes/` folder, found from this file.
    static let themesFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("themes")

    func userFolder(_ files: [String: String]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-themes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return folder
    }

    @Test("the themes built into the binary are exactly the files in themes/")
    func embeddedMatchesFolder() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.themesFolder.path).filter { $0.hasSuffix(".toml") }.sorted()
        #expect(ThemeLoader.shippedNames == files.map { String($0.dropLast(5)) })
        for file in files {
            let onDisk = try String(contentsOf: Self.themesFolder.appendingPathComponent(file), encoding: .utf8)
            #expect(ThemeLoader.shippedTheme(named: String(file.dropLast(5))) == onDisk, "\(file)")
        }
    }

    @Test("a user theme replaces the shipped one of its name and may inherit it; others inherit the user's")
    func userOverrides() throws {
        let folder = try userFolder([
            "default.toml": "name = \"my default\"\ninherits = \"default\"\n[styles]\n\"pane.border\" = \"red\"\n",
            "child.toml": "name = \"child\"\ninherits = \"default\"\n[styles]\n\"pane.title\" = \"green\"\n",
            ".hidden.toml": "not a theme",
            "notes.txt": "not a theme either",
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let catalog = ThemeCatalog(userDirectory: folder.path)
        #expect(catalog.entries().map(\.name) == ["child", "default", "frost", "mono", "paper"])
        #expect(catalog.entries().first { $0.name == "default" }?.overridesShipped == true)

        let shipped = try ThemeLoader().load(try #require(ThemeLoader.shippedTheme(named: "default")))
        let (mine, origin) = try catalog.load("default")
        #expect(mine.name == "my default")
        #expect(origin == .user(path: folder.appendingPathComponent("default.toml").path))
        #expect(mine.style(.paneBorder).fg == .red)
        #expect(mine.style(.paneTitle) == shipped.style(.paneTitle))

        // child → the user's default → the shipped default.
        let child = try catalog.load("child").theme
        #expect(child.style(.paneTitle).fg == .green)
        #expect(child.style(.paneBorder).fg == .red)
        #expect(child.style(.statusBar) == shipped.style(.statusBar))
    }

    @Test("a path loads a file; errors name the file and line; unknown names list what exists")
    func errors() throws {
        let folder = try userFolder([
            "broken.toml": "name = \"broken\"\n[styles]\n\"no.such.role\" = \"red\"\n",
            "a.toml": "name = \"a\"\ninherits = \"b\"\n",
            "b.toml": "name = \"b\"\ninherits = \"a\"\n",
            "bad-parent.toml": "name = \"bp\"\ninherits = \"broken\"\n",
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let catalog = ThemeCatalog(userDirectory: folder.path)
        let path = folder.appendingPathComponent("broken.toml").path
        for reference in ["broken", path] {
            let error = try #require(throws: ThemeError.self) { try catalog.load(reference) }
            #expect(error.file == path && error.line == 3, "\(error)")
            #expect("\(error)" == "\(path):3:1: unknown role \"no.such.role\"")
        }
        let inherited = try #require(throws: ThemeError.self) { try catalog.load("bad-parent") }
        #expect(inherited.file == "theme broken" && inherited.line == 3, "\(inherited)")
        let unknown = try #require(throws: ThemeError.self) { try catalog.load("nope") }
        #expect(unknown.message.contains("no theme \"nope\"") && unknown.message.contains("frost"))
        // a → b → a: the second a is not the user's (it is on the chain) and none is shipped.
        let loop = try #require(throws: ThemeError.self) { try catalog.load("a") }
        #expect(loop.message.contains("cannot inherit from \"a\""), "\(loop)")
        let missing = try #require(throws: ThemeError.self) { try catalog.load("/nonexistent/x.toml") }
        #expect(missing.message.hasPrefix("cannot read /nonexistent/x.toml"))
        // No user folder at all: the shipped themes.
        #expect(ThemeCatalog(userDirectory: folder.appendingPathComponent("absent").path).entries().map(\.name) == ThemeLoader.shippedNames)
    }
}
