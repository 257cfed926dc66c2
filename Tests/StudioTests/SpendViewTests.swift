@testable import Studio
import BFL
import Foundation
import Jobs
import TerminalCore
import Testing
import TestSupport

@Suite("Spending in the studio")
struct SpendViewTests {
    @Test("warn_below: the balance is low below it; a submission that would leave less says so once a session, and still goes")
    func lowBalance() {
        var state = AppState(budget: Budget(confirmAbove: nil, warnBelow: Credits(100)))
        _ = reduce(&state, .creditsLoaded(Credits(102)))
        #expect(!balanceIsLow(state))
        typed("a lighthouse", into: &state)
        let first = reduce(&state, .key(Key(.enter)))
        #expect(first.contains { if case .submit = $0 { true } else { false } })
        #expect(state.message?.text.contains("below budget.warn_below = 100") == true, "\(state.message?.text ?? "")")
        #expect(state.lowBalanceWarned)
        typed("a second lighthouse", into: &state)
        let second = reduce(&state, .key(Key(.enter)))
        #expect(second.contains { if case .submit = $0 { true } else { false } })
        #expect(state.message?.text.contains("warn_below") == false)
        _ = reduce(&state, .creditsLoaded(Credits(99)))
        #expect(balanceIsLow(state))
    }

    @Test("a submission that leaves enough says nothing; without warn_below nothing is ever low")
    func enough() {
        var state = AppState(budget: Budget(confirmAbove: nil, warnBelow: Credits(10)))
        _ = reduce(&state, .creditsLoaded(Credits(500)))
        typed("a lighthouse", into: &state)
        _ = reduce(&state, .key(Key(.enter)))
        #expect(!state.lowBalanceWarned)
        var plain = AppState()
        _ = reduce(&plain, .creditsLoaded(Credits(1)))
        #expect(!balanceIsLow(plain))
    }

    @Test("the warning joins the question when the submission asks first")
    func withQuestion() {
        var state = AppState(budget: Budget(confirmAbove: Credits(1), warnBelow: Credits(100)))
        _ = reduce(&state, .creditsLoaded(Credits(101)))
        typed("a lighthouse", into: &state)
        #expect(reduce(&state, .key(Key(.enter))).isEmpty)
        #expect(state.confirming != nil)
        #expect(state.message?.text.hasPrefix("this leaves about") == true)
        #expect(state.message?.text.hasSuffix("(y/n)") == true)
    }

    @Test("$ opens the spend view and reads the ledger; r reads again; Esc closes")
    func view() {
        var state = AppState()
        _ = reduce(&state, .key(Key(.tab)))
        #expect(reduce(&state, .key(.char("$"))) == [.loadSpend])
        #expect(state.spendOpen && state.spending == nil)
        _ = reduce(&state, .spendLoaded(SpendOverview()))
        #expect(state.spending != nil)
        #expect(reduce(&state, .key(.char("r"))) == [.loadSpend])
        _ = reduce(&state, .key(Key(.escape)))
        #expect(!state.spendOpen)
        // In the prompt, $ is text.
        var typing = AppState()
        _ = reduce(&typing, .key(.char("$")))
        #expect(!typing.spendOpen && typing.editor.text == "$")
    }
}
