public import BFL
import Foundation
import Imaging

/// Reading local images for requests and previews, with one clear sentence per problem.
public enum LocalImages {
    /// The most BFL accepts for an input image.
    public static let maxInputBytes = 20 * 1_048_576

    /// A reference for a request: a URL is sent as is; a local file is checked (header and
    /// size, so an oversized file is refused before it is read), then read and sent as base64
    /// with its size for pricing.
    public static func reference(_ text: String) throws(EngineError) -> ImageReference {
        guard let size = try size(of: text) else { return ImageReference(value: text, label: text) }
        let path = (text as NSString).expandingTildeInPath
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw EngineError(message: "cannot read the image \(text): \(readFailure(error))")
        }
        return ImageReference(value: data.base64EncodedString(), size: size, label: URL(fileURLWithPath: path).lastPathComponent)
    }

    /// The pixel size of a local image (or nil size for a URL), reading only its header.
    public static func size(of text: String) throws(EngineError) -> PixelSize? {
        if let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" { return nil }
        let path = (text as NSString).expandingTildeInPath
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw EngineError(message: exists ? "cannot read the image \(text): permission denied" : "cannot read the image \(text): no such file")
        }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 65_536)) ?? Data()
        guard let size = ImageHeader.size(of: Array(head)) else {
            throw EngineError(message: "\(text) is not a PNG or JPEG image")
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard bytes <= maxInputBytes else {
            throw EngineError(message: "\(text) is \(bytes / 1_048_576) MB; BFL accepts inputs up to 20 MB")
        }
        return PixelSize(width: size.width, height: size.height)
    }

}
