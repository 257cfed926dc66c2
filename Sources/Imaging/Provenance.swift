import CImaging

/// Writes and reads provenance (prompt, model, seed, job id …) inside image files without
/// re-encoding them: PNG `iTXt` chunks right after `IHDR`, or a JPEG comment (COM) segment
/// right after the start marker.
public enum Provenance {
    /// The JPEG comment and PNG keyword prefix that mark our entries.
    static let prefix = "fluxdeck:"

    /// `bytes` with the fields embedded. Keys are plain ASCII words; values are UTF-8.
    public static func embed(_ fields: [(key: String, value: String)], in bytes: [UInt8]) throws(ImagingError) -> [UInt8] {
        switch ImageFormat.sniff(bytes) {
        case .png?: return try embedPNG(fields, in: bytes)
        case .jpeg?: return try embedJPEG(fields, in: bytes)
        default: throw ImagingError("provenance can only be embedded in PNG and JPEG files")
        }
    }

    /// Where the fields go and what is inserted there, from the start of the file (`header`: at
    /// least the signature and header segments, 256 KB covers any JPEG APP0 + APP1). The file is
    /// then copied with the bytes spliced in at `offset`, without holding it in memory.
    public static func insertion(_ fields: [(key: String, value: String)], header: [UInt8]) throws(ImagingError) -> (offset: Int, bytes: [UInt8]) {
        switch ImageFormat.sniff(header) {
        case .png?: return try insertionPNG(fields, header: header)
        case .jpeg?: return try insertionJPEG(fields, header: header)
        default: throw ImagingError("provenance can only be embedded in PNG and JPEG files")
        }
    }

    /// The fields fluxdeck embedded, in file order; empty when there are none.
    public static func read(from bytes: [UInt8]) -> [(key: String, value: String)] {
        switch ImageFormat.sniff(bytes) {
        case .png?: return readPNG(bytes)
        case .jpeg?: return readJPEG(bytes)
        default: return []
        }
    }

    // MARK: PNG

    private static func embedPNG(_ fields: [(key: String, value: String)], in bytes: [UInt8]) throws(ImagingError) -> [UInt8] {
        let (offset, chunks) = try insertionPNG(fields, header: bytes)
        return Array(bytes[..<offset]) + chunks + Array(bytes[offset...])
    }

    private static func insertionPNG(_ fields: [(key: String, value: String)], header bytes: [UInt8]) throws(ImagingError) -> (offset: Int, bytes: [UInt8]) {
        // Signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 CRC).
        let afterHeader = 8 + 25
        guard bytes.count > afterHeader, Array(bytes[12..<16]) == Array("IHDR".utf8) else {
            throw ImagingError("the PNG has no IHDR chunk where expected")
        }
        var chunks: [UInt8] = []
        for field in fields {
            // iTXt: keyword, NUL, compression flag 0, method 0, language "", NUL, translated "", NUL, text.
            let keyword = Array((prefix + field.key).utf8.prefix(79))
            let data = keyword + [0, 0, 0, 0, 0] + Array(field.value.utf8)
            chunks += chunk("iTXt", data)
        }
        return (afterHeader, chunks)
    }

    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        let body = typeBytes + data
        let crc = body.withUnsafeBufferPointer { ci_crc32(0, $0.baseAddress, $0.count) }
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc)
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    private static func readPNG(_ bytes: [UInt8]) -> [(key: String, value: String)] {
        var fields: [(key: String, value: String)] = []
        var offset = 8
        while offset + 12 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            let start = offset + 8
            guard length >= 0, start + length + 4 <= bytes.count else { break }
            if type == "iTXt" {
                let data = Array(bytes[start..<start + length])
                if let nul = data.firstIndex(of: 0) {
                    let keyword = String(decoding: data[..<nul], as: UTF8.self)
                    // Skip flag, method, language and translated keyword.
                    var index = nul + 3
                    for _ in 0..<2 {
                        while index < data.count, data[index] != 0 { index += 1 }
                        index += 1
                    }
                    if keyword.hasPrefix(prefix), index <= data.count {
                        fields.append((String(keyword.dropFirst(prefix.count)), String(decoding: data[index...], as: UTF8.self)))
                    }
                }
            }
            if type == "IEND" { break }
            offset = start + length + 4
        }
        return fields
    }

    // MARK: JPEG

    private static func embedJPEG(_ fields: [(key: String, value: String)], in bytes: [UInt8]) throws(ImagingError) -> [UInt8] {
        let (offset, segments) = try insertionJPEG(fields, header: bytes)
        return Array(bytes[..<offset]) + segments + Array(bytes[offset...])
    }

    private static func insertionJPEG(_ fields: [(key: String, value: String)], header bytes: [UInt8]) throws(ImagingError) -> (offset: Int, bytes: [UInt8]) {
        var segments: [UInt8] = []
        for field in fields {
            let text = Array((prefix + field.key + "=" + field.value).utf8.prefix(65_000))
            let length = text.count + 2
            segments += [0xFF, 0xFE, UInt8(length >> 8), UInt8(length & 0xFF)] + text
        }
        // After SOI, and after a JFIF/Exif APP segment if one comes first (viewers expect those first).
        var insertAt = 2
        while insertAt + 4 <= bytes.count, bytes[insertAt] == 0xFF, (0xE0...0xE1).contains(bytes[insertAt + 1]) {
            let length = Int(bytes[insertAt + 2]) << 8 | Int(bytes[insertAt + 3])
            insertAt += 2 + length
        }
        guard insertAt <= bytes.count else { throw ImagingError("the JPEG's header segments are truncated") }
        return (insertAt, segments)
    }

    private static func readJPEG(_ bytes: [UInt8]) -> [(key: String, value: String)] {
        var fields: [(key: String, value: String)] = []
        var offset = 2
        while offset + 4 <= bytes.count, bytes[offset] == 0xFF {
            let marker = bytes[offset + 1]
            if marker == 0xDA || marker == 0xD9 { break }  // start of scan: no more headers
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard length >= 2, offset + 2 + length <= bytes.count else { break }
            if marker == 0xFE {
                let text = String(decoding: bytes[offset + 4..<offset + 2 + length], as: UTF8.self)
                if text.hasPrefix(prefix), let equals = text.firstIndex(of: "=") {
                    let key = String(text[text.index(text.startIndex, offsetBy: prefix.count)..<equals])
                    fields.append((key, String(text[text.index(after: equals)...])))
                }
            }
            offset += 2 + length
        }
        return fields
    }
}
