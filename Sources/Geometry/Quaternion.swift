/// A rotation quaternion in the NDI order: scalar part first (`q0`, `qx`, `qy`, `qz`).
///
/// The rotation it represents acts on column vectors: `q.rotate(v) = q v q*`. Its matrix is Horn's
/// (1987): row 0 = [q0²+qx²−qy²−qz², 2(qxqy−q0qz), 2(qxqz+q0qy)] and so on. `q` and `−q` are the same
/// rotation; `canonical` picks the one with `q0 ≥ 0`.
public struct Quaternion: Equatable, Sendable, CustomStringConvertible {
    public var q0: Double
    public var qx: Double
    public var qy: Double
    public var qz: Double

    @inlinable public init(q0: Double, qx: Double, qy: Double, qz: Double) {
        self.q0 = q0
        self.qx = qx
        self.qy = qy
        self.qz = qz
    }

    public static let identity = Quaternion(q0: 1, qx: 0, qy: 0, qz: 0)

    /// Rotation of `angleRadians` about `axis` (right-handed). The axis need not be unit length but
    /// must be non-zero.
    public init(axis: Vector3, angleRadians: Double) {
        let a = axis.normalized
        let h = angleRadians / 2
        let s = sinDouble(h)
        self.init(q0: cosDouble(h), qx: a.x * s, qy: a.y * s, qz: a.z * s)
    }

    /// Rotation vector (axis × angle in radians) → quaternion: the exponential map. Exact for small
    /// angles too.
    public init(rotationVector w: Vector3) {
        let angle = w.length
        if angle < 1e-12 {
            // Second-order expansion avoids 0/0.
            self.init(q0: 1 - angle * angle / 8, qx: w.x / 2, qy: w.y / 2, qz: w.z / 2)
            self = self.normalized
        } else {
            self.init(axis: w / angle, angleRadians: angle)
        }
    }

    /// The unit quaternion of a rotation matrix (Shepperd's method: numerically stable for every
    /// angle). The matrix should be orthonormal with determinant +1.
    public init(rotationMatrix m: Matrix3) {
        let t = m.trace
        var q: Quaternion
        if t > 0 {
            let s = (t + 1).squareRoot() * 2
            q = Quaternion(q0: s / 4, qx: (m[2, 1] - m[1, 2]) / s, qy: (m[0, 2] - m[2, 0]) / s, qz: (m[1, 0] - m[0, 1]) / s)
        } else if m[0, 0] > m[1, 1] && m[0, 0] > m[2, 2] {
            let s = (1 + m[0, 0] - m[1, 1] - m[2, 2]).squareRoot() * 2
            q = Quaternion(q0: (m[2, 1] - m[1, 2]) / s, qx: s / 4, qy: (m[0, 1] + m[1, 0]) / s, qz: (m[0, 2] + m[2, 0]) / s)
        } else if m[1, 1] > m[2, 2] {
            let s = (1 + m[1, 1] - m[0, 0] - m[2, 2]).squareRoot() * 2
            q = Quaternion(q0: (m[0, 2] - m[2, 0]) / s, qx: (m[0, 1] + m[1, 0]) / s, qy: s / 4, qz: (m[1, 2] + m[2, 1]) / s)
        } else {
            let s = (1 + m[2, 2] - m[0, 0] - m[1, 1]).squareRoot() * 2
            q = Quaternion(q0: (m[1, 0] - m[0, 1]) / s, qx: (m[0, 2] + m[2, 0]) / s, qy: (m[1, 2] + m[2, 1]) / s, qz: s / 4)
        }
        self = q.normalized.canonical
    }

    /// The vector part (qx, qy, qz).
    @inlinable public var vector: Vector3 { Vector3(self.qx, self.qy, self.qz) }

    @inlinable public var norm: Double {
        (self.q0 * self.q0 + self.qx * self.qx + self.qy * self.qy + self.qz * self.qz).squareRoot()
    }

    public var normalized: Quaternion {
        let n = self.norm
        return Quaternion(q0: self.q0 / n, qx: self.qx / n, qy: self.qy / n, qz: self.qz / n)
    }

    /// The same rotation with a non-negative scalar part.
    public var canonical: Quaternion {
        self.q0 < 0 ? Quaternion(q0: -self.q0, qx: -self.qx, qy: -self.qy, qz: -self.qz) : self
    }

