public import Foundation

/// What the outputs filter asks for: words (all must appear in the prompt, model or file name),
/// `-word` (must not), `model:` and `status:` (any of each), `is:starred`, `tag:NAME` (all),
/// `seed:N`, `after:YYYY-MM-DD` (made that day or later), `before:YYYY-MM-DD` (made before
/// that day), `group:ID` (a submission's jobs; the id's first characters will do) and
/// `family:ID` (a job's ancestors and descendants, oldest first). The same query filters what
/// is loaded and searches the ledger in SQL.
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
    /// A job id, or its beginning: the images it came from and those made from it.
    public var family: String?
    /// What could not be read, a sentence each (`colour:red`, `after:2026-13-45`): such a
    /// filter matches nothing, and the studio says the first instead of "nothing matches".
    public var problems: [String] = []

    /// Every form the filter takes, for the help and for the sentence about an unknown key.
    public static let forms = "words -word model: status: is:starred tag: seed: after: before: group: family:"
    static let keys: Set<String> = ["model", "status", "tag", "is", "seed", "after", "before", "group", "family"]

    /// Parses the filter line. Dates are days of `calendar`.
    public init(_ text: String, calendar: Calendar = .current) {
        for token in text.lowercased().split(whereSeparator: \.isWhitespace).map(String.init) {
            let (name, value) = Self.split(token)
            if let problem = Self.problem(name: name, value: value, calendar: calendar) {
                problems.append(problem)
                continue
            }
            // `problem` has checked the value of every key.
            switch name {
            case "model": models.append(value)
            case "status": statuses.append(value)
            case "tag": tags.append(Self.tag(value))
            case "is": starred = true
            case "seed": seed = Int(value)
            case "after": after = Self.day(value, calendar)
            case "before": before = Self.day(value, calendar)
            case "group": group = value
            case "family": family = value
            default:
                if token.hasPrefix("-"), token.count > 1 { excluded.append(String(token.dropFirst())) } else { words.append(token) }
            }
        }
    }

    public var isEmpty: Bool {
        problems.isEmpty && words.isEmpty && excluded.isEmpty && models.isEmpty && statuses.isEmpty && !starred && tags.isEmpty
            && seed == nil && after == nil && before == nil && group == nil && family == nil
    }

    /// A family is a history: it is shown oldest first, where every other filter shows the
    /// newest first.
    public var oldestFirst: Bool { family != nil }

    /// Why `name:value` cannot be read, or nil when it can (or is not a `key:` at all).
    static func problem(name: String, value: String, calendar: Calendar) -> String? {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter }) else { return nil }
        let shown = String(value.prefix(40))
        guard keys.contains(name) else { return "unknown filter \(String(name.prefix(20))): (? help lists the forms)" }
        // (A `where` in a case of several patterns binds only the last: one condition a case.)
        switch name {
        case "is":
            return value == "starred" || value == "star" ? nil : "is: takes starred (got \(shown))"
        case "seed":
            return Int(value).map({ $0 >= 0 }) == true ? nil : "seed: needs a whole number (got \(shown))"
        case "after", "before":
            return day(value, calendar) != nil ? nil : "\(name): needs a date as YYYY-MM-DD (got \(shown))"
        case "group", "family":
            return !value.isEmpty && value.allSatisfy({ $0.isHexDigit || $0 == "-" }) ? nil : "\(name): needs \(name == "group" ? "a group" : "a job") id (got \(shown))"
        default:
            return value.isEmpty ? "\(name): needs a value" : nil
        }
    }

    /// A filter it cannot read matches nothing: the studio then says why. `family` is the
    /// family's ids (`Lineage.family`), which one job cannot tell: without them `family:`
    /// matches nothing.
    public func matches(_ job: JobRecord) -> Bool { matches(job, family: nil) }

    public func matches(_ job: JobRecord, family members: Set<String>?) -> Bool {
        if !problems.isEmpty { return false }
        if family != nil, members?.contains(job.id) != true { return false }
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
