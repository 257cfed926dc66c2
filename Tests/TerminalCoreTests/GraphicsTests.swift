import CNcursesw
import Foundation
import Imaging
import NcursesBackend
import TerminalCore
import TerminalGraphics
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The 4×4 test picture: red upper left, green upper right, blue lower left, white lower right
/// (2×2 pixels each).
let quadPicture: Picture = {
    let (r, g, b, w): ([UInt8], [UInt8], [UInt8], [UInt8]) = ([255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255])
    let rows = [r + r + g + g, r + r + g + g, b + b + w + w, b + b + w + w]
    return Picture(width: 4, height: 4, pixels: rows.flatMap { $0 })
}()

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

@Suite("Picture encoders")
struct EncoderTests {
    /// kitty graphics protocol, "Transferring pixel data" (f=24: three bytes a pixel, s and v
    /// the size), "Unicode placeholders" (a=T with U=1 makes a virtual placement of c×r
    /// cells) and "Suppressing responses from the terminal" (q=2).
    @Test("kitty: a 4×4 picture is one escape with every key and the RGB bytes in base64")
    func kittyTransmit() {
        let bytes = KittyGraphics.transmit(quadPicture, id: 42, columns: 4, rows: 2)
        let expected = "\u{1B}_Ga=T,U=1,f=24,t=d,s=4,v=4,i=42,c=4,r=2,q=2;"
            + "/wAA/wAAAP8AAP8A/wAA/wAAAP8AAP8AAAD/AAD/////////AAD/AAD/////////" + "\u{1B}\\"
        #expect(text(bytes) == expected)
    }

    /// "Remote client" / chunked transmission: base64 data in chunks of at most 4096 bytes;
    /// every chunk but the last carries m=1, the last m=0; only the first carries the keys.
    @Test("kitty: a larger picture goes in 4096-byte chunks, m=1 until the last, m=0")
    func kittyChunks() {
        let picture = Picture(width: 40, height: 40, pixels: [UInt8](repeating: 7, count: 40 * 40 * 3))
        let escapes = text(KittyGraphics.transmit(picture, id: 16, columns: 10, rows: 5)).components(separatedBy: "\u{1B}\\").filter { !$0.isEmpty }
        #expect(escapes.count == 2) // 4800 bytes are 6400 in base64
        let first = escapes[0], second = escapes[1]
        #expect(first.hasPrefix("\u{1B}_Ga=T,U=1,f=24,t=d,s=40,v=40,i=16,c=10,r=5,q=2,m=1;"))
        #expect(first.split(separator: ";", maxSplits: 1)[1].count == 4096)
        #expect(second.hasPrefix("\u{1B}_Gm=0;"))
        #expect(second.split(separator: ";", maxSplits: 1)[1].count == 6400 - 4096)
        let payload = String(first.split(separator: ";", maxSplits: 1)[1]) + String(second.split(separator: ";", maxSplits: 1)[1])
        #expect(Data(base64Encoded: payload) == Data(picture.pixels))
    }

    @Test("kitty: delete frees the image's data (d=I), the query is a 1×1 a=q")
    func kittyDeleteAndQuery() {
        #expect(text(KittyGraphics.delete(id: 200)) == "\u{1B}_Ga=d,d=I,i=200,q=2\u{1B}\\")
        #expect(text(KittyGraphics.query) == "\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\")
    }

    /// "Unicode placeholders": U+10EEEE, then the row's diacritic, then the column's, from
    /// rowcolumn-diacritics.txt (index n means n).
    @Test("kitty placeholders: U+10EEEE, the row's diacritic, the column's")
    func placeholders() {
        #expect(Array(KittyPlaceholder.glyph(row: 0, column: 0).string.unicodeScalars.map(\.value)) == [0x10EEEE, 0x0305, 0x0305])
        #expect(Array(KittyPlaceholder.glyph(row: 2, column: 5).string.unicodeScalars.map(\.value)) == [0x10EEEE, 0x030E, 0x033D])
        #expect(Array(KittyPlaceholder.glyph(row: 128, column: 16).string.unicodeScalars.map(\.value)) == [0x10EEEE, 0x082D, 0x035B])
        #expect(KittyPlaceholder.maxSpan == 129)
        #expect(Set(KittyPlaceholder.diacritics).count == KittyPlaceholder.diacritics.count)
        // Every diacritic combines (no column of its own), so a placeholder is one cell.
        #expect(KittyPlaceholder.diacritics.allSatisfy { DisplayWidth.of(Unicode.Scalar($0)!) == 0 })
        #expect(DisplayWidth.of(KittyPlaceholder.glyph(row: 40, column: 90).string) == 1)
    }

