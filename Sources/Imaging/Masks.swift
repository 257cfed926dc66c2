import Foundation

/// A rectangle in an image's pixels: `x`, `y` its top-left corner, `width` × `height` its size.
public struct PixelRect: Sendable, Hashable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// Reads `X,Y,W,H` (whole pixels, W and H at least 1); nil for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 4, let x = parts[0], let y = parts[1], let width = parts[2], let height = parts[3],
              x >= 0, y >= 0, width >= 1, height >= 1 else { return nil }
        self.init(x: x, y: y, width: width, height: height)
    }

    public var description: String { "\(x),\(y),\(width),\(height)" }

    /// The part of the rectangle inside a `width` × `height` image (nil when none is).
    public func clipped(width imageWidth: Int, height imageHeight: Int) -> PixelRect? {
        func end(_ start: Int, _ length: Int, _ limit: Int) -> Int {
            let (sum, overflow) = start.addingReportingOverflow(length)
            return overflow ? limit : min(limit, sum)
        }
        let left = max(0, x), top = max(0, y)
        let right = end(x, width, imageWidth), bottom = end(y, height, imageHeight)
        guard right > left, bottom > top else { return nil }
        return PixelRect(x: left, y: top, width: right - left, height: bottom - top)
    }
}

/// How far a canvas grows on each side, in pixels.
public struct CanvasExtension: Sendable, Hashable, CustomStringConvertible {
    public var left = 0
    public var right = 0
    public var top = 0
    public var bottom = 0

    public init(left: Int = 0, right: Int = 0, top: Int = 0, bottom: Int = 0) {
        self.left = left
        self.right = right
        self.top = top
        self.bottom = bottom
    }

    /// The most a side may grow by in one step (Fill's own limit is on the whole image).
    public static let maxSide = 2048

    /// Reads `left=N,right=N,top=N,bottom=N` (any of them, any order); a problem is a sentence.
    public static func parse(_ text: String) -> Result<CanvasExtension, ImagingError> {
        var sides = CanvasExtension()
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let amount = Int(pair[1]), (0...maxSide).contains(amount) else {
                return .failure(ImagingError("--extend takes side=pixels (0–\(maxSide)), such as right=256 (got \"\(part)\")"))
            }
            switch pair[0].lowercased() {
            case "left": sides.left = amount
            case "right": sides.right = amount
            case "top": sides.top = amount
            case "bottom": sides.bottom = amount
            default: return .failure(ImagingError("--extend sides are left, right, top and bottom (got \"\(pair[0])\")"))
            }
        }
        guard !sides.isEmpty else { return .failure(ImagingError("--extend needs at least one side, such as right=256")) }
        return .success(sides)
    }

    public var isEmpty: Bool { left == 0 && right == 0 && top == 0 && bottom == 0 }

    /// The four sides, named as `--extend` names them.
    public enum Side: String, Sendable, Hashable, CaseIterable {
        case left, right, top, bottom
    }

    /// How far `side` grows.
    public subscript(side: Side) -> Int {
        get {
            switch side {
            case .left: left
            case .right: right
            case .top: top
            case .bottom: bottom
            }
        }
        set {
            switch side {
            case .left: left = newValue
            case .right: right = newValue
            case .top: top = newValue
            case .bottom: bottom = newValue
            }
        }
    }

    /// The studio's step for a side of an image `length` pixels across it: 32 pixels, or
    /// (`large`) a quarter of the length, in whole 32s.
    public static func step(length: Int, large: Bool) -> Int {
        large ? max(32, (length / 4 + 16) / 32 * 32) : 32
    }

    /// The size of the canvas a `width` × `height` image grows to.
    public func grown(width: Int, height: Int) -> (width: Int, height: Int) {
        (width + left + right, height + top + bottom)
    }

    /// Why a `width` × `height` image cannot be extended this far, or nil: a side over
    /// `maxSide`, or a canvas over the pixels fluxdeck decodes and makes (`ImageCodec`'s limit).
    public func problem(width: Int, height: Int) -> String? {
        if let side = Side.allCases.first(where: { self[$0] > Self.maxSide }) {
            return "a side grows by at most \(Self.maxSide) px at a time (\(side.rawValue) would be \(self[side]))"
        }
        let grown = grown(width: width, height: height)
        guard grown.width * grown.height <= ImageCodec.defaultMaxPixels else {
            return "extended, it would be \(grown.width)×\(grown.height), over \(ImageCodec.defaultMaxPixels / 1_000_000) megapixels; extend it by less"
        }
        return nil
    }

    public var description: String {
        [("left", left), ("right", right), ("top", top), ("bottom", bottom)].filter { $0.1 > 0 }.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
    }
}

