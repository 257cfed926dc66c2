@testable import Studio
import StudioViews
import BFL
import Foundation
import Jobs
import TerminalCore
import Testing
import TestSupport
import Theme

@Suite("Exploring: prompt matrices, seed sweeps, previews")
struct ExploreTests {
    func prompts(_ effects: [Effect]) -> [String?] {
        effects.compactMap { if case .submit(_, let parameters, _, _, _) = $0 { parameters.prompt } else { nil } }
    }

    @Test("a matrix in the prompt: the estimate counts every request, the cost pane says how many, Enter sends each prompt")
    func matrix() {
        var state = AppState(budget: Budget(confirmAbove: nil))
        typed("a {red|blue} {fox|owl}", into: &state)
        #expect(state.promptCount == 4)
        var single = AppState()
        typed("a red fox", into: &single)
        #expect(state.estimate.credits == single.estimate.credits * 4)
        let screen = render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines.joined(separator: "\n")
        #expect(screen.contains("requests  4 prompts × 1 = 4 requests (x: list)"))
        let effects = reduce(&state, .key(Key(.enter)))
        #expect(prompts(effects) == ["a red fox", "a red owl", "a blue fox", "a blue owl"])
        #expect(state.message?.text.hasPrefix("submitting 4 requests (4 prompts × 1)") == true, "\(state.message?.text ?? "")")
    }

