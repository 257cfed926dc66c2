import Foundation
import Subprocess
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Opening files and copying text on this machine: `xdg-open` when it is installed, and the
/// first clipboard tool found (wl-copy, xclip, xsel), else the terminal's clipboard (OSC 52).
/// Helpers are started with swift-subprocess: their own process group (the terminal's Ctrl-C
/// is not theirs), no signal blocked, output discarded, and the environment without the key.
public struct DesktopSystem: StudioSystem {
    let environment: [String: String]
    /// How long a clipboard tool may take to take the text (they fork and exit at once; one
    /// that hangs is stopped and the next is tried).
    let helperLimit: Duration

    public init(environment: [String: String], helperLimit: Duration = .seconds(5)) {
        self.environment = environment
        self.helperLimit = helperLimit
    }

    public func open(path: String) async -> (text: String, isError: Bool) {
        guard FileManager.default.fileExists(atPath: path) else { return ("the file is gone: \(path)", true) }
        guard let opener = Self.find("xdg-open", in: environment) else {
            return ("no xdg-open on this machine; the file is \(path)", true)
        }
        // A viewer may stay in front for as long as it is open (xdg-open runs some in the
        // foreground): it is started, never waited for or stopped.
        guard await Self.start(opener, [path], environment: helperEnvironment) else { return ("xdg-open could not be started", true) }
        return ("opened \(URL(fileURLWithPath: path).lastPathComponent)", false)
    }

    public func copy(_ text: String) async -> (text: String, isError: Bool) {
        let tools: [(String, [String])] = [("wl-copy", []), ("xclip", ["-selection", "clipboard"]), ("xsel", ["--clipboard", "--input"])]
        let graphical = environment["WAYLAND_DISPLAY"] != nil || environment["DISPLAY"] != nil
        if graphical {
            for (name, arguments) in tools {
                guard let tool = Self.find(name, in: environment) else { continue }
                if case .exited(0) = await Self.launch(tool, arguments, input: Array(text.utf8), environment: helperEnvironment, limit: helperLimit) {
                    return ("copied the path (\(name))", false)
                }
            }
        }
        // OSC 52: the terminal (and tmux with set-clipboard) puts it on the clipboard.
        let sequence = "\u{1b}]52;c;\(Data(text.utf8).base64EncodedString())\u{07}"
        let tty = Glibc.open("/dev/tty", O_WRONLY | O_CLOEXEC)
        guard tty >= 0 else { return ("no clipboard here; the path is \(text)", true) }
        defer { close(tty) }
        _ = sequence.withCString { write(tty, $0, strlen($0)) }
        return ("copied the path (terminal clipboard)", false)
    }

    /// What helpers see: this environment without the API key (an image viewer has no use
    /// for it, and its children would inherit it).
    var helperEnvironment: [String: String] {
        environment.filter { $0.key != "BFL_API_KEY" }
    }

    static func find(_ name: String, in environment: [String: String]) -> String? {
        for directory in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// A pipe's reading end holding `bytes` (at most what a pipe holds without a reader, 64 KB
    /// on Linux: a path is far less), its writing end already closed; nil when it cannot be made.
    static func filledPipe(_ bytes: [UInt8]) -> FileDescriptor? {
        guard bytes.count <= 60_000 else { return nil }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return nil }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let written = bytes.withUnsafeBytes { raw in raw.isEmpty ? 0 : write(ends[1], raw.baseAddress, raw.count) }
        close(ends[1])
        guard written == bytes.count else {
            close(ends[0])
            return nil
        }
        return FileDescriptor(rawValue: ends[0])
    }

