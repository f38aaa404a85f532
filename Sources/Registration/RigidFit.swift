import Geometry

/// The weighted least-squares rigid fit of paired points, with the residual of the best
/// *improper* fit (a rotation combined with a mirror image) for comparison.
///
/// Produced by `PointRegistration.leastSquaresFit(moving:fixed:weights:)`. Squared errors are in
/// mm² (when the points are in mm) and weighted: Σ wᵢ |R mᵢ + t − fᵢ|².
public struct RigidFit: Sendable, Equatable {
    /// Maps the moving points onto the fixed points. Always a proper rotation (det +1).
    public var transform: RigidTransform
    /// Σ wᵢ |R mᵢ + t − fᵢ|² of `transform`, from Horn's largest eigenvalue: accurate to about
    /// 1e-16 × Σ wᵢ(|pᵢ|² + |qᵢ|²) (centred points); compute the residuals directly when you
    /// need relative accuracy for a near-perfect fit.
    public var weightedSquaredError: Double
    /// The same sum for the best orthogonal map with determinant −1 (a mirror image followed by a
    /// rotation), from Horn's smallest eigenvalue. Equal to `weightedSquaredError` for coplanar
    /// points (the mirror of a plane is a rotation); much smaller when the data are mirrored.
    /// Accurate to about 1e-16 × Σ wᵢ(|pᵢ|² + |qᵢ|²) divided by the relative gap between Horn's two
    /// smallest eigenvalues (which is small only for nearly collinear points).
    public var reflectionWeightedSquaredError: Double
    /// Σ wᵢ.
    public var totalWeight: Double

    /// Weighted RMS distance between the mapped moving points and the fixed points.
    public var rmsError: Double { (self.weightedSquaredError / self.totalWeight).squareRoot() }

    /// Weighted RMS error of the best fit that is allowed to mirror.
    public var reflectionRMSError: Double { (self.reflectionWeightedSquaredError / self.totalWeight).squareRoot() }
}

extension PointRegistration {
    /// The rigid transform that minimises Σ wᵢ |R mᵢ + t − fᵢ|² over rotations R (det +1) and
    /// translations t: Horn's (1987) unit-quaternion method.
    ///
    /// With centred points pᵢ = mᵢ − m̄ and qᵢ = fᵢ − f̄ (weighted centroids), Horn's symmetric 4×4
    /// matrix N is built from S = Σ wᵢ pᵢ qᵢᵀ; the rotation is the unit eigenvector of N's largest
    /// eigenvalue λ₁ (as a quaternion q0, qx, qy, qz) and t = f̄ − R m̄. The residual of the fit is
    /// C − 2λ₁ with C = Σ wᵢ(|pᵢ|² + |qᵢ|²), and the residual of the best mirrored fit is C + 2λ₄
    /// (λ₄ the smallest eigenvalue), because every improper orthogonal matrix is −R for a rotation R.
    ///
    /// The extreme eigenvalues are found by Newton's method on N's characteristic polynomial
    /// λ⁴ − 2‖S‖²λ² − 8 det(S) λ + det N, started from the bounds ±C/2 (all four roots are real and
    /// lie between them, so the iteration is monotone), and the eigenvector from the adjugate of
    /// N − λ₁I, whose columns are all multiples of it (the approach of Theobald's QCP method).
    /// If the top eigenvalue is (nearly) repeated — only for (nearly) collinear points — the
    /// adjugate vanishes and the solver falls back to a full Jacobi decomposition.
    ///
    /// This is the bare solver for callers such as ICP: no allocation, no label handling and no
    /// degeneracy checks. For collinear points the rotation about their line is arbitrary. Use
    /// `register(head:mri:weights:options:)` for fiducials.
    ///
    /// - Parameters:
    ///   - moving: points to be mapped (e.g. head/tracker space), in mm.
    ///   - fixed: their partners (e.g. MRI space), same count and order.
    ///   - weights: optional non-negative weights, same count; nil means all 1. Their sum must be
    ///     positive.
    public static func leastSquaresFit(moving: [Vector3], fixed: [Vector3], weights: [Double]? = nil) -> RigidFit {
        precondition(moving.count == fixed.count, "leastSquaresFit: \(moving.count) moving vs \(fixed.count) fixed points")
        precondition(!moving.isEmpty, "leastSquaresFit: no points")
        if let weights { precondition(weights.count == moving.count, "leastSquaresFit: weight count mismatch") }

        var totalWeight = 0.0
        var movingSum = Vector3.zero, fixedSum = Vector3.zero
        for i in 0..<moving.count {
            let w = weights?[i] ?? 1
            totalWeight += w
            movingSum += w * moving[i]
            fixedSum += w * fixed[i]
        }
        precondition(totalWeight > 0, "leastSquaresFit: the weights sum to \(totalWeight)")
        let movingCentroid = movingSum / totalWeight
        let fixedCentroid = fixedSum / totalWeight

        // S = Σ w p qᵀ as three rows (row a holds S_ab for b = x, y, z), and C = Σ w (|p|² + |q|²).
        var s0 = Vector3.zero, s1 = Vector3.zero, s2 = Vector3.zero
        var spread = 0.0
        for i in 0..<moving.count {
            let w = weights?[i] ?? 1
            let p = moving[i] - movingCentroid
            let q = fixed[i] - fixedCentroid
            let wq = w * q
            s0 += p.x * wq
            s1 += p.y * wq
            s2 += p.z * wq
            spread += w * (p.lengthSquared + q.lengthSquared)
        }
        let horn = HornEigen(s0, s1, s2, halfSpread: spread / 2)
        let rotation = horn.rotation.rotationMatrix
        let translation = fixedCentroid - rotation * movingCentroid
        return RigidFit(
            transform: RigidTransform(rotation: rotation, translation: translation),
            weightedSquaredError: Swift.max(0, spread - 2 * horn.largest),
            reflectionWeightedSquaredError: Swift.max(0, spread + 2 * horn.smallest),
            totalWeight: totalWeight)
    }
}

