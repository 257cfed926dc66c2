public import AppCore
import BFL
import Jobs
public import TerminalCore
public import Theme
import Widgets

/// Draws the whole studio. Pure: the same state, theme and size give the same buffer.
public func render(_ state: AppState, theme: Theme, area: Rect) -> (buffer: Buffer, cursor: (x: Int, y: Int)?) {
    var buffer = Buffer(area: area)
    buffer.setStyle(theme.style(.uiText), in: area)
    guard area.width >= 40, area.height >= 12 else {
        buffer.setString(x: 0, y: 0, "fluxdeck needs at least 40×12 cells", style: theme.style(.messageWarning), maxWidth: area.width)
        return (buffer, nil)
    }
    let rows = Layout.vertical([.length(1), .fill(1), .length(1), .length(1)]).split(area)
    titleBar(&buffer, rows[0], state, theme)
    let wide = area.width >= 100
    let columns = Layout.horizontal([.percentage(wide ? 40 : 45), .fill(1)]).split(rows[1])
    let left = Layout.vertical([.percentage(45), .fill(1)]).split(columns[0])
    let right = Layout.vertical([.length(wide ? 8 : 7), .fill(1), .fill(1)]).split(columns[1])
    let cursor = promptPane(&buffer, left[0], state, theme)
    modelPane(&buffer, left[1], state, theme)
    costPane(&buffer, right[0], state, theme)
    jobsPane(&buffer, right[1], state, theme)
    outputsPane(&buffer, right[2], state, theme)
    messageLine(&buffer, rows[2], state, theme)
    statusBar(&buffer, rows[3], state, theme)
    if state.showHelp { helpOverlay(&buffer, area, state, theme) }
    return (buffer, state.showHelp || state.focus != .prompt ? nil : cursor)
}

private func pane(_ buffer: inout Buffer, _ area: Rect, _ focus: Focus, _ state: AppState, _ theme: Theme, title: String? = nil) -> Rect {
    let focused = state.focus == focus
    Block()
        .title(Line(" \(title ?? focus.title) "))
        .border(.rounded)
        .borderStyle(theme.style(focused ? .paneBorderFocused : .paneBorder))
        .titleStyle(theme.style(focused ? .paneTitleFocused : .paneTitle))
        .render(into: &buffer, area: area)
    return Block().border(.rounded).inner(area)
}

private func titleBar(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ theme: Theme) {
    buffer.setStyle(theme.style(.statusBar), in: area)
    buffer.fill(area, style: theme.style(.statusBar))
    var x = buffer.setString(x: area.x + 1, y: area.y, "fluxdeck", style: theme.style(.statusBar).adding(.bold))
    if let label = state.modeLabel {
        x = buffer.setString(x: x + 2, y: area.y, " \(label) ", style: theme.style(.statusSimulator))
    }
    let credits = state.credits.map { "credits \($0)" } ?? "credits …"
    let text = "\(credits)  session \(state.sessionCharged)"
    buffer.setString(x: max(x + 2, area.right - DisplayWidth.of(text) - 1), y: area.y, text, style: theme.style(.statusBar))
}

private func promptPane(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ theme: Theme) -> (x: Int, y: Int)? {
    let title = "Prompt · \(state.editor.characterCount) chars"
    let inner = pane(&buffer, area, .prompt, state, theme, title: title)
    var scroll = state.promptScroll
    return TextArea(state.editor, placeholder: "Describe the image… (Enter submits, Alt-Enter new line)")
        .style(theme.style(.inputText))
        .placeholderStyle(theme.style(.inputPlaceholder))
        .render(into: &buffer, area: inner, scroll: &scroll)
}

private func modelPane(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ theme: Theme) {
    let inner = pane(&buffer, area, .model, state, theme)
    guard inner.height > 0 else { return }
    let details = 2
    let listArea = Rect(x: inner.x, y: inner.y, width: inner.width, height: max(0, inner.height - details))
    var list = ListState(selected: state.modelIndex)
    let items = Catalog.all.map { model -> Line in
        let price: String = switch model.price {
        case .flat(let c): "\(c)"
        case .megapixel(let first, _): "\(first)+/MP"
        }
        return Line([Span(model.displayName), Span("  \(price)", style: theme.style(.uiTextDim))])
    }
    List(items).highlightStyle(theme.style(.listSelected)).render(into: &buffer, area: listArea, state: &list)
    let y = inner.bottom - details
    buffer.setString(x: inner.x, y: y, "size ◂ \(state.sizeChoice) ▸   × \(state.count)", style: theme.style(.uiText), maxWidth: inner.width)
    buffer.setString(x: inner.x, y: y + 1, "limit \(state.model.concurrencyLimit) active · \(state.model.id)", style: theme.style(.uiTextDim), maxWidth: inner.width)
}

