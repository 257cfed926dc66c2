public import Foundation
import BaseDirectories

/// Thumbnails kept on disk (`$XDG_CACHE_HOME/fluxdeck/thumbs`), keyed by the image's path,
/// size and modification time and the box asked for: a changed or replaced file is decoded
/// again, an unchanged one never. Each entry is a small raw RGB file, private to the user.
public struct ThumbnailCache: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// `$XDG_CACHE_HOME/fluxdeck/thumbs`, else `~/.cache/fluxdeck/thumbs`.
    public static func defaultDirectory(environment: [String: String]) -> URL {
        URL(fileURLWithPath: BaseDirectory.cache.path("thumbs", environment: environment))
    }

    /// The thumbnail of `path` from the cache, else decoded (and kept). A cache that cannot be
    /// read or written is passed over: the thumbnail is still made.
    public func thumbnail(path: String, box: Int = 64, maxPixels: Int = ImageCodec.defaultMaxPixels) throws(ImagingError) -> RGBImage {
        guard let key = Self.key(path: path, box: box) else { return try Thumbnails.of(path: path, box: box, maxPixels: maxPixels) }
        let entry = directory.appendingPathComponent(key)
        if let cached = Self.read(entry) { return cached }
        let image = try Thumbnails.of(path: path, box: box, maxPixels: maxPixels)
        write(image, to: entry)
        return image
    }

    /// The entry's name: a hash of the path, the file's size and modification time, and the box.
    static func key(path: String, box: Int) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? Int, let modified = attributes[.modificationDate] as? Date else { return nil }
        // Whole seconds: what every file system and copy tool keeps of a modification time.
        let seconds = modified.timeIntervalSince1970
        guard seconds.isFinite, abs(seconds) < 1e15 else { return nil }
        let text = "\(path)|\(size)|\(Int(seconds.rounded(.down)))|\(box)"
        // FNV-1a, 64 bits: stable across runs (Swift's Hasher is seeded per process).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(format: "%016llx", hash) + ".rgb"
    }

    static let magic: [UInt8] = Array("FDT1".utf8)

    /// An entry: "FDT1", width and height (2 bytes each, big-endian), then the RGB bytes.
    static func read(_ url: URL) -> RGBImage? {
        guard let data = try? Data(contentsOf: url), data.count >= 8 else { return nil }
        let head = Array(data.prefix(8))
        guard Array(head[0..<4]) == magic else { return nil }
        let width = Int(head[4]) << 8 | Int(head[5]), height = Int(head[6]) << 8 | Int(head[7])
        guard width > 0, height > 0, data.count == 8 + width * height * 3 else { return nil }
        // One copy, straight from the file's bytes.
        let pixels = data.withUnsafeBytes { raw in [UInt8](raw[8...]) }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private func write(_ image: RGBImage, to url: URL) {
        guard image.width < 65_536, image.height < 65_536 else { return }
        let fileManager = FileManager.default
        do {
            try fileManager.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            var bytes = Self.magic
            bytes += [UInt8(image.width >> 8), UInt8(image.width & 0xFF), UInt8(image.height >> 8), UInt8(image.height & 0xFF)]
            bytes += image.pixels
            try Data(bytes).write(to: url, options: .atomic)
            try fileManager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        } catch {
            // A read-only or full cache folder costs a decode next time, nothing more.
        }
    }
}
