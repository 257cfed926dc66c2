public import TerminalCore

/// Everything a key can do in the studio. Which key does what is decided in one place, the
/// `Keymap`; the reducer matches commands, and the status bar and `?` help are made from it.
public enum Command: String, Sendable, Hashable, CaseIterable {
    case nextPane = "next-pane", previousPane = "previous-pane", help, quit, dismiss, submit
    // Moving: lines of text, rows of a list or the form, the help's lines.
    case up, down, left, right, pageUp = "page-up", pageDown = "page-down", first, last
    // Editing text (the prompt and one-line fields).
    case newLine = "new-line", wordLeft = "word-left", wordRight = "word-right"
    case lineStart = "line-start", lineEnd = "line-end"
    case deleteBackward = "delete-backward", deleteForward = "delete-forward"
    case killToLineStart = "kill-to-line-start", killToLineEnd = "kill-to-line-end"
    case killWordBackward = "kill-word-backward", yank
    // The form, the lists and the overlays.
    case edit, reset, details, cancel, abandon, again
    case againNewSeed = "again-new-seed"
    case filter, open
    case useAsReference = "use-as-reference"
    case copyPath = "copy-path"
    case delete, accept, close, yes, no, star, tag, view, gallery, mark, compare, spend, refresh, sweep, expand, body, group
    /// Completes a path typed in a field, as a shell does.
    case complete
    /// Starts an edit of the image with words: an editing model, the image as reference 1.
    case editImage = "edit-image"
    /// In the viewer: the image this one was made from, and (in turn) those made from it.
    case parent, child
    /// The outputs filtered to an image's family (`family:ID`): its ancestors and descendants.
    case family
    /// Mask mode: enter it, anchor or close a rectangle, undo the last, invert the mask.
    case maskMode = "mask-mode"
    case anchor, undo, invert
    /// Extend mode: grow the canvas's sides, for Fill to paint the new area.
    case extendMode = "extend-mode"

    /// The editing command this is, where text is being edited.
    public var editCommand: EditCommand? {
        switch self {
        case .newLine: .newLine
        case .up: .up
        case .down: .down
        case .left: .left
        case .right: .right
        case .wordLeft: .wordLeft
        case .wordRight: .wordRight
        case .lineStart: .lineStart
        case .lineEnd: .lineEnd
        case .deleteBackward: .deleteBackward
        case .deleteForward: .deleteForward
        case .killToLineStart: .killToLineStart
        case .killToLineEnd: .killToLineEnd
        case .killWordBackward: .killWordBackward
        case .yank: .yank
        default: nil
        }
    }
}

/// Where a key is pressed: a pane, or a mode that takes the keys first.
public enum KeyContext: String, Sendable, Hashable, CaseIterable {
    case global, prompt, model, jobs, outputs
    /// A one-line field being edited (a seed, a size, a path, the outputs filter).
    case field
    case help, picker, confirm
    /// The full-screen viewer of saved images.
    case viewer
    /// The grid of saved images.
    case gallery
    /// Marked images side by side.
    case compare
    /// The spend view.
    case spend
    /// A read-only text over the panes (the prompts of a matrix, the bodies the form would send).
    case text
    /// A job's details.
    case details
    /// Mask mode over the viewer's picture.
    case mask
    /// Extend mode over the viewer's picture.
    case extend

    /// Printable keys type text here instead of running commands.
    public var isText: Bool { self == .prompt || self == .field }

    /// Contexts whose keys work here too, after this one's own.
    var fallbacks: [KeyContext] {
        switch self {
        case .prompt, .model, .jobs, .outputs: [.global]
        default: []
        }
    }

    public var title: String {
        switch self {
        case .global: "Everywhere"
        case .prompt: "Prompt"
        case .model: "Model"
        case .jobs: "Jobs"
        case .outputs: "Outputs"
        case .field: "Typing in a field"
        case .help: "This help"
        case .picker: "The model list"
        case .confirm: "A question (y/n)"
        case .viewer: "The viewer"
        case .gallery: "The gallery"
        case .compare: "Comparing"
        case .spend: "Spending"
        case .text: "A text over the panes"
        case .details: "A job's details"
        case .mask: "Mask mode (in the viewer)"
        case .extend: "Extending the canvas (in the viewer)"
        }
    }

