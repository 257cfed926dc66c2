import BFL
import Foundation

// The transfer: one job's task, from the POST through the polls to the image on disk. Every
// phase it saves comes from `JobLifecycle` (through `transition`), and every save goes
// through `record` before the next step.

/// What one job's polling knows between two polls.
struct PollState {
    var job: JobRecord
    var pollingURL: String
    /// Whether the polling URL is one BFL named (or one found on a cluster host); a rebuilt one
    /// may be the front door, which does not know a webhook job's task.
    var located: Bool
    let resumed: Bool
    let started: Duration
    /// The endpoint under which timings are learned, and what it has taught about the model.
    let timingKey: String
    var timing: LearnedTiming
    var readings: [PollCadence.Reading] = []
    var pollsPastExpected = 0
    var delay: Duration
    /// A webhook call's body standing for the next poll's answer.
    var fromWebhook: PollResponse?
    /// The unknown status last written to the history (each is written once).
    var warnedStatus: String?
}

/// Where one poll leaves the job.
enum PollTurn {
    /// An answer to act on.
    case answer(PollResponse)
    /// Nothing this time: poll again after the (already set) delay.
    case again
    /// The job ended, or is no longer this task's to follow.
    case stop
}

extension JobEngine {
    /// Carries job `id` from where it stands to its end.
    func run(_ id: String, resumed: Bool) async {
        do {
            guard var job = live(id) else { return }
            // Ready before: fetch from the URL BFL gave (a job without one is polled again, and
            // BFL answers Ready with it).
            if job.phase == .downloading, let url = job.resultURL, job.outputPath == nil {
                try await download(job, sample: url)
                followed[id]?.task = nil
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
            if var job = live(id), fail(&job, .failedHere, kind: .local, message: "\(error)") {
                try? finish(job, detail: nil)
            }
        }
        followed[id]?.task = nil
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
            job.retryAt = nil
            job.taskID = reply.id
            if configuration.webhook != nil, reply.pollingURL == nil { followed[job.id]?.webhookOnly = true }
            job.pollingURL = reply.pollingURL ?? client.rebuiltPollingURL(taskID: reply.id)
            // The cluster is known only from a polling URL BFL gave (a rebuilt one names the front door).
            job.clusterHost = reply.pollingURL.flatMap(URL.init(string:)).flatMap(Self.authority(of:))
            if let url = reply.pollingURL { clusters.learn(from: url, endpoint: job.endpoint) }
            job.submitCost = reply.cost?.description
            job.inputMP = reply.inputMP
            job.outputMP = reply.outputMP
            job.submittedAt = wallClock()
            try record(job)
            return job
        } catch BFLError.rateLimited(let retryAfter) {
            guard transition(&job, .rateLimited) == .requeue else { return nil }
            let delay = min(retryAfter ?? configuration.rateLimitBackoff, configuration.rateLimitWaitCap)
            job.retryAt = wallClock().addingTimeInterval(delay.seconds)
            try record(job, detail: "rate limited (HTTP 429); sent again in \(Int(delay.seconds.rounded(.up))) s at the latest")
            release(job)
            followed[job.id]?.retryTimer = Task {
                guard (try? await self.stopwatch.sleep(delay)) != nil else { return }
                self.requeue(job.id)
            }
            pump()
            return nil
        } catch let error as BFLError {
            let (event, kind) = LifecycleEvent.submitFailure(error)
            let message = switch kind {
            case .unknownOutcome: error.message + " " + error.hint + regionNote(job)
            case .network: error.message + regionNote(job)
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

    func requeue(_ id: String) {
        followed[id]?.retryTimer = nil
        guard let job = live(id), job.phase == .queued, !queue.contains(id) else { return }
        queue.insert(id, at: 0)
        pump()
    }

    /// Polls until the task ends, then saves the image.
    private func poll(_ original: JobRecord, resumed: Bool) async throws {
        guard let pollingURL = original.pollingURL else { return }
        // A job with only its task id (a webhook submission's answer names no polling URL) is
        // polled on the front door, which may not know it: then it is looked for on the
        // cluster hosts.
        let webhookOnly = followed[original.id]?.webhookOnly ?? false
        let located = !webhookOnly && original.taskID.map { pollingURL != client.rebuiltPollingURL(taskID: $0) } ?? true
        let timingKey = Self.timingKey(original.endpoint)
        let timing = (try? store.timing(endpoint: timingKey, model: original.model))
            ?? LearnedTiming(typical: Catalog.model(id: original.model)?.typicalDuration ?? .seconds(10))
        var state = PollState(
            job: original, pollingURL: pollingURL, located: located, resumed: resumed, started: stopwatch.now(),
            timingKey: timingKey, timing: timing,
            delay: resumed ? .zero : configuration.fixedPollInterval ?? configuration.cadence.firstDelay(timing))
        if configuration.webhook != nil, !resumed { try await waitForCall(&state) }
        defer {
            followed[state.job.id]?.webhookOnly = false
            if let taskID = state.job.taskID { webhooks.forget(taskID) }
        }
        while true {
            if state.delay > .zero { try await stopwatch.sleep(state.delay) } else { try Task.checkCancellation() }
            // A call that came after the wait gave up still ends a job that has no polling URL.
            if !state.located, state.fromWebhook == nil, let taskID = state.job.taskID, let late = webhooks.take(taskID) {
                state.fromWebhook = Self.answer(from: late)
                state.job.followedBy = "webhook"
            }
            let elapsed = stopwatch.now() - state.started
            if elapsed > configuration.deadline {
                guard transition(&state.job, .deadlinePassed) == .finish else { return }
                state.job.errorKind = .timeout
                state.job.errorMessage = "not finished after \(configuration.deadline.components.seconds) s; `fluxdeck jobs resume` polls it again"
                state.job.finishedAt = wallClock()
                try finish(state.job, detail: nil)
                return
            }
            switch try await nextAnswer(&state) {
            case .stop: return
            case .again: continue
            case .answer(let reply):
                guard try await act(on: reply, elapsed: elapsed, &state) else { return }
            }
            let inputs = PollCadence.Inputs(elapsed: stopwatch.now() - state.started, readings: state.readings, timing: state.timing,
                                            pollsPastExpected: state.pollsPastExpected)
            if inputs.elapsed >= configuration.cadence.expectedFinish(inputs).finish { state.pollsPastExpected += 1 }
            state.delay = configuration.fixedPollInterval ?? configuration.cadence.delay(inputs)
        }
    }

    /// Webhook mode: waits for the job's call (it is only a hint: one poll confirms it) or
    /// until past the model's slow end; then the job is polled at once.
    private func waitForCall(_ state: inout PollState) async throws {
        guard let taskID = state.job.taskID else { return }
        let event = await waitForWebhook(taskID, upTo: state.timing.high + configuration.webhookMargin)
        state.job.followedBy = event != nil ? "webhook" : "polling"
        try record(state.job)
        state.delay = .zero
        if let event, followed[state.job.id]?.webhookOnly == true {
            // No polling URL to confirm with: the call's body is the answer (its sample URL
            // passes the same checks as a poll's on the way to the download).
            state.fromWebhook = Self.answer(from: event)
        }
    }

    /// The next answer: a webhook call's body, else a poll (looking for the task on the cluster
    /// hosts when the front door does not know it). A failed poll moves the job by the
    /// lifecycle's table: it ends, or is polled again after the cadence's longest wait.
    private func nextAnswer(_ state: inout PollState) async throws -> PollTurn {
        if let answer = state.fromWebhook {
            state.fromWebhook = nil
            return .answer(answer)
        }
        state.job.polls += 1
        do {
            var reply = try await pollOrLocate(&state)
            if !state.located, case .taskNotFound = reply.status, let found = try await locate(&state.job, tried: state.pollingURL) {
                (state.pollingURL, reply, state.located) = (found.url, found.reply, true)
            }
            return .answer(reply)
        } catch let error as BFLError {
            let event = LifecycleEvent.pollFailure(error)
            switch transition(&state.job, event) {
            case .finish:
                // A 404 right after submission may be transient; several in a row are not.
                let message = switch (event, state.located) {
                case (.notFound, true): "BFL does not know this task on its polling host"
                case (.notFound, false):
                    "no host knows this task: it was sent in webhook mode (no polling URL), no call came, and neither the front door nor the cluster hosts answered for it"
                default: error.message
                }
                if fail(&state.job, nil, kind: event == .notFound ? .generation : .apiRefused, message: message) { try finish(state.job, detail: nil) }
                return .stop
            case .ignore:
                return .stop
            default:
                state.delay = configuration.cadence.maximum
                return .again
            }
        }
    }

    /// One poll of the job's URL; a 404 from a URL BFL did not name sends the search to the
    /// cluster hosts.
    private func pollOrLocate(_ state: inout PollState) async throws -> PollResponse {
        do {
            return try await client.poll(state.pollingURL)
        } catch BFLError.notFound(let message) where !state.located {
            guard let found = try await locate(&state.job, tried: state.pollingURL) else { throw BFLError.notFound(message) }
            (state.pollingURL, state.located) = (found.url, true)
            return found.reply
        }
    }

    /// Acts on a poll's answer by the lifecycle's table; false when the job's polling is over
    /// (saved, ended, or no longer this task's).
    private func act(on reply: PollResponse, elapsed: Duration, _ state: inout PollState) async throws -> Bool {
        var job = state.job
        defer { state.job = job }
        job.serverStatus = TerminalText.capped(reply.status.wireValue, bytes: 200)
        switch reply.status {
        case .generating, .reasoning:
            if let progress = reply.progress {
                job.progress = progress
                // Resumed jobs began before this run: their readings have no usable clock.
                if !state.resumed { state.readings.append(PollCadence.Reading(elapsed: elapsed, progress: progress)) }
                emitProgress(job.id, progress)
            }
        default:
            break
        }
        switch transition(&job, .polled(LifecycleEvent.PollStatus(reply.status))) {
        case .ignore:
            // The job ended meanwhile (abandoned by the user): nothing more to do.
            return false
        case .record:
            try record(job)
        case .carryOn:
            if case .unknown(let status) = reply.status, state.warnedStatus != status {
                state.warnedStatus = status
                try record(job, detail: "unknown status \"\(TerminalText.capped(TerminalText.sanitize(status), bytes: 200))\"; still polling")
            }
        case .download:
            // The task no longer counts against BFL's active limit: admit the next job
            // while this one downloads.
            release(job)
            slotFreed()
            job.settledCost = reply.cost?.description ?? job.submitCost
            job.seed = reply.result?.seed ?? job.seed
            let served = reply.result?.duration ?? elapsed.seconds
            if !state.resumed {
                state.timing.learn(seconds: served, readings: state.readings)
                try? store.saveTiming(state.timing, endpoint: state.timingKey, model: job.model)
            }
            try await download(job, sample: reply.result?.sample)
            return false
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
            return false
        case .requeue:
            return false
        }
        return true
    }

    /// "host" or "host:port" of a URL (a simulator's front doors differ by port only).
    static func authority(of url: URL) -> String? {
        guard let host = url.host else { return nil }
        return url.port.map { "\(host):\($0)" } ?? host
    }

    /// For a job sent to a region that did not answer: which region it was (what to do about
    /// it is worded by the CLI and the studio, from `JobRecord.otherRegions`).
    private func regionNote(_ job: JobRecord) -> String {
        guard let name = job.region, Region(rawValue: name) != nil else { return "" }
        return " It was sent to the \(name) region."
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
}
