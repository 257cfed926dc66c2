public import TerminalCore

/// Where the studio's panes are for a terminal size. The views draw into these rectangles and
/// the reducer maps mouse clicks with the same ones.
public struct StudioLayout: Sendable, Hashable {
    public var title: Rect
    public var prompt: Rect
    public var model: Rect
    public var cost: Rect
    public var jobs: Rect
    public var outputs: Rect
    public var message: Rect
    public var status: Rect
    /// True when the terminal is too small to draw the studio.
    public var tooSmall: Bool

    public static let minimumWidth = 40
    public static let minimumHeight = 12

    public init(width: Int, height: Int) {
        let area = Rect(width: width, height: height)
        tooSmall = width < Self.minimumWidth || height < Self.minimumHeight
        let rows = Layout.vertical([.length(1), .fill(1), .length(1), .length(1)]).split(area)
        title = rows[0]
        message = rows[2]
        status = rows[3]
        let wide = width >= 100
        let columns = Layout.horizontal([.percentage(wide ? 40 : 45), .fill(1)]).split(rows[1])
        let left = Layout.vertical([.percentage(height >= 36 ? 40 : 34), .fill(1)]).split(columns[0])
        prompt = left[0]
        model = left[1]
        let costHeight = height >= 36 ? 8 : 6
        let right = Layout.vertical([.length(costHeight), .fill(1), .fill(1)]).split(columns[1])
        cost = right[0]
        jobs = right[1]
        outputs = right[2]
    }

    /// The viewer's picture area and its text column, for a screen of `width` × `height`: the
    /// view draws there, and mask mode maps the picture's cells with the same rectangle.
    public static func viewer(width: Int, height: Int) -> (image: Rect, text: Rect)? {
        let inner = Rect(width: width, height: height).inset(by: 1)
        guard inner.width > 10, inner.height > 2 else { return nil }
        let textWidth = min(48, max(24, inner.width / 3))
        let image = Rect(x: inner.x, y: inner.y, width: inner.width - textWidth - 1, height: inner.height)
        return (image, Rect(x: image.right + 1, y: inner.y, width: textWidth, height: inner.height))
    }

    /// The pane under a cell, with its rectangle.
    public func pane(at x: Int, _ y: Int) -> (Focus, Rect)? {
        let panes: [(Focus, Rect)] = [(.prompt, prompt), (.model, model), (.jobs, jobs), (.outputs, outputs)]
        return panes.first { $0.1.contains(x: x, y: y) }
    }

    /// The rows a pane's list (the form, jobs, outputs) is drawn in: the pane's inside below
    /// its border, and for the outputs below the filter line when one is shown. The views draw
    /// the lists here and the reducer maps clicks with it, so a click picks the row it is on.
    public func listBody(_ focus: Focus, filterShown: Bool) -> Rect {
        let pane: Rect = switch focus {
        case .prompt: prompt
        case .model: model
        case .jobs: jobs
        case .outputs: outputs
        }
        let inner = pane.inset(by: 1)
        guard focus == .outputs, filterShown, inner.height > 1 else { return inner }
        return Rect(x: inner.x, y: inner.y + 1, width: inner.width, height: inner.height - 1)
    }

    /// The gallery's grid at this size: the cells (thumbnail above, caption below) that fit
    /// the screen above the status bar, in rows of `columns`.
    public static func galleryGrid(width: Int, height: Int) -> (columns: Int, rows: Int, cell: (width: Int, height: Int), area: Rect) {
        let area = Rect(x: 0, y: 0, width: width, height: max(0, height - 1)).inset(by: 1)
        // As many cells of at least 26×11 as fit; they share out the space left over.
        let columns = max(1, area.width / 26)
        let rows = max(1, area.height / 11)
        return (columns, rows, (width: max(1, area.width / columns), height: max(1, area.height / rows)), area)
    }

    /// The first row a list shows so that the selection is visible (the list widget scrolls
    /// the same way from a zero offset).
    public static func offset(selected: Int?, visible: Int) -> Int {
        guard let selected, visible > 0 else { return 0 }
        return max(0, selected - visible + 1)
    }
}
