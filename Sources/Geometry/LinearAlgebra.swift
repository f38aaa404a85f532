/// Small dense linear algebra for the registration maths: symmetric eigen-decomposition (cyclic
/// Jacobi) of small matrices (the 6×6 normal equations of ICP, covariances).
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