    @Test("nested groups and escapes; an empty choice is refused with where it is, and nothing is sent")
    func nestingAndProblems() {
        var state = AppState(budget: Budget(confirmAbove: nil))
        typed(#"{a {small|big} fox|an owl} at \{dusk\}"#, into: &state)
        #expect(prompts(reduce(&state, .key(Key(.enter)))) == ["a small fox at {dusk}", "a big fox at {dusk}", "an owl at {dusk}"])
        var bad = AppState(budget: Budget(confirmAbove: nil))
        typed("a {red||blue} fox", into: &bad)
        #expect(reduce(&bad, .key(Key(.enter))).isEmpty)
        #expect(bad.message?.text == "the prompt: choice 2 of the { at character 3 is empty")
        #expect(bad.message?.isError == true)
        let screen = render(bad, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines.joined(separator: "\n")
        #expect(screen.contains("matrix    choice 2 of the { at character 3 is empty"))
    }

    @Test("seed sweep: w on the seed row needs a locked seed; then each image its own seed, counting up")
    func sweep() {
        var state = AppState(budget: Budget(confirmAbove: nil))
        typed("a {red|blue} kite", into: &state)
        state.focus = .model
        state.formIndex = state.formRows.firstIndex(of: .seed) ?? 0
        _ = reduce(&state, .key(.char("w")))
        #expect(!state.settings.seedSweep && state.message?.isError == true)
        state.settings.seed = 10
        state.count = 3
        _ = reduce(&state, .key(.char("w")))
        #expect(state.settings.seedSweep)
        let row = render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines.first { $0.contains("seed     ") } ?? ""
        #expect(row.contains("10…12") && row.contains("sweep"), "\(row)")
        #expect(render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines.contains { $0.contains("Model · seed sweep") })
        state.focus = .prompt
        let effects = reduce(&state, .key(Key(.enter)))
        let sent = effects.compactMap { effect -> String? in
            guard case .submit(_, let parameters, let count, _, _) = effect else { return nil }
            return "\(parameters.prompt ?? "") \(parameters.seed ?? -1) ×\(count)"
        }
        #expect(sent == ["a red kite 10 ×1", "a red kite 11 ×1", "a red kite 12 ×1", "a blue kite 10 ×1", "a blue kite 11 ×1", "a blue kite 12 ×1"])
    }

    @Test("a matrix without a seed: image n of every variant is sent with the same shared seed (its offset n), and the body preview says so")
    func matrixSharesSeed() {
        var state = AppState()
        typed("a {red|blue} kite", into: &state)
        state.count = 2
        let effects = reduce(&state, .key(Key(.enter)))
        let sent = effects.compactMap { effect -> String? in
            guard case .submit(_, let parameters, let count, _, let offset) = effect else { return nil }
            return "\(parameters.prompt ?? "") \(parameters.seed ?? -1) +\(offset ?? -1) ×\(count)"
        }
        #expect(sent == ["a red kite -1 +0 ×1", "a red kite -1 +1 ×1", "a blue kite -1 +0 ×1", "a blue kite -1 +1 ×1"])
        // One prompt on one model leaves the seed to BFL: no offset, one batch.
        var single = AppState()
        typed("a kite", into: &single)
        single.count = 2
        let one = reduce(&single, .key(Key(.enter))).compactMap { effect -> Int?? in
            guard case .submit(_, _, let count, _, let offset) = effect else { return nil }
            return count == 2 ? offset : .some(-1)
        }
        #expect(one == [nil])
        state.focus = .model
        _ = reduce(&state, .key(.char("p")))
        #expect(state.textOverlay?.lines.last?.hasPrefix("seed: one for every variant") == true, "\(String(describing: state.textOverlay))")
    }

    @Test("x lists the prompts, p shows the body the form would send; any key closes")
    func previews() {
        var state = AppState()
        typed("a {red|blue} fox", into: &state)
        state.focus = .model
        _ = reduce(&state, .key(.char("x")))
        #expect(state.textOverlay == TextOverlay(title: "2 prompts × 1 = 2 requests", lines: ["1. a red fox", "2. a blue fox"]))
        let screen = render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines.joined(separator: "\n")
        #expect(screen.contains("2. a blue fox") && screen.contains("any key closes"))
        _ = reduce(&state, .key(.char("q")))
        #expect(state.textOverlay == nil && state.confirming == nil)
        _ = reduce(&state, .key(.char("p")))
        #expect(state.textOverlay?.title == "POST /v1/flux-2-pro (the first of 2 requests)")
        #expect(state.textOverlay?.lines.first?.contains(#""prompt":"a red fox""#) == true, "\(state.textOverlay?.lines ?? [])")
    }

    @Test("a matrix over the confirmation threshold asks once, and y sends every request")
    func confirmation() {
        var state = AppState(budget: Budget(confirmAbove: Credits(5)))
        typed("{a|b|c} lighthouse", into: &state)
        #expect(reduce(&state, .key(Key(.enter))).isEmpty)
        #expect(state.message?.text.contains("3 requests (3 prompts × 1)") == true)
        #expect(prompts(reduce(&state, .key(.char("y")))) == ["a lighthouse", "b lighthouse", "c lighthouse"])
    }
}

@Suite("Notifications when a group finishes")
struct NotifyTests {
    static let start = Date(timeIntervalSince1970: 1_795_000_000)

    func job(_ id: String, group: String, _ phase: JobPhase, seconds: Double) -> JobRecord {
        fixtureJob(id, phase, endpoint: "e", prompt: "a kite over the dunes", group: group, created: Self.start) {
            if phase.isFinal { $0.finishedAt = Self.start.addingTimeInterval(seconds) }
        }
    }

    func notices(_ effects: [Effect]) -> [String] {
        effects.compactMap { if case .notify(let title, let body, let via) = $0 { "\(via.rawValue)|\(title)|\(body)" } else { nil } }
    }

    @Test("the last job of a slow group announces it once; the queue being empty is said")
    func slowGroup() {
        var state = AppState(now: Self.start)
        _ = reduce(&state, .jobUpdated(job("a", group: "g", .running, seconds: 0)))
        _ = reduce(&state, .jobUpdated(job("b", group: "g", .running, seconds: 0)))
        #expect(notices(reduce(&state, .jobUpdated(job("a", group: "g", .done, seconds: 11)))).isEmpty)
        #expect(notices(reduce(&state, .jobUpdated(job("b", group: "g", .failed, seconds: 12.4)))) ==
                ["both|fluxdeck: 2 × FLUX.2 [pro] finished (queue empty)|1 of 2 saved, 1 not in 12 s · a kite over the dunes"])
        // A repeated final update says nothing more.
        #expect(notices(reduce(&state, .jobUpdated(job("b", group: "g", .failed, seconds: 12.4)))).isEmpty)
    }

    @Test("quick groups, groups of other sessions and notify off stay quiet; another group running drops 'queue empty'")
    func quiet() {
        var quick = AppState(now: Self.start)
        _ = reduce(&quick, .jobUpdated(job("a", group: "g", .running, seconds: 0)))
        #expect(notices(reduce(&quick, .jobUpdated(job("a", group: "g", .done, seconds: 4)))).isEmpty)

        var loaded = AppState(now: Self.start)
        _ = reduce(&loaded, .jobsLoaded([job("a", group: "g", .running, seconds: 0)]))
        #expect(notices(reduce(&loaded, .jobUpdated(job("a", group: "g", .done, seconds: 40)))).isEmpty)

        var off = AppState(now: Self.start, notify: NotifySettings(via: .off))
        _ = reduce(&off, .jobUpdated(job("a", group: "g", .running, seconds: 0)))
        #expect(notices(reduce(&off, .jobUpdated(job("a", group: "g", .done, seconds: 40)))).isEmpty)

        var two = AppState(now: Self.start, notify: NotifySettings(via: .osc777, minSeconds: 1))
        _ = reduce(&two, .jobUpdated(job("a", group: "g", .running, seconds: 0)))
        _ = reduce(&two, .jobUpdated(job("b", group: "h", .running, seconds: 0)))
        #expect(notices(reduce(&two, .jobUpdated(job("a", group: "g", .done, seconds: 2)))) ==
                ["osc777|fluxdeck: 1 × FLUX.2 [pro] finished|1 of 1 saved in 2 s · a kite over the dunes"])
    }

