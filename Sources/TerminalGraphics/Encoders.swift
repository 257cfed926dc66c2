import Foundation
public import Imaging
public import TerminalCore

/// The kitty graphics protocol (https://sw.kovidgoyal.net/kitty/graphics-protocol/): an APC
/// escape `ESC _ G <keys> ; <base64 payload> ESC \`.
public enum KittyGraphics {
    /// Base64 bytes in one escape code ("Remote client" / chunked transmission: at most 4096).
    public static let chunkSize = 4096

    /// Transmits `picture` as 24-bit RGB (`f=24`, `s`/`v` its size, sent directly `t=d`) under
    /// image number `id`, and creates a virtual placement for Unicode placeholders (`a=T`,
    /// `U=1`) spanning `columns`×`rows` cells; `q=2` silences the terminal's replies, which
    /// would otherwise arrive as input. Payloads over 4096 base64 bytes go in chunks, each but
    /// the last marked `m=1`.
    public static func transmit(_ picture: Picture, id: Int, columns: Int, rows: Int) -> [UInt8] {
        let payload = Array(Data(picture.pixels.prefix(picture.width * picture.height * 3)).base64EncodedData())
        let keys = "a=T,U=1,f=24,t=d,s=\(picture.width),v=\(picture.height),i=\(id),c=\(columns),r=\(rows),q=2"
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + payload.count / chunkSize * 16 + 80)
        var start = 0
        repeat {
            let end = min(payload.count, start + chunkSize)
            let more = end < payload.count
            out += [0x1B, 0x5F, 0x47] // ESC _ G
            if start == 0 {
                out += Array(keys.utf8)
                if more { out += Array(",m=1".utf8) }
            } else {
                out += Array((more ? "m=1" : "m=0").utf8)
            }
            out.append(0x3B) // ;
            out += payload[start..<end]
            out += [0x1B, 0x5C] // ESC \
            start = end
        } while start < payload.count
        return out
    }

    /// Deletes image `id` and its data ("Deleting images": `d=I`, upper case frees the data).
    public static func delete(id: Int) -> [UInt8] {
        Array("\u{1B}_Ga=d,d=I,i=\(id),q=2\u{1B}\\".utf8)
    }

    /// Asks whether the terminal speaks the protocol ("Querying support and available
    /// transmission mediums"): a 1×1 image, `a=q`, which a terminal that does answers with
    /// `ESC _ G i=31;OK ESC \` and stores nothing.
    public static let query: [UInt8] = Array("\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\".utf8)
}

/// iTerm2's inline images protocol (https://iterm2.com/documentation-images.html):
/// `ESC ] 1337 ; File = <arguments> : <base64 of the file> BEL`.
public enum ITerm2Graphics {
    /// Shows `picture` as a PNG file, inline (`inline=1`), scaled into `columns`×`rows` cells
    /// with its aspect ratio kept (`preserveAspectRatio=1`); `size` is the file's length.
    public static func image(_ picture: Picture, columns: Int, rows: Int) throws(ImagingError) -> [UInt8] {
        let png = try ImageCodec.encodePNG(RGBImage(picture))
        var out = Array("\u{1B}]1337;File=inline=1;size=\(png.count);width=\(columns);height=\(rows);preserveAspectRatio=1:".utf8)
        out += Array(Data(png).base64EncodedData())
        out.append(0x07)
        return out
    }
}

