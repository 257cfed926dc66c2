import BFL
import BFLSimulator
import Foundation
import Imaging
import Testing
import TestSupport

@Suite("Simulator lifecycle, durations and sizes", .timeLimit(.minutes(1)))
struct LifecycleTests {
    @Test("service times follow the contract's medians ±20 %, scaled by the time factor")
    func durations() async throws {
        try await SimulatorTests.withRig({ $0.timeFactor = 0.5 }) { rig in
            let klein = try #require(try await rig.submit("flux-2-klein-4b").pollingURL)  // 1.2 s × 0.5 → 0.48–0.72 s
            let pro = try #require(try await rig.submit("flux-2-pro").pollingURL)  // 10 s × 0.5 → 4–6 s
            rig.clock.advance(by: .milliseconds(470))
            #expect(try await rig.client.poll(klein).status != .ready)
            rig.clock.advance(by: .milliseconds(260))
            #expect(try await rig.client.poll(klein).status == .ready)
            rig.clock.advance(by: .milliseconds(3200))  // 3.93 s
            #expect(try await rig.client.poll(pro).status == .generating)
            rig.clock.advance(by: .milliseconds(2100))  // 6.03 s
            #expect(try await rig.client.poll(pro).status == .ready)
        }
    }

    @Test("the Reasoning knob shows Reasoning before Generating")
    func reasoning() async throws {
        try await SimulatorTests.withRig({ $0.reasoningPhase = true }) { rig in
            let url = try #require(try await rig.submit("flux-2-max").pollingURL)  // 24–36 s
            var seen: [TaskStatus] = []
            for _ in 0..<40 {
                let status = try await rig.client.poll(url).status
                if seen.last != status { seen.append(status) }
                rig.clock.advance(by: .seconds(1))
            }
            #expect(seen == [.pending, .reasoning, .generating, .ready])
        }
    }

    @Test("finished tasks are forgotten after the retention time")
    func retention() async throws {
        try await SimulatorTests.withRig({ $0.retention = .seconds(100) }) { rig in
            let url = try #require(try await rig.submit("flux-2-klein-4b").pollingURL)
            rig.clock.advance(by: .seconds(50))
            #expect(try await rig.client.poll(url).status == .ready)
            rig.clock.advance(by: .seconds(60))
            #expect(try await rig.client.poll(url).status == .taskNotFound)
        }
    }

    @Test("FLUX.1 submits carry no cost; the settled cost comes with the final poll; a missing seed is picked")
    func flux1Cost() async throws {
        try await SimulatorTests.withRig { rig in
            let submitted = try await rig.submit("flux-pro-1.1")
            #expect(submitted.cost == nil)
            #expect(submitted.outputMP == nil)
            rig.clock.advance(by: .seconds(10))
            let done = try await rig.client.poll(try #require(submitted.pollingURL))
            #expect(done.cost == "4")
            #expect(done.result?.seed != nil)
        }
    }

    @Test("default sizes: Kontext about 1 MP, Ultra about 4 MP at its ratio, Fill the image's size")
    func sizes() async throws {
        try await SimulatorTests.withRig { rig in
            func size(_ model: String, _ edit: (inout GenerationParameters) -> Void) async throws -> (Int, Int)? {
                let submitted = try await rig.submit(model, edit)
                rig.clock.advance(by: .seconds(20))
                let done = try await rig.client.poll(try #require(submitted.pollingURL))
                #expect(done.status == .ready, "\(model)")
                let file = rig.directory.appendingPathComponent(UUID().uuidString)
                _ = try await rig.client.download(try #require(done.result?.sample), to: file)
                return ImageHeader.size(of: Array(try Data(contentsOf: file)))
            }
            #expect(try await size("flux-kontext-pro") { _ in }! == (1024, 1024))
            #expect(try await size("flux-kontext-max") { $0.aspectRatio = "16:9" }! == (1344, 768))
            #expect(try await size("flux-pro-1.1-ultra") { $0.aspectRatio = "21:9" }! == (3104, 1312))
            let png = try ImageCodec.encodePNG(RGBImage(width: 96, height: 64, pixels: Array(repeating: 128, count: 96 * 64 * 3)))
            let encoded = Data(png).base64EncodedString()
            #expect(try await size("flux-pro-1.0-fill") {
                $0.image = ImageReference(value: encoded)
                $0.mask = ImageReference(value: encoded)
            }! == (96, 64))
        }
    }

    @Test("Fill keeps the image's pixels where the mask is black and paints where it is white; a mask of another size is a 422")
    func fillHonoursTheMask() async throws {
        try await SimulatorTests.withRig { rig in
            // A mid-grey 96×64 image; the mask repaints the rectangle 16,8 of 32×24.
            let grey = RGBImage(width: 96, height: 64, pixels: Array(repeating: 77, count: 96 * 64 * 3))
            let hole = PixelRect(x: 16, y: 8, width: 32, height: 24)
            let mask = FillMasks.mask(width: 96, height: 64, rects: [hole])
            let submitted = try await rig.submit("flux-pro-1.0-fill") {
                $0.image = ImageReference(value: Data(try! ImageCodec.encodePNG(grey)).base64EncodedString())
                $0.mask = ImageReference(value: Data(try! ImageCodec.encodePNG(mask)).base64EncodedString())
                $0.outputFormat = .png
                $0.prompt = "a lantern"
            }
            rig.clock.advance(by: .seconds(20))
            let done = try await rig.client.poll(try #require(submitted.pollingURL))
            let file = rig.directory.appendingPathComponent(UUID().uuidString)
            _ = try await rig.client.download(try #require(done.result?.sample), to: file)
            let result = try ImageCodec.decode(Array(try Data(contentsOf: file)))
            #expect(result.width == 96 && result.height == 64)
            var changedInside = 0
            for y in 0..<64 {
                for x in 0..<96 {
                    let inside = hole.x..<(hole.x + hole.width) ~= x && hole.y..<(hole.y + hole.height) ~= y
                    if inside {
                        if result.pixel(x: x, y: y) != (77, 77, 77) { changedInside += 1 }
                    } else {
                        #expect(result.pixel(x: x, y: y) == (77, 77, 77), "(\(x), \(y)) outside the mask changed")
                    }
                }
            }
            #expect(changedInside > hole.width * hole.height / 2, "the masked area was not painted (\(changedInside) pixels changed)")
            // A mask of another size than the image: refused before anything is charged.
            let small = FillMasks.mask(width: 48, height: 32, rects: [hole])
            await #expect(throws: BFLError.self) {
                _ = try await rig.submit("flux-pro-1.0-fill") {
                    $0.image = ImageReference(value: Data(try! ImageCodec.encodePNG(grey)).base64EncodedString())
                    $0.mask = ImageReference(value: Data(try! ImageCodec.encodePNG(small)).base64EncodedString())
                }
            }
        }
    }
}
