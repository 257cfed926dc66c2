import BFL
import Foundation
import Jobs
import TerminalCore

// The model pane: the form of settings, the model list and one-line fields.

func reducePicker(_ state: inout AppState, _ command: Command?) -> [Effect] {
    guard let highlighted = state.picker else { return [] }
    switch command {
    case .up?: state.picker = max(0, highlighted - 1)
    case .down?: state.picker = min(Catalog.all.count - 1, highlighted + 1)
    case .accept?:
        selectModel(&state, highlighted)
        state.picker = nil
    case .close?: state.picker = nil
    case .mark?:
        let id = Catalog.all[min(highlighted, Catalog.all.count - 1)].id
        if let index = state.comparedModels.firstIndex(of: id) {
            state.comparedModels.remove(at: index)
        } else {
            // The first mark also takes the model in use, which is what one compares against.
            if state.comparedModels.isEmpty, id != state.model.id { state.comparedModels.append(state.model.id) }
            state.comparedModels.append(id)
        }
    default: break
    }
    return []
}

func selectModel(_ state: inout AppState, _ index: Int) {
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

func reduceForm(_ state: inout AppState, _ command: Command?, _ key: Key) -> [Effect] {
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
    case .sweep?:
        guard state.settings.seed != nil else {
            state.message = .init(text: "a seed sweep starts from a locked seed: type one on the seed row first", isError: true)
            return []
        }
        state.settings.seedSweep.toggle()
        state.message = .init(text: state.settings.seedSweep ? "seed sweep on: each image its own seed, counting up" : "seed sweep off", isError: false, transient: true)
    case .expand?:
        switch state.plan {
        case .failure(let problem):
            state.message = .init(text: problem.messages.first ?? problem.message, isError: true)
        case .success(let plan):
            state.textOverlay = TextOverlay(title: plan.requestTitle,
                                            lines: plan.prompts.enumerated().map { "\($0.offset + 1). \($0.element ?? "(no prompt)")" })
        }
    case .body?:
        switch state.plan {
        case .failure(let problem):
            state.message = .init(text: problem.messages.first ?? problem.message, isError: true)
        case .success(let plan):
            // The first body each model is sent, exactly as it is sent.
            var lines: [String] = []
            for target in plan.targets {
                guard let first = plan.batches.first(where: { $0.model == target.model }) else { continue }
                do {
                    let prepared = try first.parameters.prepare(for: target.model)
                    if plan.targets.count > 1 { lines.append("POST /v1/\(prepared.path)  (\(target.model.displayName))") }
                    lines.append(String(decoding: try prepared.jsonBody(), as: UTF8.self))
                } catch {
                    lines.append("\(target.model.displayName): the body cannot be made: \(error)")
                }
            }
            let path = plan.targets.count == 1 ? "POST /v1/\(plan.targets[0].model.path)" : "the first body for each of \(plan.targets.count) models"
            if plan.sharesSeed {
                lines.append("seed: one for every variant, drawn when sent (image n of each: that seed + n)")
            }
            let title = plan.requestCount > 1 ? "\(path) (the first of \(plan.requestCount) requests)" : path
            state.textOverlay = TextOverlay(title: title, lines: lines)
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
func step(_ state: inout AppState, _ row: FormRow, by delta: Int) {
    let model = state.model
    switch row {
    case .model:
        selectModel(&state, (state.modelIndex + delta + Catalog.all.count) % Catalog.all.count)
    case .region:
        guard let region = state.region else {
            state.message = .init(text: "this endpoint has no regions (it is \(state.modeLabel ?? "a custom endpoint"))", isError: false)
            return
        }
        // Only the regions the endpoint has (a proxy may declare some of them).
        let all = state.regions.isEmpty ? Region.allCases : state.regions
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
        state.count = (state.count + delta).clamped(to: AppState.counts)
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
func lastSeed(_ state: AppState) -> Int {
    state.jobs.first { $0.phase == .done && $0.seed != nil }?.seed ?? 42
}

func reduceFieldEdit(_ state: inout AppState, _ key: Key, _ command: Command?) -> [Effect] {
    guard let edit = state.fieldEdit else { return [] }
    switch command {
    case .close?:
        state.fieldEdit = nil
        return edit.target == .filter ? clearFilter(&state) : []
    case .accept?:
        state.fieldEdit = nil
        return commit(&state, edit)
    case .complete?:
        guard case .row(.reference) = edit.target else { return [] }
        return [.completePath(text: edit.editor.text)]
    case let command?:
        if let editCommand = command.editCommand { editField(&state) { $0.apply(editCommand) } }
        return []
    case nil:
        if key.isText, case .char(let character) = key.code { editField(&state) { $0.insert(character) } }
        return []
    }
}

/// Shows every image again (Esc in the filter, or in the Outputs pane while a filter is on).
func clearFilter(_ state: inout AppState) -> [Effect] {
    // The unfiltered list may again have older images to read as it scrolls.
    if !state.outputsFilter.isEmpty { state.olderOutputsMayExist = true }
    state.outputsFilter = ""
    clampSelections(&state)
    return previewEffects(state)
}

/// Applies a change to the field being edited, kept to one line (a line break becomes a
/// space); the outputs filter filters as it is typed.
func editField(_ state: inout AppState, _ change: (inout TextEditor) -> Void) {
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

func commit(_ state: inout AppState, _ edit: FieldEdit) -> [Effect] {
    let text = edit.editor.text.trimmingCharacters(in: .whitespaces)
    switch edit.target {
    case .filter:
        state.outputsFilter = text
        clampSelections(&state)
        // The filter also searches the whole ledger, not only what is loaded.
        state.olderOutputsMayExist = true
        return previewEffects(state) + loadOutputs(&state, before: nil, newSearch: true)
    case .tags(let id):
        guard let job = state.jobs.first(where: { $0.id == id }) else { return [] }
        var tags: [String] = []
        for word in text.split(whereSeparator: { $0 == "," || $0.isWhitespace }) {
            let tag = OutputQuery.tag(String(word))
            if !tag.isEmpty, !tags.contains(tag) { tags.append(tag) }
        }
        return [.curate(jobID: id, starred: job.starred, tags: tags)]
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
    case .fillPrompt:
        return state.extendEdit != nil ? submitExtension(&state, prompt: text) : submitRepaint(&state, prompt: text)
    case .row(.size):
        setCustomSize(&state, text)
        return []
    case .row:
        return []
    }
}

/// A typed size ("1536x640") or aspect ratio ("21:9"), checked at once against the model.
func setCustomSize(_ state: inout AppState, _ text: String) {
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

func setReference(_ state: inout AppState, slot: Int, path: String) -> [Effect] {
    guard !path.isEmpty else {
        state.settings.references[slot] = nil
        return []
    }
    state.settings.references[slot] = ReferenceSlot(path: path)
    // Read for its size and, side by side, for the thumbnail its slot shows.
    return [.inspectReference(slot: slot, path: path)] + previewEffects(state)
}
