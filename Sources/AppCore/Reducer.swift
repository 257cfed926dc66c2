public import BFL
import Foundation
import Jobs
import TerminalCore

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
        merge([record], into: &state)
        if let index = state.jobs.firstIndex(where: { $0.id == record.id }) { state.jobs[index] = record }
        clampSelections(&state)  // also derives the totals again
        if state.jobsList.selected == nil, !state.jobs.isEmpty { state.jobsList.selected = 0 }
        return []
    case .submitFailed(let text):
        state.message = .init(text: TerminalText.sanitize(text), isError: true)
        return []
    case .referenceInspected(let slot, let path, let size, let problem):
        guard state.settings.references[slot]?.path == path else { return [] }
        state.settings.references[slot] = ReferenceSlot(path: path, size: size, problem: problem.map(TerminalText.sanitize))
        if let problem { state.message = .init(text: TerminalText.sanitize(problem), isError: true) }
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
    case .previewLoaded(let path, let preview, let problem):
        if let preview {
            state.previews[path] = preview
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
            if let path = state.jobs[index].outputPath { state.previews[path] = nil }
            state.jobs[index].outputPath = nil
            state.jobs[index].sidecarPath = nil
        }
        clampSelections(&state)
        state.message = .init(text: "deleted", isError: false)
        return previewEffects(state)
    case .notice(let text, let isError):
        state.message = .init(text: TerminalText.sanitize(text), isError: isError)
        return []
    case .mouse(let event):
        return reduceMouse(&state, event)
    case .paste(let text):
        guard state.confirming == nil, !state.showHelp, state.picker == nil, state.details == nil else { return [] }
        if state.fieldEdit != nil {
            editField(&state) { $0.insert(text) }
        } else {
            state.focus = .prompt
            state.editor.insert(text)
        }
        return []
    case .key(let key):
        return reduceKey(&state, key)
    }
}

private func jobUpdated(_ state: inout AppState, _ record: JobRecord) -> [Effect] {
    let wasFinal = state.jobs.first { $0.id == record.id }?.phase.isFinal ?? false
    state.detachedJobIDs.remove(record.id)
    state.elsewherePIDs[record.id] = nil
    // A selection at the top follows the newest image; one further down stays on its image.
    let selectedOutput = state.outputsList.selected == 0 ? nil : state.selectedOutput?.id
    if let index = state.jobs.firstIndex(where: { $0.id == record.id }) {
        state.jobs[index] = record
    } else {
        state.jobs.insert(record, at: 0)
        state.sessionJobIDs.insert(record.id)
        if state.message?.transient == true { state.message = nil }
        // A selection at the top follows the newest job; one further down stays on its job.
        if let selected = state.jobsList.selected { state.jobsList.selected = selected == 0 ? 0 : selected + 1 } else { state.jobsList.selected = 0 }
    }
    if record.phase.isFinal { state.progress[record.id] = nil }
    state.refreshDerived()
    // Keep the same output selected as new ones arrive above it.
    let outputs = state.filteredOutputs
    if let selectedOutput, let index = outputs.firstIndex(where: { $0.id == selectedOutput }) {
        state.outputsList.selected = index
    } else if state.outputsList.selected == nil, !outputs.isEmpty {
        state.outputsList.selected = 0
    }
    guard record.phase.isFinal, !wasFinal else { return [] }
    if let error = record.errorMessage, record.phase != .done {
        state.message = .init(text: "\(record.shortID) \(record.phase.rawValue): \(TerminalText.sanitize(error))", isError: true)
    }
    return [.refreshCredits] + previewEffects(state)
}

/// Asks for the preview of the selected output (and of the job whose details are open) when
/// it is not known yet.
private func previewEffects(_ state: AppState) -> [Effect] {
    let shown = [state.selectedOutput?.outputPath, state.details.flatMap { id in state.jobs.first { $0.id == id }?.outputPath }]
    var effects: [Effect] = []
    for case let path? in shown where state.previews[path] == nil && state.previewFailures[path] == nil {
        if !effects.contains(.loadPreview(path: path)) { effects.append(.loadPreview(path: path)) }
    }
    return effects
}

/// Adds the jobs not known yet, keeping the list newest first.
private func merge(_ records: [JobRecord], into state: inout AppState) {
    let known = Set(state.jobs.map(\.id))
    let added = records.filter { !known.contains($0.id) }
    guard !added.isEmpty else { return }
    state.jobs += added
    state.jobs.sort { $0.createdAt > $1.createdAt }
}

