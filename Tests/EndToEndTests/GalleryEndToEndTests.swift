import Foundation
import Jobs
import Testing

@Suite("The studio's pictures, through tmux", .timeLimit(.minutes(2)))
struct GalleryEndToEndTests {
    @Test("Outputs → viewer → gallery → compare and back, pictures as kitty placeholders", .enabled(if: MoneyTests.hasTmux))
    func tour() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let made = try await BinaryRunner.run([
            "generate", "--simulator", "--sim-time-scale", "0.02", "--model", "flux-2-pro", "--prompt", "a lantern on a pier",
            "--count", "3", "--width", "256", "--height", "256", "--output-dir", sandbox.output.path,
        ], environment: sandbox.environment)
        #expect(made.status == 0, "\(made.stderr)")
        let studio = try await StudioRig.start(["--simulator", "--graphics", "kitty", "--output-dir", sandbox.output.path],
                                               in: sandbox.root, environment: sandbox.environment)
        defer { studio.stop() }
        #expect(await studio.frame(containing: "frame 120x40 jobs=3 ") != nil)
        // Outputs, and Enter: the viewer, its position and settings beside the picture.
        try await studio.keys("Tab", "Tab", "Tab")
        // In the pane before Enter is pressed: keys and a line end in one read are a paste.
        #expect(await studio.frame(containing: "focus=outputs") != nil)
        try await studio.keys("Enter")
        let opened = try await studio.screen(showing: "· 1/3")
        let shownAfterEnter = try await studio.screen()
        #expect(opened, "\(shownAfterEnter)")
        let viewer = try await studio.screen()
        #expect(viewer.contains("seed") && viewer.contains("a lantern on a pier"))
        // The picture is kitty placeholder cells (U+10EEEE), which tmux keeps like text.
        #expect(viewer.unicodeScalars.filter { $0.value == 0x10EEEE }.count > 100)
        try await studio.keys("Right")
        #expect(try await studio.screen(showing: "· 2/3"))
        try await studio.keys("Escape")
        #expect(try await studio.screen(showing: "Outputs · 3"))
        // The gallery: three cells with captions; Enter views, Esc comes back to it.
        try await studio.keys("g")
        #expect(try await studio.screen(showing: "Gallery · 1–3 of 3"))
        #expect(try await studio.screen().components(separatedBy: "2-pro #").count - 1 == 3)
        try await studio.keys("Enter")
        #expect(try await studio.screen(showing: "/3 ─"))
        try await studio.keys("Escape")
        #expect(try await studio.screen(showing: "Gallery · 1–3 of 3"))
        try await studio.keys("Escape")
        #expect(try await studio.screen(showing: "Outputs · 3"))
        // Two marked, compared side by side, and back.
        try await studio.keys("Space", "Down", "Space", "c")
        #expect(try await studio.screen(showing: "Compare · 2 images"))
        try await studio.keys("Escape")
        #expect(try await studio.screen(showing: "Outputs · 3"))
        try await studio.keys("q")
        let end = try await studio.exited()
        #expect(end.contains("exit=0"), "\(end)")
    }
}

@Suite("The studio's explorations, through tmux", .timeLimit(.minutes(2)))
struct ExploreEndToEndTests {
    @Test("a 2 × 3 prompt matrix across two models: 12 jobs, one group, one seed, all finished", .enabled(if: MoneyTests.hasTmux))
    func matrixAcrossModels() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let studio = try await StudioRig.start(["--simulator", "--sim-time-scale", "0.02", "--output-dir", sandbox.output.path],
                                               in: sandbox.root, environment: sandbox.environment)
        defer { studio.stop() }
        #expect(await studio.frame(containing: "frame 120x40 jobs=0 ") != nil)
        try await studio.literal("a {red|blue} {fox|owl|heron}")
        #expect(try await studio.screen(showing: "6 prompts × 1 = 6 requests"))
        // The model list: mark FLUX.2 [pro] (the current one) and FLUX.2 [max] below it.
        try await studio.keys("Tab")
        #expect(await studio.frame(containing: "focus=model") != nil)
        try await studio.keys("e")
        #expect(try await studio.screen(showing: "Space marks models to compare"))
        try await studio.keys("Space", "Down", "Space")
        #expect(try await studio.screen(showing: "2 marked: a submission goes to each"))
        try await studio.keys("Escape")
        #expect(try await studio.screen(showing: "models    2-pro · 2-max = 60 credits"))
        try await studio.keys("BTab")
        #expect(await studio.frame(containing: "focus=prompt") != nil)
        try await studio.keys("Enter")
        #expect(await studio.frame(containing: " done=12 ") != nil)
        #expect(try await studio.screen(showing: "12 jobs · 2 models · 12 done"))
        let jobs = try sandbox.store().jobs()
        #expect(jobs.count == 12 && jobs.allSatisfy { $0.phase == .done })
        #expect(Set(jobs.map(\.groupID)).count == 1 && jobs.first?.groupID != nil)
        #expect(Dictionary(grouping: jobs, by: \.model).mapValues(\.count) == ["flux-2-pro": 6, "flux-2-max": 6])
        #expect(Set(jobs.map(\.seed)).count == 1 && jobs.first?.seed != nil)
        #expect(Set(jobs.map(\.prompt)) == ["a red fox", "a red owl", "a red heron", "a blue fox", "a blue owl", "a blue heron"])
        try await studio.keys("C-q")  // in the prompt, q is text
        #expect(try await studio.exited().contains("exit=0"))
    }

    @Test("max_decode_megapixels in config.toml reaches the previews: a 1.4 MP image is refused at 1 MP, shown at 2", .enabled(if: MoneyTests.hasTmux),
          arguments: [1, 2])
    func decodeLimit(_ megapixels: Int) async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let made = try await BinaryRunner.run([
            "generate", "--simulator", "--sim-time-scale", "0.02", "--model", "flux-2-pro", "--prompt", "a wide harbour",
            "--width", "1184", "--height", "1184", "--output-dir", sandbox.output.path,
        ], environment: sandbox.environment)
        #expect(made.status == 0, "\(made.stderr)")
        let config = sandbox.root.appendingPathComponent("config.toml")
        try Data("max_decode_megapixels = \(megapixels)\n".utf8).write(to: config)
        let studio = try await StudioRig.start(["--simulator", "--graphics", "blocks", "--output-dir", sandbox.output.path, "--config", config.path],
                                               in: sandbox.root, environment: sandbox.environment)
        defer { studio.stop() }
        #expect(await studio.frame(containing: "frame 120x40 jobs=1 ") != nil)
        try await studio.keys("Tab", "Tab", "Tab")
        #expect(await studio.frame(containing: "focus=outputs") != nil)
        try await studio.keys("Enter")
        #expect(try await studio.screen(showing: "· 1/1"))
        // The refusal, read across the lines it wraps over.
        let refused = "over the 1 MP limit"
        var words = ""
        let deadline = ContinuousClock.now + .seconds(30)
        repeat {
            words = try await studio.screen().split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "│" }).joined(separator: " ")
            if words.contains(refused) || megapixels > 1 { break }
        } while await studio.lines.next(before: deadline) != nil
        if megapixels == 1 {
            #expect(words.contains(refused), "\(words)")
        } else {
            // Shown: the picture's blocks, no refusal.
            let screen = try await studio.screenAfter(showing: "▀")
            #expect(screen.contains("▀") && !words.contains("MP limit"), "\(screen)")
        }
    }
}

