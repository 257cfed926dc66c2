public import BFL

/// What can happen to a job, as the engine sees it.
public enum LifecycleEvent: Sendable, Hashable {
    /// The POST is about to leave (it is saved as `submitting` first).
    case sending
    /// BFL accepted it: a task id and a polling URL.
    case accepted
    /// 429: it goes back to the queue and waits.
    case rateLimited
    /// The POST was answered with a refusal (auth, credits, validation), or surely never left
    /// (the connection failed before the body was sent).
    case submitFailed
    /// The POST may have reached BFL; nothing tells whether it did.
    case outcomeUnknown
    /// A poll answered with a status.
    case polled(PollStatus)
    /// A poll failed in a way that may pass (network, 5xx, a malformed body): poll again.
    case pollTrouble
    /// A poll was refused for good (auth).
    case pollRefused
    /// The polling host does not know the task (404).
    case notFound
    /// The job has been followed longer than the engine's deadline.
    case deadlinePassed
    /// The image and sidecar are on disk.
    case saved
    /// The result URL expired before the image was fetched.
    case resultExpired
    /// The destination folder could not take the file (full disk, read-only, gone).
    case saveFailed
    /// The download failed (network, a refused URL, Ready without an image URL).
    case downloadFailed
    /// The user cancelled it before it was sent.
    case cancelled
    /// The user gave it up after it was sent.
    case abandoned
    /// The user asked for a failed save to be fetched again.
    case retrySave
    /// A resume found it `submitting`: the run that sent it died mid-POST.
    case resumedWhileSending
    /// Something on this machine failed while working on it (the ledger could not be written,
    /// the model is unknown to this version).
    case failedHere

    /// What a poll said, reduced to what decides the next phase.
    public enum PollStatus: Sendable, Hashable {
        case pending, generating, ready, error, moderated, taskNotFound
        /// A status this version does not know: keep polling.
        case unknown
    }
}

/// How what the transfer heard (a poll's status, an error) becomes an event: the other half of
/// the lifecycle's table, so every way a job can move is written down in this file.
extension LifecycleEvent {
    /// A failed POST: the event and, where it ends the job, the kind of error. A 429 requeues;
    /// a POST that may have reached BFL is never sent again.
    public static func submitFailure(_ error: BFLError) -> (event: LifecycleEvent, kind: JobErrorKind) {
        switch error {
        case .rateLimited: (.rateLimited, .apiRefused)
        case .submitOutcomeUnknown: (.outcomeUnknown, .unknownOutcome)
        case .network: (.submitFailed, .network)
        default: (.submitFailed, .apiRefused)
        }
    }

    /// A failed poll: a 404 counts towards the not-found limit, what may pass is polled again,
    /// a refusal ends the job.
    public static func pollFailure(_ error: BFLError) -> LifecycleEvent {
        switch error {
        case .notFound: .notFound
        case .network, .serverError, .malformedResponse, .unexpectedStatus: .pollTrouble
        default: .pollRefused
        }
    }

    /// A failed download: an expired URL cannot be fetched again, a folder that cannot take the
    /// file keeps the paid result for a later save, a refused URL is never fetched.
    public static func downloadFailure(_ error: BFLError) -> (event: LifecycleEvent, kind: JobErrorKind) {
        switch error {
        case .resultExpired: (.resultExpired, .expired)
        case .fileSystem: (.saveFailed, .local)
        case .refusedURL: (.downloadFailed, .apiRefused)
        default: (.downloadFailed, .network)
        }
    }
}

extension LifecycleEvent.PollStatus {
    /// A task status as the lifecycle sees it (Reasoning is generating; a status this version
    /// does not know keeps the job polling).
    public init(_ status: TaskStatus) {
        switch status {
        case .pending: self = .pending
        case .generating, .reasoning: self = .generating
        case .ready: self = .ready
        case .error: self = .error
        case .requestModerated, .contentModerated: self = .moderated
        case .taskNotFound: self = .taskNotFound
        case .unknown: self = .unknown
        }
    }
}

/// What the engine does after an event.
public enum LifecycleStep: Sendable, Hashable {
    /// The event does not apply to the job as it is now (a late poll answer for a job the user
    /// abandoned, a save for a job already ended): change nothing and stop working on it.
    case ignore
    /// Save the new phase, then go on.
    case record
    /// Nothing to save: go on as before (the next poll).
    case carryOn
    /// Queue it again after a wait (rate limited).
    case requeue
    /// Fetch the image.
    case download
    /// Save the final phase, free its slot and wake whoever waits: the job has ended.
    case finish
}

/// The life of one job as a pure state machine: phase × event → next phase and step. The
/// engine (an actor) only carries out the steps; every phase it saves comes from here.
/// Events that make no sense in a phase are ignored, so a race (an abandon while a poll is in
/// flight, a second save) cannot move a job backwards.
public struct JobLifecycle: Sendable, Hashable {
    public private(set) var phase: JobPhase
    /// 404s from the polling host in a row: the first ones right after a submit may be
    /// propagation; `notFoundLimit` in a row are not.
    public private(set) var notFoundInARow = 0
    public static let notFoundLimit = 3

    public init(phase: JobPhase) {
        self.phase = phase
    }

