import Foundation
import Imaging
import Testing

@Suite("Thumbnail cache")
struct ThumbnailCacheTests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-thumbs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func png(_ width: Int, _ height: Int, red: UInt8) throws -> Data {
        let pixels: [UInt8] = (0..<(width * height)).flatMap { _ -> [UInt8] in [red, 40, 200] }
        return Data(try ImageCodec.encodePNG(RGBImage(width: width, height: height, pixels: pixels)))
    }

    @Test("a second look is served from the cache without reading the image; a changed file is decoded again")
    func hitsAndMisses() throws {
        let root = try folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let image = root.appendingPathComponent("picture.png")
        try png(200, 100, red: 10).write(to: image)
        let cache = ThumbnailCache(directory: root.appendingPathComponent("cache/fluxdeck/thumbs"))
        let first = try cache.thumbnail(path: image.path)
        #expect(first.width == 64 && first.height == 32)
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache.directory.path)
        #expect(entries.count == 1)
        let attributes = try FileManager.default.attributesOfItem(atPath: cache.directory.appendingPathComponent(entries[0]).path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((try FileManager.default.attributesOfItem(atPath: cache.directory.path)[.posixPermissions] as? Int) == 0o700)

        // Garbage of the same size with the same modification time: a decode would fail, so
        // only the cache can answer (its key is the path, size and time).
        let stamp = try #require(try FileManager.default.attributesOfItem(atPath: image.path)[.modificationDate] as? Date)
        let size = try Data(contentsOf: image).count
        try Data(repeating: 0x42, count: size).write(to: image)
        try FileManager.default.setAttributes([.modificationDate: stamp], ofItemAtPath: image.path)
        #expect(throws: ImagingError.self) { try Thumbnails.of(path: image.path) }
        let cached = try cache.thumbnail(path: image.path)
        #expect(cached == first)

        // Replaced with another picture (another size and time): decoded again.
        try png(100, 100, red: 250).write(to: image)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: image.path)
        let fresh = try cache.thumbnail(path: image.path)
        #expect(fresh.width == 64 && fresh.height == 64 && fresh.pixels[0] == 250)
        // Another box is another entry.
        _ = try cache.thumbnail(path: image.path, box: 32)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.directory.path).count == 3)
    }

    @Test("a damaged entry is decoded again and replaced; a cache that cannot be written still gives the thumbnail")
    func damaged() throws {
        let root = try folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let image = root.appendingPathComponent("picture.png")
        try png(64, 64, red: 99).write(to: image)
        let cache = ThumbnailCache(directory: root.appendingPathComponent("thumbs"))
        let first = try cache.thumbnail(path: image.path)
        let entry = try #require(try FileManager.default.contentsOfDirectory(atPath: cache.directory.path).first)
        try Data("FDT1 truncated".utf8).write(to: cache.directory.appendingPathComponent(entry))
        #expect(try cache.thumbnail(path: image.path) == first)
        #expect(try cache.thumbnail(path: image.path) == first)
        // A cache folder that is a file: nothing is kept, the thumbnail is still made.
        let blocked = root.appendingPathComponent("blocked")
        try Data().write(to: blocked)
        #expect(try ThumbnailCache(directory: blocked).thumbnail(path: image.path) == first)
        #expect(throws: ImagingError.self) { try cache.thumbnail(path: root.appendingPathComponent("missing.png").path) }
    }
}
