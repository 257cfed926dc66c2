import BFL
import Jobs
import Testing

@Suite("Job lifecycle: phase × event")
struct LifecycleTests {
    static let statuses: [LifecycleEvent.PollStatus] = [.pending, .generating, .ready, .error, .moderated, .taskNotFound, .unknown]
    static let events: [LifecycleEvent] = [
        .sending, .accepted, .rateLimited, .submitFailed, .outcomeUnknown, .pollTrouble, .pollRefused, .notFound,
        .deadlinePassed, .saved, .resultExpired, .saveFailed, .downloadFailed, .cancelled, .abandoned, .retrySave,
        .resumedWhileSending, .failedHere,
    ] + statuses.map { .polled($0) }

    /// Every move the table allows; everything else is ignored and leaves the phase alone.
    static let allowed: [JobPhase: [LifecycleEvent: (JobPhase, LifecycleStep)]] = {
        var table: [JobPhase: [LifecycleEvent: (JobPhase, LifecycleStep)]] = [
            .queued: [.sending: (.submitting, .record), .cancelled: (.cancelled, .finish), .failedHere: (.failed, .finish)],
            .submitting: [
                .accepted: (.pending, .record), .rateLimited: (.queued, .requeue), .submitFailed: (.failed, .finish),
                .outcomeUnknown: (.unknown, .finish), .resumedWhileSending: (.unknown, .finish), .abandoned: (.abandoned, .finish),
                .failedHere: (.failed, .finish),
            ],
            .downloading: [
                .saved: (.done, .finish), .resultExpired: (.expired, .finish), .saveFailed: (.saveFailed, .finish),
                .downloadFailed: (.failed, .finish), .abandoned: (.abandoned, .finish), .failedHere: (.failed, .finish),
                .polled(.ready): (.downloading, .download), .polled(.pending): (.downloading, .carryOn),
                .polled(.generating): (.downloading, .carryOn), .polled(.unknown): (.downloading, .carryOn),
                .polled(.error): (.failed, .finish), .polled(.taskNotFound): (.failed, .finish), .polled(.moderated): (.moderated, .finish),
                .pollTrouble: (.downloading, .carryOn), .notFound: (.downloading, .carryOn), .pollRefused: (.failed, .finish),
                .deadlinePassed: (.timedOut, .finish),
            ],
            .saveFailed: [.retrySave: (.downloading, .record)],
        ]
        // The phases a poll loop follows: sent jobs, and resumed ones that ended without an answer.
        for phase in [JobPhase.pending, .running, .timedOut, .failed, .unknown] {
            var row: [LifecycleEvent: (JobPhase, LifecycleStep)] = [
                .polled(.pending): (.pending, phase == .pending ? .carryOn : .record),
                .polled(.generating): (.running, phase == .running ? .carryOn : .record),
                .polled(.unknown): (phase, .carryOn), .polled(.ready): (.downloading, .download),
                .polled(.error): (.failed, .finish), .polled(.taskNotFound): (.failed, .finish), .polled(.moderated): (.moderated, .finish),
                .pollTrouble: (phase, .carryOn), .notFound: (phase, .carryOn), .pollRefused: (.failed, .finish),
                .deadlinePassed: (.timedOut, .finish),
            ]
            if [.pending, .running, .timedOut].contains(phase) { row[.abandoned] = (.abandoned, .finish) }
            if !phase.isFinal { row[.failedHere] = (.failed, .finish) }
            table[phase] = row
        }
        return table
    }()

    @Test("every phase × every event: the table's move, or nothing at all")
    func table() {
        var moves = 0
        for phase in JobPhase.allCases {
            for event in Self.events {
                var lifecycle = JobLifecycle(phase: phase)
                let step = lifecycle.handle(event)
                if let (next, expected) = Self.allowed[phase]?[event] {
                    moves += 1
                    #expect(step == expected && lifecycle.phase == next, "\(phase) + \(event): \(step) to \(lifecycle.phase)")
                } else {
                    #expect(step == .ignore && lifecycle.phase == phase, "\(phase) + \(event) should be ignored, got \(step)")
                }
            }
        }
        #expect(moves > 60)
    }

    @Test("final phases never move, except a failed save that the user fetches again and resumed polls")
    func finalPhasesStay() {
        for phase in JobPhase.allCases where [.done, .moderated, .expired, .cancelled, .abandoned].contains(phase) {
            for event in Self.events {
                var lifecycle = JobLifecycle(phase: phase)
                #expect(lifecycle.handle(event) == .ignore)
            }
        }
    }

    @Test("a 404 may be propagation: two in a row carry on, the third ends the job; any answer in between resets the count")
    func notFound() {
        var lifecycle = JobLifecycle(phase: .pending)
        #expect(lifecycle.handle(.notFound) == .carryOn)
        #expect(lifecycle.handle(.notFound) == .carryOn)
        #expect(lifecycle.handle(.polled(.pending)) == .carryOn)
        #expect(lifecycle.notFoundInARow == 0)
        #expect(lifecycle.handle(.notFound) == .carryOn)
        #expect(lifecycle.handle(.notFound) == .carryOn)
        #expect(lifecycle.handle(.notFound) == .finish)
        #expect(lifecycle.phase == .failed)
    }

