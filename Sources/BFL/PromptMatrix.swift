/// Prompt matrices: `{a|b|c}` in a prompt stands for one prompt per choice, and several groups
/// multiply (`a {red|blue} {fox|owl}` is four prompts, the first group varying slowest).
/// Groups nest (`{a {small|big} fox|an owl}`). `\{`, `\}`, `\|` and `\\` are the characters
/// themselves. Braces with no `|` inside are plain text (`a sign saying {open}`), so prompts
/// that use braces for other things are left as written.
public enum PromptMatrix {
    /// Why a prompt cannot be expanded.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The most prompts one matrix may make.
    public static let limit = 500

    /// The prompts `text` stands for, in order (just `text`, unescaped, when it has no group).
    public static func expand(_ text: String) throws(Problem) -> [String] {
        var parser = Parser(characters: Array(text))
        let prompts = try parser.sequence(inGroup: false)
        if parser.index < parser.characters.count {
            throw Problem(message: "a } at character \(parser.index + 1) closes no {")
        }
        return prompts
    }

    struct Parser {
        let characters: [Character]
        var index = 0

        /// Text and groups up to the end, or (in a group) up to its `|` or `}`: every prompt it
        /// makes, in order.
        mutating func sequence(inGroup: Bool) throws(Problem) -> [String] {
            var prompts = [""]
            var literal = ""
            func flush() {
                guard !literal.isEmpty else { return }
                prompts = prompts.map { $0 + literal }
                literal = ""
            }
            while index < characters.count {
                let c = characters[index]
                if c == "\\", index + 1 < characters.count, "{}|\\".contains(characters[index + 1]) {
                    literal.append(characters[index + 1])
                    index += 2
                    continue
                }
                // A `|` outside any group is text; a `}` ends the group (or is reported unmatched).
                if c == "}" || (c == "|" && inGroup) { break }
                if c == "{" {
                    flush()
                    let start = index
                    index += 1
                    let choices = try group(openedAt: start)
                    var next: [String] = []
                    for prompt in prompts {
                        for choice in choices { next.append(prompt + choice) }
                        guard next.count <= limit else {
                            throw Problem(message: "the prompt makes more than \(limit) prompts; use fewer choices")
                        }
                    }
                    prompts = next
                    continue
                }
                literal.append(c)
                index += 1
            }
            flush()
            return prompts
        }

        /// After a `{`: its choices (one, with its braces, when there is no `|`).
        mutating func group(openedAt start: Int) throws(Problem) -> [String] {
            var alternatives: [[String]] = []
            var raw: [String] = []
            while true {
                let begin = index
                let choice = try sequence(inGroup: true)
                raw.append(String(characters[begin..<index]))
                alternatives.append(choice)
                guard index < characters.count else {
                    throw Problem(message: "the { at character \(start + 1) is never closed (write \\{ for the character)")
                }
                let closing = characters[index]
                index += 1
                if closing == "}" { break }
            }
            guard alternatives.count > 1 else {
                // No choice to make: the braces are text.
                return (alternatives.first ?? [""]).map { "{" + $0 + "}" }
            }
            if let empty = raw.firstIndex(where: { $0.allSatisfy(\.isWhitespace) }) {
                throw Problem(message: "choice \(empty + 1) of the { at character \(start + 1) is empty")
            }
            return alternatives.flatMap { $0 }
        }
    }
}
