/// Cleans text that came from the network or from files before anyone shows it.
public enum TerminalText {
    /// Removes C0 and C1 control characters, DEL, and the bidirectional overrides that can
    /// disguise text; tabs and newlines become spaces. Everything else is kept.
    public static func sanitize(_ text: String) -> String {
        // Printable ASCII (most prompts and messages) has nothing to strip.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
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

    /// The longest message from the network kept anywhere (screen, ledger, log), in UTF-8 bytes.
    public static let messageLimit = 2048

    /// A message that came from the network: sanitized, and cut to `messageLimit` bytes (on a
    /// character boundary) with an ellipsis.
    public static func message(_ text: String) -> String {
        capped(sanitize(text), bytes: messageLimit)
    }

    /// `text` cut to at most `bytes` UTF-8 bytes, on a character boundary, ending in "…" when cut.
    public static func capped(_ text: String, bytes limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var used = 3  // the ellipsis
        var out = ""
        for character in text {
            let size = character.utf8.count
            guard used + size <= limit else { break }
            used += size
            out.append(character)
        }
        return out + "…"
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
        case 0x200E, 0x200F, 0x061C: true  // bidi marks
        case 0x200B, 0x2060...0x2064, 0xFEFF: true  // zero-width space, word joiner, invisible operators, BOM
        case 0xE0000...0xE007F: true  // tag characters (invisible text)
        // Zero-width (non-)joiners stay: emoji sequences and several scripts need them.
        default: false
        }
    }
}
