import BFL
import Foundation
import Jobs
import TerminalCore

// The jobs pane: engine events and what keys do to the selected job.

/// Runs `change` (jobs added or changed, here or by another process) keeping the selections
/// where the user left them: a selection at the top follows the newest job or image; one
/// further down stays on its job, group or image as new ones arrive above it.
func keepingSelections(_ state: inout AppState, _ change: (inout AppState) -> Void) {
    let selectedOutput = state.outputsList.selected == 0 ? nil : state.selectedOutput?.id
    let selectedRow = state.jobsList.selected == 0 ? nil : state.jobsList.selected.flatMap(state.rowKey)
    change(&state)
    state.refreshDerived()
    if let selectedRow, let index = state.rowIndex(selectedRow) { state.jobsList.selected = index }
    let outputs = state.filteredOutputs
    if let selectedOutput, let index = outputs.firstIndex(where: { $0.id == selectedOutput }) {
        state.outputsList.selected = index
    } else if state.outputsList.selected == nil, !outputs.isEmpty {
        state.outputsList.selected = 0
    }
}

func jobUpdated(_ state: inout AppState, _ record: JobRecord) -> [Effect] {
    let wasFinal = state.jobs.first { $0.id == record.id }?.phase.isFinal ?? false
    state.detachedJobIDs.remove(record.id)
    state.elsewherePIDs[record.id] = nil
    keepingSelections(&state) { state in
        if let index = state.jobs.firstIndex(where: { $0.id == record.id }) {
            state.jobs[index] = record
        } else {
            state.jobs.insert(record, at: 0)
            state.sessionJobIDs.insert(record.id)
            if state.message?.transient == true { state.message = nil }
            if state.jobsList.selected == nil { state.jobsList.selected = 0 }
        }
        if record.phase.isFinal { state.progress[record.id] = nil }
    }
    guard record.phase.isFinal, !wasFinal else { return [] }
    if let error = record.errorMessage, record.phase != .done {
        let advice = state.advice(for: record).map { " · " + $0 } ?? ""
        // The phase once: an error that starts with it ("abandoned after it was sent") is not
        // prefixed with it again.
        let text = TerminalText.sanitize(error)
        let said = text.lowercased().hasPrefix(record.phase.rawValue.lowercased()) ? text : "\(record.phase.rawValue): \(text)"
        state.message = .init(text: "\(record.shortID) \(said)\(advice)", isError: true)
    }
    return [.refreshCredits] + previewEffects(state) + finishedGroupNotice(state, record)
}

/// When `record` was the last unfinished job of a submission made in this session (its
/// group) and the group took at least `notify.minSeconds`: a notification saying how it went.
func finishedGroupNotice(_ state: AppState, _ record: JobRecord) -> [Effect] {
    guard state.notify.via != .off, let group = record.groupID, state.sessionJobIDs.contains(record.id) else { return [] }
    let members = state.jobs.filter { $0.groupID == group }
    guard members.allSatisfy(\.phase.isFinal), let started = members.map(\.createdAt).min() else { return [] }
    let ended = members.compactMap(\.finishedAt).max() ?? state.now
    let seconds = ended.timeIntervalSince(started)
    guard seconds >= state.notify.minSeconds else { return [] }
    let done = members.filter { $0.phase == .done }.count
    let model = Catalog.model(id: record.model)?.displayName ?? record.model
    let rest = members.count - done
    let body = "\(done) of \(members.count) saved" + (rest > 0 ? ", \(rest) not" : "") + " in \(Int(min(seconds, 1e9).rounded())) s · " + TerminalText.sanitize(String(record.prompt.prefix(60)))
    let title = "fluxdeck: \(members.count) × \(model) finished" + (state.runningCount == 0 ? " (queue empty)" : "")
    return [.notify(title: title, body: body, via: state.notify.via)]
}

