@testable import Studio
import BFL
import Foundation
import Jobs
import TerminalCore
import Testing
import Widgets
import StudioViews
import Theme

/// The studio never spends by accident: large spends ask, pastes never submit, other
/// processes' jobs offer nothing that could send them again, a failed save is fetched again.
@Suite("Studio reducer: spending")
struct MoneyReducerTests {
    func press(_ keys: Key..., in state: inout AppState) -> [Effect] {
        keys.flatMap { reduce(&state, .key($0)) }
    }

    /// A prompt and flux-2-max at 24 images: 24 × 7 = 168 credits, over the default 100.
    func expensive() -> AppState {
        var state = AppState(modelID: "flux-2-max")
        _ = reduce(&state, .paste("a lighthouse"))
        state.count = 24
        return state
    }

    @Test("a submission at or above confirm_above asks with the count, model and total; y sends it, n does not")
    func confirmLargeSpend() throws {
        var state = expensive()
        #expect(state.estimate.credits >= Credits(100))
        #expect(press(Key(.enter), in: &state).isEmpty)
        let question = try #require(state.message?.text)
        #expect(question.contains("24 × FLUX.2 [max]"), "\(question)")
        #expect(question.contains("\(state.estimate.credits) credits"))
        #expect(question.contains(state.estimate.credits.usdText))
        #expect(state.confirming != nil)
        // n (or any other key) drops it, and says so.
        #expect(press(.char("n"), in: &state).isEmpty)
        #expect(state.confirming == nil)
        #expect(state.message?.text == "not sent; nothing is charged")
        // Asked again, y sends exactly what was asked about.
        _ = press(Key(.enter), in: &state)
        let sent = press(.char("y"), in: &state)
        #expect(sent.count == 1)
        guard case .submit(let model, _, let count, _, _)? = sent.first else {
            Issue.record("expected a submission, got \(sent)")
            return
        }
        #expect(model == "flux-2-max")
        #expect(count == 24)
    }

    @Test("below the threshold, or with confirm_above = 0, Enter sends at once")
    func noQuestion() {
        var state = expensive()
        state.budget.confirmAbove = Credits(0)
        #expect(press(Key(.enter), in: &state).count == 1)
        var small = AppState(modelID: "flux-2-pro")
        _ = reduce(&small, .paste("a heron"))
        #expect(press(Key(.enter), in: &small).count == 1)
        var exact = AppState(modelID: "flux-2-pro")
        _ = reduce(&exact, .paste("a heron"))
        exact.budget.confirmAbove = exact.estimate.credits
        #expect(press(Key(.enter), in: &exact).isEmpty, "at the threshold it asks")
    }

    @Test("the same submission again within two seconds asks first; later, changed, declined first, or with repeat_guard off, it sends")
    func repeatGuard() throws {
        let start = Date(timeIntervalSince1970: 1_000_000)
        var state = AppState(modelID: "flux-2-pro", now: start)
        _ = reduce(&state, .paste("a heron"))
        #expect(press(Key(.enter), in: &state).count == 1)
        _ = reduce(&state, .clock(start.addingTimeInterval(1.2)))
        #expect(press(Key(.enter), in: &state).isEmpty)
        let question = try #require(state.message?.text)
        #expect(question.hasPrefix("Submit the same request again (sent 1.2 s ago): 1 × FLUX.2 [pro]"), "\(question)")
        #expect(state.confirming != nil)
        // y sends it, and the clock starts again from there.
        #expect(press(.char("y"), in: &state).count == 1)
        _ = reduce(&state, .clock(start.addingTimeInterval(2.0)))
        #expect(press(Key(.enter), in: &state).isEmpty && state.confirming != nil)
        #expect(press(.char("n"), in: &state).isEmpty)
        // Two seconds after the last one sent, it is a choice.
        _ = reduce(&state, .clock(start.addingTimeInterval(3.3)))
        #expect(press(Key(.enter), in: &state).count == 1)
        // Another prompt is another request.
        _ = reduce(&state, .paste(" at dawn"))
        #expect(press(Key(.enter), in: &state).count == 1)
        // Off in config.toml: never asks.
        var off = AppState(modelID: "flux-2-pro", now: start)
        off.budget.repeatGuard = false
        _ = reduce(&off, .paste("a heron"))
        #expect(press(Key(.enter), in: &off).count == 1)
        #expect(press(Key(.enter), in: &off).count == 1)
        // A large spend declined was not sent: asked again, it is the spend question.
        var large = expensive()
        _ = press(Key(.enter), in: &large)
        _ = press(.char("n"), in: &large)
        _ = press(Key(.enter), in: &large)
        #expect(large.message?.text.hasPrefix("Send 24 × FLUX.2 [max]") == true, "\(large.message?.text ?? "")")
    }

