/// Small dense linear algebra for the registration maths: symmetric eigen-decomposition (cyclic
/// Jacobi), the 3×3 singular value decomposition and symmetric positive-definite solves.
///
/// Sizes here are tiny (3, 4, 6), so the simple, accurate Jacobi method is preferred over anything
/// clever: it converges quadratically and gives eigenvectors orthonormal to machine precision.

/// A symmetric matrix's eigenvalues (descending) and unit eigenvectors (`vectors[k]` goes with
/// `values[k]`).
public struct SymmetricEigen: Sendable {
    public var values: [Double]
    public var vectors: [[Double]]

    /// Decomposes a symmetric `n×n` matrix given row-major. Only the upper triangle is read.
    public init(symmetric a: [Double], n: Int) {
        precondition(a.count == n * n, "SymmetricEigen: \(a.count) values for a \(n)×\(n) matrix")
        var m = a
        for i in 0..<n {
            for j in 0..<i { m[i * n + j] = m[j * n + i] }
        }
        // v holds eigenvectors as columns.
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        var scale = 0.0
        for x in m { scale = Swift.max(scale, Swift.abs(x)) }
        if scale > 0 {
            for _ in 0..<100 {
                var off = 0.0
                for p in 0..<n {
                    for q in (p + 1)..<n { off += m[p * n + q] * m[p * n + q] }
                }
                if off <= (1e-30 * scale) * scale { break }
                for p in 0..<n {
                    for q in (p + 1)..<n {
                        let apq = m[p * n + q]
                        if Swift.abs(apq) <= 1e-300 { continue }
                        let app = m[p * n + p], aqq = m[q * n + q]
                        let theta = (aqq - app) / (2 * apq)
                        let t = (theta >= 0 ? 1.0 : -1.0) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
                        let c = 1 / (t * t + 1).squareRoot()
                        let s = t * c
                        // Rotate rows/columns p and q.
                        for k in 0..<n {
                            let mkp = m[k * n + p], mkq = m[k * n + q]
                            m[k * n + p] = c * mkp - s * mkq
                            m[k * n + q] = s * mkp + c * mkq
                        }
                        for k in 0..<n {
                            let mpk = m[p * n + k], mqk = m[q * n + k]
                            m[p * n + k] = c * mpk - s * mqk
                            m[q * n + k] = s * mpk + c * mqk
                        }
                        for k in 0..<n {
                            let vkp = v[k * n + p], vkq = v[k * n + q]
                            v[k * n + p] = c * vkp - s * vkq
                            v[k * n + q] = s * vkp + c * vkq
                        }
                    }
                }
            }
        }
        let order = (0..<n).sorted { m[$0 * n + $0] > m[$1 * n + $1] }
        self.values = order.map { m[$0 * n + $0] }
        self.vectors = order.map { j in (0..<n).map { v[$0 * n + j] } }
    }

    /// Eigen-decomposition of a symmetric 3×3 matrix.
    public init(symmetric m: Matrix3) {
        self.init(symmetric: m.rowMajor, n: 3)
    }

    /// Eigenvector `k` as a 3-vector (only for 3×3 input).
    public func vector3(_ k: Int) -> Vector3 {
        Vector3(self.vectors[k][0], self.vectors[k][1], self.vectors[k][2])
    }
}

/// The singular value decomposition `A = U diag(s) Vᵀ` of a 3×3 matrix, with singular values in
/// descending order and `U`, `V` orthogonal (each may have determinant −1).
public struct SVD3: Sendable {
    public var u: Matrix3
    public var singularValues: Vector3
    public var v: Matrix3

    public init(_ a: Matrix3) {
        // Eigen-decomposition of AᵀA gives V and s²; U's columns are A vᵢ / sᵢ, completed to an
        // orthonormal basis where a singular value vanishes. Accurate enough here because the
        // callers compare singular values against relative thresholds far above ε·s₁.
        let ata = a.transposed * a
        let e = SymmetricEigen(symmetric: ata)
        let v0 = e.vector3(0), v1 = e.vector3(1)
        var v2 = e.vector3(2)
        // Make V a right-handed basis for definiteness; U absorbs the sign.
        if v0.cross(v1).dot(v2) < 0 { v2 = -v2 }
        let s = Vector3(Swift.max(e.values[0], 0).squareRoot(), Swift.max(e.values[1], 0).squareRoot(), Swift.max(e.values[2], 0).squareRoot())
        let av0 = a * v0, av1 = a * v1, av2 = a * v2
        let tiny = Swift.max(s.x, 1e-300) * 1e-12
        let u0 = s.x > tiny ? av0 / s.x : Vector3(1, 0, 0)
        var u1 = s.y > tiny ? av1 / s.y : u0.anyPerpendicular
        // Re-orthogonalise against u0 (Gram–Schmidt) to clean round-off.
        u1 = (u1 - u0 * u0.dot(u1)).normalized
        var u2: Vector3
        if s.z > tiny {
            u2 = av2 / s.z
            u2 = (u2 - u0 * u0.dot(u2) - u1 * u1.dot(u2)).normalized
        } else {
            u2 = u0.cross(u1)
        }
        self.u = Matrix3(columns: u0, u1, u2)
        self.singularValues = s
        self.v = Matrix3(columns: v0, v1, v2)
    }
}

/// Solves `A x = b` for a symmetric positive-definite `n×n` matrix `A` (row-major) by Cholesky
/// factorisation. Returns nil when `A` is not positive definite to working precision.
public func solveSymmetricPositiveDefinite(_ a: [Double], _ b: [Double], n: Int) -> [Double]? {
    precondition(a.count == n * n && b.count == n)
    var l = [Double](repeating: 0, count: n * n)
    var maxDiag = 0.0
    for i in 0..<n { maxDiag = Swift.max(maxDiag, Swift.abs(a[i * n + i])) }
    for j in 0..<n {
        var d = a[j * n + j]
        for k in 0..<j { d -= l[j * n + k] * l[j * n + k] }
        if !(d > maxDiag * 1e-14) { return nil }
        let ljj = d.squareRoot()
        l[j * n + j] = ljj
        for i in (j + 1)..<n {
            var s = a[i * n + j]
            for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
            l[i * n + j] = s / ljj
        }
    }
    var y = [Double](repeating: 0, count: n)
    for i in 0..<n {
        var s = b[i]
        for k in 0..<i { s -= l[i * n + k] * y[k] }
        y[i] = s / l[i * n + i]
    }
    var x = [Double](repeating: 0, count: n)
    for i in stride(from: n - 1, through: 0, by: -1) {
        var s = y[i]
        for k in (i + 1)..<n { s -= l[k * n + i] * x[k] }
        x[i] = s / l[i * n + i]
    }
    return x
}
