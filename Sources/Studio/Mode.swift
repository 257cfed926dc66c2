import BFL
public import Jobs

// What has the keys: one value, worked out in one place. The reducer routes keys and clicks by
// it, the views draw by it (a full-screen view hides everything beneath it), and the status
// bar's hints come from its key context.

/// A layer of the studio: a pane, or something opened over the panes.
public enum Modal: Sendable, Hashable {
    /// A pane has the keys.
    case pane(Focus)
    /// A one-line field being edited (a seed, a size, a path, the filter, tags).
    case field
    /// The model list.
    case picker
    /// The grid of saved images.
    case gallery
    /// The full-screen viewer.
    case viewer
    /// Mask mode over the viewer's picture.
    case mask
    /// Extend mode over the viewer's picture.
    case extend
    /// Marked images side by side.
    case compare
    /// The spend view.
    case spend
    /// A read-only text (the prompts of a matrix, the bodies the form would send).
    case text
    /// A job's details.
    case details
    /// `?` help.
    case help
    /// A yes/no question.
    case confirm

    /// Whether it covers the panes: nothing beneath it is drawn or reached by a click.
    public var isFullScreen: Bool {
        switch self {
        case .gallery, .viewer, .compare, .spend: true
        case .pane, .field, .picker, .text, .details, .help, .confirm, .mask, .extend: false
        }
    }

    /// Where its keys are looked up.
    public var keyContext: KeyContext {
        switch self {
        case .pane(let focus): KeyContext(focus)
        case .field: .field
        case .picker: .picker
        case .gallery: .gallery
        case .viewer: .viewer
        case .mask: .mask
        case .extend: .extend
        case .compare: .compare
        case .spend: .spend
        case .text: .text
        case .details: .details
        case .help: .help
        case .confirm: .confirm
        }
    }
}

extension AppState {
    /// Everything open, the bottom (the focused pane) first; the last has the keys. The order
    /// is the one rule of what is over what.
    public var modes: [Modal] {
        var stack: [Modal] = [.pane(focus)]
        // The prompt of a repaint or an extension is typed over its mode; every other field
        // over its pane.
        let fillPrompt = fieldEdit?.target == .fillPrompt
        if fieldEdit != nil, !fillPrompt { stack.append(.field) }
        if picker != nil { stack.append(.picker) }
        if gallery { stack.append(.gallery) }
        if viewer != nil { stack.append(.viewer) }
        if viewer != nil, maskEdit != nil { stack.append(.mask) }
        if viewer != nil, extendEdit != nil { stack.append(.extend) }
        if fillPrompt { stack.append(.field) }
        if comparing { stack.append(.compare) }
        if spendOpen { stack.append(.spend) }
        if textOverlay != nil { stack.append(.text) }
        if details != nil { stack.append(.details) }
        if showHelp { stack.append(.help) }
        if confirming != nil { stack.append(.confirm) }
        return stack
    }

    /// What has the keys now.
    public var mode: Modal { modes.last ?? .pane(focus) }

    /// The status bar's hints: the keymap's, for the exact place the keys go (on the form, the
    /// row under the cursor: Enter opens the model list on the model row and edits a typed row;
    /// `w` sweeps on the seed row).
    public var hints: [(key: String, label: String)] {
        let context = mode.keyContext
        if case .field = mode {
            // Tab completes paths only in a reference's field.
            let path = if case .row(.reference)? = fieldEdit?.target { true } else { false }
            return keymap.hints(for: context) { binding in binding.command == .complete && !path ? nil : binding.hint }
        }
        guard case .pane(.model) = mode else { return keymap.hints(for: context) }
        let row = formRow
        return keymap.hints(for: context) { binding in
            switch binding.command {
            case .submit:
                return row == .model ? "models" : row.isText ? "edit" : binding.hint
            case .edit:
                // Only the size row needs `e`; on the model and typed rows Enter says it.
                return row == .size && model.sizeRule != .sameAsImage ? binding.hint : nil
            case .reset:
                switch row {
                case .model, .region, .count: return nil
                case .size: return steps(row) ? binding.hint : nil
                default: return binding.hint
                }
            case .left, .right:
                return steps(row) ? binding.hint : nil
            case .sweep:
                return row == .seed ? (settings.seedSweep ? "sweep off" : "sweep") : nil
            default:
                return binding.hint
            }
        }
    }

    /// The name of the first key that runs `command` where it is bound in `context` (a text
    /// that names a key says what `[keys]` made of it).
    public func keyName(_ command: Command, in context: KeyContext) -> String {
        keymap.keyName(command, in: context)
    }

    /// "(y/n)" in the keys of the question.
    public var yesNo: String {
        "(\(keyName(.yes, in: .confirm))/\(keyName(.no, in: .confirm)))"
    }
}

extension AppState {
    /// What the user can do about a job that ended badly, in this studio's keys (the engine
    /// says what happened; the advice names the key, so `[keys]` remapping shows here too).
    public func advice(for job: JobRecord) -> String? {
        let again = keyName(.again, in: .jobs)
        let others = job.otherRegions(among: regions)
        if let sent = job.region, !others.isEmpty {
            return "the \(sent) region may be down: try \(others.map(\.rawValue).joined(separator: " or ")) on the region row, then \(again)"
        }
        switch (job.phase, job.errorKind) {
        case (.saveFailed, _): return "\(again) on the job downloads it again, once the folder takes files (the URL lasts about 10 minutes)"
        case (.timedOut, _): return "`fluxdeck jobs resume` polls it again; \(again) sends it anew (paid again)"
        case (.failed, .network?): return "\(again) sends it again"
        case (.unknown, _): return "it may have run and been charged; it is never sent again by itself (\(again) sends a new one)"
        default: return nil
        }
    }
}
