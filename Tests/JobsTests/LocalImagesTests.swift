import BFL
import Foundation
import Imaging
import Jobs
import Testing

@Suite("Local images: references and previews")
struct LocalImagesTests {
    /// A PNG whose left half is red and right half blue.
    func halves(width: Int, height: Int) throws -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                if x < width / 2 { pixels[i] = 255 } else { pixels[i + 2] = 255 }
            }
        }
        return try ImageCodec.encodePNG(RGBImage(width: width, height: height, pixels: pixels))
    }

    @Test("paths complete as in a shell: directories first with their slash, what several share, hidden names only after a dot, ~ kept as typed")
    func completion() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-complete-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("photos"), withIntermediateDirectories: true)
        for name in ["photo.jpg", "photo-2.png", ".hidden.png", "zebra.png", "photos/inner.jpg"] {
            try Data("x".utf8).write(to: root.appendingPathComponent(name))
        }
        let home = root.path, here = root.path
        func complete(_ text: String) -> PathCompletion { LocalImages.complete(text, home: home, directory: here) }
        #expect(complete("ph") == PathCompletion(text: "photo", matches: ["photos/", "photo-2.png", "photo.jpg"]))
        #expect(complete("photos") == PathCompletion(text: "photos/", matches: ["photos/"]))
        #expect(complete("photos/") == PathCompletion(text: "photos/inner.jpg", matches: ["inner.jpg"]))
        #expect(complete("~/z") == PathCompletion(text: "~/zebra.png", matches: ["zebra.png"]))
        #expect(complete(root.path + "/photo.") == PathCompletion(text: root.path + "/photo.jpg", matches: ["photo.jpg"]))
        #expect(complete(".") .matches == [".hidden.png"])
        #expect(!complete("").matches.contains(".hidden.png") && complete("").matches.first == "photos/")
        #expect(complete("nothing") == PathCompletion(text: "nothing", matches: []))
        #expect(complete("/no/such/folder/x") == PathCompletion(text: "/no/such/folder/x", matches: []))
        // ~ is $HOME, as in a shell (Foundation's expansion reads the account's home instead).
        #expect(LocalImages.expandingHome("~/a.png", home: "/h") == "/h/a.png" && LocalImages.expandingHome("~", home: "/h") == "/h")
        #expect(LocalImages.expandingHome("/x/~/a", home: "/h") == "/x/~/a" && LocalImages.expandingHome("a~b", home: "/h") == "a~b")
    }

    @Test("a thumbnail fits the box, keeps the aspect and averages colours")
    func thumbnail() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("wide.png")
        try Data(halves(width: 400, height: 200)).write(to: file)
        let small = try Thumbnails.of(path: file.path, box: 64)
        #expect(small.width == 64)
        #expect(small.height == 32)
        #expect(Array(small.pixels[0..<3]) == [255, 0, 0])
        let last = (small.width * small.height - 1) * 3
        #expect(Array(small.pixels[last..<last + 3]) == [0, 0, 255])
        #expect(try LocalImages.size(of: file.path) == PixelSize(width: 400, height: 200))
        let reference = try LocalImages.reference(file.path)
        #expect(reference.size == PixelSize(width: 400, height: 200))
        #expect(reference.label == "wide.png")
        #expect(Data(base64Encoded: reference.value) == (try Data(contentsOf: file)))
    }

    @Test("unreadable and foreign files are named in one sentence")
    func problems() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = directory.appendingPathComponent("notes.png")
        try Data("not an image".utf8).write(to: text)
        do {
            _ = try LocalImages.size(of: text.path)
            Issue.record("no error")
        } catch {
            #expect(error.message == "\(text.path) is not a PNG or JPEG image")
        }
        do {
            _ = try LocalImages.size(of: "/nonexistent/x.png")
            Issue.record("no error")
        } catch {
            #expect(error.message == "cannot read the image /nonexistent/x.png: no such file")
        }
        do {
            _ = try Thumbnails.of(path: text.path)
            Issue.record("no error")
        } catch {
            #expect(error.message.hasPrefix("notes.png cannot be shown"))
        }
        #expect(try LocalImages.size(of: "https://example.com/a.png") == nil)
    }

    @Test("mask mode's request: cells of the drawn grid become the image's exact pixels in a mask of its size, sent with the image to Fill")
    func repaintRequest() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-repaint-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("harbour.png")
        let bytes = try ImageCodec.encodePNG(RGBImage(width: 1000, height: 600, pixels: [UInt8](repeating: 120, count: 1000 * 600 * 3)))
        try Data(bytes).write(to: file)
        // 3×2 cells of a 10×6 grid from (2, 1): pixels 200–500 across, 100–300 down.
        let cells = GridRect(x: 2, y: 1, width: 3, height: 2, columns: 10, rows: 6)
        let request = try FillEdits.request(path: file.path, cells: [cells], inverted: false, prompt: "a red boat", region: nil)
        #expect(request.model.sizeRule == .sameAsImage && request.parameters.prompt == "a red boat")
        #expect(request.parameters.image?.value == Data(bytes).base64EncodedString())
        #expect(request.parameters.image?.path == file.standardizedFileURL.path, "the image's file is its parent's")
        let maskText = try #require(request.parameters.mask?.value)
        let mask = try ImageCodec.decode(Array(try #require(Data(base64Encoded: maskText))))
        #expect(mask == FillMasks.mask(width: 1000, height: 600, rects: [PixelRect(x: 200, y: 100, width: 300, height: 200)]))
        // Inverted: white outside the cells.
        let inverted = try FillEdits.request(path: file.path, cells: [cells], inverted: true, prompt: "x", region: nil)
        let invertedText = try #require(inverted.parameters.mask?.value)
        let invertedMask = try ImageCodec.decode(Array(try #require(Data(base64Encoded: invertedText))))
        #expect(invertedMask.pixel(x: 0, y: 0) == (255, 255, 255) && invertedMask.pixel(x: 300, y: 200) == (0, 0, 0))
        // A file that is no image is refused with the sentence every input gets.
        let text = folder.appendingPathComponent("notes.png")
        try Data("hello".utf8).write(to: text)
        #expect(throws: EngineError.self) { try FillEdits.request(path: text.path, cells: [cells], inverted: false, prompt: "x", region: nil) }
        // A canvas that would be too large is refused before it is made.
        let wide = folder.appendingPathComponent("wide.png")
        try Data(try ImageCodec.encodePNG(RGBImage(width: 16000, height: 4, pixels: [UInt8](repeating: 9, count: 16000 * 4 * 3)))).write(to: wide)
        #expect(throws: EngineError.self) { try FillEdits.extend(path: wide.path, by: CanvasExtension(top: 2048, bottom: 2048)) }
        #expect(try FillEdits.extend(path: wide.path, by: CanvasExtension(top: 4)).image.size == PixelSize(width: 16000, height: 8))
    }
}
