public import BFL
import Foundation
public import Imaging

/// The image and mask a Fill request sends, made from a local image: repainting rectangles of
/// it, or extending its canvas. The studio's mask mode and `generate --mask-rect / --extend`
/// both come here, so both send the same bytes for the same selection.
public enum FillEdits {
    /// The image at `path` as it is, and a mask of its exact size, white inside `rects`
    /// (`inverted`: outside them).
    public static func repaint(path: String, rects: [PixelRect], inverted: Bool = false) throws(EngineError) -> (image: ImageReference, mask: ImageReference) {
        try repaint(path: path, inverted: inverted) { _ in rects }
    }

    /// `repaint` with rectangles worked out from the image's size, once it is read.
    static func repaint(path: String, inverted: Bool, rects: (PixelSize) -> [PixelRect]) throws(EngineError) -> (image: ImageReference, mask: ImageReference) {
        let image = try reference(path)
        guard let size = image.size else { throw EngineError(message: "a mask needs a local image, not a URL (\(path))") }
        let inside = rects(size).compactMap { $0.clipped(width: size.width, height: size.height) }
        guard !inside.isEmpty else {
            throw EngineError(message: "every rectangle is outside the \(size.width)×\(size.height) image; X,Y is its top-left corner in pixels")
        }
        let levels = FillMasks.levels(width: size.width, height: size.height, rects: inside, inverted: inverted)
        return (image, try encodedMask(levels, size: size, label: "mask of \(image.label)"))
    }

    /// The image at `path` on a canvas grown by `sides` (the new area filled from its edges)
    /// and the mask of the new area, as PNGs within what BFL accepts for an input.
    public static func extend(path: String, by sides: CanvasExtension) throws(EngineError) -> (image: ImageReference, mask: ImageReference) {
        guard !LocalImages.isURL(path) else { throw EngineError(message: "extending needs a local image, not a URL (\(path))") }
        // The checks any input gets (a PNG or JPEG, at most 20 MB) before it is read whole.
        _ = try LocalImages.size(of: path)
        let file = LocalImages.expandingHome(path)
        let picture: RGBImage
        do {
            picture = try ImageCodec.decode(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
        } catch let error as ImagingError {
            throw EngineError(message: "cannot read the image \(path): \(error.message)")
        } catch {
            throw EngineError(message: "cannot read the image \(path): \(readFailure(error))")
        }
        // Refused before the larger canvas is made: its pixels, not only its PNG, must be sane.
        if let problem = sides.problem(width: picture.width, height: picture.height) {
            throw EngineError(message: "\(path): \(problem)")
        }
        let canvas = FillMasks.canvas(picture, by: sides)
        let name = URL(fileURLWithPath: file).lastPathComponent
        var grown = try encoded(canvas, label: "\(name) extended \(sides)")
        grown.path = URL(fileURLWithPath: file).standardizedFileURL.path
        let levels = FillMasks.levels(width: canvas.width, height: canvas.height,
                                      rects: FillMasks.kept(width: picture.width, height: picture.height, by: sides), inverted: true)
        return (grown, try encodedMask(levels, size: PixelSize(width: canvas.width, height: canvas.height), label: "mask of \(name) extended \(sides)"))
    }

    /// The studio's mask mode: rectangles of the cells the picture was drawn in, mapped to the
    /// image's own pixels (its size read once, with the image), made into Fill's request with
    /// `prompt` by `repaint`, as the command line's rectangles are.
    public static func request(path: String, cells: [GridRect], inverted: Bool, prompt: String, region: Region?) throws -> JobRequest {
        try request(prompt: prompt, region: region, try repaint(path: path, inverted: inverted) { size in
            cells.map { $0.pixels(width: size.width, height: size.height) }
        })
    }

    /// The studio's extend mode: the image on the grown canvas and the mask of the new area
    /// (by `extend`, as `--extend` makes them), in Fill's request with `prompt`.
    public static func request(path: String, extending sides: CanvasExtension, prompt: String, region: Region?) throws -> JobRequest {
        try request(prompt: prompt, region: region, try extend(path: path, by: sides))
    }

    /// Fill's request with `prompt`, an image and its mask, a submission of its own.
    static func request(prompt: String, region: Region?, _ edit: (image: ImageReference, mask: ImageReference)) throws(EngineError) -> JobRequest {
        guard let fill = Catalog.fill else { throw EngineError(message: "no Fill model in the catalog") }
        var parameters = GenerationParameters(prompt: prompt)
        parameters.image = edit.image
        parameters.mask = edit.mask
        return JobRequest(model: fill, parameters: parameters, groupID: UUID().uuidString.lowercased(), region: region)
    }

    /// A local image as a reference (read and sized by the one rule for inputs).
    static func reference(_ path: String) throws(EngineError) -> ImageReference {
        guard !LocalImages.isURL(path) else { throw EngineError(message: "a mask needs a local image, not a URL (\(path))") }
        return try LocalImages.reference(path)
    }

    /// A PNG of `image` as base64, refused when it is larger than BFL takes for an input.
    static func encoded(_ image: RGBImage, label: String) throws(EngineError) -> ImageReference {
        let bytes: [UInt8]
        do { bytes = try ImageCodec.encodePNG(image) } catch { throw EngineError(message: "cannot make the \(label): \(error.message)") }
        return try sized(bytes, PixelSize(width: image.width, height: image.height), label: label)
    }

    /// A mask as a one-channel PNG (a third of the data an RGB one would compress).
    static func encodedMask(_ levels: [UInt8], size: PixelSize, label: String) throws(EngineError) -> ImageReference {
        let bytes: [UInt8]
        do { bytes = try ImageCodec.encodeGrayPNG(width: size.width, height: size.height, levels: levels) } catch {
            throw EngineError(message: "cannot make the \(label): \(error.message)")
        }
        return try sized(bytes, size, label: label)
    }

    static func sized(_ bytes: [UInt8], _ size: PixelSize, label: String) throws(EngineError) -> ImageReference {
        guard bytes.count <= LocalImages.maxInputBytes else {
            throw EngineError(message: "the \(label) would be \(bytes.count / 1_048_576) MB as a PNG; BFL accepts inputs up to 20 MB")
        }
        return ImageReference(value: Data(bytes).base64EncodedString(), size: size, label: label)
    }
}
