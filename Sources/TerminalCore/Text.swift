/// A run of text in one style.
public struct Span: Sendable, Hashable, ExpressibleByStringLiteral {
    public var content: String
    public var style: Style

    public init(_ content: String, style: Style = .plain) {
        self.content = content
        self.style = style
    }

    public init(stringLiteral value: String) { self.init(value) }

    public var width: Int { DisplayWidth.of(content) }
}

/// A row of spans.
public struct Line: Sendable, Hashable, ExpressibleByStringLiteral {
    public var spans: [Span]
    /// A style under every span.
    public var style: Style

    public init(_ spans: [Span], style: Style = .plain) {
        self.spans = spans
        self.style = style
    }

    public init(_ text: String, style: Style = .plain) {
        self.init([Span(text)], style: style)
    }

    public init(stringLiteral value: String) { self.init(value) }

    public var width: Int { spans.reduce(0) { $0 + $1.width } }
    public var plainText: String { spans.map(\.content).joined() }
}