/// Masks for Fill (white repaints, black keeps) and the larger canvas an extension needs.
public enum FillMasks {
    /// A `width` × `height` mask, white inside `rects` (clipped to the image), black elsewhere;
    /// `inverted` swaps the two.
    public static func mask(width: Int, height: Int, rects: [PixelRect], inverted: Bool = false) -> RGBImage {
        let levels = levels(width: width, height: height, rects: rects, inverted: inverted)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for (i, level) in levels.enumerated() where level != 0 {
            pixels[i * 3] = level
            pixels[i * 3 + 1] = level
            pixels[i * 3 + 2] = level
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The same mask as one grey level a pixel (`width * height` bytes), as it is sent.
    public static func levels(width: Int, height: Int, rects: [PixelRect], inverted: Bool = false) -> [UInt8] {
        let outside: UInt8 = inverted ? 255 : 0
        var levels = [UInt8](repeating: outside, count: width * height)
        levels.withUnsafeMutableBufferPointer { buffer in
            for rect in rects {
                guard let clipped = rect.clipped(width: width, height: height) else { continue }
                for y in clipped.y..<(clipped.y + clipped.height) {
                    let start = y * width + clipped.x
                    buffer[start..<(start + clipped.width)].update(repeating: 255 - outside)
                }
            }
        }
        return levels
    }

    /// How far the repainted area reaches back into the old picture, so the seam is redrawn.
    public static let overlap = 8

    /// `image` on a canvas grown by `sides`, the new area filled from the nearest edge pixels,
    /// and the mask of the new area (with `overlap` pixels of the old, where it has them).
    public static func extend(_ image: RGBImage, by sides: CanvasExtension, overlap: Int = overlap) -> (image: RGBImage, mask: RGBImage) {
        let canvas = canvas(image, by: sides)
        return (canvas, mask(width: canvas.width, height: canvas.height,
                             rects: kept(width: image.width, height: image.height, by: sides, overlap: overlap), inverted: true))
    }

    /// `image` on a canvas grown by `sides`, the new area filled from the nearest edge pixels.
    public static func canvas(_ image: RGBImage, by sides: CanvasExtension) -> RGBImage {
        let (width, height) = sides.grown(width: image.width, height: image.height)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        image.pixels.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { target in
                for y in 0..<height {
                    // The nearest row and column of the old picture.
                    let sourceY = min(max(y - sides.top, 0), image.height - 1)
                    for x in 0..<width {
                        let sourceX = min(max(x - sides.left, 0), image.width - 1)
                        let from = (sourceY * image.width + sourceX) * 3
                        let to = (y * width + x) * 3
                        target[to] = source[from]
                        target[to + 1] = source[from + 1]
                        target[to + 2] = source[from + 2]
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// What an extension keeps of a `width` × `height` picture, on the grown canvas: the old
    /// picture less `overlap` on each side that grew (the repainted area reaches into it).
    public static func kept(width: Int, height: Int, by sides: CanvasExtension, overlap: Int = overlap) -> [PixelRect] {
        let left = sides.left + (sides.left > 0 ? overlap : 0)
        let top = sides.top + (sides.top > 0 ? overlap : 0)
        let right = sides.left + width - (sides.right > 0 ? overlap : 0)
        let bottom = sides.top + height - (sides.bottom > 0 ? overlap : 0)
        guard right > left, bottom > top else { return [] }
        return [PixelRect(x: left, y: top, width: right - left, height: bottom - top)]
    }
}

/// A rectangle of cells on a grid laid over an image (the cells the picture is drawn in), kept
/// with the grid's size so it maps to the same pixels whatever the screen does later. Cell
/// edges fall on pixel `floor(i × W / columns)`, so adjacent cells never share or skip a pixel.
public struct GridRect: Sendable, Hashable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int
    public var columns: Int
    public var rows: Int

    public init(x: Int, y: Int, width: Int, height: Int, columns: Int, rows: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
        self.columns = columns
        self.rows = rows
    }

    /// The rectangle spanned by two corner cells (either order), on a `columns` × `rows` grid.
    public static func spanning(_ a: (x: Int, y: Int), _ b: (x: Int, y: Int), columns: Int, rows: Int) -> GridRect {
        let left = max(0, min(a.x, b.x)), top = max(0, min(a.y, b.y))
        let right = min(columns - 1, max(a.x, b.x)), bottom = min(rows - 1, max(a.y, b.y))
        return GridRect(x: left, y: top, width: max(1, right - left + 1), height: max(1, bottom - top + 1), columns: columns, rows: rows)
    }

    /// The pixels of a `width` × `height` image it covers.
    public func pixels(width imageWidth: Int, height imageHeight: Int) -> PixelRect {
        func edge(_ cell: Int, _ cells: Int, _ pixels: Int) -> Int { cells > 0 ? min(pixels, max(0, cell) * pixels / cells) : 0 }
        let left = edge(x, columns, imageWidth), right = edge(x + width, columns, imageWidth)
        let top = edge(y, rows, imageHeight), bottom = edge(y + height, rows, imageHeight)
        return PixelRect(x: left, y: top, width: max(0, right - left), height: max(0, bottom - top))
    }

    /// Whether the cell (`column`, `row`) of a `columns` × `rows` grid (another size, after a
    /// resize) lies mostly inside: its centre is.
    public func contains(column: Int, row: Int, columns otherColumns: Int, rows otherRows: Int) -> Bool {
        guard otherColumns > 0, otherRows > 0, columns > 0, rows > 0 else { return false }
        // Centre of the other cell, in this grid's cells, compared in whole numbers.
        let cx = (2 * column + 1) * columns, cy = (2 * row + 1) * rows
        return cx >= 2 * x * otherColumns && cx < 2 * (x + width) * otherColumns
            && cy >= 2 * y * otherRows && cy < 2 * (y + height) * otherRows
    }
}
