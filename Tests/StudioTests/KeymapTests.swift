@testable import Studio
import StudioViews
import BFL
import Foundation
import Imaging
import Jobs
import TerminalCore
import Testing
import Theme

@Suite("Keymap: the one place keys are bound")
struct KeymapTests {
    let keymap = Keymap.standard

    /// Thirty jobs, newest first: index 3 is queued, 4 running, the others saved images.
    func richState() -> AppState {
        var state = AppState(region: .eu, now: Date(timeIntervalSince1970: 10_000))
        _ = reduce(&state, .resize(width: 120, height: 40))
        let records = (0..<30).map { n -> JobRecord in
            let phase: JobPhase = n == 3 ? .queued : n == 4 ? .running : .done
            return job("job-\(n)", phase, prompt: "prompt \(n)", output: phase == .done ? "/tmp/fluxdeck-keys/\(n).jpg" : nil,
                       seed: n, created: Date(timeIntervalSince1970: Double(5_000 - n)))
        }
        _ = reduce(&state, .jobsLoaded(records))
        state.jobsList.selected = 10
        state.outputsList.selected = 10
        state.editor = TextEditor(text: "one two\nthree four")
        state.editor.seedHistory(["an earlier prompt"])
        // The cursor inside the first line: every motion and deletion has something to do.
        state.editor.apply(.up)
        state.editor.apply(.lineStart)
        for _ in 0..<3 { state.editor.apply(.right) }
        state.message = .init(text: "a message", isError: false)
        state.count = 3
        state.settings.seed = 5
        return state
    }

    /// What a key press may change, as text.
    func fingerprint(_ state: AppState) -> String {
        "\(state.focus) \(state.editor) \(state.formIndex) \(state.settings) \(state.count) \(state.modelIndex) \(state.region as Any) "
            + "\(state.fieldEdit as Any) \(state.picker as Any) \(state.showHelp) \(state.helpScroll) \(state.confirming as Any) "
            + "\(state.details as Any) \(state.jobsList) \(state.outputsList) \(state.message as Any) \(state.outputsFilter) \(state.viewer as Any) \(state.gallery) \(state.marked) \(state.comparing) \(state.spendOpen) \(state.textOverlay as Any) \(state.comparedModels) \(state.expandedGroups) \(state.maskEdit as Any) \(state.extendEdit as Any)"
    }

    /// `state` put where `binding` works, on a row or job where its command has something to do.
    func prepared(for binding: Binding) -> AppState {
        var state = richState()
        let rows = state.formRows
        switch binding.context {
        case .global: state.focus = .jobs
        case .prompt: state.focus = .prompt
        case .model:
            state.focus = .model
            let row: FormRow = [.reset, .edit, .sweep].contains(binding.command) ? .seed : .count
            state.formIndex = rows.firstIndex(of: row) ?? 0
            if binding.command == .sweep { state.settings.seed = 42 }
        case .jobs:
            state.focus = .jobs
            switch binding.command {
            case .right, .left:
                // A group of two jobs; → opens it on its row, ← closes it from a job under it.
                state.jobs[10].groupID = "g1"
                state.jobs[11].groupID = "g1"
                if binding.command == .left { state.expandedGroups.insert("g1") }
                state.refreshDerived()
                state.jobsList.selected = binding.command == .left ? 11 : 10
            case .cancel: state.jobsList.selected = 3
            case .abandon: state.jobsList.selected = 4
            default: break
            }
        case .outputs: state.focus = .outputs
        case .field:
            state.focus = .model
            var editor = TextEditor(text: "12345")
            editor.apply(.lineStart)
            editor.apply(.right)
            editor.apply(.right)
            // Completion works in a reference field; the other field keys in the seed's.
            state.fieldEdit = binding.command == .complete ? FieldEdit(target: .row(.reference(0)), editor: TextEditor(text: "/tm"))
                : FieldEdit(target: .row(.seed), editor: editor)
        case .help:
            state.showHelp = true
            state.helpScroll = 20
        case .picker: state.picker = 3
        case .confirm: state.confirming = .delete(jobID: "job-10")
        case .viewer:
            state.focus = .outputs
            state.viewer = state.selectedOutput?.id
        case .gallery:
            state.focus = .outputs
            state.gallery = true
        case .compare:
            state.focus = .outputs
            state.marked = Array(state.filteredOutputs.prefix(2).map(\.id))
            state.comparing = true
        case .spend:
            state.focus = .jobs
            state.spendOpen = true
        case .text:
            state.focus = .model
            state.textOverlay = TextOverlay(title: "t", lines: ["a"])
        case .details:
            state.focus = .jobs
            state.details = "job-10"
        case .mask:
            // The viewer with its picture, mask mode on, the cursor mid-picture, one rectangle drawn.
            state.focus = .outputs
            state.viewer = state.selectedOutput?.id
            if let path = state.selectedOutput?.outputPath {
                state.viewerPictures[path] = Picture(width: 64, height: 48, pixels: [UInt8](repeating: 80, count: 64 * 48 * 3))
            }
            var mask = MaskEdit(jobID: state.viewer ?? "")
            mask.cursorX = 10
            mask.cursorY = 5
            mask.rects = [GridRect(x: 1, y: 1, width: 2, height: 2, columns: 20, rows: 10)]
            state.maskEdit = mask
        case .extend:
            // The viewer with its picture, extend mode on, the image's size read, a side grown.
            state.focus = .outputs
            state.viewer = state.selectedOutput?.id
            var edit = ExtendEdit(jobID: state.viewer ?? "")
            edit.size = PixelSize(width: 1024, height: 768)
            edit.earlier = [CanvasExtension()]
            edit.sides = CanvasExtension(right: 32)
            state.extendEdit = edit
        }
        if binding.command == .yank {
            // Something to yank: cut first (the yank is compared with the state after the cut).
            if binding.context == .field {
                state.fieldEdit?.editor.apply(.killToLineStart)
            } else {
                state.editor.apply(.killToLineStart)
            }
        }
        return state
    }

