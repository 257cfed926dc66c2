import Imaging
import Testing

@Suite("Provenance")
struct ProvenanceTests {
    static let fields: [(key: String, value: String)] = [
        ("prompt", "a lighthouse at dusk — 灯台"), ("model", "flux-2-pro"), ("seed", "42"), ("job", "abc123"),
    ]

    static func image() -> RGBImage {
        RGBImage(width: 20, height: 10, pixels: (0..<600).map { UInt8($0 % 256) })
    }

    @Test("PNG: iTXt chunks after IHDR; the image still decodes to the same pixels")
    func png() throws {
        let original = try ImageCodec.encodePNG(Self.image())
        let tagged = try Provenance.embed(Self.fields, in: original)
        #expect(Provenance.read(from: tagged).map(\.key) == Self.fields.map(\.key))
        #expect(Provenance.read(from: tagged).map(\.value) == Self.fields.map(\.value))
        #expect(try ImageCodec.decode(tagged) == Self.image())
        #expect(Provenance.read(from: original).isEmpty)
    }

    @Test("JPEG: COM segments; the image still decodes identically")
    func jpeg() throws {
        let original = try ImageCodec.encodeJPEG(Self.image(), quality: 90)
        let tagged = try Provenance.embed(Self.fields, in: original)
        #expect(Provenance.read(from: tagged).map(\.value) == Self.fields.map(\.value))
        #expect(try ImageCodec.decode(tagged) == (try ImageCodec.decode(original)))
    }

    @Test("other data is refused with a clear message")
    func refuse() {
        #expect(throws: ImagingError("provenance can only be embedded in PNG and JPEG files")) {
            try Provenance.embed([("a", "b")], in: Array("GIF89a".utf8))
        }
    }
}
