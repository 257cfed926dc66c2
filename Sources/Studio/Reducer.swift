import BFL
import Foundation
import Jobs
import TerminalCore

// The reducer: one entry for every action, routing keys to the pane or mode that takes them.

/// The only code that changes the studio's state. No I/O: effects are returned. `derived` is
/// refreshed where jobs or the filter change; progress, ticks and keys typed into the prompt,
/// the most common input, leave it alone.
public func reduce(_ state: inout AppState, _ action: Action) -> [Effect] {
    switch action {
    case .jobProgress(let id, let value):
        state.progress[id] = value
        return []
    case .tick(let now):
        state.tick &+= 1
        state.now = now
        if state.derived.isOtherDay(now) { state.refreshDerived() }
        return []
    case .pathCompleted(let typed, let completion):
        // Only if the field still holds what was completed (a key typed since wins).
        guard let edit = state.fieldEdit, case .row(.reference) = edit.target, edit.editor.text == typed else { return [] }
        if completion.text != typed { editField(&state) { $0.setText(completion.text) } }
        switch completion.matches.count {
        case 0: state.message = .init(text: "nothing matches \(TerminalText.sanitize(typed))", isError: true)
        case 1: state.message = nil
        default:
            let shown = completion.matches.prefix(12).map(TerminalText.sanitize).joined(separator: "  ")
            let more = completion.matches.count > 12 ? "  … \(completion.matches.count - 12) more" : ""
            state.message = .init(text: "\(completion.matches.count) match: \(shown)\(more)", isError: false)
        }
        return []
    case .formRestored(let form):
        restore(&state, form)
        return []
    case .clock(let now):
        state.now = now
        if state.derived.isOtherDay(now) { state.refreshDerived() }
        return []
    case .resize(let width, let height):
        state.width = width
        state.height = height
        return []
    case .creditsLoaded(let credits, let sequence):
        guard sequence >= state.creditsSequence else { return [] }
        state.creditsSequence = sequence
        state.credits = credits ?? state.credits
        return []
    case .creditsFailed(let text, let sequence):
        guard sequence >= state.creditsSequence else { return [] }
        state.message = .init(text: "the balance could not be read: \(TerminalText.sanitize(text))", isError: true)
        return []
    case .effectFailed(let what, let reason):
        state.message = .init(text: "could not \(TerminalText.sanitize(what)): \(TerminalText.sanitize(reason))", isError: true)
        return []
    case .chargedTodayLoaded(let credits):
        state.chargedTodayElsewhere = credits
        return []
    case .jobsLoaded(let records, let detached):
        state.detachedJobIDs.formUnion(detached)
        merge(records, into: &state)
        // Earlier prompts are the prompt's history (↑), newest nearest.
        state.editor.seedHistory(records.sorted { $0.createdAt < $1.createdAt }.map(\.prompt))
        state.refreshDerived()
        if state.outputsList.selected == nil, !state.filteredOutputs.isEmpty { state.outputsList.selected = 0 }
        if state.jobsList.selected == nil, !state.jobs.isEmpty { state.jobsList.selected = 0 }
        return previewEffects(state)
    case .jobUpdated(let record):
        return jobUpdated(&state, record)
    case .jobElsewhere(let record, let pid):
        if record.phase.isFinal {
            state.detachedJobIDs.remove(record.id)
            state.elsewherePIDs[record.id] = nil
        } else {
            state.detachedJobIDs.insert(record.id)
            state.elsewherePIDs[record.id] = pid
        }
        // Another process's job arriving above the selection leaves it on its job.
        keepingSelections(&state) { state in
            merge([record], into: &state)
            if let index = state.jobs.firstIndex(where: { $0.id == record.id }) { state.jobs[index] = record }
        }
        clampSelections(&state)  // also derives the totals again
        if state.jobsList.selected == nil, !state.jobs.isEmpty { state.jobsList.selected = 0 }
        return []
    case .submitFailed(let text):
        state.message = .init(text: TerminalText.sanitize(text), isError: true)
        return []
    case .referenceInspected(let slot, let path, let size, let problem):
        guard state.settings.references[slot]?.path == path else { return [] }
        state.settings.references[slot] = ReferenceSlot(path: path, size: size, problem: problem.map(TerminalText.sanitize))
        if let problem {
            state.message = .init(text: TerminalText.sanitize(problem), isError: true)
        } else {
            // Said, and any earlier complaint about this slot (a broken file) replaced.
            let name = TerminalText.sanitize(URL(fileURLWithPath: path).lastPathComponent)
            state.message = .init(text: "reference \(slot + 1): \(name)\(size.map { ", \($0.width)×\($0.height)" } ?? "")", isError: false)
        }
        return previewEffects(state)
    case .imageSizeRead(let path, let size, let problem):
        imageSizeRead(&state, path: path, size: size, problem: problem)
        return []
    case .outputsLoaded(let records, let filter, let exhausted, let generation):
        // Images of an older read are real images: they are kept, but only the latest read's
        // reply ends the loading and says whether more exist.
        merge(records, into: &state)
        let latest = generation == nil || generation == state.outputsGeneration
        if generation == state.outputsGeneration { state.loadingOutputs = false }
        if latest, filter == state.outputsFilter { state.olderOutputsMayExist = !exhausted }
        clampSelections(&state)
        return previewEffects(state)
    case .previewLoaded(let path, let preview, let problem, let large):
        if large {
            // Kept only while the viewer or compare still shows it (a late one is dropped).
            if let preview, largePicturePaths(state).contains(path) { state.viewerPictures[path] = preview }
            return []
        }
        if let preview {
            if state.previews.updateValue(preview, forKey: path) == nil { state.previewOrder.append(path) }
            trimPreviews(&state)
        } else {
            state.previewFailures[path] = TerminalText.message(problem ?? "the image cannot be shown")
        }
        return []
    case .outputDeleted(let id, let problem):
        if let problem {
            state.message = .init(text: TerminalText.sanitize(problem), isError: true)
            return []
        }
        if let index = state.jobs.firstIndex(where: { $0.id == id }) {
            if let path = state.jobs[index].outputPath {
                state.previews[path] = nil
                state.previewOrder.removeAll { $0 == path }
            }
            state.jobs[index].outputPath = nil
            state.jobs[index].sidecarPath = nil
        }
        clampSelections(&state)
        state.message = .init(text: "moved to the Trash (restore it from there)", isError: false)
        return previewEffects(state)
    case .jobCurated(let record):
        guard let index = state.jobs.firstIndex(where: { $0.id == record.id }) else { return [] }
        state.jobs[index].starred = record.starred
        state.jobs[index].tags = record.tags
        state.refreshDerived()
        let tags = record.tags.isEmpty ? "no tags" : "tags: " + record.tags.joined(separator: " ")
        state.message = .init(text: "\(record.starred ? "★ starred" : "not starred") · \(TerminalText.sanitize(tags))", isError: false)
        clampSelections(&state)
        return previewEffects(state)
    case .notice(let text, let isError):
        state.message = .init(text: TerminalText.sanitize(text), isError: isError)
        return []
    case .spendLoaded(let overview):
        state.spending = overview
        return []
    case .mouse(let event):
        return reduceMouse(&state, event)
    case .paste(let text):
        // Text goes where text is typed: a field, else the prompt (from any pane), never
        // under something opened over the panes.
        switch state.mode {
        case .field:
            editField(&state) { $0.insert(text) }
        case .pane:
            state.focus = .prompt
            state.editor.insert(text)
        default:
            break
        }
        return []
    case .key(let key):
        return reduceKey(&state, key)
    }
}

func reduceKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    let keymap = state.keymap
    let mode = state.mode
    let command = keymap.command(for: key, in: mode.keyContext)
    switch mode {
    case .confirm:
        guard let question = state.confirming else { return [] }
        state.confirming = nil
        state.message = nil
        // Quitting is also confirmed by the quit key pressed again.
        let yes = command == .yes || (question == .quit && keymap.command(for: key, in: .global) == .quit)
        guard yes else {
            // A no answers too: what did not happen.
            state.message = question.declined.map { .init(text: $0, isError: false) }
            return []
        }
        switch question {
        case .quit: return [.quit]
        case .abandon(let id): return [.abandon(jobID: id)]
        case .abandonGroup(let id):
            let mine = state.jobs.filter { $0.groupID == id && !$0.phase.isFinal && !state.detachedJobIDs.contains($0.id) }
            return mine.map { $0.phase == .queued ? .cancel(jobID: $0.id) : .abandon(jobID: $0.id) }
        case .delete(let id): return [.deleteOutput(jobID: id)]
        case .spend(let effects, let submission):
            if let submission { state.lastSubmission = (submission, state.now) }
            return effects
        }
    case .help:
        switch command {
        case .up?: state.helpScroll = max(0, state.helpScroll - 1)
        case .down?: state.helpScroll += 1
        case .pageUp?: state.helpScroll = max(0, state.helpScroll - 10)
        case .pageDown?: state.helpScroll += 10
        default:
            state.showHelp = false
            state.helpScroll = 0
        }
        return []
    case .details:
        // Any key closes.
        state.details = nil
        return []
    case .text:
        state.textOverlay = nil
        return []
    case .spend:
        switch command {
        case .close?: state.spendOpen = false
        case .refresh?: return [.loadSpend]
        default: break
        }
        return []
    case .compare: return reduceCompare(&state, command)
    case .viewer: return reduceViewer(&state, command)
    case .mask: return reduceMask(&state, key, command)
    case .extend: return reduceExtend(&state, key, command)
    case .gallery: return reduceGallery(&state, command)
    case .picker: return reducePicker(&state, command)
    case .field: return reduceFieldEdit(&state, key, command)
    case .pane:
        return reducePane(&state, key, command)
    }
}