/// DEC sixel graphics (DEC STD 070 and the VT330/VT340 Programmer Reference, "Sixel
/// Graphics"): `ESC P P1;P2;P3 q`, raster attributes, colour registers, sixel data, `ESC \`.
public enum SixelGraphics {
    /// The colour register of a pixel: the 6×6×6 cube, 36·r + 6·g + b with each channel
    /// rounded to one of six levels (0, 20, 40, 60, 80, 100 percent).
    @inline(__always)
    static func register(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int {
        (Int(r) + 25) / 51 * 36 + (Int(g) + 25) / 51 * 6 + (Int(b) + 25) / 51
    }

    /// The sixel image of `picture`, pixel for pixel.
    ///
    /// - `ESC P 0;1;0 q`: P2 = 1, pixels not written keep what is behind them.
    /// - `"1;1;W;H`: raster attributes, square pixels, the image's size.
    /// - `#n;2;r;g;b` for each register used, in ascending order, RGB in percent.
    /// - Then per band of six pixel rows, per register used in the band in ascending order:
    ///   `#n`, the band's columns as sixel characters (63 + the six bits, top row in bit 0)
    ///   with runs of more than three written `!count` + character and the empty tail left
    ///   out, and `$` (back to the band's start); bands are separated by `-`.
    /// - `ESC \` ends it.
    public static func image(_ picture: Picture) -> [UInt8] {
        let width = picture.width, height = picture.height
        guard width > 0, height > 0, picture.pixels.count >= width * height * 3 else { return [] }
        var registers = [Int](repeating: 0, count: width * height)
        var used = [Bool](repeating: false, count: 216)
        picture.pixels.withUnsafeBufferPointer { pixels in
            for i in 0..<width * height {
                let n = register(pixels[i * 3], pixels[i * 3 + 1], pixels[i * 3 + 2])
                registers[i] = n
                used[n] = true
            }
        }
        var out = Array("\u{1B}P0;1;0q\"1;1;\(width);\(height)".utf8)
        for n in 0..<216 where used[n] {
            let percent = [n / 36, n / 6 % 6, n % 6].map { String($0 * 20) }
            out += Array("#\(n);2;\(percent.joined(separator: ";"))".utf8)
        }
        // Per band: each register's six-bit columns, filled in one pass over the band's pixels.
        var lines = [UInt8](repeating: 0, count: 216 * width)
        var inBand = [Bool](repeating: false, count: 216)
        var band = 0
        while band * 6 < height {
            if band > 0 { out.append(0x2D) } // -
            let top = band * 6, rows = min(6, height - top)
            for y in top..<top + rows {
                let bit = UInt8(1) << (y - top)
                for x in 0..<width {
                    let n = registers[y * width + x]
                    inBand[n] = true
                    lines[n * width + x] |= bit
                }
            }
            for n in 0..<216 where inBand[n] {
                let line = n * width
                var end = width
                while end > 0, lines[line + end - 1] == 0 { end -= 1 }
                out += Array("#\(n)".utf8)
                var x = 0
                while x < end {
                    let bits = lines[line + x]
                    let char = 63 + bits
                    var run = 1
                    while x + run < end, lines[line + x + run] == bits { run += 1 }
                    if run > 3 {
                        out += Array("!\(run)".utf8)
                        out.append(char)
                    } else {
                        for _ in 0..<run { out.append(char) }
                    }
                    x += run
                }
                out.append(0x24) // $
                for k in line..<line + width { lines[k] = 0 }
                inBand[n] = false
            }
            band += 1
        }
        out += [0x1B, 0x5C]
        return out
    }
}

/// Wraps escape sequences for tmux's passthrough (`allow-passthrough on`): `ESC P tmux ;`,
/// the sequence with every ESC doubled, `ESC \`.
public enum TmuxPassthrough {
    public static func wrap(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = Array("\u{1B}Ptmux;".utf8)
        out.reserveCapacity(bytes.count + bytes.count / 100 + 16)
        for byte in bytes {
            if byte == 0x1B { out.append(0x1B) }
            out.append(byte)
        }
        out += [0x1B, 0x5C]
        return out
    }
}

extension RGBImage {
    /// The picture's pixels as an image (an empty picture becomes one black pixel).
    public init(_ picture: Picture) {
        if picture.width > 0, picture.height > 0, picture.pixels.count == picture.width * picture.height * 3 {
            self.init(width: picture.width, height: picture.height, pixels: picture.pixels)
        } else {
            self.init(width: 1, height: 1, pixels: [0, 0, 0])
        }
    }
}

extension Picture {
    /// The image as a picture.
    public init(_ image: RGBImage) {
        self.init(width: image.width, height: image.height, pixels: image.pixels)
    }
}