    @Test("alert bytes: OSC 9 and OSC 777, control characters dropped, 777's separators kept out of the texts")
    func bytes() {
        #expect(String(decoding: Alert.osc9.bytes(title: "done\u{07}\u{1B}]", body: "a; b"), as: UTF8.self) == "\u{1B}]9;done]: a; b\u{07}")
        #expect(String(decoding: Alert.osc777.bytes(title: "t;x", body: "a;b\nc"), as: UTF8.self) == "\u{1B}]777;notify;t,x;a,bc\u{07}")
        #expect(Alert.bell.bytes(title: "", body: "") == [0x07])
        let backend = MemoryBackend(width: 10, height: 2)
        backend.alert([.bell, .osc9], title: "t", body: "b")
        #expect(backend.alerts.map(\.alert) == [.bell, .osc9])
    }
}

@Suite("A submission's jobs")
struct GroupKeyTests {
    @Test("g on a job shows its submission's images in Outputs, searched in the ledger too")
    func group() {
        var state = AppState()
        var record = JobRecord(id: "a", createdAt: Date(), model: "flux-2-pro", endpoint: "e", prompt: "p", requestJSON: "{}",
                               estimatedCredits: "3", fileExtension: "jpg", groupID: "ABCDEF12-3456-4000-8000-000000000000")
        record.phase = .done
        _ = reduce(&state, .jobUpdated(record))
        state.focus = .jobs
        let effects = reduce(&state, .key(.char("g")))
        #expect(state.focus == .outputs && state.outputsFilter == "group:abcdef12" && state.gallery)
        #expect(effects.contains { if case .loadOutputs(nil, "group:abcdef12", _) = $0 { true } else { false } })
        var alone = AppState()
        record.groupID = nil
        _ = reduce(&alone, .jobUpdated(record))
        alone.focus = .jobs
        _ = reduce(&alone, .key(.char("g")))
        #expect(alone.focus == .jobs && alone.message?.text == "this job was sent alone (no group)")
    }
}

@Suite("Comparing models")
struct CompareModelsTests {
    func mark(_ ids: [String], in state: inout AppState) {
        for id in ids {
            state.picker = Catalog.all.firstIndex { $0.id == id }
            _ = reduce(&state, .key(.char(" ")))
        }
        state.picker = nil
    }

