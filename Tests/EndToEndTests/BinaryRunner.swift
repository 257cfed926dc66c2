import Foundation

/// Runs the built `fluxdeck` binary and captures what it prints.
struct BinaryRunner {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The binary beside the test bundle (SwiftPM puts products and tests in one folder), or
    /// the path in FLUXDECK_BINARY.
    static func binaryURL() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["FLUXDECK_BINARY"] {
            return URL(fileURLWithPath: path)
        }
        var directory = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("fluxdeck")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
            directory = directory.deletingLastPathComponent()
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "fluxdeck binary not found near \(Bundle.main.bundleURL.path)"])
    }

    /// What a child must not inherit from whoever runs the tests: a real key or endpoint, the
    /// runner's XDG folders (a test names its own), and the binary override.
    static let notInherited = ["BFL_API_KEY", "BFL_API_ENDPOINT", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME",
                               "XDG_CACHE_HOME", "FLUXDECK_BINARY"]

    /// The environment a run sees: this process's, without `notInherited`, plus `environment`.
    static func environment(_ environment: [String: String]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for name in notInherited { env.removeValue(forKey: name) }
        for (key, value) in environment { env[key] = value }
        return env
    }

    /// Starts the binary without waiting for it; its outputs go to /dev/null.
    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess.start(try binaryURL().path, arguments, environment: Self.environment(environment))
    }

    /// Runs the binary to completion, killing it after `deadline` (the outcome then says so).
    static func run(_ arguments: [String], environment: [String: String] = [:],
                    deadline: Duration = .seconds(90)) async throws -> Outcome {
        let outcome = try await ChildProcess.run(try binaryURL().path, arguments, environment: Self.environment(environment),
                                                 deadline: deadline)
        return Outcome(status: outcome.status, stdout: outcome.stdout, stderr: outcome.stderr)
    }
}
