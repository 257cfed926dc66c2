/// A small RGB picture (a preview), rows top to bottom, three bytes a pixel.
public struct Picture: Sendable, Hashable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The cells a `width` × `height` picture takes in `area`, centred and as large as fits (a
    /// cell is two pixel rows tall): the one rule for drawing a picture and for knowing which
    /// cells show which part of it (mask mode maps clicks and keys through it).
    public static func fitted(width: Int, height: Int, in area: Rect) -> Rect {
        guard width > 0, height > 0, !area.isEmpty else { return .zero }
        let maxW = area.width, maxH = area.height * 2
        var w = maxW
        var h = w * height / width
        if h > maxH { h = maxH; w = max(1, h * width / height) }
        return Rect(x: area.x + (area.width - w) / 2, y: area.y + (area.height - (h + 1) / 2) / 2, width: w, height: (h + 1) / 2)
    }
}
