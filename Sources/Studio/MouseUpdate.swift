import BFL
import Foundation
import Jobs
import TerminalCore

// The mouse: clicks and the wheel, mapped with the views' own geometry.

func reduceMouse(_ state: inout AppState, _ event: MouseEvent) -> [Effect] {
    switch state.mode {
    case .field where state.fieldEdit?.target == .fillPrompt:
        // Typed over the viewer: the panes are not beneath it.
        return []
    case .pane, .field:
        return reducePaneMouse(&state, event)
    case .mask:
        return maskMouse(&state, event)
    case .gallery:
        // A click picks the image under it; the wheel moves a row.
        let grid = StudioLayout.galleryGrid(width: state.width, height: state.height)
        switch event.kind {
        case .press where grid.area.contains(x: event.x, y: event.y):
            let column = (event.x - grid.area.x) / grid.cell.width, row = (event.y - grid.area.y) / grid.cell.height
            let index = galleryPage(state).lowerBound + row * grid.columns + column
            guard column < grid.columns, row < grid.rows, index < state.filteredOutputs.count else { return [] }
            state.outputsList.selected = index
        case .scrollUp, .scrollDown:
            return reduceGallery(&state, event.kind == .scrollUp ? .up : .down)
        default:
            break
        }
        return []
    case .picker, .viewer, .extend, .compare, .spend, .text, .details, .help, .confirm:
        // Whatever is open over the panes takes the click; nothing beneath it moves.
        return []
    }
}

/// A click or the wheel over the panes.
func reducePaneMouse(_ state: inout AppState, _ event: MouseEvent) -> [Effect] {
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
            if index < state.jobRows.count { state.jobsList.selected = index }
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
        case .jobs: state.jobsList.move(by: delta, count: state.jobRows.count)
        case .outputs: state.outputsList.move(by: delta, count: state.filteredOutputs.count)
        case .model: state.formIndex = min(max(0, state.formIndex + delta), state.formRows.count - 1)
        case .prompt: break
        }
        return previewEffects(state)
    case .release:
        return []
    }
}
