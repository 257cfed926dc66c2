import Foundation
import Testing

/// `[keys]` in config.toml, through the real studio in tmux.
@Suite("Remapped keys", .timeLimit(.minutes(2)))
struct KeysConfigTests {
    static let hasTmux = FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")

    @Test("[keys] moves help to F2 and quit to Ctrl-X: the status bar says so and the keys work", .enabled(if: hasTmux))
    func remapped() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let config = sandbox.root.appendingPathComponent("config.toml")
        try Data("[keys]\nhelp = \"f2\"\nquit = [\"ctrl-x\"]\n".utf8).write(to: config)
        let studio = try await StudioRig.start(["--simulator", "--config", config.path], in: sandbox.root, environment: sandbox.environment)
        defer { studio.stop() }
        #expect(await studio.frame(containing: "frame 120x40 jobs=0 ") != nil)
        let bar = try await studio.screen().split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? ""
        #expect(bar.contains("F2 help") && bar.contains("Ctrl-X quit"), "\(bar)")
        try await studio.keys("F2")
        #expect(try await studio.screen(showing: "╭ Help"))
        try await studio.keys("Escape")
        // Ctrl-Q no longer quits (nothing happens); Ctrl-X does.
        try await studio.keys("C-q")
        try await studio.keys("C-x")
        #expect(await studio.frame(containing: "stopped") != nil)
        let after = try await studio.exited()
        #expect(after.contains("exit=0"), "\(after)")
    }

    @Test("a bad [keys] entry stops the studio before it starts, naming the line")
    func refused() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let config = sandbox.root.appendingPathComponent("config.toml")
        try Data("model = \"flux-2-pro\"\n[keys]\nquit = \"hyper-q\"\n".utf8).write(to: config)
        let outcome = try await BinaryRunner.run(["--simulator", "--config", config.path], environment: sandbox.environment)
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("config.toml: line 3"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("unknown key \"hyper-q\""), "\(outcome.stderr)")
    }
}
