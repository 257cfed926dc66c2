/// One unit of terminal input as the backend reads it: a character, or an event the backend
/// has already decoded (a function key, a mouse report, a resize).
public enum InputUnit: Sendable, Hashable {
    case scalar(UInt32)
    case event(TerminalEvent)
}

/// Turns what one read of the terminal delivered into events, so that pasted text is never
/// taken for commands:
/// - `ESC [200~ … ESC [201~` (bracketed paste) becomes one `.paste`, however the markers and
///   the text are split across reads;
/// - for terminals without bracketed paste, a line end that arrives in the same read as text
///   before it is part of a paste (a person cannot type text and Enter within one read), so
///   the text and its line ends become one `.paste` instead of an Enter;
/// - Esc followed at once by a character is Alt with that character.
///
/// Line ends inside a paste are `\n`; other control characters are dropped from it.
public struct InputDecoder: Sendable {
    /// The longest paste kept, in scalars; the rest of a larger one is dropped.
    public static let pasteLimit = 1 << 20

    private static let pasteStart: [UInt32] = [91, 50, 48, 48, 126]  // "[200~"
    private static let pasteEnd: [UInt32] = [91, 50, 48, 49, 126]    // "[201~"

    private var pasting = false
    private var paste: [UInt32] = []
    /// The start of an escape sequence that the read ended in the middle of.
    private var carry: [UInt32] = []

    public init() {}

    /// True when the last read ended inside an escape sequence: read again (briefly) before
    /// deciding what it was.
    public var awaitsMore: Bool { !carry.isEmpty }

    /// True inside a bracketed paste whose end marker has not arrived yet.
    public var isPasting: Bool { pasting }

    /// Decodes one read. Pass `final: true` when no more input came after `awaitsMore`: an
    /// unfinished sequence is then taken as the keys it spells.
    public mutating func decode(_ units: [InputUnit], final: Bool = false) -> [TerminalEvent] {
        let input = carry.map(InputUnit.scalar) + units
        carry = []
        var output: [TerminalEvent] = []
        var run: [UInt32] = []
        var index = 0
        while index < input.count {
            let unit = input[index]
            if pasting {
                switch unit {
                case .event(.resize(let width, let height)): output.append(.resize(width: width, height: height))
                case .event: break  // keys the terminal decoded inside pasted text carry no meaning
                case .scalar(27):
                    switch Self.match(Self.pasteEnd, in: input, after: index, loneEsc: true) {
                    case .whole:
                        pasting = false
                        output.append(.paste(Self.text(paste)))
                        paste = []
                        index += Self.pasteEnd.count
                    case .prefix where !final:
                        carry = Self.scalars(input[index...])
                        return output
                    case .prefix, .none:
                        break  // a lone Esc inside pasted text is dropped
                    }
                case .scalar(let value):
                    if paste.count < Self.pasteLimit { paste.append(value) }
                }
                index += 1
                continue
            }
            switch unit {
            case .scalar(27):
                // A terminal's answer is dropped; a paste starts; either may be unfinished.
                let reply = Self.reply(in: input, at: index)
                let paste = Self.match(Self.pasteStart, in: input, after: index, loneEsc: false)
                // (The paste markers are control sequences too: they are looked for first.)
                if case .whole(let length) = reply, paste != .whole {
                    Self.flush(&run, into: &output)
                    index += length
                    continue
                }
                switch paste {
                case .whole:
                    Self.flush(&run, into: &output)
                    pasting = true
                    index += Self.pasteStart.count + 1
                    continue
                case _ where !final && (paste == .prefix || reply == .prefix):
                    Self.flush(&run, into: &output)
                    carry = Self.scalars(input[index...])
                    return output
                case .prefix, .none:
                    Self.flush(&run, into: &output)
                    if index + 1 < input.count, case .scalar(let next) = input[index + 1], let key = Key(character: next) {
                        output.append(.key(Key(key.code, key.modifiers.union(.alt))))
                        index += 2
                    } else {
                        output.append(.key(Key(.escape)))
                        index += 1
                    }
                    continue
                }
            case .scalar(let value) where Self.isRunScalar(value):
                run.append(value)
            case .scalar(let value):
                Self.flush(&run, into: &output)
                if let key = Key(character: value) { output.append(.key(key)) }
            case .event(let event):
                Self.flush(&run, into: &output)
                output.append(event)
            }
            index += 1
        }
        Self.flush(&run, into: &output)
        // Nothing more came: a paste whose end marker never arrived ends here, so keys typed
        // later are keys again.
        if final, pasting {
            pasting = false
            output.append(.paste(Self.text(paste)))
            paste = []
        }
        return output
    }

    private enum Reply: Equatable { case whole(Int), prefix, none }

    /// The longest terminal reply looked for; anything longer is taken as keys.
    private static let replyLimit = 4096

