import Imaging
import Testing

/// The masks Fill is sent, and the larger canvas an extension makes, byte by byte.
@Suite("Fill masks and extended canvases")
struct MaskTests {
    /// The pixels of `image` that are white, as (x, y) pairs.
    static func white(_ image: RGBImage) -> Set<[Int]> {
        var found: Set<[Int]> = []
        for y in 0..<image.height {
            for x in 0..<image.width {
                let (r, g, b) = image.pixel(x: x, y: y)
                if r == 255, g == 255, b == 255 { found.insert([x, y]) }
                #expect((r == 0 && g == 0 && b == 0) || (r == 255 && g == 255 && b == 255), "(\(x), \(y)) is neither black nor white")
            }
        }
        return found
    }

    static func cells(_ rects: [PixelRect]) -> Set<[Int]> {
        Set(rects.flatMap { r in (r.y..<(r.y + r.height)).flatMap { y in (r.x..<(r.x + r.width)).map { [$0, y] } } })
    }

    @Test("a mask is white exactly inside its rectangles (overlapping ones too), clipped to the image; inverted swaps black and white")
    func rectangles() {
        let rects = [PixelRect(x: 1, y: 2, width: 3, height: 2), PixelRect(x: 3, y: 3, width: 4, height: 3)]
        let mask = FillMasks.mask(width: 9, height: 7, rects: rects)
        #expect(mask.width == 9 && mask.height == 7)
        #expect(Self.white(mask) == Self.cells(rects))
        #expect(Self.white(mask).count == 6 + 12 - 1, "the overlapping pixel is counted once")
        // Past the edges: only the part inside is white.
        let edge = FillMasks.mask(width: 5, height: 4, rects: [PixelRect(x: 3, y: 2, width: 10, height: 10)])
        #expect(Self.white(edge) == Self.cells([PixelRect(x: 3, y: 2, width: 2, height: 2)]))
        // Inverted: white everywhere else.
        let inverted = FillMasks.mask(width: 9, height: 7, rects: rects, inverted: true)
        #expect(Self.white(inverted).count == 9 * 7 - Self.cells(rects).count)
        #expect(Self.white(inverted).isDisjoint(with: Self.cells(rects)))
        // Odd sizes, one pixel wide.
        #expect(Self.white(FillMasks.mask(width: 1, height: 1, rects: [PixelRect(x: 0, y: 0, width: 1, height: 1)])) == [[0, 0]])
    }

    @Test("X,Y,W,H is read in whole pixels; anything else is refused; clipping never overflows")
    func parsing() {
        #expect(PixelRect(parsing: "10, 20,30,40") == PixelRect(x: 10, y: 20, width: 30, height: 40))
        for bad in ["1,2,3", "1,2,3,4,5", "-1,0,3,3", "0,0,0,5", "a,b,c,d", "1.5,2,3,4", ""] {
            #expect(PixelRect(parsing: bad) == nil, "\(bad)")
        }
        #expect(PixelRect(x: Int.max - 1, y: 0, width: Int.max, height: 1).clipped(width: 10, height: 10) == nil)
        #expect(PixelRect(x: 2, y: 2, width: Int.max, height: Int.max).clipped(width: 10, height: 10) == PixelRect(x: 2, y: 2, width: 8, height: 8))
        #expect(CanvasExtension.parse("right=256,top=32") == .success(CanvasExtension(right: 256, top: 32)))
        for bad in ["", "right", "right=-5", "sideways=3", "right=99999", "right=0"] {
            guard case .failure = CanvasExtension.parse(bad) else {
                Issue.record("\(bad) was taken")
                continue
            }
        }
    }

