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
///
/// Computed by one-sided Jacobi (Hestenes): plane rotations applied to the columns of `A` until
/// they are mutually orthogonal; the rotations accumulate into `V`, the column norms are the
/// singular values and the normalised columns are `U`. Unlike an eigen-decomposition of `AᵀA`,
/// this keeps full accuracy for the small singular values that rank tests look at.
public struct SVD3: Sendable {
    public var u: Matrix3
    public var singularValues: Vector3
    public var v: Matrix3

    public init(_ a: Matrix3) {
        var c = [a.column(0), a.column(1), a.column(2)]
        var vc = [Vector3(1, 0, 0), Vector3(0, 1, 0), Vector3(0, 0, 1)]
        for _ in 0..<60 {
            var rotated = false
            for (p, q) in [(0, 1), (0, 2), (1, 2)] {
                let alpha = c[p].lengthSquared, beta = c[q].lengthSquared, gamma = c[p].dot(c[q])
                if gamma == 0 || Swift.abs(gamma) <= 1e-15 * (alpha * beta).squareRoot() { continue }
                rotated = true
                let zeta = (beta - alpha) / (2 * gamma)
                let t = (zeta >= 0 ? 1.0 : -1.0) / (Swift.abs(zeta) + (1 + zeta * zeta).squareRoot())
                let cs = 1 / (1 + t * t).squareRoot(), sn = cs * t
                let cp = c[p], cq = c[q]
                c[p] = cp * cs - cq * sn
                c[q] = cp * sn + cq * cs
                let vp = vc[p], vq = vc[q]
                vc[p] = vp * cs - vq * sn
                vc[q] = vp * sn + vq * cs
            }
            if !rotated { break }
        }
        let norms = c.map(\.length)
        let order = [0, 1, 2].sorted { norms[$0] > norms[$1] }
        let s = Vector3(norms[order[0]], norms[order[1]], norms[order[2]])
        let tiny = Swift.max(s.x, 1e-300) * 1e-14
        let u0 = s.x > tiny ? c[order[0]] / s.x : Vector3(1, 0, 0)
        var u1 = s.y > tiny ? c[order[1]] / s.y : u0.anyPerpendicular
        u1 = (u1 - u0 * u0.dot(u1)).normalized
        var u2 = s.z > tiny ? c[order[2]] / s.z : u0.cross(u1)
        u2 = (u2 - u0 * u0.dot(u2) - u1 * u1.dot(u2)).normalized
        self.u = Matrix3(columns: u0, u1, u2)
        self.singularValues = s
        self.v = Matrix3(columns: vc[order[0]], vc[order[1]], vc[order[2]])
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
