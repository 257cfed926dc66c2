import BFL
import Foundation

// The form between sessions: the studio writes it when it ends and reads it when it starts
// (`$XDG_STATE_HOME/fluxdeck/form.json`), so a restart finds the model, size, count and
// settings as they were, and the model `e` edits with. The prompt is not in it (the history has it), nor the references
// (files move and change between sessions).

/// What a restart brings back of the model pane. Every field is optional on reading: a file
/// from an older or newer fluxdeck, or edited by hand, gives what it can.
public struct RememberedForm: Codable, Sendable, Hashable {
    public var model: String?
    /// A preset's text or a typed size (`1024x768`, `16:9`).
    public var size: String?
    public var count: Int?
    public var seed: Int?
    public var seedSweep: Bool?
    public var format: String?
    public var safety: Int?
    public var steps: Int?
    public var guidance: Double?
    public var upsampling: Bool?
    /// Models marked for comparison.
    public var compared: [String]?
    /// The editing model last sent with a reference: what `e` on an image starts with.
    public var editingModel: String?

    public init() {}
}

extension AppState {
    /// The form as it will be remembered.
    public var rememberedForm: RememberedForm {
        var form = RememberedForm()
        form.model = model.id
        form.size = sizeChoice
        form.count = count
        form.seed = settings.seed
        form.seedSweep = settings.seedSweep ? true : nil
        form.format = settings.format?.rawValue
        form.safety = settings.safety
        form.steps = settings.steps
        form.guidance = settings.guidance
        form.upsampling = settings.upsampling
        form.compared = comparedModels.isEmpty ? nil : comparedModels
        form.editingModel = lastEditingModelID
        return form
    }
}

/// Puts a remembered form back: an unknown model, size or format is left at the default, a
/// count is kept within the row's range, and what the model does not take is dropped by the
/// same validation as any setting (the cost pane names it).
func restore(_ state: inout AppState, _ form: RememberedForm) {
    if let id = form.model, let index = Catalog.all.firstIndex(where: { $0.id == id }) {
        selectModel(&state, index)
    }
    if let size = form.size {
        if let index = state.sizeChoices.firstIndex(of: size) {
            state.sizeIndex = index
        } else if state.model.sizeRule != .sameAsImage, size.count <= 16, size.allSatisfy({ $0.isNumber || $0 == "x" || $0 == ":" }) {
            state.customSize = size
        }
    }
    if let count = form.count { state.count = count.clamped(to: AppState.counts) }
    state.settings.seed = form.seed.map { max(0, $0) }
    state.settings.seedSweep = form.seedSweep == true && form.seed != nil
    state.settings.format = form.format.flatMap(OutputFormat.init(rawValue:))
    state.settings.safety = form.safety
    state.settings.steps = form.steps
    state.settings.guidance = form.guidance.flatMap { $0.isFinite ? $0 : nil }
    state.settings.upsampling = form.upsampling
    if let id = form.editingModel, Catalog.editing.contains(where: { $0.id == id }) { state.lastEditingModelID = id }
    if let compared = form.compared {
        state.comparedModels = compared.filter { id in Catalog.all.contains { $0.id == id } }
    }
}
