import Foundation

/// Previews of image files: a small RGB copy that fits a box, decoded straight to about that
/// size where the format allows, refused from its header when it claims more than a limit.
public enum Thumbnails {
    /// The largest file a preview reads (the download cap).
    public static let maxFileBytes = 64 * 1_048_576

    /// The thumbnail of the file at `path`; every problem is one sentence naming the file.
    public static func of(path: String, box: Int = 64, maxPixels: Int = ImageCodec.defaultMaxPixels) throws(ImagingError) -> RGBImage {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maxFileBytes else {
            throw ImagingError("\(name) is \(size / 1_048_576) MB, too large to preview")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ImagingError("cannot read \(name): \(readFailure(error))")
        }
        do {
            return try ImageCodec.thumbnail(Array(data), box: box, maxPixels: maxPixels)
        } catch {
            throw ImagingError("\(name) cannot be shown: \(error)")
        }
    }
}

/// Why a file could not be read, in a few words ("no such file", "permission denied").
public func readFailure(_ error: any Error) -> String {
    let nsError = error as NSError
    if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError { return "no such file" }
    if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoPermissionError { return "permission denied" }
    return nsError.localizedDescription
}
