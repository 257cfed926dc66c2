import BFL
import Foundation

// Runner duties: this process's heartbeat in the ledger, taking over the jobs of runners that
// are gone (resume), and showing other runners' jobs as the ledger changes.

/// What the engine's runner does in the background, and what it has seen of the others.
struct RunnerDuties {
    var loop: Task<Void, Never>?
    var adoptsOrphans = false
    var watchesOthers = false
    /// Other runners' unfinished jobs last shown, by id, with the update time seen.
    var foreignSeen: [String: Date] = [:]
    /// The newest ledger row seen: jobs added after it, even those another runner made and
    /// finished between two looks, are shown at the next.
    var lastRowID: Int64?

    mutating func stop() {
        loop?.cancel()
        loop = nil
    }
}

extension JobEngine {
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
            .filter { isOurs($0.endpoint) && followed[$0.id] == nil }
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
                followed[job.id] = FollowedJob(record: job)
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
                followed[job.id] = FollowedJob(record: job)
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
        guard live(id).map({ $0.phase == .saveFailed }) ?? true, var job = try store.job(id: id), job.phase == .saveFailed,
              try claimIfOrphaned(&job, runners: runnersByID(), now: wallClock()) else { return false }
        return try fetchAgain(job)
    }

    /// Makes `job` this runner's when its runner is gone (or it has none), by a compare-and-set
    /// in the ledger; false when a live runner follows it or another runner claimed it first.
    private func claimIfOrphaned(_ job: inout JobRecord, runners: [String: RunnerRecord], now: Date) throws -> Bool {
        if let ownerID = job.ownerID, ownerID != runner.id, let owner = runners[ownerID], !owner.isGone(now: now) { return false }
        guard try store.claim(jobID: job.id, owner: runner.id, from: job.ownerID) else { return false }
        job.ownerID = runner.id
        return true
    }

    func runnersByID() throws -> [String: RunnerRecord] {
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
        var entry = followed[job.id] ?? FollowedJob(record: job)
        entry.record = job
        followed[job.id] = entry
        try record(job, detail: "downloading the image again")
        start(job.id, resumed: true)
        return true
    }

    /// Starts the runner's background duty: a heartbeat in the ledger every
    /// `RunnerRecord.heartbeatInterval`; with `adopt`, taking over the jobs of runners that
    /// are gone at the same pace; with `watchOthers`, `.elsewhere` events for other runners'
    /// jobs as the ledger changes (every `ledgerWatchInterval`). Stopped by `shutdown()`.
    /// Duties only ever widen: a later call can turn adoption or watching on, never off.
    public func startRunnerDuties(adopt: Bool, watchOthers: Bool) {
        duties.adoptsOrphans = duties.adoptsOrphans || adopt
        duties.watchesOthers = duties.watchesOthers || watchOthers
        // Jobs added from now on are news; those before are what the caller has read.
        if watchOthers, duties.lastRowID == nil { duties.lastRowID = try? store.jobsAdded(after: nil).last }
        guard duties.loop == nil, !isShutDown else { return }
        let interval = max(configuration.ledgerWatchInterval, .milliseconds(100))
        let beatEvery = max(1, Int((RunnerRecord.heartbeatInterval / interval).rounded()))
        duties.loop = Task { [weak self] in
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
            if duties.adoptsOrphans { _ = try? resume() }
        }
        if duties.watchesOthers { try? watchOtherRunners() }
    }

    /// Tells listeners about other runners' jobs that changed since the last look.
    public func watchOtherRunners() throws {
        let pids = try runnersByID().mapValues(\.pid)
        let unfinished = try store.jobs(phases: JobPhase.unfinished).filter { followed[$0.id] == nil && $0.ownerID != runner.id }
        var seen: [String: Date] = [:]
        for job in unfinished {
            seen[job.id] = job.updatedAt
            if duties.foreignSeen[job.id] != job.updatedAt {
                emitter.yield(.elsewhere(job, ownerPID: job.ownerID.flatMap { pids[$0] }))
            }
        }
        // Jobs added since the last look that have already ended there (a fast job, a batch
        // in another terminal): never unfinished when looked at, so shown from here. The
        // first look only notes where the ledger ends.
        let (added, last) = try store.jobsAdded(after: duties.lastRowID)
        for job in added where job.phase.isFinal && followed[job.id] == nil && job.ownerID != runner.id {
            emitter.yield(.elsewhere(job, ownerPID: job.ownerID.flatMap { pids[$0] }))
        }
        duties.lastRowID = last
        // Jobs that left the unfinished phases there: show how they ended.
        for id in duties.foreignSeen.keys where seen[id] == nil && followed[id] == nil {
            if let job = try store.job(id: id) { emitter.yield(.elsewhere(job, ownerPID: job.ownerID.flatMap { pids[$0] })) }
        }
        duties.foreignSeen = seen
    }

    /// Ends the unfinished jobs of endpoints that cannot answer any more (the built-in simulator
    /// of a run that has stopped): sent jobs whose endpoint label `isGone` says so become
    /// abandoned with `reason`; jobs never sent stay queued. Returns how many were ended.
    @discardableResult
    public func retireSentJobs(where isGone: @Sendable (String) -> Bool, reason: String) throws -> Int {
        let orphans = try store.jobs(phases: [.submitting, .pending, .running, .downloading, .timedOut])
            .filter { followed[$0.id] == nil && isGone($0.endpoint) }
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
}
