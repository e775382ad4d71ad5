extension Duration {
    /// The duration in seconds, as a `Double` (for rates, printed times and C APIs that take
    /// seconds).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }

    /// Whole milliseconds, rounded down.
    public var milliseconds: Int {
        Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000)
    }
}