func reduceJobs(_ state: inout AppState, _ command: Command) -> [Effect] {
    let count = state.jobRows.count
    if case .group(let id, _)? = state.selectedRow, let effects = reduceGroup(&state, command, id) { return effects }
    if [.cancel, .abandon, .again, .againNewSeed].contains(command), let job = state.selectedJob,
       !job.phase.isFinal, state.detachedJobIDs.contains(job.id) {
        // Another fluxdeck (or another endpoint) follows it: nothing here may send it again.
        let owner = state.elsewherePIDs[job.id].map { "fluxdeck pid \($0)" } ?? "another fluxdeck or endpoint"
        state.message = .init(text: "this job is followed by \(owner); it is adopted here if that stops", isError: false)
        return []
    }
    switch command {
    case .up: state.jobsList.move(by: -1, count: count)
    case .down: state.jobsList.move(by: 1, count: count)
    case .pageUp: state.jobsList.move(by: -10, count: count)
    case .pageDown: state.jobsList.move(by: 10, count: count)
    case .first: state.jobsList.selected = count == 0 ? nil : 0
    case .last: state.jobsList.selected = count == 0 ? nil : count - 1
    case .details:
        state.details = state.selectedJob?.id
        return previewEffects(state)
    case .again where state.selectedJob?.phase == .saveFailed:
        guard let job = state.selectedJob else { return [] }
        state.message = .init(text: "downloading \(job.shortID) again (nothing is sent to BFL)", isError: false, transient: true)
        return [.retrySave(jobID: job.id)]
    case .cancel:
        guard let job = state.selectedJob else { return [] }
        if job.phase == .queued {
            state.message = .init(text: "cancelled \(job.shortID) before it was sent; nothing is charged", isError: false)
            return [.cancel(jobID: job.id)]
        }
        state.message = .init(text: job.phase.isFinal ? "this job has ended" : "this job was sent; \(state.keyName(.abandon, in: .jobs)) (abandon) stops following it", isError: false)
    case .abandon:
        guard let job = state.selectedJob else { return [] }
        if job.phase == .queued { return [.cancel(jobID: job.id)] }
        guard !job.phase.isFinal else {
            state.message = .init(text: "this job has ended", isError: false)
            return []
        }
        state.confirming = .abandon(jobID: job.id)
        state.message = .init(text: "Abandon \(job.shortID)? It was sent, so BFL may still charge for it. \(state.yesNo)", isError: false)
    case .again, .againNewSeed:
        guard let job = state.selectedJob else { return [] }
        return rerun(&state, job, newSeed: command == .againNewSeed)
    case .left:
        // On a job under an open group: close the group, on its row.
        guard let (id, _) = state.selectedGroup else { return [] }
        setGroup(&state, id, open: false)
    case .group:
        guard let job = state.selectedJob else { return [] }
        guard let group = job.groupID else {
            state.message = .init(text: "this job was sent alone (no group)", isError: false)
            return []
        }
        return showGroup(&state, group)
    default: break
    }
    return []
}

/// Keys on a group's row; nil for the keys that work there as on any row (moving, g).
func reduceGroup(_ state: inout AppState, _ command: Command, _ id: String) -> [Effect]? {
    let members = state.jobs.filter { $0.groupID == id }
    let mine = members.filter { !state.detachedJobIDs.contains($0.id) }
    switch command {
    case .right, .details:
        // Enter toggles; → only opens.
        setGroup(&state, id, open: command == .right || !state.expandedGroups.contains(id))
        return []
    case .left:
        setGroup(&state, id, open: false)
        return []
    case .cancel:
        let queued = mine.filter { $0.phase == .queued }
        state.message = .init(text: queued.isEmpty ? "nothing of this group is still queued here" : "cancelling \(queued.count) queued job\(queued.count == 1 ? "" : "s")",
                              isError: false, transient: !queued.isEmpty)
        return queued.map { .cancel(jobID: $0.id) }
    case .abandon:
        let sent = mine.filter { !$0.phase.isFinal && $0.phase != .queued }
        let queued = mine.filter { $0.phase == .queued }
        guard !sent.isEmpty else {
            state.message = .init(text: queued.isEmpty ? "every job of this group has ended" : "nothing was sent yet; c cancels the queued ones", isError: false)
            return []
        }
        state.confirming = .abandonGroup(id)
        state.message = .init(text: "Abandon \(sent.count) sent job\(sent.count == 1 ? "" : "s") of this group\(queued.isEmpty ? "" : " and cancel \(queued.count) queued")? BFL may still charge for them. \(state.yesNo)",
                              isError: false)
        return []
    case .again, .againNewSeed:
        let credits = members.reduce(Credits.zero) { $0 + $1.estimate }
        if let blocked = budgetProblem(state, adding: credits) {
            state.message = .init(text: blocked, isError: true)
            return []
        }
        let effects = members.map { Effect.rerun(jobID: $0.id, newSeed: command == .againNewSeed) }
        if asksFirst(&state, effects, credits: credits, what: "\(members.count) jobs of this group again") { return [] }
        state.message = .init(text: "running \(members.count) jobs again", isError: false)
        return effects
    case .group:
        return showGroup(&state, id)
    default:
        return nil
    }
}

/// Opens or closes a group's row, the selection staying on it.
func setGroup(_ state: inout AppState, _ id: String, open: Bool) {
    if open { state.expandedGroups.insert(id) } else { state.expandedGroups.remove(id) }
    state.refreshDerived()
    state.jobsList.selected = state.rowIndex(JobRow.groupKey(id))
}

/// A submission's images in the gallery: the outputs filtered to `group:ID`, as if typed
/// (and searched in the ledger); Esc there returns to the filtered list.
func showGroup(_ state: inout AppState, _ group: String) -> [Effect] {
    state.focus = .outputs
    let effects = commit(&state, FieldEdit(target: .filter, editor: TextEditor(text: "group:" + String(group.prefix(8)).lowercased())))
    state.gallery = true
    return effects + galleryEffects(state)
}

func rerun(_ state: inout AppState, _ job: JobRecord, newSeed: Bool) -> [Effect] {
    if let blocked = budgetProblem(state, adding: job.estimate) {
        state.message = .init(text: blocked, isError: true)
        return []
    }
    let effect = Effect.rerun(jobID: job.id, newSeed: newSeed)
    if asksFirst(&state, [effect], credits: job.estimate, what: "1 × \(Catalog.model(id: job.model)?.displayName ?? job.model) again") {
        return []
    }
    // Kept when the new job appears (a transient one would flash by): it says what was sent.
    state.message = .init(text: "running \(job.shortID) again with \(newSeed ? "a new seed" : job.seed.map { "seed \($0)" } ?? "the same request")",
                          isError: false)
    return [effect]
}
