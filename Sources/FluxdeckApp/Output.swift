import ArgumentParser
import BFL
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writing to stdout/stderr and failing with the project's exit codes.
public enum Output {
    /// Exit codes shared by every headless command.
    public enum Code: Int32, Sendable {
        case ok = 0
        case jobFailed = 1
        case usage = 2
        case apiRefused = 3
        case network = 4
    }

    public static func line(_ text: String) {
        print(text)
    }

    public static func error(_ text: String) {
        write(Array((text + "\n").utf8), to: STDERR_FILENO)
    }

    /// Writes to stderr without a newline (progress lines redrawn in place).
    public static func errorRaw(_ text: String) {
        write(Array(text.utf8), to: STDERR_FILENO)
    }

    /// Writes `bytes` to `descriptor` with write(2). A reader that went away (EPIPE: `| head`)
    /// or any other failure ends this write, never the process: the jobs go on and are saved.
    /// (Foundation's `FileHandle.write` traps on EPIPE, and SIGPIPE is ignored.)
    public static func write(_ bytes: [UInt8], to descriptor: Int32) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written > 0 {
                offset += written
            } else if written < 0, errno == EINTR {
                continue
            } else {
                return
            }
        }
    }

    /// Prints a value as one line of key-sorted JSON on stdout.
    public static func jsonLine(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Prints a value as pretty, key-sorted JSON on stdout.
    public static func json(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }
}

/// A failure that has already been explained on stderr in one line; it only carries the code.
public struct CommandFailure: Error, CustomStringConvertible {
    public var code: Output.Code
    public var message: String
    public var description: String { message }

    public init(code: Output.Code, message: String) {
        self.code = code
        self.message = message
    }
}

extension CommandFailure {
    public static func usage(_ message: String) -> CommandFailure { CommandFailure(code: .usage, message: message) }
}

/// Runs a command body: a `CommandFailure` prints its line and exits with its code.
public func runReportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as CommandFailure {
        Output.error("fluxdeck: " + TerminalText.sanitize(failure.message))
        throw ExitCode(failure.code.rawValue)
    }
}
