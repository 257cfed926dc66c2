import BFL
import Foundation
public import Jobs
import TerminalCore

// The outputs pane: saved images, paging through the ledger, the filter.

func reduceOutputs(_ state: inout AppState, _ command: Command) -> [Effect] {
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
            state.message = .init(text: "Move \(URL(fileURLWithPath: path).lastPathComponent) and its sidecar to the Trash? \(state.yesNo)", isError: false)
            return []
        case .again, .againNewSeed: return rerun(&state, job, newSeed: command == .againNewSeed)
        case .useAsReference: return useAsReference(&state, path)
        case .editImage: return startEdit(&state, job)
        case .family: return showFamily(&state, job)
        case .view:
            state.viewer = job.id
            return viewerEffects(state)
        case .gallery:
            state.gallery = true
            return galleryEffects(state)
        case .mark:
            toggleMark(&state, job.id)
            return []
        case .compare:
            return openCompare(&state)
        case .star:
            state.message = .init(text: job.starred ? "unstarring" : "starring", isError: false, transient: true)
            return [toggleStar(job)]
        case .tag:
            state.fieldEdit = FieldEdit(target: .tags(jobID: job.id), editor: TextEditor(text: job.tags.joined(separator: " ")))
            return []
        default: return []
        }
    }
    return previewEffects(state)
}

/// Asks for older images when the ledger may have some and no read is under way; a new
/// search (a committed filter) is asked for even while an older read runs.
func loadOutputs(_ state: inout AppState, before: Date?, newSearch: Bool = false) -> [Effect] {
    guard state.olderOutputsMayExist, newSearch || !state.loadingOutputs else { return [] }
    state.loadingOutputs = true
    state.outputsGeneration += 1
    return [.loadOutputs(before: before, filter: state.outputsFilter, generation: state.outputsGeneration)]
}

/// `e` on an image: an edit with words. The form takes the last editing model used (FLUX.2
/// [pro] at first) unless its model edits already; the image becomes reference 1 (the other
/// references stay), the views over the panes close, and the prompt has the keys.
func startEdit(_ state: inout AppState, _ job: JobRecord) -> [Effect] {
    guard let path = job.outputPath else {
        state.message = .init(text: "\(job.shortID) has no saved image to edit", isError: true)
        return []
    }
    if !Catalog.editing.contains(state.model) {
        let wanted = Catalog.model(id: state.lastEditingModelID).flatMap { model in Catalog.editing.contains(model) ? model : nil }
            ?? Catalog.model(id: Catalog.defaultEditingModelID)
        if let wanted, let index = Catalog.all.firstIndex(of: wanted) { selectModel(&state, index) }
    }
    state.viewer = nil
    state.gallery = false
    state.comparing = false
    state.focus = .prompt
    let effects = setReference(&state, slot: 0, path: path)
    let name = TerminalText.sanitize(URL(fileURLWithPath: path).lastPathComponent)
    state.message = .init(text: "editing \(name) with \(state.model.displayName): say what to change, then \(state.keyName(.submit, in: .prompt))",
                          isError: false)
    return effects
}

