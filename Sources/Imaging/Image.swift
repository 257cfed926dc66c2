import Foundation
import CImaging

/// An 8-bit RGB image, rows top to bottom.
public struct RGBImage: Sendable, Hashable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3, "pixel buffer does not match \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The pixel at (x, y) as (r, g, b).
    public func pixel(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }
}

/// Why an image could not be read or written.
public struct ImagingError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The image formats fluxdeck reads and writes.
public enum ImageFormat: String, Sendable, Hashable {
    case png, jpeg, webp

    /// Recognises a format by its first bytes.
    public static func sniff(_ bytes: some Collection<UInt8>) -> ImageFormat? {
        let head = Array(bytes.prefix(12))
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if head.count >= 12, head.starts(with: Array("RIFF".utf8)), Array(head[8..<12]) == Array("WEBP".utf8) { return .webp }
        return nil
    }
}

/// Encoding and decoding through libpng and libjpeg.
public enum ImageCodec {
    /// PNG bytes of an RGB image.
    public static func encodePNG(_ image: RGBImage) throws(ImagingError) -> [UInt8] {
        try callEncoder { out, length, err, errLength in
            image.pixels.withUnsafeBufferPointer { pixels in
                ci_png_encode(pixels.baseAddress, Int32(image.width), Int32(image.height), 3, out, length, err, errLength)
            }
        }
    }

    /// PNG bytes of a one-channel image (`width * height` bytes, a grey level each): what a
    /// mask needs, a third of the RGB data to compress.
    public static func encodeGrayPNG(width: Int, height: Int, levels: [UInt8]) throws(ImagingError) -> [UInt8] {
        guard width > 0, height > 0, levels.count == width * height else { throw ImagingError("the grey levels do not match \(width)x\(height)") }
        return try callEncoder { out, length, err, errLength in
            levels.withUnsafeBufferPointer { pixels in
                ci_png_encode(pixels.baseAddress, Int32(width), Int32(height), 1, out, length, err, errLength)
            }
        }
    }

    /// JPEG bytes of an RGB image, with an optional comment (COM marker).
    public static func encodeJPEG(_ image: RGBImage, quality: Int = 90, comment: String? = nil) throws(ImagingError) -> [UInt8] {
        try callEncoder { out, length, err, errLength in
            image.pixels.withUnsafeBufferPointer { pixels in
                if let comment {
                    return comment.withCString { text in
                        ci_jpeg_encode_rgb(pixels.baseAddress, Int32(image.width), Int32(image.height), Int32(quality), text, out, length, err, errLength)
                    }
                }
                return ci_jpeg_encode_rgb(pixels.baseAddress, Int32(image.width), Int32(image.height), Int32(quality), nil, out, length, err, errLength)
            }
        }
    }

    /// The most pixels decoded by default (50 MP): a header may claim 65500×65500 in a 1 KB
    /// file, and the decoder would allocate for it.
    public static let defaultMaxPixels = 50_000_000

    /// Decodes PNG or JPEG bytes to RGB (PNG alpha is composited over black). The pixel count is
    /// checked from the header before anything is allocated.
    public static func decode(_ bytes: [UInt8], maxPixels: Int = defaultMaxPixels) throws(ImagingError) -> RGBImage {
        try checkPixels(bytes, maxPixels)
        let limit = UInt64(clamping: maxPixels)
        switch ImageFormat.sniff(bytes) {
        case .png?:
            let (rgba, width, height) = try callDecoder(bytes, channels: 4) { data, length, out, w, h, err, errLength in
                ci_png_decode_rgba(data, length, limit, out, w, h, err, errLength)
            }
            var rgb = [UInt8](repeating: 0, count: width * height * 3)
            for i in 0..<(width * height) {
                let alpha = UInt16(rgba[i * 4 + 3])
                for c in 0..<3 { rgb[i * 3 + c] = UInt8(UInt16(rgba[i * 4 + c]) * alpha / 255) }
            }
            return RGBImage(width: width, height: height, pixels: rgb)
        case .jpeg?:
            return try decodeJPEG(bytes, limit: limit, scale: 1)
        case .webp?:
            throw ImagingError("WebP images cannot be decoded (no WebP decoder is available)")
        case nil:
            throw ImagingError("not a PNG or JPEG image")
        }
    }

    /// A preview that fits `box`×`box`, made without decoding the image at full size where the
    /// format allows: JPEG through libjpeg's DCT scaling (1/2, 1/4, 1/8), PNG row by row.
    public static func thumbnail(_ bytes: [UInt8], box: Int, maxPixels: Int = defaultMaxPixels) throws(ImagingError) -> RGBImage {
        try checkPixels(bytes, maxPixels)
        let limit = UInt64(clamping: maxPixels)
        let box = max(1, box)
        switch ImageFormat.sniff(bytes) {
        case .png?:
            // Rows of an interlaced PNG come in passes: such an image is decoded whole.
            if ImageHeader.isInterlacedPNG(bytes) { return downsample(try decode(bytes, maxPixels: maxPixels), box: box) }
            let (rgb, width, height) = try callDecoder(bytes, channels: 3) { data, length, out, w, h, err, errLength in
                ci_png_thumbnail(data, length, limit, Int32(box), out, w, h, err, errLength)
            }
            return RGBImage(width: width, height: height, pixels: rgb)
        case .jpeg?:
            // The smallest DCT scale that still leaves at least `box` pixels on each side.
            let size = ImageHeader.size(of: bytes)
            let scale = [8, 4, 2].first { d in
                guard let size else { return false }
                return (size.width + d - 1) / d >= box && (size.height + d - 1) / d >= box
            } ?? 1
            return downsample(try decodeJPEG(bytes, limit: limit, scale: scale), box: box)
        case .webp?:
            throw ImagingError("WebP images cannot be previewed (no WebP decoder is available)")
        case nil:
            throw ImagingError("not a PNG or JPEG image")
        }
    }

