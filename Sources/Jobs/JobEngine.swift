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
    /// What the ledger records as the endpoint ("global", "eu", "us" or a URL).
    public var endpointLabel: String
    /// Webhook mode: tasks are sent with this URL and secret (never written to the ledger), and
    /// a job waits for its webhook, then confirms it with one poll. Without a webhook by the
    /// model's 95th-percentile time plus `webhookMargin`, it is polled as usual.
    public var webhook: (url: String, secret: String)?
    public var webhookMargin: Duration = .seconds(2)

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

/// The shared service layer: a local queue in front of an admission gate, submissions,
/// adaptive polling, downloads, and the ledger written at every transition.
public actor JobEngine {
    public let store: JobStore
    public let library: OutputLibrary
    public nonisolated let configuration: EngineConfiguration
    /// This engine's entry in the ledger's runner table: every job it follows names it.
    public nonisolated let runner: RunnerRecord
    private let client: BFLClient
    private let stopwatch: Stopwatch
    private let wallClock: @Sendable () -> Date

    /// Lifecycle and progress events, for one consumer.
    public nonisolated let events: AsyncStream<JobEvent>
    private let emitter: AsyncStream<JobEvent>.Continuation

    private var queue: [String] = []
    private var live: [String: JobRecord] = [:]
    /// Jobs waiting for their webhook, by task id; and webhooks that came before their job waited.
    private var hintWaiters: [String: CheckedContinuation<WebhookEvent?, Never>] = [:]
    private var hinted: [String: WebhookEvent] = [:]
    /// Jobs whose submit answer had no `polling_url` (webhook mode): their webhook's body is
    /// the answer; the rebuilt URL is polled only when no webhook comes (it may 404).
    private var webhookOnly: Set<String> = []
    /// `learnedClusters(endpoint:)`, by endpoint.
    private var learnedClusterBases: [String: [URL]] = [:]
    private var tasks: [String: Task<Void, Never>] = [:]
    /// Rate-limited jobs waiting to be queued again.
    private var timers: [String: Task<Void, Never>] = [:]
    /// The slots jobs hold under the account's and each model's limits.
    private var gate: AdmissionGate
    private var lastProgress: [String: Duration] = [:]
    /// Each followed job's lifecycle (its phase and 404 count), by id.
    private var lifecycles: [String: JobLifecycle] = [:]
    private var waiters: [String: [Waiter]] = [:]

    private struct Waiter {
        var token: UUID
        /// The job as it was when the wait began (what a cancelled wait returns at worst).
        var initial: JobRecord
        var until: @Sendable (JobPhase) -> Bool
        var continuation: CheckedContinuation<JobRecord, Never>
    }
    private var isShutDown = false
    private var runnerLoop: Task<Void, Never>?
    private var adoptsOrphans = false
    private var watchesOthers = false
    /// Other runners' unfinished jobs last shown, by id, with the update time seen.
    private var foreignSeen: [String: Date] = [:]

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
            if let region = request.region, client.configuration.regions[region] != nil { record.region = region.rawValue }
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
            live[record.id] = record
            queue.append(record.id)
            emitter.yield(.updated(record))
        }
        pump()
    }

    /// The destination folder is made when jobs are made (the user chose it now); at save time
    /// a missing folder is an error, never silently made again elsewhere.
    private func prepareOutputFolder() {
        try? FileManager.default.createDirectory(at: library.directory, withIntermediateDirectories: true)
    }

    /// Picks up what runners that are gone left unfinished (an earlier run, a killed batch):
    /// queued jobs are submitted, jobs whose POST may have been sent become `unknown`, jobs
    /// whose image could not be saved are downloaded again, everything else is polled again.
    /// Jobs of a runner that is still alive (another fluxdeck beside this one) are left to it,
    /// and each job is claimed in the ledger first, so two runners never take the same one.
    /// Only jobs made against this engine's endpoint are picked up: polling URLs and keys of
    /// other endpoints are not this run's to use.
    @discardableResult
    public func resume() throws -> [JobRecord] {
        let runners = try runnersByID()
        let now = wallClock()
        let found = try store.resumableJobs(phases: JobPhase.resumable)
            .filter { isOurs($0.endpoint) && live[$0.id] == nil }
        var candidates: [JobRecord] = []
        for var job in found where try claimIfOrphaned(&job, runners: runners, now: now) {
            candidates.append(job)
        }
        for folder in Set(candidates.map { $0.outputDirectory ?? library.directory.path }) {
            // What killed writers left behind in the folders these jobs save to.
            AtomicFileWriter.removeLeftovers(in: URL(fileURLWithPath: folder))
        }
        for var job in candidates {
            switch job.phase {
            case .queued:
                live[job.id] = job
                queue.append(job.id)
            case .submitting:
                guard transition(&job, .resumedWhileSending) == .finish else { continue }
                job.errorKind = .unknownOutcome
                job.errorMessage = "fluxdeck stopped while sending this job; BFL may or may not have received it. It was not resent."
                job.finishedAt = wallClock()
                try finish(job, detail: "resumed: outcome of the POST unknown")
            case .saveFailed:
                try fetchAgain(job)
            default:
                fillPollingURL(&job)
                guard job.pollingURL != nil else { continue }
                job.errorKind = nil
                job.errorMessage = nil
                live[job.id] = job
                emitter.yield(.updated(job))
                acquire(job)
                start(job.id, resumed: true)
            }
        }
        for job in candidates where job.phase == .queued { emitter.yield(.updated(job)) }
        pump()
        try? store.pruneRunners(now: now, keeping: runner.id)
        return candidates
    }

    /// Downloads again the image of a job whose save failed, from the URL BFL gave (nothing is
    /// sent to BFL). False when the job is not such a job, or another runner follows it.
    @discardableResult
    public func retrySave(_ id: String) throws -> Bool {
        guard live[id].map({ $0.phase == .saveFailed }) ?? true, var job = try store.job(id: id), job.phase == .saveFailed,
              try claimIfOrphaned(&job, runners: runnersByID(), now: wallClock()) else { return false }
        return try fetchAgain(job)
    }

    /// Makes `job` this runner's when its runner is gone (or it has none), by a compare-and-set
    /// in the ledger; false when a live runner follows it or another runner claimed it first.
    private func claimIfOrphaned(_ job: inout JobRecord, runners: [String: RunnerRecord], now: Date) throws -> Bool {
        if let ownerID = job.ownerID, ownerID != runner.id, let owner = runners[ownerID], !owner.isGone(now: now) { return false }
        return try claim(&job)
    }

    private func claim(_ job: inout JobRecord) throws -> Bool {
        guard try store.claim(jobID: job.id, owner: runner.id, from: job.ownerID) else { return false }
        job.ownerID = runner.id
        return true
    }

    private func runnersByID() throws -> [String: RunnerRecord] {
        Dictionary(try store.runners().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// A job that only has its task id is polled through the endpoint's `get_result`.
    private func fillPollingURL(_ job: inout JobRecord) {
        if job.pollingURL == nil, let taskID = job.taskID { job.pollingURL = client.rebuiltPollingURL(taskID: taskID) }
    }

    /// Starts downloading a saved-failed job again: it is `downloading` from now on (so waiters
    /// wait for the outcome), from its result URL, or through a poll when it has none. False
    /// (nothing started) when there is neither.
    @discardableResult
    private func fetchAgain(_ original: JobRecord) throws -> Bool {
        var job = original
        fillPollingURL(&job)
        guard job.resultURL != nil || job.pollingURL != nil, transition(&job, .retrySave) == .record else { return false }
        job.errorKind = nil
        job.errorMessage = nil
        live[job.id] = job
        try record(job, detail: "downloading the image again")
        start(job.id, resumed: true)
        return true
    }

    // MARK: other runners

    /// Starts the runner's background duty: a heartbeat in the ledger every
    /// `RunnerRecord.heartbeatInterval`; with `adopt`, taking over the jobs of runners that
    /// are gone at the same pace; with `watchOthers`, `.elsewhere` events for other runners'
    /// jobs as the ledger changes (every `ledgerWatchInterval`). Stopped by `shutdown()`.
    /// Duties only ever widen: a later call can turn adoption or watching on, never off.
    public func startRunnerDuties(adopt: Bool, watchOthers: Bool) {
        adoptsOrphans = adoptsOrphans || adopt
        watchesOthers = watchesOthers || watchOthers
        guard runnerLoop == nil, !isShutDown else { return }
        let interval = max(configuration.ledgerWatchInterval, .milliseconds(100))
        let beatEvery = max(1, Int((RunnerRecord.heartbeatInterval / interval).rounded()))
        runnerLoop = Task { [weak self] in
            var tick = 0
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { return }
                tick += 1
                guard let self else { return }
                await self.runnerTick(heartbeat: tick % beatEvery == 0)
            }
        }
    }

    private func runnerTick(heartbeat: Bool) {
        guard !isShutDown else { return }
        if heartbeat {
            try? store.heartbeat(runnerID: runner.id, at: wallClock())
            if adoptsOrphans { _ = try? resume() }
        }
        if watchesOthers { try? watchOtherRunners() }
    }

    /// Tells listeners about other runners' jobs that changed since the last look.
    public func watchOtherRunners() throws {
        let pids = try runnersByID().mapValues(\.pid)
        let unfinished = try store.jobs(phases: JobPhase.unfinished).filter { live[$0.id] == nil && $0.ownerID != runner.id }
        var seen: [String: Date] = [:]
        for job in unfinished {
            seen[job.id] = job.updatedAt
            if foreignSeen[job.id] != job.updatedAt {
                emitter.yield(.elsewhere(job, ownerPID: job.ownerID.flatMap { pids[$0] }))
            }
        }
        // Jobs that left the unfinished phases there: show how they ended.
        for id in foreignSeen.keys where seen[id] == nil && live[id] == nil {
            if let job = try store.job(id: id) { emitter.yield(.elsewhere(job, ownerPID: job.ownerID.flatMap { pids[$0] })) }
        }
        foreignSeen = seen
    }

    /// Waits until every job named is final (or meets `until`), and returns them.
    public func wait(for ids: [String], until: @escaping @Sendable (JobPhase) -> Bool = { $0.isFinal }) async -> [JobRecord] {
        var results: [JobRecord] = []
        for id in ids {
            if let job = live[id] {
                if until(job.phase) || job.phase.isFinal || isShutDown { results.append(job); continue }
                if Task.isCancelled { results.append(job); continue }
                let token = UUID()
                results.append(await withTaskCancellationHandler {
                    await withCheckedContinuation { waiters[id, default: []].append(Waiter(token: token, initial: job, until: until, continuation: $0)) }
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
        guard let index = waiters[id]?.firstIndex(where: { $0.token == token }), let waiter = waiters[id]?.remove(at: index) else { return }
        if waiters[id]?.isEmpty == true { waiters[id] = nil }
        waiter.continuation.resume(returning: live[id] ?? waiter.initial)
    }

    /// Cancels a job that has not been sent yet. Returns false when it was already sent.
    @discardableResult
    public func cancel(_ id: String) throws -> Bool {
        guard var job = live[id], job.phase == .queued, let index = queue.firstIndex(of: id) else { return false }
        guard transition(&job, .cancelled) == .finish else { return false }
        queue.remove(at: index)
        job.finishedAt = wallClock()
        try finish(job, detail: "cancelled before sending")
        return true
    }

    /// Ends the unfinished jobs of endpoints that cannot answer any more (the built-in simulator
    /// of a run that has stopped): sent jobs whose endpoint label `isGone` says so become
    /// abandoned with `reason`; jobs never sent stay queued. Returns how many were ended.
    @discardableResult
    public func retireSentJobs(where isGone: @Sendable (String) -> Bool, reason: String) throws -> Int {
        let orphans = try store.jobs(phases: [.submitting, .pending, .running, .downloading, .timedOut])
            .filter { live[$0.id] == nil && isGone($0.endpoint) }
        for var job in orphans {
            var lifecycle = JobLifecycle(phase: job.phase)
            guard lifecycle.handle(.abandoned) == .finish else { continue }
            job.phase = lifecycle.phase
            job.errorMessage = reason
            job.finishedAt = wallClock()
            job.updatedAt = wallClock()
            try store.save(job, detail: "retired: \(reason)")
        }
        return orphans.count
    }

    /// The ledger's endpoint label for a job sent to `region`: the region when this engine talks
    /// to the BFL regions, else the engine's own label.
    private func endpointLabel(for region: Region?) -> String {
        guard let region, Region(rawValue: configuration.endpointLabel) != nil else { return configuration.endpointLabel }
        return region.rawValue
    }

    /// Jobs this engine may poll: its own endpoint's, and any region's when it talks to the
    /// regions (one key serves them all).
    private func isOurs(_ label: String) -> Bool {
        label == configuration.endpointLabel
            || (Region(rawValue: configuration.endpointLabel) != nil && Region(rawValue: label) != nil)
    }

    /// Gives up a job that was sent: it is no longer polled or saved, its slot is freed, and it
    /// is recorded as abandoned (BFL may still charge for it). Returns false for jobs that are
    /// not in flight (queued jobs are cancelled instead).
    @discardableResult
    public func abandon(_ id: String) throws -> Bool {
        guard var job = live[id], transition(&job, .abandoned) == .finish else { return false }
        tasks.removeValue(forKey: id)?.cancel()
        timers.removeValue(forKey: id)?.cancel()
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
        guard let old = try live[id] ?? store.job(id: id), let model = Catalog.model(id: old.model) else { return nil }
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
        guard var job = try live[id] ?? store.job(id: id) else { return false }
        try library.delete(image: job.outputPath, sidecar: job.sidecarPath)
        job.outputPath = nil
        job.sidecarPath = nil
        if live[id] != nil { live[id] = job }
        try store.save(job, detail: "image deleted by the user")
        return true
    }

    /// Stops all work. Jobs in flight keep their phase in the ledger for `resume`.
    public func shutdown() {
        isShutDown = true
        runnerLoop?.cancel()
        runnerLoop = nil
        // Jobs still in flight are free for the next runner at once.
        try? store.unregister(runnerID: runner.id)
        for task in tasks.values { task.cancel() }
        for timer in timers.values { timer.cancel() }
        tasks.removeAll()
        timers.removeAll()
        // Whoever still waits hears the phase the job stopped in.
        for (id, pending) in waiters {
            for waiter in pending { waiter.continuation.resume(returning: live[id] ?? waiter.initial) }
        }
        waiters.removeAll()
        emitter.finish()
    }

    /// The most jobs that held slots at once, in all and per model (for tests and benchmarks).
    public var peakActive: (total: Int, byModel: [String: Int]) { (gate.highWater, gate.highWaterByModel) }

    // MARK: admission

    private func pump() {
        queue.removeAll { live[$0] == nil }
        let waiting = queue.compactMap { id in live[id].map { (id: id, model: $0.model) } }
        let admitted = gate.admit(waiting, limit: configuration.limit(for:))
        guard !admitted.isEmpty else { return }
        let started = Set(admitted)
        queue.removeAll { started.contains($0) }
        for id in admitted { start(id, resumed: false) }
    }

    private func acquire(_ job: JobRecord) {
        gate.acquire(job.id, model: job.model)
    }

    private func release(_ job: JobRecord) {
        gate.release(job.id, model: job.model)
    }

    /// Moves `job` by `event` from the phase the engine knows it in now (which a user's
    /// abandon may have changed while this task waited), through the lifecycle's table.
    private func transition(_ job: inout JobRecord, _ event: LifecycleEvent) -> LifecycleStep {
        var lifecycle = lifecycles[job.id] ?? JobLifecycle(phase: live[job.id]?.phase ?? job.phase)
        if let current = live[job.id]?.phase, current != lifecycle.phase { lifecycle = JobLifecycle(phase: current) }
        let step = lifecycle.handle(event)
        guard step != .ignore else { return .ignore }
        lifecycles[job.id] = lifecycle.phase.isFinal ? nil : lifecycle
        job.phase = lifecycle.phase
        return step
    }

    private func start(_ id: String, resumed: Bool) {
        tasks[id] = Task { await self.run(id, resumed: resumed) }
    }

    // MARK: one job

    private func run(_ id: String, resumed: Bool) async {
        do {
            guard var job = live[id] else { return }
            // Ready before: fetch from the URL BFL gave (a job without one is polled again, and
            // BFL answers Ready with it).
            if job.phase == .downloading, let url = job.resultURL, job.outputPath == nil {
                try await download(job, sample: url)
                tasks[id] = nil
                return
            }
            if job.phase == .queued {
                guard let submitted = try await submit(job) else { return }
                job = submitted
            }
            try await poll(job, resumed: resumed)
        } catch is CancellationError {
            // Shut down: the ledger keeps the phase for resume.
        } catch is OwnershipLost {
            // Another runner follows the job now; it was let go in `record`.
        } catch {
            if var job = live[id], fail(&job, .failedHere, kind: .local, message: "\(error)") {
                try? finish(job, detail: nil)
            }
        }
        tasks[id] = nil
    }

    /// Sends the POST. Returns the accepted job, or nil when it was requeued or finished.
    private func submit(_ original: JobRecord) async throws -> JobRecord? {
        var job = original
        guard let model = Catalog.model(id: job.model) else {
            if fail(&job, .failedHere, kind: .apiRefused, message: "unknown model \(job.model)") { try finish(job, detail: nil) }
            return nil
        }
        guard transition(&job, .sending) == .record else { return nil }
        try record(job)  // written before the POST leaves
        do {
            let region = job.region.flatMap(Region.init(rawValue:)) ?? Region(rawValue: job.endpoint)
            job.apiHost = Self.authority(of: client.frontDoor(for: region))
            var body = Array(job.requestJSON.utf8)
            if let webhook = configuration.webhook { body = Self.adding(webhook, to: body) }
            let reply = try await client.submit(path: model.path, body: body, region: region)
            // Abandoned while the POST was out: it stays abandoned.
            guard transition(&job, .accepted) == .record else { return nil }
            job.taskID = reply.id
            if configuration.webhook != nil, reply.pollingURL == nil { webhookOnly.insert(job.id) }
            job.pollingURL = reply.pollingURL ?? client.rebuiltPollingURL(taskID: reply.id)
            // The cluster is known only from a polling URL BFL gave (a rebuilt one names the front door).
            job.clusterHost = reply.pollingURL.flatMap(URL.init(string:)).flatMap(Self.authority(of:))
            if let url = reply.pollingURL { learnCluster(from: url, endpoint: job.endpoint) }
            job.submitCost = reply.cost?.description
            job.inputMP = reply.inputMP
            job.outputMP = reply.outputMP
            job.submittedAt = wallClock()
            try record(job)
            return job
        } catch BFLError.rateLimited(let retryAfter) {
            guard transition(&job, .rateLimited) == .requeue else { return nil }
            try record(job, detail: "rate limited (HTTP 429); queued again")
            release(job)
            let delay = retryAfter ?? configuration.rateLimitBackoff
            timers[job.id] = Task {
                guard (try? await self.stopwatch.sleep(delay)) != nil else { return }
                self.requeue(job.id)
            }
            pump()
            return nil
        } catch let error as BFLError {
            let (event, kind) = LifecycleEvent.submitFailure(error)
            let message = switch kind {
            case .unknownOutcome: error.message + " " + error.hint + regionAdvice(job)
            case .network: error.message + regionAdvice(job)
            default: error.message
            }
            if kind == .unknownOutcome {
                // Not failed: it may have run (and be charged). It keeps no end time of its own.
                guard transition(&job, event) == .finish else { return nil }
                job.errorKind = kind
                job.errorMessage = message
            } else {
                guard fail(&job, event, kind: kind, message: message) else { return nil }
            }
            try finish(job, detail: nil)
            return nil
        }
    }

    private func requeue(_ id: String) {
        timers[id] = nil
        guard let job = live[id], job.phase == .queued, !queue.contains(id) else { return }
        queue.insert(id, at: 0)
        pump()
    }

    /// Polls until the task ends, then saves the image.
    private func poll(_ original: JobRecord, resumed: Bool) async throws {
        var job = original
        guard var pollingURL = job.pollingURL else { return }
        // A job with only its task id (a webhook submission's answer names no polling URL) is
        // polled on the front door, which may not know it: then it is looked for on the
        // cluster hosts.
        var located = !webhookOnly.contains(job.id) && job.taskID.map { pollingURL != client.rebuiltPollingURL(taskID: $0) } ?? true
        let started = stopwatch.now()
        let cadence = configuration.cadence
        // What this endpoint has taught about the model (a simulator or proxy learns apart from BFL).
        let timingKey = Self.timingKey(job.endpoint)
        var timing = (try? store.timing(endpoint: timingKey, model: job.model))
            ?? LearnedTiming(typical: Catalog.model(id: job.model)?.typicalDuration ?? .seconds(10))
        var readings: [PollCadence.Reading] = []
        var pollsPastExpected = 0
        var delay = resumed ? Duration.zero : configuration.fixedPollInterval ?? cadence.firstDelay(timing)
        var fromWebhook: PollResponse?
        if configuration.webhook != nil, !resumed, let taskID = job.taskID {
            // Webhook mode: wait for the call (it is only a hint: one poll confirms it), or
            // past the model's slow end, then poll as usual.
            let slow = timing.high + configuration.webhookMargin
            let event = await waitForWebhook(taskID, upTo: slow)
            job.followedBy = event != nil ? "webhook" : "polling"
            try record(job)
            delay = .zero
            if let event, webhookOnly.contains(job.id) {
                // No polling URL to confirm with: the call's body is the answer (its sample URL
                // passes the same checks as a poll's on the way to the download).
                fromWebhook = Self.answer(from: event)
            }
        }
        defer {
            webhookOnly.remove(job.id)
            if let taskID = job.taskID { hinted[taskID] = nil }
        }
        var warnedStatus: String?
        while true {
            if delay > .zero { try await stopwatch.sleep(delay) } else { try Task.checkCancellation() }
            // A call that came after the wait gave up still ends a job that has no polling URL.
            if !located, fromWebhook == nil, let taskID = job.taskID, let late = hinted.removeValue(forKey: taskID) {
                fromWebhook = Self.answer(from: late)
                job.followedBy = "webhook"
            }
            let elapsed = stopwatch.now() - started
            if elapsed > configuration.deadline {
                guard transition(&job, .deadlinePassed) == .finish else { return }
                job.errorKind = .timeout
                job.errorMessage = "not finished after \(configuration.deadline.components.seconds) s; `fluxdeck jobs resume` polls it again"
                job.finishedAt = wallClock()
                try finish(job, detail: nil)
                return
            }
            var reply: PollResponse
            do {
                if let answer = fromWebhook {
                    reply = answer
                    fromWebhook = nil
                } else {
                    job.polls += 1
                    do {
                        reply = try await client.poll(pollingURL)
                        if !located, case .taskNotFound = reply.status, let found = try await locate(&job, tried: pollingURL) {
                            (pollingURL, reply, located) = (found.url, found.reply, true)
                        }
                    } catch BFLError.notFound(let message) where !located {
                        guard let found = try await locate(&job, tried: pollingURL) else { throw BFLError.notFound(message) }
                        (pollingURL, reply, located) = (found.url, found.reply, true)
                    }
                }
            } catch let error as BFLError {
                let event = LifecycleEvent.pollFailure(error)
                switch transition(&job, event) {
                case .finish:
                    // A 404 right after submission may be transient; several in a row are not.
                    let message = switch (event, located) {
                    case (.notFound, true): "BFL does not know this task on its polling host"
                    case (.notFound, false):
                        "no host knows this task: it was sent in webhook mode (no polling URL), no call came, and neither the front door nor the cluster hosts answered for it"
                    default: error.message
                    }
                    if fail(&job, nil, kind: event == .notFound ? .generation : .apiRefused, message: message) { try finish(job, detail: nil) }
                    return
                case .ignore:
                    return
                default:
                    delay = cadence.maximum
                    continue
                }
            }
            job.serverStatus = TerminalText.capped(reply.status.wireValue, bytes: 200)
            if case .generating = reply.status, let progress = reply.progress { noteProgress(progress) }
            if case .reasoning = reply.status, let progress = reply.progress { noteProgress(progress) }
            func noteProgress(_ progress: Double) {
                job.progress = progress
                // Resumed jobs began before this run: their readings have no usable clock.
                if !resumed { readings.append(PollCadence.Reading(elapsed: elapsed, progress: progress)) }
                emitProgress(job.id, progress)
            }
            switch transition(&job, .polled(LifecycleEvent.PollStatus(reply.status))) {
            case .ignore:
                // The job ended meanwhile (abandoned by the user): nothing more to do.
                return
            case .record:
                try record(job)
            case .carryOn:
                if case .unknown(let status) = reply.status, warnedStatus != status {
                    warnedStatus = status
                    try record(job, detail: "unknown status \"\(TerminalText.capped(TerminalText.sanitize(status), bytes: 200))\"; still polling")
                }
            case .download:
                // The task no longer counts against BFL's active limit: admit the next job
                // while this one downloads.
                release(job)
                pump()
                job.settledCost = reply.cost?.description ?? job.submitCost
                job.seed = reply.result?.seed ?? job.seed
                let served = reply.result?.duration ?? elapsed.seconds
                if !resumed {
                    timing.learn(seconds: served, readings: readings)
                    try? store.saveTiming(timing, endpoint: timingKey, model: job.model)
                }
                try await download(job, sample: reply.result?.sample)
                return
            case .finish:
                job.settledCost = reply.cost?.description ?? job.submitCost
                job.finishedAt = wallClock()
                switch reply.status {
                case .requestModerated, .contentModerated:
                    job.errorKind = .moderation
                    let which = reply.status == .requestModerated ? "The request" : "The generated image"
                    job.errorMessage = "\(which) was blocked by moderation" + (reply.errorMessage.map { ": " + TerminalText.message($0) } ?? ".")
                case .taskNotFound:
                    job.errorKind = .generation
                    job.errorMessage = "BFL no longer knows this task (Task not found)"
                default:
                    job.errorKind = .generation
                    job.errorMessage = reply.errorMessage.map(TerminalText.message) ?? "the generation failed"
                }
                try finish(job, detail: nil)
                return
            case .requeue:
                return
            }
            let inputs = PollCadence.Inputs(elapsed: stopwatch.now() - started, readings: readings, timing: timing,
                                            pollsPastExpected: pollsPastExpected)
            if inputs.elapsed >= cadence.expectedFinish(inputs).finish { pollsPastExpected += 1 }
            delay = configuration.fixedPollInterval ?? cadence.delay(inputs)
        }
    }

    /// The poll answer a webhook call stands for (a job without a polling URL has no other).
    private static func answer(from event: WebhookEvent) -> PollResponse {
        var result = TaskResult(sample: event.sample, seed: event.seed)
        result.error = event.error
        return PollResponse(id: event.taskID, status: event.status, result: result)
    }

    /// Looks for a task that came without a polling URL on the cluster hosts: those this
    /// endpoint's polling URLs have named (most recent first), those configured, and the
    /// front door it was sent to. The first that knows it becomes the job's polling URL; nil
    /// when none does (each answered 404 or "Task not found", or could not be reached).
    private func locate(_ job: inout JobRecord, tried: String) async throws -> (url: String, reply: PollResponse)? {
        guard let taskID = job.taskID else { return nil }
        var bases = learnedClusters(endpoint: job.endpoint)
        bases += client.configuration.clusters
        if let region = job.region.flatMap(Region.init(rawValue:)) ?? Region(rawValue: job.endpoint) {
            bases.append(client.frontDoor(for: region))
        }
        var seen: Set<String> = [tried]
        for base in bases {
            let url = BFLClient.pollingURL(taskID: taskID, on: base)
            guard seen.insert(url).inserted else { continue }
            try Task.checkCancellation()
            job.polls += 1
            guard let reply = try? await client.poll(url) else { continue }
            if case .taskNotFound = reply.status { continue }
            job.pollingURL = url
            job.clusterHost = URL(string: url).flatMap(Self.authority(of:))
            webhookOnly.remove(job.id)
            try record(job, detail: "found on \(job.clusterHost ?? url): its submission came without a polling URL")
            return (url, reply)
        }
        return nil
    }

    /// The cluster hosts the ledger's polling URLs have named for `endpoint`, read once a run
    /// (a scan of the ledger; hosts found later are tried from the configuration anyway).
    private func learnedClusters(endpoint: String) -> [URL] {
        if let known = learnedClusterBases[endpoint] { return known }
        let bases = ((try? store.pollingURLsByHost(endpoint: endpoint)) ?? []).compactMap(Self.base(ofPollingURL:))
        learnedClusterBases[endpoint] = bases
        return bases
    }

    /// Puts the host of a polling URL BFL just gave first among the learned ones (once they
    /// have been read).
    private func learnCluster(from pollingURL: String, endpoint: String) {
        guard var bases = learnedClusterBases[endpoint], let base = Self.base(ofPollingURL: pollingURL) else { return }
        bases.removeAll { $0 == base }
        bases.insert(base, at: 0)
        learnedClusterBases[endpoint] = bases
    }

    /// What comes before the API path of a polling URL (a proxy may add a prefix of its own).
    static func base(ofPollingURL url: String) -> URL? {
        guard let cut = url.range(of: "/v1/get_result") else { return nil }
        return URL(string: String(url[..<cut.lowerBound]))
    }

    /// A webhook call arrived for `taskID` (verified by the receiver): the job waiting for it
    /// polls now. Calls for tasks nobody waits for yet are kept until their job waits.
    public func webhookArrived(_ event: WebhookEvent) {
        if let waiter = hintWaiters.removeValue(forKey: event.taskID) {
            waiter.resume(returning: event)
        } else if follows(taskID: event.taskID) {
            hinted[event.taskID] = event
        }
    }

    /// Whether a job of this run has `taskID` (the receiver refuses calls about others).
    public func follows(taskID: String) -> Bool {
        live.values.contains { $0.taskID == taskID && !$0.phase.isFinal }
    }

    /// The webhook call for `taskID` (come before or during the wait), or nil at `limit`.
    private func waitForWebhook(_ taskID: String, upTo limit: Duration) async -> WebhookEvent? {
        if let early = hinted.removeValue(forKey: taskID) { return early }
        let stopwatch = self.stopwatch
        return await withTaskGroup(of: WebhookEvent?.self) { group in
            group.addTask { await self.webhookSignal(taskID) }
            group.addTask {
                // A deadline, not a wait for work: cancelled when the call comes first.
                try? await stopwatch.sleep(limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            if first == nil { self.stopWaiting(taskID) }
            return first
        }
    }

    private func webhookSignal(_ taskID: String) async -> WebhookEvent? {
        await withCheckedContinuation { continuation in
            if let early = hinted.removeValue(forKey: taskID) {
                continuation.resume(returning: early)
            } else if Task.isCancelled {
                // The wait ended before this began (on the actor, so nothing can slip between).
                continuation.resume(returning: nil)
            } else {
                hintWaiters[taskID] = continuation
            }
        }
    }

    private func stopWaiting(_ taskID: String) {
        hintWaiters.removeValue(forKey: taskID)?.resume(returning: nil)
    }

    /// The body with `webhook_secret` and `webhook_url` spliced in after its opening brace:
    /// every other byte is the one the ledger holds (and `--dry-run` printed), where re-encoding
    /// could respell numbers.
    static func adding(_ webhook: (url: String, secret: String), to body: [UInt8]) -> [UInt8] {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        guard let brace = body.firstIndex(where: { !isSpace($0) }), body[brace] == UInt8(ascii: "{"),
              let secret = try? encoder.encode(webhook.secret), let url = try? encoder.encode(webhook.url)
        else { return body }
        let rest = body[(brace + 1)...]
        let isEmpty = rest.first(where: { !isSpace($0) }) == UInt8(ascii: "}")
        let fields = Array(#""webhook_secret":"#.utf8) + Array(secret) + Array(#","webhook_url":"#.utf8) + Array(url)
        return Array(body[...brace]) + fields + (isEmpty ? [] : [UInt8(ascii: ",")]) + Array(rest)
    }

    /// "host" or "host:port" of a URL (a simulator's front doors differ by port only).
    static func authority(of url: URL) -> String? {
        guard let host = url.host else { return nil }
        return url.port.map { "\(host):\($0)" } ?? host
    }

    /// For a job sent to a region that did not answer: which region, and the others to try.
    private func regionAdvice(_ job: JobRecord) -> String {
        guard let name = job.region, let region = Region(rawValue: name) else { return "" }
        let others = client.configuration.regions.regions.filter { $0 != region }.map(\.rawValue)
        guard !others.isEmpty else { return "" }
        return " It was sent to the \(name) region, which may be down: try \(others.joined(separator: " or ")) (the region row, or --region)."
    }

    /// The endpoint under which timings are learned: every built-in simulator run is one
    /// endpoint (its label names its process); BFL's regions and custom URLs are their own.
    static func timingKey(_ label: String) -> String {
        label.hasPrefix("simulator") ? "simulator" : label
    }

    /// Saves the image of a Ready job (already `downloading`) into the job's own folder.
    private func download(_ original: JobRecord, sample: String?) async throws {
        var job = original
        job.errorKind = nil
        job.errorMessage = nil
        if let sample { job.resultURL = sample }
        try record(job)
        guard let sample else {
            if fail(&job, .downloadFailed, kind: .generation, message: "BFL said Ready but sent no image URL") { try finish(job, detail: nil) }
            return
        }
        job.finishedAt = wallClock()
        let destination = job.outputDirectory.map { library.relocated(to: URL(fileURLWithPath: $0)) } ?? library
        do {
            let saved = try await destination.save(job: job, sampleURL: sample, client: client,
                                                   createFolder: job.outputDirectory == nil)
            guard transition(&job, .saved) == .finish else { return }
            job.outputPath = saved.image.path
            job.sidecarPath = saved.sidecar.path
            job.progress = 1
            job.errorKind = nil
            job.errorMessage = nil
        } catch let error as BFLError {
            let (event, kind) = LifecycleEvent.downloadFailure(error)
            let message = switch error {
            case .resultExpired:
                "The result URL expired before the image was saved (BFL task \(job.taskID ?? "unknown")); the image cannot be fetched any more."
            case .fileSystem(let reason):
                "paid for, but not saved in \(destination.directory.path): \(reason). "
                    + "Fix the folder, then run the job again or `fluxdeck jobs resume` (while the URL is valid, about 10 minutes)."
            case .refusedURL: error.message
            default: error.message + " (`fluxdeck jobs resume` retries while the URL is valid)"
            }
            guard fail(&job, event, kind: kind, message: message) else { return }
        }
        try finish(job, detail: nil)
    }

    // MARK: bookkeeping

    /// Ends `job` by `event` (nil: it has already moved to its failed phase) with an error;
    /// false when the event no longer applies (the job ended meanwhile).
    private func fail(_ job: inout JobRecord, _ event: LifecycleEvent?, kind: JobErrorKind, message: String) -> Bool {
        if let event, transition(&job, event) != .finish { return false }
        job.errorKind = kind
        job.errorMessage = message
        job.finishedAt = job.finishedAt ?? wallClock()
        return true
    }

    /// Saves a transition and tells listeners. Listeners and waiters hear of it even when the
    /// ledger cannot be written (the error still propagates, so a POST is never sent unrecorded).
    private func record(_ job: JobRecord, detail: String? = nil) throws {
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
        live[job.id] = job
        emitter.yield(.updated(job))
        if let pending = waiters[job.id] {
            let (ready, waiting) = pending.partitioned { $0.until(job.phase) || job.phase.isFinal }
            waiters[job.id] = waiting.isEmpty ? nil : waiting
            for waiter in ready { waiter.continuation.resume(returning: job) }
        }
    }

    /// Stops following a job that another runner took over: its slot is freed, waiters hear
    /// the ledger's state, listeners an `.elsewhere` event.
    private func letGo(_ id: String) {
        guard let job = live.removeValue(forKey: id) else { return }
        lifecycles[id] = nil
        tasks.removeValue(forKey: id)?.cancel()
        timers.removeValue(forKey: id)?.cancel()
        queue.removeAll { $0 == id }
        release(job)
        lastProgress[id] = nil
        let current = (try? store.job(id: id)) ?? job
        let pid = current.ownerID.flatMap { owner in (try? runnersByID())?[owner]?.pid }
        emitter.yield(.elsewhere(current, ownerPID: pid))
        for waiter in waiters.removeValue(forKey: id) ?? [] { waiter.continuation.resume(returning: current) }
        pump()
    }

    /// Saves a final job, frees its slots, wakes waiters and admits the next.
    private func finish(_ job: JobRecord, detail: String?) throws {
        defer {
            release(job)
            lastProgress[job.id] = nil
            pump()
        }
        try record(job, detail: detail)
    }

    private func emitProgress(_ id: String, _ progress: Double) {
        let now = stopwatch.now()
        if let last = lastProgress[id], now - last < configuration.progressInterval, progress < 1 { return }
        lastProgress[id] = now
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
