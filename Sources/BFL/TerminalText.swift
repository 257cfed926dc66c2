/// Cleans text that came from the network or from files before anyone shows it.
public enum TerminalText {
    /// Removes C0 and C1 control characters, DEL, and the bidirectional overrides that can
    /// disguise text; tabs and newlines become spaces. Everything else is kept.
    public static func sanitize(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var lastWasSpace = false
        for scalar in text.unicodeScalars {
            if scalar == "\t" || scalar == "\n" || scalar == "\r" {
                if !lastWasSpace { out.append(" ") }
                lastWasSpace = true
                continue
            }
            if isUnsafe(scalar) { continue }
            out.append(scalar)
            lastWasSpace = scalar == " "
        }
        return String(out)
    }

    /// Like `sanitize`, but keeps line breaks (for multi-line prompts shown in full).
    public static func sanitizeKeepingNewlines(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { sanitize(String($0)) }
            .joined(separator: "\n")
    }

    static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x202A...0x202E, 0x2066...0x2069: true  // bidi embeddings, overrides, isolates
        default: false
        }
    }
}