    @Test("Space in the model list marks models (the current one with the first); a submission goes to each, sizes in its own terms")
    func submission() throws {
        var state = AppState(budget: Budget(confirmAbove: nil))
        state.customSize = "1920x1080"
        typed("a heron in the reeds", into: &state)
        mark(["flux-kontext-max", "flux-pro-1.1"], in: &state)
        #expect(state.comparedModels == ["flux-2-pro", "flux-kontext-max", "flux-pro-1.1"])
        let plan = try state.plan.get()
        let targets = plan.targets
        #expect(targets.map(\.model.id) == ["flux-2-pro", "flux-kontext-max", "flux-pro-1.1"])
        #expect(targets[1].parameters.aspectRatio == "16:9" && targets[1].parameters.width == nil)
        #expect(targets[2].parameters.width == 1440 && targets[2].parameters.height == 800)
        #expect(targets[2].notes == ["1440x800"])
        // The estimate sums the models.
        let each = targets.map { target in
            PriceEstimator.estimate(model: target.model, outputSize: target.parameters.size, inputSizes: [], count: 1).credits
        }
        #expect(plan.total == each.reduce(Credits.zero, +))
        let screen = render(state, theme: .builtIn, area: Rect(width: 160, height: 40)).buffer.lines.joined(separator: "\n")
        #expect(screen.contains("models    2-pro · kontext-max (16:9) · pro-1.1 (1440x800) = \(plan.total) credits"), "\(screen)")
        let effects = reduce(&state, .key(Key(.enter)))
        let sent = effects.compactMap { effect -> String? in
            guard case .submit(let id, let parameters, _, _, _) = effect else { return nil }
            return "\(id) \(parameters.prompt ?? "")"
        }
        #expect(sent == ["flux-2-pro a heron in the reeds", "flux-kontext-max a heron in the reeds", "flux-pro-1.1 a heron in the reeds"])
        #expect(state.message?.text.hasPrefix("submitting 3 requests (1 prompt × 1 × 3 models) of 3 models") == true, "\(state.message?.text ?? "")")
    }

    @Test("comparing three models with 4 images: x, p, the cost pane and the confirmation all count 12 requests and one total")
    func comparisonPreviewsAgree() throws {
        var state = AppState(budget: Budget(confirmAbove: Credits(1)))
        state.customSize = "1920x1080"
        state.count = 4
        typed("a heron in the reeds", into: &state)
        mark(["flux-kontext-max", "flux-pro-1.1"], in: &state)
        let plan = try state.plan.get()
        let total = plan.total
        #expect(plan.requestCount == 12)
        state.focus = .model
        _ = reduce(&state, .key(.char("x")))
        #expect(state.textOverlay?.title == "1 prompt × 4 × 3 models = 12 requests")
        _ = reduce(&state, .key(.char("q")))
        _ = reduce(&state, .key(.char("p")))
        let bodies = state.textOverlay?.lines ?? []
        #expect(state.textOverlay?.title == "the first body for each of 3 models (the first of 12 requests)")
        #expect(bodies.filter { $0.hasPrefix("POST /v1/") }.count == 3, "\(bodies)")
        #expect(bodies.contains { $0.contains(#""aspect_ratio":"16:9""#) } && bodies.contains { $0.contains(#""width":1440"#) })
        _ = reduce(&state, .key(.char("q")))
        let screen = render(state, theme: .builtIn, area: Rect(width: 160, height: 40)).buffer.lines.joined(separator: "\n")
        #expect(screen.contains("estimate  \(total) credits"), "\(screen)")
        #expect(screen.contains("requests  1 prompt × 4 × 3 models = 12 requests"), "\(screen)")
        #expect(screen.contains("Model · compare 3"), "\(screen)")
        state.focus = .prompt
        #expect(reduce(&state, .key(Key(.enter))).isEmpty)
        #expect(state.message?.text.contains("Send 12 requests (1 prompt × 4 × 3 models) of 3 models for \(total) credits") == true, "\(state.message?.text ?? "")")
        let sent = reduce(&state, .key(.char("y"))).reduce(0) { count, effect in
            if case .submit(_, _, let n, _, _) = effect { count + n } else { count }
        }
        #expect(sent == 12)
    }

