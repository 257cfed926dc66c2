import Foundation
import Testing

/// TOML files that would crash the TOML library are refused with their line, through the binary.
@Suite("fluxdeck binary: hostile TOML files", .timeLimit(.minutes(2)))
struct HostileFileTests {
    @Test("check-theme and --config with a dotted key of 30,000 parts or arrays 10,000 deep: exit 2 naming the line, no crash")
    func deepFiles() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let dotted = sandbox.root.appendingPathComponent("dotted.toml")
        try Data(("name = \"x\"\n" + (0..<30_000).map { "k\($0)" }.joined(separator: ".") + " = 1\n").utf8).write(to: dotted)
        let nested = sandbox.root.appendingPathComponent("nested.toml")
        try Data(("a = " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "\n").utf8).write(to: nested)
        for (file, line) in [(dotted, 2), (nested, 1)] {
            let theme = try await BinaryRunner.run(["check-theme", file.path], environment: sandbox.environment)
            #expect(theme.status == 2, "\(theme.status) \(theme.stderr)")
            #expect(theme.stderr.contains("\(file.lastPathComponent):\(line):") && theme.stderr.contains("at most 32"), "\(theme.stderr)")
            let config = try await BinaryRunner.run(["credits", "--simulator", "--config", file.path], environment: sandbox.environment)
            #expect(config.status == 2, "\(config.status) \(config.stderr)")
            #expect(config.stderr.contains("line \(line)") && config.stderr.contains("at most 32"), "\(config.stderr)")
        }
    }
}
