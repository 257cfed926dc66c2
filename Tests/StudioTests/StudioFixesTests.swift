@testable import Studio
@testable import StudioRuntime
import StudioViews
import BFL
import Foundation
import Synchronization
import Jobs
import TerminalCore
import Testing
import Theme

@Suite("Studio: fixed bugs stay fixed")
struct StudioFixesTests {
    func withOutputs(_ count: Int) -> AppState {
        var state = AppState(now: Date(timeIntervalSince1970: 10_000))
        _ = reduce(&state, .resize(width: 120, height: 40))
        let records = (0..<count).map { n in
            job("job-\(n)", .done, prompt: "fox number \(n)", output: "/tmp/fluxdeck-fixes/\(n).jpg", seed: n,
                created: Date(timeIntervalSince1970: Double(5_000 - n)))
        }
        _ = reduce(&state, .jobsLoaded(records))
        return state
    }

    /// The screen row that shows `text` (inside `pane` when given), and a column inside it.
    func cell(showing text: String, in state: AppState, pane: Rect? = nil) -> (x: Int, y: Int)? {
        let lines = render(state, theme: .builtIn, area: Rect(width: state.width, height: state.height)).buffer.lines
        for (y, line) in lines.enumerated() where pane.map({ (y >= $0.y && y < $0.bottom) }) ?? true {
            if let range = line.range(of: text) { return (line.distance(from: line.startIndex, to: range.lowerBound) + 1, y) }
        }
        return nil
    }

    @Test("a click on a row of the outputs selects that row, with the filter line shown or being typed", arguments: [false, true])
    func filteredClick(typing: Bool) throws {
        var state = withOutputs(12)
        state.focus = .outputs
        _ = reduce(&state, .key(.char("/")))
        for character in "fox" { _ = reduce(&state, .key(.char(character))) }
        if !typing { _ = reduce(&state, .key(Key(.enter))) }
        #expect(state.outputsFilterShown)
        let outputsPane = StudioLayout(width: state.width, height: state.height).outputs
        for target in ["fox number 4", "fox number 0", "fox number 7"] {
            let spot = try #require(cell(showing: target, in: state, pane: outputsPane))
            _ = reduce(&state, .mouse(MouseEvent(kind: .press, x: spot.x, y: spot.y)))
            #expect(state.selectedOutput?.prompt == target)
        }
        // A click on the filter line itself selects nothing new.
        let before = state.selectedOutput?.id
        let filterLine = try #require(cell(showing: "/ ", in: state, pane: outputsPane))
        _ = reduce(&state, .mouse(MouseEvent(kind: .press, x: filterLine.x + 3, y: filterLine.y)))
        #expect(state.selectedOutput?.id == before)
    }

    @Test("a click on a job or a form row selects that row")
    func jobsAndFormClicks() throws {
        var state = withOutputs(6)
        let spot = try #require(cell(showing: "fox number 3", in: state))
        // Both panes list it: the first match is the jobs pane (above the outputs).
        _ = reduce(&state, .mouse(MouseEvent(kind: .press, x: spot.x, y: spot.y)))
        #expect(state.focus == .jobs)
        #expect(state.selectedJob?.prompt == "fox number 3")
        let seedRow = try #require(cell(showing: "seed", in: state))
        _ = reduce(&state, .mouse(MouseEvent(kind: .press, x: seedRow.x, y: seedRow.y)))
        #expect(state.focus == .model)
        #expect(state.formRow == .seed)
    }

