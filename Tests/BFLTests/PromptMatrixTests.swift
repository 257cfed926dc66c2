import BFL
import Testing

@Suite("Prompt matrices")
struct PromptMatrixTests {
    @Test("groups expand in order, the first varying slowest; several multiply; groups nest", arguments: [
        ("a lighthouse", ["a lighthouse"]),
        ("a {red|blue} fox", ["a red fox", "a blue fox"]),
        ("{a|b} {1|2|3}", ["a 1", "a 2", "a 3", "b 1", "b 2", "b 3"]),
        ("{a {small|big} fox|an owl}", ["a small fox", "a big fox", "an owl"]),
        ("{x|{y|z}w}", ["x", "yw", "zw"]),
        ("tea | coffee", ["tea | coffee"]),
    ])
    func expansion(_ text: String, _ expected: [String]) throws {
        #expect(try PromptMatrix.expand(text) == expected)
    }

    @Test("escapes are the characters; braces without a choice stay as written", arguments: [
        (#"a \{red|blue\} fox"#, [#"a {red|blue} fox"#]),
        (#"{a\|b|c}"#, ["a|b", "c"]),
        (#"back\\slash {x|y}"#, [#"back\slash x"#, #"back\slash y"#]),
        ("a sign saying {open}", ["a sign saying {open}"]),
        ("{open} {a|b}", ["{open} a", "{open} b"]),
        ("{}", ["{}"]),
    ])
    func literals(_ text: String, _ expected: [String]) throws {
        #expect(try PromptMatrix.expand(text) == expected)
    }

    @Test("empty choices, open and stray braces are refused, saying where", arguments: [
        ("a {red||blue}", "choice 2 of the { at character 3 is empty"),
        ("{|a}", "choice 1 of the { at character 1 is empty"),
        ("{a| }", "choice 2 of the { at character 1 is empty"),
        ("a {red|blue", "the { at character 3 is never closed"),
        ("a } b", "a } at character 3 closes no {"),
    ])
    func problems(_ text: String, _ message: String) {
        #expect(throws: PromptMatrix.Problem.self) { try PromptMatrix.expand(text) }
        do {
            _ = try PromptMatrix.expand(text)
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test("more than 500 prompts are refused")
    func limit() throws {
        let nine = "{1|2|3|4|5|6|7|8|9}"
        #expect(try PromptMatrix.expand(nine + nine).count == 81)
        #expect(throws: PromptMatrix.Problem.self) { try PromptMatrix.expand(nine + nine + nine) }
    }
}
