import NcursesBackend
import Testing
import TerminalCore

@Suite("Key decoder and colour reduction")
struct BackendTests {
    static let table: [(UInt32, Key)] = [
        (97, .char("a")), (3, .ctrl("c")), (21, .ctrl("u")), (9, Key(.tab)), (13, Key(.enter)),
        (10, Key(.enter)), (127, Key(.backspace)), (8, Key(.backspace)), (27, Key(.escape)), (0x65E5, .char("日")),
        (32, .char(" ")),
    ]

    @Test("characters from get_wch", arguments: table)
    func characters(_ value: UInt32, _ key: Key) {
        #expect(KeyDecoder.character(value) == key)
    }

    @Test("unused control codes give nothing")
    func ignored() {
        #expect(KeyDecoder.character(28) == nil)
    }

    @Test("256-colour and 16-colour reduction")
    func reduction() {
        #expect(ColorDepth.indexed256.reduce(.rgb(255, 0, 0)) == .indexed(196))
        #expect(ColorDepth.indexed256.reduce(.rgb(128, 128, 128)) == .indexed(244))
        #expect(ColorDepth.indexed256.reduce(.rgb(0, 0, 0)) == .indexed(16))
        #expect(ColorDepth.ansi16.reduce(.rgb(250, 10, 10)) == .ansi(9))
        #expect(ColorDepth.ansi16.reduce(.indexed(196)) == .ansi(9))
        #expect(ColorDepth.ansi16.reduce(.indexed(4)) == .ansi(4))
        #expect(ColorDepth.none.reduce(.red) == nil)
        #expect(ColorDepth.truecolor.reduce(.rgb(1, 2, 3)) == .rgb(1, 2, 3))
        #expect(ColorDepth.ansi16.reduce(.default) == .default)
    }
}
