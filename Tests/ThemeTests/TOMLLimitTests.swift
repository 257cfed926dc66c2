import Foundation
import Testing
import TOMLFiles

/// What the TOML library would recurse on without end is refused first, with its line.
@Suite("TOML files: size and depth are capped before parsing")
struct TOMLLimitTests {
    func error(_ text: String) -> TOMLError? {
        do { _ = try TOMLDocument(text); return nil } catch { return error }
    }

    @Test("a dotted key of 30,000 parts, a table header of 100,000 and arrays 10,000 deep are refused, naming the line")
    func deep() throws {
        let key = (0..<30_000).map { "k\($0 % 10)" }.joined(separator: ".")
        let dotted = try #require(error("name = \"x\"\n\(key) = 1\n"))
        #expect(dotted.line == 2 && dotted.message.contains("more than \(TOMLDocument.maxDepth) parts"), "\(dotted)")
        let header = try #require(error("[" + Array(repeating: "t", count: 100_000).joined(separator: ".") + "]\n"))
        #expect(header.line == 1 && header.message.contains("parts"), "\(header)")
        let nested = try #require(error("a = " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)))
        #expect(nested.line == 1 && nested.message.contains("nested more than"), "\(nested)")
        let inline = try #require(error("a = " + String(repeating: "{b = ", count: 5_000) + "1" + String(repeating: "}", count: 5_000)))
        #expect(inline.message.contains("nested more than"), "\(inline)")
    }

    @Test("what is not a key's depth is left alone: dots in strings, comments and numbers; brackets in strings")
    func notDepth() throws {
        let dots = String(repeating: ".", count: 100)
        let document = try TOMLDocument("""
            # a comment with \(dots) and [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[
            a.b.c = 1.5
            date = 1979-05-27T07:32:00.999
            text = "\(dots) [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ \\" {{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"
            literal = '\(dots)'
            long = \"\"\"
            \(dots)
            x [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[
            \"\"\"
            """)
        #expect((document.values["a"] as? [String: Any])?["b"] != nil)
        #expect((document.values["text"] as? String)?.hasPrefix(dots) == true)
    }

    @Test("a file over 1 MB is refused before it is read; a FIFO is refused without blocking")
    func size() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-toml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let big = folder.appendingPathComponent("big.toml")
        try Data(repeating: UInt8(ascii: "#"), count: TOMLDocument.maxBytes + 1).write(to: big)
        #expect(throws: TOMLError.self) { try TOMLDocument.read(path: big.path) }
        let fifo = folder.appendingPathComponent("fifo.toml").path
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: TOMLError.self) { try TOMLDocument.read(path: fifo) }
        #expect(error(String(repeating: "#", count: TOMLDocument.maxBytes + 1))?.message.contains("at most 1 MB") == true)
    }
}
