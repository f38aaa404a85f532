/// Fixed-point text of numbers for the screen and the plain lines (no Foundation): correctly rounded
/// to the given number of decimals (an exact tie, such as 1.25 to one decimal, away from zero), no
/// exponent, and no minus sign on a value that rounds to zero.
public enum NumberText {
    /// `x` with exactly `decimals` digits after the point: `fixed(1.25, 1)` is "1.3",
    /// `fixed(-0.04, 1)` is "0.0". Not-finite values are "-".
    public static func fixed(_ x: Double, _ decimals: Int) -> String {
        guard x.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let magnitude = Swift.abs(x)
        let product = magnitude * scale
        guard product < 4e15 else { return x < 0 ? "-huge" : "huge" }
        // Correctly rounded: the product's rounding error, exactly (fused multiply-add), decides
        // the cases that look like a tie; a true tie (1.25 to one decimal) goes away from zero.
        let error = (-product).addingProduct(magnitude, scale)
        let floor = product.rounded(.down)
        let fraction = product - floor
        let roundUp = fraction > 0.5 || (fraction == 0.5 && error >= 0)
        let units = UInt64(floor) + (roundUp ? 1 : 0)
        var digits = String(units)
        if decimals > 0 {
            if digits.count <= decimals { digits = String(repeating: "0", count: decimals - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
        }
        return units != 0 && x < 0 ? "-" + digits : digits
    }

    /// As `fixed`, with a `+` in front of a positive value (signed figures such as depth and twist).
    public static func signed(_ x: Double, _ decimals: Int) -> String {
        let t = Self.fixed(x, decimals)
        guard x.isFinite, x > 0, t.contains(where: { $0 != "0" && $0 != "." }) else { return t }
        return "+" + t
    }

    /// A figure for the big digits, at most 5 characters: one decimal below 100, whole numbers up to
    /// 9999, then "9999" (with the sign kept); `signed` adds `+` to positive values.
    public static func figure(_ x: Double, signed: Bool) -> String {
        guard x.isFinite else { return "--" }
        let magnitude = Swift.abs(x)
        let text: String
        if magnitude < 99.95 {
            text = Self.fixed(magnitude, 1)
        } else if magnitude < 9999.5 {
            text = Self.fixed(magnitude, 0)
        } else {
            text = "9999"
        }
        let isZero = !text.contains { $0 != "0" && $0 != "." }
        if isZero { return text }
        if x < 0 { return "-" + text }
        return signed ? "+" + text : text
    }
}