    /// Starts a helper that may outlive this call (a viewer): true once it runs. It is not
    /// waited for, stopped, or tied to the studio's tasks; a task of its own reaps it.
    static func start(_ path: String, _ arguments: [String], environment: [String: String]) async -> Bool {
        let variables = Dictionary(environment.map { (Environment.Key(stringLiteral: $0.key), $0.value) }, uniquingKeysWith: { $1 })
        return await withCheckedContinuation { continuation in
            let answer = Once { continuation.resume(returning: $0) }
            Task.detached {
                var options = PlatformOptions()
                options.processGroupID = 0
                do {
                    _ = try await Subprocess.run(
                        .path(FilePath(path)), arguments: Arguments(arguments), environment: .custom(variables),
                        platformOptions: options, input: .none, output: .discarded, error: .discarded
                    ) { _ in answer.give(true) }
                } catch {
                    answer.give(false)
                }
                answer.give(false)
            }
        }
    }

    /// An answer given once, whoever gives it first.
    final class Once: Sendable {
        private let given = Mutex(false)
        private let handler: @Sendable (Bool) -> Void

        init(_ handler: @escaping @Sendable (Bool) -> Void) {
            self.handler = handler
        }

        func give(_ value: Bool) {
            let first = given.withLock { given in
                defer { given = true }
                return !given
            }
            if first { handler(value) }
        }
    }

    enum Launch: Equatable {
        case failedToStart
        /// It exited with this code (a signal counts as 128 + its number).
        case exited(Int32)
        /// Still running at `helperLimit`: stopped.
        case tooSlow
    }

    /// Runs a helper to its exit (at most `limit`), `input` on its standard input (the
    /// clipboard tools read the text, fork to serve it, and exit).
    static func launch(_ path: String, _ arguments: [String], input: [UInt8]?, environment: [String: String], limit: Duration) async -> Launch {
        let variables = Dictionary(environment.map { (Environment.Key(stringLiteral: $0.key), $0.value) }, uniquingKeysWith: { $1 })
        // The text goes into a pipe before the helper starts and the pipe's writing end is
        // closed: a helper that exits without reading cannot make a write fail (swift-subprocess
        // 1.0.2 stops the process when its own input write fails).
        guard let stdin = filledPipe(input ?? []) else { return .failedToStart }
        return await within(limit, else: .tooSlow) {
            // Its own process group: the terminal's Ctrl-C is not the helper's.
            var options = PlatformOptions()
            options.processGroupID = 0
            do {
                let result = try await Subprocess.run(
                    .path(FilePath(path)), arguments: Arguments(arguments), environment: .custom(variables),
                    platformOptions: options, input: .fileDescriptor(stdin, closeAfterSpawningProcess: true),
                    output: .discarded, error: .discarded)
                switch result.terminationStatus {
                case .exited(let code): return .exited(code)
                case .signaled(let signal): return .exited(128 + signal)
                }
            } catch {
                return Task.isCancelled ? .tooSlow : .failedToStart
            }
        }
    }

    /// What `work` gives, or `fallback` when it has not finished by `limit` (it is then
    /// cancelled: a helper process is stopped).
    static func within<T: Sendable>(_ limit: Duration, else fallback: T, _ work: @escaping @Sendable () async -> T) async -> T {
        await withTaskGroup(of: T.self) { group in
            group.addTask { await work() }
            group.addTask {
                // A deadline for a helper, not a wait for work: cancelled when it ends first.
                try? await Task.sleep(for: limit)
                return fallback
            }
            let first = await group.next() ?? fallback
            group.cancelAll()
            return first
        }
    }

    /// What `tmux display-message -p FORMAT` prints for this client (nil when there is no
    /// tmux, it fails, or it takes longer than a second): how the studio learns about the
    /// terminal outside tmux, which answers queries itself.
    public static func tmuxFormat(_ format: String, environment: [String: String]) async -> String? {
        guard let tmux = find("tmux", in: environment) else { return nil }
        let variables = Dictionary(environment.map { (Environment.Key(stringLiteral: $0.key), $0.value) }, uniquingKeysWith: { $1 })
        return await within(.seconds(1), else: nil) {
            do {
                let result = try await Subprocess.run(
                    .path(FilePath(tmux)), arguments: ["display-message", "-p", format], environment: .custom(variables),
                    input: .none, output: .string(limit: 4096), error: .discarded)
                guard case .exited(0) = result.terminationStatus else { return nil }
                return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                return nil
            }
        }
    }
}
