import Imaging

/// Draws the simulator's "generated" images: deterministic from model, prompt, seed and size,
/// and visibly different per prompt (a gradient sky, a horizon and a few shapes, coloured by
/// the prompt's words: colour words mean their colour, other words pick a hue of their own).
enum SampleRenderer {
    typealias RGB = (r: Int, g: Int, b: Int)

    /// What Fill returns: `painted` where the mask is light (all of it without a mask), the
    /// sent image's own pixels elsewhere. An image or mask that cannot be read leaves `painted`.
    static func filled(_ painted: RGBImage, from fill: FillSource) -> RGBImage {
        guard let image = try? ImageCodec.decode(fill.image), image.width == painted.width, image.height == painted.height else { return painted }
        guard let maskBytes = fill.mask else { return painted }
        guard let mask = try? ImageCodec.decode(maskBytes), mask.width == image.width, mask.height == image.height else { return painted }
        var pixels = image.pixels
        for i in stride(from: 0, to: pixels.count, by: 3) {
            // Light in the mask (its brightness over half) repaints.
            let light = Int(mask.pixels[i]) * 2126 + Int(mask.pixels[i + 1]) * 7152 + Int(mask.pixels[i + 2]) * 722 >= 128 * 10_000
            if light {
                pixels[i] = painted.pixels[i]
                pixels[i + 1] = painted.pixels[i + 1]
                pixels[i + 2] = painted.pixels[i + 2]
            }
        }
        return RGBImage(width: image.width, height: image.height, pixels: pixels)
    }