/// The largest and smallest eigenvalues of Horn's matrix N(S) and the unit quaternion of the
/// largest one.
struct HornEigen {
    var largest: Double
    var smallest: Double
    var rotation: Quaternion

    /// - Parameters:
    ///   - s0, s1, s2: the rows of S = Σ w p qᵀ.
    ///   - halfSpread: C/2 = Σ w(|p|² + |q|²)/2, an upper bound on |λ| for every eigenvalue.
    init(_ s0: Vector3, _ s1: Vector3, _ s2: Vector3, halfSpread: Double) {
        let (sxx, sxy, sxz) = (s0.x, s0.y, s0.z)
        let (syx, syy, syz) = (s1.x, s1.y, s1.z)
        let (szx, szy, szz) = (s2.x, s2.y, s2.z)
        // Horn's N (symmetric, traceless).
        let a00 = sxx + syy + szz, a01 = syz - szy, a02 = szx - sxz, a03 = sxy - syx
        let a11 = sxx - syy - szz, a12 = sxy + syx, a13 = szx + sxz
        let a22 = -sxx + syy - szz, a23 = syz + szy
        let a33 = -sxx - syy + szz

        // Characteristic polynomial λ⁴ + c2 λ² + c1 λ + c0.
        let c2 = -2 * (s0.lengthSquared + s1.lengthSquared + s2.lengthSquared)
        let c1 = -8 * s0.dot(s1.cross(s2))
        let c0 = Self.determinant(
            a00, a01, a02, a03, a01, a11, a12, a13, a02, a12, a22, a23, a03, a13, a23, a33)
        let bound = halfSpread
        self.largest = Self.newton(from: bound, c2, c1, c0)
        self.smallest = Self.newton(from: -bound, c2, c1, c0)

        // Eigenvector: the largest row of adj(N − λ₁ I).
        let l = self.largest
        let adj = Self.adjugateRows(
            a00 - l, a01, a02, a03, a01, a11 - l, a12, a13, a02, a12, a22 - l, a23, a03, a13, a23, a33 - l)
        var best = adj.0
        var bestNorm2 = (adj.0 * adj.0).sum()
        let n1 = (adj.1 * adj.1).sum(), n2 = (adj.2 * adj.2).sum(), n3 = (adj.3 * adj.3).sum()
        if n1 > bestNorm2 { (best, bestNorm2) = (adj.1, n1) }
        if n2 > bestNorm2 { (best, bestNorm2) = (adj.2, n2) }
        if n3 > bestNorm2 { (best, bestNorm2) = (adj.3, n3) }
        let norm = bestNorm2.squareRoot()
        let scale = Swift.max(bound, 1e-300)
        if norm > 1e-8 * scale * scale * scale && norm.isFinite {
            // The row is one step of inverse iteration from a unit vector. Its error along the
            // second eigenvector is (λ₁ − λ̃₁)/(λ₁ − λ₂), where λ̃₁ carries the rounding error of
            // Newton's method (~ε‖N‖²/gap), i.e. ~(ε‖N‖/gap)². One more step (a product with the
            // adjugate) squares that ratio away, leaving the usual ε‖N‖/gap.
            let v = best / norm
            let w = SIMD4((adj.0 * v).sum(), (adj.1 * v).sum(), (adj.2 * v).sum(), (adj.3 * v).sum())
            let q = w / (w * w).sum().squareRoot()
            self.rotation = Quaternion(q0: q[0], qx: q[1], qy: q[2], qz: q[3])
            // The Rayleigh quotient qᵀNq is accurate to ε‖N‖ (its error is quadratic in q's).
            let nq = SIMD4(
                (SIMD4(a00, a01, a02, a03) * q).sum(), (SIMD4(a01, a11, a12, a13) * q).sum(),
                (SIMD4(a02, a12, a22, a23) * q).sum(), (SIMD4(a03, a13, a23, a33) * q).sum())
            self.largest = (nq * q).sum()
        } else {
            // (Nearly) repeated top eigenvalue: collinear or coincident points. Any vector of the
            // top eigenspace is a least-squares optimum; take Jacobi's.
            let e = SymmetricEigen4(symmetric: SIMD16(
                a00, a01, a02, a03, a01, a11, a12, a13, a02, a12, a22, a23, a03, a13, a23, a33))
            let q = e.vector(0)
            self.largest = e.values[0]
            self.smallest = e.values[3]
            self.rotation = Quaternion(q0: q[0], qx: q[1], qy: q[2], qz: q[3]).normalized
        }
    }

