/// How the readout presents itself on the terminal it was started on (docs/readout.md, "Colour and
/// plain output"). Decided from the flags, the environment and whether standard output is a
/// terminal; pure so the rules are tested as written.
public enum ReadoutPolicy {
    public enum Output: Equatable, Sendable {
        /// The full-screen readout, with or without colour.
        case screen(colour: Bool)
        /// One line per update.
        case plain
    }

    /// - `--plain`, a standard output that is not a terminal, or `TERM=dumb` (no cursor movement):
    ///   plain lines;
    /// - otherwise the screen, in colour unless `--no-color`, `NO_COLOR` is set (to any value, even
    ///   empty), or `TERM` is unset or empty.
    public static func output(plainFlag: Bool, noColorFlag: Bool, standardOutputIsTerminal: Bool, environment: [String: String]) -> Output {
        let term = environment["TERM"] ?? ""
        if plainFlag || !standardOutputIsTerminal || term == "dumb" { return .plain }
        let colour = !noColorFlag && environment["NO_COLOR"] == nil && !term.isEmpty
        return .screen(colour: colour)
    }

    /// The screen redraws at most this often (and the subscription asks for this frame rate).
    public static let screenRateHz = 30.0
    /// Plain lines a second by default (`--rate`).
    public static let defaultPlainRateHz = 10.0

    /// How long without a frame counts as tracking lost, at a subscription of `rateHz` frames a
    /// second: three frame intervals, and at least half a second.
    public static func silenceLimitNanoseconds(rateHz: Double) -> Int64 {
        guard rateHz > 0 else { return 500_000_000 }
        return Swift.max(500_000_000, Int64((3 / rateHz * 1e9).rounded()))
    }
}
