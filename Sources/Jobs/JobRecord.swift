public import BFL
public import Foundation
public import GRDB

/// Where a job is in its life.
public enum JobPhase: String, Sendable, Hashable, Codable, CaseIterable {
    /// Waiting locally for a free slot; nothing sent yet.
    case queued
    /// Written to the ledger; the POST is being sent.
    case submitting
    /// Accepted by BFL, not yet generating.
    case pending
    /// Generating (or reasoning), with progress.
    case running
    /// Ready; the image is being saved.
    case downloading
    /// The image and its sidecar are on disk.
    case done
    /// The generation failed, or the API refused the request.
    case failed
    /// Blocked by moderation (request or content).
    case moderated
    /// The result URL expired before the image was saved.
    case expired
    /// The POST may or may not have reached BFL; never resent automatically.
    case unknown
    /// Still unfinished at the deadline; `fluxdeck jobs resume` polls it again.
    case timedOut = "timed_out"
    /// Cancelled before it was sent.
    case cancelled
    /// Given up by the user after it was sent: no longer polled or saved; BFL may still have
    /// charged for it.
    case abandoned
    /// Generated and paid for, but the image could not be written here (full disk, a folder
    /// that is read-only or gone). `r` in the studio and `jobs resume` download it again while
    /// its URL is valid; nothing is sent to BFL again.
    case saveFailed = "save_failed"

    /// Nothing more will happen to the job without the user.
    public var isFinal: Bool {
        switch self {
        case .done, .failed, .moderated, .expired, .unknown, .cancelled, .timedOut, .abandoned, .saveFailed: true
        case .queued, .submitting, .pending, .running, .downloading: false
        }
    }

    /// Phases that `resume` picks up after a restart.
    public static let resumable: [JobPhase] = [.queued, .submitting, .pending, .running, .downloading, .timedOut, .saveFailed]

    /// Phases of jobs that some runner is still working on.
    public static let unfinished: [JobPhase] = [.queued, .submitting, .pending, .running, .downloading]
}

/// Why a job failed, for exit codes and messages.
public enum JobErrorKind: String, Sendable, Hashable, Codable {
    /// Auth, credits, or the server refused the parameters.
    case apiRefused = "api_refused"
    /// Connections failed after retries.
    case network
    /// The task ended in `Error` or was not found.
    case generation
    case moderation
    case expired
    case unknownOutcome = "unknown_outcome"
    case timeout
    /// The image could not be written.
    case local
}

/// One job as the ledger keeps it. Never holds the API key.
public struct JobRecord: Sendable, Hashable, Codable, Identifiable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "job"

    /// The job's columns, and its request from `job_request`, where it is kept apart.
    public static var databaseSelection: [any SQLSelectable] { selection(maxRequestBytes: nil) }

    /// The columns with the request, or with an empty one where it is over `maxRequestBytes`
    /// (left unread: lists of edits need not read their images).
    static func selection(maxRequestBytes: Int?) -> [any SQLSelectable] {
        let body = maxRequestBytes.map { "CASE WHEN bytes > \($0) THEN '' ELSE body END" } ?? "body"
        return [.allColumns(excluding: ["requestJSON"]),
                SQL(sql: "COALESCE((SELECT \(body) FROM job_request WHERE jobID = job.id), '') AS requestJSON")]
    }

    public var id: String
    public var createdAt: Date
    public var updatedAt: Date
    public var model: String
    /// "global", "eu", "us", or the custom endpoint URL.
    public var endpoint: String
    public var prompt: String
    /// The exact JSON body sent (or to be sent) to BFL.
    public var requestJSON: String
    /// The estimate in credits, as a decimal string.
    public var estimatedCredits: String
    public var phase: JobPhase
    /// The last status text BFL sent (kept verbatim for unknown statuses).
    public var serverStatus: String?
    public var progress: Double?
    public var taskID: String?
    public var pollingURL: String?
    public var submitCost: String?
    public var inputMP: Double?
    public var outputMP: Double?
    public var settledCost: String?
    public var seed: Int?
    /// The requested format's file extension.
    public var fileExtension: String
    public var outputPath: String?
    public var sidecarPath: String?
    public var errorKind: JobErrorKind?
    public var errorMessage: String?
    public var submittedAt: Date?
    public var finishedAt: Date?
    public var polls: Int
    /// Jobs made by one command (`--count`, a batch) share a group.
    public var groupID: String?
    /// The folder the image goes to, fixed when the job was made (nil in older ledgers: the
    /// folder of the run that saves it).
    public var outputDirectory: String?
    /// The runner (`RunnerRecord.id`) that follows this job; nil for jobs of older versions.
    public var ownerID: String?
    /// The signed URL of the result, once BFL said Ready (a failed save is retried from it).
    public var resultURL: String?
    /// The region the job was sent to (global, eu, us), when the endpoint has regions.
    public var region: String?
    /// The host that accepted the POST (a front door such as `api.eu.bfl.ai`), and after it
    /// the cluster host that holds the task, from its polling URL.
    public var apiHost: String?
    public var clusterHost: String?
    /// How its end was learned in this run: "webhook" or "polling" (nil: polled, before webhooks).
    public var followedBy: String?
    /// A rate-limited job (HTTP 429) is sent again at this time at the latest (sooner when one
    /// of this run's own jobs frees a slot); nil otherwise.
    public var retryAt: Date?
    /// Curation: a star, and tags (lowercase words), set by the user on saved images.
    public var starred: Bool = false
    public var tags: [String] = []
    /// The jobs whose saved images this one was made from (an edited image, a reference, the
    /// picture a mask repaints), oldest first; kept when a parent is deleted.
    public var parents: [String] = []

    public init(id: String, createdAt: Date, model: String, endpoint: String, prompt: String, requestJSON: String,
                estimatedCredits: Credits, fileExtension: String, groupID: String?, outputDirectory: String? = nil,
                ownerID: String? = nil) {
        self.outputDirectory = outputDirectory
        self.ownerID = ownerID
        self.id = id
        self.createdAt = createdAt
        self.updatedAt = createdAt
        self.model = model
        self.endpoint = endpoint
        self.prompt = prompt
        self.requestJSON = requestJSON
        self.estimatedCredits = estimatedCredits.description
        self.phase = .queued
        self.fileExtension = fileExtension
        self.polls = 0
        self.groupID = groupID
    }

    /// The credits actually charged: the settled cost, else the submit cost.
    public var chargedCredits: Credits? { Self.credits(settledCost ?? submitCost) }

    public var estimate: Credits { Self.credits(estimatedCredits) ?? .zero }

    /// Credits from the decimal text the ledger stores.
    static func credits(_ text: String?) -> Credits? {
        text.flatMap { Decimal(string: $0, locale: Locale(identifier: "en_US_POSIX")) }.map(Credits.init)
    }

    /// The first eight characters of the id, as shown to people.
    public var shortID: String { String(id.prefix(8)) }
}

