extension Duration {
    /// The duration in whole nanoseconds, rounded towards zero; 0 for a negative duration (the
    /// clocks of CoilNav count unsigned nanoseconds).
    public var wholeNanoseconds: UInt64 {
        let c = self.components
        if c.seconds < 0 || (c.seconds == 0 && c.attoseconds < 0) { return 0 }
        return UInt64(c.seconds) * 1_000_000_000 + UInt64(c.attoseconds / 1_000_000_000)
    }

    /// The duration in seconds, as a `Double` (for `Thread.sleep`, `Date` arithmetic, display).
    public var inSeconds: Double {
        let c = self.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