    @Test("a prompt without groups is sent unescaped, as the CLI sends it")
    func unescaped() {
        var state = AppState(budget: Budget(confirmAbove: nil))
        typed(#"a \{b\} c"#, into: &state)
        let sent = reduce(&state, .key(Key(.enter))).compactMap { if case .submit(_, let parameters, _, _, _) = $0 { parameters.prompt } else { nil } }
        #expect(sent == ["a {b} c"])
    }

    @Test("the studio refuses a submission over 1,000 requests (400 prompts × 3 images), as the CLI does")
    func cap() {
        var state = AppState(budget: Budget(confirmAbove: nil))
        state.count = 3
        typed("a {" + (1...400).map { "w\($0)" }.joined(separator: "|") + "}", into: &state)
        #expect(reduce(&state, .key(Key(.enter))).isEmpty)
        #expect(state.message?.text == "400 prompts × 3 images is 1200 requests, over the 1000 one submission may send")
        #expect(state.message?.isError == true)
    }

    @Test("a model that cannot take the submission is left out, and said; unmarking everything goes back to one model")
    func leftOut() throws {
        var state = AppState(budget: Budget(confirmAbove: nil))
        typed("a kite", into: &state)
        mark(["flux-pro-1.0-fill"], in: &state)
        let plan = try state.plan.get()
        let (targets, skipped) = (plan.targets, plan.skipped)
        #expect(targets.map(\.model.id) == ["flux-2-pro"])
        #expect(skipped.count == 1 && skipped[0].contains("repaints an image"))
        let effects = reduce(&state, .key(Key(.enter)))
        #expect(effects.count == 1)
        #expect(state.message?.text.contains("left out:") == true)
        mark(["flux-pro-1.0-fill", "flux-2-pro"], in: &state)
        #expect(state.comparedModels.isEmpty)
    }

    @Test("ratios: lowest terms, within 21:9 … 9:21, an awkward one rounded to small terms")
    func ratios() {
        #expect(GenerationParameters.ratio(PixelSize(width: 1920, height: 1080)) == "16:9")
        #expect(GenerationParameters.ratio(PixelSize(width: 4000, height: 1000)) == "21:9")
        #expect(GenerationParameters.ratio(PixelSize(width: 1000, height: 1000)) == "1:1")
        #expect(GenerationParameters.ratio(PixelSize(width: 1031, height: 769)) == "4:3")
    }
}

@Suite("Groups in the jobs pane")
struct GroupRowTests {
    func job(_ id: String, group: String?, _ phase: JobPhase, model: String = "flux-2-pro", cost: String? = nil) -> JobRecord {
        fixtureJob(id, phase, model: model, endpoint: "e", prompt: "a lantern", group: group, created: Date(timeIntervalSince1970: 1_795_000_000)) {
            $0.settledCost = cost
        }
    }

    func grouped() -> AppState {
        var state = AppState(budget: Budget(confirmAbove: nil))
        _ = reduce(&state, .resize(width: 120, height: 40))
        _ = reduce(&state, .jobUpdated(job("solo", group: nil, .done, cost: "3")))
        for (n, phase) in [JobPhase.done, .done, .running, .queued].enumerated() {
            _ = reduce(&state, .jobUpdated(job("m\(n)", group: "g1", phase, cost: phase == .done ? "3" : nil)))
        }
        state.focus = .jobs
        return state
    }

    @Test("a submission of several jobs is one row, which → opens and ← closes; a lone job keeps its row")
    func rows() {
        var state = grouped()
        #expect(state.jobRows.count == 2)
        let screen = render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines.joined(separator: "\n")
        #expect(screen.contains("4 × FLUX.2 [pro] · 2 done · 2 running · 6 + ~6 cre"), "\(screen)")
        // The group's summary starts where a job's model does, wide and narrow.
        for width in [80, 120] {
            let lines = render(state, theme: .builtIn, area: Rect(width: width, height: 40)).buffer.lines
            func column(of piece: String, unless other: String) -> Int? {
                guard let line = lines.first(where: { $0.contains(piece) && !$0.contains(other) }), let range = line.range(of: piece) else { return nil }
                return line.distance(from: line.startIndex, to: range.lowerBound)
            }
            let group = column(of: "4 × ", unless: "flux-2-")
            let solo = column(of: "flux-2-", unless: "4 × ")
            #expect(group != nil && group == solo, "at \(width): the group's summary at \(String(describing: group)), a job's model at \(String(describing: solo))")
        }
        state.jobsList.selected = 0
        #expect(state.selectedGroup?.members.count == 4 && state.selectedJob == nil)
        _ = reduce(&state, .key(Key(.right)))
        #expect(state.jobRows.count == 6 && state.jobsList.selected == 0)
        _ = reduce(&state, .key(Key(.down)))
        #expect(state.selectedJob?.id == "m3")
        _ = reduce(&state, .key(Key(.left)))
        #expect(state.jobRows.count == 2 && state.jobsList.selected == 0)
    }