private func clampSelections(_ state: inout AppState) {
    state.refreshDerived()
    let outputs = state.filteredOutputs.count
    if let selected = state.outputsList.selected {
        state.outputsList.selected = outputs == 0 ? nil : min(selected, outputs - 1)
    } else if outputs > 0 {
        state.outputsList.selected = 0
    }
    if let selected = state.jobsList.selected {
        state.jobsList.selected = state.jobs.isEmpty ? nil : min(selected, state.jobs.count - 1)
    }
}

// MARK: - keys

private func reduceKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    let keymap = state.keymap
    if let question = state.confirming {
        state.confirming = nil
        state.message = nil
        // Quitting is also confirmed by the quit key pressed again.
        let yes = keymap.command(for: key, in: .confirm) == .yes
            || (question == .quit && keymap.command(for: key, in: .global) == .quit)
        guard yes else { return [] }
        switch question {
        case .quit: return [.quit]
        case .abandon(let id): return [.abandon(jobID: id)]
        case .delete(let id): return [.deleteOutput(jobID: id)]
        case .spend(let effect): return [effect]
        }
    }
    if state.showHelp {
        switch keymap.command(for: key, in: .help) {
        case .up?: state.helpScroll = max(0, state.helpScroll - 1)
        case .down?: state.helpScroll += 1
        case .pageUp?: state.helpScroll = max(0, state.helpScroll - 10)
        case .pageDown?: state.helpScroll += 10
        default:
            state.showHelp = false
            state.helpScroll = 0
        }
        return []
    }
    if state.details != nil {
        state.details = nil
        return []
    }
    if state.picker != nil { return reducePicker(&state, keymap.command(for: key, in: .picker)) }
    if state.fieldEdit != nil { return reduceFieldEdit(&state, key, keymap.command(for: key, in: .field)) }
    let command = keymap.command(for: key, in: KeyContext(state.focus))
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
        state.message = nil
        return []
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
        return reduceForm(&state, command, key)
    case .jobs:
        return command.map { reduceJobs(&state, $0) } ?? []
    case .outputs:
        return command.map { reduceOutputs(&state, $0) } ?? []
    }
}

private func reducePicker(_ state: inout AppState, _ command: Command?) -> [Effect] {
    guard let highlighted = state.picker else { return [] }
    switch command {
    case .up?: state.picker = max(0, highlighted - 1)
    case .down?: state.picker = min(Catalog.all.count - 1, highlighted + 1)
    case .accept?:
        selectModel(&state, highlighted)
        state.picker = nil
    case .close?: state.picker = nil
    default: break
    }
    return []
}

private func selectModel(_ state: inout AppState, _ index: Int) {
    guard index != state.modelIndex else { return }
    let oldRow = state.formRow
    let oldRule = state.model.sizeRule
    state.modelIndex = index
    state.sizeIndex = 0
    if state.model.sizeRule != oldRule { state.customSize = nil }
    // Steps and guidance ranges differ between models; the new model starts from its defaults.
    state.settings.steps = nil
    state.settings.guidance = nil
    state.formIndex = state.formRows.firstIndex(of: oldRow) ?? 0
    let slots = state.referenceSlots
    let dropped = state.settings.references.keys.filter { $0 >= slots }
    for slot in dropped { state.settings.references[slot] = nil }
    if !dropped.isEmpty {
        state.message = .init(text: "\(state.model.displayName) takes \(slots == 0 ? "no" : "\(slots)") reference image\(slots == 1 ? "" : "s"); \(dropped.count) left out", isError: false)
    }
}

