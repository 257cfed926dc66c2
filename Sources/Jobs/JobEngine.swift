public import BFL
public import Foundation

/// Elapsed time and sleeping, from any clock (tests pass a manual one).
public struct Stopwatch: Sendable {
    public let now: @Sendable () -> Duration
    public let sleep: @Sendable (Duration) async throws -> Void

    public init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        now = { origin.duration(to: clock.now) }
        sleep = { duration in try await clock.sleep(until: clock.now.advanced(by: duration), tolerance: nil) }
    }
}

/// How the engine behaves.
public struct EngineConfiguration: Sendable {
    /// Active tasks per account.
    public var accountLimit = 24
    /// Per-model limits overriding the catalog's (`flux-kontext-max`: 6).
    public var modelLimits: [String: Int] = [:]
    /// A job still unfinished this long after its submission is marked timed out.
    public var deadline: Duration = .seconds(300)
    public var cadence = PollCadence()
    /// Poll at this fixed interval instead (the plain loops benchmarks compare against).
    public var fixedPollInterval: Duration?
    /// How often a running engine looks at the ledger for other runners' jobs (to show them)
    /// and, every `RunnerRecord.heartbeatInterval`, writes its heartbeat and adopts the jobs
    /// of runners that are gone.
    public var ledgerWatchInterval: Duration = .seconds(1)
    /// Progress events per job at most this often (lifecycle events are never dropped).
    public var progressInterval: Duration = .milliseconds(100)
    /// Backoff for a submission answered 429 without `Retry-After`.
    public var rateLimitBackoff: Duration = .seconds(2)
    /// The longest a rate-limited job waits before it is sent again, whatever `Retry-After`
    /// says (a huge one would leave it silent for an hour).
    public var rateLimitWaitCap: Duration = .seconds(60)
    /// What the ledger records as the endpoint ("global", "eu", "us" or a URL).
    public var endpointLabel: String
    /// Webhook mode: tasks are sent with this URL and secret (never written to the ledger), and
    /// a job waits for its webhook, then confirms it with one poll. Without a webhook by the
    /// model's 95th-percentile time plus `webhookMargin`, it is polled as usual.
    public var webhook: (url: String, secret: String)?
    public var webhookMargin: Duration = .seconds(2)
    /// Where a deleted image and its sidecar go (the freedesktop Trash); nil deletes for good.
    public var trash: Trash?

    public init(endpointLabel: String) { self.endpointLabel = endpointLabel }

    /// Active tasks allowed at once for `model`: its own limit, else the catalog's, else the
    /// account's.
    public func limit(for model: String) -> Int {
        modelLimits[model] ?? Catalog.model(id: model)?.concurrencyLimit ?? accountLimit
    }
}

/// A generation to run: one image.
public struct JobRequest: Sendable {
    public var model: Model
    public var parameters: GenerationParameters
    public var groupID: String?
    /// The region to submit to, when the engine talks to the BFL regions (ignored for a custom
    /// endpoint such as a proxy or the simulator).
    public var region: Region?

    public init(model: Model, parameters: GenerationParameters, groupID: String? = nil, region: Region? = nil) {
        self.model = model
        self.parameters = parameters
        self.groupID = groupID
        self.region = region
    }
}

/// What the engine tells its listeners.
public enum JobEvent: Sendable {
    /// A job was added or changed phase (never dropped).
    case updated(JobRecord)
    /// Generation progress, 0…1 (coalesced per job).
    case progress(jobID: String, progress: Double)
    /// A job that another fluxdeck process follows, as the ledger shows it now (with that
    /// process's pid when it is known). Nothing that could send it again may be offered.
    case elsewhere(JobRecord, ownerPID: Int32?)
}

/// All the engine holds for one job it follows. Only the engine's own code changes it.
struct FollowedJob {
    /// The job as last recorded.
    var record: JobRecord
    /// Its lifecycle while it is unfinished (its phase and 404 count).
    var lifecycle: JobLifecycle?
    /// The task that submits, polls and downloads it.
    var task: Task<Void, Never>?
    /// A rate-limited job's wait before it is queued again.
    var retryTimer: Task<Void, Never>?
    /// When its last progress event went out (they are coalesced).
    var lastProgress: Duration?
    /// Its submit answer had no `polling_url` (webhook mode): its webhook's body is the answer;
    /// the rebuilt URL is polled only when no webhook comes (it may 404).
    var webhookOnly = false
    /// Callers of `wait(for:until:)` waiting on it.
    var waiters: [Waiter] = []

