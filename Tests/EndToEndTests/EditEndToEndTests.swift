import Foundation
import Imaging
import Jobs
import Testing

/// Editing what was made, through the binary on the built-in simulator: a rectangle repainted,
/// a canvas extended, and the family each child records.
@Suite("fluxdeck binary: Fill from rectangles and extensions, and the parents they record", .timeLimit(.minutes(3)))
struct EditEndToEndTests {
    /// Runs `generate` on the simulator and returns the one job's JSON object.
    static func generate(_ arguments: [String], in sandbox: Sandbox) async throws -> [String: Any] {
        let outcome = try await BinaryRunner.run(["generate", "--simulator", "--sim-time-scale", "0.02", "--format", "png",
                                                  "--output-dir", sandbox.output.path, "--json"] + arguments, environment: sandbox.environment)
        #expect(outcome.status == 0, "\(arguments): \(outcome.stderr)")
        let line = try #require(outcome.stdout.split(separator: "\n").first, "\(outcome.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    static func picture(_ job: [String: Any]) throws -> RGBImage {
        try ImageCodec.decode(Array(try Data(contentsOf: URL(fileURLWithPath: try #require(job["file"] as? String)))))
    }

    @Test("--mask-rect changes pixels only inside the rectangle, saves the mask beside the child and names the parent; --extend right=256 keeps the old part")
    func repaintAndExtend() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let parent = try await Self.generate(["--model", "flux-2-klein-4b", "--prompt", "a quiet harbour", "--width", "512", "--height", "384"], in: sandbox)
        let parentID = try #require(parent["id"] as? String)
        let parentFile = try #require(parent["file"] as? String)
        let before = try Self.picture(parent)

        // A rectangle repainted: everything outside it is the parent's, pixel for pixel (PNG).
        let hole = PixelRect(x: 100, y: 60, width: 64, height: 48)
        let child = try await Self.generate(["--model", "flux-pro-1.0-fill", "--image", parentFile, "--mask-rect", hole.description,
                                             "--prompt", "a red boat"], in: sandbox)
        #expect(child["parents"] as? [String] == [parentID])
        let after = try Self.picture(child)
        #expect(after.width == before.width && after.height == before.height)
        var changed = 0
        for y in 0..<after.height {
            for x in 0..<after.width {
                let inside = (hole.x..<(hole.x + hole.width)).contains(x) && (hole.y..<(hole.y + hole.height)).contains(y)
                if inside { if after.pixel(x: x, y: y) != before.pixel(x: x, y: y) { changed += 1 } }
                else if after.pixel(x: x, y: y) != before.pixel(x: x, y: y) { Issue.record("(\(x), \(y)) outside the rectangle changed"); return }
            }
        }
        #expect(changed > 0, "nothing inside the rectangle changed")
        // The mask is beside the child, named in its sidecar with the parent.
        let childFile = URL(fileURLWithPath: try #require(child["file"] as? String))
        let maskFile = childFile.deletingPathExtension().appendingPathExtension("mask.png")
        let mask = try ImageCodec.decode(Array(try Data(contentsOf: maskFile)))
        #expect(mask == FillMasks.mask(width: before.width, height: before.height, rects: [hole]))
        let sidecar = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: childFile.deletingPathExtension().appendingPathExtension("json"))) as? [String: Any])
        #expect(sidecar["parents"] as? [String] == [parentID] && sidecar["mask_file"] as? String == maskFile.lastPathComponent)

        // A canvas 256 px wider: the old part (short of the seam's overlap) is unchanged.
        let wider = try await Self.generate(["--model", "flux-pro-1.0-fill", "--image", parentFile, "--extend", "right=256",
                                             "--prompt", "more harbour"], in: sandbox)
        let grown = try Self.picture(wider)
        #expect(grown.width == before.width + 256 && grown.height == before.height)
        for y in stride(from: 0, to: before.height, by: 7) {
            for x in stride(from: 0, to: before.width - FillMasks.overlap, by: 5) where grown.pixel(x: x, y: y) != before.pixel(x: x, y: y) {
                Issue.record("(\(x), \(y)) of the old picture changed")
                return
            }
        }
        #expect(wider["parents"] as? [String] == [parentID])

        // `jobs --json` lists the parents too.
        let listed = try await BinaryRunner.run(["jobs", "--json"], environment: sandbox.environment)
        let rows = listed.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(rows.filter { ($0["parents"] as? [String]) == [parentID] }.count == 2, "\(listed.stdout)")
    }

    @Test("edit PATH --prompt makes a child of PATH with an editing model (FLUX.2 [pro] unless asked), PATH as reference 1; a model that cannot edit is refused")
    func editWithWords() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let parent = try await Self.generate(["--model", "flux-2-klein-4b", "--prompt", "a red barn", "--width", "256", "--height", "256"], in: sandbox)
        let file = try #require(parent["file"] as? String)
        let edited = try await BinaryRunner.run(["edit", file, "--prompt", "make it winter", "--simulator", "--sim-time-scale", "0.02",
                                                 "--output-dir", sandbox.output.path, "--json"], environment: sandbox.environment)
        #expect(edited.status == 0, "\(edited.stderr)")
        let child = try #require(try JSONSerialization.jsonObject(with: Data(edited.stdout.utf8)) as? [String: Any], "\(edited.stdout)")
        let parentID = try #require(parent["id"] as? String)
        let childID = try #require(child["id"] as? String)
        #expect(child["model"] as? String == "flux-2-pro" && child["parents"] as? [String] == [parentID])
        let job = try #require(try sandbox.store().job(id: childID))
        let body = try #require(try JSONSerialization.jsonObject(with: Data(job.requestJSON.utf8)) as? [String: Any])
        let sent = try Data(contentsOf: URL(fileURLWithPath: file)).base64EncodedString()
        #expect(body["input_image"] as? String == sent)
        let refused = try await BinaryRunner.run(["edit", file, "--prompt", "x", "--model", "flux-pro-1.1", "--dry-run"], environment: sandbox.environment)
        #expect(refused.status == 2 && refused.stderr.hasPrefix("fluxdeck: flux-pro-1.1 does not edit with words; editing models: flux-2-klein-4b"), "\(refused.stderr)")
    }

    @Test("a parent moved elsewhere without its sidecar is found by the job id embedded in the image; an unknown file has no parent")
    func movedParent() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let parent = try await Self.generate(["--model", "flux-2-klein-4b", "--prompt", "a lighthouse", "--width", "256", "--height", "256"], in: sandbox)
        let moved = sandbox.root.appendingPathComponent("elsewhere.png")
        try FileManager.default.moveItem(at: URL(fileURLWithPath: try #require(parent["file"] as? String)), to: moved)
        let child = try await Self.generate(["--model", "flux-pro-1.0-fill", "--image", moved.path, "--mask-rect", "0,0,32,32", "--prompt", "x"], in: sandbox)
        #expect(child["parents"] as? [String] == [try #require(parent["id"] as? String)])
        // A picture fluxdeck did not make names no parent.
        let stranger = sandbox.root.appendingPathComponent("stranger.png")
        try Data(try ImageCodec.encodePNG(RGBImage(width: 64, height: 64, pixels: Array(repeating: 90, count: 64 * 64 * 3)))).write(to: stranger)
        let orphan = try await Self.generate(["--model", "flux-pro-1.0-fill", "--image", stranger.path, "--mask-rect", "0,0,8,8", "--prompt", "x"], in: sandbox)
        #expect(orphan["parents"] as? [String] == [])
    }
}