private func reduceForm(_ state: inout AppState, _ command: Command?, _ key: Key) -> [Effect] {
    let rows = state.formRows
    let row = state.formRow
    switch command {
    case .up?:
        state.formIndex = max(0, min(state.formIndex, rows.count - 1) - 1)
    case .down?:
        state.formIndex = min(rows.count - 1, state.formIndex + 1)
    case .left?:
        step(&state, row, by: -1)
    case .right?:
        step(&state, row, by: 1)
    case .reset?:
        switch row {
        case .seed: state.settings.seed = nil
        case .size: state.customSize = nil
        case .reference(let slot): state.settings.references[slot] = nil
        case .format: state.settings.format = nil
        case .safety: state.settings.safety = nil
        case .steps: state.settings.steps = nil
        case .guidance: state.settings.guidance = nil
        case .upsampling: state.settings.upsampling = nil
        case .raw: if state.model.fixedFields["raw"] == true { step(&state, .raw, by: 1) }
        default: break
        }
    case .submit? where !row.isText && row != .model:
        return submit(&state)
    case .submit?, .edit?:
        switch row {
        case .model:
            state.picker = state.modelIndex
        case .seed:
            state.fieldEdit = FieldEdit(target: .row(.seed), editor: TextEditor(text: state.settings.seed.map(String.init) ?? ""))
        case .size where state.model.sizeRule != .sameAsImage:
            state.fieldEdit = FieldEdit(target: .row(.size), editor: TextEditor(text: state.sizeChoice))
        case .reference(let slot):
            state.fieldEdit = FieldEdit(target: .row(row), editor: TextEditor(text: state.settings.references[slot]?.path ?? ""))
        default:
            break
        }
    case nil:
        // A digit on the seed row starts typing a seed.
        if row == .seed, key.isText, case .char(let character) = key.code, character.isASCII, character.isNumber {
            state.fieldEdit = FieldEdit(target: .row(.seed), editor: TextEditor(text: String(character)))
        }
    default:
        break
    }
    return []
}

/// Steps the value of a form row.
private func step(_ state: inout AppState, _ row: FormRow, by delta: Int) {
    let model = state.model
    switch row {
    case .model:
        selectModel(&state, (state.modelIndex + delta + Catalog.all.count) % Catalog.all.count)
    case .region:
        guard let region = state.region else {
            state.message = .init(text: "this endpoint has no regions (it is \(state.modeLabel ?? "a custom endpoint"))", isError: false)
            return
        }
        let all = Region.allCases
        let index = all.firstIndex(of: region) ?? 0
        state.region = all[(index + delta + all.count) % all.count]
    case .size:
        if let custom = state.customSize {
            // Stepping leaves a typed size for the nearest preset.
            state.customSize = nil
            state.sizeIndex = state.sizeChoices.firstIndex(of: custom) ?? state.sizeIndex
            return
        }
        state.sizeIndex = (state.sizeIndex + delta).clamped(to: 0...(state.sizeChoices.count - 1))
    case .count:
        state.count = (state.count + delta).clamped(to: 1...24)
    case .seed:
        state.settings.seed = state.settings.seed.map { max(0, $0 + delta) } ?? lastSeed(state)
    case .format:
        let all = OutputFormat.allCases
        let index = all.firstIndex(of: state.format) ?? 0
        state.settings.format = all[(index + delta).clamped(to: 0...(all.count - 1))]
    case .safety:
        state.settings.safety = (state.safety + delta).clamped(to: model.family.safetyRange)
    case .steps:
        guard let range = model.family.stepsRange, let steps = state.steps else { return }
        state.settings.steps = (steps + delta).clamped(to: range)
    case .guidance:
        guard let range = model.family.guidanceRange, let guidance = state.guidance else { return }
        let stepSize = range.upperBound > 20 ? 5.0 : 0.5
        state.settings.guidance = (guidance + Double(delta) * stepSize).clamped(to: range)
    case .upsampling:
        state.settings.upsampling = !(state.settings.upsampling ?? false)
    case .raw:
        // Raw is its own catalog entry (same path, `raw: true`); the toggle swaps the two.
        let target = model.fixedFields["raw"] == true ? "flux-pro-1.1-ultra" : "flux-pro-1.1-ultra-raw"
        if let index = Catalog.all.firstIndex(where: { $0.id == target }) { selectModel(&state, index) }
    case .reference:
        break
    }
}

/// The seed of the newest finished job, for locking the seed to what was just seen.
private func lastSeed(_ state: AppState) -> Int {
    state.jobs.first { $0.phase == .done && $0.seed != nil }?.seed ?? 42
}

private func reduceFieldEdit(_ state: inout AppState, _ key: Key, _ command: Command?) -> [Effect] {
    guard let edit = state.fieldEdit else { return [] }
    switch command {
    case .close?:
        state.fieldEdit = nil
        if edit.target == .filter {
            // The unfiltered list may again have older images to read as it scrolls.
            if !state.outputsFilter.isEmpty { state.olderOutputsMayExist = true }
            state.outputsFilter = ""
            clampSelections(&state)
            return previewEffects(state)
        }
        return []
    case .accept?:
        state.fieldEdit = nil
        return commit(&state, edit)
    case let command?:
        if let editCommand = command.editCommand { editField(&state) { $0.apply(editCommand) } }
        return []
    case nil:
        if key.isText, case .char(let character) = key.code { editField(&state) { $0.insert(character) } }
        return []
    }
}

