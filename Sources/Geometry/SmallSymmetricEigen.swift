/// Fixed-size symmetric eigen-decompositions (3×3 and 4×4) that never touch the heap.
///
/// `SymmetricEigen` handles any size but stores its input and output in arrays. The registration
/// and calibration code calls these small cases on every fit (Horn's 4×4 matrix, 3×3 covariance and
/// inertia matrices), so they get their own allocation-free path. The method is the same cyclic
/// Jacobi iteration, run on a stack buffer: eigenvectors come out orthonormal to machine precision
/// and eigenvalues are accurate relative to the matrix norm.

/// The eigen-decomposition of a symmetric 3×3 matrix: `m = V diag(values) Vᵀ`.
public struct SymmetricEigen3: Sendable, Equatable {
    /// Eigenvalues in descending order.
    public var values: Vector3
    /// Unit eigenvectors as columns, in the order of `values`. The basis is right-handed
    /// (determinant +1); each column's sign is otherwise arbitrary.
    public var vectors: Matrix3

    /// Decomposes a symmetric matrix. Only the upper triangle is read.
    public init(symmetric m: Matrix3) {
        let r0 = m.rows.0, r1 = m.rows.1, r2 = m.rows.2
        var values = Vector3.zero
        var c0 = Vector3.zero, c1 = Vector3.zero, c2 = Vector3.zero
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 32) { buffer in
            let a = buffer.baseAddress!
            let v = a + 16
            a[0] = r0.x; a[1] = r0.y; a[2] = r0.z
            a[4] = r0.y; a[5] = r1.y; a[6] = r1.z
            a[8] = r0.z; a[9] = r1.z; a[10] = r2.z
            smallJacobi(a, v, 3)
            let (i0, i1, i2, _) = sortedDiagonal(a, 3)
            values = Vector3(a[i0 * 5], a[i1 * 5], a[i2 * 5])
            c0 = Vector3(v[i0], v[4 + i0], v[8 + i0])
            c1 = Vector3(v[i1], v[4 + i1], v[8 + i1])
            c2 = Vector3(v[i2], v[4 + i2], v[8 + i2])
        }
        if c0.cross(c1).dot(c2) < 0 { c2 = -c2 }
        self.values = values
        self.vectors = Matrix3(columns: c0, c1, c2)
    }

    /// The unit eigenvector that goes with `values[k]`.
    @inlinable public func vector(_ k: Int) -> Vector3 { self.vectors.column(k) }

    /// The eigenvalues only, descending: the same Jacobi iteration on six scalars, without
    /// accumulating eigenvectors — several times faster than the full decomposition and just as
    /// accurate (to a few ulps of the largest |eigenvalue|).
    public static func eigenvalues(ofSymmetric m: Matrix3) -> Vector3 {
        var d0 = m[0, 0], d1 = m[1, 1], d2 = m[2, 2]
        var a01 = m[0, 1], a02 = m[0, 2], a12 = m[1, 2]
        // Two-argument max only: the variadic overload allocates an array.
        let scale = Swift.max(
            Swift.max(Swift.max(Swift.abs(d0), Swift.abs(d1)), Swift.abs(d2)),
            Swift.max(Swift.max(Swift.abs(a01), Swift.abs(a02)), Swift.abs(a12)))
        if scale > 0 && scale.isFinite {
            let tolerance = (1e-15 * scale) * (1e-15 * scale)
            for _ in 0..<50 {
                if a01 * a01 + a02 * a02 + a12 * a12 <= tolerance { break }
                jacobiRotation(&d0, &d1, &a01, &a02, &a12)  // (p, q) = (0, 1), r = 2
                jacobiRotation(&d0, &d2, &a02, &a01, &a12)  // (p, q) = (0, 2), r = 1
                jacobiRotation(&d1, &d2, &a12, &a01, &a02)  // (p, q) = (1, 2), r = 0
            }
        }
        // Sort descending.
        if d1 > d0 { swap(&d0, &d1) }
        if d2 > d1 { swap(&d1, &d2) }
        if d1 > d0 { swap(&d0, &d1) }
        return Vector3(d0, d1, d2)
    }
}

/// One Jacobi rotation on a symmetric 3×3 matrix held as scalars: zeroes `apq`, updates the
/// diagonal entries `app`, `aqq` and the other row's entries `arp`, `arq`.
@inline(__always) private func jacobiRotation(
    _ app: inout Double, _ aqq: inout Double, _ apq: inout Double, _ arp: inout Double, _ arq: inout Double
) {
    if Swift.abs(apq) <= 1e-300 { return }
    let theta = (aqq - app) / (2 * apq)
    let t = (theta >= 0 ? 1.0 : -1.0) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
    let c = 1 / (t * t + 1).squareRoot()
    let s = t * c
    app -= t * apq
    aqq += t * apq
    apq = 0
    let rp = arp, rq = arq
    arp = c * rp - s * rq
    arq = s * rp + c * rq
}

/// The eigen-decomposition of a symmetric 4×4 matrix, e.g. Horn's quaternion matrix.
public struct SymmetricEigen4: Sendable, Equatable {
    /// Eigenvalues in descending order.
    public var values: SIMD4<Double>
    /// Unit eigenvectors in the order of `values` (each one's overall sign is arbitrary).
    public var vectors: EigenvectorColumns