    /// iTerm2 "Inline Images Protocol": ESC ] 1337 ; File = [arguments] : base64 ^G, with
    /// inline=1 to show it, size in bytes, width and height in cells.
    @Test("iTerm2: OSC 1337 File= with the PNG of the picture, ended by BEL")
    func iterm2() throws {
        let bytes = try ITerm2Graphics.image(quadPicture, columns: 4, rows: 2)
        let png = try ImageCodec.encodePNG(RGBImage(width: 4, height: 4, pixels: quadPicture.pixels))
        let expected = "\u{1B}]1337;File=inline=1;size=\(png.count);width=4;height=2;preserveAspectRatio=1:" + Data(png).base64EncodedString() + "\u{07}"
        #expect(text(bytes) == expected)
        // The file inside is the picture.
        let body = text(bytes).split(separator: ":", maxSplits: 1)[1].dropLast()
        let decoded = try ImageCodec.decode(Array(try #require(Data(base64Encoded: String(body)))))
        #expect(decoded.pixels == quadPicture.pixels)
    }

    /// Sixel (VT330/VT340 Programmer Reference, "Sixel Graphics"): DCS P1;P2;P3 q, raster
    /// attributes " Pan;Pad;Ph;Pv, colour introducers # Pc;Pu;Px;Py;Pz (Pu 2: RGB percent),
    /// sixel characters 63 + bits (top pixel bit 0), $ carriage return, - next band, ST.
    @Test("sixel: the 4×4 picture, register by register")
    func sixelQuad() {
        // Blue (register 5) and white (215) fill rows 2–3 (bits 2 and 3: 63 + 12 = "K");
        // green (30) and red (180) rows 0–1 (63 + 3 = "B"). Empty tails are left out.
        let expected = "\u{1B}P0;1;0q\"1;1;4;4#5;2;0;0;100#30;2;0;100;0#180;2;100;0;0#215;2;100;100;100"
            + "#5KK$#30??BB$#180BB$#215??KK$\u{1B}\\"
        #expect(text(SixelGraphics.image(quadPicture)) == expected)
    }

    @Test("sixel: runs over three repeat with !, a seventh row starts a second band")
    func sixelBands() {
        let picture = Picture(width: 8, height: 7, pixels: [UInt8](repeating: 0, count: 8 * 7 * 3).enumerated().map { $0.offset % 3 == 0 ? 255 : 0 })
        #expect(text(SixelGraphics.image(picture)) == "\u{1B}P0;1;0q\"1;1;8;7#180;2;100;0;0#180!8~$-#180!8@$\u{1B}\\")
    }

    @Test("tmux passthrough doubles every ESC inside DCS tmux; … ST")
    func passthrough() {
        #expect(text(TmuxPassthrough.wrap(KittyGraphics.delete(id: 20))) == "\u{1B}Ptmux;\u{1B}\u{1B}_Ga=d,d=I,i=20,q=2\u{1B}\u{1B}\\\u{1B}\\")
    }
}

@Suite("Choosing the picture protocol")
struct DetectionTests {
    static let kittyAnswer = "\u{1B}_Gi=31;OK\u{1B}\\\u{1B}[?62;22c"
    static let sixelAnswer = "\u{1B}[?62;4;6;22c"
    static let plainAnswer = "\u{1B}[?62;22c"
    static let oldKittyAnswer = "\u{1B}_Gi=31;OK\u{1B}\\\u{1B}P>|kitty(0.26.5)\u{1B}\\\u{1B}[?62;c"

    @Test("answers are read from the bytes, whatever else arrived")
    func parsing() {
        #expect(TerminalAnswers(parsing: Array(Self.kittyAnswer.utf8)) == TerminalAnswers(kitty: true, sixel: false, answered: true))
        #expect(TerminalAnswers(parsing: Array(("x" + Self.sixelAnswer).utf8)) == TerminalAnswers(kitty: false, sixel: true, answered: true))
        #expect(TerminalAnswers(parsing: Array("\u{1B}_Gi=31;ENOTSUPPORTED:no\u{1B}\\\u{1B}[?1;2c".utf8)) == TerminalAnswers(kitty: false, sixel: false, answered: true))
        // The kitty reply alone is not the end: the device attributes are still to come.
        #expect(!TerminalAnswers.isComplete(Array("\u{1B}_Gi=31;OK\u{1B}\\".utf8)))
        #expect(!TerminalAnswers.isComplete(Array("\u{1B}[?62;".utf8)))
        #expect(TerminalAnswers(parsing: []) == TerminalAnswers())
        // "4" as the terminal class (first parameter) is not the sixel feature.
        #expect(!TerminalAnswers(parsing: Array("\u{1B}[?4;6c".utf8)).sixel)
        // XTVERSION, as Debian 12's kitty and xterm answer it; control characters dropped.
        #expect(TerminalAnswers(parsing: Array(Self.oldKittyAnswer.utf8)).version == "kitty(0.26.5)")
        #expect(TerminalAnswers(parsing: Array("\u{1B}P>|XTerm(379)\u{1B}\\\u{1B}[?63;4c".utf8)).version == "XTerm(379)")
        #expect(TerminalAnswers(parsing: Array("\u{1B}P>|ev\u{07}il\u{1B}\\\u{1B}[?63c".utf8)).version == "evil")
    }

    @Test("a kitty older than 0.28 (no Unicode placeholders) is told apart by its version")
    func oldKitty() {
        let versions: [(String, String?)] = [("kitty(0.26.5)", "0.26.5"), ("kitty(0.27)", "0.27"), ("kitty(0.28.0)", nil),
                                            ("kitty(0.35.2)", nil), ("kitty(1.0)", nil), ("kitty(x)", nil), ("XTerm(379)", nil)]
        for (version, old) in versions {
            #expect(TerminalAnswers(version: version).kittyWithoutPlaceholders == old, "\(version)")
        }
        // XTVERSION, then the background, then device attributes, which end the wait.
        #expect(GraphicsDetection.query.suffix(15) == Array("\u{1B}[>q\u{1B}]11;?\u{1B}\\\u{1B}[c".utf8))
    }

    @Test("the background colour is read from an OSC 11 answer of any channel width, ended by BEL or ST; dark or light by its luminance")
    func background() {
        func read(_ text: String) -> TerminalBackground? { TerminalAnswers(parsing: Array((text + Self.plainAnswer).utf8)).background }
        #expect(read("\u{1B}]11;rgb:0000/0000/0000\u{07}") == TerminalBackground(red: 0, green: 0, blue: 0))
        #expect(read("\u{1B}]11;rgb:ffff/ffff/ffff\u{1B}\\") == TerminalBackground(red: 255, green: 255, blue: 255))
        #expect(read("\u{1B}]11;rgb:f/8/0\u{07}") == TerminalBackground(red: 255, green: 136, blue: 0))
        #expect(read("\u{1B}]11;rgb:1e1e/1e1e/2e2e\u{1B}\\")?.hex == "#1e1e2e")
        #expect(read("\u{1B}]11;rgb:fdf6/e3e3/0000\u{07}")?.hex == "#fde300")
        // Not the rgb: form, a channel missing or not hex, no end: not told.
        for bad in ["\u{1B}]11;#000000\u{07}", "\u{1B}]11;rgb:00/00\u{07}", "\u{1B}]11;rgb:gg/00/00\u{07}",
                    "\u{1B}]11;rgb:00000/0/0\u{07}", "\u{1B}]11;rgb:00/00/00", "\u{1B}]10;rgb:ff/ff/ff\u{07}"] {
            #expect(read(bad) == nil, "\(bad.debugDescription)")
        }
        // Dark below half luminance: black, a deep blue, solarized dark; light: white, paper, yellow.
        for (colour, dark) in [((0, 0, 0), true), ((30, 30, 46), true), ((0, 43, 54), true), ((0, 0, 255), true),
                               ((255, 255, 255), false), ((253, 246, 227), false), ((255, 255, 0), false), ((128, 128, 128), false)] {
            #expect(TerminalBackground(red: colour.0, green: colour.1, blue: colour.2).isDark == dark, "\(colour)")
        }
        // The background alone is asked with device attributes after it.
        #expect(GraphicsDetection.backgroundQuery == Array("\u{1B}]11;?\u{1B}\\\u{1B}[c".utf8))
    }

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var choice: GraphicsChoice = .auto
        var environment: [String: String]
        var answer: String?
        var tmux: TmuxFacts?
        var expected: GraphicsProtocol
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "kitty answers", environment: ["TERM": "xterm-kitty"], answer: kittyAnswer, expected: .kitty),
        Case(name: "kitty 0.26 answers, but cannot draw placeholders", environment: ["TERM": "xterm-kitty", "KITTY_WINDOW_ID": "1"],
             answer: oldKittyAnswer, expected: .blocks),
        Case(name: "Ghostty answers", environment: ["TERM": "xterm-ghostty", "TERM_PROGRAM": "ghostty"], answer: kittyAnswer, expected: .kitty),
        Case(name: "foot lists sixel", environment: ["TERM": "foot"], answer: sixelAnswer, expected: .sixel),
        Case(name: "xterm without sixel", environment: ["TERM": "xterm-256color"], answer: plainAnswer, expected: .blocks),
        Case(name: "WezTerm: iTerm2 images, though it answers kitty", environment: ["TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"], answer: kittyAnswer, expected: .iterm2),
        Case(name: "iTerm2", environment: ["TERM": "xterm-256color", "TERM_PROGRAM": "iTerm.app"], answer: plainAnswer, expected: .iterm2),
        Case(name: "no answer in time, kitty's environment", environment: ["TERM": "xterm-kitty", "KITTY_WINDOW_ID": "1"], answer: "", expected: .kitty),
        Case(name: "no answer in time, foot's TERM", environment: ["TERM": "foot-extra"], answer: "", expected: .sixel),
        Case(name: "no answer in time, anything else", environment: ["TERM": "xterm-256color"], answer: "", expected: .blocks),
        Case(name: "not asked (not a terminal)", environment: ["TERM": "xterm-256color"], answer: nil, expected: .blocks),
        Case(name: "dumb terminal", environment: ["TERM": "dumb"], answer: kittyAnswer, expected: .blocks),
        Case(name: "tmux with passthrough on kitty", environment: ["TERM": "tmux-256color", "TMUX": "/tmp/t,1,0"],
             tmux: TmuxFacts(passthrough: true, clientTerm: "xterm-kitty"), expected: .kitty),
        Case(name: "tmux without passthrough", environment: ["TERM": "tmux-256color", "TMUX": "/tmp/t,1,0"],
             tmux: TmuxFacts(passthrough: false, clientTerm: "xterm-kitty"), expected: .blocks),
        Case(name: "tmux on a sixel terminal", environment: ["TERM": "tmux-256color", "TMUX": "/tmp/t,1,0"],
             tmux: TmuxFacts(passthrough: true, clientTerm: "foot"), expected: .blocks),
        Case(name: "tmux that did not answer", environment: ["TERM": "screen", "TMUX": "/tmp/t,1,0"], expected: .blocks),
        Case(name: "forced sixel", choice: .forced(.sixel), environment: ["TERM": "xterm"], expected: .sixel),
        Case(name: "forced blocks on kitty", choice: .forced(.blocks), environment: ["TERM": "xterm-kitty"], answer: kittyAnswer, expected: .blocks),
    ]

