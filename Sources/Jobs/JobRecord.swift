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

    /// Nothing more will happen to the job without the user.
    public var isFinal: Bool {
        switch self {
        case .done, .failed, .moderated, .expired, .unknown, .cancelled, .timedOut, .abandoned: true
        case .queued, .submitting, .pending, .running, .downloading: false
        }
    }

    /// Phases that `resume` picks up after a restart.
    public static let resumable: [JobPhase] = [.queued, .submitting, .pending, .running, .downloading, .timedOut]
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

    public init(id: String, createdAt: Date, model: String, endpoint: String, prompt: String, requestJSON: String,
                estimatedCredits: Credits, fileExtension: String, groupID: String?) {
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

/// What the engine has learned about a model's service time.
struct ModelStat: Sendable, Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "model_stat"
    var model: String
    var meanSeconds: Double
    var samples: Int
}
