public import Studio
import BFL
import Foundation
import Imaging
import Jobs
public import TerminalCore
public import Theme
import Widgets

/// Draws the whole studio. Pure: the same state, theme and size give the same buffer.
public func render(_ state: AppState, theme: Theme, area: Rect) -> (buffer: Buffer, cursor: (x: Int, y: Int)?) {
    var buffer = Buffer(area: area, filling: Cell(style: CellStyle.plain.applying(theme.style(.uiText))))
    let layout = StudioLayout(width: area.width, height: area.height)
    guard !layout.tooSmall else {
        buffer.setString(x: 0, y: 0, "fluxdeck needs at least \(StudioLayout.minimumWidth)×\(StudioLayout.minimumHeight) cells",
                         style: theme.style(.messageWarning), maxWidth: area.width)
        return (buffer, nil)
    }
    titleBar(&buffer, layout.title, state, theme)
    var cursor = promptPane(&buffer, layout.prompt, state, theme)
    if let formCursor = modelPane(&buffer, layout.model, state, theme) { cursor = formCursor }
    costPane(&buffer, layout.cost, state, theme)
    jobsPane(&buffer, layout.jobs, state, theme)
    if let filterCursor = outputsPane(&buffer, layout.outputs, layout.listBody(.outputs, filterShown: state.outputsFilterShown), state, theme) {
        cursor = filterCursor
    }
    if let tagsCursor = messageLine(&buffer, layout.message, state, theme) { cursor = tagsCursor }
    statusBar(&buffer, layout.status, state, theme)
    // What is open over the panes, bottom first (`AppState.modes`, the one order): the top
    // full-screen view is drawn over the panes, and what is open above it over that.
    let modes = state.modes
    let screen = modes.lastIndex(where: \.isFullScreen)
    let full = Rect(x: 0, y: 0, width: area.width, height: max(0, area.height - 1))
    for (index, modal) in modes.enumerated() where index >= (screen ?? 0) {
        // A full-screen view starts from blank cells: the panes' colours stay beneath it.
        if index == screen { buffer.clear(full) }
        switch modal {
        case .spend: spendScreen(&buffer, full, state, theme)
        case .compare: compareScreen(&buffer, state, theme)
        case .gallery: galleryScreen(&buffer, state, theme)
        case .viewer:
            if let id = state.viewer, let job = state.jobs.first(where: { $0.id == id }) { viewerScreen(&buffer, full, job, state, theme) }
            // What its keys say (a family shown, no parent to go to) is on its bottom edge.
            if state.message != nil { _ = messageLine(&buffer, layout.message, state, theme) }
        case .text:
            if let text = state.textOverlay {
                let inner = overlayBox(&buffer, area, TerminalText.sanitize(text.title), width: 100, height: min(area.height - 4, text.lines.count + 4), theme)
                Paragraph(text.lines.map { Line(TerminalText.sanitize($0)) } + [Line(""), Line("any key closes", style: theme.style(.uiTextDim))])
                    .render(into: &buffer, area: inner)
            }
        case .help: helpOverlay(&buffer, area, state, theme)
        case .picker: if let highlighted = state.picker { pickerOverlay(&buffer, area, highlighted, state, theme) }
        case .details:
            if let id = state.details, let job = state.jobs.first(where: { $0.id == id }) { detailsOverlay(&buffer, area, job, state, theme) }
        case .confirm:
            // The question over a full-screen view, where the message line is covered.
            if screen != nil { _ = messageLine(&buffer, layout.message, state, theme) }
        case .mask, .extend:
            // What mask and extend mode say (a rectangle is missing, the prompt is asked) is over
            // the viewer.
            _ = messageLine(&buffer, layout.message, state, theme)
        case .pane, .field:
            break
        }
    }
    switch state.mode {
    case .field where state.fieldEdit?.target == .fillPrompt:
        // Typed in the viewer's text column, where a caret is drawn.
        _ = messageLine(&buffer, layout.message, state, theme)
        return (buffer, nil)
    case .pane(.prompt), .field: return (buffer, cursor)
    default: return (buffer, nil)
    }
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
    buffer.fill(area, style: theme.style(.statusBar))
    var x = buffer.setString(x: area.x + 1, y: area.y, "fluxdeck", style: theme.style(.statusBar).adding(.bold))
    if let label = state.modeLabel {
        // The bar is drawn reversed; the label has its own colours and is not.
        var style = theme.style(.statusSimulator)
        style.remove.insert(.reverse)
        x = buffer.setString(x: x + 2, y: area.y, " \(TerminalText.sanitize(label)) ", style: style)
    }
    let credits = state.credits.map { "credits \($0)" } ?? "credits …"
    let text = "\(credits)  today \(state.todayCharged)"
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

/// The label and value text of one form row.
func formText(_ row: FormRow, _ state: AppState) -> (label: String, value: String, dim: String) {
    let model = state.model
    switch row {
    case .model:
        let price: String = switch model.price {
        case .flat(let credits): "\(credits)/image"
        case .megapixel(let first, let perMP): "\(first) + \(perMP)/MP"
        }
        if state.comparedModels.count > 1 {
            return ("model", model.displayName, "+ \(state.comparedModels.count - 1) more compared (Enter: the list)")
        }
        return ("model", model.displayName, "\(price) · \(model.concurrencyLimit) at once")
    case .region:
        return ("region", state.region?.rawValue ?? "—", state.region == nil ? "fixed by the endpoint" : "")
    case .size:
        // A size the model's rule snaps is shown as it is sent.
        let choice = state.sizeChoice
        let shown = PixelSize(parsing: choice).flatMap { asked in
            model.sizeRule.sideLimits.map { $0.sent(asked) }.flatMap { $0 == asked ? nil : "\(asked) → \($0)" }
        } ?? choice
        return ("size", shown, model.sizeRule == .sameAsImage ? "" : (state.customSize != nil ? "typed" : "\(state.keyName(.edit, in: .model)): type one"))
    case .count:
        return ("images", "\(state.count)", "")
    case .seed:
        if state.settings.seedSweep, let seed = state.settings.seed {
            return ("seed", "\(seed)…\(seed &+ max(0, state.count - 1))", "sweep (\(state.keyName(.sweep, in: .model)): off)")
        }
        return ("seed", state.settings.seed.map(String.init) ?? "random", state.settings.seed == nil ? "type to lock" : "locked")
    case .format:
        return ("format", state.format.rawValue, state.settings.format == nil ? "default" : "")
    case .safety:
        return ("safety", "\(state.safety)", "\(model.family.safetyRange.lowerBound)–\(model.family.safetyRange.upperBound)")
    case .steps:
        return ("steps", state.steps.map(String.init) ?? "—", model.family.stepsRange.map { "\($0.lowerBound)–\($0.upperBound)" } ?? "")
    case .guidance:
        return ("guidance", state.guidance.map { String(format: "%g", $0) } ?? "—", model.family.guidanceRange.map { "\(String(format: "%g", $0.lowerBound))–\(String(format: "%g", $0.upperBound))" } ?? "")
    case .upsampling:
        return ("upsample", (state.settings.upsampling ?? false) ? "on" : "off", "")
    case .raw:
        return ("raw", model.fixedFields["raw"] == true ? "on" : "off", "natural, less processed look")
    case .reference(let slot):
        let label = model.sizeRule == .sameAsImage ? (slot == 0 ? "image" : "mask") : "ref \(slot + 1)"
        guard let reference = state.settings.references[slot], !reference.path.isEmpty else {
            let firstEmpty = (0..<state.referenceSlots).first { (state.settings.references[$0]?.path ?? "").isEmpty }
            return (label, "—", slot == firstEmpty ? "\(state.keyName(.edit, in: .model)): path · \(state.keyName(.useAsReference, in: .outputs)): Outputs" : "")
        }
        let name = URL(fileURLWithPath: reference.path).lastPathComponent
        let note = reference.problem != nil ? "unusable" : reference.size.map { "\($0.width)×\($0.height)" } ?? "reading…"
        return (label, TerminalText.sanitize(name), note)
    }
}

private func modelPane(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ theme: Theme) -> (x: Int, y: Int)? {
    // A badge says when a submission is more than one model's images of one seed each.
    var badges: [String] = []
    if !state.comparedModels.isEmpty { badges.append("compare \(state.comparedModels.count)") }
    if state.settings.seedSweep { badges.append("seed sweep") }
    let inner = pane(&buffer, area, .model, state, theme, title: ([Focus.model.title] + badges).joined(separator: " · "))
    guard inner.height > 0 else { return nil }
    // A chosen reference shows as a thumbnail in the pane's lower right corner, shaped as the
    // picture is, captioned with its slot; the rows beside it are shortened, those above not.
    var thumbnail: Rect?
    if inner.width >= 40, inner.height >= 3, let shown = state.shownReference,
       state.previews[shown.path] != nil || state.previewFailures[shown.path] != nil {
        let width = min(inner.width / 3, 16)
        // A cell is about twice as tall as wide.
        let rows = state.previews[shown.path].map { picture in
            picture.width > 0 ? (width * picture.height + picture.width) / (2 * picture.width) : 2
        } ?? 2
        let height = min(inner.height - 1, max(2, rows))
        let box = Rect(x: inner.right - width, y: inner.bottom - 1 - height, width: width, height: height)
        previewOrReason(&buffer, box, state, shown.path, theme)
        buffer.setString(x: box.x, y: box.bottom, formText(.reference(shown.slot), state).label, style: theme.style(.uiTextDim), maxWidth: width)
        thumbnail = box
    }
    /// Where a row's text ends: before the thumbnail on the rows beside it.
    func right(_ y: Int) -> Int { thumbnail.map { y >= $0.y ? $0.x - 1 : inner.right } ?? inner.right }
    let rows = state.formRows
    let selected = min(state.formIndex, rows.count - 1)
    let offset = StudioLayout.offset(selected: selected, visible: inner.height)
    var cursor: (x: Int, y: Int)?
    for (line, row) in rows.enumerated().dropFirst(offset).prefix(inner.height) {
        let y = inner.y + line - offset
        let isSelected = line == selected && state.focus == .model
        let (label, value, dim) = formText(row, state)
        let base = isSelected ? theme.style(.listSelected) : theme.style(.uiText)
        if isSelected { buffer.fill(Rect(x: inner.x, y: y, width: right(y) - inner.x, height: 1), style: base) }
        var x = buffer.setString(x: inner.x, y: y, pad(label, 9), style: isSelected ? base : theme.style(.uiTextDim), maxWidth: right(y) - inner.x)
        if case .row(let editing) = state.fieldEdit?.target, editing == row, let edit = state.fieldEdit {
            let field = Rect(x: x, y: y, width: max(0, right(y) - x), height: 1)
            buffer.fill(field, style: theme.style(.inputText).adding(.underline))
            var scroll = 0
            cursor = TextArea(edit.editor).style(theme.style(.inputText).adding(.underline)).render(into: &buffer, area: field, scroll: &scroll)
            continue
        }
        let shown = isSelected && state.steps(row) ? "◂ \(value) ▸" : value
        x = buffer.setString(x: x, y: y, shown, style: base.adding(isSelected ? [] : .bold), maxWidth: max(0, right(y) - x))
        if !dim.isEmpty, x + 2 < right(y) {
            buffer.setString(x: x + 2, y: y, dim, style: isSelected ? base : theme.style(.uiTextDim), maxWidth: right(y) - x - 2)
        }
    }
    return cursor
}

private func costPane(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ theme: Theme) {
    Block().title(" Cost ").border(.rounded).borderStyle(theme.style(.paneBorder)).titleStyle(theme.style(.paneTitle))
        .render(into: &buffer, area: area)
    let inner = Block().border(.rounded).inner(area)
    guard inner.height > 0 else { return }
    let estimate = state.estimate
    let b = estimate.breakdown
    // The submission as it would be sent, worked out once for the whole pane.
    let plan = state.plan
    let comparison = (try? plan.get()).flatMap { $0.isComparison ? $0 : nil }
    let total = (try? plan.get().total) ?? estimate.credits
    let over = budgetProblem(state, adding: total) != nil
    var breakdown: String
    if let mp = b.outputMegapixels {
        breakdown = "\(b.base) first MP"
        if mp > 1 { breakdown += " + \(b.extraOutput) for \(mp - 1) MP more" }
    } else {
        breakdown = "\(b.base) per image"
    }
    if !b.inputs.isEmpty { breakdown += " + \(b.inputs.count) input\(b.inputs.count == 1 ? "" : "s")" }
    if b.count > 1 { breakdown += ", × \(b.count)" }
    var lines: [Line] = [
        Line([Span("estimate  "), Span("\(total) credits (\(total.usdText))", style: theme.style(over ? .costOverBudget : .costEstimate).adding(.bold)),
              Span(state.comparedModels.isEmpty ? "" : "  all models; \(state.model.displayName) \(estimate.credits)", style: theme.style(.uiTextDim))]),
        Line("  " + breakdown, style: theme.style(.uiTextDim)),
    ]
    if comparison == nil, !state.comparedModels.isEmpty, case .failure(let problem) = plan {
        lines.insert(Line([Span("models    "), Span("\(state.comparedModels.count) marked · " + (problem.messages.first ?? ""), style: theme.style(.messageWarning))]), at: 1)
    }
    if let comparison {
        let names = comparison.targets.map { target in
            target.model.id.replacingOccurrences(of: "flux-", with: "") + (target.notes.isEmpty ? "" : " (\(target.notes.joined(separator: ", ")))")
        }
        var spans = [Span("models    "), Span(names.joined(separator: " · ") + " = \(total) credits", style: theme.style(.costEstimate))]
        if !comparison.skipped.isEmpty { spans.append(Span(" · left out: " + comparison.skipped.joined(separator: "; "), style: theme.style(.messageWarning))) }
        lines.insert(Line(spans), at: 1)
    }
    switch (state.matrix, plan) {
    case (.failure(let problem), _):
        lines.insert(Line([Span("matrix    "), Span(problem.message, style: theme.style(.messageError))]), at: 1)
    case (_, .success(let plan)) where plan.prompts.count > 1 || plan.targets.count > 1:
        lines.insert(Line([Span("requests  "), Span(plan.requestTitle + " (\(state.keyName(.expand, in: .model)): list)", style: theme.style(.costEstimate))]), at: 1)
    default:
        break
    }
    // A reference that cannot be sent is said here, before Enter is pressed.
    for problem in state.referenceProblems.prefix(2).reversed() {
        lines.insert(Line([Span("refs      "), Span(TerminalText.sanitize(problem), style: theme.style(.messageError))]), at: 1)
    }
    var charged = [Span("charged   "), Span("\(state.sessionCharged) session · \(state.todayCharged) today", style: theme.style(.costCharged))]
    if let daily = state.budget.daily { charged.append(Span(" / \(daily)", style: theme.style(over ? .costOverBudget : .uiTextDim))) }
    lines.append(Line(charged))
    let balance = state.credits.map { "\($0) (\($0.usdText))" } ?? "…"
    if balanceIsLow(state), let floor = state.budget.warnBelow {
        lines.append(Line([Span("balance   "), Span(balance, style: theme.style(.costOverBudget)), Span(" < \(floor)", style: theme.style(.uiTextDim))]))
    } else {
        lines.append(Line([Span("balance   "), Span(balance, style: theme.style(.uiTextDim))]))
    }
    for (row, line) in lines.prefix(max(0, inner.height - 1)).enumerated() {
        buffer.setLine(x: inner.x, y: inner.y + row, line, maxWidth: inner.width)
    }
    let slots = state.activeSlots
    let y = inner.bottom - 1
    let label = "slots "
    buffer.setString(x: inner.x, y: y, label, style: theme.style(.uiTextDim))
    let kontextWidth = 16
    let gaugeWidth = min(max(0, inner.width - label.count - kontextWidth - 1), 30)
    let gaugeArea = Rect(x: inner.x + label.count, y: y, width: gaugeWidth, height: 1)
    let limits = state.slotLimits
    if gaugeWidth >= limits.account + 6 {
        var gauge = SlotGauge(used: slots.total, limit: limits.account)
        gauge.usedStyle = theme.style(.gaugeFilled)
        gauge.freeStyle = theme.style(.gaugeEmpty)
        gauge.render(into: &buffer, area: gaugeArea)
    } else {
        var gauge = Gauge(ratio: Double(slots.total) / Double(max(1, limits.account)), label: "\(slots.total)/\(limits.account)")
        gauge.filledStyle = theme.style(.gaugeFilled)
        gauge.emptyStyle = theme.style(.gaugeEmpty)
        gauge.emptySymbol = "░"
        gauge.render(into: &buffer, area: gaugeArea)
    }
    let kontext = "kontext-max \(slots.kontextMax)/\(limits.kontextMax)"
    let x = inner.x + label.count + gaugeWidth + 1
    if x + DisplayWidth.of(kontext) <= inner.right {
        buffer.setString(x: x, y: y, kontext, style: theme.style(slots.kontextMax >= limits.kontextMax ? .costOverBudget : .uiTextDim))
    }
}

func phaseRole(_ phase: JobPhase) -> Role {
    switch phase {
    case .queued, .cancelled: .jobQueued
    case .submitting, .pending, .running, .downloading: .jobRunning
    case .done: .jobDone
    case .failed, .timedOut, .saveFailed: .jobFailed
    case .moderated: .jobModerated
    case .expired: .jobExpired
    case .unknown, .abandoned: .jobUnknown
    }
}

/// "11-25 20:52" in the calendar's time zone.
func dayTime(_ date: Date, _ calendar: Calendar) -> String {
    let c = calendar.dateComponents([.month, .day, .hour, .minute], from: date)
    return "\(twoDigits(c.month))-\(twoDigits(c.day)) \(twoDigits(c.hour)):\(twoDigits(c.minute))"
}

/// "07" (no String(format:): it goes through Foundation's formatter for every row of every frame).
private func twoDigits(_ value: Int?) -> String {
    let v = value ?? 0
    return v >= 0 && v < 10 ? "0\(v)" : "\(v)"
}

/// "4s", "1m05s", "2h03m", "4d03h": at most 7 columns. The dates come from the ledger, which
/// anything may have written: a span is clamped before it becomes a whole number.
func elapsedText(_ seconds: TimeInterval) -> String {
    let s = seconds.isFinite ? Int(min(max(0, seconds), 1e9)) : 0
    if s < 60 { return "\(s)s" }
    if s < 3600 { return "\(s / 60)m\(twoDigits(s % 60))s" }
    if s < 100 * 3600 { return "\(s / 3600)h\(twoDigits((s % 3600) / 60))m" }
    let days = s / 86_400
    return days < 1000 ? "\(days)d\(twoDigits((s % 86_400) / 3600))h" : "999d+"
}

/// A job's phase as the jobs pane names it: moderation says whether the request or the image
/// was blocked.
func phaseText(_ job: JobRecord) -> String {
    switch job.phase {
    case .moderated:
        switch job.serverStatus {
        case "Request Moderated": "mod: request"
        case "Content Moderated": "mod: image"
        default: "moderated"
        }
    case .saveFailed: "save failed"
    case .timedOut: "timed out"
    case .queued where job.retryAt != nil: "429 wait"
    default: job.phase.rawValue
    }
}

private func jobsPane(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ theme: Theme) {
    let queued = state.jobs.filter { $0.phase == .queued && !state.detachedJobIDs.contains($0.id) }.count
    let active = state.runningCount - queued
    var parts: [String] = []
    if active > 0 { parts.append("\(active) active") }
    if queued > 0 { parts.append("\(queued) queued") }
    // Scrolled down, newer rows are above the view: said, with the key that goes there.
    let first = StudioLayout.offset(selected: state.jobsList.selected, visible: Block().border(.rounded).inner(area).height)
    if first > 0 { parts.append("↑ \(first) newer (\(state.keyName(.first, in: .jobs)))") }
    let inner = pane(&buffer, area, .jobs, state, theme, title: (["Jobs"] + [parts.joined(separator: ", ")].filter { !$0.isEmpty }).joined(separator: " · "))
    guard !state.jobs.isEmpty else {
        buffer.setString(x: inner.x, y: inner.y, "No jobs yet.", style: theme.style(.uiTextDim), maxWidth: inner.width)
        return
    }
    let spinner = Spinner(tick: state.tick).symbol
    let roomy = inner.width >= 60
    // Only the visible rows are built: the list may hold thousands of jobs.
    let rows = state.jobRows
    let visible = rows.indices.dropFirst(first).prefix(inner.height)
    var items: [Line] = []
    for row in visible {
        switch rows[row] {
        case .group(let id, let indices):
            items.append(groupLine(id, indices.filter { $0 < state.jobs.count }.map { state.jobs[$0] }, state, theme, spinner: spinner, roomy: roomy))
        case .job(let index, let grouped):
            let job = state.jobs[index]
            var status = phaseText(job)
            let detached = state.detachedJobIDs.contains(job.id)
            if job.phase == .running, !detached, let p = state.progress[job.id] ?? job.progress, p.isFinite {
                // The ledger's value may come from anything: kept within 0–100 %.
                status = "\(Int(min(1, max(0, p)) * 100))%"
            }
            if detached {
                status = state.elsewherePIDs[job.id].map { "pid \($0)" } ?? "elsewhere"
            } else if !job.phase.isFinal {
                status = spinner + " " + status
            }
            let cost = costText(job)
            let end = job.finishedAt ?? state.now
            let elapsed = elapsedText(end.timeIntervalSince(job.createdAt))
            // Each column ends in a space, whatever is in it ("mod: request" never runs into the time).
            var spans = [Span(column((grouped ? "  " : "") + status, roomy ? 13 : 11), style: theme.style(detached ? .uiTextDim : phaseRole(job.phase))),
                         Span(column(detached ? "" : elapsed, roomy ? 7 : 6), style: theme.style(.uiTextDim))]
            // Narrow, the model (what tells jobs apart) stays, shortened, and the region goes.
            spans.append(Span(column(job.model, roomy ? 19 : 11)))
            // Where the endpoint has regions, each job says which one it went to.
            if roomy, state.region != nil { spans.append(Span(column(job.region ?? "", 7), style: theme.style(.uiTextDim))) }
            spans.append(Span(column(cost, roomy ? 7 : 6), style: theme.style(.uiTextDim)))
            // ↯: its end came by webhook, not by polling.
            if job.followedBy == "webhook" { spans.append(Span("↯ ", style: theme.style(.uiTextDim))) }
            spans.append(Span(TerminalText.sanitize(job.prompt)))
            items.append(Line(spans))
        }
    }
    var list = ListState(selected: state.jobsList.selected.map { $0 - first })
    List(items).highlightStyle(theme.style(.listSelected)).highlightSymbol("").render(into: &buffer, area: inner, state: &list)
}

/// A group's row: how many, of what, how far along, what it cost; ▸ closed, ▾ open.
/// Its status and time sit in the job rows' columns (`roomy`: the wide ones).
private func groupLine(_ id: String, _ members: [JobRecord], _ state: AppState, _ theme: Theme, spinner: String, roomy: Bool) -> Line {
    let done = members.filter { $0.phase == .done }.count
    let unfinished = members.filter { !$0.phase.isFinal }.count
    let failed = members.filter { $0.phase.isFinal && $0.phase != .done }.count
    let models = Set(members.map(\.model))
    let what = models.count == 1 ? "\(members.count) × \(Catalog.model(id: members[0].model)?.displayName ?? members[0].model)"
        : "\(members.count) jobs · \(models.count) models"
    var parts = [what, "\(done) done"]
    if unfinished > 0 { parts.append("\(unfinished) running") }
    if failed > 0 { parts.append("\(failed) not saved") }
    let charged = members.compactMap(\.chargedCredits).reduce(Credits.zero, +)
    let pending = members.filter { $0.chargedCredits == nil }.reduce(Credits.zero) { $0 + $1.estimate }
    parts.append(pending > .zero ? "\(charged) + ~\(pending) credits" : "\(charged) credits")
    let open = state.expandedGroups.contains(id)
    // Jobs another fluxdeck follows say so, as their own rows would.
    let elsewhere = members.filter { state.detachedJobIDs.contains($0.id) }
    let owner = elsewhere.lazy.compactMap { state.elsewherePIDs[$0.id] }.first.map { "pid \($0)" } ?? "elsewhere"
    if !elsewhere.isEmpty { parts.insert("\(elsewhere.count) followed by \(owner)", at: 1) }
    let status = (open ? "▾ " : "▸ ") + (!elsewhere.isEmpty ? owner : unfinished > 0 ? spinner + " group" : "group")
    let start = members.map(\.createdAt).min() ?? state.now
    let end = unfinished > 0 ? state.now : members.compactMap(\.finishedAt).max() ?? state.now
    let role: Role = unfinished > 0 ? .jobRunning : failed > 0 ? .jobFailed : .jobDone
    return Line([Span(column(status, roomy ? 13 : 11), style: theme.style(role)),
                 Span(column(elapsedText(end.timeIntervalSince(start)), roomy ? 7 : 6), style: theme.style(.uiTextDim)),
                 Span(TerminalText.sanitize(parts.joined(separator: " · ")) + " · " + TerminalText.sanitize(members[0].prompt), style: theme.style(.uiText))])
}

/// `body` is where the list goes (below the filter line when it is shown): the same rectangle
/// the reducer maps clicks with.
private func outputsPane(_ buffer: inout Buffer, _ area: Rect, _ body: Rect, _ state: AppState, _ theme: Theme) -> (x: Int, y: Int)? {
    let outputs = state.filteredOutputs
    let total = state.outputs.count
    let filtering = state.outputsFilterShown
    let more = state.olderOutputsMayExist ? "+" : ""
    var title = filtering ? "Outputs · \(outputs.count)\(more) of \(total)" : "Outputs · \(total)\(more)"
    if !state.outputsFilter.isEmpty {
        // The filter as a badge, with what it hides of the new work and how to clear it,
        // each part in the longest of its forms that fits whole (new work is said even at 80
        // columns, in short).
        let hidden = state.newOutsideFilter
        let parts: [[String]] = [
            ["[\(DisplayWidth.column(TerminalText.sanitize(state.outputsFilter), width: 19).trimmingCharacters(in: .whitespaces))]"],
            hidden > 0 ? ["\(hidden) new outside the filter", "\(hidden) new hidden", "+\(hidden) new"] : [],
            state.focus == .outputs ? ["Esc clears"] : [],
        ]
        for forms in parts {
            if let part = forms.first(where: { DisplayWidth.of(title) + 3 + DisplayWidth.of($0) <= area.width - 4 }) {
                title += " · " + part
            }
        }
    }
    let inner = pane(&buffer, area, .outputs, state, theme, title: title)
    var cursor: (x: Int, y: Int)?
    if filtering, inner.height > 1 {
        let line = Rect(x: inner.x, y: inner.y, width: inner.width, height: 1)
        let label = buffer.setString(x: line.x, y: line.y, "/ ", style: theme.style(.statusKey))
        let field = Rect(x: label, y: line.y, width: max(0, line.right - label), height: 1)
        if let edit = state.fieldEdit, edit.target == .filter {
            var scroll = 0
            cursor = TextArea(edit.editor, placeholder: "words, model:pro, status:done").style(theme.style(.inputText))
                .placeholderStyle(theme.style(.inputPlaceholder)).render(into: &buffer, area: field, scroll: &scroll)
        } else {
            buffer.setString(x: field.x, y: field.y, TerminalText.sanitize(state.outputsFilter), style: theme.style(.inputText), maxWidth: field.width)
        }
    }
    guard !outputs.isEmpty else {
        let problem = OutputQuery(state.outputsFilter, calendar: state.calendar).problems.first
        let text = total == 0 ? "Saved images appear here."
            : problem.map { "The filter: \($0)" } ?? "Nothing matches the filter (Esc in the filter clears it)."
        buffer.setString(x: body.x, y: body.y, text, style: theme.style(.uiTextDim), maxWidth: body.width)
        return cursor
    }
    // A preview of the selected image beside the list when there is room.
    var listArea = body
    if body.width >= 56, body.height >= 4, let path = state.selectedOutput?.outputPath,
       state.previews[path] != nil || state.previewFailures[path] != nil {
        let previewWidth = min(body.width / 3, body.height * 4)
        let previewArea = Rect(x: body.right - previewWidth, y: body.y, width: previewWidth, height: body.height)
        previewOrReason(&buffer, previewArea, state, path, theme)
        listArea = Rect(x: body.x, y: body.y, width: body.width - previewWidth - 1, height: body.height)
    }
    let first = StudioLayout.offset(selected: state.outputsList.selected, visible: listArea.height)
    let roomy = listArea.width >= 60
    let items = outputs.dropFirst(first).prefix(listArea.height).map { job -> Line in
        let date = dayTime(job.finishedAt ?? job.createdAt, state.calendar)
        let seed = job.seed.map { "\($0)" } ?? "—"
        let cost = job.chargedCredits.map { "\($0)" } ?? "~\(job.estimate)"
        // After the date: its star, then its place among those marked for comparison.
        let mark = state.marked.firstIndex(of: job.id).map { String($0 + 1) }
        var spans = [Span(date + " ", style: theme.style(.uiTextDim)),
                     Span(job.starred ? "★" : " ", style: theme.style(job.starred ? .costEstimate : .uiTextDim)),
                     Span(mark ?? " ", style: theme.style(.statusKey))]
        if roomy { spans.append(Span(pad(job.model, 19))) }
        spans += [Span(pad("#" + seed, 12), style: theme.style(.uiTextDim)), Span(pad(cost, 5), style: theme.style(.uiTextDim)),
                  Span(TerminalText.sanitize(job.prompt))]
        return Line(spans)
    }
    var list = ListState(selected: state.outputsList.selected.map { $0 - first })
    List(Array(items)).highlightStyle(theme.style(.listSelected)).highlightSymbol("").render(into: &buffer, area: listArea, state: &list)
    return cursor
}

/// The message line, or while a saved image's tags are typed, that field (returns the cursor).
private func messageLine(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ theme: Theme) -> (x: Int, y: Int)? {
    if let edit = state.fieldEdit, case .tags = edit.target {
        let label = buffer.setString(x: area.x + 1, y: area.y, "tags: ", style: theme.style(.statusKey))
        var scroll = 0
        return TextArea(edit.editor, placeholder: "words, space or comma separated (empty: none)").style(theme.style(.inputText))
            .placeholderStyle(theme.style(.inputPlaceholder))
            .render(into: &buffer, area: Rect(x: label, y: area.y, width: max(0, area.right - label - 1), height: 1), scroll: &scroll)
    }
    guard let message = state.message else { return nil }
    buffer.setString(x: area.x + 1, y: area.y, TerminalText.sanitize(message.text),
                     style: theme.style(message.isError ? .messageError : .messageHint), maxWidth: area.width - 2)
    return nil
}

private func statusBar(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ theme: Theme) {
    buffer.fill(area, style: theme.style(.statusBar))
    let hints = state.hints.map { ($0.key, $0.label) }
    KeyHints(hints)
        .keyStyle(theme.style(.statusKey))
        .labelStyle(theme.style(.statusBar))
        .render(into: &buffer, area: Rect(x: area.x + 1, y: area.y, width: area.width - 1, height: 1))
}

private func overlayBox(_ buffer: inout Buffer, _ area: Rect, _ title: String, width: Int, height: Int, _ theme: Theme) -> Rect {
    let height = min(area.height - 2, height)
    let width = min(area.width - 4, width)
    let box = Rect(x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width: width, height: height)
    buffer.fill(box, style: Style(bg: .default))
    Block().title(Line(" \(title) ")).border(.rounded).borderStyle(theme.style(.paneBorderFocused))
        .titleStyle(theme.style(.paneTitleFocused)).render(into: &buffer, area: box)
    return Block().border(.rounded).inner(box)
}

private func helpOverlay(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ theme: Theme) {
    var lines: [Line] = []
    let sections = state.keymap.helpSections()
    // The keys' column is as wide as its widest entry (remapped keys may be longer).
    let keysWidth = min(26, sections.flatMap(\.rows).map { DisplayWidth.of($0.keys) }.max() ?? 0) + 2
    for section in sections {
        lines.append(Line(section.title, style: theme.style(.paneTitle)))
        for row in section.rows {
            lines.append(Line([Span("  " + pad(row.keys, keysWidth), style: theme.style(.statusKey)), Span(row.help)]))
        }
    }
    lines.append(Line("The outputs filter (/) takes:", style: theme.style(.uiTextDim)))
    lines.append(Line("  " + OutputQuery.forms, style: theme.style(.uiTextDim)))
    lines.append(Line("Mouse: click a pane or a row; the wheel scrolls.", style: theme.style(.uiTextDim)))
    let inner = overlayBox(&buffer, area, "Help", width: 84, height: lines.count + 3, theme)
    guard inner.height > 1 else { return }
    // Scrolls when the terminal is too short for all of it; the last line says how.
    let visible = inner.height - 1
    let scroll = min(state.helpScroll, max(0, lines.count - visible))
    for (row, line) in lines.dropFirst(scroll).prefix(visible).enumerated() {
        buffer.setLine(x: inner.x, y: inner.y + row, line, maxWidth: inner.width)
    }
    let more = lines.count > visible ? "↑↓ scroll (\(scroll + visible)/\(lines.count)) · " : ""
    buffer.setString(x: inner.x, y: inner.bottom - 1, more + "any other key closes", style: theme.style(.uiTextDim), maxWidth: inner.width)
}

private func pickerOverlay(_ buffer: inout Buffer, _ area: Rect, _ highlighted: Int, _ state: AppState, _ theme: Theme) {
    let inner = overlayBox(&buffer, area, "Models", width: 70, height: Catalog.all.count + 3, theme)
    let items = Catalog.all.map { model -> Line in
        let price: String = switch model.price {
        case .flat(let credits): "\(credits) per image"
        case .megapixel(let first, let perMP): "\(first) + \(perMP)/MP"
        }
        let refs = model.maxReferences > 0 ? "\(model.maxReferences) ref" : "      "
        let mark = state.comparedModels.contains(model.id) ? "● " : state.comparedModels.isEmpty ? "" : "  "
        return Line([Span(mark, style: theme.style(.costEstimate)), Span(pad(model.displayName, 24)), Span(pad(price, 16), style: theme.style(.costEstimate)),
                     Span(pad(refs, 7), style: theme.style(.uiTextDim)), Span("\(model.concurrencyLimit) at once", style: theme.style(.uiTextDim))])
    }
    var list = ListState(selected: highlighted)
    List(items).highlightStyle(theme.style(.listSelected)).render(into: &buffer, area: Rect(x: inner.x, y: inner.y, width: inner.width, height: inner.height - 1), state: &list)
    let footer = state.comparedModels.isEmpty ? "Enter chooses · Space marks models to compare · Esc closes"
        : "\(state.comparedModels.count) marked: a submission goes to each · Space unmarks · Esc closes"
    buffer.setString(x: inner.x, y: inner.bottom - 1, footer, style: theme.style(.uiTextDim), maxWidth: inner.width)
}

private func detailsOverlay(_ buffer: inout Buffer, _ area: Rect, _ job: JobRecord, _ state: AppState, _ theme: Theme) {
    var lines: [Line] = []
    func field(_ name: String, _ value: String?) {
        guard let value, !value.isEmpty else { return }
        lines.append(Line([Span(pad(name, 10), style: theme.style(.uiTextDim)), Span(TerminalText.sanitize(value))]))
    }
    field("job", job.id)
    field("model", job.model)
    field("status", job.phase.rawValue + (job.serverStatus.map { " (\($0))" } ?? ""))
    field("seed", job.seed.map(String.init))
    field("cost", job.chargedCredits.map { "\($0) credits charged" } ?? "~\(job.estimate) estimated")
    field("created", job.createdAt.formatted(.iso8601))
    field("starred", job.starred ? "yes" : nil)
    field("tags", job.tags.isEmpty ? nil : job.tags.joined(separator: " "))
    field("endpoint", job.endpoint)
    field("region", job.region)
    field("sent to", job.apiHost)
    field("cluster", job.clusterHost)
    field("followed", job.followedBy.map { $0 == "webhook" ? "by its webhook" : "by polling" })
    field("file", job.outputPath)
    field("error", job.errorMessage)
    if job.phase == .queued, let retryAt = job.retryAt {
        field("429", "rate limited; sent again by \(dayTime(retryAt, state.calendar)) at the latest, sooner when a slot frees")
    }
    field("what now", state.advice(for: job))
    if job.requestJSON.isEmpty {
        field("request", "too large to show here (it carries its input images)")
    } else {
        let shown = RecordedRequest.shownFields(of: job.requestJSON, leaving: ["prompt"])
        field("request", shown.map { "\($0.name)=\($0.value)" }.joined(separator: " "))
    }
    lines.append(Line(""))
    lines.append(Line("prompt", style: theme.style(.uiTextDim)))
    lines.append(Line(TerminalText.sanitize(job.prompt)))
    let inner = overlayBox(&buffer, area, "Job \(job.shortID)", width: 100, height: area.height - 4, theme)
    var textArea = inner
    if inner.width >= 70, let path = job.outputPath, state.previews[path] != nil || state.previewFailures[path] != nil {
        let width = inner.width / 3
        previewOrReason(&buffer, Rect(x: inner.right - width, y: inner.y, width: width, height: inner.height), state, path, theme)
        textArea = Rect(x: inner.x, y: inner.y, width: inner.width - width - 1, height: inner.height)
    }
    Paragraph(lines).render(into: &buffer, area: textArea)
}

private func pad(_ text: String, _ width: Int) -> String { DisplayWidth.padded(text, to: width) }
private func column(_ text: String, _ width: Int) -> String { DisplayWidth.column(text, width: width) }


/// The gallery: the page of the grid that holds the selection, a thumbnail and a caption
/// (model, seed, cost, a star) a cell; the selected cell framed.
private func galleryScreen(_ buffer: inout Buffer, _ state: AppState, _ theme: Theme) {
    let full = Rect(x: 0, y: 0, width: state.width, height: max(0, state.height - 1))
    buffer.fill(full, style: theme.style(.uiText))
    let outputs = state.filteredOutputs
    let page = galleryPage(state)
    let more = state.olderOutputsMayExist ? "+" : ""
    let range = page.isEmpty ? "none" : "\(page.lowerBound + 1)–\(page.upperBound) of \(outputs.count)\(more)"
    let filter = state.outputsFilter.isEmpty ? "" : " · " + TerminalText.sanitize(state.outputsFilter)
    Block().title(Line(" Gallery · \(range)\(filter) ")).border(.rounded).borderStyle(theme.style(.paneBorderFocused))
        .titleStyle(theme.style(.paneTitleFocused)).render(into: &buffer, area: full)
    let grid = StudioLayout.galleryGrid(width: state.width, height: state.height)
    guard !outputs.isEmpty else {
        buffer.setString(x: grid.area.x, y: grid.area.y, "No saved images match.", style: theme.style(.uiTextDim), maxWidth: grid.area.width)
        return
    }
    for (slot, index) in page.enumerated() {
        let job = outputs[index]
        let cell = Rect(x: grid.area.x + (slot % grid.columns) * grid.cell.width, y: grid.area.y + (slot / grid.columns) * grid.cell.height,
                        width: grid.cell.width - 1, height: grid.cell.height)
        let selected = index == state.outputsList.selected
        Block().border(selected ? .thick : .rounded).borderStyle(theme.style(selected ? .paneBorderFocused : .paneBorder))
            .render(into: &buffer, area: cell)
        let inner = Block().border(.rounded).inner(cell)
        let picture = Rect(x: inner.x, y: inner.y, width: inner.width, height: max(0, inner.height - 2))
        if let path = job.outputPath, let preview = state.previews[path] {
            ImageBlock(preview, monochrome: theme.monochrome, quadrants: true, pixelKey: path).render(into: &buffer, area: picture)
        } else if let path = job.outputPath, state.previewFailures[path] != nil {
            buffer.setString(x: picture.x, y: picture.y, "no preview", style: theme.style(.uiTextDim), maxWidth: picture.width)
        }
        let mark = state.marked.firstIndex(of: job.id).map { "[\($0 + 1)] " } ?? ""
        let caption = "\(mark)\(job.starred ? "★ " : "")\(job.model.replacingOccurrences(of: "flux-", with: "")) #\(job.seed.map(String.init) ?? "—")"
        let cost = job.chargedCredits.map { "\($0)c" } ?? ""
        buffer.setString(x: inner.x, y: inner.bottom - 2, caption, style: theme.style(selected ? .paneTitleFocused : .uiText), maxWidth: inner.width)
        buffer.setString(x: inner.x, y: inner.bottom - 1, TerminalText.sanitize(job.prompt), style: theme.style(.uiTextDim),
                         maxWidth: max(0, inner.width - DisplayWidth.of(cost) - 1))
        if !cost.isEmpty { buffer.setString(x: inner.right - DisplayWidth.of(cost), y: inner.bottom - 1, cost, style: theme.style(.uiTextDim)) }
    }
}

/// Compare: the marked images side by side, each over its settings; a setting that differs
/// between them is highlighted.
private func compareScreen(_ buffer: inout Buffer, _ state: AppState, _ theme: Theme) {
    let full = Rect(x: 0, y: 0, width: state.width, height: max(0, state.height - 1))
    buffer.fill(full, style: theme.style(.uiText))
    let jobs = state.marked.compactMap { id in state.jobs.first { $0.id == id } }
    Block().title(Line(" Compare · \(jobs.count) images (differences highlighted) ")).border(.rounded)
        .borderStyle(theme.style(.paneBorderFocused)).titleStyle(theme.style(.paneTitleFocused)).render(into: &buffer, area: full)
    let inner = Block().border(.rounded).inner(full)
    guard !jobs.isEmpty, inner.width > 10, inner.height > 4 else { return }
    let rows = comparedSettings(jobs)
    let labelWidth = 10
    let columnWidth = max(1, (inner.width - labelWidth) / jobs.count)
    let textRows = min(rows.count, max(0, inner.height / 2))
    let pictureHeight = inner.height - textRows
    for (n, job) in jobs.enumerated() {
        let x = inner.x + labelWidth + n * columnWidth
        let area = Rect(x: x, y: inner.y, width: columnWidth - 1, height: pictureHeight - 1)
        if let path = job.outputPath, let picture = state.viewerPictures[path] ?? state.previews[path] {
            ImageBlock(picture, monochrome: theme.monochrome, quadrants: true, pixelKey: path).render(into: &buffer, area: area)
        } else {
            let failed = job.outputPath.map { state.previewFailures[$0] != nil } ?? true
            buffer.setString(x: area.x, y: area.y, "[\(n + 1)] " + (failed ? "no picture" : "loading…"), style: theme.style(.uiTextDim), maxWidth: area.width)
        }
    }
    for (line, row) in rows.prefix(textRows).enumerated() {
        let y = inner.y + pictureHeight + line
        buffer.setString(x: inner.x, y: y, pad(String(row.name.prefix(labelWidth - 1)), labelWidth), style: theme.style(.uiTextDim))
        for (n, value) in row.values.enumerated() {
            let style = row.differs ? theme.style(.messageWarning).adding(.bold) : theme.style(.uiText)
            buffer.setString(x: inner.x + labelWidth + n * columnWidth, y: y, TerminalText.sanitize(value), style: style, maxWidth: columnWidth - 1)
        }
    }
}

/// The viewer: the image as large as the screen allows, its prompt and settings beside it.
private func viewerScreen(_ buffer: inout Buffer, _ area: Rect, _ job: JobRecord, _ state: AppState, _ theme: Theme) {
    buffer.fill(area, style: theme.style(.uiText))
    let outputs = state.filteredOutputs
    let position = outputs.firstIndex { $0.id == job.id }.map { "\($0 + 1)/\(outputs.count)" } ?? ""
    let title = "\(job.starred ? "★ " : "")\(URL(fileURLWithPath: job.outputPath ?? "").lastPathComponent) · \(position)"
    Block().title(Line(" \(TerminalText.sanitize(title)) ")).border(.rounded).borderStyle(theme.style(.paneBorderFocused))
        .titleStyle(theme.style(.paneTitleFocused)).render(into: &buffer, area: area)
    guard let (imageArea, textArea) = StudioLayout.viewer(width: area.width, height: area.height) else { return }
    if let path = job.outputPath, let picture = state.viewerPictures[path] ?? state.previews[path] {
        if let edit = state.extendEdit, edit.jobID == job.id {
            // Extend mode: the grown canvas, its new area tinted, under a key of its own.
            ImageBlock(extendedPreview(picture, edit), monochrome: theme.monochrome, quadrants: true,
                       pixelKey: path + "#extend-\(edit.sides)").render(into: &buffer, area: imageArea)
        } else if let mask = state.maskEdit, mask.jobID == job.id {
            // Mask mode: the picture tinted where it will be repainted (its pixels, so terminals
            // that show real pixels show the tint too), under a key of its own.
            let cells = Picture.fitted(width: picture.width, height: picture.height, in: imageArea)
            let tinted = maskTinted(picture, mask, columns: cells.width, rows: cells.height)
            ImageBlock(tinted, monochrome: theme.monochrome, quadrants: true, pixelKey: path + "#mask-\(mask.hashValue)").render(into: &buffer, area: imageArea)
        } else {
            ImageBlock(picture, monochrome: theme.monochrome, quadrants: true, pixelKey: path).render(into: &buffer, area: imageArea)
        }
    } else if let path = job.outputPath, let reason = state.previewFailures[path] {
        Paragraph([Line("no picture", style: theme.style(.uiTextDim)), Line(reason, style: theme.style(.uiTextDim))]).render(into: &buffer, area: imageArea)
    } else {
        buffer.setString(x: imageArea.x, y: imageArea.y, "loading…", style: theme.style(.uiTextDim), maxWidth: imageArea.width)
    }
    var lines: [Line] = []
    func field(_ name: String, _ value: String?) {
        guard let value, !value.isEmpty else { return }
        lines.append(Line([Span(pad(name, 9), style: theme.style(.uiTextDim)), Span(TerminalText.sanitize(value))]))
    }
    // Mask or extend mode: what it will send, and the prompt being typed for it.
    var editing: (title: String, fields: [(String, String)])?
    if let mask = state.maskEdit, mask.jobID == job.id {
        let count = "\(mask.rects.count) rectangle\(mask.rects.count == 1 ? "" : "s")"
        editing = ("MASK MODE · Fill repaints the tint",
                   [("drawn", count + (mask.inverted ? " · inverted" : "") + (mask.anchorX != nil ? " · one corner set" : ""))])
    } else if let edit = state.extendEdit, edit.jobID == job.id {
        let size = edit.size.map { size in "\(size.width)×\(size.height)" + (edit.grown.map { $0 == size ? "" : " → \($0.width)×\($0.height)" } ?? "") }
        editing = ("EXTEND · Fill paints the tinted border",
                   [("grows", edit.sides.isEmpty ? "nothing yet: arrows grow a side" : edit.sides.description.replacingOccurrences(of: ",", with: " ")),
                    ("size", size ?? "reading…")])
    }
    if let editing {
        lines.append(Line(editing.title, style: theme.style(.paneTitleFocused).adding(.bold)))
        for (name, value) in editing.fields { field(name, value) }
        if let edit = state.fieldEdit, edit.target == .fillPrompt {
            lines.append(Line([Span("paint    ", style: theme.style(.uiTextDim)), Span(TerminalText.sanitize(edit.editor.text) + "▏", style: theme.style(.inputText))]))
        }
        lines.append(Line(""))
    }
    field("model", Catalog.model(id: job.model)?.displayName ?? job.model)
    field("seed", job.seed.map(String.init))
    field("cost", job.chargedCredits.map { "\($0) credits" })
    field("made", dayTime(job.finishedAt ?? job.createdAt, state.calendar))
    field("region", job.region)
    field("tags", job.tags.isEmpty ? nil : job.tags.joined(separator: " "))
    // Its family: what it was made from, and how many were made from it (with their keys).
    let family = state.family(of: job)
    let from = family.parents.map { "\($0.shortID) · \($0.prompt)" } + family.unloaded.map { String($0.prefix(8)) }
    field("from", from.isEmpty ? nil : "\(state.keyName(.parent, in: .viewer)) " + from.joined(separator: "; "))
    field("→", family.children.isEmpty ? nil
          : "\(family.children.count) made from it (\(state.keyName(.child, in: .viewer)))")
    for (name, value) in RecordedRequest.shownFields(of: job.requestJSON, leaving: ["prompt", "seed"]) {
        field(String(name.prefix(8)), value)
    }
    lines.append(Line(""))
    lines.append(Line(TerminalText.sanitize(job.prompt)))
    Paragraph(lines).render(into: &buffer, area: textArea)
}


/// `picture` with mask mode's rectangles tinted magenta (the pending one, anchor to cursor,
/// cyan) and the cursor's cell shown in inverse; cells are those of a `columns` × `rows` grid
/// over it, as drawn.
public func maskTinted(_ picture: Picture, _ mask: MaskEdit, columns: Int, rows: Int) -> Picture {
    guard columns > 0, rows > 0, picture.width > 0, picture.height > 0 else { return picture }
    let pending = mask.anchorX.flatMap { x in mask.anchorY.map { y in
        GridRect.spanning((x, y), (mask.cursorX, mask.cursorY), columns: columns, rows: rows)
    } }
    // Per cell: 0 kept, 1 repainted, 2 pending, 3 cursor.
    var kinds = [UInt8](repeating: 0, count: columns * rows)
    for row in 0..<rows {
        for column in 0..<columns {
            let inside = mask.rects.contains { $0.contains(column: column, row: row, columns: columns, rows: rows) }
            var kind: UInt8 = inside != mask.inverted ? 1 : 0
            if pending?.contains(column: column, row: row, columns: columns, rows: rows) == true { kind = 2 }
            if column == mask.cursorX, row == mask.cursorY { kind = 3 }
            kinds[row * columns + column] = kind
        }
    }
    var pixels = picture.pixels
    for y in 0..<picture.height {
        let row = min(rows - 1, y * rows / picture.height)
        for x in 0..<picture.width {
            let kind = kinds[row * columns + min(columns - 1, x * columns / picture.width)]
            guard kind != 0 else { continue }
            let i = (y * picture.width + x) * 3
            switch kind {
            case 1: (pixels[i], pixels[i + 1], pixels[i + 2]) = repaintTint(pixels, i)
            case 2: (pixels[i], pixels[i + 1], pixels[i + 2]) = (pixels[i] / 2, UInt8((Int(pixels[i + 1]) + 255) / 2), UInt8((Int(pixels[i + 2]) + 255) / 2))
            default: (pixels[i], pixels[i + 1], pixels[i + 2]) = (255 - pixels[i], 255 - pixels[i + 1], 255 - pixels[i + 2])
            }
        }
    }
    return Picture(width: picture.width, height: picture.height, pixels: pixels)
}

/// The pixel at `i` of `pixels` (RGB) as the area Fill paints is tinted: halfway to magenta.
private func repaintTint(_ pixels: [UInt8], _ i: Int) -> (UInt8, UInt8, UInt8) {
    (UInt8((Int(pixels[i]) + 255) / 2), pixels[i + 1] / 2, UInt8((Int(pixels[i + 2]) + 255) / 2))
}

/// `picture` on the canvas extend mode grows, the new area filled from the nearest edge (as
/// the image Fill is sent is) and tinted as mask mode tints what is repainted. Sampled to at
/// most the picture's longest side, however far the sides grow.
public func extendedPreview(_ picture: Picture, _ edit: ExtendEdit) -> Picture {
    guard let size = edit.size, let grown = edit.grown, size.width > 0, size.height > 0, picture.width > 0, picture.height > 0 else {
        return picture
    }
    // The grown canvas at the picture's scale, then within its longest side.
    let scale = min(Double(picture.width) / Double(size.width), Double(max(picture.width, picture.height)) / Double(max(grown.width, grown.height)))
    let width = max(1, Int((Double(grown.width) * scale).rounded())), height = max(1, Int((Double(grown.height) * scale).rounded()))
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        // The canvas pixel this row shows, and the image row nearest it.
        let canvasY = y * grown.height / height
        let imageY = min(max(canvasY - edit.sides.top, 0), size.height - 1)
        let fresh = canvasY < edit.sides.top || canvasY >= edit.sides.top + size.height
        let row = min(picture.height - 1, imageY * picture.height / size.height)
        for x in 0..<width {
            let canvasX = x * grown.width / width
            let imageX = min(max(canvasX - edit.sides.left, 0), size.width - 1)
            let from = (row * picture.width + min(picture.width - 1, imageX * picture.width / size.width)) * 3
            let to = (y * width + x) * 3
            if fresh || canvasX < edit.sides.left || canvasX >= edit.sides.left + size.width {
                (pixels[to], pixels[to + 1], pixels[to + 2]) = repaintTint(picture.pixels, from)
            } else {
                pixels[to] = picture.pixels[from]
                pixels[to + 1] = picture.pixels[from + 1]
                pixels[to + 2] = picture.pixels[from + 2]
            }
        }
    }
    return Picture(width: width, height: height, pixels: pixels)
}