    /// A terminal's answer to a query, which is never keys: a string sequence (APC `ESC _`,
    /// DCS `ESC P`, OSC `ESC ]`) up to its terminator (ST, or BEL for OSC), or a control
    /// sequence with parameters (device attributes `ESC [ ? digits ; … c`, a mouse report the
    /// terminal library does not read). A late answer to the startup query (a slow terminal)
    /// would otherwise be typed into the prompt. `.prefix`: it may be one, unfinished.
    private static func reply(in input: [InputUnit], at index: Int) -> Reply {
        guard index + 1 < input.count, case .scalar(let kind) = input[index + 1] else { return .none }
        var at = index + 2
        switch kind {
        case 0x5F, 0x50, 0x5D:  // _ P ]
            while at < input.count, at - index < replyLimit {
                guard case .scalar(let value) = input[at] else { return .none }
                if value == 7, kind == 0x5D { return .whole(at - index + 1) }
                if value == 27 {
                    guard at + 1 < input.count else { return .prefix }
                    guard case .scalar(0x5C) = input[at + 1] else { return .none }
                    return .whole(at - index + 2)
                }
                at += 1
            }
            return at - index < replyLimit ? .prefix : .none
        case 0x5B:  // [
            // A control sequence the terminal library did not make a key of: parameter bytes
            // (at least one: a mouse report in another encoding `[<0;60;12M`, device
            // attributes `[?62;c`), intermediates, a final byte. Its final letter is not a key.
            var parameters = 0
            while at < input.count, at - index < 64 {
                guard case .scalar(let value) = input[at] else { return .none }
                if (0x30...0x3F).contains(value), at == index + 2 + parameters {
                    parameters += 1
                } else if (0x20...0x2F).contains(value), parameters > 0 {
                    // an intermediate byte
                } else if (0x40...0x7E).contains(value) {
                    return parameters > 0 ? .whole(at - index + 1) : .none
                } else {
                    return .none
                }
                at += 1
            }
            return at < input.count || parameters == 0 ? .none : .prefix
        default:
            return .none
        }
    }

    /// Text, tabs and line ends: what a paste without brackets is made of.
    private static func isRunScalar(_ value: UInt32) -> Bool {
        value == 9 || value == 10 || value == 13 || (value >= 32 && value != 127)
    }

    private static func isLineEnd(_ value: UInt32) -> Bool { value == 10 || value == 13 }

    /// Emits a run of text: line ends at its start are Enter keys; if a line end follows text
    /// in the rest, the rest is a paste, else each character is a key.
    private static func flush(_ run: inout [UInt32], into output: inout [TerminalEvent]) {
        defer { run = [] }
        var start = 0
        while start < run.count, isLineEnd(run[start]) {
            output.append(.key(Key(.enter)))
            start += 1
        }
        let rest = run[start...]
        if rest.contains(where: isLineEnd) {
            output.append(.paste(text(Array(rest))))
        } else {
            for value in rest { if let key = Key(character: value) { output.append(.key(key)) } }
        }
    }

    private enum Match: Equatable { case whole, prefix, none }

    /// Whether the scalars after `index` spell `marker`, or the input ends part-way through it.
    /// A lone Esc at the end counts as a prefix only where `loneEsc` says so (inside a paste).
    /// Elsewhere it is the Esc key at once: the terminal library has already waited (ESCDELAY)
    /// for what follows an Esc, so a marker never arrives split right after its Esc.
    private static func match(_ marker: [UInt32], in input: [InputUnit], after index: Int, loneEsc: Bool) -> Match {
        var offset = 0
        while offset < marker.count {
            let position = index + 1 + offset
            guard position < input.count else { return offset > 0 || loneEsc ? .prefix : .none }
            guard case .scalar(let value) = input[position], value == marker[offset] else { return .none }
            offset += 1
        }
        return .whole
    }

    private static func scalars(_ units: ArraySlice<InputUnit>) -> [UInt32] {
        units.compactMap { if case .scalar(let value) = $0 { value } else { nil } }
    }

    /// Pasted scalars as text: CR LF and CR become LF; other control characters are dropped.
    private static func text(_ scalars: [UInt32]) -> String {
        var result = String.UnicodeScalarView()
        var previousCR = false
        for value in scalars {
            defer { previousCR = value == 13 }
            if value == 10 && previousCR { continue }
            if value == 13 || value == 10 { result.append("\n"); continue }
            if value == 9 { result.append("\t"); continue }
            guard value >= 32, !(127...159).contains(value), let scalar = Unicode.Scalar(value) else { continue }
            result.append(scalar)
        }
        return String(result)
    }
}

extension Key {
    /// The key a character read from the terminal stands for: Tab, Enter, Backspace, Esc,
    /// Ctrl with a letter, or the character itself. Nil for the other control characters.
    public init?(character value: UInt32) {
        switch value {
        case 9: self.init(.tab)
        case 10, 13: self.init(.enter)
        case 8, 127: self.init(.backspace)
        case 27: self.init(.escape)
        case 0: self.init(.char(" "), .ctrl)
        case 1...26:
            guard let scalar = Unicode.Scalar(value + 96) else { return nil }
            self.init(.char(Character(scalar)), .ctrl)
        case 28...31: return nil
        default:
            guard let scalar = Unicode.Scalar(value) else { return nil }
            self.init(.char(Character(scalar)))
        }
    }
}