/// Applies a change to the field being edited, kept to one line (a line break becomes a
/// space); the outputs filter filters as it is typed.
private func editField(_ state: inout AppState, _ change: (inout TextEditor) -> Void) {
    guard var edit = state.fieldEdit else { return }
    change(&edit.editor)
    let text = edit.editor.text.replacingOccurrences(of: "\n", with: " ")
    if text != edit.editor.text { edit.editor.setText(text) }
    state.fieldEdit = edit
    guard edit.target == .filter else { return }
    state.outputsFilter = text
    state.refreshDerived()
    state.outputsList.selected = state.filteredOutputs.isEmpty ? nil : 0
}

private func commit(_ state: inout AppState, _ edit: FieldEdit) -> [Effect] {
    let text = edit.editor.text.trimmingCharacters(in: .whitespaces)
    switch edit.target {
    case .filter:
        state.outputsFilter = text
        clampSelections(&state)
        // The filter also searches the whole ledger, not only what is loaded.
        state.olderOutputsMayExist = true
        return previewEffects(state) + loadOutputs(&state, before: nil, newSearch: true)
    case .row(.seed):
        if text.isEmpty {
            state.settings.seed = nil
        } else if let seed = Int(text), seed >= 0 {
            state.settings.seed = seed
        } else {
            state.message = .init(text: "a seed is a whole number of 0 or more (got \"\(TerminalText.sanitize(text))\")", isError: true)
        }
        return []
    case .row(.reference(let slot)):
        return setReference(&state, slot: slot, path: text)
    case .row(.size):
        setCustomSize(&state, text)
        return []
    case .row:
        return []
    }
}

/// A typed size ("1536x640") or aspect ratio ("21:9"), checked at once against the model.
private func setCustomSize(_ state: inout AppState, _ text: String) {
    let model = state.model
    let cleaned = text.replacingOccurrences(of: " ", with: "")
    guard !cleaned.isEmpty else {
        state.customSize = nil
        return
    }
    var probe = GenerationParameters(prompt: "size check")
    switch model.sizeRule {
    case .flux2, .pro11:
        guard let size = PixelSize(parsing: cleaned) else {
            state.message = .init(text: "a size is width x height, such as 1536x640 (got \"\(TerminalText.sanitize(text))\")", isError: true)
            return
        }
        probe.width = size.width
        probe.height = size.height
        state.customSize = "\(size.width)x\(size.height)"
    case .aspectRatio, .aspectRatioUltra:
        let parts = cleaned.split(separator: ":")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else {
            state.message = .init(text: "an aspect ratio is width:height, such as 21:9 (got \"\(TerminalText.sanitize(text))\")", isError: true)
            return
        }
        probe.aspectRatio = "\(w):\(h)"
        state.customSize = probe.aspectRatio
    case .sameAsImage:
        return
    }
    // Say at once what the model would refuse (the request is checked again on submit).
    let sizeFields: Set<String> = ["width", "height", "aspect_ratio"]
    let issues = probe.validate(for: model).filter { sizeFields.contains($0.field) }
    if let problem = issues.first(where: { $0.severity == .error }) {
        state.message = .init(text: problem.message, isError: true)
        state.customSize = nil
    } else if let warning = issues.first {
        state.message = .init(text: warning.message, isError: false)
    }
}

private func setReference(_ state: inout AppState, slot: Int, path: String) -> [Effect] {
    guard !path.isEmpty else {
        state.settings.references[slot] = nil
        return []
    }
    state.settings.references[slot] = ReferenceSlot(path: path)
    return [.inspectReference(slot: slot, path: path)]
}

private func reduceJobs(_ state: inout AppState, _ command: Command) -> [Effect] {
    let count = state.jobs.count
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
        if job.phase == .queued { return [.cancel(jobID: job.id)] }
        state.message = .init(text: job.phase.isFinal ? "this job has ended" : "this job was sent; a (abandon) stops following it", isError: false)
    case .abandon:
        guard let job = state.selectedJob else { return [] }
        if job.phase == .queued { return [.cancel(jobID: job.id)] }
        guard !job.phase.isFinal else {
            state.message = .init(text: "this job has ended", isError: false)
            return []
        }
        state.confirming = .abandon(jobID: job.id)
        state.message = .init(text: "Abandon \(job.shortID)? It was sent, so BFL may still charge for it. (y/n)", isError: false)
    case .again, .againNewSeed:
        guard let job = state.selectedJob else { return [] }
        return rerun(&state, job, newSeed: command == .againNewSeed)
    default: break
    }
    return []
}