/// One entry of a job's status history.
public struct JobEventRecord: Sendable, Hashable, Codable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "job_event"
    public var jobID: String
    public var at: Date
    public var phase: JobPhase
    public var detail: String?
}

/// A fluxdeck process that runs jobs, as the ledger knows it. Every unfinished job names its
/// runner; another process takes a job over only when its runner is gone: on this host, no
/// process with its pid and start time; on another, no heartbeat for `RunnerRecord.staleAfter`.
public struct RunnerRecord: Sendable, Hashable, Codable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "runner"
    public var id: String
    public var pid: Int32
    /// The process's start time (clock ticks since boot on Linux), so a reused pid is told apart.
    public var processStart: String
    public var host: String
    public var startedAt: Date
    public var heartbeatAt: Date

    /// How often a runner writes its heartbeat.
    public static let heartbeatInterval: Duration = .seconds(5)
    /// A runner silent this long is gone.
    public static let staleAfter: TimeInterval = 15

    public init(id: String, pid: Int32, processStart: String, host: String, startedAt: Date, heartbeatAt: Date) {
        self.id = id
        self.pid = pid
        self.processStart = processStart
        self.host = host
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
    }

    /// This process, as a new runner.
    public static func current(now: Date) -> RunnerRecord {
        let pid = getpid()
        return RunnerRecord(id: UUID().uuidString.lowercased(), pid: pid, processStart: ProcessStart.of(pid) ?? ProcessStart.unknown,
                            host: ProcessInfo.processInfo.hostName, startedAt: now, heartbeatAt: now)
    }

    /// Whether the runner has stopped. On this host the process decides: gone when no process
    /// has its pid and start time (a reused pid is another process), alive otherwise however old
    /// its heartbeat looks, so a wall clock that jumps (a laptop waking from sleep, an NTP step)
    /// never hands a live runner's paid jobs to another. Elsewhere (a ledger shared between
    /// hosts), or when its start time could not be read, the heartbeat decides: gone once it is
    /// `staleAfter` old.
    public func isGone(now: Date, localHost: String = ProcessInfo.processInfo.hostName) -> Bool {
        if host == localHost, processStart != ProcessStart.unknown {
            guard let start = ProcessStart.of(pid) else { return true }
            return start != processStart
        }
        return now.timeIntervalSince(heartbeatAt) > Self.staleAfter
    }
}

/// When a process started, to tell a live process from a later one that reuses its pid.
enum ProcessStart {
    /// Recorded when the start time could not be read: the heartbeat alone then decides.
    static let unknown = "?"

    /// Field 22 of `/proc/<pid>/stat` on Linux; elsewhere "alive" when the pid exists.
    static func of(_ pid: Int32) -> String? {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // After "pid (comm)": state is field 3, so start time (22) is the 20th.
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
        #else
        return kill(pid, 0) == 0 || errno == EPERM ? "alive" : nil
        #endif
    }
}

extension JobRecord {
    /// For a job whose region did not answer (the network failed, or the POST's outcome is
    /// unknown): the other regions of `available` it could be sent to instead; empty when that
    /// is not what went wrong. The CLI and the studio each word the advice in their own terms.
    public func otherRegions(among available: [Region]) -> [Region] {
        guard errorKind == .network || errorKind == .unknownOutcome,
              let name = region, let sent = Region(rawValue: name) else { return [] }
        return available.filter { $0 != sent }
    }
}
