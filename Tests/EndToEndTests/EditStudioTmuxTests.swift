import BFL
import Foundation
import Imaging
import Jobs
import Testing

/// The editing loop in the real studio, in tmux: Outputs → viewer → mask mode → a rectangle by
/// keys and one by the mouse → the prompt → Fill sent; the child is done, its mask saved, and
/// the viewer steps from the parent to it and shows where it came from; the family filter shows
/// both; extend mode grows the child's canvas.
@Suite("The studio in tmux: repainting a region", .timeLimit(.minutes(3)))
struct EditStudioTmuxTests {
    /// A mouse event as a terminal sends it in X10 encoding: button 0 pressed, or released (3).
    static func mouse(_ x: Int, _ y: Int, released: Bool) -> String {
        "\u{1B}[M" + String(UnicodeScalar(UInt8(released ? 35 : 32))) + String(UnicodeScalar(UInt8(33 + x))) + String(UnicodeScalar(UInt8(33 + y)))
    }

    @Test("m in the viewer, a rectangle by keys and one by mouse, a prompt: the Fill child is done with its mask saved and its parent recorded; ] shows it, from its parent; f shows the family; x grows the child's canvas and Fill makes a grandchild 128 px wider",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")))
    func repaintInTheStudio() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let made = try await BinaryRunner.run([
            "generate", "--simulator", "--sim-time-scale", "0.02", "--model", "flux-2-klein-4b", "--prompt", "a quiet harbour",
            "--width", "512", "--height", "384", "--format", "png", "--output-dir", sandbox.output.path, "--json",
        ], environment: sandbox.environment)
        #expect(made.status == 0, "\(made.stderr)")
        let parent = try #require(try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: Any])
        let parentID = try #require(parent["id"] as? String)

        let rig = try await StudioRig.start(["--simulator", "--sim-time-scale", "0.05", "--output-dir", sandbox.output.path, "--graphics", "blocks"],
                                            in: sandbox.root, environment: sandbox.environment)
        defer { rig.stop() }
        #expect(await rig.frame(containing: "jobs=1") != nil)
        try await rig.keys("Tab", "Tab", "Tab")
        #expect(await rig.frame(containing: "focus=outputs") != nil)
        try await rig.keys("Enter")
        #expect(await rig.frame(containing: "mode=viewer") != nil)
        // m once the picture is on screen (until then it says the picture is still loading).
        var inMask = false
        for _ in 0..<20 where !inMask {
            try await rig.keys("m")
            // The frame after the key: mask mode, or the sentence that the picture is not shown yet.
            let deadline = ContinuousClock.now + .seconds(30)
            while let line = await rig.lines.next(before: deadline) {
                if line.contains("mode=mask") { inMask = true; break }
                if line.contains("message=mask mode needs the picture") { break }
            }
        }
        try #require(inMask, "mask mode never opened")
        // By keys: a corner, four right and two down, the other corner.
        try await rig.keys("Space", "Right", "Right", "Right", "Right", "Down", "Down", "Space")
        // By mouse: pressed at one cell of the picture, released at another (a hand's drag
        // takes a moment: the release is sent once the press is seen).
        _ = try await rig.screenAfter(showing: "1 rectangle")
        try await rig.literal(Self.mouse(8, 12, released: false))
        _ = try await rig.screenAfter(showing: "one corner set")
        try await rig.literal(Self.mouse(16, 16, released: true))
        #expect(await rig.frame(containing: "mode=mask") != nil)
        let drawn = try await rig.screenAfter(showing: "2 rectangles")
        #expect(drawn.contains("2 rectangles"), "\(drawn)")
        try await rig.keys("Enter")
        #expect(await rig.frame(containing: "mode=field") != nil)
        try await rig.literal("a red lantern")
        try await rig.keys("Enter")
        #expect(await rig.frame(containing: "jobs=2 running=0 done=2", within: 60) != nil)

        // The child: Fill, its parent recorded, its mask beside it with two white areas.
        let child = try #require(try sandbox.store().jobs().first { $0.model == "flux-pro-1.0-fill" })
        #expect(child.parents == [parentID] && child.prompt == "a red lantern")
        let image = URL(fileURLWithPath: try #require(child.outputPath))
        let mask = try ImageCodec.decode(Array(try Data(contentsOf: image.deletingPathExtension().appendingPathExtension("mask.png"))))
        #expect(mask.width == 512 && mask.height == 384)
        let white = stride(from: 0, to: mask.pixels.count, by: 3).filter { mask.pixels[$0] == 255 }.count
        #expect(white > 0 && white < 512 * 384 / 2, "\(white) white pixels")
        // ] steps to it; its viewer says where it came from.
        try await rig.keys("]")
        let shown = try await rig.screenAfter(showing: "a red lantern")
        #expect(shown.contains("from     [ \(parentID.prefix(8)) · a quiet harbour"), "\(shown)")

        // f: the family, oldest first: the parent, then the child (the viewer on it, 2 of 2).
        try await rig.keys("f")
        let familyShown = try await rig.screen(showing: "the family of \(child.shortID)")
        let family = try await rig.screen()
        #expect(familyShown && family.contains(" · 2/2 "), "\(family)")

        // x: the child's canvas grown by four steps to the right, a prompt, Fill sent.
        try await rig.keys("x")
        #expect(await rig.frame(containing: "mode=extend") != nil)
        let sized = try await rig.screen(showing: "size     512×384")
        let atSize = try await rig.screen()
        #expect(sized, "\(atSize)")
        try await rig.keys("Right", "Right", "Right", "Right")
        let grown = try await rig.screenAfter(showing: "512×384 → 640×384")
        #expect(grown.contains("grows    right=128"), "\(grown)")
        try await rig.keys("Enter")
        #expect(await rig.frame(containing: "mode=field") != nil)
        try await rig.literal("more of the sea")
        try await rig.keys("Enter")
        #expect(await rig.frame(containing: "jobs=3 running=0 done=3", within: 60) != nil)
        let extended = try #require(try sandbox.store().jobs().first { $0.prompt == "more of the sea" })
        #expect(extended.model == "flux-pro-1.0-fill" && extended.parents == [child.id])
        #expect(try LocalImages.size(of: try #require(extended.outputPath)) == PixelSize(width: 640, height: 384))
        try await rig.keys("Escape", "C-q")
    }
}
