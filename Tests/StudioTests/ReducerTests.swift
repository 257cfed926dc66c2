@testable import Studio
import BFL
import Foundation
import Imaging
import Jobs
import TerminalCore
import Testing
import TestSupport
import StudioViews
import Theme
import Widgets

/// A job record for reducer tests.
func job(_ id: String, _ phase: JobPhase, model: String = "flux-2-pro", prompt: String = "p", output: String? = nil,
         error: String? = nil, cost: String? = nil, seed: Int? = nil, created: Date = Date(timeIntervalSince1970: 1000)) -> JobRecord {
    fixtureJob(id, phase, model: model, prompt: prompt, created: created) {
        $0.outputPath = output
        $0.errorMessage = error
        $0.settledCost = cost
        $0.seed = seed
    }
}

@Suite("Studio reducer")
struct ReducerTests {
    func press(_ keys: Key..., in state: inout AppState) -> [Effect] {
        keys.flatMap { reduce(&state, .key($0)) }
    }

    @Test("typing goes to the prompt, even q and ?; Enter submits what the panes describe")
    func submit() {
        var state = AppState()
        typed("q? a lighthouse", into: &state)
        #expect(state.editor.text == "q? a lighthouse")
        #expect(!state.showHelp)
        _ = press(Key(.tab), in: &state)
        #expect(state.focus == .model)
        #expect(state.formRow == .model)
        _ = press(Key(.left), Key(.down), Key(.down), Key(.right), Key(.down), .char("+"), .char("+"), in: &state)
        #expect(state.model.id == "flux-2-klein-9b")
        #expect(state.count == 3)
        #expect(state.sizeChoice == "1024x768")
        let effects = press(Key(.enter), in: &state)
        var expected = GenerationParameters(prompt: "q? a lighthouse")
        expected.width = 1024
        expected.height = 768
        #expect(effects == [.submit(modelID: "flux-2-klein-9b", parameters: expected, count: 3, region: nil)])
        #expect(state.estimate.credits == Credits("1.5") * 3)
    }

    @Test("prompts of the ledger are the prompt's history, newest first, once each")
    func history() {
        var state = AppState()
        _ = reduce(&state, .jobsLoaded([
            job("a", .done, prompt: "old fox", created: Date(timeIntervalSince1970: 1)),
            job("b", .done, prompt: "a heron", created: Date(timeIntervalSince1970: 2)),
            job("c", .done, prompt: "old fox", created: Date(timeIntervalSince1970: 3)),
        ]))
        _ = press(Key(.up), in: &state)
        #expect(state.editor.text == "old fox")
        _ = press(Key(.up), in: &state)
        #expect(state.editor.text == "a heron")
        _ = press(Key(.up), in: &state)
        #expect(state.editor.text == "a heron")
    }

    @Test("a paste goes to the prompt with its line breaks, or into the field being edited on one line")
    func paste() {
        var state = AppState()
        state.focus = .jobs
        _ = reduce(&state, .paste("a fox\nin snow q\u{1B}"))
        #expect(state.focus == .prompt)
        #expect(state.editor.text == "a fox\nin snow q")
        #expect(state.confirming == nil)
        state.focus = .outputs
        _ = reduce(&state, .jobUpdated(job("a", .done, prompt: "red fox", output: "/o/a.jpg")))
        _ = press(.char("/"), in: &state)
        _ = reduce(&state, .paste("red\nfox"))
        #expect(state.outputsFilter == "red fox")
        #expect(state.filteredOutputs.map(\.id) == ["a"])
    }

    @Test("an invalid request is explained and not submitted")
    func invalid() {
        var state = AppState()
        #expect(press(Key(.enter), in: &state).isEmpty)
        #expect(state.message?.text == "a prompt is required for FLUX.2 [pro]")
        #expect(state.message?.isError == true)
    }

