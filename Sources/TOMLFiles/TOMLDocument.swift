public import Foundation
import TOMLKit

/// A problem in a TOML file, with where it is when that is known.
public struct TOMLError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var line: Int?
    public var column: Int?

    public init(message: String, line: Int? = nil, column: Int? = nil) {
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String {
        guard let line else { return message }
        return "line \(line)\(column.map { ", column \($0)" } ?? ""): \(message)"
    }
}

/// A TOML file read into plain values (the configuration, themes), with errors that name the
/// line a key is written on.
public struct TOMLDocument {
    public let values: [String: Any]
    private let lines: [Substring]

    /// Whether a value is a TOML boolean. Values arrive as Foundation numbers, and `0 is Bool`
    /// and `1 is Bool` are true for those, so a number is never taken for a flag (nor a flag
    /// for a number): booleans are the ones stored as a C `char`.
    public static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    /// The value as a boolean, when it is one.
    public static func boolean(_ value: Any) -> Bool? {
        isBoolean(value) ? (value as? NSNumber)?.boolValue : nil
    }

    /// The value as a finite number, when it is one (never a boolean).
    public static func number(_ value: Any) -> NSNumber? {
        guard let number = value as? NSNumber, !isBoolean(value), number.doubleValue.isFinite else { return nil }
        return number
    }

    /// The largest file read (configuration and themes are a few KB).
    public static let maxBytes = 1_048_576
    /// The deepest nesting (arrays and inline tables) and the most parts of a dotted key or
    /// table header: the TOML library recurses on them, and thousands end the process.
    public static let maxDepth = 32

    /// The text of the file at `path`, refused before it is read when it is larger than
    /// `maxBytes` or not a regular file (a FIFO, a device).
    public static func read(path: String) throws(TOMLError) -> String {
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch {
            throw TOMLError(message: "cannot read \(path): \((error as NSError).localizedDescription)")
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else {
            throw TOMLError(message: "\(path) is not a regular file")
        }
        if let size = attributes[.size] as? Int, size > maxBytes {
            throw TOMLError(message: "\(path) is \(size) bytes; fluxdeck reads TOML files of at most 1 MB")
        }
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TOMLError(message: "cannot read \(path): \((error as NSError).localizedDescription)")
        }
    }

    public init(_ text: String) throws(TOMLError) {
        values = try Self.parse(text)
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// An error about `key`, pointing at the line where it is written (TOMLKit reports
    /// positions of syntax errors only, not of values).
    public func error(_ message: String, key: String) -> TOMLError {
        for (index, line) in lines.enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            for candidate in [key, "\"\(key)\"", "'\(key)'", "[\(key)]"] where trimmed.hasPrefix(candidate) {
                let rest = trimmed.dropFirst(candidate.count).drop { $0 == " " }
                if rest.first == "=" || candidate.hasPrefix("[") {
                    return TOMLError(message: message, line: index + 1, column: line.count - trimmed.count + 1)
                }
            }
        }
        return TOMLError(message: message)
    }

    /// TOML → a dictionary, through TOMLKit's parser (syntax errors carry line and column).
    static func parse(_ text: String) throws(TOMLError) -> [String: Any] {
        guard text.utf8.count <= maxBytes else {
            throw TOMLError(message: "the text is \(text.utf8.count) bytes; fluxdeck reads TOML files of at most 1 MB")
        }
        try checkDepth(text)
        try checkTableHeaders(text)
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw TOMLError(message: error.description, line: error.source.begin.line, column: error.source.begin.column)
        } catch {
            throw TOMLError(message: "not a TOML file: \(error)")
        }
        let json = table.convert(to: .json)
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw TOMLError(message: "the file holds a value that cannot be read (inf and nan are not numbers here)",
                            line: lineOfInfiniteValue(text) ?? 1)
        }
        return object
    }

    /// The first line with an `inf` or `nan` value (TOML has them; fluxdeck's files do not).
    static func lineOfInfiniteValue(_ text: String) -> Int? {
        let value = /(^|[=\[,{])\s*[+-]?(inf|nan)\s*($|[\],}#])/
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where line.contains(value) {
            return index + 1
        }
        return nil
    }

    /// Refuses nesting deeper than `maxDepth` and dotted keys or table headers of more parts,
    /// naming the line, before the TOML library sees them. Strings and comments are skipped;
    /// a dot between two digits is a number's, not a key's.
    static func checkDepth(_ text: String) throws(TOMLError) {
        let characters = Array(text.unicodeScalars)
        var index = 0
        var line = 1
        var depth = 0
        var dots = 0
        func at(_ offset: Int) -> Unicode.Scalar? { index + offset < characters.count ? characters[index + offset] : nil }
        func isDigit(_ scalar: Unicode.Scalar?) -> Bool { scalar.map { ("0"..."9").contains($0) } ?? false }
        while index < characters.count {
            let c = characters[index]
            switch c {
            case "\n":
                line += 1
                dots = 0
            case "#":
                while index + 1 < characters.count, characters[index + 1] != "\n" { index += 1 }
            case "\"", "'":
                // A string: basic (escapes) or literal, on one line or (tripled) several.
                let triple = at(1) == c && at(2) == c
                index += triple ? 3 : 1
                while index < characters.count {
                    let s = characters[index]
                    if s == "\n" { line += 1; if !triple { break } }
                    if c == "\"", s == "\\" { index += 2; continue }
                    if s == c, !triple || (at(1) == c && at(2) == c) {
                        if triple { index += 2 }
                        break
                    }
                    index += 1
                }
            case "[", "{":
                depth += 1
                if depth > maxDepth {
                    throw TOMLError(message: "arrays or tables nested more than \(maxDepth) deep; fluxdeck reads at most \(maxDepth)", line: line)
                }
            case "]", "}":
                depth = max(0, depth - 1)
            case ".":
                if !(isDigit(index > 0 ? characters[index - 1] : nil) && isDigit(at(1))) {
                    dots += 1
                    if dots >= maxDepth {
                        throw TOMLError(message: "a dotted key or table header of more than \(maxDepth) parts; fluxdeck reads at most \(maxDepth)", line: line)
                    }
                }
            default:
                break
            }
            index += 1
        }
    }

    /// Refuses table headers without a name (`[`, `[ ]`, `[[`): the TOML library's debug build
    /// asserts on them and would end the process (found by fuzzing).
    static func checkTableHeaders(_ text: String) throws(TOMLError) {
        // Every line that starts with [ is checked, even inside a multi-line string: a guess at
        // where strings end could be fooled, and a header the library takes without a name
        // ends the process (a string line starting with [ is refused; rare, and said clearly).
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = line.drop { $0 == " " || $0 == "\t" }
            guard rest.first == "[" else { continue }
            rest = rest.dropFirst()
            if rest.first == "[" { rest = rest.dropFirst() }
            rest = rest.drop { $0 == " " || $0 == "\t" }
            guard let first = rest.first, first.isASCII, first.isLetter || first.isNumber || "_-\"'".contains(first) else {
                throw TOMLError(message: "a table header needs a name after [", line: index + 1, column: 1)
            }
        }
    }
}
