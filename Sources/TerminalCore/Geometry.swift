/// A rectangle of cells.
public struct Rect: Sendable, Hashable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int = 0, y: Int = 0, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public static let zero = Rect(width: 0, height: 0)

    public var area: Int { width * height }
    public var isEmpty: Bool { width == 0 || height == 0 }
    public var right: Int { x + width }
    public var bottom: Int { y + height }

    public func contains(x px: Int, y py: Int) -> Bool {
        px >= x && px < right && py >= y && py < bottom
    }

    /// Whether the two share a cell.
    public func intersects(_ other: Rect) -> Bool { !intersection(other).isEmpty }

    public func intersection(_ other: Rect) -> Rect {
        let left = max(x, other.x), top = max(y, other.y)
        let r = min(right, other.right), b = min(bottom, other.bottom)
        return Rect(x: left, y: top, width: max(0, r - left), height: max(0, b - top))
    }

    /// The rectangle shrunk by a margin on every side.
    public func inset(by margin: Int) -> Rect {
        inset(horizontal: margin, vertical: margin)
    }

    public func inset(horizontal: Int, vertical: Int) -> Rect {
        Rect(x: x + horizontal, y: y + vertical, width: width - 2 * horizontal, height: height - 2 * vertical)
    }

    public var description: String { "\(width)x\(height)+\(x)+\(y)" }
}

/// How much room a layout part asks for.
public enum Constraint: Sendable, Hashable {
    /// Exactly this many cells (less if there is not enough room).
    case length(Int)
    /// At least this many cells; grows like `fill(1)`.
    case min(Int)
    /// At most this many cells; grows like `fill(1)` up to the bound.
    case max(Int)
    /// This share of the whole, in percent.
    case percentage(Int)
    /// A share of what is left, by weight.
    case fill(Int)
}

public enum Direction: Sendable, Hashable { case horizontal, vertical }

/// Splits a rectangle into parts along one direction.
public struct Layout: Sendable, Hashable {
    public var direction: Direction
    public var constraints: [Constraint]
    public var spacing: Int

    public init(_ direction: Direction, _ constraints: [Constraint], spacing: Int = 0) {
        self.direction = direction
        self.constraints = constraints
        self.spacing = spacing
    }

    public static func vertical(_ constraints: [Constraint], spacing: Int = 0) -> Layout { Layout(.vertical, constraints, spacing: spacing) }
    public static func horizontal(_ constraints: [Constraint], spacing: Int = 0) -> Layout { Layout(.horizontal, constraints, spacing: spacing) }

    /// The parts, in order. Fixed sizes (length, percentage, the floor of min) are served first,
    /// scaled down when they do not fit; the rest is shared among min, max and fill by weight,
    /// with max parts capped and their surplus passed on.
    public func split(_ area: Rect) -> [Rect] {
        let n = constraints.count
        guard n > 0 else { return [] }
        let total = direction == .horizontal ? area.width : area.height
        let available = Swift.max(0, total - spacing * (n - 1))
        var sizes = constraints.map { constraint -> Int in
            switch constraint {
            case .length(let v): Swift.max(0, v)
            case .percentage(let p): total * Swift.min(Swift.max(p, 0), 100) / 100
            case .min(let v): Swift.max(0, v)
            case .max, .fill: 0
            }
        }
        let fixed = sizes.reduce(0, +)
        if fixed > available {
            // Not enough room: scale the fixed parts down; the cells lost to rounding go to the
            // parts with the largest remainders.
            let scaled = sizes.map { $0 * available }
            sizes = scaled.map { $0 / fixed }
            var left = available - sizes.reduce(0, +)
            for i in sizes.indices.sorted(by: { scaled[$0] % fixed > scaled[$1] % fixed }) where left > 0 {
                sizes[i] += 1
                left -= 1
            }
            return rects(area, sizes)
        }
        var left = available - fixed
        // Growing parts: min, max and fill, by weight; max parts stop at their bound.
        var growing: [(index: Int, weight: Int, cap: Int?)] = constraints.enumerated().compactMap { index, constraint in
            switch constraint {
            case .fill(let w): (index, Swift.max(w, 0), nil)
            case .min: (index, 1, nil)
            case .max(let m): (index, 1, Swift.max(m, 0))
            default: nil
            }
        }
        while left > 0, !growing.isEmpty {
            let weights = growing.reduce(0) { $0 + $1.weight }
            guard weights > 0 else { break }
            var given = 0
            var capped = false
            for part in growing {
                var share = left * part.weight / weights
                if let cap = part.cap, sizes[part.index] + share >= cap {
                    share = cap - sizes[part.index]
                    capped = true
                }
                sizes[part.index] += share
                given += share
            }
            left -= given
            growing.removeAll { part in part.cap.map { sizes[part.index] >= $0 } ?? false }
            if !capped {
                // Rounding leftovers go to the last growing parts, one cell each.
                var k = growing.count - 1
                while left > 0, k >= 0 {
                    if growing[k].weight > 0 { sizes[growing[k].index] += 1; left -= 1 }
                    k -= 1
                }
                break
            }
        }
        return rects(area, sizes)
    }

    private func rects(_ area: Rect, _ sizes: [Int]) -> [Rect] {
        var offset = direction == .horizontal ? area.x : area.y
        return sizes.map { size in
            defer { offset += size + spacing }
            switch direction {
            case .horizontal: return Rect(x: offset, y: area.y, width: size, height: area.height)
            case .vertical: return Rect(x: area.x, y: offset, width: area.width, height: size)
            }
        }
    }
}
