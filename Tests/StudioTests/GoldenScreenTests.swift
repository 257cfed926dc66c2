@testable import Studio
import StudioViews
import BFL
import Foundation
import Jobs
import TerminalCore
import Testing
import TestSupport
import Theme

/// Whole screens compared with text files in `Snapshots/`. Run with UPDATE_SNAPSHOTS=1 to
/// write them anew after a deliberate change, then read the diff before committing.
@Suite("Golden screens")
struct GoldenScreenTests {
    static let start = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18, a fixed moment

    /// Snapshots are written anew only with `UPDATE_SNAPSHOTS=1` exactly: any other value (0,
    /// empty) compares, so a stray variable cannot turn the goldens into tests that pass
    /// whatever is drawn.
    static let recording = ProcessInfo.processInfo.environment["UPDATE_SNAPSHOTS"] == "1"

    static func base() -> AppState {
        var state = AppState(modeLabel: "SIMULATOR — no credits spent", now: start.addingTimeInterval(95))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        state.calendar = calendar
        _ = reduce(&state, .creditsLoaded(Credits("987.5")))
        return state
    }

    static func record(_ n: Int, _ phase: JobPhase, model: String = "flux-2-pro", prompt: String, cost: String? = nil,
                       error: String? = nil) -> JobRecord {
        var record = fixtureJob(String(format: "%08x-0000-4000-8000-000000000000", n), phase, model: model, prompt: prompt,
                                requestJSON: #"{"prompt":"x","seed":\#(n)}"#, created: start.addingTimeInterval(Double(n)))
        record.seed = 1000 + n
        record.settledCost = cost
        record.errorMessage = error
        if phase == .done { record.outputPath = "/home/me/Pictures/fluxdeck/2026-11-18_0646_\(model)_\(String(format: "%08x", n)).jpg" }
        if phase.isFinal { record.finishedAt = start.addingTimeInterval(Double(n) + 12) }
        return record
    }

    static func scenarios() -> [(String, AppState)] {
        var composing = base()
        for character in "a lighthouse on a cliff at dusk, volumetric fog" { _ = reduce(&composing, .key(.char(character))) }
        _ = reduce(&composing, .key(Key(.tab)))
        for key in [Key(.right), Key(.right), Key(.down), Key(.down), Key(.right), Key(.down), .char("+"), .char("+"), Key(.down), .char("4"), .char("2"), Key(.enter)] {
            _ = reduce(&composing, .key(key))
        }
        composing.formIndex = composing.formRows.firstIndex(of: .reference(0)) ?? 0
        _ = reduce(&composing, .key(.char("e")))
        for character in "~/refs/cliff.png" { _ = reduce(&composing, .key(.char(character))) }
        _ = reduce(&composing, .key(Key(.enter)))
        _ = reduce(&composing, .referenceInspected(slot: 0, path: "~/refs/cliff.png", size: PixelSize(width: 1536, height: 1024), problem: nil))
        // Its thumbnail: a dark sky over a light cliff, 12×8.
        let cliff = (0..<8).flatMap { y in (0..<12).flatMap { _ in y < 4 ? [20, 30, 90] : [200, 190, 160] as [UInt8] } }
        _ = reduce(&composing, .previewLoaded(path: "~/refs/cliff.png", Picture(width: 12, height: 8, pixels: cliff)))

        var running = base()
        for n in 0..<30 {
            let phase: JobPhase = n < 6 ? .queued : (n < 10 ? .pending : .running)
            _ = reduce(&running, .jobUpdated(record(n, phase, model: n % 5 == 0 ? "flux-kontext-max" : "flux-2-pro", prompt: "study \(n) of a red fox")))
            if phase == .running { _ = reduce(&running, .jobProgress(id: record(n, phase, prompt: "").id, progress: Double(n % 10) / 10)) }
        }

        var errors = base()
        _ = reduce(&errors, .jobUpdated(record(1, .done, prompt: "a quiet harbour", cost: "3")))
        _ = reduce(&errors, .jobUpdated(record(2, .moderated, prompt: "sim:content-moderated", error: "Content Moderated")))
        _ = reduce(&errors, .jobUpdated(record(3, .failed, prompt: "sim:error", error: "Simulated generation failure")))
        _ = reduce(&errors, .submitFailed("Insufficient credits: 987.5 left, 1200 needed. Top up at https://dashboard.bfl.ai"))

        var filtered = base()
        let prompts = ["a red fox", "a blue heron", "a red barn", "a fox in snow", "a red kite"]
        for (n, prompt) in prompts.enumerated() {
            _ = reduce(&filtered, .jobUpdated(record(n, .done, model: n % 2 == 0 ? "flux-2-pro" : "flux-2-klein-4b", prompt: prompt, cost: "3")))
        }
        filtered.focus = .outputs
        _ = reduce(&filtered, .key(.char("/")))
        for character in "red model:pro" { _ = reduce(&filtered, .key(.char(character))) }
        _ = reduce(&filtered, .key(Key(.enter)))
        _ = reduce(&filtered, .outputsLoaded([], filter: "red model:pro", exhausted: true))

        var help = base()
        help.focus = .jobs
        _ = reduce(&help, .key(.char("?")))
        _ = reduce(&help, .key(Key(.down)))

        // The viewer on the second of three images, its picture an 8×4 gradient.
        var viewer = base()
        for n in 0..<3 {
            var job = record(n, .done, prompt: "a heron at dawn, plate \(n)", cost: "3")
            job.seed = 100 + n
            job.tags = n == 1 ? ["keep", "print"] : []
            job.starred = n == 1
            _ = reduce(&viewer, .jobUpdated(job))
        }
        viewer.focus = .outputs
        _ = reduce(&viewer, .key(Key(.down)))
        _ = reduce(&viewer, .key(.char("v")))
        if let path = viewer.selectedOutput?.outputPath {
            let pixels: [UInt8] = (0..<4).flatMap { y -> [UInt8] in (0..<8).flatMap { x -> [UInt8] in [UInt8(x * 32), UInt8(y * 64), 128] } }
            _ = reduce(&viewer, .previewLoaded(path: path, Picture(width: 8, height: 4, pixels: pixels), large: true))
        }

        // Mask mode over the viewer's picture: one rectangle drawn, a second one's corner set
        // and the cursor moved from it (the pending one tinted apart).
        var mask = viewer
        _ = reduce(&mask, .key(.char("m")))
        for key in [Key.char(" "), Key(.right), Key(.right), Key(.down), .char(" "), Key(.left, .shift), .char(" "), Key(.up)] {
            _ = reduce(&mask, .key(key))
        }

        // Extend mode over the viewer's picture: the image's size read, the right side grown by
        // a step and the top by a quarter (the new area tinted, the sizes said).
        var extend = viewer
        _ = reduce(&extend, .key(.char("x")))
        if let path = extend.selectedOutput?.outputPath {
            _ = reduce(&extend, .imageSizeRead(path: path, size: PixelSize(width: 256, height: 128), problem: nil))
        }
        for key in [Key(.right), Key(.up, .shift)] { _ = reduce(&extend, .key(key)) }

        // The gallery on the fifth of seven images, thumbnails for some, one that failed to decode.
        var gallery = base()
        for n in 0..<7 {
            var job = record(n, .done, model: n % 2 == 0 ? "flux-2-pro" : "flux-2-klein-4b", prompt: "tidepool study \(n)", cost: "3")
            job.seed = 40 + n
            job.starred = n == 2
            _ = reduce(&gallery, .jobUpdated(job))
        }
        gallery.focus = .outputs
        _ = reduce(&gallery, .key(.char("g")))
        for _ in 0..<4 { _ = reduce(&gallery, .key(Key(.right))) }
        for (n, job) in gallery.filteredOutputs.enumerated() {
            guard let path = job.outputPath else { continue }
            if n == 1 {
                _ = reduce(&gallery, .previewLoaded(path: path, nil, problem: "broken.jpg cannot be shown"))
            } else if n % 2 == 0 {
                let pixels: [UInt8] = (0..<8).flatMap { y -> [UInt8] in (0..<8).flatMap { x -> [UInt8] in [UInt8(x * 32), UInt8(y * 32), UInt8(n * 30)] } }
                _ = reduce(&gallery, .previewLoaded(path: path, Picture(width: 8, height: 8, pixels: pixels)))
            }
        }

        // Compare: three marked images of the gallery, side by side.
        var compare = gallery
        for key in [Key.char(" "), Key(.right), .char(" "), Key(.right), .char(" "), .char("c")] { _ = reduce(&compare, .key(key)) }

        // The spend view over a made-up month: three models, a quiet week, one moderated charge.
        var spend = base()
        spend.focus = .jobs
        _ = reduce(&spend, .key(.char("$")))
        _ = reduce(&spend, .spendLoaded(spendOverview()))

        // Two submissions: a matrix of four (open, its jobs under it) and a comparison of three models (closed).
        var groups = base()
        for (n, phase) in [JobPhase.done, .done, .failed, .running].enumerated() {
            var record = record(20 + n, phase, prompt: ["a red fox", "a red owl", "a blue fox", "a blue owl"][n], cost: phase == .done ? "3" : nil)
            record.groupID = "aaaa1111"
            _ = reduce(&groups, .jobUpdated(record))
        }
        for (n, model) in ["flux-2-pro", "flux-2-max", "flux-kontext-max"].enumerated() {
            var record = record(30 + n, .done, model: model, prompt: "a heron in the reeds", cost: "4")
            record.groupID = "bbbb2222"
            _ = reduce(&groups, .jobUpdated(record))
        }
        groups.focus = .jobs
        groups.jobsList.selected = 1
        _ = reduce(&groups, .key(Key(.right)))

        // New work out of sight: the Jobs list scrolled to its end (newer rows above, said in
        // its title), and the Outputs filtered when an image the filter does not match arrives.
        var newWork = base()
        for n in 0..<14 {
            _ = reduce(&newWork, .jobUpdated(record(n, .done, prompt: n % 2 == 0 ? "a red fox, plate \(n)" : "a marsh at dawn, plate \(n)", cost: "3")))
        }
        newWork.focus = .outputs
        _ = reduce(&newWork, .key(.char("/")))
        for character in "fox" { _ = reduce(&newWork, .key(.char(character))) }
        _ = reduce(&newWork, .key(Key(.enter)))
        _ = reduce(&newWork, .outputsLoaded([], filter: "fox", exhausted: true))
        _ = reduce(&newWork, .clock(start.addingTimeInterval(200)))
        _ = reduce(&newWork, .jobUpdated(record(150, .done, prompt: "a heron in the reeds", cost: "3")))
        newWork.focus = .jobs
        _ = reduce(&newWork, .key(Key(.end)))

        return [("empty", base()), ("composing", composing), ("groups", groups), ("running", running), ("errors", errors), ("filtered", filtered),
                ("help", help), ("viewer", viewer), ("gallery", gallery), ("compare", compare), ("spend", spend), ("newwork", newWork), ("mask", mask), ("extend", extend)]
    }

    static func spendOverview() -> SpendOverview {
        var overview = SpendOverview()
        let models = ["flux-2-pro", "flux-kontext-max", "flux-2-klein-4b"]
        overview.days = (0..<30).map { n in
            let day = String(format: "2026-%02d-%02d", n < 13 ? 10 : 11, n < 13 ? 20 + n - 1 : n - 12)
            var byModel: [String: Credits] = [:]
            if !(14...20).contains(n) {
                byModel[models[0]] = Credits(Decimal(3 * (n % 5 + 1)))
                if n % 3 == 0 { byModel[models[1]] = Credits(Decimal(8)) }
                if n % 4 == 1 { byModel[models[2]] = Credits(Decimal(string: "1.5") ?? 1) }
            }
            return SpendOverview.Day(day, byModel)
        }
        func row(_ name: String, _ jobs: Int, _ estimated: String, _ charged: String) -> SpendRow {
            var row = SpendRow(bucket: name)
            row.jobs = jobs
            row.images = jobs - 2
            row.estimated = Credits(Decimal(string: estimated) ?? 0)
            row.charged = Credits(Decimal(string: charged) ?? 0)
            return row
        }
        overview.today = row("today", 4, "12", "12")
        overview.week = row("7 days", 30, "96", "94.5")
        overview.month = row("30 days", 140, "450", "462.5")
        overview.month.moderated = 1
        overview.month.moderatedCharged = Credits(3)
        overview.topModels = [.init("flux-2-pro", Credits(276), 92), .init("flux-kontext-max", Credits(160), 20), .init("flux-2-klein-4b", Credits(Decimal(string: "26.5") ?? 0), 28)]
        overview.topPrompts = [.init("a lighthouse at dusk, long exposure", Credits(120), 40), .init("portrait of a heron", Credits(64), 8),
                               .init("product shot: ceramic mug", Credits(30), 10)]
        return overview
    }

    /// The goldens' own theme: every role its own colour (#0000NN, NN its place in `Role`), so
    /// a style run names the role that drew it, and the shipped themes can change without
    /// touching the goldens.
    static let testTheme: Theme = {
        let styles = Role.allCases.enumerated().map { index, role in
            "\"\(role.rawValue)\" = \"#0000\(String(format: "%02x", index + 1))\""
        }
        let text = "name = \"golden\"\nvariant = \"dark\"\n[styles]\n" + styles.joined(separator: "\n") + "\n"
        return try! ThemeLoader().load(text)
    }()

    /// A monochrome test theme: modifiers only, one per kind of thing, no colour anywhere.
    static let testMono: Theme = try! ThemeLoader().load("""
        name = "golden-mono"
        variant = "dark"
        monochrome = true
        [styles]
        "pane.border.focused" = { modifiers = ["bold"] }
        "pane.title.focused" = { modifiers = ["bold", "underline"] }
        "status.bar" = { modifiers = ["reverse"] }
        "list.selected" = { modifiers = ["reverse"] }
        "job.status.failed" = { modifiers = ["bold", "underline"] }
        "cost.over-budget" = { modifiers = ["bold", "reverse"] }
        "message.error" = { modifiers = ["bold"] }
        """)

    /// Runs of cells that share a style other than plain, row by row.
    static func styleRuns(_ buffer: Buffer) -> [String] {
        var runs: [String] = []
        let area = buffer.area
        for y in area.y..<area.bottom {
            var x = area.x
            while x < area.right {
                let style = buffer[x, y].style
                var end = x
                while end + 1 < area.right, buffer[end + 1, y].style == style { end += 1 }
                if style != .plain { runs.append("\(y): \(x)-\(end) \(describe(style))") }
                x = end + 1
            }
        }
        return runs
    }

    static func describe(_ style: CellStyle) -> String {
        func color(_ color: Color) -> String {
            switch color {
            case .default: "default"
            case .ansi(let n): ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"][Int(n % 8)] + (n >= 8 ? "+" : "")
            case .indexed(let n): "#\(n)"
            case .rgb(0, 0, let n) where n >= 1 && Int(n) <= Role.allCases.count: Role.allCases[Int(n) - 1].rawValue
            case .rgb(let r, let g, let b): String(format: "#%02x%02x%02x", r, g, b)
            }
        }
        var parts: [String] = []
        if style.fg != .default { parts.append("fg=" + color(style.fg)) }
        if style.bg != .default { parts.append("bg=" + color(style.bg)) }
        let names: [(Modifiers, String)] = [(.bold, "bold"), (.dim, "dim"), (.italic, "italic"), (.underline, "underline"),
                                            (.reverse, "reverse"), (.strikethrough, "strike")]
        parts += names.filter { style.modifiers.contains($0.0) }.map(\.1)
        return parts.joined(separator: " ")
    }

    static var snapshotDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")
    }

