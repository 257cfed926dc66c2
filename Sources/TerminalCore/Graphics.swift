/// How pictures reach the screen: as block characters (every terminal), or as real pixels
/// through one of three terminal graphics protocols.
public enum GraphicsProtocol: String, Sendable, Hashable, CaseIterable {
    /// Half, quadrant and shade blocks drawn as ordinary cells.
    case blocks
    /// The kitty graphics protocol with Unicode placeholders (kitty, Ghostty): the image is
    /// transmitted once and shown by placeholder cells, which scroll, clip and clear like text.
    case kitty
    /// iTerm2's inline images (OSC 1337), also spoken by WezTerm.
    case iterm2
    /// DEC sixel graphics (foot, xterm -ti vt340, Windows Terminal, mlterm, Konsole).
    case sixel

    /// Whether pictures are real pixels.
    public var isPixels: Bool { self != .blocks }
}

/// A picture a view wants shown in real pixels over `area` (cells), where the view has
/// already drawn it in blocks. `key` names the content (for example its file and size): the
/// same key is the same picture, so a terminal that keeps images is sent it once.
public struct ImagePlacement: Sendable, Hashable {
    public var key: String
    public var area: Rect
    public var picture: Picture

    public init(key: String, area: Rect, picture: Picture) {
        self.key = key
        self.area = area
        self.picture = picture
    }
}

/// A picture on screen in a frame, as the screen tells the backend: the kitty image number
/// the placeholder cells name (0 for the other protocols), and whether the backend has not
/// been given this picture at this place before.
public struct ShownImage: Sendable, Hashable {
    public var id: Int
    public var placement: ImagePlacement
    public var isNew: Bool
}

/// The pictures of one frame: those shown, and the areas where a picture was last frame and
/// is no more (a terminal that draws pixels over cells must repaint them).
public struct FrameImages: Sendable, Hashable {
    public var shown: [ShownImage] = []
    public var removed: [Rect] = []
    public static let none = FrameImages()
    public var isEmpty: Bool { shown.isEmpty && removed.isEmpty }
}

/// The kitty graphics protocol's Unicode placeholders ("Unicode placeholders" in its
/// specification): the character U+10EEEE with two combining marks, the first naming the
/// image row and the second the image column by their index in the specification's table of
/// diacritics; the cell's foreground colour names the image (256-colour form: the id is the
/// colour index).
public enum KittyPlaceholder {
    public static let character: UInt32 = 0x10EEEE

    /// The first 129 entries of kitty's `rowcolumn-diacritics.txt`: index n stands for n.
    public static let diacritics: [UInt32] = [
        0x0305, 0x030D, 0x030E, 0x0310, 0x0312, 0x033D, 0x033E, 0x033F, 0x0346, 0x034A, 0x034B, 0x034C,
        0x0350, 0x0351, 0x0352, 0x0357, 0x035B, 0x0363, 0x0364, 0x0365, 0x0366, 0x0367, 0x0368, 0x0369,
        0x036A, 0x036B, 0x036C, 0x036D, 0x036E, 0x036F, 0x0483, 0x0484, 0x0485, 0x0486, 0x0487, 0x0592,
        0x0593, 0x0594, 0x0595, 0x0597, 0x0598, 0x0599, 0x059C, 0x059D, 0x059E, 0x059F, 0x05A0, 0x05A1,
        0x05A8, 0x05A9, 0x05AB, 0x05AC, 0x05AF, 0x05C4, 0x0610, 0x0611, 0x0612, 0x0613, 0x0614, 0x0615,
        0x0616, 0x0617, 0x0657, 0x0658, 0x0659, 0x065A, 0x065B, 0x065D, 0x065E, 0x06D6, 0x06D7, 0x06D8,
        0x06D9, 0x06DA, 0x06DB, 0x06DC, 0x06DF, 0x06E0, 0x06E1, 0x06E2, 0x06E4, 0x06E7, 0x06E8, 0x06EB,
        0x06EC, 0x0730, 0x0732, 0x0733, 0x0735, 0x0736, 0x073A, 0x073D, 0x073F, 0x0740, 0x0741, 0x0743,
        0x0745, 0x0747, 0x0749, 0x074A, 0x07EB, 0x07EC, 0x07ED, 0x07EE, 0x07EF, 0x07F0, 0x07F1, 0x07F3,
        0x0816, 0x0817, 0x0818, 0x0819, 0x081B, 0x081C, 0x081D, 0x081E, 0x081F, 0x0820, 0x0821, 0x0822,
        0x0823, 0x0825, 0x0826, 0x0827, 0x0829, 0x082A, 0x082B, 0x082C, 0x082D,
    ]

    /// The most rows or columns one placement can name.
    public static var maxSpan: Int { diacritics.count }

    /// The placeholder for image row `row`, column `column` (both below `maxSpan`).
    public static func glyph(row: Int, column: Int) -> Glyph {
        table[min(row, maxSpan - 1) * maxSpan + min(column, maxSpan - 1)]
    }

    /// Every placeholder, made once: frames with pictures take them from here instead of
    /// spelling a string a cell.
    private static let table: [Glyph] = {
        var glyphs: [Glyph] = []
        glyphs.reserveCapacity(diacritics.count * diacritics.count)
        for row in diacritics {
            for column in diacritics {
                var text = String.UnicodeScalarView()
                for value in [character, row, column] {
                    if let scalar = Unicode.Scalar(value) { text.append(scalar) }
                }
                glyphs.append(Glyph(String(text)))
            }
        }
        return glyphs
    }()

    /// The image numbers fluxdeck uses: 256-colour indexes past the 16 ANSI colours (a
    /// terminal may send those as `3x`/`9x` codes, which do not name an image).
    public static let ids = 16...255
}

/// Which kitty image number shows which picture: a number stays with its picture while the
/// picture keeps being shown, and the least recently shown one is given to a new picture
/// when all are taken.
public struct ImageNumbers: Sendable {
    private var byKey: [String: Int] = [:]
    private var keyOf: [Int: String] = [:]
    private var lastUsed: [Int: Int] = [:]
    private var clock = 0

    public init() {}

    /// The number for `key`, and whether it was just given (the picture must be sent).
    public mutating func number(for key: String) -> (id: Int, isNew: Bool) {
        clock += 1
        if let id = byKey[key] {
            lastUsed[id] = clock
            return (id, false)
        }
        let id = KittyPlaceholder.ids.first { keyOf[$0] == nil }
            ?? KittyPlaceholder.ids.min { lastUsed[$0, default: 0] < lastUsed[$1, default: 0] }
            ?? KittyPlaceholder.ids.lowerBound
        if let old = keyOf[id] { byKey[old] = nil }
        byKey[key] = id
        keyOf[id] = key
        lastUsed[id] = clock
        return (id, true)
    }

    /// Forgets every number (the terminal's images were deleted).
    public mutating func reset() { self = ImageNumbers() }

    /// The numbers in use.
    public var used: [Int] { keyOf.keys.sorted() }
}
