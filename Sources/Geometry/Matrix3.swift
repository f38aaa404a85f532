/// A 3×3 matrix of doubles, stored as three rows.
///
/// Used for rotations, covariance matrices and the cross-covariance of point sets. Multiplication
/// with a vector treats the vector as a column: `m * v`.
public struct Matrix3: Equatable, Sendable, CustomStringConvertible {
    public var rows: (Vector3, Vector3, Vector3)

    @inlinable public init(rows r0: Vector3, _ r1: Vector3, _ r2: Vector3) {
        self.rows = (r0, r1, r2)
    }

    /// A matrix from its three columns.
    @inlinable public init(columns c0: Vector3, _ c1: Vector3, _ c2: Vector3) {
        self.rows = (
            Vector3(c0.x, c1.x, c2.x),
            Vector3(c0.y, c1.y, c2.y),
            Vector3(c0.z, c1.z, c2.z)
        )
    }

    /// A matrix from nine values in row-major order.
    public init(rowMajor v: [Double]) {
        precondition(v.count == 9, "Matrix3 needs 9 values, got \(v.count)")
        self.init(rows: Vector3(v[0], v[1], v[2]), Vector3(v[3], v[4], v[5]), Vector3(v[6], v[7], v[8]))
    }

    public static let identity = Matrix3(rows: Vector3(1, 0, 0), Vector3(0, 1, 0), Vector3(0, 0, 1))
    public static let zero = Matrix3(rows: .zero, .zero, .zero)

    /// The diagonal matrix with `d` on its diagonal.
    @inlinable public static func diagonal(_ d: Vector3) -> Matrix3 {
        Matrix3(rows: Vector3(d.x, 0, 0), Vector3(0, d.y, 0), Vector3(0, 0, d.z))
    }

    /// The outer product `a bᵀ`.
    @inlinable public static func outer(_ a: Vector3, _ b: Vector3) -> Matrix3 {
        Matrix3(rows: a.x * b, a.y * b, a.z * b)
    }

    /// The skew-symmetric matrix `[v]×`, so that `[v]× w = v × w`.
    @inlinable public static func skew(_ v: Vector3) -> Matrix3 {
        Matrix3(rows: Vector3(0, -v.z, v.y), Vector3(v.z, 0, -v.x), Vector3(-v.y, v.x, 0))
    }

    @inlinable public subscript(row: Int, column: Int) -> Double {
        get {
            switch row {
            case 0: return self.rows.0[column]
            case 1: return self.rows.1[column]
            default: return self.rows.2[column]
            }
        }
        set {
            switch row {
            case 0: self.rows.0[column] = newValue
            case 1: self.rows.1[column] = newValue
            default: self.rows.2[column] = newValue
            }
        }
    }

    @inlinable public func column(_ j: Int) -> Vector3 {
        Vector3(self.rows.0[j], self.rows.1[j], self.rows.2[j])
    }

    @inlinable public var transposed: Matrix3 {
        Matrix3(columns: self.rows.0, self.rows.1, self.rows.2)
    }

    @inlinable public var determinant: Double {
        self.rows.0.dot(self.rows.1.cross(self.rows.2))
    }

    @inlinable public var trace: Double { self.rows.0.x + self.rows.1.y + self.rows.2.z }

    /// Row-major values.
    public var rowMajor: [Double] {
        [self.rows.0.x, self.rows.0.y, self.rows.0.z,
         self.rows.1.x, self.rows.1.y, self.rows.1.z,
         self.rows.2.x, self.rows.2.y, self.rows.2.z]
    }

    /// True when every entry is finite.
    public var isFinite: Bool { self.rows.0.isFinite && self.rows.1.isFinite && self.rows.2.isFinite }

    /// Largest absolute entry of `selfᵀ self − I`: how far the matrix is from orthogonal.
    public var orthogonalityError: Double {
        let p = self.transposed * self
        var e = 0.0
        for i in 0..<3 {
            for j in 0..<3 {
                e = Swift.max(e, Swift.abs(p[i, j] - (i == j ? 1 : 0)))
            }
        }
        return e
    }

    @inlinable public static func * (m: Matrix3, v: Vector3) -> Vector3 {
        Vector3(m.rows.0.dot(v), m.rows.1.dot(v), m.rows.2.dot(v))
    }

    @inlinable public static func * (a: Matrix3, b: Matrix3) -> Matrix3 {
        let c0 = b.column(0), c1 = b.column(1), c2 = b.column(2)
        return Matrix3(
            rows: Vector3(a.rows.0.dot(c0), a.rows.0.dot(c1), a.rows.0.dot(c2)),
            Vector3(a.rows.1.dot(c0), a.rows.1.dot(c1), a.rows.1.dot(c2)),
            Vector3(a.rows.2.dot(c0), a.rows.2.dot(c1), a.rows.2.dot(c2))
        )
    }

    @inlinable public static func * (m: Matrix3, s: Double) -> Matrix3 {
        Matrix3(rows: m.rows.0 * s, m.rows.1 * s, m.rows.2 * s)
    }

    @inlinable public static func + (a: Matrix3, b: Matrix3) -> Matrix3 {
        Matrix3(rows: a.rows.0 + b.rows.0, a.rows.1 + b.rows.1, a.rows.2 + b.rows.2)
    }

    @inlinable public static func - (a: Matrix3, b: Matrix3) -> Matrix3 {
        Matrix3(rows: a.rows.0 - b.rows.0, a.rows.1 - b.rows.1, a.rows.2 - b.rows.2)
    }

    @inlinable public static func += (a: inout Matrix3, b: Matrix3) { a = a + b }

    public static func == (a: Matrix3, b: Matrix3) -> Bool {
        a.rows.0 == b.rows.0 && a.rows.1 == b.rows.1 && a.rows.2 == b.rows.2
    }

    public var description: String {
        "[\(self.rows.0.x), \(self.rows.0.y), \(self.rows.0.z); \(self.rows.1.x), \(self.rows.1.y), \(self.rows.1.z); "
            + "\(self.rows.2.x), \(self.rows.2.y), \(self.rows.2.z)]"
    }
}