    @Test("without colours (the mono theme) focus, selection and errors still show, by modifiers alone")
    func mono() throws {
        let theme = Self.testMono
        let update = Self.recording
        let chosen = Self.scenarios().filter { ["running", "errors", "filtered"].contains($0.0) }
        #expect(chosen.count == 3, "a scenario was renamed: \(chosen.map(\.0))")
        for (name, scenario) in chosen {
            var state = scenario
            _ = reduce(&state, .resize(width: 80, height: 24))
            let (buffer, _) = render(state, theme: theme, area: Rect(width: 80, height: 24))
            #expect(buffer.cells.allSatisfy { $0.style.fg == .default && $0.style.bg == .default })
            let grid = buffer.lines.map { $0.replacingOccurrences(of: " +$", with: "", options: .regularExpression) }.joined(separator: "\n")
            let text = grid + "\n\nstyles (row: columns style)\n" + Self.styleRuns(buffer).joined(separator: "\n") + "\n"
            let file = Self.snapshotDirectory.appendingPathComponent("\(name)-mono-80x24.txt")
            if update {
                try Data(text.utf8).write(to: file)
                continue
            }
            #expect(text == (try String(contentsOf: file, encoding: .utf8)), "\(name) in mono differs from \(file.lastPathComponent):\n\(text)")
        }
    }

