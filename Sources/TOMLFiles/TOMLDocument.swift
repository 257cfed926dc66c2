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
        try checkTableHeaders(text)
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw TOMLError(message: error.description, line: error.source.begin.line, column: error.source.begin.column)
        } catch {
            throw TOMLError(message: "not a TOML file: \(error)")
        }
        let json = table.convert(to: .json)
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw TOMLError(message: "the file holds a value that cannot be read (inf and nan are not numbers here)")
        }
        return object
    }

    /// Refuses table headers without a name (`[`, `[ ]`, `[[`): the TOML library's debug build
    /// asserts on them and would end the process (found by fuzzing).
    static func checkTableHeaders(_ text: String) throws(TOMLError) {
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