    public init(_ focus: Focus) {
        switch focus {
        case .prompt: self = .prompt
        case .model: self = .model
        case .jobs: self = .jobs
        case .outputs: self = .outputs
        }
    }
}

/// A command bound to keys in one context, with its help text.
public struct Binding: Sendable, Hashable {
    public var context: KeyContext
    public var command: Command
    public var keys: [Key]
    public var help: String
    /// The status bar's label; nil keeps the binding out of the status bar (it is in `?`).
    public var hint: String?

    init(_ context: KeyContext, _ command: Command, _ keys: [Key], _ help: String, hint: String? = nil) {
        self.context = context
        self.command = command
        self.keys = keys
        self.help = help
        self.hint = hint
    }
}

public struct KeymapError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The entry of `[keys]` the problem is in.
    public var entry: String
    public var message: String
    public var description: String { message }
}

/// The studio's keys: the one table every key is matched against, and what help and the
/// status bar are made from. `[keys]` in `config.toml` remaps commands.
public struct Keymap: Sendable, Hashable {
    public private(set) var bindings: [Binding]

    public init(bindings: [Binding]) { self.bindings = bindings }

    /// The command `key` runs in `context`, looking in the context's fallbacks after it. In a
    /// text context a printable key types and runs nothing.
    public func command(for key: Key, in context: KeyContext) -> Command? {
        if context.isText, key.isText { return nil }
        for place in [context] + context.fallbacks {
            if let binding = bindings.first(where: { $0.context == place && usableKeys($0, in: context).contains(key) }) {
                return binding.command
            }
        }
        return nil
    }

    /// The bindings of `context` itself, in table order.
    public func bindings(in context: KeyContext) -> [Binding] { bindings.filter { $0.context == context } }

    /// The keys of `binding` that work in `context`: where text is typed, printable ones type.
    public func usableKeys(_ binding: Binding, in context: KeyContext) -> [Key] {
        context.isText ? binding.keys.filter { !$0.isText } : binding.keys
    }

    /// The status bar in `context`: its own hinted bindings, then those of its fallbacks, each
    /// named by its first key that works there. Neighbours with the same label share it ("↑↓").
    /// `label` may give a binding another label where it is used (the form's row), or hide it.
    public func hints(for context: KeyContext, label: (Binding) -> String? = { $0.hint }) -> [(key: String, label: String)] {
        var hints: [(key: String, label: String)] = []
        for place in [context] + context.fallbacks {
            for binding in bindings(in: place) {
                guard let label = label(binding), let key = usableKeys(binding, in: context).first else { continue }
                if let last = hints.last, last.label == label {
                    hints[hints.count - 1].key += key.description
                } else {
                    hints.append((key.description, label))
                }
            }
        }
        return hints
    }

    /// The name of the first key that runs `command` in `context` (or its fallbacks); "—"
    /// when `[keys]` left it none.
    public func keyName(_ command: Command, in context: KeyContext) -> String {
        for place in [context] + context.fallbacks {
            if let binding = bindings(in: place).first(where: { $0.command == command }) {
                return usableKeys(binding, in: context).first?.description ?? "—"
            }
        }
        return "—"
    }

    /// `?` help: every context with its bindings and all their keys.
    public func helpSections() -> [(title: String, rows: [(keys: String, help: String)])] {
        KeyContext.allCases.compactMap { context in
            let rows = bindings(in: context).filter { !$0.keys.isEmpty }.map { binding in
                (keys: binding.keys.map(\.description).joined(separator: " "), help: binding.help)
            }
            return rows.isEmpty ? nil : (context.title, rows)
        }
    }

