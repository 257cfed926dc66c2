import BFL
import Foundation
import Imaging
import Jobs
import TerminalCore

// Mask mode: rectangles of the viewer's picture to repaint with Fill, drawn with keys or the
// mouse, kept with the grid they were drawn on (GridRect maps them to exact pixels).

/// `m` in the viewer: mask mode over the picture shown, the cursor in its middle.
func enterMaskMode(_ state: inout AppState, _ job: JobRecord) -> [Effect] {
    guard job.outputPath != nil, let cells = state.viewerPictureCells else {
        state.message = .init(text: "mask mode needs the picture on screen (it is still loading, or cannot be shown)", isError: true)
        return []
    }
    var mask = MaskEdit(jobID: job.id)
    mask.cursorX = cells.width / 2
    mask.cursorY = cells.height / 2
    state.maskEdit = mask
    state.message = .init(text: maskHelp(state), isError: false)
    return []
}

/// What to do next, in this studio's keys.
func maskHelp(_ state: AppState) -> String {
    "mask: \(state.keyName(.anchor, in: .mask)) at two corners (or drag), \(state.keyName(.accept, in: .mask)) to paint, "
        + "\(state.keyName(.close, in: .mask)) to leave"
}

func reduceMask(_ state: inout AppState, _ key: Key, _ command: Command?) -> [Effect] {
    guard var mask = state.maskEdit, let cells = state.viewerPictureCells else {
        state.maskEdit = nil
        return []
    }
    let big = key.modifiers.contains(.shift)
    switch command {
    case .left?: mask.cursorX -= big ? 8 : 1
    case .right?: mask.cursorX += big ? 8 : 1
    case .up?: mask.cursorY -= big ? 4 : 1
    case .down?: mask.cursorY += big ? 4 : 1
    case .anchor?:
        if let x = mask.anchorX, let y = mask.anchorY {
            mask.rects.append(.spanning((x, y), (mask.cursorX, mask.cursorY), columns: cells.width, rows: cells.height))
            mask.anchorX = nil
            mask.anchorY = nil
        } else {
            mask.anchorX = mask.cursorX
            mask.anchorY = mask.cursorY
        }
    case .undo?:
        if mask.anchorX != nil {
            mask.anchorX = nil
            mask.anchorY = nil
        } else if !mask.rects.isEmpty {
            mask.rects.removeLast()
        }
    case .invert?:
        mask.inverted.toggle()
    case .accept?:
        guard !mask.rects.isEmpty else {
            state.message = .init(text: "no rectangle yet: \(maskHelp(state))", isError: true)
            return []
        }
        askFillPrompt(&state, "what goes there?")
        return []
    case .close?:
        state.maskEdit = nil
        state.message = nil
        return []
    default:
        return []
    }
    mask.cursorX = min(max(0, mask.cursorX), cells.width - 1)
    mask.cursorY = min(max(0, mask.cursorY), cells.height - 1)
    state.maskEdit = mask
    return []
}

/// A mouse press anchors a corner at the cell under it, the release closes the rectangle there
/// (a press and release on one cell marks that cell). Outside the picture nothing happens.
func maskMouse(_ state: inout AppState, _ event: MouseEvent) -> [Effect] {
    guard var mask = state.maskEdit, let cells = state.viewerPictureCells, cells.contains(x: event.x, y: event.y) else { return [] }
    let x = event.x - cells.x, y = event.y - cells.y
    mask.cursorX = x
    mask.cursorY = y
    switch event.kind {
    case .press:
        mask.anchorX = x
        mask.anchorY = y
    case .release:
        if let ax = mask.anchorX, let ay = mask.anchorY {
            mask.rects.append(.spanning((ax, ay), (x, y), columns: cells.width, rows: cells.height))
        }
        mask.anchorX = nil
        mask.anchorY = nil
    default:
        break
    }
    state.maskEdit = mask
    return []
}

/// The prompt typed after Enter: Fill is sent, and mask mode ends.
func submitRepaint(_ state: inout AppState, prompt: String) -> [Effect] {
    guard let mask = state.maskEdit, let path = state.jobs.first(where: { $0.id == mask.jobID })?.outputPath else {
        state.maskEdit = nil
        return []
    }
    let name = TerminalText.sanitize(URL(fileURLWithPath: path).lastPathComponent), region = state.region
    let rectangles = "\(mask.rects.count) rectangle\(mask.rects.count == 1 ? "" : "s")\(mask.inverted ? ", inverted" : "")"
    return submitFill(&state, prompt: prompt, verb: "repainting", leave: { $0.maskEdit = nil },
                      what: { "\($0.displayName) on \(name) (\(rectangles))" }) { prompt in
        .repaint(path: path, rects: mask.rects, inverted: mask.inverted, prompt: prompt, region: region)
    }
}

/// Enter in mask or extend mode: `question` asked, the prompt typed over the mode.
func askFillPrompt(_ state: inout AppState, _ question: String) {
    state.fieldEdit = FieldEdit(target: .fillPrompt, editor: TextEditor())
    state.message = .init(text: "\(question) (\(state.keyName(.accept, in: .field)) sends it to Fill, \(state.keyName(.close, in: .field)) goes back)",
                          isError: false)
}

/// Fill on a saved image once its prompt is typed (mask mode's, extend mode's): priced, held to
/// the budget and asked first at or above `confirm_above` like any submission. `leave` ends the
/// mode once it is sent or asked; `what` names it in the question and the message, and
/// `effect` makes it from the prompt (its control characters stripped).
func submitFill(_ state: inout AppState, prompt: String, verb: String, leave: (inout AppState) -> Void,
                what: (Model) -> String, effect: (String) -> Effect) -> [Effect] {
    guard let fill = Catalog.fill else {
        leave(&state)
        return []
    }
    let credits = PriceEstimator.estimate(model: fill, parameters: GenerationParameters(prompt: prompt), count: 1).credits
    if let blocked = budgetProblem(state, adding: credits) {
        state.message = .init(text: blocked, isError: true)
        return []
    }
    let sent = effect(TerminalText.sanitize(prompt))
    leave(&state)
    let described = what(fill)
    if asksFirst(&state, [sent], credits: credits, what: described) { return [] }
    state.message = .init(text: "\(verb): \(described), ~\(credits) credits", isError: false)
    return [sent]
}