    @Test("a second filter committed while the first search runs is searched too; the first's reply does not end it")
    func secondFilter() {
        var state = withOutputs(3)
        state.olderOutputsMayExist = true
        state.focus = .outputs
        func commit(_ text: String) -> [Effect] {
            _ = reduce(&state, .key(.char("/")))
            _ = reduce(&state, .key(.ctrl("u")))
            for character in text { _ = reduce(&state, .key(.char(character))) }
            return reduce(&state, .key(Key(.enter)))
        }
        #expect(commit("fox").contains(.loadOutputs(before: nil, filter: "fox", generation: 1)))
        #expect(state.loadingOutputs)
        #expect(commit("owl").contains(.loadOutputs(before: nil, filter: "owl", generation: 2)))
        // The first search answers late: its images are kept, but the second is still running.
        let late = job("old-fox", .done, prompt: "fox from the ledger", output: "/tmp/fluxdeck-fixes/old.jpg", created: Date(timeIntervalSince1970: 10))
        _ = reduce(&state, .outputsLoaded([late], filter: "fox", exhausted: true, generation: 1))
        #expect(state.loadingOutputs)
        #expect(state.jobs.contains { $0.id == "old-fox" })
        #expect(state.olderOutputsMayExist)
        let owl = job("old-owl", .done, prompt: "owl from the ledger", output: "/tmp/fluxdeck-fixes/owl.jpg", created: Date(timeIntervalSince1970: 9))
        _ = reduce(&state, .outputsLoaded([owl], filter: "owl", exhausted: true, generation: 2))
        #expect(!state.loadingOutputs)
        #expect(!state.olderOutputsMayExist)
        #expect(state.filteredOutputs.map(\.id) == ["old-owl"])
    }

    @Test("ticks come on their deadlines under a steady stream of events, never while idle, without bursts after a stall")
    func ticks() {
        var schedule = TickSchedule(interval: .milliseconds(120))
        let start = ContinuousClock.now
        var now = start
        var ticks: [Duration] = []
        // A key or job event every 50 ms for 1.2 s: the loop wakes at the next event or at its
        // timeout, whichever comes first (as poll does).
        var nextEvent = start + .milliseconds(50)
        while now < start + .milliseconds(1_200) {
            let timeout = schedule.timeout(now: now, active: true)
            #expect(timeout >= 0 && timeout <= 120)
            now = min(nextEvent, now + .milliseconds(Int(timeout)))
            if now == nextEvent { nextEvent += .milliseconds(50) }
            if schedule.due(now: now, active: true) { ticks.append(start.duration(to: now)) }
        }
        #expect(ticks.count == 10, "\(ticks)")
        for (n, at) in ticks.enumerated() {
            // Each tick within one event gap (50 ms) of its deadline.
            let deadline = Duration.milliseconds(120 * (n + 1))
            #expect(at >= deadline && at < deadline + .milliseconds(50), "tick \(n) at \(at)")
        }
        // Idle: no deadline, no tick.
        let idleTimeout = schedule.timeout(now: now, active: false)
        #expect(idleTimeout == -1)
        let idleTick = schedule.due(now: now + .seconds(5), active: false)
        #expect(!idleTick)
        // After a stall of 2 s, one tick, and the next a full interval later.
        _ = schedule.timeout(now: now, active: true)
        now += .seconds(2)
        let afterStall = schedule.due(now: now, active: true)
        let soonAfter = schedule.due(now: now + .milliseconds(10), active: true)
        let nextWait = schedule.timeout(now: now, active: true)
        #expect(afterStall && !soonAfter && nextWait == 120)
    }

    @Test("a failed effect says what failed; a late balance from an older read does not replace a newer one")
    func effectResults() {
        var state = AppState()
        _ = reduce(&state, .effectFailed(what: "cancel 1a2b3c4d", reason: "database is locked"))
        #expect(state.message?.text == "could not cancel 1a2b3c4d: database is locked")
        #expect(state.message?.isError == true)
        _ = reduce(&state, .creditsLoaded(Credits("90"), sequence: 2))
        _ = reduce(&state, .creditsLoaded(Credits("100"), sequence: 1))
        #expect(state.credits == Credits("90"))
        _ = reduce(&state, .creditsFailed("timed out", sequence: 1))
        #expect(state.message?.text.contains("balance") == false)
        _ = reduce(&state, .creditsLoaded(Credits("85"), sequence: 3))
        #expect(state.credits == Credits("85"))
    }

    @Test("the driver's effects are owned: closing cancels and awaits every one still running")
    func effectTasks() async {
        let tasks = EffectTasks()
        let ended = Mutex(0)
        for _ in 0..<3 {
            tasks.run {
                // Would wait an hour; cancellation ends it.
                try? await Task.sleep(for: .seconds(3_600))
                ended.withLock { $0 += 1 }
            }
        }
        #expect(tasks.count == 3)
        await tasks.cancelAll()
        #expect(ended.withLock { $0 } == 3)
        #expect(tasks.count == 0)
    }