/// A key for the focused pane (or the global bindings).
func reducePane(_ state: inout AppState, _ key: Key, _ command: Command?) -> [Effect] {
    switch command {
    case .quit?:
        return quit(&state)
    case .help?:
        state.showHelp = true
        return []
    case .nextPane?:
        state.focus = Focus(rawValue: (state.focus.rawValue + 1) % Focus.allCases.count) ?? .prompt
        return previewEffects(state)
    case .previousPane?:
        state.focus = Focus(rawValue: (state.focus.rawValue + Focus.allCases.count - 1) % Focus.allCases.count) ?? .prompt
        return previewEffects(state)
    case .dismiss?:
        // In Outputs under a filter, Esc clears the filter (its badge says so).
        if state.mode == .pane(.outputs), !state.outputsFilter.isEmpty {
            state.message = nil
            return clearFilter(&state)
        }
        state.message = nil
        return []
    case .spend?:
        state.spendOpen = true
        return [.loadSpend]
    default:
        break
    }
    switch state.focus {
    case .prompt:
        if command == .submit { return submit(&state) }
        if let edit = command?.editCommand {
            state.editor.apply(edit)
        } else if key.isText, case .char(let character) = key.code {
            state.editor.insert(character)
        }
        return []
    case .model:
        // The cursor moving between reference rows changes the thumbnail the pane shows.
        let effects = reduceForm(&state, command, key)
        return effects + previewEffects(state).filter { !effects.contains($0) }
    case .jobs:
        return command.map { reduceJobs(&state, $0) } ?? []
    case .outputs:
        return command.map { reduceOutputs(&state, $0) } ?? []
    }
}

/// Asks for the preview of the selected output (and of the job whose details are open, and of
/// the reference the Model pane shows) when it is not known yet.
func previewEffects(_ state: AppState) -> [Effect] {
    let shown = [state.selectedOutput?.outputPath, state.details.flatMap { id in state.jobs.first { $0.id == id }?.outputPath },
                 state.shownReference?.path]
    var effects: [Effect] = []
    for case let path? in shown where state.previews[path] == nil && state.previewFailures[path] == nil {
        if !effects.contains(.loadPreview(path: path)) { effects.append(.loadPreview(path: path)) }
    }
    return effects
}

/// Adds the jobs not known yet, keeping the list newest first.
func merge(_ records: [JobRecord], into state: inout AppState) {
    let known = Set(state.jobs.map(\.id))
    let added = records.filter { !known.contains($0.id) }
    guard !added.isEmpty else { return }
    state.jobs += added
    state.jobs.sort { $0.createdAt > $1.createdAt }
}

func clampSelections(_ state: inout AppState) {
    state.refreshDerived()
    let outputs = state.filteredOutputs.count
    if let selected = state.outputsList.selected {
        state.outputsList.selected = outputs == 0 ? nil : min(selected, outputs - 1)
    } else if outputs > 0 {
        state.outputsList.selected = 0
    }
    if let selected = state.jobsList.selected {
        state.jobsList.selected = state.jobRows.isEmpty ? nil : min(selected, state.jobRows.count - 1)
    }
}