    @Test("every key of every binding reaches its command, in its place and in the panes that fall back to it")
    func matching() {
        var checked = 0
        for binding in keymap.bindings {
            for key in keymap.usableKeys(binding, in: binding.context) {
                checked += 1
                #expect(keymap.command(for: key, in: binding.context) == binding.command, "\(key) in \(binding.context)")
            }
            guard binding.context == .global else { continue }
            for pane in [KeyContext.prompt, .model, .jobs, .outputs] {
                for key in keymap.usableKeys(binding, in: pane) {
                    let own = keymap.bindings(in: pane).first { $0.keys.contains(key) }
                    #expect(keymap.command(for: key, in: pane) == (own?.command ?? binding.command), "\(key) in \(pane)")
                }
            }
        }
        #expect(checked >= keymap.bindings.count, "only \(checked) keys were checked")
        // Where text is typed, printable keys type: q and ? are text in the prompt and fields.
        #expect(keymap.command(for: .char("q"), in: .prompt) == nil)
        #expect(keymap.command(for: .char("?"), in: .field) == nil)
        #expect(keymap.command(for: .ctrl("q"), in: .prompt) == .quit)
        #expect(keymap.command(for: .char("q"), in: .jobs) == .quit)
    }

    @Test("pressing every bound key does what its binding says: the state changes or an effect is asked for")
    func everyKeyDoesSomething() {
        for binding in keymap.bindings {
            for key in keymap.usableKeys(binding, in: binding.context) {
                var state = prepared(for: binding)
                let before = fingerprint(state)
                let effects = reduce(&state, .key(key))
                #expect(!effects.isEmpty || fingerprint(state) != before, "\(key) (\(binding.command.rawValue)) in \(binding.context) did nothing")
            }
        }
    }

    @Test("the status bar is made from the keymap: per pane and per mode, with keys that work there")
    func hints() throws {
        func bar(_ state: AppState) -> String {
            let buffer = render(state, theme: .builtIn, area: Rect(width: 160, height: 40)).buffer
            return buffer.lines.last?.trimmingCharacters(in: .whitespaces) ?? ""
        }
        var state = richState()
        state.focus = .prompt
        #expect(bar(state) == "Enter submit  Alt-Enter new line  ↑↓ history  Tab pane  F1 help  Ctrl-Q quit")
        state.focus = .jobs
        #expect(bar(state) == "i details  c cancel  a abandon  r again  n new seed  Tab pane  ? help  q quit")
        state.showHelp = true
        #expect(bar(state) == "↑↓ scroll  Esc close")
        state.showHelp = false
        _ = reduce(&state, .key(.char("a")))
        state.jobsList.selected = 4
        _ = reduce(&state, .key(.char("a")))
        #expect(state.confirming != nil)
        #expect(bar(state) == "y yes  n no")
        state.confirming = nil
        state.fieldEdit = FieldEdit(target: .filter, editor: TextEditor())
        #expect(bar(state) == "Enter done  Esc cancel")
        state.fieldEdit = nil
        state.picker = 0
        #expect(bar(state) == "↑↓ choose  Enter use this model  Esc close")
    }

