// Number formatting for error messages, without Foundation.

/// `x` with exactly `decimals` digits after the point ("1.25", "-0.30"), or "nan"/"inf"/"-inf".
package func formatFixed(_ x: Double, decimals: Int = 2) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (Swift.abs(x) * scale).rounded()
    // Beyond 2^53 the digits are not meaningful anyway; fall back to Swift's shortest form.
    guard scaled < 9_007_199_254_740_992 else { return "\(x)" }
    let n = UInt64(scaled)
    let whole = n / UInt64(scale)
    var frac = String(n % UInt64(scale))
    while frac.count < decimals { frac = "0" + frac }
    let sign = (x < 0 && n != 0) ? "-" : ""
    return decimals > 0 ? "\(sign)\(whole).\(frac)" : "\(sign)\(whole)"
}

/// `x` with `digits` significant digits: fixed notation for 0.001 ≤ |x| < 10⁶ ("0.0123", "45.6"),
/// otherwise scientific ("1.23e-05").
func formatSignificant(_ x: Double, digits: Int = 3) -> String {
    if x.isNaN || x.isInfinite { return formatFixed(x) }
    if x == 0 { return "0" }
    let a = Swift.abs(x)
    var exponent = 0
    var m = a
    while m >= 10 {
        m /= 10
        exponent += 1
    }
    while m < 1 {
        m *= 10
        exponent -= 1
    }
    if a >= 0.001 && a < 1e6 {
        return formatFixed(x, decimals: Swift.max(0, digits - 1 - exponent))
    }
    var mantissa = formatFixed(m, decimals: digits - 1)
    if mantissa.hasPrefix("10") {  // rounding carried into a new digit
        mantissa = formatFixed(m / 10, decimals: digits - 1)
        exponent += 1
    }
    let expText = exponent < 0 ? "-" + (-exponent < 10 ? "0" : "") + String(-exponent) : "+" + (exponent < 10 ? "0" : "") + String(exponent)
    return (x < 0 ? "-" : "") + mantissa + "e" + expText
}

/// Labels as a readable list: `"LPA", "RPA"`.
func formatLabels(_ labels: [String]) -> String {
    labels.map { "\"\($0)\"" }.joined(separator: ", ")
}