    @Test("the region row steps through the regions the endpoint has; without any it says so")
    func regionRow() {
        var state = AppState(region: .eu, regions: [.eu, .us])
        state.focus = .model
        state.formIndex = state.formRows.firstIndex(of: .region) ?? 0
        _ = reduce(&state, .key(Key(.right)))
        #expect(state.region == .us)
        _ = reduce(&state, .key(Key(.right)))
        #expect(state.region == .eu)
        _ = reduce(&state, .key(Key(.left)))
        #expect(state.region == .us)
        var none = AppState()
        none.focus = .model
        none.formIndex = none.formRows.firstIndex(of: .region) ?? 0
        _ = reduce(&none, .key(Key(.right)))
        #expect(none.region == nil && none.message?.text.contains("no regions") == true)
    }

    @Test("s stars the selected image and t types its tags; the row shows the star, the filter finds them")
    func curation() throws {
        var state = withOutputs(3)
        state.focus = .outputs
        let selected = try #require(state.selectedOutput)
        #expect(reduce(&state, .key(.char("s"))) == [.curate(jobID: selected.id, starred: true, tags: [])])
        var curated = selected
        curated.starred = true
        _ = reduce(&state, .jobCurated(curated))
        #expect(state.selectedOutput?.starred == true)
        let outputsPane = StudioLayout(width: state.width, height: state.height).outputs
        let spot = try #require(cell(showing: "★", in: state, pane: outputsPane))
        #expect(spot.y > outputsPane.y)
        _ = reduce(&state, .key(.char("t")))
        for character in "Keep, print  keep" { _ = reduce(&state, .key(.char(character))) }
        #expect(reduce(&state, .key(Key(.enter))) == [.curate(jobID: selected.id, starred: true, tags: ["keep", "print"])])
        curated.tags = ["keep", "print"]
        _ = reduce(&state, .jobCurated(curated))
        _ = reduce(&state, .key(.char("/")))
        for character in "is:starred tag:print" { _ = reduce(&state, .key(.char(character))) }
        #expect(state.filteredOutputs.map(\.id) == [selected.id])
    }

    @Test("v opens the viewer on the selected image and asks for its large picture; ←→ step through the filtered list, the selection follows; Esc returns")
    func viewer() throws {
        var state = withOutputs(4)
        state.focus = .outputs
        _ = reduce(&state, .key(Key(.down)))
        let second = try #require(state.selectedOutput)
        #expect(reduce(&state, .key(.char("v"))) == [.loadPreview(path: second.outputPath ?? "", large: true)])
        #expect(state.viewer == second.id)
        _ = reduce(&state, .previewLoaded(path: second.outputPath ?? "", Picture(width: 2, height: 2, pixels: Array(repeating: 9, count: 12)), large: true))
        #expect(state.viewerPictures[second.outputPath ?? ""] != nil && state.previews[second.outputPath ?? ""] == nil)
        let effects = reduce(&state, .key(Key(.right)))
        #expect(state.viewer == state.filteredOutputs[2].id && state.outputsList.selected == 2)
        #expect(effects.contains(.loadPreview(path: state.filteredOutputs[2].outputPath ?? "", large: true)))
        _ = reduce(&state, .key(Key(.right)))
        _ = reduce(&state, .key(Key(.right)))
        #expect(state.viewer == state.filteredOutputs[3].id)
        _ = reduce(&state, .key(Key(.left)))
        #expect(state.viewer == state.filteredOutputs[2].id)
        #expect(reduce(&state, .key(.char("s"))) == [.curate(jobID: state.filteredOutputs[2].id, starred: true, tags: [])])
        // Keys of the panes do nothing in the viewer; a click neither.
        _ = reduce(&state, .key(.char("d")))
        #expect(state.confirming == nil)
        _ = reduce(&state, .key(Key(.escape)))
        #expect(state.viewer == nil && state.focus == .outputs && state.outputsList.selected == 2)
    }

