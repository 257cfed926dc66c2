import Testing
import TerminalCore

/// What one read of the terminal becomes: pastes are text, never keys.
@Suite("Input decoder: bracketed and plain pastes")
struct InputDecoderTests {
    static func units(_ text: String) -> [InputUnit] { text.unicodeScalars.map { .scalar($0.value) } }
    static let start = "\u{1B}[200~"
    static let end = "\u{1B}[201~"

    @Test("a terminal's late answers (kitty's graphics reply, XTVERSION, device attributes, a background colour) are never keys, however split")
    func lateAnswers() {
        // What Debian 12's kitty answered the startup query with, after the studio stopped
        // waiting for it; it used to be typed into the prompt as "Gi=31;OK>|kitty(0.26.5)?62;c".
        // And a mouse report in the SGR encoding that the terminal library does not read (a
        // click over the viewer once typed its final `m`: mask mode opened).
        let answer = "\u{1B}_Gi=31;OK\u{1B}\\\u{1B}P>|kitty(0.26.5)\u{1B}\\\u{1B}[?62;c\u{1B}]11;rgb:0000/0000/0000\u{07}"
            + "\u{1B}[<0;60;12M\u{1B}[<0;60;12m"
        let whole = Array(Self.units("a" + answer + "b"))
        // Not right after an Esc: a read that ends in Esc is the Esc key (as above).
        for cut in 1..<whole.count where whole[cut - 1] != .scalar(27) {
            var decoder = InputDecoder()
            var events = decoder.decode(Array(whole[..<cut]))
            events += decoder.decode(Array(whole[cut...]))
            if decoder.awaitsMore { events += decoder.decode([], final: true) }
            #expect(events == [.key(.char("a")), .key(.char("b"))], "cut at \(cut)")
        }
        // Alt with a letter is still Alt, and Alt-P that nothing follows is Alt-P.
        var decoder = InputDecoder()
        #expect(decoder.decode(Self.units("\u{1B}x")) == [.key(Key(.char("x"), .alt))])
        var events = decoder.decode(Self.units("\u{1B}P"))
        if decoder.awaitsMore { events += decoder.decode([], final: true) }
        #expect(events == [.key(Key(.char("P"), .alt))])
    }

    @Test("a bracketed paste of three lines is one paste with its line breaks")
    func bracketed() {
        var decoder = InputDecoder()
        let events = decoder.decode(Self.units(Self.start + "one\rtwo\r\nthree\r" + Self.end))
        #expect(events == [.paste("one\ntwo\nthree\n")])
        #expect(!decoder.isPasting)
    }

    @Test("markers and text split across reads at every point still make one paste")
    func splitEverywhere() {
        let whole = Array(Self.units("a" + Self.start + "line 1\rline 2" + Self.end + "b"))
        // Not right after the opening Esc: ncurses hands an Esc over with what follows it, and a
        // lone Esc is the Esc key at once (so Esc then a quick key is never read as Alt).
        for cut in 1..<whole.count where cut != 2 {
            var decoder = InputDecoder()
            var events = decoder.decode(Array(whole[..<cut]))
            events += decoder.decode(Array(whole[cut...]))
            if decoder.awaitsMore { events += decoder.decode([], final: true) }
            #expect(events == [.key(.char("a")), .paste("line 1\nline 2"), .key(.char("b"))], "cut at \(cut)")
        }
    }

    @Test("without brackets, text and its line ends in one read are a paste, not Enter")
    func plainPaste() {
        var decoder = InputDecoder()
        #expect(decoder.decode(Self.units("one\rtwo\rthree")) == [.paste("one\ntwo\nthree")])
        #expect(decoder.decode(Self.units("tail\r")) == [.paste("tail\n")])
    }

    @Test("typed keys stay keys: Enter alone, a letter alone, Enter before text")
    func typing() {
        var decoder = InputDecoder()
        #expect(decoder.decode(Self.units("\r")) == [.key(Key(.enter))])
        #expect(decoder.decode(Self.units("q")) == [.key(.char("q"))])
        #expect(decoder.decode(Self.units("jj")) == [.key(.char("j")), .key(.char("j"))])
        #expect(decoder.decode(Self.units("\rab")) == [.key(Key(.enter)), .key(.char("a")), .key(.char("b"))])
        #expect(decoder.decode([.scalar(9), .event(.key(Key(.down))), .scalar(13)]) == [.key(Key(.tab)), .key(Key(.down)), .key(Key(.enter))])
    }

    @Test("Esc alone is Escape at once; Esc then a letter in the same read is Alt; a paste that never ends, ends")
    func escape() {
        var decoder = InputDecoder()
        #expect(decoder.decode(Self.units("\u{1B}")) == [.key(Key(.escape))])
        #expect(!decoder.awaitsMore)
        #expect(decoder.decode([.scalar(17)]) == [.key(.ctrl("q"))])
        var open = InputDecoder()
        #expect(open.decode(Self.units(Self.start + "half")).isEmpty)
        #expect(open.isPasting)
        #expect(open.decode([], final: true) == [.paste("half")])
        #expect(open.decode(Self.units("q")) == [.key(.char("q"))])
        #expect(decoder.decode(Self.units("\u{1B}x")) == [.key(.alt("x"))])
        #expect(decoder.decode(Self.units("\u{1B}\r")) == [.key(Key(.enter, .alt))])
    }

    @Test("an unfinished marker that never completes is read as the keys it spells")
    func unfinishedMarker() {
        var decoder = InputDecoder()
        #expect(decoder.decode(Self.units("\u{1B}[20")).isEmpty)
        #expect(decoder.awaitsMore)
        #expect(decoder.decode([], final: true) == [.key(.alt("[")), .key(.char("2")), .key(.char("0"))])
    }

    @Test("control characters and escape sequences inside a paste are dropped; resizes still pass")
    func inertPaste() {
        var decoder = InputDecoder()
        let events = decoder.decode(Self.units(Self.start + "a\u{7}b\u{1B}c") + [.event(.resize(width: 80, height: 24)), .event(.key(Key(.up)))]
                                    + Self.units("d" + Self.end))
        #expect(events == [.resize(width: 80, height: 24), .paste("abcd")])
    }
}