    @Test("an extended canvas keeps the picture where it was, fills the new area from the nearest edge, and masks the new area with an overlap")
    func extend() {
        // A 4×3 picture whose every pixel is different.
        var pixels: [UInt8] = []
        for y in 0..<3 {
            for x in 0..<4 { pixels += [UInt8(x * 60), UInt8(y * 100), 7] }
        }
        let picture = RGBImage(width: 4, height: 3, pixels: pixels)
        let sides = CanvasExtension(left: 2, right: 3, top: 1, bottom: 0)
        let (canvas, mask) = FillMasks.extend(picture, by: sides, overlap: 1)
        #expect(canvas.width == 4 + 5 && canvas.height == 3 + 1)
        #expect(mask.width == canvas.width && mask.height == canvas.height)
        for y in 0..<canvas.height {
            for x in 0..<canvas.width {
                // The old picture where it was; elsewhere its nearest pixel.
                let nearest = picture.pixel(x: min(max(x - 2, 0), 3), y: min(max(y - 1, 0), 2))
                #expect(canvas.pixel(x: x, y: y) == nearest, "(\(x), \(y))")
            }
        }
        // Black (kept) is the old picture less one pixel on each side that grew (left, right,
        // top); the bottom did not grow, so its last row is kept to the edge.
        let kept = Self.cells([PixelRect(x: 3, y: 2, width: 2, height: 2)])
        let all = Self.cells([PixelRect(x: 0, y: 0, width: canvas.width, height: canvas.height)])
        #expect(Self.white(mask) == all.subtracting(kept))
        // Extending nothing keeps every pixel.
        let (same, none) = FillMasks.extend(picture, by: CanvasExtension(), overlap: 8)
        #expect(same == picture && Self.white(none).isEmpty)
    }

    @Test("cells map to exact pixel rectangles: at every grid and image size (odd ones too) the cells tile the image, no pixel shared or skipped")
    func cellsToPixels() {
        let grids = [(7, 5), (120, 38), (33, 17), (1, 1), (64, 64)]
        let images = [(1024, 768), (1023, 767), (13, 9), (2048, 2048), (5, 3)]
        for (columns, rows) in grids {
            for (width, height) in images {
                var covered = [Int](repeating: 0, count: width * height)
                for row in 0..<rows {
                    for column in 0..<columns {
                        let rect = GridRect(x: column, y: row, width: 1, height: 1, columns: columns, rows: rows).pixels(width: width, height: height)
                        for y in rect.y..<(rect.y + rect.height) {
                            for x in rect.x..<(rect.x + rect.width) { covered[y * width + x] += 1 }
                        }
                    }
                }
                #expect(covered.allSatisfy { $0 == 1 }, "\(columns)×\(rows) cells over \(width)×\(height)")
            }
        }
        // A rectangle of cells is the union of its cells' pixels: 3×2 cells of a 10×8 grid over 1000×800.
        let rect = GridRect(x: 2, y: 3, width: 3, height: 2, columns: 10, rows: 8)
        #expect(rect.pixels(width: 1000, height: 800) == PixelRect(x: 200, y: 300, width: 300, height: 200))
        #expect(rect.pixels(width: 1001, height: 799) == PixelRect(x: 200, y: 299, width: 300, height: 200))
        // Two corners, in either order, clamped to the grid.
        #expect(GridRect.spanning((4, 6), (1, 2), columns: 10, rows: 8) == GridRect(x: 1, y: 2, width: 4, height: 5, columns: 10, rows: 8))
        #expect(GridRect.spanning((12, 9), (8, 7), columns: 10, rows: 8) == GridRect(x: 8, y: 7, width: 2, height: 1, columns: 10, rows: 8))
        // After a resize to a grid twice as fine, the same area is 6×4 cells there.
        var inside = 0
        for row in 0..<16 { for column in 0..<20 where rect.contains(column: column, row: row, columns: 20, rows: 16) { inside += 1 } }
        #expect(inside == 24)
        #expect(rect.contains(column: 4, row: 6, columns: 20, rows: 16) && !rect.contains(column: 3, row: 6, columns: 20, rows: 16))
    }
}