    @Test("races: an abandon wins over a poll answer in flight; a cancel after sending and a second save do nothing")
    func races() {
        // The user abandons while a poll is out; the answer (Ready) arrives after.
        var lifecycle = JobLifecycle(phase: .running)
        #expect(lifecycle.handle(.abandoned) == .finish)
        #expect(lifecycle.handle(.polled(.ready)) == .ignore)
        #expect(lifecycle.phase == .abandoned)
        // Cancel only before the POST.
        var sent = JobLifecycle(phase: .queued)
        #expect(sent.handle(.sending) == .record)
        #expect(sent.handle(.cancelled) == .ignore)
        // A save that lands twice (a resumed download racing the first) counts once.
        var saving = JobLifecycle(phase: .downloading)
        #expect(saving.handle(.saved) == .finish)
        #expect(saving.handle(.saved) == .ignore)
        // Resume after a kill mid-POST: never resent.
        var killed = JobLifecycle(phase: .submitting)
        #expect(killed.handle(.resumedWhileSending) == .finish)
        #expect(killed.phase == .unknown)
        #expect(killed.handle(.sending) == .ignore)
    }

    @Test("the admission gate: 24 for the account, 6 for kontext-max, queue order kept, slots freed once")
    func gate() {
        var gate = AdmissionGate(accountLimit: 24)
        func limit(_ model: String) -> Int { model == "flux-kontext-max" ? 6 : 24 }
        let queue = (0..<30).map { (id: "j\($0)", model: $0 % 2 == 0 ? "flux-kontext-max" : "flux-2-pro") }
        let admitted = gate.admit(queue, limit: limit)
        // Six kontext-max (j0…j10) and every flux-2-pro until 24 in all.
        #expect(admitted.filter { Int($0.dropFirst())! % 2 == 0 } == ["j0", "j2", "j4", "j6", "j8", "j10"])
        #expect(admitted.count == 21)
        #expect(gate.active == 21 && gate.activeByModel["flux-kontext-max"] == 6)
        let second = gate.admit(queue.filter { !admitted.contains($0.id) }, limit: limit)
        #expect(second.isEmpty)
        gate.release("j0", model: "flux-kontext-max")
        gate.release("j0", model: "flux-kontext-max")
        #expect(gate.active == 20)
        #expect(gate.admit([("j12", "flux-kontext-max"), ("j14", "flux-kontext-max")], limit: limit) == ["j12"])
        gate.acquire("j12", model: "flux-kontext-max")
        #expect(gate.active == 21)
        #expect(gate.highWater == 21 && gate.highWaterByModel["flux-kontext-max"] == 6)
        var full = AdmissionGate(accountLimit: 2)
        #expect(full.admit(queue, limit: limit) == ["j0", "j1"])
    }
}

@Suite("What the transfer hears, as lifecycle events")
struct TransferEventTests {
    @Test("a failed POST: 429 requeues, a maybe-sent POST is unknown (never resent), the network and refusals fail it")
    func submitFailures() {
        let table: [(BFLError, LifecycleEvent, JobErrorKind)] = [
            (.rateLimited(retryAfter: nil), .rateLimited, .apiRefused),
            (.submitOutcomeUnknown("reset"), .outcomeUnknown, .unknownOutcome),
            (.network("refused"), .submitFailed, .network),
            (.insufficientCredits(nil), .submitFailed, .apiRefused),
            (.validation(["width"]), .submitFailed, .apiRefused),
            (.invalidKey, .submitFailed, .apiRefused),
            (.serverError(status: 500, message: nil), .submitFailed, .apiRefused),
        ]
        for (error, event, kind) in table {
            let mapped = LifecycleEvent.submitFailure(error)
            #expect(mapped.event == event && mapped.kind == kind, "\(error)")
        }
    }

    @Test("a failed poll: 404 counts, what may pass is polled again, a refusal ends it")
    func pollFailures() {
        let table: [(BFLError, LifecycleEvent)] = [
            (.notFound(nil), .notFound),
            (.network("timeout"), .pollTrouble), (.serverError(status: 502, message: nil), .pollTrouble),
            (.malformedResponse("not JSON"), .pollTrouble), (.unexpectedStatus(status: 418, message: nil), .pollTrouble),
            (.invalidKey, .pollRefused), (.permissionDenied(nil), .pollRefused), (.refusedURL("file://x"), .pollRefused),
            (.replyTooLarge(limit: 1_048_576), .pollRefused),
        ]
        for (error, event) in table { #expect(LifecycleEvent.pollFailure(error) == event, "\(error)") }
    }

    @Test("a failed download: expired is final, a folder that cannot take it keeps the result, a refused URL is never fetched")
    func downloadFailures() {
        let table: [(BFLError, LifecycleEvent, JobErrorKind)] = [
            (.resultExpired, .resultExpired, .expired),
            (.fileSystem("read-only"), .saveFailed, .local),
            (.refusedURL("http://elsewhere"), .downloadFailed, .apiRefused),
            (.network("reset"), .downloadFailed, .network),
            (.downloadTooLarge(limit: 1), .downloadFailed, .network),
        ]
        for (error, event, kind) in table {
            let mapped = LifecycleEvent.downloadFailure(error)
            #expect(mapped.event == event && mapped.kind == kind, "\(error)")
        }
    }

    @Test("every task status has its lifecycle status; Reasoning generates, an unknown one keeps polling")
    func statuses() {
        let table: [(TaskStatus, LifecycleEvent.PollStatus)] = [
            (.pending, .pending), (.reasoning, .generating), (.generating, .generating), (.ready, .ready), (.error, .error),
            (.requestModerated, .moderated), (.contentModerated, .moderated), (.taskNotFound, .taskNotFound),
            (.unknown("Queued"), .unknown), (TaskStatus(wire: "Paused"), .unknown),
        ]
        for (status, expected) in table { #expect(LifecycleEvent.PollStatus(status) == expected, "\(status)") }
    }
}
