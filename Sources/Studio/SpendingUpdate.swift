public import BFL
import Foundation
import Jobs
import TerminalCore

// Sending and spending: submit, the budget, questions before spending or quitting.

func submit(_ state: inout AppState) -> [Effect] {
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
    let (targets, skipped) = state.targets
    let credits = state.submissionCredits(for: targets)
    if let blocked = budgetProblem(state, adding: credits) {
        state.message = .init(text: blocked, isError: true)
        return []
    }
    let prompts: [String?]
    switch state.matrix {
    case .failure(let problem):
        state.message = .init(text: "the prompt: \(problem.message)", isError: true)
        return []
    case .success(let expanded):
        prompts = expanded.count > 1 ? expanded : [parameters.prompt]
    }
    guard !targets.isEmpty else {
        state.message = .init(text: "no marked model can take this: " + skipped.joined(separator: "; "), isError: true)
        return []
    }
    var effects: [Effect] = []
    let sweep = state.settings.seedSweep ? state.settings.seed : nil
    if let sweep, sweep.addingReportingOverflow(state.count - 1).overflow {
        state.message = .init(text: "the seed sweep runs past the largest seed", isError: true)
        return []
    }
    for target in targets {
        for prompt in prompts {
            var each = target.parameters
            each.prompt = prompt
            if let sweep {
                for n in 0..<state.count {
                    each.seed = sweep + n
                    effects.append(.submit(modelID: target.model.id, parameters: each, count: 1, region: state.region))
                }
            } else {
                effects.append(.submit(modelID: target.model.id, parameters: each, count: state.count, region: state.region))
            }
        }
    }
    state.editor.commitToHistory()
    let requests = prompts.count * state.count * targets.count
    let models = targets.count == 1 ? targets[0].model.displayName : "\(targets.count) models"
    var what = requests == state.count ? "\(state.count) × \(models)"
        : "\(requests) requests (\(prompts.count) prompt\(prompts.count == 1 ? "" : "s") × \(state.count)\(targets.count > 1 ? " × \(targets.count) models" : "")) of \(models)"
    if !skipped.isEmpty { what += " (left out: \(skipped.joined(separator: "; ")))" }
    let warning = lowBalanceWarning(&state, spending: credits)
    if asksFirst(&state, effects, credits: credits, what: what) {
        if let warning, let question = state.message { state.message = .init(text: warning + " · " + question.text, isError: false) }
        return []
    }
    if let warning {
        state.message = .init(text: "submitting \(what) · \(warning)", isError: false)
    } else {
        state.message = .init(text: "submitting \(what) (~\(credits) credits)", isError: false, transient: true)
    }
    return effects
}

/// The once-a-session notice that spending `credits` leaves the balance below
/// `budget.warn_below` (nil when it does not, or the notice was already shown).
func lowBalanceWarning(_ state: inout AppState, spending credits: Credits) -> String? {
    guard !state.lowBalanceWarned, let floor = state.budget.warnBelow, let balance = state.credits else { return nil }
    let left = balance - state.pendingEstimate - credits
    guard left < floor else { return nil }
    state.lowBalanceWarned = true
    return "this leaves about \(left) credits (\(left.usdText)), below budget.warn_below = \(floor)"
}

/// Whether the balance is below `budget.warn_below` (the cost pane shows it in red).
public func balanceIsLow(_ state: AppState) -> Bool {
    guard let floor = state.budget.warnBelow, let balance = state.credits else { return false }
    return balance < floor
}

/// When spending `credits` on `what` is at or above the budget's `confirmAbove`, holds
/// `effect` until a y and asks; true when it asked (nothing is sent yet).
func asksFirst(_ state: inout AppState, _ effects: [Effect], credits: Credits, what: String) -> Bool {
    guard let threshold = state.budget.confirmAbove, threshold > .zero, credits >= threshold else { return false }
    state.confirming = .spend(effects)
    state.message = .init(text: "Send \(what) for \(credits) credits (\(credits.usdText))? At or above budget.confirm_above = \(threshold). (y/n)",
                          isError: false)
    return true
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

func quit(_ state: inout AppState) -> [Effect] {
    guard state.runningCount > 0 else { return [.quit] }
    state.confirming = .quit
    let fate = state.jobsOutliveSession ? "they continue next time" : "the built-in simulator stops with the studio, so they will not finish"
    state.message = .init(text: "\(state.runningCount) job(s) still running; \(fate). Quit? (y/n)", isError: false)
    return []
}
