import PropertyBased
import Testing
import TOMLFiles
import Theme

/// The TOML reader under the configuration and theme files, fed generated damaged files: a
/// typed error with a line, never a trap. (Decision 40; counts in RELIABILITY.md.)
@Suite("Fuzzing the TOML reader of config and theme files")
struct TOMLFuzzTests {
    static let fragments = [
        "region = \"eu\"", "model = \"flux-2-pro\"", "theme = \"frost\"", "[budget]", "daily = 200", "confirm_above = 1e308",
        "session = -0", "max_decode_megapixels = 9223372036854775808", "[palette]", "[styles]", "name = \"x\"",
        "variant = \"dark\"", "inherits = \"frost\"", "accent = \"#12345\"", "\"ui.text\" = { fg = \"accent\" }",
        "a = [[[[[[[[[[", "b = {", "c = \"\\u0000\\u001b\"", "d = 1979-05-27T07:32:00Z", "e = inf", "f = nan", "= 3",
        "[[budget]]", "[budget.daily]", "x = \"\"\"", "y = '''", "z = 0x7fffffffffffffffff", "\u{202E}k = 1", "[\u{1B}]",
    ]

    @Test("10,000 damaged files give a value or a typed error")
    func damaged() async {
        await propertyCheck(count: 10_000, input: Gen<UInt64>.value(in: 0...UInt64.max)) { seed in
            var state = seed
            func next() -> Int {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Int(truncatingIfNeeded: state >> 33)
            }
            var lines = (0..<(next() % 12)).map { _ in Self.fragments[next() % Self.fragments.count] }
            if next() % 4 == 0, !lines.isEmpty {
                // Cut one line short, or repeat a table header.
                let index = next() % lines.count
                lines[index] = String(lines[index].prefix(next() % (lines[index].count + 1)))
            }
            if next() % 10 == 0 { lines.append(String(repeating: "[", count: next() % 5000)) }
            let text = lines.joined(separator: "\n")
            let lineCount = text.split(separator: "\n", omittingEmptySubsequences: false).count
            // A value, or the typed error RELIABILITY.md promises, naming a line of the file.
            do throws(TOMLError) { _ = try TOMLDocument(text) } catch {
                #expect(error.line.map { (1...lineCount).contains($0) } == true, "\(error.message) at line \(String(describing: error.line)) of \(lineCount)")
                #expect(!error.message.isEmpty)
            }
            do throws(ThemeError) { _ = try ThemeLoader().load(text) } catch {
                #expect(!error.message.isEmpty)
                if let line = error.line { #expect((1...lineCount).contains(line), "\(error.message) at line \(line) of \(lineCount)") }
            }
        }
    }
}

@Suite("Table headers without a name")
struct HeaderlessTableTests {
    @Test("`[` alone (which made the TOML library's debug build abort) is an error naming its line", arguments: ["[", "[ ", "[[", "[\u{1B}]", "a = 1\n[\n"])
    func headerless(_ text: String) {
        let error = #expect(throws: TOMLError.self) { try TOMLDocument(text) }
        #expect(error?.message.contains("table header needs a name") == true)
        #expect(error?.line == (text.hasPrefix("a = 1") ? 2 : 1))
    }
}