    @Test("a re-run at or above the threshold asks too")
    func rerunAsks() {
        var state = AppState()
        var record = job("j1", .done, output: "/tmp/x.jpg", seed: 7)
        record.estimatedCredits = "120"
        _ = reduce(&state, .jobsLoaded([record]))
        state.focus = .jobs
        #expect(press(.char("r"), in: &state).isEmpty)
        #expect(state.message?.text.contains("120 credits") == true)
        #expect(press(.char("y"), in: &state) == [.rerun(jobID: "j1", newSeed: false)])
    }

    @Test("a paste with line breaks never submits, whatever pane has focus")
    func pasteNeverSubmits() {
        var state = AppState()
        state.focus = .jobs
        #expect(reduce(&state, .paste("one\ntwo\nthree\n")).isEmpty)
        #expect(state.editor.text == "one\ntwo\nthree\n")
        #expect(state.focus == .prompt)
    }

    @Test("another process's unfinished job shows its pid and offers no cancel, abandon or re-run")
    func elsewhere() {
        var state = AppState()
        _ = reduce(&state, .jobElsewhere(job("f1", .running), ownerPID: 4242))
        #expect(state.detachedJobIDs.contains("f1"))
        #expect(state.runningCount == 0)
        state.focus = .jobs
        for key in ["c", "a", "r", "n"] {
            #expect(press(.char(Character(key)), in: &state).isEmpty, "key \(key)")
            #expect(state.confirming == nil)
            #expect(state.message?.text.contains("pid 4242") == true)
        }
        // When that process finishes it, the job is an ordinary finished job.
        _ = reduce(&state, .jobElsewhere(job("f1", .done, output: "/tmp/f1.jpg"), ownerPID: 4242))
        #expect(!state.detachedJobIDs.contains("f1"))
        #expect(state.outputs.map(\.id) == ["f1"])
        // Adopted by this studio, it is this studio's.
        _ = reduce(&state, .jobElsewhere(job("f2", .pending), ownerPID: 99))
        _ = reduce(&state, .jobUpdated(job("f2", .running)))
        #expect(!state.detachedJobIDs.contains("f2"))
        #expect(state.elsewherePIDs["f2"] == nil)
    }

    @Test("r on a job whose save failed downloads it again; it never re-runs it")
    func retrySave() {
        var state = AppState()
        _ = reduce(&state, .jobsLoaded([job("s1", .saveFailed, error: "not saved")]))
        state.focus = .jobs
        #expect(press(.char("r"), in: &state) == [.retrySave(jobID: "s1")])
    }
}

@Suite("Jobs pane: what a paying user needs to read")
struct JobsPaneTextTests {
    @Test("request and content moderation are told apart; failed saves and other processes' jobs say so")
    func rows() throws {
        let theme = try ThemeLoader().load(try #require(ThemeLoader.shippedTheme(named: "mono")))
        var state = AppState()
        var request = job("m1", .moderated, prompt: "blocked prompt")
        request.serverStatus = "Request Moderated"
        var content = job("m2", .moderated, prompt: "blocked image")
        content.serverStatus = "Content Moderated"
        let unsaved = job("s1", .saveFailed, prompt: "unsaved")
        _ = reduce(&state, .jobsLoaded([request, content, unsaved]))
        _ = reduce(&state, .jobElsewhere(job("e1", .running, prompt: "elsewhere job"), ownerPID: 31337))
        _ = reduce(&state, .resize(width: 120, height: 40))
        let text = render(state, theme: theme, area: Rect(width: 120, height: 40)).buffer.lines.joined(separator: "\n")
        let line = { (prompt: String) in text.split(separator: "\n").first { $0.contains(prompt) }.map(String.init) ?? "" }
        #expect(line("blocked prompt").contains("mod: request"), "\(text)")
        #expect(line("blocked image").contains("mod: image"))
        #expect(line("unsaved").contains("save failed"))
        #expect(line("elsewhere job").contains("pid 31337"))
    }
}

@Suite("Outputs: a preview that cannot be made says why")
struct PreviewPlaceholderTests {
    @Test("a damaged or oversized image shows a placeholder with the reason, and is not asked for again")
    func placeholder() throws {
        let theme = try ThemeLoader().load(try #require(ThemeLoader.shippedTheme(named: "mono")))
        var state = AppState()
        let effects = reduce(&state, .jobsLoaded([job("o1", .done, prompt: "a bomb", output: "/tmp/bomb.jpg")]))
        #expect(effects == [.loadPreview(path: "/tmp/bomb.jpg")])
        _ = reduce(&state, .previewLoaded(path: "/tmp/bomb.jpg", nil, problem: "bomb.jpg cannot be shown: the image is 65500×65500, over the 50 MP limit for decoding"))
        _ = reduce(&state, .resize(width: 160, height: 40))
        let text = render(state, theme: theme, area: Rect(width: 160, height: 40)).buffer.lines.joined(separator: "\n")
        #expect(text.contains("no preview"), "\(text)")
        #expect(text.contains("65500×65500"))
        // Moving over it again asks for nothing.
        state.focus = .outputs
        #expect(reduce(&state, .key(Key(.down))).isEmpty)
    }
}
