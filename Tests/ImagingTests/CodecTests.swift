import Imaging
import Testing

@Suite("Imaging codecs")
struct CodecTests {
    static func checkerboard(_ width: Int, _ height: Int) -> RGBImage {
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                let on = (x / 8 + y / 8) % 2 == 0
                pixels += on ? [250, 20, 20] : [20, 20, 250]
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    @Test("PNG round-trips exactly and its header gives the size")
    func png() throws {
        let image = Self.checkerboard(37, 21)
        let bytes = try ImageCodec.encodePNG(image)
        #expect(ImageFormat.sniff(bytes) == .png)
        #expect(ImageHeader.size(of: bytes)! == (37, 21))
        #expect(try ImageCodec.decode(bytes) == image)
    }

    @Test("JPEG round-trips closely, keeps its comment, and its header gives the size")
    func jpeg() throws {
        let image = Self.checkerboard(64, 48)
        let bytes = try ImageCodec.encodeJPEG(image, quality: 95, comment: "fluxdeck test")
        #expect(ImageFormat.sniff(bytes) == .jpeg)
        #expect(ImageHeader.size(of: bytes)! == (64, 48))
        #expect(String(decoding: bytes, as: UTF8.self).contains("fluxdeck test"))
        let decoded = try ImageCodec.decode(bytes)
        #expect(decoded.width == 64 && decoded.height == 48)
        let (r, _, b) = decoded.pixel(x: 3, y: 3)
        #expect(r > 200 && b < 60)
    }

    @Test("garbage and truncated files give a clear error, not a crash")
    func badInput() throws {
        #expect(throws: ImagingError("not a PNG or JPEG image")) { try ImageCodec.decode(Array("hello".utf8)) }
        let png = try ImageCodec.encodePNG(Self.checkerboard(16, 16))
        #expect(throws: ImagingError.self) { try ImageCodec.decode(Array(png.prefix(40))) }
        let jpeg = try ImageCodec.encodeJPEG(Self.checkerboard(16, 16))
        #expect(throws: ImagingError.self) { try ImageCodec.decode(Array(jpeg.prefix(30))) }
        #expect(ImageHeader.size(of: [1, 2, 3]) == nil)
    }
}