    /// The conjugate, which for a unit quaternion is the inverse rotation.
    @inlinable public var conjugate: Quaternion { Quaternion(q0: self.q0, qx: -self.qx, qy: -self.qy, qz: -self.qz) }

    /// True when all four components are finite.
    public var isFinite: Bool { self.q0.isFinite && self.qx.isFinite && self.qy.isFinite && self.qz.isFinite }

    /// The rotation angle in radians, in [0, π].
    public var angleRadians: Double {
        let c = self.canonical
        return 2 * atan2Double(c.vector.length, c.q0)
    }

    /// Axis × angle (radians): the logarithm map, inverse of `init(rotationVector:)`.
    public var rotationVector: Vector3 {
        let c = self.canonical.normalized
        let s = c.vector.length
        if s < 1e-12 { return c.vector * 2 }
        return c.vector / s * (2 * atan2Double(s, c.q0))
    }

    /// The rotation matrix (Horn 1987).
    public var rotationMatrix: Matrix3 {
        let (w, x, y, z) = (self.q0, self.qx, self.qy, self.qz)
        return Matrix3(
            rows: Vector3(w * w + x * x - y * y - z * z, 2 * (x * y - w * z), 2 * (x * z + w * y)),
            Vector3(2 * (x * y + w * z), w * w - x * x + y * y - z * z, 2 * (y * z - w * x)),
            Vector3(2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z)
        )
    }

    /// Rotates a vector.
    @inlinable public func rotate(_ v: Vector3) -> Vector3 {
        // v' = v + 2 u × (u × v + w v), with u the vector part.
        let u = self.vector
        let t = u.cross(v) * 2
        return v + t * self.q0 + u.cross(t)
    }

    /// Hamilton product: `(a * b).rotate(v) == a.rotate(b.rotate(v))`.
    @inlinable public static func * (a: Quaternion, b: Quaternion) -> Quaternion {
        Quaternion(
            q0: a.q0 * b.q0 - a.qx * b.qx - a.qy * b.qy - a.qz * b.qz,
            qx: a.q0 * b.qx + a.qx * b.q0 + a.qy * b.qz - a.qz * b.qy,
            qy: a.q0 * b.qy - a.qx * b.qz + a.qy * b.q0 + a.qz * b.qx,
            qz: a.q0 * b.qz + a.qx * b.qy - a.qy * b.qx + a.qz * b.q0
        )
    }

    /// Four-component dot product.
    @inlinable public func dot(_ o: Quaternion) -> Double {
        self.q0 * o.q0 + self.qx * o.qx + self.qy * o.qy + self.qz * o.qz
    }

    /// The angle in radians of the rotation that takes `self` to `other`, in [0, π].
    public func angle(to other: Quaternion) -> Double {
        (self.conjugate * other).angleRadians
    }

    /// Spherical linear interpolation along the shorter arc: `fraction` 0 gives `self`, 1 gives
    /// `other` (up to sign). Fractions outside [0, 1] extrapolate along the same great circle.
    public func slerp(to other: Quaternion, fraction: Double) -> Quaternion {
        let a = self.normalized
        var b = other.normalized
        var c = a.dot(b)
        if c < 0 {
            b = Quaternion(q0: -b.q0, qx: -b.qx, qy: -b.qy, qz: -b.qz)
            c = -c
        }
        if c > 1 - 1e-12 {
            // Nearly identical: linear interpolation is exact to rounding here.
            let r = Quaternion(
                q0: a.q0 + (b.q0 - a.q0) * fraction, qx: a.qx + (b.qx - a.qx) * fraction,
                qy: a.qy + (b.qy - a.qy) * fraction, qz: a.qz + (b.qz - a.qz) * fraction)
            return r.normalized
        }
        let theta = atan2Double((1 - c * c).squareRoot(), c)
        let s = sinDouble(theta)
        let wa = sinDouble((1 - fraction) * theta) / s
        let wb = sinDouble(fraction * theta) / s
        return Quaternion(
            q0: a.q0 * wa + b.q0 * wb, qx: a.qx * wa + b.qx * wb,
            qy: a.qy * wa + b.qy * wb, qz: a.qz * wa + b.qz * wb
        ).normalized
    }

    public var description: String { "(\(self.q0), \(self.qx), \(self.qy), \(self.qz))" }
}