    static func render(model: String, prompt: String, seed: Int, width: Int, height: Int) -> RGBImage {
        var rng = SplitMix64(seed: fnv1a("\(model)|\(prompt)|\(seed)|\(width)x\(height)"))
        let palette = self.palette(for: prompt, rng: &rng)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeMutableBufferPointer { buffer in
            guard let p = buffer.baseAddress else { return }
            drawSky(p, width, height, top: palette[0], bottom: palette[1])
            let horizon = height * (55 + Int(rng.next() % 25)) / 100
            drawGround(p, width, height, from: horizon, color: palette[2], rng: &rng)
            let shapes = 3 + Int(rng.next() % 4)
            for index in 0..<shapes {
                let color = palette[(3 + index) % palette.count]
                let cx = Int(rng.next() % UInt64(width))
                let cy = Int(rng.next() % UInt64(max(1, horizon)))
                let size = max(4, min(width, height) * (6 + Int(rng.next() % 18)) / 100)
                if rng.next() % 2 == 0 {
                    drawDisc(p, width, height, cx: cx, cy: cy, radius: size / 2, color: color)
                } else {
                    let tall = rng.next() % 2 == 0
                    let w = tall ? size / 3 : size
                    let h = tall ? size * 2 : size / 2
                    drawRect(p, width, height, x: cx - w / 2, y: min(cy, horizon - h), w: w, h: h, color: color)
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    // MARK: palette

    static let namedColors: [String: RGB] = [
        "red": (214, 40, 40), "orange": (247, 127, 0), "yellow": (252, 191, 73), "gold": (212, 175, 55),
        "green": (56, 176, 0), "forest": (34, 87, 46), "teal": (0, 128, 128), "cyan": (0, 200, 220),
        "blue": (30, 90, 200), "sea": (20, 80, 150), "ocean": (10, 60, 130), "sky": (135, 190, 235),
        "purple": (114, 9, 183), "violet": (143, 80, 220), "pink": (255, 112, 166), "magenta": (200, 30, 160),
        "white": (240, 240, 240), "snow": (230, 236, 245), "black": (15, 15, 20), "night": (12, 20, 60),
        "gray": (128, 128, 128), "grey": (128, 128, 128), "silver": (192, 192, 200), "brown": (120, 72, 40),
        "dusk": (250, 110, 80), "sunset": (255, 94, 58), "dawn": (255, 183, 140), "fire": (255, 80, 20),
        "lighthouse": (245, 240, 225), "desert": (222, 184, 135), "ice": (200, 230, 255), "lava": (207, 16, 32),
    ]

    static func palette(for prompt: String, rng: inout SplitMix64) -> [RGB] {
        let words = prompt.lowercased().split { !$0.isLetter }.map(String.init)
        var colors: [RGB] = words.compactMap { namedColors[$0] }
        for word in words where namedColors[word] == nil && word.count > 2 {
            colors.append(hue(Int(fnv1a(word) % 360)))
        }
        while colors.count < 6 { colors.append(hue(Int(rng.next() % 360))) }
        return colors
    }

    /// A saturated colour of the given hue (degrees).
    static func hue(_ degrees: Int) -> RGB {
        let h = Double(degrees % 360) / 60
        let s = 0.65, v = 0.88
        let c = v * s
        let x = c * (1 - abs(h.truncatingRemainder(dividingBy: 2) - 1))
        let m = v - c
        let (r, g, b): (Double, Double, Double) = switch Int(h) {
        case 0: (c, x, 0)
        case 1: (x, c, 0)
        case 2: (0, c, x)
        case 3: (0, x, c)
        case 4: (x, 0, c)
        default: (c, 0, x)
        }
        return (Int((r + m) * 255), Int((g + m) * 255), Int((b + m) * 255))
    }

    // MARK: drawing

    static func drawSky(_ p: UnsafeMutablePointer<UInt8>, _ width: Int, _ height: Int, top: RGB, bottom: RGB) {
        for y in 0..<height {
            let t = height > 1 ? y * 256 / (height - 1) : 0
            let r = UInt8(clamping: top.r + (bottom.r - top.r) * t / 256)
            let g = UInt8(clamping: top.g + (bottom.g - top.g) * t / 256)
            let b = UInt8(clamping: top.b + (bottom.b - top.b) * t / 256)
            var i = y * width * 3
            for _ in 0..<width {
                p[i] = r; p[i + 1] = g; p[i + 2] = b
                i += 3
            }
        }
    }

    static func drawGround(_ p: UnsafeMutablePointer<UInt8>, _ width: Int, _ height: Int, from horizon: Int,
                           color: RGB, rng: inout SplitMix64) {
        let waves = 2 + Int(rng.next() % 4)
        let amplitude = max(1, height / 40)
        for x in 0..<width {
            let phase = x * waves * 4 / max(1, width)
            let offset = (phase % 4 < 2 ? phase % 2 : 1 - phase % 2) * amplitude
            let start = max(0, min(height, horizon + offset))
            for y in start..<height {
                let shade = 256 - (y - start) * 96 / max(1, height - start)
                let i = (y * width + x) * 3
                p[i] = UInt8(clamping: color.r * shade / 256)
                p[i + 1] = UInt8(clamping: color.g * shade / 256)
                p[i + 2] = UInt8(clamping: color.b * shade / 256)
            }
        }
    }

    static func drawDisc(_ p: UnsafeMutablePointer<UInt8>, _ width: Int, _ height: Int,
                         cx: Int, cy: Int, radius: Int, color: RGB) {
        let r2 = radius * radius
        for y in max(0, cy - radius)..<min(height, cy + radius + 1) {
            let dy = y - cy
            for x in max(0, cx - radius)..<min(width, cx + radius + 1) {
                let dx = x - cx
                if dx * dx + dy * dy <= r2 { blend(p, (y * width + x) * 3, color) }
            }
        }
    }

    static func drawRect(_ p: UnsafeMutablePointer<UInt8>, _ width: Int, _ height: Int,
                         x: Int, y: Int, w: Int, h: Int, color: RGB) {
        guard w > 0, h > 0 else { return }
        for yy in max(0, y)..<max(max(0, y), min(height, y + h)) {
            for xx in max(0, x)..<max(max(0, x), min(width, x + w)) {
                blend(p, (yy * width + xx) * 3, color)
            }
        }
    }

    /// 75 % colour over what is there.
    @inline(__always)
    static func blend(_ p: UnsafeMutablePointer<UInt8>, _ i: Int, _ c: RGB) {
        p[i] = UInt8(clamping: (Int(p[i]) + 3 * c.r) / 4)
        p[i + 1] = UInt8(clamping: (Int(p[i + 1]) + 3 * c.g) / 4)
        p[i + 2] = UInt8(clamping: (Int(p[i + 2]) + 3 * c.b) / 4)
    }
}

/// FNV-1a, 64 bits: a stable hash for seeding (Swift's Hasher is randomised per process).
func fnv1a(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    return hash
}

/// A small, seedable random number generator (SplitMix64); tests use it for ledgers that are
/// the same every run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
