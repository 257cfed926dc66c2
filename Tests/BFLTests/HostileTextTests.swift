import BFL
import Foundation
import Testing

/// Text from the network or files is drawn inert and kept short.
@Suite("Hostile text")
struct HostileTextTests {
    @Test("escape sequences, bidi controls, zero-width and tag characters are removed; joiners in emoji stay")
    func sanitizer() {
        let hostile = "ok\u{1B}]52;c;ZXZpbA==\u{07}\u{1B}[2J x\u{202E}gpj.exe\u{200F}\u{200B}\u{2060}\u{FEFF}\u{E0041}\u{E007F}!"
        let clean = TerminalText.sanitize(hostile)
        #expect(clean == "ok]52;c;ZXZpbA==[2J xgpj.exe!")
        #expect(!clean.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        let family = "👨\u{200D}👩\u{200D}👧"
        #expect(TerminalText.sanitize(family) == family)
    }

    @Test("messages from the network are capped at 2 KB on a character boundary")
    func capped() {
        let long = String(repeating: "é", count: 5000)
        let message = TerminalText.message(long)
        #expect(message.utf8.count <= TerminalText.messageLimit)
        #expect(message.hasSuffix("…"))
        #expect(TerminalText.message("short") == "short")
        let body = ErrorBody(bytes: Array(#"{"detail":"\#(String(repeating: "x", count: 10_000))"}"#.utf8))
        #expect((body.message?.utf8.count ?? 0) <= TerminalText.messageLimit)
        let error = BFLClient.error(status: 500, body: Array(#"{"detail":"\#(String(repeating: "y", count: 10_000))"}"#.utf8), headers: [])
        #expect(error.message.utf8.count <= TerminalText.messageLimit + 100)
    }
}