    /// This keymap with `entries` of `[keys]` applied: `command = "key"` or `= ["key", …]`
    /// replaces the command's keys in every context it is bound in; `context.command`
    /// (`jobs.abandon`) in that context only.
    public func remapped(_ entries: [(name: String, keys: [String])]) throws(KeymapError) -> Keymap {
        var map = self
        for (name, keyNames) in entries {
            let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
            let contextName = parts.count == 2 ? parts[0] : nil
            let commandName = parts.last ?? name
            var context: KeyContext?
            if let contextName {
                guard let found = KeyContext(rawValue: contextName) else {
                    throw KeymapError(entry: name, message: "unknown place \"\(contextName)\" in \"\(name)\" (known: \(KeyContext.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                context = found
            }
            guard let command = Command(rawValue: commandName) else {
                throw KeymapError(entry: name, message: "unknown command \"\(commandName)\" (known: \(Command.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            var keys: [Key] = []
            for keyName in keyNames {
                guard let key = Key(name: keyName) else {
                    throw KeymapError(entry: name, message: "\"\(name)\": unknown key \"\(keyName)\" (such as q, ctrl-q, alt-enter, f1, pgdn, space)")
                }
                keys.append(key)
            }
            if command == .quit, keys.isEmpty {
                throw KeymapError(entry: name, message: "quit needs at least one key")
            }
            let targets = map.bindings.indices.filter { map.bindings[$0].command == command && (context == nil || map.bindings[$0].context == context) }
            guard !targets.isEmpty else {
                throw KeymapError(entry: name, message: "\"\(commandName)\" is not a command of \(context?.rawValue ?? "any place")")
            }
            for index in targets { map.bindings[index].keys = keys }
        }
        try map.checkConflicts()
        return map
    }

    /// Two commands of one context on one key. (A pane's key may hide the same key's global
    /// command there: the pane's own keys come first.)
    private func checkConflicts() throws(KeymapError) {
        for context in KeyContext.allCases {
            var seen: [Key: Command] = [:]
            for binding in bindings(in: context) {
                for key in binding.keys {
                    if let other = seen[key], other != binding.command {
                        throw KeymapError(entry: binding.command.rawValue,
                                          message: "\(key) would do both \(other.rawValue) and \(binding.command.rawValue) in \(context.rawValue)")
                    }
                    seen[key] = binding.command
                }
            }
        }
    }
}

extension Keymap {
    /// Moving and cutting in text, the same in the prompt and in one-line fields.
    static func editing(_ context: KeyContext) -> [Binding] {
        [
            Binding(context, .left, [Key(.left), .ctrl("b")], "character left"),
            Binding(context, .right, [Key(.right), .ctrl("f")], "character right"),
            Binding(context, .wordLeft, [Key(.left, .ctrl), Key(.left, .alt), .alt("b")], "word left"),
            Binding(context, .wordRight, [Key(.right, .ctrl), Key(.right, .alt), .alt("f")], "word right"),
            Binding(context, .lineStart, [Key(.home), .ctrl("a")], "start of the line"),
            Binding(context, .lineEnd, [Key(.end), .ctrl("e")], "end of the line"),
            Binding(context, .deleteBackward, [Key(.backspace), .ctrl("h")], "delete the character before the cursor"),
            Binding(context, .deleteForward, [Key(.delete), .ctrl("d")], "delete the character under the cursor"),
            Binding(context, .killToLineStart, [.ctrl("u")], "cut to the start of the line"),
            Binding(context, .killToLineEnd, [.ctrl("k")], "cut to the end of the line"),
            Binding(context, .killWordBackward, [.ctrl("w")], "cut the word before the cursor"),
            Binding(context, .yank, [.ctrl("y")], "paste what was cut last"),
        ]
    }

    /// The keys as shipped.
    public static let standard = Keymap(bindings: [
        // Everywhere (the panes; overlays and fields take their own keys).
        Binding(.global, .nextPane, [Key(.tab)], "next pane", hint: "pane"),
        Binding(.global, .previousPane, [Key(.backTab)], "previous pane"),
        Binding(.global, .help, [.char("?"), Key(.function(1))], "this help", hint: "help"),
        Binding(.global, .quit, [.char("q"), .ctrl("q"), .ctrl("c")], "quit (asks first while jobs run)", hint: "quit"),
        Binding(.global, .dismiss, [Key(.escape)], "clear the message line"),
        Binding(.global, .spend, [.char("$")], "what was spent: 30 days, by day and model"),

        // The prompt: text, so printable keys type.
        Binding(.prompt, .submit, [Key(.enter)], "submit the prompt", hint: "submit"),
        Binding(.prompt, .newLine, [Key(.enter, .alt), .ctrl("j")], "new line", hint: "new line"),
        Binding(.prompt, .up, [Key(.up)], "line up; on the first line, the previous prompt", hint: "history"),
        Binding(.prompt, .down, [Key(.down)], "line down; on the last line, the next prompt", hint: "history"),
    ] + editing(.prompt) + [
        // The model pane's form.
        Binding(.model, .up, [Key(.up)], "previous setting", hint: "setting"),
        Binding(.model, .down, [Key(.down)], "next setting", hint: "setting"),
        Binding(.model, .left, [Key(.left), .char("-")], "change it down", hint: "change"),
        Binding(.model, .right, [Key(.right), .char("+"), .char("=")], "change it up", hint: "change"),
        Binding(.model, .edit, [.char("e")], "type a size, seed or path; on model, the list", hint: "edit"),
        Binding(.model, .reset, [Key(.delete), Key(.backspace)], "back to the default (random seed, empty slot)", hint: "default"),
        Binding(.model, .submit, [Key(.enter)], "submit (on the model and typed rows: edit)", hint: "submit"),
        Binding(.model, .sweep, [.char("w")], "seed sweep on or off: seeds s, s+1, … (a locked seed)"),
        Binding(.model, .expand, [.char("x")], "the prompts a {a|b} matrix makes"),
        Binding(.model, .body, [.char("p")], "the JSON the form would send"),

        Binding(.jobs, .up, [Key(.up)], "previous job"),
        Binding(.jobs, .down, [Key(.down)], "next job"),
        Binding(.jobs, .pageUp, [Key(.pageUp)], "ten jobs up"),
        Binding(.jobs, .pageDown, [Key(.pageDown)], "ten jobs down"),
        Binding(.jobs, .first, [Key(.home)], "newest job"),
        Binding(.jobs, .last, [Key(.end)], "oldest job"),
        Binding(.jobs, .details, [.char("i"), Key(.enter)], "details", hint: "details"),
        Binding(.jobs, .cancel, [.char("c")], "cancel a job not sent yet", hint: "cancel"),
        Binding(.jobs, .abandon, [.char("a")], "abandon a sent job (it may still be charged)", hint: "abandon"),
        Binding(.jobs, .again, [.char("r")], "same seed again, or retry; a failed save: download again", hint: "again"),
        Binding(.jobs, .againNewSeed, [.char("n")], "run again with a new seed", hint: "new seed"),
        Binding(.jobs, .group, [.char("g")], "the gallery of this job's submission (group:ID)"),
        Binding(.jobs, .right, [Key(.right)], "open a group: its jobs under it"),
        Binding(.jobs, .left, [Key(.left)], "close the group"),

        Binding(.outputs, .up, [Key(.up)], "previous image"),
        Binding(.outputs, .down, [Key(.down)], "next image (older ones load as you reach the end)"),
        Binding(.outputs, .pageUp, [Key(.pageUp)], "ten images up"),
        Binding(.outputs, .pageDown, [Key(.pageDown)], "ten images down"),
        Binding(.outputs, .first, [Key(.home)], "newest image"),
        Binding(.outputs, .last, [Key(.end)], "oldest image loaded"),
        Binding(.outputs, .filter, [.char("/")], "filter (its forms are listed below)", hint: "filter"),
        Binding(.outputs, .details, [.char("i")], "details"),
        Binding(.outputs, .open, [.char("o")], "open in the system viewer", hint: "open"),
        Binding(.outputs, .useAsReference, [.char("u")], "use as a reference image", hint: "as ref"),
        Binding(.outputs, .copyPath, [.char("y")], "copy the path", hint: "copy"),
        Binding(.outputs, .again, [.char("r")], "run again with the same seed"),
        Binding(.outputs, .againNewSeed, [.char("n")], "run again with a new seed"),
        Binding(.outputs, .delete, [.char("d")], "move the image and its sidecar to the Trash (asks first)", hint: "delete"),
        Binding(.outputs, .view, [.char("v"), Key(.enter)], "view the image full-screen with its settings", hint: "view"),
        Binding(.outputs, .gallery, [.char("g")], "the gallery: a grid of the (filtered) images"),
        Binding(.outputs, .mark, [.char(" ")], "mark for comparison (up to four; again unmarks)"),
        Binding(.outputs, .compare, [.char("c")], "compare the marked images side by side"),
        Binding(.outputs, .star, [.char("s")], "star or unstar (the filter finds them with is:starred)"),
        Binding(.outputs, .tag, [.char("t")], "tags, space or comma separated (tag:NAME finds them)"),
        Binding(.outputs, .editImage, [.char("e")], "edit it with words (an editing model, it as reference 1)", hint: "edit"),
        Binding(.outputs, .family, [.char("f")], "its family, oldest first (family:ID)"),

        // A one-line field: text, so printable keys type.
        Binding(.field, .accept, [Key(.enter)], "done", hint: "done"),
        Binding(.field, .close, [Key(.escape)], "cancel (in the filter: clear it)", hint: "cancel"),
        Binding(.field, .complete, [Key(.tab)], "complete a reference's path (several matches are listed)", hint: "complete"),
    ] + editing(.field) + [
        Binding(.help, .up, [Key(.up)], "scroll up", hint: "scroll"),
        Binding(.help, .down, [Key(.down)], "scroll down", hint: "scroll"),
        Binding(.help, .pageUp, [Key(.pageUp)], "a page up"),
        Binding(.help, .pageDown, [Key(.pageDown)], "a page down"),
        Binding(.help, .close, [Key(.escape), .char("?"), .char("q")], "close (any other key too)", hint: "close"),

        Binding(.picker, .up, [Key(.up)], "previous model", hint: "choose"),
        Binding(.picker, .down, [Key(.down)], "next model", hint: "choose"),
        Binding(.picker, .mark, [.char(" ")], "mark a model to compare (submissions go to each)"),
        Binding(.picker, .accept, [Key(.enter)], "use this model", hint: "use this model"),
        Binding(.picker, .close, [Key(.escape), .char("q"), Key(.tab), Key(.backTab)], "close", hint: "close"),

        Binding(.gallery, .left, [Key(.left)], "previous image", hint: "move"),
        Binding(.gallery, .right, [Key(.right)], "next image", hint: "move"),
        Binding(.gallery, .up, [Key(.up)], "a row up", hint: "move"),
        Binding(.gallery, .down, [Key(.down)], "a row down (older images load as you reach the end)", hint: "move"),
        Binding(.gallery, .pageUp, [Key(.pageUp)], "a page up"),
        Binding(.gallery, .pageDown, [Key(.pageDown)], "a page down"),
        Binding(.gallery, .view, [Key(.enter), .char("v")], "view it full-screen", hint: "view"),
        Binding(.gallery, .star, [.char("s")], "star or unstar", hint: "star"),
        Binding(.gallery, .mark, [.char(" ")], "mark for comparison (up to four)", hint: "mark"),
        Binding(.gallery, .compare, [.char("c")], "compare the marked images", hint: "compare"),
        Binding(.gallery, .editImage, [.char("e")], "edit it with words", hint: "edit"),
        Binding(.gallery, .close, [Key(.escape), .char("g"), .char("q")], "back to the list", hint: "back"),

        Binding(.spend, .refresh, [.char("r")], "read the ledger again", hint: "refresh"),
        Binding(.spend, .close, [Key(.escape), .char("$"), .char("q")], "back", hint: "back"),

        Binding(.viewer, .left, [Key(.left)], "previous image (of the filtered list)", hint: "step"),
        Binding(.viewer, .right, [Key(.right)], "next image", hint: "step"),
        Binding(.viewer, .star, [.char("s")], "star or unstar", hint: "star"),
        Binding(.viewer, .editImage, [.char("e")], "edit it with words", hint: "edit"),
        Binding(.viewer, .maskMode, [.char("m")], "mask mode: choose rectangles to repaint with Fill", hint: "mask"),
        Binding(.viewer, .extendMode, [.char("x")], "extend the canvas: grow its sides, Fill paints them", hint: "extend"),
        Binding(.viewer, .parent, [.char("[")], "the image it was made from"),
        Binding(.viewer, .child, [.char("]")], "the images made from it, in turn"),
        Binding(.viewer, .family, [.char("f")], "its family: ancestors and descendants (family:ID)", hint: "family"),
        Binding(.viewer, .close, [Key(.escape), .char("v"), .char("q")], "back to the list", hint: "back"),
        Binding(.mask, .left, [Key(.left), Key(.left, .shift)], "cursor left (Shift: eight cells)", hint: "move"),
        Binding(.mask, .right, [Key(.right), Key(.right, .shift)], "cursor right (Shift: eight cells)", hint: "move"),
        Binding(.mask, .up, [Key(.up), Key(.up, .shift)], "cursor up (Shift: four cells)", hint: "move"),
        Binding(.mask, .down, [Key(.down), Key(.down, .shift)], "cursor down (Shift: four cells)", hint: "move"),
        Binding(.mask, .anchor, [.char(" ")], "a rectangle's corner; again: the other (or drag the mouse)", hint: "corner"),
        Binding(.mask, .undo, [.char("u")], "take back the last rectangle", hint: "undo"),
        Binding(.mask, .invert, [.char("i")], "repaint everything but the rectangles (again: back)", hint: "invert"),
        Binding(.mask, .accept, [Key(.enter)], "say what to paint there, then send it to Fill", hint: "paint"),
        Binding(.mask, .close, [Key(.escape)], "leave mask mode (the rectangles are dropped)", hint: "leave"),

        Binding(.extend, .left, [Key(.left), Key(.left, .shift)], "grow the left side 32 px (Shift: a quarter)", hint: "grow"),
        Binding(.extend, .right, [Key(.right), Key(.right, .shift)], "grow the right side 32 px (Shift: a quarter)", hint: "grow"),
        Binding(.extend, .up, [Key(.up), Key(.up, .shift)], "grow the top 32 px (Shift: a quarter)", hint: "grow"),
        Binding(.extend, .down, [Key(.down), Key(.down, .shift)], "grow the bottom 32 px (Shift: a quarter)", hint: "grow"),
        Binding(.extend, .undo, [.char("u")], "take back the last step", hint: "undo"),
        Binding(.extend, .accept, [Key(.enter)], "say what to paint there, then send it to Fill", hint: "paint"),
        Binding(.extend, .close, [Key(.escape)], "leave extend mode (nothing is sent)", hint: "leave"),

        Binding(.compare, .close, [Key(.escape), .char("c"), .char("q")], "back", hint: "back"),
        Binding(.compare, .mark, [.char("x")], "clear the marks and go back", hint: "clear marks"),

        Binding(.text, .close, [Key(.escape)], "close (any other key too)", hint: "close"),
        Binding(.details, .close, [Key(.escape)], "close (any other key too)", hint: "close"),

        Binding(.confirm, .yes, [.char("y"), .char("Y")], "yes (quitting: q and Ctrl-C also say yes)", hint: "yes"),
        Binding(.confirm, .no, [.char("n"), .char("N"), Key(.escape)], "no (any other key too)", hint: "no"),
    ])
}