    @Test("environment, answers and tmux → protocol", arguments: cases)
    func choose(_ example: Case) {
        let answers = example.answer.map { TerminalAnswers(parsing: Array($0.utf8)) }
        let chosen = GraphicsDetection.choose(example.choice, environment: example.environment, colors256: true, answers: answers, tmux: example.tmux)
        #expect(chosen.graphics == example.expected, "\(chosen.reason)")
        #expect(!chosen.reason.isEmpty)
    }

    @Test("kitty needs 256 colours, asked for or detected")
    func colours() {
        let answers = TerminalAnswers(parsing: Array(Self.kittyAnswer.utf8))
        #expect(GraphicsDetection.choose(.auto, environment: ["TERM": "xterm-kitty"], colors256: false, answers: answers, tmux: nil).graphics == .blocks)
        #expect(GraphicsDetection.choose(.forced(.kitty), environment: ["TERM": "xterm"], colors256: false, answers: nil, tmux: nil).graphics == .blocks)
    }

    @Test("graphics = names")
    func names() {
        #expect(GraphicsChoice("Kitty") == .forced(.kitty))
        #expect(GraphicsChoice("auto") == .auto)
        #expect(GraphicsChoice("pixels") == nil)
    }
}

/// What the pretend terminal read, handed over between threads.
private final class QueryBox: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var bytes: [UInt8] = []

    func set(_ value: [UInt8]) {
        lock.withLock { bytes = value }
        done.signal()
    }

    /// Waits for the other thread (it has already answered when the probe returns).
    func wait() -> [UInt8] {
        _ = done.wait(timeout: .now() + 10)
        return lock.withLock { bytes }
    }
}