    /// Phases whose job is being polled.
    static let polling: Set<JobPhase> = [.pending, .running, .timedOut, .failed, .unknown]
    /// Phases a user may abandon (the job was, or may have been, sent and is followed).
    static let inFlight: Set<JobPhase> = [.submitting, .pending, .running, .downloading]

    public mutating func handle(_ event: LifecycleEvent) -> LifecycleStep {
        guard let (next, step) = Self.transition(from: phase, event, notFoundInARow: notFoundInARow) else { return .ignore }
        switch event {
        case .notFound: notFoundInARow += 1
        case .polled: notFoundInARow = 0
        default: break
        }
        phase = next
        return step
    }

    /// The table. Nil: the event does not apply in `phase`.
    static func transition(from phase: JobPhase, _ event: LifecycleEvent, notFoundInARow: Int) -> (JobPhase, LifecycleStep)? {
        switch (phase, event) {
        case (.queued, .sending): (.submitting, .record)
        case (.queued, .cancelled): (.cancelled, .finish)
        case (.submitting, .accepted): (.pending, .record)
        case (.submitting, .rateLimited): (.queued, .requeue)
        case (.submitting, .submitFailed): (.failed, .finish)
        case (.submitting, .outcomeUnknown), (.submitting, .resumedWhileSending): (.unknown, .finish)

        case (let current, .polled(let status)) where polling.contains(current):
            switch status {
            case .pending: (.pending, current == .pending ? .carryOn : .record)
            case .generating: (.running, current == .running ? .carryOn : .record)
            case .unknown: (current, .carryOn)
            case .ready: (.downloading, .download)
            case .error, .taskNotFound: (.failed, .finish)
            case .moderated: (.moderated, .finish)
            }
        case (let current, .pollTrouble) where polling.contains(current): (current, .carryOn)
        case (let current, .notFound) where polling.contains(current):
            notFoundInARow + 1 >= JobLifecycle.notFoundLimit ? (.failed, .finish) : (current, .carryOn)
        case (let current, .pollRefused) where polling.contains(current): (.failed, .finish)
        case (let current, .deadlinePassed) where polling.contains(current): (.timedOut, .finish)

        case (.downloading, .saved): (.done, .finish)
        case (.downloading, .resultExpired): (.expired, .finish)
        case (.downloading, .saveFailed): (.saveFailed, .finish)
        case (.downloading, .downloadFailed): (.failed, .finish)
        // A resumed download without a result URL polls for one.
        case (.downloading, .polled(let status)):
            switch status {
            case .ready: (.downloading, .download)
            case .pending, .generating, .unknown: (.downloading, .carryOn)
            case .error, .taskNotFound: (.failed, .finish)
            case .moderated: (.moderated, .finish)
            }
        case (.downloading, .pollTrouble): (.downloading, .carryOn)
        case (.downloading, .notFound):
            notFoundInARow + 1 >= JobLifecycle.notFoundLimit ? (.failed, .finish) : (.downloading, .carryOn)
        case (.downloading, .pollRefused): (.failed, .finish)
        case (.downloading, .deadlinePassed): (.timedOut, .finish)

        case (.saveFailed, .retrySave): (.downloading, .record)
        // A timed-out job is still out there: a run that cannot follow it any more gives it up.
        case (let current, .abandoned) where inFlight.contains(current) || current == .timedOut: (.abandoned, .finish)
        case (let current, .failedHere) where !current.isFinal: (.failed, .finish)
        default: nil
        }
    }
}

/// The account's and each model's concurrency limits as a value: which queued jobs may start
/// now, and the slots they hold until they are released (a task counts against BFL's limit
/// from its POST until it is Ready).
public struct AdmissionGate: Sendable, Hashable {
    public let accountLimit: Int
    public private(set) var active = 0
    public private(set) var activeByModel: [String: Int] = [:]
    public private(set) var holders: Set<String> = []
    /// The most slots held at once, in all and per model (benchmarks and tests read them).
    public private(set) var highWater = 0
    public private(set) var highWaterByModel: [String: Int] = [:]

    public init(accountLimit: Int) {
        self.accountLimit = accountLimit
    }

    /// The jobs of `queue` (in order; each with its model) that may start now under the limits,
    /// each taking its slot; the others keep their order.
    public mutating func admit(_ queue: [(id: String, model: String)], limit: (String) -> Int) -> [String] {
        var admitted: [String] = []
        for job in queue where active < accountLimit && activeByModel[job.model, default: 0] < limit(job.model) {
            acquire(job.id, model: job.model)
            admitted.append(job.id)
        }
        return admitted
    }

    /// Takes a slot for a job that starts outside the queue (a resumed one); nothing when it
    /// holds one already.
    public mutating func acquire(_ id: String, model: String) {
        guard holders.insert(id).inserted else { return }
        active += 1
        activeByModel[model, default: 0] += 1
        highWater = max(highWater, active)
        highWaterByModel[model] = max(highWaterByModel[model] ?? 0, activeByModel[model] ?? 0)
    }

    /// Frees a job's slot; nothing when it holds none.
    public mutating func release(_ id: String, model: String) {
        guard holders.remove(id) != nil else { return }
        active -= 1
        activeByModel[model, default: 1] -= 1
    }
}
