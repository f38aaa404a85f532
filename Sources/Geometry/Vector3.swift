/// A point or direction in 3-D space, in millimetres unless a name says otherwise.
///
/// CoilNav uses `SIMD3<Double>` directly so vector arithmetic (`+`, `-`, `*` by a scalar) is the
/// standard library's; this file adds the few geometric helpers the field needs.
public typealias Vector3 = SIMD3<Double>

extension SIMD3 where Scalar == Double {
    /// Dot product.
    @inlinable public func dot(_ other: Vector3) -> Double {
        (self * other).sum()
    }

    /// Right-handed cross product `self × other`.
    @inlinable public func cross(_ other: Vector3) -> Vector3 {
        Vector3(
            self.y * other.z - self.z * other.y,
            self.z * other.x - self.x * other.z,
            self.x * other.y - self.y * other.x
        )
    }

    /// Euclidean length.
    @inlinable public var length: Double { self.dot(self).squareRoot() }

    /// Squared Euclidean length.
    @inlinable public var lengthSquared: Double { self.dot(self) }

    /// The unit vector in the same direction. A zero vector stays zero (callers that need a
    /// direction check `length` first).
    @inlinable public var normalized: Vector3 {
        let l = self.length
        return l > 0 ? self / l : self
    }

    /// Distance to another point.
    @inlinable public func distance(to other: Vector3) -> Double { (self - other).length }

    /// True when all three components are finite (not NaN, not ±∞).
    @inlinable public var isFinite: Bool { self.x.isFinite && self.y.isFinite && self.z.isFinite }

    /// The unsigned angle between two non-zero vectors, in radians, computed with `atan2` so it
    /// stays accurate for nearly parallel vectors (where `acos` of the dot product loses digits).
    @inlinable public func angle(to other: Vector3) -> Double {
        let c = self.cross(other).length
        let d = self.dot(other)
        return atan2Double(c, d)
    }

    /// Any unit vector perpendicular to this (non-zero) vector.
    public var anyPerpendicular: Vector3 {
        let a = Swift.abs(self.x), b = Swift.abs(self.y), c = Swift.abs(self.z)
        let axis: Vector3 = (a <= b && a <= c) ? Vector3(1, 0, 0) : (b <= c ? Vector3(0, 1, 0) : Vector3(0, 0, 1))
        return self.cross(axis).normalized
    }
}

/// Centroid of a non-empty set of points.
public func centroid(of points: [Vector3]) -> Vector3 {
    precondition(!points.isEmpty, "centroid of an empty point set")
    var s = Vector3.zero
    for p in points { s += p }
    return s / Double(points.count)
}
