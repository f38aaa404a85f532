/// An OpenIGTLink timestamp (header bytes 34–41): 32-bit seconds since 1970-01-01 UTC, then a
/// 32-bit binary fraction of a second. The raw value 0 means "no timestamp".
///
/// Conversions to and from nanoseconds follow OpenIGTLink's own bit-by-bit approximation
/// (`igtl_nanosec_to_frac` / `igtl_frac_to_nanosec`, `protocols.md` §3.1), not exact scaling, so
/// that CoilNav's headers are byte-identical with the C library's and pyigtl's for the same time:
/// 1 000 000 ns → fraction 0x0041892C (exact scaling would give 0x00418937). The two conversions
/// invert each other exactly.
public struct IGTLTimestamp: Hashable, Sendable, CustomStringConvertible {
    /// Whole seconds since 1970-01-01 UTC.
    public var seconds: UInt32
    /// Binary fraction of a second: `fraction / 2³²` s.
    public var fraction: UInt32

    public init(seconds: UInt32, fraction: UInt32) {
        self.seconds = seconds
        self.fraction = fraction
    }

    /// The 64-bit header field: seconds in the high half, fraction in the low half.
    public init(rawValue: UInt64) {
        self.seconds = UInt32(truncatingIfNeeded: rawValue >> 32)
        self.fraction = UInt32(truncatingIfNeeded: rawValue)
    }

    /// Seconds and nanoseconds (0 ..< 1 000 000 000; larger values saturate the fraction), with
    /// OpenIGTLink's approximation of the fraction.
    public init(seconds: UInt32, nanoseconds: UInt32) {
        self.seconds = seconds
        self.fraction = Self.fraction(nanoseconds: nanoseconds)
    }

    /// No timestamp.
    public static let none = IGTLTimestamp(rawValue: 0)

    /// The 64-bit header field.
    public var rawValue: UInt64 { UInt64(self.seconds) << 32 | UInt64(self.fraction) }

    /// The fraction as nanoseconds, the inverse of `init(seconds:nanoseconds:)`.
    public var nanoseconds: UInt32 { Self.nanoseconds(fraction: self.fraction) }

    /// Nanoseconds → binary fraction as OpenIGTLink computes it: bit 31 is worth ⌈10⁹/2⌉ ns and
    /// every following bit half the previous weight, rounded up; bits are set greedily from the top.
    public static func fraction(nanoseconds: UInt32) -> UInt32 {
        var remaining = nanoseconds
        var weight: UInt32 = 1_000_000_000
        var result: UInt32 = 0
        var bit: UInt32 = 1 << 31
        while bit != 0 {
            weight = (weight + 1) >> 1
            if remaining >= weight {
                result |= bit
                remaining -= weight
            }
            bit >>= 1
        }
        return result
    }

    /// Binary fraction → nanoseconds: the sum of the weights of the set bits (see `fraction(nanoseconds:)`).
    public static func nanoseconds(fraction: UInt32) -> UInt32 {
        var weight: UInt32 = 1_000_000_000
        var result: UInt32 = 0
        var bit: UInt32 = 1 << 31
        while bit != 0 {
            weight = (weight + 1) >> 1
            if fraction & bit != 0 { result += weight }
            bit >>= 1
        }
        return result
    }

    public var description: String {
        "\(self.seconds)+0x\(String(self.fraction, radix: 16))/2^32 s"
    }
}
