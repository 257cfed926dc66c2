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
    if let problem = state.referenceProblems.first {
        state.message = .init(text: problem, isError: true)
        return []
    }
    let plan: SubmissionPlan
    switch state.plan {
    case .failure(let problem):
        state.message = .init(text: problem.messages.first ?? problem.message, isError: true)
        return []
    case .success(let made):
        plan = made
    }
    let credits = plan.total
    if let blocked = budgetProblem(state, adding: credits) {
        state.message = .init(text: blocked, isError: true)
        return []
    }
    let effects = plan.batches.map {
        Effect.submit(modelID: $0.model.id, parameters: $0.parameters, count: $0.count, region: state.region, sharedSeedOffset: $0.sharedSeedOffset)
    }
    state.editor.commitToHistory()
    // An edit with words: the next `e` on an image starts with this model.
    if Catalog.editing.contains(state.model), !state.filledReferences.isEmpty { state.lastEditingModelID = state.model.id }
    var what = plan.summary
    if !plan.skipped.isEmpty { what += " (left out: \(plan.skipped.joined(separator: "; ")))" }
    // A second Enter on the same submission is more often a slip than a wish for copies.
    let key = SubmissionKey(form: plan.form, region: state.region)
    if state.budget.repeatGuard, let previous = state.lastSubmission, previous.key == key,
       case let since = state.now.timeIntervalSince(previous.at), since >= 0, since < Budget.repeatWindow {
        state.confirming = .spend(effects, submission: key)
        state.message = .init(text: String(format: "Submit the same request again (sent %.1f s ago): \(what), ~\(credits) credits? ", since) + state.yesNo,
                              isError: false)
        return []
    }
    let warning = lowBalanceWarning(&state, spending: credits)
    if asksFirst(&state, effects, credits: credits, what: what, submission: key) {
        if let warning, let question = state.message { state.message = .init(text: warning + " · " + question.text, isError: false) }
        return []
    }
    state.lastSubmission = (key, state.now)
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
func asksFirst(_ state: inout AppState, _ effects: [Effect], credits: Credits, what: String, submission: SubmissionKey? = nil) -> Bool {
    guard let threshold = state.budget.confirmAbove, threshold > .zero, credits >= threshold else { return false }
    state.confirming = .spend(effects, submission: submission)
    state.message = .init(text: "Send \(what) for \(credits) credits (\(credits.usdText))? At or above budget.confirm_above = \(threshold). \(state.yesNo)",
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
    state.message = .init(text: "\(state.runningCount) job(s) still running; \(fate). Quit? \(state.yesNo)", isError: false)
    return []
}
