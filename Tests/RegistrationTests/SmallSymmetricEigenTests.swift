import Geometry
import Testing

/// Tests for Geometry's allocation-free `SymmetricEigen3`/`SymmetricEigen4`, added for the
/// registration code (they live here because GeometryTests belongs to the Geometry owner).
@Suite("Fixed-size symmetric eigen-decomposition")
struct SmallSymmetricEigenTests {
    @Test("3×3: A V = V Λ, V orthonormal and right-handed, values descending (300 seeded matrices)")
    func eigen3() {
        var rng = SplitMix64(seed: 31)
        for trial in 0..<300 {
            var m = Matrix3.zero
            for i in 0..<3 {
                for j in i..<3 {
                    let x = rng.nextGaussian() * 100
                    m[i, j] = x
                    m[j, i] = x
                }
            }
            if trial % 10 == 0 { m = Matrix3.outer(m.column(0), m.column(0)) }  // rank one: a double zero eigenvalue
            let e = SymmetricEigen3(symmetric: m)
            let v = e.vectors
            #expect(v.orthogonalityError < 1e-13)
            #expect(abs(v.determinant - 1) < 1e-13)
            #expect(e.values.x >= e.values.y && e.values.y >= e.values.z)
            let residual = m * v - v * Matrix3.diagonal(e.values)
            var worst = 0.0
            for r in 0..<3 { for c in 0..<3 { worst = max(worst, abs(residual[r, c])) } }
            #expect(worst < 1e-11 * max(1, abs(e.values.x), abs(e.values.z)))
            // Agrees with the general solver.
            let g = SymmetricEigen(symmetric: m)
            for k in 0..<3 { #expect(abs(g.values[k] - e.values[k]) < 1e-11 * max(1, abs(g.values[0]))) }
        }
    }

    @Test("4×4: A v = λ v for every pair, orthonormal, descending (300 seeded matrices)")
    func eigen4() {
        var rng = SplitMix64(seed: 32)
        for _ in 0..<300 {
            var a = SIMD16<Double>(repeating: 0)
            for i in 0..<4 {
                for j in i..<4 {
                    let x = rng.nextGaussian() * 1e4
                    a[i * 4 + j] = x
                    a[j * 4 + i] = x
                }
            }
            let e = SymmetricEigen4(symmetric: a)
            for k in 0..<4 {
                let v = e.vector(k)
                #expect(abs((v * v).sum() - 1) < 1e-13)
                var av = SIMD4<Double>(repeating: 0)
                for r in 0..<4 { for c in 0..<4 { av[r] += a[r * 4 + c] * v[c] } }
                let err = av - e.values[k] * v
                #expect((err * err).sum().squareRoot() < 1e-10 * 1e4)
                if k > 0 {
                    #expect(e.values[k - 1] >= e.values[k])
                    #expect(abs((e.vector(k - 1) * v).sum()) < 1e-13)
                }
            }
        }
    }

    @Test("diagonal and zero matrices")
    func trivialMatrices() {
        let d = SymmetricEigen3(symmetric: Matrix3.diagonal(Vector3(2, 7, -1)))
        #expect(d.values == Vector3(7, 2, -1))
        let z = SymmetricEigen4(symmetric: SIMD16(repeating: 0))
        #expect(z.values == SIMD4(repeating: 0))
        #expect(z.vector(0) == SIMD4(1, 0, 0, 0))
    }

    @Test("eigenvalues-only 3×3 agrees with the full decomposition to 1e-13 of the largest (300 seeded matrices)")
    func eigenvaluesOnly() {
        var rng = SplitMix64(seed: 33)
        for trial in 0..<300 {
            var m = Matrix3.zero
            for i in 0..<3 {
                for j in i..<3 {
                    let x = rng.nextGaussian() * 50
                    m[i, j] = x
                    m[j, i] = x
                }
            }
            if trial % 3 == 0 { m = Matrix3.outer(m.column(0), m.column(0)) + Matrix3.outer(m.column(1), m.column(1)) * 1e-4 }
            let closed = SymmetricEigen3.eigenvalues(ofSymmetric: m)
            let jacobi = SymmetricEigen3(symmetric: m).values
            let scale = max(abs(jacobi.x), abs(jacobi.z), 1)
            #expect(max(abs(closed.x - jacobi.x), abs(closed.y - jacobi.y), abs(closed.z - jacobi.z)) < 1e-13 * scale)
            #expect(closed.x >= closed.y && closed.y >= closed.z)
        }
        #expect(SymmetricEigen3.eigenvalues(ofSymmetric: Matrix3.identity * 4) == Vector3(4, 4, 4))
    }
}
