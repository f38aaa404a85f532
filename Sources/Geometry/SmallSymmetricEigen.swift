/// Fixed-size symmetric eigen-decompositions (3×3 and 4×4) that never touch the heap.
///
/// `SymmetricEigen` handles any size but stores its input and output in arrays. The registration
/// and calibration code calls these small cases on every fit (Horn's 4×4 matrix, 3×3 covariance and
/// inertia matrices), so they get their own allocation-free path. The method is the same cyclic
/// Jacobi iteration, run on a `SIMD16<Double>` held on the stack: eigenvectors come out orthonormal
/// to machine precision and eigenvalues are accurate relative to the matrix norm.

/// The eigen-decomposition of a symmetric 3×3 matrix: `m = V diag(values) Vᵀ`.
public struct SymmetricEigen3: Sendable, Equatable {
    /// Eigenvalues in descending order.
    public var values: Vector3
    /// Unit eigenvectors as columns, in the order of `values`. The basis is right-handed
    /// (determinant +1); each column's sign is otherwise arbitrary.
    public var vectors: Matrix3

    /// Decomposes a symmetric matrix. Only the upper triangle is read.
    public init(symmetric m: Matrix3) {
        var a = SIMD16<Double>(repeating: 0)
        for i in 0..<3 {
            for j in i..<3 {
                a[i * 4 + j] = m[i, j]
                a[j * 4 + i] = m[i, j]
            }
        }
        var v = SIMD16<Double>(repeating: 0)
        smallJacobiEigen(&a, &v, n: 3)
        let order = descendingOrder(diagonalOf: a, n: 3)
        self.values = Vector3(a[order[0] * 5], a[order[1] * 5], a[order[2] * 5])
        let c0 = Vector3(v[order[0]], v[4 + order[0]], v[8 + order[0]])
        let c1 = Vector3(v[order[1]], v[4 + order[1]], v[8 + order[1]])
        var c2 = Vector3(v[order[2]], v[4 + order[2]], v[8 + order[2]])
        if c0.cross(c1).dot(c2) < 0 { c2 = -c2 }
        self.vectors = Matrix3(columns: c0, c1, c2)
    }

    /// The unit eigenvector that goes with `values[k]`.
    @inlinable public func vector(_ k: Int) -> Vector3 { self.vectors.column(k) }
}

/// The eigen-decomposition of a symmetric 4×4 matrix, e.g. Horn's quaternion matrix.
public struct SymmetricEigen4: Sendable, Equatable {
    /// Eigenvalues in descending order.
    public var values: SIMD4<Double>
    /// Unit eigenvectors stored row-major as the columns of a 4×4 matrix; read them with `vector(_:)`.
    @usableFromInline var columns: SIMD16<Double>

    /// Decomposes a symmetric matrix given row-major. Only the upper triangle is read.
    public init(symmetric m: SIMD16<Double>) {
        var a = m
        for i in 0..<4 {
            for j in 0..<i { a[i * 4 + j] = a[j * 4 + i] }
        }
        var v = SIMD16<Double>(repeating: 0)
        smallJacobiEigen(&a, &v, n: 4)
        let order = descendingOrder(diagonalOf: a, n: 4)
        var values = SIMD4<Double>(repeating: 0)
        var columns = SIMD16<Double>(repeating: 0)
        for k in 0..<4 {
            let j = order[k]
            values[k] = a[j * 5]
            for r in 0..<4 { columns[r * 4 + k] = v[r * 4 + j] }
        }
        self.values = values
        self.columns = columns
    }

    /// The unit eigenvector that goes with `values[k]` (its overall sign is arbitrary).
    @inlinable public func vector(_ k: Int) -> SIMD4<Double> {
        SIMD4(self.columns[k], self.columns[4 + k], self.columns[8 + k], self.columns[12 + k])
    }
}

/// Cyclic Jacobi on the leading `n×n` block (n ≤ 4) of a row-major 4×4 matrix `a` (stride 4).
/// On return `a` is diagonal to working precision and `v`'s columns are the eigenvectors.
@usableFromInline func smallJacobiEigen(_ a: inout SIMD16<Double>, _ v: inout SIMD16<Double>, n: Int) {
    precondition(n >= 1 && n <= 4)
    v = SIMD16(repeating: 0)
    for i in 0..<n { v[i * 5] = 1 }
    var scale = 0.0
    for i in 0..<n {
        for j in 0..<n { scale = Swift.max(scale, Swift.abs(a[i * 4 + j])) }
    }
    guard scale > 0, scale.isFinite else { return }
    for _ in 0..<60 {
        var off = 0.0
        for p in 0..<n {
            for q in (p + 1)..<n { off += a[p * 4 + q] * a[p * 4 + q] }
        }
        if off <= (1e-32 * scale) * scale { break }
        for p in 0..<(n - 1) {
            for q in (p + 1)..<n {
                let apq = a[p * 4 + q]
                if Swift.abs(apq) <= 1e-300 { continue }
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
        }
    }
}

/// Indices of the diagonal entries of `a` (stride 4) sorted by value, largest first; unused
/// trailing indices (≥ n) are returned as themselves.
@usableFromInline func descendingOrder(diagonalOf a: SIMD16<Double>, n: Int) -> SIMD4<Int> {
    var idx = SIMD4<Int>(0, 1, 2, 3)
    // Insertion sort of at most four entries.
    for i in 1..<n {
        var j = i
        while j > 0 && a[idx[j] * 5] > a[idx[j - 1] * 5] {
            let tmp = idx[j]
            idx[j] = idx[j - 1]
            idx[j - 1] = tmp
            j -= 1
        }
    }
    return idx
}
