import BFL
import Jobs
public import TerminalCore
import Widgets

/// A key binding with the help text the status bar and `?` show.
public struct Binding: Sendable {
    public var keys: [Key]
    public var label: String
    public var help: String
}

/// The keys of the studio, by where they work. Help is generated from this table.
public enum Keymap {
    public static let global: [Binding] = [
        Binding(keys: [Key(.tab)], label: "Tab", help: "next pane"),
        Binding(keys: [Key(.backTab)], label: "S-Tab", help: "previous pane"),
        Binding(keys: [Key(.enter)], label: "Enter", help: "submit the prompt"),
        Binding(keys: [Key(.function(1)), .char("?")], label: "?", help: "help (F1 while typing)"),
        Binding(keys: [.ctrl("c"), .ctrl("q"), .char("q")], label: "q", help: "quit (Ctrl-Q while typing)"),
    ]
    public static let prompt: [Binding] = [
        Binding(keys: [Key(.enter, .alt), .ctrl("j")], label: "Alt-Enter", help: "new line"),
        Binding(keys: [.ctrl("u"), .ctrl("k"), .ctrl("w"), .ctrl("y")], label: "Ctrl-U/K/W/Y", help: "kill and yank"),
        Binding(keys: [Key(.up), Key(.down)], label: "↑↓", help: "prompt history"),
    ]
    public static let model: [Binding] = [
        Binding(keys: [Key(.up), Key(.down)], label: "↑↓", help: "choose the model"),
        Binding(keys: [Key(.left), Key(.right)], label: "←→", help: "size or aspect ratio"),
        Binding(keys: [.char("+"), .char("-")], label: "+/-", help: "how many images"),
    ]
    public static let jobs: [Binding] = [
        Binding(keys: [Key(.up), Key(.down)], label: "↑↓", help: "select"),
        Binding(keys: [.char("c")], label: "c", help: "cancel a queued job"),
    ]
    public static let outputs: [Binding] = [
        Binding(keys: [Key(.up), Key(.down)], label: "↑↓", help: "select"),
        Binding(keys: [Key(.enter)], label: "Enter", help: "show the file's path"),
    ]

    public static func bindings(for focus: Focus) -> [Binding] {
        switch focus {
        case .prompt: prompt
        case .model: model
        case .jobs: jobs
        case .outputs: outputs
        }
    }
}

/// The only code that changes the studio's state. No I/O: effects are returned.
public func reduce(_ state: inout AppState, _ action: Action) -> [Effect] {
    switch action {
    case .resize(let width, let height):
        state.width = width
        state.height = height
        return []
    case .tick:
        state.tick &+= 1
        return []
    case .creditsLoaded(let credits):
        state.credits = credits ?? state.credits
        return []
    case .jobsLoaded(let records):
        let known = Set(state.jobs.map(\.id))
        state.jobs += records.filter { !known.contains($0.id) }
        state.jobs.sort { $0.createdAt > $1.createdAt }
        return []
    case .jobUpdated(let record):
        let wasFinal = state.jobs.first { $0.id == record.id }?.phase.isFinal ?? false
        if let index = state.jobs.firstIndex(where: { $0.id == record.id }) {
            state.jobs[index] = record
        } else {
            state.jobs.insert(record, at: 0)
            if state.jobsList.selected == nil { state.jobsList.selected = 0 }
        }
        if record.phase.isFinal { state.progress[record.id] = nil }
        if record.phase.isFinal, !wasFinal {
            if let error = record.errorMessage, record.phase != .done {
                state.message = .init(text: "\(record.shortID) \(record.phase.rawValue): \(TerminalText.sanitize(error))", isError: true)
            }
            if record.phase == .done, state.outputsList.selected == nil { state.outputsList.selected = 0 }
            return [.refreshCredits]
        }
        return []
    case .jobProgress(let id, let value):
        state.progress[id] = value
        return []
    case .submitFailed(let text):
        state.message = .init(text: TerminalText.sanitize(text), isError: true)
        return []
    case .key(let key):
        return reduceKey(&state, key)
    }
}

private func reduceKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    if state.confirmingQuit {
        state.confirmingQuit = false
        if key == .char("y") || key == .char("q") || key == .ctrl("c") { return [.quit] }
        state.message = nil
        return []
    }
    if state.showHelp {
        state.showHelp = false
        return []
    }
    let typing = state.focus == .prompt
    switch key {
    case .ctrl("c"), .ctrl("q"):
        return quit(&state)
    case .char("q") where !typing:
        return quit(&state)
    case Key(.function(1)):
        state.showHelp = true
        return []
    case .char("?") where !typing:
        state.showHelp = true
        return []
    case Key(.tab):
        state.focus = Focus(rawValue: (state.focus.rawValue + 1) % Focus.allCases.count) ?? .prompt
        return []
    case Key(.backTab):
        state.focus = Focus(rawValue: (state.focus.rawValue + Focus.allCases.count - 1) % Focus.allCases.count) ?? .prompt
        return []
    case Key(.enter) where state.focus != .outputs:
        return submit(&state)
    default:
        break
    }
    switch state.focus {
    case .prompt:
        state.editor.handle(key)
    case .model:
        switch key.code {
        case .up: state.modelIndex = max(0, state.modelIndex - 1); state.sizeIndex = 0
        case .down: state.modelIndex = min(Catalog.all.count - 1, state.modelIndex + 1); state.sizeIndex = 0
        case .left: state.sizeIndex = max(0, state.sizeIndex - 1)
        case .right: state.sizeIndex = min(state.sizeChoices.count - 1, state.sizeIndex + 1)
        case .char("+"), .char("="): state.count = min(24, state.count + 1)
        case .char("-"): state.count = max(1, state.count - 1)
        default: break
        }
    case .jobs:
        switch key.code {
        case .up: state.jobsList.move(by: -1, count: state.jobs.count)
        case .down: state.jobsList.move(by: 1, count: state.jobs.count)
        case .char("c"):
            if let index = state.jobsList.selected, index < state.jobs.count, state.jobs[index].phase == .queued {
                return [.cancel(jobID: state.jobs[index].id)]
            }
            state.message = .init(text: "only jobs still queued here can be cancelled", isError: false)
        default: break
        }
    case .outputs:
        let outputs = state.outputs
        switch key.code {
        case .up: state.outputsList.move(by: -1, count: outputs.count)
        case .down: state.outputsList.move(by: 1, count: outputs.count)
        case .enter:
            if let index = state.outputsList.selected, index < outputs.count, let path = outputs[index].outputPath {
                state.message = .init(text: path, isError: false)
            }
        default: break
        }
    }
    return []
}

private func quit(_ state: inout AppState) -> [Effect] {
    guard state.runningCount > 0 else { return [.quit] }
    state.confirmingQuit = true
    state.message = .init(text: "\(state.runningCount) job(s) still running; they continue next time. Quit? (y/n)", isError: false)
    return []
}

private func submit(_ state: inout AppState) -> [Effect] {
    let parameters = state.parameters
    let problems = parameters.validate(for: state.model).filter { $0.severity == .error }
    if let first = problems.first {
        state.message = .init(text: first.message, isError: true)
        return []
    }
    state.editor.commitToHistory()
    state.message = .init(text: "submitting \(state.count) × \(state.model.displayName) (~\(state.estimate.credits) credits)", isError: false)
    return [.submit(modelID: state.model.id, parameters: parameters, count: state.count)]
}