func useAsReference(_ state: inout AppState, _ path: String) -> [Effect] {
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

/// The viewer: ←→ step through the filtered images (the list's selection follows), s stars,
/// Esc returns to the list where it was.
func reduceViewer(_ state: inout AppState, _ command: Command?) -> [Effect] {
    defer { pruneLargePictures(&state) }
    let outputs = state.filteredOutputs
    guard let id = state.viewer, let index = outputs.firstIndex(where: { $0.id == id }) else {
        state.viewer = nil
        return []
    }
    switch command {
    case .left?, .right?:
        let next = min(max(0, index + (command == .left ? -1 : 1)), outputs.count - 1)
        state.viewer = outputs[next].id
        state.outputsList.selected = next
        var effects = viewerEffects(state) + previewEffects(state)
        // Near the end of what is loaded, read the next page of older images.
        if next >= outputs.count - 5 { effects += loadOutputs(&state, before: outputs.last?.createdAt) }
        return effects
    case .star?:
        return [toggleStar(outputs[index])]
    case .editImage?:
        return startEdit(&state, outputs[index])
    case .parent?, .child?:
        return stepFamily(&state, from: outputs[index], toParent: command == .parent)
    case .family?:
        return showFamily(&state, outputs[index])
    case .maskMode?:
        return enterMaskMode(&state, outputs[index])
    case .extendMode?:
        return enterExtendMode(&state, outputs[index])
    case .close?:
        state.viewer = nil
        return []
    default:
        return []
    }
}

/// `[` and `]` in the viewer: to the image it was made from, or through those made from it
/// (the first, then each after the one last shown). One that the filter hides clears the filter.
func stepFamily(_ state: inout AppState, from job: JobRecord, toParent: Bool) -> [Effect] {
    let family = state.family(of: job)
    let target: JobRecord?
    if toParent {
        target = family.parents.first { $0.outputPath != nil }
    } else {
        let saved = family.children.filter { $0.outputPath != nil }
        let after = state.familyCursor.flatMap { last in saved.firstIndex { $0.id == last } }.map { $0 + 1 } ?? 0
        target = saved.isEmpty ? nil : saved[after % saved.count]
    }
    guard let target else {
        state.message = .init(text: toParent ? "\(job.shortID) was not made from a saved image here"
                                             : "nothing saved here was made from \(job.shortID)", isError: false)
        return []
    }
    if !toParent { state.familyCursor = target.id }
    var effects: [Effect] = []
    if !state.filteredOutputs.contains(where: { $0.id == target.id }) { effects += clearFilter(&state) }
    state.viewer = target.id
    if let index = state.filteredOutputs.firstIndex(where: { $0.id == target.id }) { state.outputsList.selected = index }
    return effects + viewerEffects(state)
}

/// `f` on an image: the outputs filtered to its family, as if `family:ID` were typed (and
/// searched in the ledger), oldest first; the selection (and the viewer) stay on the image.
func showFamily(_ state: inout AppState, _ job: JobRecord) -> [Effect] {
    let effects = commit(&state, FieldEdit(target: .filter, editor: TextEditor(text: "family:" + job.shortID)))
    state.outputsList.selected = state.filteredOutputs.firstIndex { $0.id == job.id } ?? state.outputsList.selected
    state.message = .init(text: "the family of \(job.shortID), oldest first: what it came from and what was made from it "
                              + "(\(state.keyName(.filter, in: .outputs)) changes the filter)", isError: false)
    return effects
}

/// The paths whose large pictures are on screen: the viewer's image, the compared ones.
func largePicturePaths(_ state: AppState) -> Set<String> {
    var ids = state.viewer.map { [$0] } ?? []
    if state.comparing { ids += state.marked }
    return Set(ids.compactMap { id in state.jobs.first { $0.id == id }?.outputPath })
}

/// Gives up the oldest previews past `AppState.previewCapacity`, keeping those on screen
/// (the selection, the gallery's page, the details, the viewer, the marked images). One given
/// up is asked for again when it is shown (from the thumbnail cache on disk).
func trimPreviews(_ state: inout AppState) {
    guard state.previews.count > AppState.previewCapacity else { return }
    let outputs = state.filteredOutputs
    var shown = Set(galleryPage(state).compactMap { outputs[$0].outputPath })
    shown.formUnion(largePicturePaths(state))
    let ids = Set(state.marked + [state.details, state.viewer].compactMap { $0 })
    shown.formUnion(state.jobs.filter { ids.contains($0.id) }.compactMap(\.outputPath))
    if let path = state.selectedOutput?.outputPath { shown.insert(path) }
    if let path = state.shownReference?.path { shown.insert(path) }
    var excess = state.previews.count - AppState.previewCapacity
    var kept: [String] = []
    kept.reserveCapacity(state.previewOrder.count)
    for path in state.previewOrder {
        if excess > 0, !shown.contains(path) {
            state.previews[path] = nil
            excess -= 1
        } else {
            kept.append(path)
        }
    }
    state.previewOrder = kept
}

/// Forgets the large pictures no longer shown (each is a few hundred kilobytes).
func pruneLargePictures(_ state: inout AppState) {
    let shown = largePicturePaths(state)
    state.viewerPictures = state.viewerPictures.filter { shown.contains($0.key) }
}

/// Stars an unstarred image, unstars a starred one (its tags kept).
func toggleStar(_ job: JobRecord) -> Effect {
    .curate(jobID: job.id, starred: !job.starred, tags: job.tags)
}

/// Asks for the viewer's large picture of its image when it is not there yet.
func viewerEffects(_ state: AppState) -> [Effect] {
    guard let id = state.viewer, let path = state.jobs.first(where: { $0.id == id })?.outputPath,
          state.viewerPictures[path] == nil else { return [] }
    return [.loadPreview(path: path, large: true)]
}

/// The gallery: arrows move through the grid (the outputs list's selection is its
/// selection), Enter views, s stars, Esc returns to the list.
func reduceGallery(_ state: inout AppState, _ command: Command?) -> [Effect] {
    let outputs = state.filteredOutputs
    let grid = StudioLayout.galleryGrid(width: state.width, height: state.height)
    let current = state.outputsList.selected ?? 0
    let step: Int? = switch command {
    case .left?: -1
    case .right?: 1
    case .up?: -grid.columns
    case .down?: grid.columns
    case .pageUp?: -grid.columns * grid.rows
    case .pageDown?: grid.columns * grid.rows
    default: nil
    }
    if let step {
        guard !outputs.isEmpty else { return [] }
        let next = min(max(0, current + step), outputs.count - 1)
        state.outputsList.selected = next
        var effects = galleryEffects(state)
        if next >= outputs.count - grid.columns * grid.rows { effects += loadOutputs(&state, before: outputs.last?.createdAt) }
        return effects
    }
    switch command {
    case .view?:
        guard outputs.indices.contains(current) else { return [] }
        state.viewer = outputs[current].id
        return viewerEffects(state)
    case .star?:
        guard outputs.indices.contains(current) else { return [] }
        return [toggleStar(outputs[current])]
    case .mark?:
        guard outputs.indices.contains(current) else { return [] }
        toggleMark(&state, outputs[current].id)
        return []
    case .compare?:
        return openCompare(&state)
    case .editImage?:
        guard outputs.indices.contains(current) else { return [] }
        return startEdit(&state, outputs[current])
    case .close?:
        state.gallery = false
        return previewEffects(state)
    default:
        return []
    }
}

/// The page of the gallery that holds the selection: which images it shows.
public func galleryPage(_ state: AppState) -> Range<Int> {
    let grid = StudioLayout.galleryGrid(width: state.width, height: state.height)
    let perPage = grid.columns * grid.rows
    let start = ((state.outputsList.selected ?? 0) / perPage) * perPage
    return start..<min(start + perPage, state.filteredOutputs.count)
}

/// Thumbnails the gallery's page still needs (the driver decodes each path once).
func galleryEffects(_ state: AppState) -> [Effect] {
    let outputs = state.filteredOutputs
    return galleryPage(state).compactMap { index in
        guard let path = outputs[index].outputPath, state.previews[path] == nil, state.previewFailures[path] == nil else { return nil }
        return .loadPreview(path: path)
    }
}

/// Marks or unmarks an image for comparison (four at most).
func toggleMark(_ state: inout AppState, _ id: String) {
    if let index = state.marked.firstIndex(of: id) {
        state.marked.remove(at: index)
    } else if state.marked.count < 4 {
        state.marked.append(id)
    } else {
        state.message = .init(text: "four images at most are compared; unmark one first (Space)", isError: false)
        return
    }
    state.message = .init(text: "\(state.marked.count) marked for comparison" + (state.marked.count >= 2 ? " · c compares" : ""),
                          isError: false, transient: true)
}

/// Shows the marked images side by side, asking for their viewer-size pictures.
func openCompare(_ state: inout AppState) -> [Effect] {
    let marked = state.marked.compactMap { id in state.jobs.first { $0.id == id && $0.outputPath != nil } }
    guard marked.count >= 2 else {
        state.message = .init(text: "mark two to four images with Space, then c compares them", isError: false)
        return []
    }
    state.comparing = true
    return marked.compactMap { job in
        guard let path = job.outputPath, state.viewerPictures[path] == nil else { return nil }
        return .loadPreview(path: path, large: true)
    }
}

func reduceCompare(_ state: inout AppState, _ command: Command?) -> [Effect] {
    defer { pruneLargePictures(&state) }
    switch command {
    case .close?:
        state.comparing = false
    case .mark?:
        state.comparing = false
        state.marked = []
    default:
        break
    }
    return []
}

/// What differs between the compared images: the settings (model, seed and every request
/// field but the prompt) whose values are not all the same. Public for the views.
public func comparedSettings(_ jobs: [JobRecord]) -> [(name: String, values: [String], differs: Bool)] {
    var rows: [(String, [String])] = [("model", jobs.map(\.model)), ("seed", jobs.map { $0.seed.map(String.init) ?? "—" }),
                                      ("cost", jobs.map { $0.chargedCredits.map { "\($0)" } ?? "—" })]
    let requests = jobs.map { job in
        Dictionary(RecordedRequest.shownFields(of: job.requestJSON, leaving: ["prompt", "seed"]), uniquingKeysWith: { first, _ in first })
    }
    for key in Set(requests.flatMap(\.keys)).sorted() {
        rows.append((key, requests.map { $0[key] ?? "—" }))
    }
    rows.append(("prompt", jobs.map(\.prompt)))
    return rows.map { name, values in (name, values, Set(values).count > 1) }
}