/// A pseudo-terminal pair, closed when the test ends.
private final class PseudoTerminal {
    let controller: Int32
    let terminal: Int32

    init() throws {
        var controller: Int32 = -1, terminal: Int32 = -1
        guard openpty(&controller, &terminal, nil, nil, nil) == 0 else { throw POSIXError(.ENOTTY) }
        self.controller = controller
        self.terminal = terminal
    }

    deinit {
        close(controller)
        close(terminal)
    }

    /// Reads what the program wrote (waits for the first bytes).
    func readQuery() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { read(controller, $0.baseAddress, $0.count) }
        return n > 0 ? Array(buffer[0..<n]) : []
    }

    func answer(_ text: String) {
        _ = text.withCString { write(controller, $0, strlen($0)) }
    }
}

@Suite("Asking the terminal")
struct ProbeTests {
    @Test("the answers are collected until the device attributes arrive; the settings come back")
    func answered() throws {
        let pty = try PseudoTerminal()
        var before = termios()
        tcgetattr(pty.terminal, &before)
        let controller = pty.controller
        // The terminal's side, on a thread of its own (the probe blocks the test's thread):
        // reads the query, answers like kitty.
        let received = QueryBox()
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = buffer.withUnsafeMutableBytes { read(controller, $0.baseAddress, $0.count) }
            let reply = DetectionTests.kittyAnswer
            _ = reply.withCString { write(controller, $0, strlen($0)) }
            received.set(n > 0 ? Array(buffer[0..<n]) : [])
        }
        thread.start()
        let answer = TerminalProbe.ask(GraphicsDetection.query, input: pty.terminal, output: pty.terminal,
                                       timeoutMilliseconds: 10_000, isComplete: TerminalAnswers.isComplete)
        let query = received.wait()
        #expect(query == GraphicsDetection.query)
        #expect(answer.map { TerminalAnswers(parsing: $0) } == TerminalAnswers(kitty: true, sixel: false, answered: true))
        var after = termios()
        tcgetattr(pty.terminal, &after)
        #expect(after.c_lflag == before.c_lflag)
    }

    @Test("a terminal that says nothing: empty after the timeout")
    func silent() throws {
        let pty = try PseudoTerminal()
        let answer = TerminalProbe.ask(GraphicsDetection.query, input: pty.terminal, output: pty.terminal,
                                       timeoutMilliseconds: 50, isComplete: TerminalAnswers.isComplete)
        #expect(answer == [])
        #expect(pty.readQuery() == GraphicsDetection.query)
    }

    @Test("not a terminal: nothing is asked")
    func notATerminal() throws {
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        #expect(TerminalProbe.ask(GraphicsDetection.query, input: ends[0], output: ends[1], timeoutMilliseconds: 50, isComplete: { _ in true }) == nil)
    }
}