    @Test("mono draws no colour at all: a preview becomes shades, every role loses its colour; default shows the picture in colour")
    func monoPreview() throws {
        var state = Self.base()
        let path = "/tmp/fluxdeck-mono/picture.jpg"
        var record = Self.record(1, .done, prompt: "a gradient")
        record.outputPath = path
        _ = reduce(&state, .jobsLoaded([record]))
        _ = reduce(&state, .resize(width: 120, height: 40))
        // A left-to-right gradient from black to white, 16×8.
        let pixels = (0..<8).flatMap { _ in (0..<16).flatMap { x in Array(repeating: UInt8(x * 17), count: 3) } }
        _ = reduce(&state, .previewLoaded(path: path, Picture(width: 16, height: 8, pixels: pixels)))
        state.focus = .outputs
        #expect(state.selectedOutput?.outputPath == path)
        let mono = try ThemeLoader().load(try #require(ThemeLoader.shippedTheme(named: "mono")))
        #expect(mono.monochrome)
        for shown in [state, { var s = state; s.details = record.id; return s }()] {
            let buffer = render(shown, theme: mono, area: Rect(width: 120, height: 40)).buffer
            #expect(buffer.cells.allSatisfy { $0.style.fg == .default && $0.style.bg == .default })
            let text = buffer.lines.joined()
            #expect(text.contains("█") && text.contains("▒"), "the preview is drawn in shades")
        }
        let colour = render(state, theme: try ThemeLoader().load(try #require(ThemeLoader.shippedTheme(named: "default"))),
                            area: Rect(width: 120, height: 40)).buffer
        #expect(colour.cells.contains { if case .rgb = $0.style.fg { "▀▄▌▐█▘▝▖▗▚▞▛▜▙▟".contains($0.symbol) } else { false } })
        // NO_COLOR: any theme reduced to no colours is monochrome too.
        #expect(try ThemeLoader().load(try #require(ThemeLoader.shippedTheme(named: "frost"))).reduced(to: .none).monochrome)
    }

    /// Every place the keys can be: each pane, each row of the form (for models with every
    /// kind of row), each field, and each view opened over the panes.
    static func hintPlaces() -> [(String, AppState)] {
        var base = Self.base()
        let done = record(1, .done, prompt: "a red fox")
        _ = reduce(&base, .jobsLoaded([done, record(2, .running, prompt: "a grey wolf")]))
        var places: [(String, AppState)] = []
        for focus in Focus.allCases {
            var state = base
            state.focus = focus
            places.append(("pane \(focus)", state))
        }
        for model in ["flux-2-flex", "flux-pro-1.1-ultra", "flux-pro-1.0-fill"] {
            var state = base
            state.modelIndex = Catalog.all.firstIndex { $0.id == model } ?? 0
            state.focus = .model
            for (index, row) in state.formRows.enumerated() {
                var place = state
                place.formIndex = index
                places.append(("\(model) row \(row)", place))
                if row == .region {
                    place.region = .global
                    places.append(("\(model) row region, on an endpoint with regions", place))
                }
                if row == .seed {
                    place.settings.seedSweep = true
                    place.settings.seed = 7
                    places.append(("\(model) row seed, sweeping", place))
                }
            }
        }
        let fields: [(String, FieldEdit.Target)] = [("seed", .row(.seed)), ("reference", .row(.reference(0))),
                                                    ("filter", .filter), ("tags", .tags(jobID: done.id))]
        for (name, target) in fields {
            var state = base
            state.focus = target == .filter || target == .tags(jobID: done.id) ? .outputs : .model
            state.fieldEdit = FieldEdit(target: target, editor: TextEditor())
            places.append(("field \(name)", state))
        }
        var views: [(String, (inout AppState) -> Void)] = [
            ("picker", { $0.focus = .model; $0.picker = 0 }),
            ("gallery", { $0.gallery = true }),
            ("viewer", { $0.viewer = done.id }),
            ("compare", { $0.comparing = true }),
            ("spend", { $0.spendOpen = true }),
            ("text", { $0.textOverlay = TextOverlay(title: "Requests", lines: ["one"]) }),
            ("details", { $0.details = done.id }),
            ("help", { $0.showHelp = true }),
        ]
        views.append(("confirm", { $0.confirming = .quit }))
        for (name, open) in views {
            var state = base
            open(&state)
            places.append(("view \(name)", state))
        }
        return places
    }

    @Test("the hint line under every mode and every row of the form, at 80 and 120 columns, matches hints.txt")
    func hintLines() throws {
        var text = ""
        for (name, place) in Self.hintPlaces() {
            for (width, height) in [(80, 24), (120, 40)] {
                var state = place
                _ = reduce(&state, .resize(width: width, height: height))
                let buffer = render(state, theme: Self.testTheme, area: Rect(width: width, height: height)).buffer
                let line = (buffer.lines.last ?? "").replacingOccurrences(of: " +$", with: "", options: .regularExpression)
                text += "\(name) · mode \(state.mode.keyContext.rawValue) · \(width)\n\(line)\n"
            }
        }
        let file = Self.snapshotDirectory.appendingPathComponent("hints.txt")
        if Self.recording {
            try Data(text.utf8).write(to: file)
            return
        }
        #expect(text == (try String(contentsOf: file, encoding: .utf8)), "the hints differ from hints.txt:\n\(text)")
    }

    @Test("every scenario at 80×24 and 120×40 matches its golden file", arguments: [(80, 24), (120, 40)])
    func golden(size: (Int, Int)) throws {
        let theme = Self.testTheme
        let update = Self.recording
        for (name, scenario) in Self.scenarios() {
            var state = scenario
            _ = reduce(&state, .resize(width: size.0, height: size.1))
            let (buffer, _) = render(state, theme: theme, area: Rect(width: size.0, height: size.1))
            let grid = buffer.lines.map { $0.replacingOccurrences(of: " +$", with: "", options: .regularExpression) }.joined(separator: "\n")
            let text = grid + "\n\nstyles (row: columns style)\n" + Self.styleRuns(buffer).joined(separator: "\n") + "\n"
            let file = Self.snapshotDirectory.appendingPathComponent("\(name)-\(size.0)x\(size.1).txt")
            if update {
                try FileManager.default.createDirectory(at: Self.snapshotDirectory, withIntermediateDirectories: true)
                try Data(text.utf8).write(to: file)
                continue
            }
            let golden = try String(contentsOf: file, encoding: .utf8)
            #expect(text == golden, "\(name) at \(size.0)×\(size.1) differs from \(file.lastPathComponent):\n\(text)")
        }
    }
}
