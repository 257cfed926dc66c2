import TerminalCore
import Testing
@testable import Widgets

@Suite("Quadrant blocks")
struct QuadrantTests {
    static let red = (255, 0, 0), blue = (0, 0, 255), white = (255, 255, 255)

    @Test("each cell picks the split of its four pixels, and the two colours, that fit best", arguments: [
        ([red, red, red, red], 15, "█"),
        ([red, blue, red, blue], 5, "▌"),
        ([red, red, blue, blue], 3, "▀"),
        ([red, blue, blue, red], 9, "▚"),
        ([red, blue, blue, blue], 1, "▘"),
        ([blue, red, red, red], 1, "▘"),
    ] as [([(Int, Int, Int)], Int, String)])
    func split(_ pixels: [(Int, Int, Int)], _ mask: Int, _ glyph: String) {
        let cell = ImageBlock.quadrant(pixels)
        #expect(cell.mask == mask)
        #expect(ImageBlock.quadrantGlyphs[cell.mask].string == glyph)
        // The set quadrants take the upper left pixel's colour, the others the rest's.
        #expect(cell.fg == pixels[0])
        if mask != 15 { #expect(cell.bg == pixels.first { $0 != pixels[0] }!) }
    }

    @Test("a 4×2 picture in a 2×1 area: two cells, twice the columns of half blocks")
    func render() {
        // Left cell: red over blue columns (▌ red on blue); right cell: white above, red below (▀).
        let rgb: [(Int, Int, Int)] = [Self.red, Self.blue, Self.white, Self.white, Self.red, Self.blue, Self.red, Self.red]
        let pixels = rgb.flatMap { [UInt8($0.0), UInt8($0.1), UInt8($0.2)] }
        var buffer = Buffer(area: Rect(width: 2, height: 1))
        ImageBlock(Picture(width: 4, height: 2, pixels: pixels), quadrants: true).render(into: &buffer, area: buffer.area)
        #expect(buffer.lines == ["▌▀"])
        #expect(buffer[0, 0].style == CellStyle(fg: .rgb(255, 0, 0), bg: .rgb(0, 0, 255)))
        #expect(buffer[1, 0].style == CellStyle(fg: .rgb(255, 255, 255), bg: .rgb(255, 0, 0)))
    }
}