private func costPane(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ theme: Theme) {
    let inner = Block().border(.rounded).inner(area)
    Block().title(" Cost ").border(.rounded).borderStyle(theme.style(.paneBorder)).titleStyle(theme.style(.paneTitle))
        .render(into: &buffer, area: area)
    let estimate = state.estimate
    let b = estimate.breakdown
    var lines: [Line] = [
        Line([Span("estimate  "), Span("\(estimate.credits) credits (\(estimate.credits.usdText))", style: theme.style(.costEstimate).adding(.bold))]),
    ]
    if let mp = b.outputMegapixels {
        let extra = mp > 1 ? " + \(b.extraOutput) for \(mp - 1) more MP" : ""
        lines.append(Line("  \(b.base) for the first MP\(extra)", style: theme.style(.uiTextDim)))
    } else {
        lines.append(Line("  \(b.base) per image, flat", style: theme.style(.uiTextDim)))
    }
    if b.count > 1 { lines.append(Line("  × \(b.count) images", style: theme.style(.uiTextDim))) }
    lines.append(Line([Span("charged   "), Span("\(state.sessionCharged) this session", style: theme.style(.costCharged))]))
    let active = state.jobs.filter { [.submitting, .pending, .running].contains($0.phase) }.count
    for (row, line) in lines.prefix(max(0, inner.height - 1)).enumerated() {
        buffer.setLine(x: inner.x, y: inner.y + row, line, maxWidth: inner.width)
    }
    if inner.height > 0 {
        let slots = Rect(x: inner.x, y: inner.bottom - 1, width: min(inner.width, 34), height: 1)
        let label = "slots "
        buffer.setString(x: slots.x, y: slots.y, label, style: theme.style(.uiTextDim))
        var gauge = SlotGauge(used: active, limit: 24)
        gauge.usedStyle = theme.style(.gaugeFilled)
        gauge.freeStyle = theme.style(.gaugeEmpty)
        gauge.render(into: &buffer, area: Rect(x: slots.x + label.count, y: slots.y, width: slots.width - label.count, height: 1))
    }
}

func phaseRole(_ phase: JobPhase) -> Role {
    switch phase {
    case .queued, .cancelled: .jobQueued
    case .submitting, .pending, .running, .downloading: .jobRunning
    case .done: .jobDone
    case .failed, .timedOut: .jobFailed
    case .moderated: .jobModerated
    case .expired: .jobExpired
    case .unknown: .jobUnknown
    }
}

private func jobsPane(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ theme: Theme) {
    let running = state.runningCount
    let inner = pane(&buffer, area, .jobs, state, theme, title: running > 0 ? "Jobs · \(running) running" : "Jobs")
    guard !state.jobs.isEmpty else {
        buffer.setString(x: inner.x, y: inner.y, "No jobs yet.", style: theme.style(.uiTextDim), maxWidth: inner.width)
        return
    }
    let spinner = Spinner(tick: state.tick).symbol
    let items = state.jobs.map { job -> Line in
        var status = job.phase.rawValue
        if job.phase == .running, let p = state.progress[job.id] ?? job.progress { status = "\(Int(p * 100))%" }
        if !job.phase.isFinal { status = spinner + " " + status }
        let cost = job.chargedCredits.map { "\($0)" } ?? "~\(job.estimate)"
        let prompt = TerminalText.sanitize(job.prompt)
        return Line([
            Span(pad(status, 13), style: theme.style(phaseRole(job.phase))),
            Span(pad(job.model, 16)), Span(pad(cost, 6), style: theme.style(.uiTextDim)), Span(prompt),
        ])
    }
    var list = state.jobsList
    List(items).highlightStyle(theme.style(.listSelected)).highlightSymbol("").render(into: &buffer, area: inner, state: &list)
}

private func outputsPane(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ theme: Theme) {
    let outputs = state.outputs
    let inner = pane(&buffer, area, .outputs, state, theme, title: "Outputs · \(outputs.count)")
    guard !outputs.isEmpty else {
        buffer.setString(x: inner.x, y: inner.y, "Saved images appear here.", style: theme.style(.uiTextDim), maxWidth: inner.width)
        return
    }
    let items = outputs.map { job -> Line in
        let name = job.outputPath.map { String($0.split(separator: "/").last ?? "") } ?? ""
        let seed = job.seed.map { "seed \($0)" } ?? ""
        return Line([Span(name), Span("  \(seed)", style: theme.style(.uiTextDim))])
    }
    var list = state.outputsList
    List(items).highlightStyle(theme.style(.listSelected)).highlightSymbol("").render(into: &buffer, area: inner, state: &list)
}

private func messageLine(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ theme: Theme) {
    guard let message = state.message else { return }
    buffer.setString(x: area.x + 1, y: area.y, message.text, style: theme.style(message.isError ? .messageError : .messageHint), maxWidth: area.width - 2)
}

private func statusBar(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ theme: Theme) {
    buffer.fill(area, style: theme.style(.statusBar))
    let bindings = Keymap.global + Keymap.bindings(for: state.focus)
    KeyHints(bindings.map { ($0.label, $0.help) })
        .keyStyle(theme.style(.statusKey))
        .labelStyle(theme.style(.statusBar))
        .render(into: &buffer, area: Rect(x: area.x + 1, y: area.y, width: area.width - 1, height: 1))
}

private func helpOverlay(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ theme: Theme) {
    let sections: [(String, [Binding])] = [
        ("Everywhere", Keymap.global), ("Prompt", Keymap.prompt), ("Model", Keymap.model),
        ("Jobs", Keymap.jobs), ("Outputs", Keymap.outputs),
    ]
    var lines: [Line] = []
    for (title, bindings) in sections {
        lines.append(Line(title, style: theme.style(.paneTitle)))
        for binding in bindings {
            lines.append(Line([Span("  " + pad(binding.label, 14), style: theme.style(.statusKey)), Span(binding.help)]))
        }
    }
    lines.append(Line("any key closes this help", style: theme.style(.uiTextDim)))
    let height = min(area.height - 2, lines.count + 2)
    let width = min(area.width - 4, 56)
    let box = Rect(x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width: width, height: height)
    buffer.fill(box, style: Style(bg: .default))
    Block().title(" Help ").border(.rounded).borderStyle(theme.style(.paneBorderFocused)).render(into: &buffer, area: box)
    let inner = Block().border(.rounded).inner(box)
    for (row, line) in lines.prefix(inner.height).enumerated() {
        buffer.setLine(x: inner.x, y: inner.y + row, line, maxWidth: inner.width)
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    let w = DisplayWidth.of(text)
    return w >= width ? text : text + String(repeating: " ", count: width - w)
}