    /// Four 4-vectors, the eigenvectors of a `SymmetricEigen4`.
    public struct EigenvectorColumns: Sendable, Equatable {
        public var v0, v1, v2, v3: SIMD4<Double>
    }

    /// Decomposes a symmetric matrix given row-major. Only the upper triangle is read.
    public init(symmetric m: SIMD16<Double>) {
        var values = SIMD4<Double>()
        var columns = EigenvectorColumns(v0: .zero, v1: .zero, v2: .zero, v3: .zero)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 32) { buffer in
            let a = buffer.baseAddress!
            let v = a + 16
            withUnsafeBytes(of: m) { raw in
                for i in 0..<4 {
                    for j in i..<4 {
                        let x = raw.load(fromByteOffset: (i * 4 + j) * 8, as: Double.self)
                        a[i * 4 + j] = x
                        a[j * 4 + i] = x
                    }
                }
            }
            smallJacobi(a, v, 4)
            let (i0, i1, i2, i3) = sortedDiagonal(a, 4)
            values = SIMD4(a[i0 * 5], a[i1 * 5], a[i2 * 5], a[i3 * 5])
            columns.v0 = SIMD4(v[i0], v[4 + i0], v[8 + i0], v[12 + i0])
            columns.v1 = SIMD4(v[i1], v[4 + i1], v[8 + i1], v[12 + i1])
            columns.v2 = SIMD4(v[i2], v[4 + i2], v[8 + i2], v[12 + i2])
            columns.v3 = SIMD4(v[i3], v[4 + i3], v[8 + i3], v[12 + i3])
        }
        self.values = values
        self.vectors = columns
    }

    /// The unit eigenvector that goes with `values[k]` (its overall sign is arbitrary).
    @inlinable public func vector(_ k: Int) -> SIMD4<Double> {
        switch k {
        case 0: return self.vectors.v0
        case 1: return self.vectors.v1
        case 2: return self.vectors.v2
        default:
            precondition(k == 3, "eigenvector index \(k) out of 0...3")
            return self.vectors.v3
        }
    }
}

/// Cyclic Jacobi on the leading `n×n` block (n ≤ 4) of a row-major 4×4 matrix `a` (stride 4, both
/// triangles filled). On return `a` is diagonal to working precision and `v` (also 4×4, stride 4)
/// holds the eigenvectors as columns.
private func smallJacobi(_ a: UnsafeMutablePointer<Double>, _ v: UnsafeMutablePointer<Double>, _ n: Int) {
    for i in 0..<16 { v[i] = 0 }
    for i in 0..<n { v[i * 5] = 1 }
    var scale = 0.0
    for i in 0..<n {
        for j in 0..<n { scale = Swift.max(scale, Swift.abs(a[i * 4 + j])) }
    }
    guard scale > 0, scale.isFinite else { return }
    // Off-diagonal mass below (1e-15 · max|aᵢⱼ|)²: eigenvalues are then exact to rounding.
    let tolerance = (1e-15 * scale) * (1e-15 * scale)
    for _ in 0..<50 {
        var off = 0.0
        for p in 0..<n {
            var q = p + 1
            while q < n {
                off += a[p * 4 + q] * a[p * 4 + q]
                q += 1
            }
        }
        if off <= tolerance { break }
        for p in 0..<(n - 1) {
            var q = p + 1
            while q < n {
                let apq = a[p * 4 + q]
                if Swift.abs(apq) > 1e-300 {
                    let theta = (a[q * 5] - a[p * 5]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot()
                    let s = t * c
                    for k in 0..<n {
                        let akp = a[k * 4 + p], akq = a[k * 4 + q]
                        a[k * 4 + p] = c * akp - s * akq
                        a[k * 4 + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * 4 + k], aqk = a[q * 4 + k]
                        a[p * 4 + k] = c * apk - s * aqk
                        a[q * 4 + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * 4 + p], vkq = v[k * 4 + q]
                        v[k * 4 + p] = c * vkp - s * vkq
                        v[k * 4 + q] = s * vkp + c * vkq
                    }
                }
                q += 1
            }
        }
    }
}

/// Indices of the first `n` diagonal entries of `a` (stride 4) sorted by value, largest first;
/// unused trailing slots (≥ n) are returned as themselves.
private func sortedDiagonal(_ a: UnsafeMutablePointer<Double>, _ n: Int) -> (Int, Int, Int, Int) {
    var i0 = 0, i1 = 1, i2 = 2, i3 = 3
    // A fixed sorting network on four keys; for n = 3 the fourth slot is left alone.
    @inline(__always) func order(_ x: inout Int, _ y: inout Int) {
        if a[y * 5] > a[x * 5] { swap(&x, &y) }
    }
    if n == 4 {
        order(&i0, &i1)
        order(&i2, &i3)
        order(&i0, &i2)
        order(&i1, &i3)
        order(&i1, &i2)
    } else if n == 3 {
        order(&i0, &i1)
        order(&i1, &i2)
        order(&i0, &i1)
    } else if n == 2 {
        order(&i0, &i1)
    }
    return (i0, i1, i2, i3)
}
