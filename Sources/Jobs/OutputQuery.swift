public import Foundation

/// What the outputs filter asks for: words (all must appear in the prompt, model or file name),
/// `-word` (must not), `model:` and `status:` (any of each), `is:starred`, `tag:NAME` (all),
/// `seed:N`, `after:YYYY-MM-DD` (made that day or later), `before:YYYY-MM-DD` (made before
/// that day) and `group:ID` (a submission's jobs; the id's first characters will do). The same query filters what is loaded and searches the ledger in SQL.
public struct OutputQuery: Sendable, Hashable {
    public var words: [String] = []
    public var excluded: [String] = []
    public var models: [String] = []
    public var statuses: [String] = []
    public var starred = false
    public var tags: [String] = []
    public var seed: Int?
    public var after: Date?
    public var before: Date?
    /// A submission's group id, or its beginning.
    public var group: String?

    /// Parses the filter line; a token whose value cannot be read (`seed:x`, `after:soon`) is
    /// searched for as a word. Dates are days of `calendar`.
    public init(_ text: String, calendar: Calendar = .current) {
        for token in text.lowercased().split(whereSeparator: \.isWhitespace).map(String.init) {
            let (name, value) = Self.split(token)
            switch name {
            case "model" where !value.isEmpty: models.append(value)
            case "status" where !value.isEmpty: statuses.append(value)
            case "tag" where !value.isEmpty: tags.append(Self.tag(value))
            case "is" where value == "starred" || value == "star": starred = true
            case "seed" where Int(value).map({ $0 >= 0 }) == true: seed = Int(value)
            case "after" where Self.day(value, calendar) != nil: after = Self.day(value, calendar)
            case "before" where Self.day(value, calendar) != nil: before = Self.day(value, calendar)
            case "group" where !value.isEmpty && value.allSatisfy({ $0.isHexDigit || $0 == "-" }): group = value
            default:
                if token.hasPrefix("-"), token.count > 1 { excluded.append(String(token.dropFirst())) } else { words.append(token) }
            }
        }
    }

    public var isEmpty: Bool {
        words.isEmpty && excluded.isEmpty && models.isEmpty && statuses.isEmpty && !starred && tags.isEmpty
            && seed == nil && after == nil && before == nil && group == nil
    }

    public func matches(_ job: JobRecord) -> Bool {
        if !models.isEmpty, !models.contains(where: { job.model.lowercased().contains($0) }) { return false }
        if !statuses.isEmpty, !statuses.contains(where: { job.phase.rawValue.hasPrefix($0) }) { return false }
        if starred, !job.starred { return false }
        if !tags.allSatisfy(job.tags.contains) { return false }
        if let seed, job.seed != seed { return false }
        if let after, job.createdAt < after { return false }
        if let before, job.createdAt >= before { return false }
        if let group, job.groupID?.lowercased().hasPrefix(group) != true { return false }
        let haystack = (job.prompt + " " + job.model + " " + (job.outputPath ?? "")).lowercased()
        return words.allSatisfy { haystack.contains($0) } && !excluded.contains { haystack.contains($0) }
    }

    /// A tag as it is kept: lowercase, spaces and commas become dashes, quotes dropped.
    public static func tag(_ text: String) -> String {
        String(text.lowercased().trimmingCharacters(in: .whitespaces)
            .map { $0 == " " || $0 == "," ? "-" : $0 }
            .filter { $0 != "\"" && $0 != "\\" && !$0.isNewline })
    }

    private static func split(_ token: String) -> (String, String) {
        guard let colon = token.firstIndex(of: ":") else { return ("", token) }
        return (String(token[..<colon]), String(token[token.index(after: colon)...]))
    }

    /// The start of a `YYYY-MM-DD` day.
    private static func day(_ text: String, _ calendar: Calendar) -> Date? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1...9999).contains(parts[0]), (1...12).contains(parts[1]), (1...31).contains(parts[2]) else { return nil }
        let components = DateComponents(year: parts[0], month: parts[1], day: parts[2])
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == parts[2] else { return nil }
        return date
    }
}