private func rerun(_ state: inout AppState, _ job: JobRecord, newSeed: Bool) -> [Effect] {
    if let blocked = budgetProblem(state, adding: job.estimate) {
        state.message = .init(text: blocked, isError: true)
        return []
    }
    let effect = Effect.rerun(jobID: job.id, newSeed: newSeed)
    if asksFirst(&state, effect, credits: job.estimate, what: "1 × \(Catalog.model(id: job.model)?.displayName ?? job.model) again") {
        return []
    }
    state.message = .init(text: "running \(job.shortID) again with \(newSeed ? "a new seed" : job.seed.map { "seed \($0)" } ?? "the same request")",
                          isError: false, transient: true)
    return [effect]
}

private func reduceOutputs(_ state: inout AppState, _ command: Command) -> [Effect] {
    let count = state.filteredOutputs.count
    switch command {
    case .up: state.outputsList.move(by: -1, count: count)
    case .pageUp: state.outputsList.move(by: -10, count: count)
    case .first: state.outputsList.selected = count == 0 ? nil : 0
    case .down, .pageDown, .last:
        switch command {
        case .down: state.outputsList.move(by: 1, count: count)
        case .pageDown: state.outputsList.move(by: 10, count: count)
        default: state.outputsList.selected = count == 0 ? nil : count - 1
        }
        // Near the end of what is loaded, read the next page of older images.
        if let selected = state.outputsList.selected, selected >= count - 5 {
            return previewEffects(state) + loadOutputs(&state, before: state.filteredOutputs.last?.createdAt)
        }
    case .filter:
        state.fieldEdit = FieldEdit(target: .filter, editor: TextEditor(text: state.outputsFilter))
        return []
    case .details:
        state.details = state.selectedOutput?.id
        return []
    default:
        guard let job = state.selectedOutput, let path = job.outputPath else { return [] }
        switch command {
        case .open: return [.open(path: path)]
        case .copyPath: return [.copy(text: path)]
        case .delete:
            state.confirming = .delete(jobID: job.id)
            state.message = .init(text: "Delete \(URL(fileURLWithPath: path).lastPathComponent) and its sidecar? (y/n)", isError: false)
            return []
        case .again, .againNewSeed: return rerun(&state, job, newSeed: command == .againNewSeed)
        case .useAsReference: return useAsReference(&state, path)
        default: return []
        }
    }
    return previewEffects(state)
}

/// Asks for older images when the ledger may have some and no read is under way; a new
/// search (a committed filter) is asked for even while an older read runs.
private func loadOutputs(_ state: inout AppState, before: Date?, newSearch: Bool = false) -> [Effect] {
    guard state.olderOutputsMayExist, newSearch || !state.loadingOutputs else { return [] }
    state.loadingOutputs = true
    state.outputsGeneration += 1
    return [.loadOutputs(before: before, filter: state.outputsFilter, generation: state.outputsGeneration)]
}

private func useAsReference(_ state: inout AppState, _ path: String) -> [Effect] {
    let slots = state.referenceSlots
    guard slots > 0 else {
        state.message = .init(text: "\(state.model.displayName) takes no reference images; choose another model first", isError: true)
        return []
    }
    guard let slot = (0..<slots).first(where: { (state.settings.references[$0]?.path ?? "").isEmpty }) else {
        state.message = .init(text: "all \(slots) reference slots of \(state.model.displayName) are full; clear one in the model pane (Del)", isError: true)
        return []
    }
    state.message = .init(text: "reference \(slot + 1): \(URL(fileURLWithPath: path).lastPathComponent)", isError: false)
    return setReference(&state, slot: slot, path: path)
}

private func quit(_ state: inout AppState) -> [Effect] {
    guard state.runningCount > 0 else { return [.quit] }
    state.confirming = .quit
    let fate = state.jobsOutliveSession ? "they continue next time" : "the built-in simulator stops with the studio, so they will not finish"
    state.message = .init(text: "\(state.runningCount) job(s) still running; \(fate). Quit? (y/n)", isError: false)
    return []
}

