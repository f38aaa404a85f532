import Geometry

/// The weighted least-squares rigid fit of paired points, with the residual of the best
/// *improper* fit (a rotation combined with a mirror image) for comparison.
///
/// Produced by `PointRegistration.leastSquaresFit(moving:fixed:weights:)`. Squared errors are in
/// mm² (when the points are in mm) and weighted: Σ wᵢ |R mᵢ + t − fᵢ|².
public struct RigidFit: Sendable, Equatable {
    /// Maps the moving points onto the fixed points. Always a proper rotation (det +1).
    public var transform: RigidTransform
    /// Σ wᵢ |R mᵢ + t − fᵢ|² of `transform`, from Horn's largest eigenvalue (accurate to about
    /// 1e-16 × the points' spread squared; compute residuals directly when you need more).
    public var weightedSquaredError: Double
    /// The same sum for the best orthogonal map with determinant −1 (a mirror image followed by a
    /// rotation), from Horn's smallest eigenvalue. Equal to `weightedSquaredError` for coplanar
    /// points (the mirror of a plane is a rotation); much smaller when the data are mirrored.
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
        let (sxx, sxy, sxz) = (s0.x, s0.y, s0.z)
        let (syx, syy, syz) = (s1.x, s1.y, s1.z)
        let (szx, szy, szz) = (s2.x, s2.y, s2.z)
        let n = SIMD16<Double>(
            sxx + syy + szz, syz - szy, szx - sxz, sxy - syx,
            syz - szy, sxx - syy - szz, sxy + syx, szx + sxz,
            szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy,
            sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz)
        let eigen = SymmetricEigen4(symmetric: n)
        let v = eigen.vector(0)
        let rotation = Quaternion(q0: v[0], qx: v[1], qy: v[2], qz: v[3]).normalized.rotationMatrix
        let translation = fixedCentroid - rotation * movingCentroid
        return RigidFit(
            transform: RigidTransform(rotation: rotation, translation: translation),
            weightedSquaredError: Swift.max(0, spread - 2 * eigen.values[0]),
            reflectionWeightedSquaredError: Swift.max(0, spread + 2 * eigen.values[3]),
            totalWeight: totalWeight)
    }
}