    @Test("the selection stays on its group or job while new jobs arrive above it")
    func selectionKept() {
        var state = grouped()
        state.jobsList.selected = 1 // the lone job, below the group
        _ = reduce(&state, .jobUpdated(job("m4", group: "g1", .queued)))
        #expect(state.selectedJob?.id == "solo")
        _ = reduce(&state, .jobUpdated(job("new", group: nil, .queued)))
        #expect(state.selectedJob?.id == "solo" && state.jobsList.selected == 2)
    }

    @Test("group keys: c cancels its queued jobs, a abandons its sent ones after a y, r runs it again, g shows its images")
    func actions() {
        var state = grouped()
        state.jobsList.selected = 0
        #expect(reduce(&state, .key(.char("c"))) == [.cancel(jobID: "m3")])
        #expect(reduce(&state, .key(.char("a"))).isEmpty)
        #expect(state.confirming == .abandonGroup("g1"))
        #expect(Set(reduce(&state, .key(.char("y")))) == [.abandon(jobID: "m2"), .cancel(jobID: "m3")])
        let again = reduce(&state, .key(.char("r")))
        #expect(again.count == 4 && again.allSatisfy { if case .rerun(_, false) = $0 { true } else { false } })
        state.focus = .jobs
        state.jobsList.selected = 0
        _ = reduce(&state, .key(.char("g")))
        #expect(state.focus == .outputs && state.outputsFilter == "group:g1" && state.gallery)
    }
}

@Suite("The jobs pane's elapsed column")
struct ElapsedColumnTests {
    func row(_ seconds: TimeInterval) -> String {
        let end = Date(timeIntervalSince1970: 1_795_000_000)
        var record = JobRecord(id: "job-1", createdAt: end.addingTimeInterval(-seconds), model: "flux-2-pro", endpoint: "e",
                               prompt: "a kite over the dunes", requestJSON: "{}", estimatedCredits: "3", fileExtension: "jpg", groupID: nil)
        record.phase = .failed
        record.finishedAt = end
        var state = AppState(now: end)
        _ = reduce(&state, .resize(width: 120, height: 40))
        _ = reduce(&state, .jobsLoaded([record]))
        return render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines.first { $0.contains("a kite") } ?? ""
    }

    @Test("spans of days fit the column (the prompt is not run into); a span from a nonsense date neither traps nor overflows")
    func long() {
        #expect(row(90).contains("1m30s "))
        #expect(row(3 * 3600 + 5 * 60).contains("3h05m "))
        #expect(row(150 * 3600).contains("6d06h "))
        #expect(row(5000 * 86_400).contains("999d+ "))
        // A ledger written by anything: a date near the start of time.
        #expect(row(1e300).contains("999d+ "))
        #expect(row(-50).contains("0s "))
    }

    @Test("a running job's progress from the ledger is kept within 0–100 %; a nonsense one is not shown and does not trap")
    func progress() {
        func status(_ progress: Double) -> String {
            var record = JobRecord(id: "job-2", createdAt: Date(timeIntervalSince1970: 1_795_000_000), model: "flux-2-pro", endpoint: "e",
                                   prompt: "a heron at dawn", requestJSON: "{}", estimatedCredits: "3", fileExtension: "jpg", groupID: nil)
            record.phase = .running
            record.progress = progress
            var state = AppState(now: Date(timeIntervalSince1970: 1_795_000_010))
            _ = reduce(&state, .resize(width: 120, height: 40))
            _ = reduce(&state, .jobsLoaded([record]))
            return render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines.first { $0.contains("a heron") } ?? ""
        }
        #expect(status(0.42).contains("42%"))
        #expect(status(1e300).contains("100%"))
        #expect(status(-3).contains("0%"))
        let nan = status(.nan)
        #expect(!nan.contains("%") && nan.contains("a heron"))
    }
}