@Suite("Pictures on the screen")
struct ScreenPictureTests {
    func frame(placing: Bool, key: String = "a.png", at area: Rect = Rect(x: 2, y: 1, width: 4, height: 2)) -> Buffer {
        var buffer = Buffer(area: Rect(width: 12, height: 5))
        buffer.setString(x: 0, y: 0, "title", style: .plain)
        if placing {
            buffer.fill(area, symbol: "▀")
            buffer.place(quadPicture, key: key, in: area)
        }
        return buffer
    }

    @Test("kitty: placeholder cells name the image by colour; it is new once, and reported gone")
    func kitty() throws {
        let backend = MemoryBackend(width: 12, height: 5)
        backend.graphics = .kitty
        let screen = Screen(backend: backend)
        screen.draw(frame(placing: true))
        let shown = try #require(backend.lastImages.shown.first)
        #expect(shown.isNew && shown.id == 16 && shown.placement.area == Rect(x: 2, y: 1, width: 4, height: 2))
        #expect(backend.screen[3, 2].glyph == KittyPlaceholder.glyph(row: 1, column: 1))
        #expect(backend.screen[3, 2].style.fg == .indexed(16))
        #expect(backend.screen.lines[0].hasPrefix("title"))
        // The same picture next frame: the terminal has it, nothing is sent again.
        screen.draw(frame(placing: true))
        #expect(backend.lastImages.shown.map(\.isNew) == [false])
        // Gone: the backend hears where it was.
        screen.draw(frame(placing: false))
        #expect(backend.lastImages.shown.isEmpty && backend.lastImages.removed == [Rect(x: 2, y: 1, width: 4, height: 2)])
        #expect(backend.screen[3, 2].symbol == " ")
        // Another picture takes the next number.
        screen.draw(frame(placing: true, key: "b.png"))
        #expect(backend.lastImages.shown.map(\.id) == [17])
    }