/// The preview of `path`, or a placeholder that says why there is none.
private func previewOrReason(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ path: String, _ theme: Theme) {
    if let preview = state.previews[path] {
        ImageBlock(preview, monochrome: theme.monochrome, quadrants: true, pixelKey: path).render(into: &buffer, area: area)
    } else if let reason = state.previewFailures[path] {
        Paragraph([Line("no preview", style: theme.style(.uiTextDim)), Line(reason, style: theme.style(.uiTextDim))])
            .render(into: &buffer, area: area)
    }
}

/// The spend view: totals for today, 7 and 30 days, 30 days of charges as bars stacked by
/// model, and the costliest models and prompts.
private func spendScreen(_ buffer: inout Buffer, _ area: Rect, _ state: AppState, _ theme: Theme) {
    buffer.fill(area, style: theme.style(.uiText))
    Block().title(Line(" Spending · last 30 days ")).border(.rounded).borderStyle(theme.style(.paneBorderFocused))
        .titleStyle(theme.style(.paneTitleFocused)).render(into: &buffer, area: area)
    let inner = Block().border(.rounded).inner(area)
    guard inner.width >= 30, inner.height >= 8 else { return }
    guard let spending = state.spending else {
        buffer.setString(x: inner.x, y: inner.y, "reading the ledger…", style: theme.style(.uiTextDim), maxWidth: inner.width)
        return
    }
    let dim = theme.style(.uiTextDim)
    func amount(_ row: SpendRow) -> [Span] {
        [Span("\(row.bucket) ", style: dim), Span("\(row.charged)", style: theme.style(.costCharged)), Span(" (\(row.charged.usdText))  ", style: dim)]
    }
    buffer.setLine(x: inner.x, y: inner.y, Line(amount(spending.today) + amount(spending.week) + amount(spending.month)), maxWidth: inner.width)
    let month = spending.month
    let gap = month.charged - month.estimated
    let percent = month.estimated > .zero
        ? String(format: " (%+.1f %%)", gap.doubleValue / month.estimated.doubleValue * 100) : ""
    var second = [Span("estimated ", style: dim), Span("\(month.estimated)"), Span(" · charged ", style: dim), Span("\(month.charged)"),
                  Span(" · \(gap < .zero ? "" : "+")\(gap)\(percent)", style: gap > .zero ? theme.style(.messageWarning) : dim),
                  Span(" · \(month.jobs) jobs, \(month.images) images", style: dim)]
    if month.moderated > 0 {
        second.append(Span(" · \(month.moderated) moderated (\(month.moderatedCharged) charged)", style: theme.style(.jobModerated)))
    }
    buffer.setLine(x: inner.x, y: inner.y + 1, Line(second), maxWidth: inner.width)

    // The series: the five costliest models, then the rest as "other".
    let named = spending.topModels.prefix(Role.chartSeries.count - 1).map(\.name)
    let series = named + (spending.days.contains { $0.byModel.keys.contains { !named.contains($0) } } ? ["other"] : [])
    let shades = ["█", "▓", "▒", "░", "▚", "▞"]
    func seriesStyle(_ k: Int) -> Style { theme.style(Role.chartSeries[min(k, Role.chartSeries.count - 1)]) }
    func seriesGlyph(_ k: Int) -> String { theme.monochrome ? shades[min(k, shades.count - 1)] : "█" }

    let listRows = min(6, max(2, inner.height - 12))
    let chartTop = inner.y + 2
    let chartHeight = max(3, inner.height - 2 - 2 - listRows)
    let axis = chartTop + chartHeight
    let totals = spending.days.map { $0.byModel.values.reduce(Credits.zero, +) }
    let peak = totals.max() ?? .zero
    let labelWidth = max(4, DisplayWidth.of("\(peak)")) + 2
    let plotX = inner.x + labelWidth
    let days = max(1, spending.days.count)
    let step = max(1, (inner.width - labelWidth) / days)
    let barWidth = step > 1 ? step - 1 : 1
    buffer.setString(x: inner.x, y: chartTop, DisplayWidth.padded("\(peak)", to: labelWidth - 2) + " ┤", style: dim)
    buffer.setString(x: inner.x, y: axis - 1, DisplayWidth.padded("0", to: labelWidth - 2) + " ┤", style: dim)
    let peakValue = peak.doubleValue
    let eighths = ["", "▁", "▂", "▃", "▄", "▅", "▆", "▇"]
    for (index, day) in spending.days.enumerated() where peakValue > 0 {
        let x = plotX + index * step
        guard x + barWidth <= inner.right else { break }
        // Cumulative heights in eighths of a cell, bottom up, series in legend order.
        var cumulative = 0.0
        var bounds: [(series: Int, top: Int)] = []
        for (k, name) in series.enumerated() {
            let value = name == "other"
                ? day.byModel.filter { !named.contains($0.key) }.values.reduce(Credits.zero, +)
                : day.byModel[name] ?? .zero
            cumulative += value.doubleValue
            if value > .zero { bounds.append((k, Int((cumulative / peakValue * Double(chartHeight) * 8).rounded()))) }
        }
        guard var total = bounds.last?.top else { continue }
        total = max(1, total)
        for row in 0..<chartHeight {
            let low = row * 8
            guard low < total else { break }
            // The series that covers most of this cell's bottom: the first whose top is above it.
            let owner = bounds.first { $0.top > low }?.series ?? bounds[bounds.count - 1].series
            let filled = min(8, total - low)
            let glyph = filled >= 8 ? seriesGlyph(owner) : (theme.monochrome ? seriesGlyph(owner) : eighths[filled])
            let y = axis - 1 - row
            buffer.fill(Rect(x: x, y: y, width: barWidth, height: 1), symbol: glyph, style: seriesStyle(owner))
        }
    }
    // Days under the axis: the first, the middle and the last.
    if let first = spending.days.first, let last = spending.days.last {
        let middle = spending.days[spending.days.count / 2]
        let labels = [(0, first.day), (spending.days.count / 2, middle.day), (spending.days.count - 1, last.day)]
        for (index, day) in labels {
            let label = String(day.dropFirst(5))
            let x = min(plotX + index * step, inner.right - DisplayWidth.of(label))
            buffer.setString(x: x, y: axis, label, style: dim)
        }
    }
    var legend: [Span] = []
    for (k, name) in series.enumerated() {
        legend.append(Span(seriesGlyph(k) + " ", style: seriesStyle(k)))
        legend.append(Span(name.replacingOccurrences(of: "flux-", with: "") + "  ", style: dim))
    }
    buffer.setLine(x: inner.x, y: axis + 1, Line(legend), maxWidth: inner.width)

    // The costliest models and prompts over 30 days, side by side.
    let listTop = axis + 2
    let half = inner.width / 2
    let rows = max(0, min(listRows - 1, inner.bottom - listTop - 1))
    buffer.setString(x: inner.x, y: listTop, "Costliest models", style: theme.style(.paneTitle), maxWidth: half - 1)
    buffer.setString(x: inner.x + half, y: listTop, "Costliest prompts", style: theme.style(.paneTitle), maxWidth: inner.width - half)
    for (row, entry) in spending.topModels.prefix(rows).enumerated() {
        let figures = "\(entry.charged)  \(entry.jobs) jobs"
        buffer.setString(x: inner.x, y: listTop + 1 + row, TerminalText.sanitize(entry.name), style: theme.style(.uiText), maxWidth: half - DisplayWidth.of(figures) - 2)
        buffer.setString(x: inner.x + half - 1 - DisplayWidth.of(figures), y: listTop + 1 + row, figures, style: dim)
    }
    for (row, entry) in spending.topPrompts.prefix(rows).enumerated() {
        let figures = "\(entry.charged)  \(entry.jobs)×"
        let width = inner.width - half
        buffer.setString(x: inner.x + half, y: listTop + 1 + row, TerminalText.sanitize(entry.name), style: theme.style(.uiText), maxWidth: width - DisplayWidth.of(figures) - 1)
        buffer.setString(x: inner.right - DisplayWidth.of(figures), y: listTop + 1 + row, figures, style: dim)
    }
}
