extension Duration {
    /// The length in seconds, as a Double (for rates, JSON numbers and figures; never for sums
    /// that must be exact).
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The length in milliseconds, as a Double.
    public var milliseconds: Double { seconds * 1000 }
}