    @Test("new work is never hidden: scrolled Jobs say how many newer rows are above (Home goes there); a filter is a badge that counts the new images it hides, and Esc in Outputs clears it")
    func newWorkShown() throws {
        var state = withOutputs(30)
        let title = { (state: AppState, prefix: String) -> String in
            render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer.lines.first { $0.contains(prefix) } ?? ""
        }
        state.focus = .jobs
        #expect(!title(state, "╭ Jobs").contains("newer"))
        _ = reduce(&state, .key(Key(.end)))
        let scrolled = title(state, "╭ Jobs")
        let above = try #require(scrolled.firstMatch(of: /↑ (\d+) newer \(Home\)/), "\(scrolled)")
        #expect((1..<30).contains(Int(above.1) ?? 0), "\(scrolled)")
        // Another process's job (finished, or still running) arrives above: the selection stays
        // on its job, and one more is counted above.
        let selected = try #require(state.selectedJob?.id)
        let elsewhere = job("job-elsewhere", .running, prompt: "made in another terminal", created: Date(timeIntervalSince1970: 18_000))
        _ = reduce(&state, .jobElsewhere(elsewhere, ownerPID: 4242))
        #expect(state.selectedJob?.id == selected)
        #expect(title(state, "╭ Jobs").contains("↑ \((Int(above.1) ?? 0) + 1) newer"), "\(title(state, "╭ Jobs"))")
        _ = reduce(&state, .key(Key(.home)))
        #expect(state.jobsList.selected == 0 && !title(state, "╭ Jobs").contains("newer"))
        // A filter, then an image it does not match: counted in the badge.
        state.focus = .outputs
        _ = reduce(&state, .key(.char("/")))
        for character in "number 1" { _ = reduce(&state, .key(.char(character))) }
        _ = reduce(&state, .key(Key(.enter)))
        #expect(title(state, "╭ Outputs").contains("[number 1] · Esc clears"), "\(title(state, "╭ Outputs"))")
        _ = reduce(&state, .clock(Date(timeIntervalSince1970: 20_000)))
        var fresh = job("job-new", .done, prompt: "a heron", output: "/tmp/fluxdeck-fixes/new.jpg", created: Date(timeIntervalSince1970: 19_000))
        fresh.finishedAt = Date(timeIntervalSince1970: 20_000)
        _ = reduce(&state, .jobUpdated(fresh))
        #expect(state.newOutsideFilter == 1)
        #expect(title(state, "╭ Outputs").contains("[number 1] · 1 new outside the filter"), "\(title(state, "╭ Outputs"))")
        _ = reduce(&state, .key(Key(.escape)))
        #expect(state.outputsFilter.isEmpty && state.filteredOutputs.count == 31)
    }

    @Test("a full-screen view starts from blank cells: the panes' reversed rows and pictures' colours do not show through its blanks")
    func fullScreenIsClean() throws {
        var state = withOutputs(4)
        state.focus = .outputs
        let selected = try #require(state.selectedOutput)
        _ = reduce(&state, .previewLoaded(path: selected.outputPath ?? "", Picture(width: 4, height: 4, pixels: Array(repeating: 200, count: 48)), large: false))
        let panes = render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer
        // Beneath: the selected row is reversed or coloured, and the preview has colours.
        let styled = { (buffer: Buffer, rect: Rect) -> Int in
            var count = 0
            for y in rect.y..<rect.bottom {
                for x in rect.x..<rect.right where buffer[x, y].symbol == " " {
                    let style = buffer[x, y].style
                    if style.modifiers.contains(.reverse) || style.bg != .default { count += 1 }
                }
            }
            return count
        }
        let right = Rect(x: 84, y: 12, width: 35, height: 26)
        #expect(styled(panes, right) > 0, "the panes beneath have no styled blanks to show through")
        _ = reduce(&state, .key(.char("v")))
        let viewer = render(state, theme: .builtIn, area: Rect(width: 120, height: 40)).buffer
        #expect(styled(viewer, right) == 0, "\(styled(viewer, right)) styled blanks of the panes show through the viewer")
    }

