import Foundation
import Testing

/// The coherence fixes through the real binary in tmux: a snapped size shown in the form and
/// priced as sent, the charge equal to the estimate, and a click on the viewer changing nothing
/// beneath it.
@Suite("Studio in tmux: one size rule, one mode", .timeLimit(.minutes(2)))
struct CoherenceTmuxTests {
    @Test("1025x1024 shows its snap and costs 3 credits, which is what is charged; a click on the viewer leaves the panes alone",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")))
    func snapAndViewerClick() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-coherence-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = ["HOME": directory.path, "XDG_DATA_HOME": directory.appendingPathComponent("data").path,
                           "XDG_CONFIG_HOME": directory.appendingPathComponent("config").path,
                           "XDG_STATE_HOME": directory.appendingPathComponent("state").path,
                           "XDG_CACHE_HOME": directory.appendingPathComponent("cache").path]
        let rig = try await StudioRig.start(["--simulator", "--sim-time-scale", "0.05", "--graphics", "blocks",
                                             "--output-dir", directory.appendingPathComponent("out").path],
                                            in: directory, environment: environment)
        defer { rig.stop() }
        #expect(await rig.frame(containing: "frame 120x40") != nil)
        try await rig.literal("a pier at dawn")
        // The size row: type 1025x1024.
        try await rig.keys("Tab", "Down", "Down", "e")
        #expect(try await rig.screen(showing: "Enter done"))
        try await rig.keys("C-u")
        try await rig.literal("1025x1024")
        #expect(try await rig.screen(showing: "1025x1024"))
        try await rig.keys("Enter")
        let form = try await rig.screenAfter(showing: "1025x1024 → 1024x1024")
        #expect(form.contains("1025x1024 → 1024x1024"), "\(form)")
        #expect(form.contains("estimate  3 credits ($0.03)"), "\(form)")
        #expect(form.contains("FLUX.2 sides are multiples of 16"), "\(form)")
        // Enter on the size row submits; the job is saved and charged what was estimated.
        try await rig.keys("Enter")
        #expect(await rig.frame(containing: "done=1") != nil)
        let charged = try await rig.screenAfter(showing: "charged   3 session · 3 today")
        #expect(charged.contains("charged   3 session · 3 today"), "\(charged)")
        // The viewer over Outputs: a click where the Jobs list is leaves the focus on Outputs.
        try await rig.keys("Tab", "Tab")
        #expect(await rig.frame(containing: "focus=outputs") != nil)
        try await rig.keys("v")
        #expect(try await rig.screen(showing: "Esc back"))
        try await rig.literal("\u{1B}[<0;60;12M\u{1B}[<0;60;12m")
        try await rig.keys("Escape")
        let after = try await rig.screenAfter(showing: "/ filter")
        #expect(after.contains("v view"), "the focus left Outputs: \(after)")
        // Deleting the paid image moves it, and its sidecar, to the freedesktop Trash.
        try await rig.keys("d")
        let asked = try await rig.screenAfter(showing: "to the Trash?")
        #expect(asked.contains("and its sidecar to the Trash? (y/n)"), "\(asked)")
        try await rig.keys("y")
        let moved = try await rig.screenAfter(showing: "moved to the Trash")
        #expect(moved.contains("moved to the Trash"), "\(moved)")
        let trash = directory.appendingPathComponent("data/Trash")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: trash.appendingPathComponent("files").path)) ?? []
        let infos = (try? FileManager.default.contentsOfDirectory(atPath: trash.appendingPathComponent("info").path)) ?? []
        #expect(files.contains { $0.hasSuffix(".jpg") } && files.contains { $0.hasSuffix(".json") }, "\(files)")
        #expect(infos.count == 2 && infos.allSatisfy { $0.hasSuffix(".trashinfo") }, "\(infos)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("out").path)) ?? []
        #expect(!left.contains { $0.hasSuffix(".jpg") }, "\(left)")
        try await rig.keys("C-q")
        #expect(try await rig.exited().contains("exit=0"))
    }

    @Test("the form comes back as it was: a size and a count changed, the studio quit and started again",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")))
    func settingsKept() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let arguments = ["--simulator", "--graphics", "blocks", "--output-dir", sandbox.output.path]
        do {
            let rig = try await StudioRig.start(arguments, in: sandbox.root, environment: sandbox.environment)
            defer { rig.stop() }
            #expect(await rig.frame(containing: "frame 120x40", "count=1 ") != nil)
            // The size row (model, region, size): the next preset; the images row: two more.
            try await rig.keys("Tab", "Down", "Down", "Right")
            #expect(try await rig.screen(showing: "size     ◂ 1024x768 ▸"))
            try await rig.keys("Down", "+", "+")
            #expect(await rig.frame(containing: "count=3 ") != nil)
            try await rig.keys("C-q")
            #expect(try await rig.exited().contains("exit=0"))
        }
        let remembered = try String(contentsOfFile: sandbox.root.appendingPathComponent("state/fluxdeck/form.json").path, encoding: .utf8)
        #expect(remembered.contains("\"size\" : \"1024x768\"") && remembered.contains("\"count\" : 3"), "\(remembered)")
        let again = try await StudioRig.start(arguments, in: sandbox.root, environment: sandbox.environment)
        defer { again.stop() }
        #expect(await again.frame(containing: "frame 120x40", "count=3 ") != nil)
        #expect(try await again.screen(showing: "size     1024x768"))
    }

    @Test("a reference typed as ~/ph and completed with Tab is the photo in the home folder, read and sized",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")))
    func homeAndTab() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let made = try await BinaryRunner.run([
            "generate", "--simulator", "--sim-time-scale", "0.02", "--model", "flux-2-klein-4b", "--prompt", "a photo",
            "--width", "256", "--height", "192", "--format", "png", "--output-dir", sandbox.output.path,
        ], environment: sandbox.environment)
        #expect(made.status == 0, "\(made.stderr)")
        let file = try #require(sandbox.files().first { $0.hasSuffix(".png") })
        // HOME is the sandbox: ~/photo.png is there.
        try FileManager.default.copyItem(at: sandbox.output.appendingPathComponent(file), to: sandbox.root.appendingPathComponent("photo.png"))
        let rig = try await StudioRig.start(["--simulator", "--graphics", "blocks", "--output-dir", sandbox.output.path],
                                            in: sandbox.root, environment: sandbox.environment)
        defer { rig.stop() }
        #expect(await rig.frame(containing: "frame 120x40") != nil)
        // The model pane's ref 1 row (model, region, size, images, seed, format, safety, upsample, ref 1).
        try await rig.keys("Tab")
        #expect(await rig.frame(containing: "focus=model") != nil)
        for _ in 0..<8 { try await rig.keys("Down") }
        try await rig.keys("e")
        try await rig.literal("~/ph")
        #expect(try await rig.screen(showing: "~/ph"))
        try await rig.keys("Tab")
        #expect(try await rig.screen(showing: "~/photo.png"))
        try await rig.keys("Enter")
        let read = try await rig.screenAfter(showing: "reference 1: photo.png, 256×192")
        #expect(read.contains("reference 1: photo.png, 256×192"), "\(read)")
    }
}