    /// Newton's method for the extreme root of λ⁴ + c2 λ² + c1 λ + c0 on the side of `start`.
    /// Monotone because all roots are real and lie between −start and start, so the iteration
    /// stops as soon as a step would turn back (rounding noise at the root) or becomes negligible.
    private static func newton(from start: Double, _ c2: Double, _ c1: Double, _ c0: Double) -> Double {
        var x = start
        let inward: Double = start >= 0 ? 1 : -1  // the sign of every useful step (x -= step)
        let tolerance = 1e-15 * Swift.abs(start)
        for _ in 0..<100 {
            let x2 = x * x
            let p = (x2 + c2) * x2 + c1 * x + c0
            let dp = (4 * x2 + 2 * c2) * x + c1
            let step = p / dp
            if !step.isFinite || !(step * inward > 0) { break }
            x -= step
            if step * inward <= tolerance { break }
        }
        return x
    }

    /// det of a 4×4 matrix given row-major, by 2×2 sub-determinants.
    private static func determinant(
        _ a00: Double, _ a01: Double, _ a02: Double, _ a03: Double,
        _ a10: Double, _ a11: Double, _ a12: Double, _ a13: Double,
        _ a20: Double, _ a21: Double, _ a22: Double, _ a23: Double,
        _ a30: Double, _ a31: Double, _ a32: Double, _ a33: Double
    ) -> Double {
        let s0 = a00 * a11 - a10 * a01, s1 = a00 * a12 - a10 * a02, s2 = a00 * a13 - a10 * a03
        let s3 = a01 * a12 - a11 * a02, s4 = a01 * a13 - a11 * a03, s5 = a02 * a13 - a12 * a03
        let c5 = a22 * a33 - a32 * a23, c4 = a21 * a33 - a31 * a23, c3 = a21 * a32 - a31 * a22
        let c2 = a20 * a33 - a30 * a23, c1 = a20 * a32 - a30 * a22, c0 = a20 * a31 - a30 * a21
        return s0 * c5 - s1 * c4 + s2 * c3 + s3 * c2 - s4 * c1 + s5 * c0
    }

    /// The rows of the adjugate (det × inverse) of a 4×4 matrix given row-major.
    private static func adjugateRows(
        _ a00: Double, _ a01: Double, _ a02: Double, _ a03: Double,
        _ a10: Double, _ a11: Double, _ a12: Double, _ a13: Double,
        _ a20: Double, _ a21: Double, _ a22: Double, _ a23: Double,
        _ a30: Double, _ a31: Double, _ a32: Double, _ a33: Double
    ) -> (SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>) {
        let s0 = a00 * a11 - a10 * a01, s1 = a00 * a12 - a10 * a02, s2 = a00 * a13 - a10 * a03
        let s3 = a01 * a12 - a11 * a02, s4 = a01 * a13 - a11 * a03, s5 = a02 * a13 - a12 * a03
        let c5 = a22 * a33 - a32 * a23, c4 = a21 * a33 - a31 * a23, c3 = a21 * a32 - a31 * a22
        let c2 = a20 * a33 - a30 * a23, c1 = a20 * a32 - a30 * a22, c0 = a20 * a31 - a30 * a21
        return (
            SIMD4(a11 * c5 - a12 * c4 + a13 * c3, -a01 * c5 + a02 * c4 - a03 * c3,
                  a31 * s5 - a32 * s4 + a33 * s3, -a21 * s5 + a22 * s4 - a23 * s3),
            SIMD4(-a10 * c5 + a12 * c2 - a13 * c1, a00 * c5 - a02 * c2 + a03 * c1,
                  -a30 * s5 + a32 * s2 - a33 * s1, a20 * s5 - a22 * s2 + a23 * s1),
            SIMD4(a10 * c4 - a11 * c2 + a13 * c0, -a00 * c4 + a01 * c2 - a03 * c0,
                  a30 * s4 - a31 * s2 + a33 * s0, -a20 * s4 + a21 * s2 - a23 * s0),
            SIMD4(-a10 * c3 + a11 * c1 - a12 * c0, a00 * c3 - a01 * c1 + a02 * c0,
                  -a30 * s3 + a31 * s1 - a32 * s0, a20 * s3 - a21 * s1 + a22 * s0)
        )
    }
}
