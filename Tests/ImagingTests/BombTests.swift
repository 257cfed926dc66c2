import Imaging
import Testing

/// Files whose headers lie about their size, and previews made without full decodes.
@Suite("Decompression bombs and previews")
struct BombTests {
    static func gradient(_ width: Int, _ height: Int) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                pixels[i] = UInt8(x * 255 / max(1, width - 1)); pixels[i + 1] = UInt8(y * 255 / max(1, height - 1)); pixels[i + 2] = 128
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// A real JPEG whose frame header is rewritten to claim `width`×`height` (about 1 KB).
    static func lyingJPEG(width: Int, height: Int) throws -> [UInt8] {
        var bytes = try ImageCodec.encodeJPEG(gradient(16, 16), quality: 50)
        var i = 2
        while i + 9 < bytes.count {
            guard bytes[i] == 0xFF else { break }
            let marker = bytes[i + 1]
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            if marker == 0xC0 || marker == 0xC2 {
                bytes[i + 5] = UInt8(height >> 8); bytes[i + 6] = UInt8(height & 0xFF)
                bytes[i + 7] = UInt8(width >> 8); bytes[i + 8] = UInt8(width & 0xFF)
                return bytes
            }
            i += 2 + length
        }
        Issue.record("no frame header found")
        return bytes
    }

    /// A real PNG whose IHDR claims `width`×`height` (the CRC is left wrong on purpose: the
    /// size must be refused before anything else is looked at).
    static func lyingPNG(width: UInt32, height: UInt32) throws -> [UInt8] {
        var bytes = try ImageCodec.encodePNG(gradient(8, 8))
        for (offset, value) in [(16, width), (20, height)] {
            bytes[offset] = UInt8(value >> 24); bytes[offset + 1] = UInt8(value >> 16 & 0xFF)
            bytes[offset + 2] = UInt8(value >> 8 & 0xFF); bytes[offset + 3] = UInt8(value & 0xFF)
        }
        return bytes
    }

    @Test("a JPEG claiming 65500×65500 in a kilobyte is refused from its header, decoded or previewed")
    func jpegBomb() throws {
        let bomb = try Self.lyingJPEG(width: 65500, height: 65500)
        #expect(bomb.count < 2048)
        #expect(throws: ImagingError.self) { try ImageCodec.decode(bomb) }
        let error = #expect(throws: ImagingError.self) { try ImageCodec.thumbnail(bomb, box: 64) }
        #expect(error?.message.contains("over the 50 MP limit") == true, "\(String(describing: error))")
    }

    @Test("a PNG claiming 100000×100000 is refused from its header, decoded or previewed")
    func pngBomb() throws {
        let bomb = try Self.lyingPNG(width: 100_000, height: 100_000)
        let decoded = #expect(throws: ImagingError.self) { try ImageCodec.decode(bomb) }
        #expect(decoded?.message.contains("over the 50 MP limit") == true, "\(String(describing: decoded))")
        let previewed = #expect(throws: ImagingError.self) { try ImageCodec.thumbnail(bomb, box: 64) }
        #expect(previewed?.message.contains("over the 50 MP limit") == true)
        // The limit is a parameter (the config's): a small one refuses a modest image too.
        let modest = try ImageCodec.encodePNG(Self.gradient(100, 100))
        #expect(throws: ImagingError.self) { try ImageCodec.decode(modest, maxPixels: 5000) }
    }

    @Test("previews come out at the box size: JPEG through DCT scaling, PNG row by row, colours kept")
    func previews() throws {
        let source = Self.gradient(1600, 1200)
        let jpeg = try ImageCodec.thumbnail(try ImageCodec.encodeJPEG(source, quality: 90), box: 64)
        #expect(jpeg.width == 64 && jpeg.height == 48)
        let png = try ImageCodec.thumbnail(try ImageCodec.encodePNG(source), box: 64)
        #expect(png.width == 64 && png.height == 48)
        // Top-left is dark red-ish nothing, bottom-right bright: the gradient survived.
        let last = (png.height * png.width - 1) * 3
        #expect(png.pixels[0] < 20 && png.pixels[last] > 230)
        #expect(abs(Int(jpeg.pixels[last]) - Int(png.pixels[last])) < 12)
        // A small image is not enlarged.
        let small = try ImageCodec.thumbnail(try ImageCodec.encodePNG(Self.gradient(20, 10)), box: 64)
        #expect(small.width == 20 && small.height == 10)
    }

    @Test("truncated and damaged images give a sentence, not a crash or a hang")
    func damaged() throws {
        let png = try ImageCodec.encodePNG(Self.gradient(300, 200))
        let jpeg = try ImageCodec.encodeJPEG(Self.gradient(300, 200))
        // A header alone and a GIF cannot give a picture: a sentence.
        for bytes in [Array(png.prefix(40)), Array("GIF89a".utf8)] {
            let error = #expect(throws: ImagingError.self) { try ImageCodec.thumbnail(bytes, box: 64) }
            #expect(error?.message.isEmpty == false)
        }
        // Cut mid-way, a decoder may give what it has (libjpeg fills the rest): a picture of the
        // header's shape within the box, or a sentence.
        for bytes in [Array(png.prefix(png.count / 2)), Array(jpeg.prefix(jpeg.count / 3))] {
            do {
                let thumbnail = try ImageCodec.thumbnail(bytes, box: 64)
                #expect(thumbnail.width <= 64 && thumbnail.height <= 64 && thumbnail.width > thumbnail.height,
                        "\(thumbnail.width)x\(thumbnail.height) for a 300x200 picture in a 64 box")
            } catch {
                #expect(!error.message.isEmpty)
            }
        }
    }
}