    @Test("the form shows only what the model takes, and every setting reaches the request")
    func form() {
        var state = AppState(modelID: "flux-2-flex", region: .global)
        #expect(state.formRows == [.model, .region, .size, .count, .seed, .format, .safety, .steps, .guidance, .upsampling]
                + (0..<8).map(FormRow.reference))
        typed("a fox", into: &state)
        state.focus = .model
        state.formIndex = state.formRows.firstIndex(of: .region) ?? 0
        _ = press(Key(.right), in: &state)
        #expect(state.region == .eu)
        _ = press(Key(.down), Key(.down), Key(.down), in: &state)
        #expect(state.formRow == .seed)
        _ = press(.char("7"), .char("7"), Key(.enter), in: &state)
        #expect(state.settings.seed == 77)
        _ = press(Key(.down), Key(.right), Key(.down), Key(.left), Key(.down), Key(.left), Key(.down), Key(.right), Key(.down), Key(.right), in: &state)
        #expect(state.format == .png)
        #expect(state.safety == 1)
        #expect(state.steps == 49)
        #expect(state.guidance == 5)
        #expect(state.settings.upsampling == true)
        guard case .submit(_, let parameters, _, let region, _) = press(Key(.enter), in: &state).first else {
            Issue.record("no submission")
            return
        }
        #expect(region == .eu)
        #expect(parameters.seed == 77)
        #expect(parameters.outputFormat == .png)
        #expect(parameters.safetyTolerance == 1)
        #expect(parameters.steps == 49)
        #expect(parameters.guidance == 5)
        #expect(parameters.promptUpsampling == true)
        // Back to the defaults with Del; a bad seed is explained.
        state.formIndex = state.formRows.firstIndex(of: .seed) ?? 0
        _ = press(Key(.delete), in: &state)
        #expect(state.settings.seed == nil)
        _ = press(.char("e"), .char("x"), Key(.enter), in: &state)
        #expect(state.message?.text == "a seed is a whole number of 0 or more (got \"x\")")
        // Switching to a model without steps drops them and keeps the row.
        state.formIndex = 0
        _ = press(Key(.left), in: &state)
        #expect(state.model.id == "flux-2-max")
        #expect(!state.formRows.contains(.steps))
        #expect(state.parameters.steps == nil)
    }

    @Test("Ultra has a raw row that swaps to the Raw entry and back; a balance that cannot be read is said")
    func rawAndCredits() {
        var state = AppState(modelID: "flux-pro-1.1-ultra")
        state.focus = .model
        state.formIndex = state.formRows.firstIndex(of: .raw) ?? 0
        #expect(state.formRow == .raw)
        _ = press(Key(.right), in: &state)
        #expect(state.model.id == "flux-pro-1.1-ultra-raw")
        #expect(state.formRow == .raw)
        _ = press(Key(.delete), in: &state)
        #expect(state.model.id == "flux-pro-1.1-ultra")
        _ = reduce(&state, .creditsFailed("Invalid API key. Set BFL_API_KEY"))
        #expect(state.message == .init(text: "the balance could not be read: Invalid API key. Set BFL_API_KEY", isError: true))
    }

    @Test("a size or aspect ratio can be typed; what the model refuses is said at once")
    func customSize() {
        var state = AppState(modelID: "flux-2-pro")
        typed("x", into: &state)
        state.focus = .model
        state.formIndex = state.formRows.firstIndex(of: .size) ?? 0
        _ = press(.char("e"), in: &state)
        for _ in 0..<9 { _ = press(Key(.backspace), in: &state) }
        typed("1536 x 640", into: &state)
        _ = press(Key(.enter), in: &state)
        #expect(state.customSize == "1536x640")
        #expect(state.parameters.width == 1536)
        #expect(state.parameters.height == 640)
        #expect(state.estimate.credits == Credits("3"))
        _ = press(.char("e"), in: &state)
        for _ in 0..<9 { _ = press(Key(.backspace), in: &state) }
        typed("4000x3000", into: &state)
        _ = press(Key(.enter), in: &state)
        #expect(state.customSize == nil)
        #expect(state.message?.text.contains("width must be between 64 and 2048 for FLUX.2 (got 4000); 2048x1536 fits") == true, "\(state.message?.text ?? "")")
        _ = press(.char("e"), in: &state)
        typed("oops", into: &state)
        _ = press(Key(.enter), in: &state)
        #expect(state.message?.text.hasPrefix("a size is width x height") == true)
        // Aspect-ratio models take W:H; switching to one drops a typed pixel size.
        var kontext = AppState(modelID: "flux-kontext-pro")
        kontext.focus = .model
        kontext.formIndex = kontext.formRows.firstIndex(of: .size) ?? 0
        _ = press(.char("e"), in: &kontext)
        for _ in 0..<5 { _ = press(Key(.backspace), in: &kontext) }
        typed("7:3", into: &kontext)
        _ = press(Key(.enter), in: &kontext)
        #expect(kontext.parameters.aspectRatio == "7:3")
        kontext.customSize = "1536x640"
        kontext.formIndex = 0
        _ = press(Key(.left), in: &kontext)
        #expect(kontext.model.sizeRule != .aspectRatio || kontext.customSize == nil)
    }

    @Test("Enter on the model row lists the catalog; Enter there chooses")
    func picker() {
        var state = AppState()
        state.focus = .model
        _ = press(Key(.enter), in: &state)
        #expect(state.picker == state.modelIndex)
        _ = press(Key(.down), Key(.down), Key(.enter), in: &state)
        #expect(state.picker == nil)
        #expect(state.model.id == "flux-2-flex")
    }

    @Test("reference slots: a typed path is inspected, its size prices the inputs, problems block submission")
    func references() {
        var state = AppState(modelID: "flux-2-pro")
        typed("edit this", into: &state)
        state.focus = .model
        state.formIndex = state.formRows.firstIndex(of: .reference(0)) ?? 0
        _ = press(.char("e"), in: &state)
        typed("/tmp/in.png", into: &state)
        // Read for its size and, at once, for its thumbnail.
        #expect(press(Key(.enter), in: &state) == [.inspectReference(slot: 0, path: "/tmp/in.png"), .loadPreview(path: "/tmp/in.png")])
        // Not read yet: submission waits.
        state.focus = .prompt
        #expect(press(Key(.enter), in: &state).isEmpty)
        #expect(state.message?.text == "reference 1 is still being read")
        _ = reduce(&state, .referenceInspected(slot: 0, path: "/tmp/in.png", size: PixelSize(width: 2048, height: 1024), problem: nil))
        #expect(state.estimate.breakdown.inputs.count == 1)
        #expect(state.estimate.credits == Credits("3") + Credits("1.5") * 2)
        guard case .submit(_, let parameters, _, _, _) = press(Key(.enter), in: &state).first else {
            Issue.record("no submission")
            return
        }
        #expect(parameters.references.map(\.value) == ["/tmp/in.png"])
        _ = reduce(&state, .referenceInspected(slot: 0, path: "/tmp/in.png", size: nil, problem: "/tmp/in.png is not a PNG or JPEG image"))
        #expect(press(Key(.enter), in: &state).isEmpty)
        #expect(state.message?.text == "/tmp/in.png is not a PNG or JPEG image")
    }

    @Test("a chosen reference's thumbnail is asked for and drawn in the Model pane with its slot; the row under the cursor chooses which; a web address has none")
    func referenceThumbnail() {
        var state = AppState(modelID: "flux-2-pro")
        _ = reduce(&state, .resize(width: 120, height: 40))
        state.focus = .model
        for (slot, path) in [(0, "/tmp/a.png"), (1, "https://example.com/b.png"), (2, "/tmp/c.png")] {
            state.formIndex = state.formRows.firstIndex(of: .reference(slot)) ?? 0
            _ = press(.char("e"), in: &state)
            typed(path, into: &state)
            _ = press(Key(.enter), in: &state)
        }
        // The cursor is on ref 3: its thumbnail is the one shown.
        #expect(state.shownReference?.path == "/tmp/c.png")
        // On the web address, the first local reference is shown instead, and asked for.
        #expect(press(Key(.up), in: &state) == [.loadPreview(path: "/tmp/a.png")])
        #expect(state.shownReference?.slot == 0)
        // Elsewhere in the studio the first filled slot is shown.
        state.focus = .prompt
        #expect(state.shownReference?.path == "/tmp/a.png")
        // Once loaded, it is drawn at the pane's right with its slot's name under it.
        let pixels = [UInt8](repeating: 200, count: 8 * 8 * 3)
        _ = reduce(&state, .previewLoaded(path: "/tmp/a.png", Picture(width: 8, height: 8, pixels: pixels)))
        #expect(state.previews["/tmp/a.png"] != nil && state.shownReference?.path == "/tmp/a.png")
        let buffer = render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer
        let inner = StudioLayout(width: 120, height: 40).model.inset(by: 1)
        let caption = inner.bottom - 1
        #expect(buffer.lines[caption].contains("ref 1          ││"), "\(buffer.lines.joined(separator: "\n"))")
        // Above the caption, the picture's grey at the pane's right edge.
        #expect(buffer[inner.right - 1, caption - 1].style.bg == .rgb(200, 200, 200)
                || buffer[inner.right - 1, caption - 1].style.fg == .rgb(200, 200, 200))
        // A preview that cannot be made says why in the same place.
        var broken = state
        _ = reduce(&broken, .previewLoaded(path: "/tmp/a.png", nil, problem: "a.png is damaged"))
        broken.previews["/tmp/a.png"] = nil
        #expect(render(broken, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines.contains { $0.contains("no preview") })
    }

    @Test("every action answers: a fixed reference replaces the complaint about it, a queued job cancelled says nothing is charged and shows no cost, an abandoned job says so once; columns never touch")
    func feedback() {
        var state = AppState(modelID: "flux-2-pro")
        state.settings.references[0] = ReferenceSlot(path: "/tmp/broken.png", size: nil, problem: nil)
        _ = reduce(&state, .referenceInspected(slot: 0, path: "/tmp/broken.png", size: nil, problem: "/tmp/broken.png is not a PNG or JPEG image"))
        #expect(state.message?.isError == true)
        state.settings.references[0] = ReferenceSlot(path: "/tmp/fixed.png", size: nil, problem: nil)
        _ = reduce(&state, .referenceInspected(slot: 0, path: "/tmp/fixed.png", size: PixelSize(width: 640, height: 480), problem: nil))
        #expect(state.message == .init(text: "reference 1: fixed.png, 640×480", isError: false))
        // A queued job cancelled: said, and its cost is nothing rather than an estimate.
        let queued = fixtureJob("q-1", .queued)
        _ = reduce(&state, .jobsLoaded([queued]))
        state.focus = .jobs
        state.jobsList.selected = 0
        #expect(press(.char("c"), in: &state) == [.cancel(jobID: "q-1")])
        #expect(state.message?.text == "cancelled \(queued.shortID) before it was sent; nothing is charged")
        var cancelled = queued
        cancelled.phase = .cancelled
        #expect(costText(cancelled) == "—" && costText(queued) == "~3")
        var sent = cancelled
        sent.taskID = "t-1"
        sent.phase = .failed
        #expect(costText(sent) == "~3")
        // Abandoned: the phase is said once.
        var abandoned = fixtureJob("a-1", .running)
        _ = reduce(&state, .jobsLoaded([abandoned]))
        abandoned.phase = .abandoned
        abandoned.errorMessage = "abandoned after it was sent; BFL may still charge for it"
        _ = reduce(&state, .jobUpdated(abandoned))
        let said = state.message?.text ?? ""
        #expect(said.hasPrefix("\(abandoned.shortID) abandoned after it was sent") && said.components(separatedBy: "abandoned").count == 2, "\(said)")
        // A re-run says what it sent, and the saying outlasts the new job's arrival.
        var done = fixtureJob("d-1", .done)
        done.seed = 4242
        _ = reduce(&state, .jobsLoaded([done]))
        let rows = state.jobRows.count
        state.jobsList.selected = (0..<rows).first { index in
            var probe = state
            probe.jobsList.selected = index
            return probe.selectedJob?.id == "d-1"
        }
        #expect(press(.char("r"), in: &state) == [.rerun(jobID: "d-1", newSeed: false)])
        #expect(state.message?.text == "running \(done.shortID) again with seed 4242")
        _ = reduce(&state, .jobUpdated(fixtureJob("d-2", .queued)))
        #expect(state.message?.text == "running \(done.shortID) again with seed 4242")
        // A column is cut before it reaches the next one.
        #expect(DisplayWidth.column("mod: request", width: 12) == "mod: reque… ")
        #expect(DisplayWidth.column("done", width: 6) == "done  " && DisplayWidth.column("3s", width: 1) == " ")
    }

    @Test("the form a session leaves is the form the next one starts with; what cannot be used is left at the default")
    func rememberedForm() throws {
        var state = AppState(modelID: "flux-2-max")
        state.focus = .model
        state.formIndex = try #require(state.formRows.firstIndex(of: .size))
        _ = press(Key(.right), in: &state)
        state.formIndex = try #require(state.formRows.firstIndex(of: .count))
        _ = press(.char("+"), .char("+"), .char("+"), in: &state)
        state.settings.seed = 77
        state.settings.format = .png
        state.settings.safety = 4
        state.lastEditingModelID = "flux-kontext-max"
        let form = state.rememberedForm
        #expect(form.model == "flux-2-max" && form.size == state.sizeChoices[1] && form.count == 4 && form.seed == 77 && form.format == "png")
        #expect(form.editingModel == "flux-kontext-max")
        var next = AppState()
        _ = reduce(&next, .formRestored(form))
        #expect(next.rememberedForm == form)
        #expect(next.model.id == "flux-2-max" && next.sizeChoice == state.sizeChoice && next.count == 4 && next.settings.safety == 4)
        // The next session's e edits with the model the last one edited with.
        #expect(next.lastEditingModelID == "flux-kontext-max")
        // Damaged or from elsewhere: an unknown model and format stay at the default, a count
        // is kept in the row's range, a negative seed is none below zero.
        var odd = RememberedForm()
        odd.model = "flux-9"
        odd.format = "gif"
        odd.count = 999
        odd.seed = -5
        odd.size = "1024x1024; rm -rf"
        odd.editingModel = "flux-pro-1.1"
        var fresh = AppState()
        _ = reduce(&fresh, .formRestored(odd))
        #expect(fresh.lastEditingModelID == Catalog.defaultEditingModelID, "a model that does not edit is not the editing model")
        #expect(fresh.model.id == "flux-2-pro" && fresh.settings.format == nil && fresh.count == 24 && fresh.settings.seed == 0)
        #expect(fresh.customSize == nil && fresh.sizeChoice == fresh.sizeChoices[0])
        #expect(try JSONDecoder().decode(RememberedForm.self, from: Data("{\"future\":1}".utf8)) == RememberedForm())
    }

    @Test("Tab in a reference field asks for the path's completions; one fills the field, several say what matched, a late answer to an older text is dropped")
    func pathCompletion() throws {
        var state = AppState(modelID: "flux-2-pro")
        state.focus = .model
        state.formIndex = try #require(state.formRows.firstIndex(of: .reference(0)))
        _ = press(.char("e"), in: &state)
        typed("~/ph", into: &state)
        #expect(press(Key(.tab), in: &state) == [.completePath(text: "~/ph")])
        _ = reduce(&state, .pathCompleted(typed: "~/ph", PathCompletion(text: "~/photo", matches: ["photos/", "photo.jpg"])))
        #expect(state.fieldEdit?.editor.text == "~/photo")
        #expect(state.message?.text == "2 match: photos/  photo.jpg")
        _ = reduce(&state, .pathCompleted(typed: "~/ph", PathCompletion(text: "~/phone.png", matches: ["phone.png"])))
        #expect(state.fieldEdit?.editor.text == "~/photo", "an answer for text no longer there is dropped")
        _ = reduce(&state, .pathCompleted(typed: "~/photo", PathCompletion(text: "~/photo.jpg", matches: ["photo.jpg"])))
        #expect(state.fieldEdit?.editor.text == "~/photo.jpg" && state.message == nil)
        #expect(press(Key(.enter), in: &state) == [.inspectReference(slot: 0, path: "~/photo.jpg"), .loadPreview(path: "~/photo.jpg")])
        // Elsewhere Tab is not completion: the seed field ignores it.
        state.formIndex = try #require(state.formRows.firstIndex(of: .seed))
        _ = press(.char("e"), in: &state)
        #expect(press(Key(.tab), in: &state).isEmpty)
    }

    @Test("an unusable reference is flagged in the cost pane before Enter: a broken file, and a Fill mask of another size than its image")
    func referenceProblemsShown() throws {
        var state = AppState(modelID: "flux-pro-1.0-fill")
        typed("a red door", into: &state)
        state.settings.references[0] = ReferenceSlot(path: "/tmp/door.png", size: PixelSize(width: 1024, height: 768))
        state.settings.references[1] = ReferenceSlot(path: "/tmp/mask.png", size: PixelSize(width: 512, height: 384))
        let problem = "the mask is 512×384 and the image 1024×768; Fill needs them the same size"
        #expect(state.referenceProblems == [problem])
        let pane = render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines.joined(separator: "\n")
        #expect(pane.contains("refs      the mask is 512×384 and the image 1024×768"), "\(pane)")
        #expect(press(Key(.enter), in: &state).isEmpty && state.message?.text == problem)
        state.settings.references[1] = ReferenceSlot(path: "/tmp/mask.png", size: PixelSize(width: 1024, height: 768))
        #expect(state.referenceProblems.isEmpty)
        state.settings.references[1] = ReferenceSlot(path: "/tmp/mask.gif", size: nil, problem: "/tmp/mask.gif is not a PNG or JPEG image")
        #expect(state.referenceProblems == ["ref 2: /tmp/mask.gif is not a PNG or JPEG image"])
    }

    @Test("e on an image (list, viewer, gallery) starts an edit: the last editing model (FLUX.2 [pro] at first), the image as reference 1, the prompt focused")
    func editImage() throws {
        var state = AppState(modelID: "flux-pro-1.1")
        _ = reduce(&state, .jobUpdated(job("a", .done, output: "/out/a.jpg")))
        state.focus = .outputs
        let effects = press(.char("e"), in: &state)
        #expect(effects.first == .inspectReference(slot: 0, path: "/out/a.jpg"))
        #expect(state.model.id == "flux-2-pro" && state.focus == .prompt)
        #expect(state.settings.references[0]?.path == "/out/a.jpg")
        #expect(state.message?.text == "editing a.jpg with FLUX.2 [pro]: say what to change, then Enter")
        // A submission with Kontext [max] and a reference makes it the editing model.
        selectModel(&state, try #require(Catalog.all.firstIndex { $0.id == "flux-kontext-max" }))
        _ = reduce(&state, .referenceInspected(slot: 0, path: "/out/a.jpg", size: PixelSize(width: 512, height: 512), problem: nil))
        typed("make it winter", into: &state)
        #expect(press(Key(.enter), in: &state).contains { if case .submit = $0 { true } else { false } })
        #expect(state.lastEditingModelID == "flux-kontext-max")
        // From the viewer, on a model that cannot edit: Kontext [max] again, the viewer closed.
        selectModel(&state, try #require(Catalog.all.firstIndex { $0.id == "flux-pro-1.1-ultra" }))
        state.focus = .outputs
        _ = press(.char("v"), in: &state)
        #expect(state.viewer == "a")
        _ = press(.char("e"), in: &state)
        #expect(state.viewer == nil && state.model.id == "flux-kontext-max" && state.focus == .prompt)
        // From the gallery, on a model that edits already (FLUX.2 [max]): it stays.
        selectModel(&state, try #require(Catalog.all.firstIndex { $0.id == "flux-2-max" }))
        state.focus = .outputs
        _ = press(.char("g"), in: &state)
        #expect(state.gallery)
        _ = press(.char("e"), in: &state)
        #expect(!state.gallery && state.model.id == "flux-2-max" && state.settings.references[0]?.path == "/out/a.jpg")
    }

    @Test("the viewer shows an image's family: from its parent, → the children; [ and ] step to them, clearing a filter that hides them")
    func familyInTheViewer() throws {
        var state = AppState()
        _ = reduce(&state, .resize(width: 120, height: 40))
        let parent = job("p", .done, prompt: "a quiet harbour", output: "/out/p.png", created: Date(timeIntervalSince1970: 100))
        var first = job("c1", .done, prompt: "the harbour in winter", output: "/out/c1.png", created: Date(timeIntervalSince1970: 200))
        first.parents = ["p"]
        var second = job("c2", .done, prompt: "the harbour at night", output: "/out/c2.png", created: Date(timeIntervalSince1970: 300))
        second.parents = ["p", "0badc0de-0000-4000-8000-000000000000"]
        _ = reduce(&state, .jobsLoaded([parent, first, second]))
        state.focus = .outputs
        state.outputsList.selected = state.filteredOutputs.firstIndex { $0.id == "p" }
        _ = press(.char("v"), in: &state)
        #expect(state.viewer == "p")
        func screen() -> String { render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines.joined(separator: "\n") }
        #expect(screen().contains("→        2 made from it (])"), "\(screen())")
        _ = press(.char("]"), in: &state)
        #expect(state.viewer == "c1")
        #expect(screen().contains("from     [ \(parent.shortID) · a quiet harbour"), "\(screen())")
        _ = press(.char("["), in: &state)
        #expect(state.viewer == "p")
        _ = press(.char("]"), in: &state)
        #expect(state.viewer == "c2")
        // A parent not loaded here is named by its id.
        #expect(screen().contains("a quiet harbour;") && screen().contains("0badc0de"), "\(screen())")
        _ = press(.char("["), in: &state)
        _ = press(.char("]"), in: &state)
        #expect(state.viewer == "c1", "the children come in turn")
        // The parent hidden by a filter: [ clears it and shows the parent.
        _ = press(Key(.escape), in: &state)
        _ = press(.char("/"), in: &state)
        typed("winter", into: &state)
        _ = press(Key(.enter), in: &state)
        #expect(state.filteredOutputs.map(\.id) == ["c1"])
        _ = press(.char("v"), in: &state)
        _ = press(.char("["), in: &state)
        #expect(state.outputsFilter.isEmpty && state.viewer == "p")
        // An image without parents says so.
        _ = press(.char("["), in: &state)
        #expect(state.viewer == "p" && state.message?.text == "p was not made from a saved image here")
    }

    @Test("f shows an image's family, oldest first, as the filter family:ID (searched in the ledger too); the viewer stays on the image and steps through the family; an ancestor only the ledger had joins it in its place")
    func familyFilter() throws {
        var state = AppState()
        _ = reduce(&state, .resize(width: 120, height: 40))
        func made(_ id: String, _ seconds: Double, from parents: [String]) -> JobRecord {
            var record = job(id, .done, prompt: "harbour \(id)", output: "/out/\(id).png", created: Date(timeIntervalSince1970: seconds))
            record.parents = parents
            return record
        }
        let root = made("a0", 100, from: ["e5"]), child = made("c1", 200, from: ["a0"]), grandchild = made("c2", 300, from: ["c1"])
        let sibling = made("c3", 250, from: ["a0"]), stranger = made("d3", 400, from: [])
        _ = reduce(&state, .jobsLoaded([stranger, grandchild, sibling, child, root]))
        state.focus = .outputs
        state.outputsList.selected = state.filteredOutputs.firstIndex { $0.id == "c1" }
        _ = press(.char("v"), in: &state)
        let effects = press(.char("f"), in: &state)
        #expect(state.outputsFilter == "family:c1")
        #expect(state.filteredOutputs.map(\.id) == ["a0", "c1", "c2"])
        #expect(state.viewer == "c1" && state.outputsList.selected == 1)
        #expect(effects.contains { if case .loadOutputs(nil, "family:c1", _) = $0 { true } else { false } }, "\(effects)")
        #expect(state.message?.text.hasPrefix("the family of c1, oldest first") == true)
        // Said on the viewer's bottom edge, where the viewer is what is on screen.
        let shown = render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines
        #expect(shown[38].contains("the family of c1, oldest first"), "\(shown[38])")
        // The ledger's answer brings the grandparent: it takes its place, first.
        var ancestor = made("e5", 50, from: [])
        ancestor.prompt = "the first harbour"
        _ = reduce(&state, .outputsLoaded([ancestor, root, child, grandchild], filter: "family:c1", exhausted: true, generation: state.outputsGeneration))
        #expect(state.filteredOutputs.map(\.id) == ["e5", "a0", "c1", "c2"])
        _ = press(Key(.right), in: &state)
        #expect(state.viewer == "c2")
        _ = press(Key(.left), in: &state)
        _ = press(Key(.left), in: &state)
        #expect(state.viewer == "a0")
        // From the list too, once Esc in the filter has cleared it.
        _ = press(Key(.escape), in: &state)
        _ = press(.char("/"), Key(.escape), in: &state)
        #expect(state.outputsFilter.isEmpty)
        state.outputsList.selected = state.filteredOutputs.firstIndex { $0.id == "c3" }
        _ = press(.char("f"), in: &state)
        #expect(state.filteredOutputs.map(\.id) == ["e5", "a0", "c3"])
    }

    @Test("mask mode: rectangles by keys (Shift in larger steps) and by the mouse, kept on the picture's grid; undo, invert; Enter asks the prompt, then Fill is sent (asked first at confirm_above)")
    func maskMode() throws {
        var state = AppState()
        _ = reduce(&state, .resize(width: 120, height: 40))
        _ = reduce(&state, .jobsLoaded([job("a", .done, prompt: "a quiet harbour", output: "/out/a.png")]))
        state.focus = .outputs
        _ = press(.char("v"), in: &state)
        // Without its picture on screen there is nothing to draw on.
        _ = press(.char("m"), in: &state)
        #expect(state.maskEdit == nil && state.message?.isError == true)
        // A 4:3 picture: drawn in the viewer's picture area, at the one fit rule.
        _ = reduce(&state, .previewLoaded(path: "/out/a.png", Picture(width: 160, height: 120, pixels: [UInt8](repeating: 90, count: 160 * 120 * 3)), large: true))
        let cells = try #require(state.viewerPictureCells)
        let area = try #require(StudioLayout.viewer(width: 120, height: 39)).image
        #expect(cells == Picture.fitted(width: 160, height: 120, in: area) && state.mode == .viewer)
        _ = press(.char("m"), in: &state)
        #expect(state.mode == .mask)
        let start = try #require(state.maskEdit)
        #expect(start.cursorX == cells.width / 2 && start.cursorY == cells.height / 2)
        // Space, then right 8 (Shift) + 2 and down 3, Space: a 11×4 rectangle from the cursor.
        _ = press(.char(" "), Key(.right, .shift), Key(.right), Key(.right), Key(.down), Key(.down), Key(.down), .char(" "), in: &state)
        let first = GridRect(x: start.cursorX, y: start.cursorY, width: 11, height: 4, columns: cells.width, rows: cells.height)
        #expect(state.maskEdit?.rects == [first])
        // A mouse press and release elsewhere on the picture: a second rectangle, either order of corners.
        _ = reduce(&state, .mouse(MouseEvent(kind: .press, x: cells.x + 5, y: cells.y + 6)))
        _ = reduce(&state, .mouse(MouseEvent(kind: .release, x: cells.x + 1, y: cells.y + 2)))
        let second = GridRect(x: 1, y: 2, width: 5, height: 5, columns: cells.width, rows: cells.height)
        #expect(state.maskEdit?.rects == [first, second])
        // A press off the picture does nothing; the cursor stays inside at its edges.
        _ = reduce(&state, .mouse(MouseEvent(kind: .press, x: 0, y: 0)))
        #expect(state.maskEdit?.anchorX == nil)
        for _ in 0..<40 { _ = press(Key(.left, .shift), in: &state) }
        #expect(state.maskEdit?.cursorX == 0)
        // u takes back the last; i inverts.
        _ = press(.char("u"), .char("i"), in: &state)
        #expect(state.maskEdit?.rects == [first] && state.maskEdit?.inverted == true)
        // The tint: the picture's own pixels, changed outside the rectangle once inverted.
        let tinted = maskTinted(try #require(state.viewerPictures["/out/a.png"]), try #require(state.maskEdit), columns: cells.width, rows: cells.height)
        #expect(tinted.pixels[0..<3] != [90, 90, 90])
        // Enter asks what goes there; the prompt typed and Enter send Fill.
        _ = press(Key(.enter), in: &state)
        #expect(state.fieldEdit?.target == .fillPrompt && state.mode == .field)
        typed("a red lantern", into: &state)
        let sent = press(Key(.enter), in: &state)
        #expect(sent == [.repaint(path: "/out/a.png", rects: [first], inverted: true, prompt: "a red lantern", region: state.region)])
        #expect(state.maskEdit == nil && state.mode == .viewer)
        // At or above confirm_above it asks first; Esc leaves mask mode, dropping the rectangles.
        state.budget.confirmAbove = Credits(5)
        _ = press(.char("m"), .char(" "), .char(" "), Key(.enter), in: &state)
        typed("fog", into: &state)
        #expect(press(Key(.enter), in: &state).isEmpty && state.confirming != nil)
        #expect(press(.char("y"), in: &state).first.map { if case .repaint = $0 { true } else { false } } == true)
        _ = press(.char("m"), .char(" "), .char(" "), Key(.escape), in: &state)
        #expect(state.maskEdit == nil && state.mode == .viewer)
    }

    @Test("extend mode: x reads the image's size, arrows grow a side 32 px (Shift: a quarter), u undoes, the limits are refused; Enter asks the prompt, then Fill is sent with the sides")
    func extendMode() throws {
        var state = AppState()
        _ = reduce(&state, .resize(width: 120, height: 40))
        _ = reduce(&state, .jobsLoaded([job("a", .done, prompt: "a quiet harbour", output: "/out/a.png")]))
        state.focus = .outputs
        _ = press(.char("v"), in: &state)
        _ = reduce(&state, .previewLoaded(path: "/out/a.png", Picture(width: 160, height: 120, pixels: [UInt8](repeating: 90, count: 160 * 120 * 3)), large: true))
        #expect(press(.char("x"), in: &state) == [.readImageSize(path: "/out/a.png")])
        #expect(state.mode == .extend && state.message?.text.hasPrefix("extend: arrows grow a side") == true)
        // Before the size is known, nothing grows.
        _ = press(Key(.right), in: &state)
        #expect(state.extendEdit?.sides.isEmpty == true && state.message?.text == "still reading the image's size")
        _ = reduce(&state, .imageSizeRead(path: "/out/a.png", size: PixelSize(width: 1024, height: 768), problem: nil))
        _ = press(Key(.right), Key(.right, .shift), Key(.up), Key(.down, .shift), in: &state)
        #expect(state.extendEdit?.sides == CanvasExtension(right: 288, top: 32, bottom: 192))
        _ = press(.char("u"), in: &state)
        #expect(state.extendEdit?.sides == CanvasExtension(right: 288, top: 32))
        #expect(state.extendEdit?.grown == PixelSize(width: 1312, height: 800))
        func screen() -> String { render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines.joined(separator: "\n") }
        #expect(screen().contains("EXTEND · Fill paints the tinted border") && screen().contains("size     1024×768 → 1312×800"), "\(screen())")
        #expect(screen().contains("grows    right=288 top=32"))
        // A side grows by at most 2048 px: the step past it is refused, the sides kept.
        for _ in 0..<7 { _ = press(Key(.right, .shift), in: &state) }
        #expect(state.extendEdit?.sides.right == 1824)
        #expect(state.message?.isError == true && state.message?.text == "a side grows by at most 2048 px at a time (right would be 2080)")
        // Enter asks what goes there; the prompt and Enter send Fill with the sides.
        _ = press(Key(.enter), in: &state)
        #expect(state.fieldEdit?.target == .fillPrompt && state.mode == .field)
        #expect(screen().contains("paint    ▏"))
        typed("more harbour", into: &state)
        let sent = press(Key(.enter), in: &state)
        #expect(sent == [.extend(path: "/out/a.png", sides: CanvasExtension(right: 1824, top: 32), prompt: "more harbour", region: state.region)])
        #expect(state.extendEdit == nil && state.mode == .viewer)
        #expect(state.message?.text.hasPrefix("extending: FLUX.1 Fill [pro] extending a.png to 2848×800 (right=1824,top=32), ~5 credits") == true, "\(String(describing: state.message))")
        // Enter with nothing grown says so; an image whose size cannot be read ends the mode.
        _ = press(.char("x"), in: &state)
        _ = reduce(&state, .imageSizeRead(path: "/out/a.png", size: PixelSize(width: 1024, height: 768), problem: nil))
        _ = press(Key(.enter), in: &state)
        #expect(state.fieldEdit == nil && state.message?.text.hasPrefix("no side has grown yet") == true)
        _ = press(Key(.escape), in: &state)
        #expect(state.extendEdit == nil && state.mode == .viewer)
        _ = press(.char("x"), in: &state)
        _ = reduce(&state, .imageSizeRead(path: "/out/a.png", size: nil, problem: "cannot read the image /out/a.png: no such file"))
        #expect(state.extendEdit == nil && state.message?.text == "cannot extend it: cannot read the image /out/a.png: no such file")
    }

    @Test("extend mode's preview: the grown canvas at most the picture's longest side, the old picture in place, the new area from the nearest edge, tinted")
    func extendPreview() {
        // 16×8, each column its own red; the image is 32×16 (the picture is half its size).
        var pixels: [UInt8] = []
        for _ in 0..<8 { for x in 0..<16 { pixels += [UInt8(x * 10), 100, 50] } }
        let picture = Picture(width: 16, height: 8, pixels: pixels)
        var edit = ExtendEdit(jobID: "a")
        #expect(extendedPreview(picture, edit) == picture, "without a size, the picture as it is")
        edit.size = PixelSize(width: 32, height: 16)
        edit.sides = CanvasExtension(left: 32)
        // Grown to 64×16: at half scale 32×8, within 16 across: 16×4.
        let preview = extendedPreview(picture, edit)
        #expect(preview.width == 16 && preview.height == 4)
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(preview.pixels[((y * 16 + x) * 3)..<((y * 16 + x) * 3 + 3)]) }
        // The left half is new: the first column's colour, tinted; the right half the picture.
        #expect(pixel(0, 0) == [UInt8((0 + 255) / 2), 50, UInt8((50 + 255) / 2)])
        #expect(pixel(7, 3) == pixel(0, 0))
        #expect(pixel(8, 0) == [0, 100, 50] && pixel(15, 2) == [140, 100, 50])
        // However far the sides grow, the preview stays small.
        edit.sides = CanvasExtension(left: 2048, right: 2048, top: 2048, bottom: 2048)
        let far = extendedPreview(picture, edit)
        #expect(far.width <= 16 && far.height <= 16 && far.pixels.count == far.width * far.height * 3)
    }

    @Test("an output is used as a reference in the first free slot; models without slots say so")
    func useAsReference() {
        var state = AppState(modelID: "flux-kontext-pro")
        _ = reduce(&state, .jobUpdated(job("a", .done, output: "/out/a.jpg")))
        state.focus = .outputs
        // The output's preview (not loaded here) is the thumbnail its slot shows too.
        #expect(press(.char("u"), in: &state) == [.inspectReference(slot: 0, path: "/out/a.jpg"), .loadPreview(path: "/out/a.jpg")])
        #expect(press(.char("u"), in: &state) == [.inspectReference(slot: 1, path: "/out/a.jpg"), .loadPreview(path: "/out/a.jpg")])
        var fill = AppState(modelID: "flux-pro-1.0-fill")
        #expect(fill.referenceSlots == 2)
        fill.modelIndex = Catalog.all.firstIndex { $0.id == "flux-pro-1.1" } ?? 0
        _ = reduce(&fill, .jobUpdated(job("a", .done, output: "/out/a.jpg")))
        fill.focus = .outputs
        _ = press(.char("u"), .char("u"), in: &fill)
        #expect(fill.message?.text == "all 1 reference slots of FLUX1.1 [pro] are full; clear one in the model pane (Del)")
    }

    @Test("a budget from the config blocks a submission that would pass it")
    func budget() {
        var state = AppState(now: Date(timeIntervalSince1970: 1000))
        state.budget = Budget(daily: 10)
        _ = reduce(&state, .chargedTodayLoaded(5))
        _ = reduce(&state, .jobUpdated(job("a", .done, cost: "3")))
        #expect(state.todayCharged == 8)
        typed("x", into: &state)
        #expect(press(Key(.enter), in: &state).isEmpty)
        #expect(state.message?.text == "over the daily budget: 8 charged today + 3 asked > 10 (budget.daily in config.toml)")
        state.budget = Budget(daily: 11)
        #expect(press(Key(.enter), in: &state).count == 1)
    }

    @Test("focus cycles both ways; help opens outside the prompt and closes on any key")
    func focusAndHelp() {
        var state = AppState()
        _ = press(Key(.backTab), in: &state)
        #expect(state.focus == .outputs)
        _ = press(.char("?"), in: &state)
        #expect(state.showHelp)
        _ = press(Key(.down), Key(.down), Key(.up), in: &state)
        #expect(state.showHelp)
        #expect(state.helpScroll == 1)
        _ = press(.char("x"), in: &state)
        #expect(!state.showHelp)
        #expect(state.helpScroll == 0)
        _ = press(Key(.tab), in: &state)
        #expect(state.focus == .prompt)
        _ = press(Key(.function(1)), in: &state)
        #expect(state.showHelp)
    }

    @Test("a click focuses the pane under it and selects the row")
    func mouse() {
        var state = AppState()
        _ = reduce(&state, .resize(width: 120, height: 40))
        for id in ["a", "b", "c"] { _ = reduce(&state, .jobUpdated(job(id, .done, output: "/out/\(id).jpg"))) }
        let layout = StudioLayout(width: 120, height: 40)
        _ = reduce(&state, .mouse(MouseEvent(kind: .press, x: layout.jobs.x + 5, y: layout.jobs.y + 2)))
        #expect(state.focus == .jobs)
        #expect(state.jobsList.selected == 1)
        _ = reduce(&state, .mouse(MouseEvent(kind: .press, x: layout.outputs.x + 3, y: layout.outputs.y + 3)))
        #expect(state.focus == .outputs)
        #expect(state.selectedOutput?.id == "a")
        _ = reduce(&state, .mouse(MouseEvent(kind: .press, x: layout.model.x + 3, y: layout.model.y + 3)))
        #expect(state.focus == .model)
        #expect(state.formRow == .size)
        // At 80×24 the form of FLUX.2 [pro] scrolls; a click maps to the row drawn there.
        var small = AppState()
        _ = reduce(&small, .resize(width: 80, height: 24))
        small.focus = .model
        small.formIndex = small.formRows.count - 1
        let smallLayout = StudioLayout(width: 80, height: 24)
        let visible = smallLayout.model.height - 2
        _ = reduce(&small, .mouse(MouseEvent(kind: .press, x: smallLayout.model.x + 3, y: smallLayout.model.y + 1)))
        #expect(small.formIndex == small.formRows.count - visible)
    }

    @Test("quit asks first while jobs run; the answer decides")
    func quit() {
        var idle = AppState()
        #expect(press(.ctrl("q"), in: &idle) == [.quit])
        var busy = AppState()
        _ = reduce(&busy, .jobUpdated(job("j1", .running)))
        #expect(press(.ctrl("c"), in: &busy).isEmpty)
        #expect(busy.confirming == .quit)
        #expect(press(.char("n"), in: &busy).isEmpty)
        #expect(busy.confirming == nil)
        _ = press(.ctrl("c"), in: &busy)
        #expect(busy.message?.text == "1 job(s) still running; they continue next time. Quit? (y/n)")
        #expect(press(.char("y"), in: &busy) == [.quit])
        busy.jobsOutliveSession = false
        _ = press(.ctrl("c"), in: &busy)
        #expect(busy.message?.text == "1 job(s) still running; the built-in simulator stops with the studio, so they will not finish. Quit? (y/n)")
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
        #expect(reduce(&state, .jobUpdated(job("b", .done, output: "/tmp/b.jpg"))) == [.refreshCredits, .loadPreview(path: "/tmp/b.jpg")])
        #expect(state.jobs.map(\.id) == ["b", "a"])
        #expect(state.outputs.map(\.id) == ["b"])
        _ = press(Key(.backTab), .char("i"), in: &state)
        #expect(state.details == "b")
        _ = press(.char("x"), in: &state)
        #expect(state.details == nil)
    }

    @Test("unfinished jobs of another endpoint are listed but not counted as running")
    func detached() {
        var state = AppState()
        _ = reduce(&state, .jobsLoaded([job("x", .pending), job("y", .running)], detached: ["x"]))
        #expect(state.runningCount == 1)
        #expect(state.activeSlots.total == 1)
        #expect(press(.ctrl("q"), in: &state).isEmpty)
        _ = press(.char("n"), in: &state)
        _ = reduce(&state, .jobUpdated(job("y", .done)))
        #expect(press(.ctrl("q"), in: &state) == [.quit])
    }

    @Test("jobs pane: cancel a queued job, abandon a sent one after a yes, retry and re-run")
    func jobActions() {
        var state = AppState()
        _ = reduce(&state, .jobUpdated(job("q1", .queued)))
        state.focus = .jobs
        #expect(press(.char("c"), in: &state) == [.cancel(jobID: "q1")])
        _ = reduce(&state, .jobUpdated(job("q1", .running)))
        #expect(press(.char("c"), in: &state).isEmpty)
        #expect(press(.char("a"), in: &state).isEmpty)
        #expect(state.confirming == .abandon(jobID: "q1"))
        #expect(state.message?.text.contains("BFL may still charge") == true)
        #expect(press(.char("y"), in: &state) == [.abandon(jobID: "q1")])
        _ = reduce(&state, .jobUpdated(job("q1", .failed, error: "boom", seed: 5)))
        #expect(press(.char("r"), in: &state) == [.rerun(jobID: "q1", newSeed: false)])
        #expect(press(.char("n"), in: &state) == [.rerun(jobID: "q1", newSeed: true)])
    }

    @Test("a selection at the top follows the newest row; one further down stays on its row")
    func selectionFollows() {
        var state = AppState()
        _ = reduce(&state, .jobUpdated(job("a", .done, output: "/o/a.jpg")))
        _ = reduce(&state, .jobUpdated(job("b", .done, output: "/o/b.jpg")))
        #expect(state.selectedOutput?.id == "b")
        #expect(state.selectedJob?.id == "b")
        state.focus = .outputs
        _ = press(Key(.down), in: &state)
        state.focus = .jobs
        _ = press(Key(.down), in: &state)
        _ = reduce(&state, .jobUpdated(job("c", .done, output: "/o/c.jpg")))
        #expect(state.selectedOutput?.id == "a")
        #expect(state.selectedJob?.id == "a")
        _ = press(Key(.home), in: &state)
        _ = reduce(&state, .jobUpdated(job("d", .done, output: "/o/d.jpg")))
        #expect(state.selectedJob?.id == "d")
    }

    @Test("outputs: the filter takes words, model: and status:; Esc clears it")
    func filter() {
        var state = AppState()
        _ = reduce(&state, .jobUpdated(job("a", .done, model: "flux-2-pro", prompt: "a red fox", output: "/o/a.jpg")))
        _ = reduce(&state, .jobUpdated(job("b", .done, model: "flux-kontext-max", prompt: "a blue fox", output: "/o/b.jpg")))
        _ = reduce(&state, .jobUpdated(job("c", .expired, model: "flux-2-pro", prompt: "a red hen", output: "/o/c.jpg")))
        state.focus = .outputs
        _ = press(.char("/"), in: &state)
        typed("fox model:pro", into: &state)
        #expect(state.filteredOutputs.map(\.id) == ["a"])
        _ = press(Key(.enter), in: &state)
        #expect(state.outputsFilter == "fox model:pro")
        _ = press(.char("/"), in: &state)
        for _ in 0..<13 { _ = press(Key(.backspace), in: &state) }
        typed("status:exp", into: &state)
        #expect(state.filteredOutputs.map(\.id) == ["c"])
        _ = press(Key(.escape), in: &state)
        #expect(state.outputsFilter.isEmpty)
        #expect(state.filteredOutputs.count == 3)
    }

    @Test("a filter it cannot read matches nothing and says why: an unknown key, a bad date")
    func filterProblems() throws {
        var state = AppState()
        _ = reduce(&state, .resize(width: 120, height: 40))
        _ = reduce(&state, .jobUpdated(job("a", .done, prompt: "a red fox", output: "/o/a.jpg")))
        state.focus = .outputs
        for (text, said) in [("colour:red", "The filter: unknown filter colour: (? help lists the forms)"),
                             ("fox after:2026-13-45", "The filter: after: needs a date as YYYY-MM-DD (got 2026-13-45)")] {
            _ = press(.char("/"), in: &state)
            typed(text, into: &state)
            _ = press(Key(.enter), in: &state)
            #expect(state.filteredOutputs.isEmpty)
            let screen = render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines.joined(separator: "\n")
            #expect(screen.contains(said), "\(screen.split(separator: "\n").filter { $0.contains("Outputs") || $0.contains("filter") || $0.contains("Nothing") }.joined(separator: "\n"))")
            _ = press(.char("/"), in: &state)
            _ = press(Key(.escape), in: &state)
        }
        #expect(state.filteredOutputs.count == 1)
    }

    @Test("older images are read a page at a time near the end of the list, and the filter searches the ledger")
    func paging() {
        var state = AppState()
        let recent = (0..<8).map { job("j\($0)", .done, prompt: "fox \($0)", output: "/o/\($0).jpg", created: Date(timeIntervalSince1970: Double(1000 + $0))) }
        _ = reduce(&state, .jobsLoaded(recent))
        _ = reduce(&state, .outputsLoaded([], filter: "", exhausted: false))
        state.focus = .outputs
        #expect(press(Key(.down), in: &state) == [.loadPreview(path: "/o/6.jpg")])
        let effects = press(Key(.down), Key(.down), in: &state)
        #expect(effects.contains(.loadOutputs(before: Date(timeIntervalSince1970: 1000), filter: "", generation: 1)))
        // One read at a time.
        #expect(!press(Key(.down), in: &state).contains { if case .loadOutputs = $0 { true } else { false } })
        let older = (0..<3).map { job("o\($0)", .done, prompt: "old \($0)", output: "/o/old\($0).jpg", created: Date(timeIntervalSince1970: Double(10 + $0))) }
        _ = reduce(&state, .outputsLoaded(older, filter: "", exhausted: true, generation: 1))
        #expect(state.outputs.count == 11)
        #expect(state.outputs.last?.id == "o0")
        #expect(!state.olderOutputsMayExist)
        _ = press(Key(.end), in: &state)
        #expect(state.selectedOutput?.id == "o0")
        // Committing a filter asks the ledger too.
        _ = press(.char("/"), in: &state)
        for character in "old" { _ = press(.char(character), in: &state) }
        #expect(press(Key(.enter), in: &state).contains(.loadOutputs(before: nil, filter: "old", generation: 2)))
        #expect(state.filteredOutputs.count == 3)
    }

    @Test("outputs: delete asks first; open and copy are effects; a deleted image leaves the list")
    func outputActions() {
        var state = AppState()
        _ = reduce(&state, .jobUpdated(job("a", .done, output: "/o/a.jpg", seed: 3)))
        state.focus = .outputs
        #expect(press(.char("o"), in: &state) == [.open(path: "/o/a.jpg")])
        #expect(press(.char("y"), in: &state) == [.copy(text: "/o/a.jpg")])
        #expect(press(.char("d"), in: &state).isEmpty)
        #expect(state.message?.text == "Move a.jpg and its sidecar to the Trash? (y/n)")
        #expect(press(.char("n"), in: &state).isEmpty)
        #expect(state.message?.text == "not deleted")
        _ = press(.char("d"), in: &state)
        #expect(press(.char("y"), in: &state) == [.deleteOutput(jobID: "a")])
        _ = reduce(&state, .outputDeleted(jobID: "a", problem: nil))
        #expect(state.outputs.isEmpty)
        #expect(state.outputsList.selected == nil)
    }
}
