/// The selection and scroll position of a list or table, kept by the caller.
public struct ListState: Sendable, Hashable {
    public var selected: Int?
    /// The first visible row.
    public var offset = 0

    public init(selected: Int? = nil) { self.selected = selected }

    /// Moves the selection by `delta` rows within `count`.
    public mutating func move(by delta: Int, count: Int) {
        guard count > 0 else { selected = nil; return }
        selected = min(max((selected ?? (delta > 0 ? -1 : count)) + delta, 0), count - 1)
    }

    /// Scrolls so that the selection is visible in `height` rows.
    public mutating func reveal(height: Int, count: Int) {
        guard height > 0 else { return }
        if let selected {
            if selected < offset { offset = selected }
            if selected >= offset + height { offset = selected - height + 1 }
        }
        offset = max(0, min(offset, max(0, count - height)))
    }
}