    @Test("sixel: blank cells under the picture; new again only when it moves")
    func sixel() {
        let backend = MemoryBackend(width: 12, height: 5)
        backend.graphics = .sixel
        let screen = Screen(backend: backend)
        screen.draw(frame(placing: true))
        #expect(backend.lastImages.shown.map(\.isNew) == [true])
        #expect(backend.screen.lines[1] == "            ")
        screen.draw(frame(placing: true))
        #expect(backend.lastImages.shown.map(\.isNew) == [false])
        screen.draw(frame(placing: true, at: Rect(x: 6, y: 1, width: 4, height: 2)))
        #expect(backend.lastImages.shown.map(\.isNew) == [true])
        #expect(backend.lastImages.removed == [Rect(x: 2, y: 1, width: 4, height: 2)])
        // After a full repaint every picture is drawn again.
        screen.invalidate()
        screen.draw(frame(placing: true, at: Rect(x: 6, y: 1, width: 4, height: 2)))
        #expect(backend.lastImages.shown.map(\.isNew) == [true])
    }

    @Test("blocks: the frame is drawn as the view made it")
    func blocks() {
        let backend = MemoryBackend(width: 12, height: 5)
        let screen = Screen(backend: backend)
        screen.draw(frame(placing: true))
        #expect(backend.screen.lines[1] == "  ▀▀▀▀      ")
        #expect(backend.lastImages == .none)
    }

    @Test("drawing over a placed picture withdraws it (an overlay stays on top)")
    func overlay() {
        var buffer = frame(placing: true)
        #expect(buffer.images.count == 1)
        buffer.setString(x: 0, y: 3, "below", style: .plain)
        #expect(buffer.images.count == 1)
        buffer.setString(x: 4, y: 2, "popup", style: .plain)
        #expect(buffer.images.isEmpty)
        var other = frame(placing: true)
        other.fill(Rect(x: 0, y: 0, width: 3, height: 2))
        #expect(other.images.isEmpty)
    }