    @Test("hints under each modal come from its own context; on the form, from the row under the cursor")
    func modalHints() {
        func bar(_ state: AppState) -> String {
            render(state, theme: .builtIn, area: Rect(width: 160, height: 40)).buffer.lines.last?.trimmingCharacters(in: .whitespaces) ?? ""
        }
        var state = richState()
        state.focus = .jobs
        state.details = "job-10"
        #expect(state.mode == .details && bar(state) == "Esc close")
        state.details = nil
        state.focus = .model
        state.textOverlay = TextOverlay(title: "t", lines: ["a"])
        #expect(state.mode == .text && bar(state) == "Esc close")
        state.textOverlay = nil
        state.formIndex = state.formRows.firstIndex(of: .model) ?? 0
        #expect(bar(state) == "↑↓ setting  ←→ change  Enter models  Tab pane  ? help  q quit", "\(bar(state))")
        state.formIndex = state.formRows.firstIndex(of: .seed) ?? 0
        #expect(bar(state) == "↑↓ setting  Del default  Enter edit  w sweep  Tab pane  ? help  q quit", "\(bar(state))")
        state.formIndex = state.formRows.firstIndex(of: .count) ?? 0
        #expect(bar(state) == "↑↓ setting  ←→ change  Enter submit  Tab pane  ? help  q quit", "\(bar(state))")
        state.focus = .outputs
        state.viewer = state.selectedOutput?.id
        state.details = state.viewer
        #expect(state.modes == [.pane(.outputs), .viewer, .details] && bar(state) == "Esc close")
    }

    @Test("a click on a full-screen view, an overlay or a question changes nothing beneath it")
    func clicksStayOnTop() {
        let opened: [(String, (inout AppState) -> Void)] = [
            ("viewer", { $0.focus = .outputs; $0.viewer = $0.selectedOutput?.id }),
            ("spend", { $0.spendOpen = true }),
            ("compare", { $0.focus = .outputs; $0.marked = Array($0.filteredOutputs.prefix(2).map(\.id)); $0.comparing = true }),
            ("text", { $0.textOverlay = TextOverlay(title: "t", lines: ["a"]) }),
            ("details", { $0.details = "job-10" }),
            ("help", { $0.showHelp = true }),
            ("picker", { $0.picker = 2 }),
            ("question", { $0.confirming = .quit }),
        ]
        let layout = StudioLayout(width: 120, height: 40)
        for (name, open) in opened {
            for focus in Focus.allCases {
                var state = richState()
                state.focus = .model
                open(&state)
                let before = fingerprint(state)
                // A click in the middle of every pane's list body, and the wheel there.
                let body = layout.listBody(focus, filterShown: false)
                for kind in [MouseEvent.Kind.press, .release, .scrollDown, .scrollUp] {
                    _ = reduce(&state, .mouse(MouseEvent(kind: kind, x: body.x + 1, y: body.y + 1)))
                }
                #expect(fingerprint(state) == before, "a click on the \(focus) pane moved something beneath the \(name)")
            }
        }
    }

    @Test("texts that name a key use the keymap: a remapped key shows in questions and the form")
    func namedKeys() throws {
        var state = AppState(keymap: try Keymap.standard.remapped([("yes", ["j"]), ("edit", ["E"]), ("expand", ["X"])]))
        _ = reduce(&state, .resize(width: 120, height: 40))
        _ = reduce(&state, .jobsLoaded([job("running", .running, prompt: "a kite")]))
        _ = reduce(&state, .key(.ctrl("q")))
        #expect(state.message?.text.hasSuffix("Quit? (j/n)") == true, "\(state.message?.text ?? "")")
        state.confirming = nil
        state.focus = .model
        state.formIndex = state.formRows.firstIndex(of: .size) ?? 0
        state.editor = TextEditor(text: "{a|b}")
        let screen = render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines.joined(separator: "\n")
        #expect(screen.contains("E: type one") && screen.contains("(X: list)"), "\(screen)")
    }

