import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A binary copied somewhere else, alone, as `Install` in the README does it.
@Suite("The binary alone", .timeLimit(.minutes(2)))
struct LoneBinaryTests {
    static let hasTmux = FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")

    /// The binary under test, copied into an empty folder of a sandbox (no resource bundle, no
    /// build folder beside it).
    func lone(_ sandbox: Sandbox) throws -> String {
        let folder = sandbox.root.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let copy = folder.appendingPathComponent("fluxdeck")
        // Written through a close-on-exec descriptor: a child that another test spawns at the
        // same moment must not inherit it open for writing (exec would fail, "text file busy").
        let bytes = try Data(contentsOf: try BinaryRunner.binaryURL())
        let descriptor = open(copy.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
        #expect(descriptor >= 0)
        let written = bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
            return offset
        }
        close(descriptor)
        #expect(written == bytes.count)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["fluxdeck"])
        return copy.path
    }

    @Test("themes, check-theme and help work with nothing beside the binary; a user theme replaces a shipped one")
    func headless() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let binary = try lone(sandbox)
        var environment = BinaryRunner.environment(sandbox.environment)
        environment["XDG_CONFIG_HOME"] = sandbox.root.appendingPathComponent("config").path
        for arguments in [["check-theme", "--help"], ["--help"], ["themes", "--help"]] {
            let help = try await ChildProcess.run(binary, arguments, environment: environment, deadline: .seconds(30))
            #expect(help.status == 0, "\(arguments): \(help.stderr)")
        }
        let checked = try await ChildProcess.run(binary, ["check-theme", "frost"], environment: environment, deadline: .seconds(30))
        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(checked.stdout.contains("frost: ok, theme \"frost\" (dark, shipped)"), "\(checked.stdout)")

        let themes = sandbox.root.appendingPathComponent("config/fluxdeck/themes")
        try FileManager.default.createDirectory(at: themes, withIntermediateDirectories: true)
        try Data("name = \"my frost\"\ninherits = \"frost\"\n[styles]\n\"pane.border\" = \"red\"\n".utf8)
            .write(to: themes.appendingPathComponent("frost.toml"))
        let listed = try await ChildProcess.run(binary, ["themes"], environment: environment, deadline: .seconds(30))
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("frost.toml (replaces the shipped one)"), "\(listed.stdout)")
        #expect(listed.stdout.contains("paper        shipped  light"), "\(listed.stdout)")
        let mine = try await ChildProcess.run(binary, ["check-theme", "frost"], environment: environment, deadline: .seconds(30))
        #expect(mine.stdout.contains("ok, theme \"my frost\""), "\(mine.stdout)")
    }

    @Test("the studio starts from the lone binary with a shipped theme", .enabled(if: hasTmux))
    func studio() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let binary = try lone(sandbox)
        let studio = try await StudioRig.start(["--theme", "paper"], in: sandbox.root, environment: sandbox.environment, binary: binary)
        defer { studio.stop() }
        #expect(await studio.frame(containing: "frame 120x40 jobs=0 ") != nil)
        let screen = try await studio.screen()
        #expect(screen.contains("SIMULATOR"), "\(screen)")
    }
}
