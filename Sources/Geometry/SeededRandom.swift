/// SplitMix64: a small, fast, seedable generator (Steele, Lea & Flood 2014). The same seed gives the
/// same sequence on every platform, which is what tests, Monte-Carlo checks and the mock tracker
/// need. Not for cryptography.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { self.state = seed }

    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension RandomNumberGenerator {
    /// A uniform double in [0, 1) with 53 random bits (platform-independent, unlike
    /// `Double.random(in:using:)` whose algorithm is not specified).
    public mutating func nextUnitDouble() -> Double {
        Double(self.next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal deviate (Box–Muller; one of the pair is discarded for simplicity and
    /// reproducibility).
    public mutating func nextGaussian() -> Double {
        var u1 = self.nextUnitDouble()
        while u1 <= 0 { u1 = self.nextUnitDouble() }
        let u2 = self.nextUnitDouble()
        return (-2 * logDouble(u1)).squareRoot() * cosDouble(2 * Double.pi * u2)
    }

    /// A vector of three independent normal deviates with standard deviation `sigma` each.
    public mutating func nextGaussianVector(sigma: Double) -> Vector3 {
        Vector3(self.nextGaussian(), self.nextGaussian(), self.nextGaussian()) * sigma
    }

    /// A rotation drawn uniformly from SO(3) (Shoemake's method).
    public mutating func nextRotation() -> Quaternion {
        let u1 = self.nextUnitDouble(), u2 = self.nextUnitDouble(), u3 = self.nextUnitDouble()
        let a = (1 - u1).squareRoot(), b = u1.squareRoot()
        return Quaternion(
            q0: a * sinDouble(2 * Double.pi * u2), qx: a * cosDouble(2 * Double.pi * u2),
            qy: b * sinDouble(2 * Double.pi * u3), qz: b * cosDouble(2 * Double.pi * u3)
        ).canonical
    }

    /// A rotation of exactly `angleRadians` about a uniformly random axis.
    public mutating func nextRotation(angleRadians: Double) -> Quaternion {
        var axis = Vector3.zero
        while axis.length < 1e-6 { axis = self.nextGaussianVector(sigma: 1) }
        return Quaternion(axis: axis, angleRadians: angleRadians)
    }
}