    @Test("a job that ended badly says what to do in this studio's keys; the engine's message names no key")
    func advice() throws {
        var state = AppState(keymap: try Keymap.standard.remapped([("jobs.again", ["R"])]))
        var failed = job("saved-not", .saveFailed, prompt: "a kite")
        failed.errorKind = .local
        failed.errorMessage = "paid for, but not saved in /x: read-only. Fix the folder, then run the job again or `fluxdeck jobs resume`"
        _ = reduce(&state, .jobsLoaded([job("saved-not", .downloading, prompt: "a kite")]))
        _ = reduce(&state, .jobUpdated(failed))
        #expect(state.message?.text.contains("R on the job downloads it again") == true, "\(state.message?.text ?? "")")
        #expect(state.advice(for: failed)?.hasPrefix("R ") == true)
        var done = failed
        done.phase = .done
        #expect(state.advice(for: done) == nil)
        // A region that did not answer: the others the endpoint has, on the region row.
        var regional = AppState(region: .eu)
        var lost = job("lost", .failed, prompt: "a kite")
        lost.region = "eu"
        lost.errorKind = .network
        #expect(regional.advice(for: lost) == "the eu region may be down: try global or us on the region row, then r")
        regional.regions = [.eu]
        #expect(regional.advice(for: lost) == "r sends it again")
    }

    @Test("? help lists every binding with all its keys")
    func help() {
        var state = richState()
        state.showHelp = true
        var shown = ""
        // The help scrolls: read it page by page.
        for scroll in stride(from: 0, through: 200, by: 20) {
            state.helpScroll = scroll
            shown += render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines.joined(separator: "\n")
        }
        for binding in keymap.bindings {
            #expect(shown.contains(binding.help), "\(binding.help)")
            #expect(shown.contains(binding.keys.map(\.description).joined(separator: " ")), "\(binding.keys)")
        }
        for context in KeyContext.allCases { #expect(shown.contains(context.title)) }
        // Every form of the outputs filter is listed.
        #expect(shown.contains(OutputQuery.forms))
    }

    @Test("[keys] remaps a command everywhere or in one place; hints and matching follow; bad entries say what is wrong")
    func remapping() throws {
        let remapped = try keymap.remapped([("quit", ["ctrl-x"]), ("jobs.abandon", ["A"]), ("help", ["f2"])])
        #expect(remapped.command(for: .ctrl("x"), in: .prompt) == .quit)
        #expect(remapped.command(for: .char("q"), in: .jobs) == nil)
        #expect(remapped.command(for: .char("A"), in: .jobs) == .abandon)
        #expect(remapped.command(for: .char("a"), in: .jobs) == nil)
        #expect(remapped.command(for: Key(.function(2)), in: .outputs) == .help)
        #expect(remapped.hints(for: .prompt).map { "\($0.key) \($0.label)" }.suffix(2) == ["F2 help", "Ctrl-X quit"])

        let problems: [([(String, [String])], String)] = [
            ([("quitt", ["q"])], "unknown command \"quitt\""),
            ([("pane.quit", ["q"])], "unknown place \"pane\""),
            ([("jobs.filter", ["f"])], "\"filter\" is not a command of jobs"),
            ([("quit", ["hyper-q"])], "unknown key \"hyper-q\""),
            ([("quit", [])], "quit needs at least one key"),
            ([("jobs.cancel", ["a"])], "a would do both"),
        ]
        for (entries, message) in problems {
            let error = try #require(throws: KeymapError.self) { try keymap.remapped(entries.map { (name: $0.0, keys: $0.1) }) }
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test("key names as a configuration writes them", arguments: [
        ("q", Key.char("q")), ("Q", Key.char("Q")), ("?", Key.char("?")), ("-", Key.char("-")), ("ctrl-q", Key.ctrl("q")),
        ("Ctrl-Q", Key.ctrl("q")), ("alt-enter", Key(.enter, .alt)), ("shift-tab", Key(.backTab)), ("f12", Key(.function(12))),
        ("pgdn", Key(.pageDown)), ("space", Key.char(" ")), ("ctrl--", Key(.char("-"), .ctrl)), ("esc", Key(.escape)),
    ])
    func keyNames(_ name: String, _ key: Key) {
        #expect(Key(name: name) == key)
    }

    @Test("names that are not keys", arguments: ["", "ctrl-", "hyper-q", "f99", "enterr", "ctrl-alt"])
    func badKeyNames(_ name: String) {
        #expect(Key(name: name) == nil)
    }
}

@Suite("The cost pane's slots")
struct SlotLimitTests {
    @Test("the slot gauges show the engine's limits (--max-active), not fixed numbers")
    func limits() {
        var state = AppState(slotLimits: (8, 6))
        _ = reduce(&state, .resize(width: 100, height: 30))
        let narrow = render(state, theme: .builtIn, area: Rect(width: 100, height: 30)).buffer.lines.joined(separator: "\n")
        #expect(narrow.contains("kontext-max 0/6"))
        #expect(narrow.contains("slots □□□□□□□□ 0/8"), "\(narrow)")
        #expect(!narrow.contains("/24"), "\(narrow)")
    }
}
