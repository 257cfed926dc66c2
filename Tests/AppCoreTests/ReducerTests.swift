import AppCore
import BFL
import Foundation
import Jobs
import TerminalCore
import Testing
import Widgets

@Suite("Studio reducer")
struct ReducerTests {
    func typed(_ text: String, into state: inout AppState) {
        for character in text { _ = reduce(&state, .key(.char(character))) }
    }

    func job(_ id: String, _ phase: JobPhase, output: String? = nil, error: String? = nil) -> JobRecord {
        var record = JobRecord(id: id, createdAt: Date(timeIntervalSince1970: 1000), model: "flux-2-pro", endpoint: "simulator",
                               prompt: "p", requestJSON: "{}", estimatedCredits: "3", fileExtension: "jpg", groupID: nil)
        record.phase = phase
        record.outputPath = output
        record.errorMessage = error
        return record
    }

    @Test("typing goes to the prompt, even q and ?; Enter submits what the panes describe")
    func submit() {
        var state = AppState()
        typed("q? a lighthouse", into: &state)
        #expect(state.editor.text == "q? a lighthouse")
        #expect(!state.showHelp)
        _ = reduce(&state, .key(Key(.tab)))
        #expect(state.focus == .model)
        for key in [Key.char("+"), .char("+"), Key(.up), Key(.right)] { _ = reduce(&state, .key(key)) }
        #expect(state.model.id == "flux-2-klein-9b")
        #expect(state.count == 3)
        #expect(state.sizeChoice == "1024x768")
        let effects = reduce(&state, .key(Key(.enter)))
        var expected = GenerationParameters(prompt: "q? a lighthouse")
        expected.width = 1024
        expected.height = 768
        #expect(effects == [.submit(modelID: "flux-2-klein-9b", parameters: expected, count: 3)])
        #expect(state.estimate.credits == Credits("1.5") * 3)
    }

    @Test("an invalid request is explained and not submitted")
    func invalid() {
        var state = AppState()
        #expect(reduce(&state, .key(Key(.enter))).isEmpty)
        #expect(state.message?.text == "a prompt is required for FLUX.2 [pro]")
        #expect(state.message?.isError == true)
    }

    @Test("focus cycles both ways; help opens outside the prompt and closes on any key")
    func focusAndHelp() {
        var state = AppState()
        _ = reduce(&state, .key(Key(.backTab)))
        #expect(state.focus == .outputs)
        _ = reduce(&state, .key(.char("?")))
        #expect(state.showHelp)
        _ = reduce(&state, .key(.char("x")))
        #expect(!state.showHelp)
        _ = reduce(&state, .key(Key(.tab)))
        #expect(state.focus == .prompt)
        _ = reduce(&state, .key(Key(.function(1))))
        #expect(state.showHelp)
    }

    @Test("quit asks first while jobs run; the answer decides")
    func quit() {
        var idle = AppState()
        #expect(reduce(&idle, .key(.ctrl("q"))) == [.quit])
        var busy = AppState()
        _ = reduce(&busy, .jobUpdated(job("j1", .running)))
        #expect(reduce(&busy, .key(.ctrl("c"))).isEmpty)
        #expect(busy.confirmingQuit)
        #expect(reduce(&busy, .key(.char("n"))).isEmpty)
        #expect(!busy.confirmingQuit)
        _ = reduce(&busy, .key(.ctrl("c")))
        #expect(reduce(&busy, .key(.char("y"))) == [.quit])
    }

    @Test("job updates: newest first, progress, a final state refreshes credits and reports errors")
    func jobs() {
        var state = AppState()
        _ = reduce(&state, .jobUpdated(job("a", .queued)))
        _ = reduce(&state, .jobProgress(id: "a", progress: 0.4))
        #expect(state.progress["a"] == 0.4)
        #expect(reduce(&state, .jobUpdated(job("a", .failed, error: "boom\u{1B}[2J"))) == [.refreshCredits])
        #expect(state.message?.text == "a failed: boom[2J")
        #expect(state.progress["a"] == nil)
        #expect(reduce(&state, .jobUpdated(job("a", .failed, error: "boom"))).isEmpty)
        _ = reduce(&state, .jobUpdated(job("b", .done, output: "/tmp/b.jpg")))
        #expect(state.jobs.map(\.id) == ["b", "a"])
        #expect(state.outputs.map(\.id) == ["b"])
        _ = reduce(&state, .key(Key(.backTab)))
        _ = reduce(&state, .key(Key(.enter)))
        #expect(state.message?.text == "/tmp/b.jpg")
    }

    @Test("only queued jobs can be cancelled from the jobs pane")
    func cancel() {
        var state = AppState()
        _ = reduce(&state, .jobUpdated(job("q1", .queued)))
        state.focus = .jobs
        #expect(reduce(&state, .key(.char("c"))) == [.cancel(jobID: "q1")])
        _ = reduce(&state, .jobUpdated(job("q1", .running)))
        #expect(reduce(&state, .key(.char("c"))).isEmpty)
    }
}
