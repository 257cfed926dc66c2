public import Studio
public import StudioRuntime
import BFL
import Foundation
import Jobs
public import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import BaseDirectories

/// A log file for the studio (nothing may be printed while curses owns the terminal):
/// `$XDG_STATE_HOME/fluxdeck/fluxdeck.log`, default `~/.local/state`. It is kept under 5 MB by
/// moving it to `fluxdeck.log.1` when it grows past that at start. Lines are stripped of
/// control characters; requests, and so the key, are never logged.
public final class LogFile: Sendable {
    public static let rotateAt = 5 * 1_048_576
    /// Opened for appending: every line is one write(2) at the end of the file, so studios and
    /// commands writing at once (another terminal) never overwrite or split each other's lines.
    private let descriptor: Mutex<Int32>
    public let path: String

    public static func defaultPath(environment: [String: String]) -> String {
        BaseDirectory.state.path("fluxdeck.log", environment: environment)
    }

    /// Opens (creating) the file; a file that cannot be opened leaves logging off, silently:
    /// the studio works without it.
    public init(path: String) {
        self.path = path
        let manager = FileManager.default
        try? PrivateFiles.makeFolder((path as NSString).deletingLastPathComponent)
        if let size = (try? manager.attributesOfItem(atPath: path)[.size]) as? Int, size > Self.rotateAt {
            try? manager.removeItem(atPath: path + ".1")
            try? manager.moveItem(atPath: path, toPath: path + ".1")
        }
        // The log names prompts and jobs: the owner's alone.
        try? PrivateFiles.makeFile(path)
        PrivateFiles.restrict(path + ".1")
        descriptor = Mutex(open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW))
    }

    /// Appends `line` and a line end in one write.
    public func write(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        }
    }

    public func close() {
        descriptor.withLock { fd in
            if fd >= 0 { Glibc.close(fd) }
            fd = -1
        }
    }
}

/// swift-log's handler for `LogFile`: one line per message: ISO time, pid, level, label,
/// message, metadata.
public struct FileLogHandler: LogHandler {
    public let file: LogFile
    public let label: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    public init(file: LogFile, label: String) {
        self.file = file
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.keys.sorted().map { "\($0)=\(merged[$0].map { "\($0)" } ?? "")" }.joined(separator: " ")
        let time = Date().formatted(.iso8601)
        let text = TerminalText.sanitize("\(event.message)")
        // The pid tells apart the lines of fluxdecks writing the same log at once.
        file.write("\(time) \(getpid()) \(event.level) [\(label)] \(text)\(fields.isEmpty ? "" : " " + TerminalText.sanitize(fields))")
    }
}

/// What the studio writes to its log, from the actions that reach it: job transitions (once
/// per phase), failures and notices.
public final class StudioLogger: Sendable {
    private let logger: Logger
    private let phases = Mutex<[String: JobPhase]>([:])

    public init(file: LogFile) {
        logger = Logger(label: "studio") { label in FileLogHandler(file: file, label: label) }
    }

    public func info(_ text: String) { logger.info("\(text)") }

    public func observe(_ action: Action) {
        switch action {
        case .jobUpdated(let job):
            let changed = phases.withLock { phases in
                defer { phases[job.id] = job.phase }
                return phases[job.id] != job.phase
            }
            guard changed else { return }
            var metadata: Logger.Metadata = ["job": "\(job.shortID)", "model": "\(job.model)", "phase": "\(job.phase.rawValue)"]
            if let cost = job.chargedCredits { metadata["credits"] = "\(cost)" }
            if let path = job.outputPath, job.phase == .done { metadata["file"] = "\(path)" }
            if let error = job.errorMessage, job.phase != .done {
                logger.warning("job \(job.shortID) \(job.phase.rawValue): \(error)", metadata: metadata)
            } else {
                logger.info("job \(job.shortID) \(job.phase.rawValue)", metadata: metadata)
            }
        case .submitFailed(let text):
            logger.error("\(text)")
        case .effectFailed(let what, let reason):
            logger.error("could not \(what): \(reason)")
        case .notice(let text, let isError):
            if isError { logger.warning("\(text)") } else { logger.info("\(text)") }
        case .outputDeleted(let id, let problem):
            if let problem { logger.error("delete \(id.prefix(8)): \(problem)") } else { logger.info("deleted the image of \(id.prefix(8))") }
        case .referenceInspected(let slot, let path, _, let problem):
            if let problem { logger.warning("reference \(slot + 1) \(path): \(problem)") }
        default:
            break
        }
    }
}

/// Hands lines said before the studio's inbox exists (or from another thread) to the studio as
/// notices, once it is attached; earlier ones are only in the log.
public final class NoticeRelay: Sendable {
    private let inbox = Mutex<Inbox?>(nil)

    public init() {}

    public func attach(_ inbox: Inbox) {
        self.inbox.withLock { $0 = inbox }
    }

    public func push(_ line: String) {
        inbox.withLock { $0 }?.push(.notice(TerminalText.sanitize(line), isError: false))
    }
}