    init(record: JobRecord) { self.record = record }

    /// Stops its task and its retry wait (the ledger keeps its phase).
    mutating func stopWork() {
        task?.cancel()
        task = nil
        retryTimer?.cancel()
        retryTimer = nil
    }

    struct Waiter {
        var token: UUID
        /// The job as it was when the wait began (what a cancelled wait returns at worst).
        var initial: JobRecord
        var until: @Sendable (JobPhase) -> Bool
        var continuation: CheckedContinuation<JobRecord, Never>
    }
}

/// The shared service layer: a local queue in front of an admission gate, and the jobs it
/// follows. This file is the coordinator: the public API, admission and the bookkeeping every
/// step goes through (`transition`, `record`, `finish`). The duties are in their own files:
/// `EngineRunners.swift` (heartbeats, adoption, resume), `EngineTransfer.swift` (submit, poll,
/// download), `EngineWebhooks.swift` (webhook waits) and `ClusterSearch.swift` (finding a task
/// that came without a polling URL). What moves a job is `JobLifecycle`'s table.
public actor JobEngine {
    public let store: JobStore
    public let library: OutputLibrary
    public nonisolated let configuration: EngineConfiguration
    /// This engine's entry in the ledger's runner table: every job it follows names it.
    public nonisolated let runner: RunnerRecord
    let client: BFLClient
    let stopwatch: Stopwatch
    let wallClock: @Sendable () -> Date

    /// Lifecycle and progress events, for one consumer.
    public nonisolated let events: AsyncStream<JobEvent>
    let emitter: AsyncStream<JobEvent>.Continuation

    /// Jobs waiting for a slot, in order.
    var queue: [String] = []
    /// Every job this run follows or has followed, with all it holds: the one place a job's
    /// state lives in the engine.
    var followed: [String: FollowedJob] = [:]
    /// Webhook calls and the jobs waiting for them, by task id.
    var webhooks = WebhookMailbox()
    /// Where a task that came without a polling URL is looked for.
    var clusters = ClusterSearch()
    /// The slots jobs hold under the account's and each model's limits.
    var gate: AdmissionGate
    var isShutDown = false
    /// False once the process is stopping (`stopAdmitting`): queued jobs stay queued in the
    /// ledger for the next run, and no new POST leaves.
    var admitting = true
    /// Heartbeats, adoption and watching other runners (see `startRunnerDuties`).
    var duties = RunnerDuties()

    /// `runner` defaults to this process, registered in the ledger at once (tests pass
    /// stand-ins for other processes).
    public init(client: BFLClient, store: JobStore, library: OutputLibrary, configuration: EngineConfiguration,
                stopwatch: Stopwatch = Stopwatch(ContinuousClock()), wallClock: @escaping @Sendable () -> Date = { Date() },
                runner: RunnerRecord? = nil) {
        self.client = client
        self.store = store
        self.library = library
        self.configuration = configuration
        self.stopwatch = stopwatch
        self.wallClock = wallClock
        self.runner = runner ?? RunnerRecord.current(now: wallClock())
        gate = AdmissionGate(accountLimit: configuration.accountLimit)
        (events, emitter) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
        try? store.register(self.runner)
    }

    /// The job as last recorded, when this run follows (or followed) it.
    func live(_ id: String) -> JobRecord? { followed[id]?.record }

    // MARK: public API

    /// Validates every request, writes them all to the ledger as queued, and starts what the
    /// limits allow. Nothing is written when any request is invalid.
    @discardableResult
    public func enqueue(_ requests: [JobRequest]) throws -> [JobRecord] {
        var records: [JobRecord] = []
        var details: [String: String] = [:]
        for request in requests {
            let prepared = try request.parameters.prepare(for: request.model)
            let body = String(decoding: try prepared.jsonBody(), as: UTF8.self)
            let format = request.parameters.outputFormat ?? request.model.defaultOutputFormat
            var record = JobRecord(
                id: UUID().uuidString.lowercased(), createdAt: wallClock(), model: request.model.id,
                endpoint: endpointLabel(for: request.region), prompt: request.parameters.prompt ?? "", requestJSON: body,
                estimatedCredits: prepared.estimate.credits, fileExtension: format.fileExtension,
                groupID: request.groupID, outputDirectory: library.directory.path, ownerID: runner.id)
            // The region it goes to, where the endpoint has regions (BFL's, a proxy's, the simulator's).
            record.region = client.region(for: request.region)?.rawValue
            // The saved images it is made from: its family.
            record.parents = Lineage.parents(of: request.parameters, store: store)
            // What validation changed or warned about (a snapped size) stays in the job's history.
            if !prepared.warnings.isEmpty { details[record.id] = prepared.warnings.map(\.message).joined(separator: "; ") }
            records.append(record)
        }
        prepareOutputFolder()
        try admit(records, details: details)
        return records
    }

    /// Writes new jobs to the ledger as queued, then queues them and starts what the limits allow.
    private func admit(_ records: [JobRecord], details: [String: String] = [:]) throws {
        try store.insert(records, details: details)
        for record in records {
            followed[record.id] = FollowedJob(record: record)
            queue.append(record.id)
            emitter.yield(.updated(record))
        }
        pump()
    }

    /// The destination folder is made when jobs are made (the user chose it now); at save time
    /// a missing folder is an error, never silently made again elsewhere.
    func prepareOutputFolder() {
        try? FileManager.default.createDirectory(at: library.directory, withIntermediateDirectories: true)
    }

    /// Waits until every job named is final (or meets `until`), and returns them.
    public func wait(for ids: [String], until: @escaping @Sendable (JobPhase) -> Bool = { $0.isFinal }) async -> [JobRecord] {
        var results: [JobRecord] = []
        for id in ids {
            if let job = live(id) {
                if until(job.phase) || job.phase.isFinal || isShutDown { results.append(job); continue }
                if Task.isCancelled { results.append(job); continue }
                let token = UUID()
                results.append(await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let waiter = FollowedJob.Waiter(token: token, initial: job, until: until, continuation: continuation)
                        if followed[id] != nil { followed[id]?.waiters.append(waiter) } else { continuation.resume(returning: job) }
                    }
                } onCancel: {
                    Task { await self.stopWaiting(token, for: id) }
                })
            } else if let job = try? store.job(id: id) {
                results.append(job)
            }
        }
        return results
    }

    /// A cancelled waiter hears the job's current state at once.
    private func stopWaiting(_ token: UUID, for id: String) {
        guard let index = followed[id]?.waiters.firstIndex(where: { $0.token == token }),
              let waiter = followed[id]?.waiters.remove(at: index) else { return }
        waiter.continuation.resume(returning: live(id) ?? waiter.initial)
    }

    /// Cancels a job that has not been sent yet. Returns false when it was already sent.
    @discardableResult
    public func cancel(_ id: String) throws -> Bool {
        guard var job = live(id), job.phase == .queued, let index = queue.firstIndex(of: id) else { return false }
        guard transition(&job, .cancelled) == .finish else { return false }
        queue.remove(at: index)
        job.finishedAt = wallClock()
        try finish(job, detail: "cancelled before sending")
        return true
    }

    /// The ledger's endpoint label for a job sent to `region`: the region when this engine talks
    /// to the BFL regions, else the engine's own label.
    private func endpointLabel(for region: Region?) -> String {
        guard let region, Region(rawValue: configuration.endpointLabel) != nil else { return configuration.endpointLabel }
        return region.rawValue
    }

    /// Jobs this engine may poll: its own endpoint's, and any region's when it talks to the
    /// regions (one key serves them all).
    func isOurs(_ label: String) -> Bool {
        label == configuration.endpointLabel
            || (Region(rawValue: configuration.endpointLabel) != nil && Region(rawValue: label) != nil)
    }

    /// Gives up a job that was sent: it is no longer polled or saved, its slot is freed, and it
    /// is recorded as abandoned (BFL may still charge for it). Returns false for jobs that are
    /// not in flight (queued jobs are cancelled instead).
    @discardableResult
    public func abandon(_ id: String) throws -> Bool {
        guard var job = live(id), transition(&job, .abandoned) == .finish else { return false }
        followed[id]?.stopWork()
        job.errorMessage = "abandoned after it was sent; BFL may still charge for it"
        job.finishedAt = wallClock()
        try finish(job, detail: "abandoned by the user")
        return true
    }

    /// How a job is run again.
    public enum RerunSeed: Sendable {
        /// The seed the job ran with (the same picture, for a finished job).
        case same
        /// A new random seed.
        case new
    }

    /// Queues a new job with the body of an earlier one, with the same or a new seed. The body
    /// is the one recorded in the ledger, so a retry sends exactly what was sent before.
    public func rerun(_ id: String, seed: RerunSeed) throws -> JobRecord? {
        guard let old = try live(id) ?? store.job(id: id), let model = Catalog.model(id: old.model) else { return nil }
        var request: RecordedRequest
        do { request = try RecordedRequest(json: old.requestJSON) } catch {
            throw EngineError(message: "the recorded request of \(old.shortID) cannot be read (\(error.message))")
        }
        switch seed {
        case .same: if let used = old.seed { request.seed = used }
        case .new: request.seed = nil
        }
        let json = try request.json()
        let now = wallClock()
        let record = JobRecord(
            id: UUID().uuidString.lowercased(), createdAt: now, model: model.id, endpoint: isOurs(old.endpoint) ? old.endpoint : configuration.endpointLabel,
            prompt: old.prompt, requestJSON: json, estimatedCredits: old.estimate,
            fileExtension: old.fileExtension, groupID: old.groupID, outputDirectory: library.directory.path, ownerID: runner.id)
        prepareOutputFolder()
        try admit([record])
        return record
    }

    /// Deletes a finished job's image and sidecar; the ledger keeps the job without them.
    /// Returns false when the job is not in the ledger.
    @discardableResult
    public func deleteOutput(_ id: String) throws -> Bool {
        guard var job = try live(id) ?? store.job(id: id) else { return false }
        try library.delete(image: job.outputPath, sidecar: job.sidecarPath, trash: configuration.trash)
        job.outputPath = nil
        job.sidecarPath = nil
        if followed[id] != nil { followed[id]?.record = job }
        try store.save(job, detail: configuration.trash == nil ? "image deleted by the user" : "image moved to the Trash by the user")
        return true
    }

    /// Stops all work. Jobs in flight keep their phase in the ledger for `resume`.
    public func shutdown() {
        isShutDown = true
        duties.stop()
        // Jobs still in flight are free for the next runner at once.
        try? store.unregister(runnerID: runner.id)
        for id in followed.keys {
            followed[id]?.stopWork()
            // Whoever still waits hears the phase the job stopped in.
            let waiters = followed[id]?.waiters ?? []
            followed[id]?.waiters = []
            for waiter in waiters { waiter.continuation.resume(returning: live(id) ?? waiter.initial) }
        }
        emitter.finish()
    }

    /// The first step of a graceful stop (a signal, the studio's quit): no job is admitted from
    /// now on, so no new POST leaves; what is queued stays queued in the ledger for the next run
    /// (`jobs resume`). Jobs already sent go on until `shutdown`.
    public func stopAdmitting() {
        admitting = false
    }

    /// The jobs whose POST is out and not yet answered (their task id is not known yet).
    public var sending: [String] {
        followed.values.filter { $0.record.phase == .submitting }.map(\.record.id)
    }

    /// Waits until every POST already sent has its answer recorded (the job has a task id, or
    /// has ended), or `limit` has passed: a stop that waits this long loses no paid task. Returns
    /// how many were still unanswered (they become `unknown` on the next resume, never resent).
    public func waitForSending(upTo limit: Duration) async -> Int {
        let ids = sending
        guard !ids.isEmpty else { return 0 }
        let stopwatch = self.stopwatch
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await self.wait(for: ids, until: { $0 != .submitting }) }
            group.addTask {
                // A deadline, not a wait for work: cancelled when the answers come first.
                try? await stopwatch.sleep(limit)
            }
            _ = await group.next()
            group.cancelAll()
        }
        return sending.count
    }

    /// The most jobs that held slots at once, in all and per model (for tests and benchmarks).
    public var peakActive: (total: Int, byModel: [String: Int]) { (gate.highWater, gate.highWaterByModel) }

    // MARK: admission

    func pump() {
        guard admitting else { return }
        queue.removeAll { followed[$0] == nil }
        let waiting = queue.compactMap { id in live(id).map { (id: id, model: $0.model) } }
        let admitted = gate.admit(waiting, limit: configuration.limit(for:))
        guard !admitted.isEmpty else { return }
        let started = Set(admitted)
        queue.removeAll { started.contains($0) }
        for id in admitted { start(id, resumed: false) }
    }

    func acquire(_ job: JobRecord) {
        gate.acquire(job.id, model: job.model)
    }

    func release(_ job: JobRecord) {
        gate.release(job.id, model: job.model)
    }

    /// Moves `job` by `event` from the phase the engine knows it in now (which a user's
    /// abandon may have changed while this task waited), through the lifecycle's table.
    func transition(_ job: inout JobRecord, _ event: LifecycleEvent) -> LifecycleStep {
        let known = live(job.id)?.phase
        var lifecycle = followed[job.id]?.lifecycle ?? JobLifecycle(phase: known ?? job.phase)
        if let known, known != lifecycle.phase { lifecycle = JobLifecycle(phase: known) }
        let step = lifecycle.handle(event)
        guard step != .ignore else { return .ignore }
        if followed[job.id] != nil { followed[job.id]?.lifecycle = lifecycle.phase.isFinal ? nil : lifecycle }
        job.phase = lifecycle.phase
        return step
    }

    /// Starts the task that carries `id` through submit, poll and download.
    func start(_ id: String, resumed: Bool) {
        followed[id]?.task = Task { await self.run(id, resumed: resumed) }
    }

    // MARK: bookkeeping

    /// Ends `job` by `event` (nil: it has already moved to its failed phase) with an error;
    /// false when the event no longer applies (the job ended meanwhile).
    func fail(_ job: inout JobRecord, _ event: LifecycleEvent?, kind: JobErrorKind, message: String) -> Bool {
        if let event, transition(&job, event) != .finish { return false }
        job.errorKind = kind
        job.errorMessage = message
        job.finishedAt = job.finishedAt ?? wallClock()
        return true
    }

    /// Saves a transition and tells listeners. Listeners and waiters hear of it even when the
    /// ledger cannot be written (the error still propagates, so a POST is never sent unrecorded).
    func record(_ job: JobRecord, detail: String? = nil) throws {
        var job = job
        job.updatedAt = wallClock()
        do {
            try store.save(job, detail: detail)
        } catch let error where error.isLostOwnership {
            letGo(job.id)
            throw OwnershipLost()
        } catch {
            announce(job)
            throw error
        }
        announce(job)
    }

    /// Makes a transition known to listeners and waiters.
    private func announce(_ job: JobRecord) {
        followed[job.id, default: FollowedJob(record: job)].record = job
        emitter.yield(.updated(job))
        guard let pending = followed[job.id]?.waiters, !pending.isEmpty else { return }
        let (ready, waiting) = pending.partitioned { $0.until(job.phase) || job.phase.isFinal }
        followed[job.id]?.waiters = waiting
        for waiter in ready { waiter.continuation.resume(returning: job) }
    }

    /// Stops following a job that another runner took over: its slot is freed, waiters hear
    /// the ledger's state, listeners an `.elsewhere` event.
    func letGo(_ id: String) {
        guard var gone = followed.removeValue(forKey: id) else { return }
        let job = gone.record
        gone.stopWork()
        queue.removeAll { $0 == id }
        release(job)
        let current = (try? store.job(id: id)) ?? job
        let pid = current.ownerID.flatMap { owner in (try? runnersByID())?[owner]?.pid }
        emitter.yield(.elsewhere(current, ownerPID: pid))
        for waiter in gone.waiters { waiter.continuation.resume(returning: current) }
        pump()
    }

    /// Saves a final job, frees its slots, wakes waiters and admits the next.
    func finish(_ job: JobRecord, detail: String?) throws {
        defer {
            release(job)
            followed[job.id]?.lastProgress = nil
            slotFreed()
        }
        try record(job, detail: detail)
    }

    /// One of this run's jobs gave its slot back: rate-limited jobs are sent again now rather
    /// than at the end of their wait, then the queue moves.
    func slotFreed() {
        for (id, job) in followed where job.retryTimer != nil {
            followed[id]?.retryTimer?.cancel()
            requeue(id)
        }
        pump()
    }

    /// A progress event, at most every `progressInterval` per job (the last one always).
    func emitProgress(_ id: String, _ progress: Double) {
        let now = stopwatch.now()
        if let last = followed[id]?.lastProgress, now - last < configuration.progressInterval, progress < 1 { return }
        followed[id]?.lastProgress = now
        emitter.yield(.progress(jobID: id, progress: progress))
    }
}

extension Array {
    /// The elements that match, and those that do not, in order.
    func partitioned(_ matches: (Element) -> Bool) -> ([Element], [Element]) {
        var yes: [Element] = []
        var no: [Element] = []
        for element in self { if matches(element) { yes.append(element) } else { no.append(element) } }
        return (yes, no)
    }
}

/// Another runner took the job over; this one stops following it.
struct OwnershipLost: Error {}

/// A problem the engine explains in one sentence.
public struct EngineError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
