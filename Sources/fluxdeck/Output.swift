import ArgumentParser
import BFL
import Foundation

/// Writing to stdout/stderr and failing with the project's exit codes.
enum Output {
    /// Exit codes shared by every headless command.
    enum Code: Int32 {
        case ok = 0
        case jobFailed = 1
        case usage = 2
        case apiRefused = 3
        case network = 4
    }

    static func line(_ text: String) {
        print(text)
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Writes to stderr without a newline (progress lines redrawn in place).
    static func errorRaw(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Prints a value as one line of key-sorted JSON on stdout.
    static func jsonLine(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Prints a value as pretty, key-sorted JSON on stdout.
    static func json(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }
}

/// A failure that has already been explained on stderr in one line; it only carries the code.
struct CommandFailure: Error, CustomStringConvertible {
    var code: Output.Code
    var message: String
    var description: String { message }
}

extension CommandFailure {
    static func usage(_ message: String) -> CommandFailure { CommandFailure(code: .usage, message: message) }
}

/// Runs a command body: a `CommandFailure` prints its line and exits with its code.
func runReportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as CommandFailure {
        Output.error("fluxdeck: " + TerminalText.sanitize(failure.message))
        throw ExitCode(failure.code.rawValue)
    }
}