    @Test("g opens the gallery: arrows move through the grid by cells and rows, its page's thumbnails are asked for, Enter views, a click picks, Esc returns")
    func gallery() throws {
        var state = withOutputs(30)
        state.focus = .outputs
        let grid = StudioLayout.galleryGrid(width: state.width, height: state.height)
        #expect(grid.columns == 4 && grid.rows == 3)
        let opened = reduce(&state, .key(.char("g")))
        #expect(state.gallery && opened.count == 12)
        #expect(opened.allSatisfy { if case .loadPreview(_, false) = $0 { true } else { false } })
        _ = reduce(&state, .key(Key(.right)))
        _ = reduce(&state, .key(Key(.down)))
        #expect(state.outputsList.selected == 1 + grid.columns)
        // The next page: its twelve thumbnails are asked for.
        let paged = reduce(&state, .key(Key(.pageDown)))
        #expect(state.outputsList.selected == 17 && galleryPage(state) == 12..<24)
        #expect(paged.filter { if case .loadPreview = $0 { true } else { false } }.count == 12)
        // A click on the third cell of the second row of this page.
        let click = MouseEvent(kind: .press, x: grid.area.x + 2 * grid.cell.width + 3, y: grid.area.y + grid.cell.height + 2)
        _ = reduce(&state, .mouse(click))
        #expect(state.outputsList.selected == 12 + grid.columns + 2)
        _ = reduce(&state, .key(Key(.enter)))
        #expect(state.viewer == state.filteredOutputs[18].id)
        _ = reduce(&state, .key(Key(.escape)))
        #expect(state.viewer == nil && state.gallery)
        _ = reduce(&state, .key(Key(.escape)))
        #expect(!state.gallery && state.outputsList.selected == 18)
    }

    @Test("previews are kept to previewCapacity: the oldest not on screen are given up, and asked for again when shown")
    func previewsBounded() throws {
        let total = AppState.previewCapacity + 100
        var state = withOutputs(total)
        state.focus = .outputs
        _ = reduce(&state, .key(.char("g")))
        let page = Set(galleryPage(state).compactMap { state.filteredOutputs[$0].outputPath })
        let pixels = [UInt8](repeating: 90, count: 4 * 4 * 3)
        // The page's thumbnails come first (the oldest), then every other one.
        let paths = Array(page) + state.filteredOutputs.compactMap(\.outputPath).filter { !page.contains($0) }
        for path in paths { _ = reduce(&state, .previewLoaded(path: path, Picture(width: 4, height: 4, pixels: pixels))) }
        #expect(state.previews.count == AppState.previewCapacity && state.previewOrder.count == AppState.previewCapacity)
        // What the gallery shows stayed, and the newest did; the oldest others went.
        #expect(page.allSatisfy { state.previews[$0] != nil })
        #expect(state.previews[paths[paths.count - 1]] != nil)
        let given = paths.filter { state.previews[$0] == nil }
        #expect(given.count == 100 && given == Array(paths[page.count..<(page.count + 100)]))
        // Paging to one of them asks for its thumbnail again.
        let target = try #require(state.filteredOutputs.firstIndex { $0.outputPath == given[0] })
        var effects: [Effect] = []
        while (state.outputsList.selected ?? 0) < target { effects += reduce(&state, .key(Key(.right))) }
        #expect(effects.contains(.loadPreview(path: given[0])))
    }

    @Test("Space marks up to four images, c compares them side by side with what differs highlighted; x clears the marks")
    func compare() throws {
        var state = withOutputs(6)
        state.focus = .outputs
        #expect(reduce(&state, .key(.char("c"))).isEmpty && !state.comparing)
        for _ in 0..<5 {
            _ = reduce(&state, .key(.char(" ")))
            _ = reduce(&state, .key(Key(.down)))
        }
        #expect(state.marked.count == 4 && state.message?.text.contains("four images at most") == true)
        let effects = reduce(&state, .key(.char("c")))
        #expect(state.comparing && effects.count == 4)
        let rows = comparedSettings(state.marked.compactMap { id in state.jobs.first { $0.id == id } })
        #expect(rows.first { $0.name == "seed" }?.differs == true && rows.first { $0.name == "model" }?.differs == false)
        let screen = render(state, theme: .builtIn, area: Rect(width: state.width, height: state.height)).buffer.lines.joined(separator: "\n")
        #expect(screen.contains("Compare · 4 images") && screen.contains("fox number 2"))
        _ = reduce(&state, .key(Key(.escape)))
        #expect(!state.comparing && state.marked.count == 4)
        // The list shows each marked image's place.
        let list = render(state, theme: .builtIn, area: Rect(width: state.width, height: state.height)).buffer.lines.joined(separator: "\n")
        #expect(list.contains(" 3 ") || list.contains(" 3"))
        _ = reduce(&state, .key(.char("c")))
        _ = reduce(&state, .key(.char("x")))
        #expect(!state.comparing && state.marked.isEmpty)
    }
}