    private static func decodeJPEG(_ bytes: [UInt8], limit: UInt64, scale: Int) throws(ImagingError) -> RGBImage {
        let (rgb, width, height) = try callDecoder(bytes, channels: 3) { data, length, out, w, h, err, errLength in
            ci_jpeg_decode_rgb(data, length, limit, Int32(scale), out, w, h, err, errLength)
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }

    /// Refuses, from the header alone, an image of more than `maxPixels`.
    private static func checkPixels(_ bytes: [UInt8], _ maxPixels: Int) throws(ImagingError) {
        guard let size = ImageHeader.size(of: bytes) else { return }  // the decoder says what is wrong
        let pixels = size.width.multipliedReportingOverflow(by: size.height)
        if pixels.overflow || pixels.partialValue > maxPixels {
            throw ImagingError("the image is \(size.width)×\(size.height), over the \(maxPixels / 1_000_000) MP limit for decoding")
        }
    }

    /// An area-averaged copy that fits `box`×`box` (the image itself when it already does).
    public static func downsample(_ image: RGBImage, box: Int) -> RGBImage {
        downsample(image, fitting: box, box)
    }

    /// An area-averaged copy that fits `boxWidth`×`boxHeight`, aspect kept (the image itself
    /// when it already fits).
    public static func downsample(_ image: RGBImage, fitting boxWidth: Int, _ boxHeight: Int) -> RGBImage {
        let scale = max(Double(image.width) / Double(max(1, boxWidth)), Double(image.height) / Double(max(1, boxHeight)), 1)
        guard scale > 1 else { return image }
        let width = max(1, min(image.width, Int(Double(image.width) / scale)))
        let height = max(1, min(image.height, Int(Double(image.height) / scale)))
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
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private typealias Encoder = (
        UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int>, UnsafeMutablePointer<CChar>, Int
    ) -> Int32

    private static func callEncoder(_ encode: Encoder) throws(ImagingError) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = message.withUnsafeMutableBufferPointer { err in
            encode(&out, &length, err.baseAddress.unsafelyUnwrapped, err.count)
        }
        defer { ci_free(out) }
        guard status == 0, let out else {
            throw ImagingError("encoding failed: " + String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return Array(UnsafeBufferPointer(start: out, count: length))
    }

    private typealias Decoder = (
        UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int32>,
        UnsafeMutablePointer<Int32>, UnsafeMutablePointer<CChar>, Int
    ) -> Int32

    private static func callDecoder(_ bytes: [UInt8], channels: Int, _ decode: Decoder) throws(ImagingError) -> ([UInt8], Int, Int) {
        var out: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0
        var height: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { data in
            message.withUnsafeMutableBufferPointer { err in
                decode(data.baseAddress, data.count, &out, &width, &height, err.baseAddress.unsafelyUnwrapped, err.count)
            }
        }
        defer { ci_free(out) }
        guard status == 0, let out, width > 0, height > 0 else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImagingError("the image could not be decoded: " + (text.isEmpty ? "unknown error" : text))
        }
        return (Array(UnsafeBufferPointer(start: out, count: Int(width) * Int(height) * channels)), Int(width), Int(height))
    }
}

/// Reads an image's pixel size from its header without decoding it.
public enum ImageHeader {
    /// Whether a PNG's IHDR says Adam7 interlacing (byte 28).
    public static func isInterlacedPNG(_ bytes: [UInt8]) -> Bool {
        ImageFormat.sniff(bytes) == .png && bytes.count > 28 && bytes[28] != 0
    }

    public static func size(of bytes: [UInt8]) -> (width: Int, height: Int)? {
        switch ImageFormat.sniff(bytes) {
        case .png?:
            // IHDR is the first chunk: width and height big-endian at offsets 16 and 20.
            guard bytes.count >= 24 else { return nil }
            let w = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
            let h = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
            return w > 0 && h > 0 ? (w, h) : nil
        case .jpeg?:
            return jpegSize(bytes)
        default:
            return nil
        }
    }

    /// Walks JPEG markers to the first start-of-frame.
    private static func jpegSize(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        var i = 2
        while i + 9 < bytes.count {
            guard bytes[i] == 0xFF else { return nil }
            let marker = bytes[i + 1]
            if marker == 0xFF { i += 1; continue }
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            let isSOF = (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker)
            if isSOF {
                let h = Int(bytes[i + 5]) << 8 | Int(bytes[i + 6])
                let w = Int(bytes[i + 7]) << 8 | Int(bytes[i + 8])
                return w > 0 && h > 0 ? (w, h) : nil
            }
            i += 2 + length
        }
        return nil
    }
}