/// Why the budget forbids spending `credits` more, if it does.
public func budgetProblem(_ state: AppState, adding credits: Credits) -> String? {
    let committed = state.pendingEstimate
    if let daily = state.budget.daily, state.todayCharged + committed + credits > daily {
        return "over the daily budget: \(state.todayCharged) charged today + \(committed + credits) asked > \(daily) (budget.daily in config.toml)"
    }
    if let session = state.budget.session, state.sessionCharged + committed + credits > session {
        return "over the session budget: \(state.sessionCharged) charged + \(committed + credits) asked > \(session) (budget.session in config.toml)"
    }
    return nil
}

private func submit(_ state: inout AppState) -> [Effect] {
    if let waiting = state.filledReferences.first(where: { $0.reference.size == nil || $0.reference.problem != nil }) {
        let problem = waiting.reference.problem ?? "reference \(waiting.slot + 1) is still being read"
        state.message = .init(text: problem, isError: true)
        return []
    }
    let parameters = state.parameters
    let problems = parameters.validate(for: state.model).filter { $0.severity == .error }
    if let first = problems.first {
        state.message = .init(text: first.message, isError: true)
        return []
    }
    let estimate = state.estimate
    if let blocked = budgetProblem(state, adding: estimate.credits) {
        state.message = .init(text: blocked, isError: true)
        return []
    }
    state.editor.commitToHistory()
    let effect = Effect.submit(modelID: state.model.id, parameters: parameters, count: state.count, region: state.region)
    if asksFirst(&state, effect, credits: estimate.credits, what: "\(state.count) × \(state.model.displayName)") {
        return []
    }
    state.message = .init(text: "submitting \(state.count) × \(state.model.displayName) (~\(estimate.credits) credits)", isError: false, transient: true)
    return [effect]
}

/// When spending `credits` on `what` is at or above the budget's `confirmAbove`, holds
/// `effect` until a y and asks; true when it asked (nothing is sent yet).
private func asksFirst(_ state: inout AppState, _ effect: Effect, credits: Credits, what: String) -> Bool {
    guard let threshold = state.budget.confirmAbove, threshold > .zero, credits >= threshold else { return false }
    state.confirming = .spend(effect)
    state.message = .init(text: "Send \(what) for \(credits) credits (\(credits.usdText))? At or above budget.confirm_above = \(threshold). (y/n)",
                          isError: false)
    return true
}

// MARK: - mouse

private func reduceMouse(_ state: inout AppState, _ event: MouseEvent) -> [Effect] {
    guard state.confirming == nil, !state.showHelp, state.picker == nil, state.details == nil else { return [] }
    let layout = StudioLayout(width: state.width, height: state.height)
    guard let (focus, _) = layout.pane(at: event.x, event.y) else { return [] }
    switch event.kind {
    case .press:
        // The rows as they were drawn when the click came (before it closes a field).
        let body = layout.listBody(focus, filterShown: state.outputsFilterShown)
        if state.fieldEdit != nil { state.fieldEdit = nil }
        state.focus = focus
        guard body.contains(x: event.x, y: event.y) else { return previewEffects(state) }
        let row = event.y - body.y
        switch focus {
        case .jobs:
            let index = StudioLayout.offset(selected: state.jobsList.selected, visible: body.height) + row
            if index < state.jobs.count { state.jobsList.selected = index }
        case .outputs:
            let index = StudioLayout.offset(selected: state.outputsList.selected, visible: body.height) + row
            if index < state.filteredOutputs.count { state.outputsList.selected = index }
        case .model:
            // The form scrolls like the lists when it has more rows than fit.
            let index = StudioLayout.offset(selected: min(state.formIndex, state.formRows.count - 1), visible: body.height) + row
            if index < state.formRows.count { state.formIndex = index }
        case .prompt: break
        }
        return previewEffects(state)
    case .scrollUp, .scrollDown:
        let delta = event.kind == .scrollUp ? -1 : 1
        switch focus {
        case .jobs: state.jobsList.move(by: delta, count: state.jobs.count)
        case .outputs: state.outputsList.move(by: delta, count: state.filteredOutputs.count)
        case .model: state.formIndex = min(max(0, state.formIndex + delta), state.formRows.count - 1)
        case .prompt: break
        }
        return previewEffects(state)
    case .release:
        return []
    }
}
