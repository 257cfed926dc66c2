import BFL
import Foundation
import Imaging
import Jobs
import TerminalCore

// Extend mode: the canvas of the viewer's image grown side by side, for Fill to paint the new
// area (outpainting). The image's size is read from its file when the mode opens; the steps
// and the limits are `CanvasExtension`'s, as `--extend` checks them.

/// `x` in the viewer: extend mode over the image shown, its size asked of the driver.
func enterExtendMode(_ state: inout AppState, _ job: JobRecord) -> [Effect] {
    guard let path = job.outputPath else { return [] }
    state.extendEdit = ExtendEdit(jobID: job.id)
    state.message = .init(text: extendHelp(state), isError: false)
    return [.readImageSize(path: path)]
}

/// What to do next, in this studio's keys.
func extendHelp(_ state: AppState) -> String {
    "extend: arrows grow a side (Shift: by a quarter), \(state.keyName(.accept, in: .extend)) to paint, "
        + "\(state.keyName(.close, in: .extend)) to leave"
}

func reduceExtend(_ state: inout AppState, _ key: Key, _ command: Command?) -> [Effect] {
    guard var edit = state.extendEdit else { return [] }
    let side: CanvasExtension.Side? = switch command {
    case .left?: .left
    case .right?: .right
    case .up?: .top
    case .down?: .bottom
    default: nil
    }
    if let side {
        guard let size = edit.size else {
            state.message = .init(text: "still reading the image's size", isError: false, transient: true)
            return []
        }
        let across = side == .left || side == .right ? size.width : size.height
        var grown = edit.sides
        grown[side] += CanvasExtension.step(length: across, large: key.modifiers.contains(.shift))
        if let problem = grown.problem(width: size.width, height: size.height) {
            state.message = .init(text: problem, isError: true)
            return []
        }
        edit.earlier.append(edit.sides)
        edit.sides = grown
        state.extendEdit = edit
        state.message = nil
        return []
    }
    switch command {
    case .undo?:
        if let last = edit.earlier.popLast() { edit.sides = last }
        state.extendEdit = edit
    case .accept?:
        guard !edit.sides.isEmpty else {
            state.message = .init(text: "no side has grown yet: \(extendHelp(state))", isError: true)
            return []
        }
        askFillPrompt(&state, "what goes in the new area?")
    case .close?:
        state.extendEdit = nil
        state.message = nil
    default:
        break
    }
    return []
}

/// The size of the image extend mode works on, or why it cannot (the mode ends, saying so).
func imageSizeRead(_ state: inout AppState, path: String, size: PixelSize?, problem: String?) {
    guard let edit = state.extendEdit, state.jobs.first(where: { $0.id == edit.jobID })?.outputPath == path else { return }
    if let size {
        state.extendEdit?.size = size
    } else {
        state.extendEdit = nil
        state.message = .init(text: TerminalText.message("cannot extend it: \(problem ?? "its size cannot be read")"), isError: true)
    }
}

/// The prompt typed after Enter: Fill is sent with the grown canvas, and extend mode ends.
func submitExtension(_ state: inout AppState, prompt: String) -> [Effect] {
    guard let edit = state.extendEdit, let path = state.jobs.first(where: { $0.id == edit.jobID })?.outputPath else {
        state.extendEdit = nil
        return []
    }
    let name = TerminalText.sanitize(URL(fileURLWithPath: path).lastPathComponent), region = state.region
    let size = edit.grown.map { " to \($0.width)×\($0.height)" } ?? ""
    return submitFill(&state, prompt: prompt, verb: "extending", leave: { $0.extendEdit = nil },
                      what: { "\($0.displayName) extending \(name)\(size) (\(edit.sides))" }) { prompt in
        .extend(path: path, sides: edit.sides, prompt: prompt, region: region)
    }
}