    @Test("image numbers: kept while shown; the least recently shown is given away when all are taken")
    func numbers() {
        var numbers = ImageNumbers()
        let count = KittyPlaceholder.ids.count
        for k in 0..<count { #expect(numbers.number(for: "k\(k)") == (KittyPlaceholder.ids.lowerBound + k, true)) }
        #expect(numbers.number(for: "k0") == (16, false)) // k0 is now the most recent
        #expect(numbers.number(for: "new") == (17, true)) // k1 was the least recent
        #expect(numbers.number(for: "k1").isNew)
    }
}

// Curses is one per process: these run one at a time.
@Suite("The curses backend's picture bytes", .serialized)
struct CursesPictureTests {
    @Test("kitty: the picture is sent once, before its placeholders, and deleted at the end")
    func kittyBytes() throws {
        let written = try drawn(.kitty)
        let transmit = text(KittyGraphics.transmit(quadPicture, id: 16, columns: 4, rows: 2))
        #expect(written.components(separatedBy: transmit).count == 2, "sent exactly once")
        let placeholder = KittyPlaceholder.glyph(row: 0, column: 0).string
        let sentAt = try #require(written.range(of: transmit)), shownAt = try #require(written.range(of: placeholder))
        #expect(sentAt.upperBound <= shownAt.lowerBound)
        #expect(written.contains("38;5;16m"))
        #expect(written.contains("hello") && written.contains("world"))
        // Deleted once the studio stops: after the last thing drawn, and nothing shown after it.
        let deletedAt = try #require(written.range(of: text(KittyGraphics.delete(id: 16)), options: .backwards))
        let lastAt = try #require(written.range(of: "world", options: .backwards))
        #expect(lastAt.upperBound <= deletedAt.lowerBound)
        #expect(!written[deletedAt.upperBound...].contains(placeholder))
    }

    /// Draws the picture at (1, 1), then text below it, then text beside it, through the
    /// curses backend, and returns what reached the terminal.
    func drawn(_ graphics: GraphicsProtocol) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-\(graphics)-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let terminal = try NcursesTerminal(outputPath: path, term: "xterm-256color", width: 20, height: 6, graphics: graphics)
        let screen = Screen(backend: terminal)
        var buffer = Buffer(area: Rect(width: 20, height: 6))
        buffer.place(quadPicture, key: "q", in: Rect(x: 1, y: 1, width: 4, height: 2))
        screen.draw(buffer)
        // A change in other rows leaves the picture alone; one in its rows paints it again.
        buffer.setString(x: 10, y: 4, "hello", style: .plain)
        screen.draw(buffer)
        buffer.setString(x: 10, y: 1, "world", style: .plain)
        screen.draw(buffer)
        terminal.stop()
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    @Test("sixel: drawn at its cell with the cursor saved and restored, after the text; again only when its rows change")
    func sixelBytes() throws {
        let written = try drawn(.sixel)
        let opening = "\u{1B}7\u{1B}[2;2H\u{1B}P"
        let pictures = written.components(separatedBy: opening).dropFirst()
        #expect(pictures.count == 2, "drawn \(pictures.count) times")
        for picture in pictures {
            #expect(picture.contains("\u{1B}\\\u{1B}8"), "a sixel picture that does not end and restore the cursor")
        }
        // The first comes after the first frame's text was written, the second after "world".
        let worldAt = try #require(written.range(of: "world"))
        let secondAt = try #require(written.range(of: opening, options: .backwards))
        #expect(worldAt.upperBound <= secondAt.lowerBound)
        let helloAt = try #require(written.range(of: "hello"))
        #expect(!written[helloAt.upperBound..<worldAt.lowerBound].contains(opening), "redrawn for a change in other rows")
    }

    @Test("iTerm2: an inline PNG sized to its cells, at its cell, the cursor saved and restored")
    func iterm2Bytes() throws {
        let written = try drawn(.iterm2)
        let opening = "\u{1B}7\u{1B}[2;2H\u{1B}]1337;File=inline=1;"
        let pictures = written.components(separatedBy: opening).dropFirst()
        #expect(pictures.count == 2, "drawn \(pictures.count) times")
        for picture in pictures {
            #expect(picture.contains(";width=4;height=2;preserveAspectRatio=1:"))
            let payload = try #require(picture.split(separator: ":", maxSplits: 1).last?.split(separator: "\u{07}").first)
            let png = try #require(Data(base64Encoded: String(payload)))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "not a PNG")
            #expect(picture.contains("\u{07}\u{1B}8"))
        }
    }
}

