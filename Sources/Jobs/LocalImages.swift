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
            throw EngineError(message: "cannot read the image \(text): \(reason(error))")
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

    /// A small RGB copy of an image that fits `box`×`box` pixels (area-averaged), for previews.
    public static func thumbnail(path: String, box: Int = 64) throws(EngineError) -> (width: Int, height: Int, pixels: [UInt8]) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw EngineError(message: "cannot read \(path): \(reason(error))")
        }
        let image: RGBImage
        do { image = try ImageCodec.decode(Array(data)) } catch {
            throw EngineError(message: "\(URL(fileURLWithPath: path).lastPathComponent) cannot be shown: \(error)")
        }
        let scale = max(Double(image.width) / Double(box), Double(image.height) / Double(box), 1)
        let width = max(1, Int(Double(image.width) / scale))
        let height = max(1, Int(Double(image.height) / scale))
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        image.pixels.withUnsafeBufferPointer { source in
            for y in 0..<height {
                let y0 = y * image.height / height, y1 = max(y0 + 1, (y + 1) * image.height / height)
                for x in 0..<width {
                    let x0 = x * image.width / width, x1 = max(x0 + 1, (x + 1) * image.width / width)
                    var sum = (0, 0, 0)
                    for sy in y0..<y1 {
                        var i = (sy * image.width + x0) * 3
                        for _ in x0..<x1 {
                            sum.0 += Int(source[i]); sum.1 += Int(source[i + 1]); sum.2 += Int(source[i + 2])
                            i += 3
                        }
                    }
                    let n = (y1 - y0) * (x1 - x0)
                    let o = (y * width + x) * 3
                    pixels[o] = UInt8(sum.0 / n); pixels[o + 1] = UInt8(sum.1 / n); pixels[o + 2] = UInt8(sum.2 / n)
                }
            }
        }
        return (width, height, pixels)
    }

    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError { return "no such file" }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoPermissionError { return "permission denied" }
        return nsError.localizedDescription
    }
}
