/// How many colours a terminal shows.
public enum ColorDepth: Sendable, Hashable {
    /// No colours (monochrome, or `NO_COLOR`): modifiers only.
    case none
    /// The 16 ANSI colours (8 on very old terminals: bright ones show as normal).
    case ansi16
    /// The 256-colour palette.
    case indexed256
    /// 24-bit colour.
    case truecolor

    /// `color` as this depth can show it; nil when colours are off.
    public func reduce(_ color: Color) -> Color? {
        switch (self, color) {
        case (.none, _): return nil
        case (_, .default): return .default
        case (.truecolor, _): return color
        case (.indexed256, .rgb(let r, let g, let b)): return .indexed(Self.nearest256(r, g, b))
        case (.indexed256, _): return color
        case (.ansi16, .ansi): return color
        case (.ansi16, .indexed(let n)):
            if n < 16 { return .ansi(n) }
            let (r, g, b) = Self.rgb(ofIndexed: n)
            return .ansi(Self.nearest16(r, g, b))
        case (.ansi16, .rgb(let r, let g, let b)): return .ansi(Self.nearest16(r, g, b))
        }
    }

    /// The xterm 256-colour index closest to an RGB value (cube or gray ramp).
    public static func nearest256(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        let levels = [0, 95, 135, 175, 215, 255]
        func level(_ v: UInt8) -> Int {
            var best = 0
            for i in levels.indices where abs(levels[i] - Int(v)) < abs(levels[best] - Int(v)) { best = i }
            return best
        }
        let (lr, lg, lb) = (level(r), level(g), level(b))
        let cube = 16 + 36 * lr + 6 * lg + lb
        let cubeDistance = distance((levels[lr], levels[lg], levels[lb]), r, g, b)
        let average = (Int(r) + Int(g) + Int(b)) / 3
        let grayIndex = min(23, max(0, (average - 8 + 5) / 10))
        let grayValue = 8 + grayIndex * 10
        let grayDistance = distance((grayValue, grayValue, grayValue), r, g, b)
        return UInt8(grayDistance < cubeDistance ? 232 + grayIndex : cube)
    }

    /// The ANSI colour closest to an RGB value (by the usual xterm palette).
    public static func nearest16(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        var best = 0
        var bestDistance = Int.max
        for (index, value) in ansiPalette.enumerated() {
            let d = distance(value, r, g, b)
            if d < bestDistance { best = index; bestDistance = d }
        }
        return UInt8(best)
    }

    static func rgb(ofIndexed n: UInt8) -> (UInt8, UInt8, UInt8) {
        if n < 16 { let c = ansiPalette[Int(n)]; return (UInt8(c.0), UInt8(c.1), UInt8(c.2)) }
        if n >= 232 { let v = UInt8(8 + (Int(n) - 232) * 10); return (v, v, v) }
        let levels: [UInt8] = [0, 95, 135, 175, 215, 255]
        let i = Int(n) - 16
        return (levels[i / 36], levels[(i / 6) % 6], levels[i % 6])
    }

    private static func distance(_ c: (Int, Int, Int), _ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int {
        let dr = c.0 - Int(r), dg = c.1 - Int(g), db = c.2 - Int(b)
        return dr * dr * 3 + dg * dg * 4 + db * db * 2
    }

    static let ansiPalette: [(Int, Int, Int)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]
}
