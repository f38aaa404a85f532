import Geometry

/// How far one fiducial ends up from its MRI partner after registration.
public struct FiducialResidual: Sendable, Equatable {
    /// The label as spelled in the MRI list.
    public var label: String
    /// |`residualVectorMM`|, in mm.
    public var residualMM: Double
    /// `headToMRI.apply(to: head) − mri`, in MRI space, mm.
    public var residualVectorMM: Vector3
    /// The weight the fiducial had in the fit (1 unless given).
    public var weight: Double

    public init(label: String, residualMM: Double, residualVectorMM: Vector3, weight: Double) {
        self.label = label
        self.residualMM = residualMM
        self.residualVectorMM = residualVectorMM
        self.weight = weight
    }
}

/// The outcome of `PointRegistration.register(head:mri:weights:options:)`.
///
/// Report FRE and predicted TRE side by side, but do not read one from the other: for a given
/// fiducial configuration the TRE at a target is statistically independent of the FRE actually
/// observed (Fitzpatrick 2009). The FRE says whether something went wrong (a mislabelled or badly
/// localised fiducial); the predicted TRE says how well the configuration can do at a target.
public struct PointRegistrationResult: Sendable, Equatable {
    /// Maps head (tracker/head-reference) space to MRI space. A proper rigid transform.
    public var headToMRI: RigidTransform
    /// Fiducial registration error, mm: the RMS of the 3-D residual distances,
    /// √(Σ wᵢ|rᵢ|² / Σ wᵢ). Without weights (or with equal weights) this is the plain RMS over
    /// the N fiducials, as in scikit-surgery's `compute_fre`. Zero-weight fiducials do not count.
    public var freMM: Double
    /// The weighted RMS error of the best fit that is allowed to mirror the head points, mm.
    /// Equal to `freMM` for coplanar fiducials (always when N = 3); much smaller than `freMM` when
    /// the fiducials are mirrored. Diagnostic only.
    public var reflectionFREMM: Double
    /// One residual per paired fiducial, in the order of the MRI list.
    public var residuals: [FiducialResidual]
    /// The fixed (MRI) fiducials that were paired, in the order of the MRI list, with the MRI
    /// list's labels. Used for TRE prediction.
    public var fiducialsInMRI: [LabeledPoint]
    /// The weight of each entry of `fiducialsInMRI` (1 unless given).
    public var weights: [Double]
    /// Labels that were present on only one side and left out (only with
    /// `PointRegistration.LabelMatching.intersection`; head-only labels first).
    public var unpairedLabels: [String]

    public init(
        headToMRI: RigidTransform, freMM: Double, reflectionFREMM: Double, residuals: [FiducialResidual],
        fiducialsInMRI: [LabeledPoint], weights: [Double], unpairedLabels: [String] = []
    ) {
        precondition(weights.count == fiducialsInMRI.count, "one weight per fiducial")
        self.headToMRI = headToMRI
        self.freMM = freMM
        self.reflectionFREMM = reflectionFREMM
        self.residuals = residuals
        self.fiducialsInMRI = fiducialsInMRI
        self.weights = weights
        self.unpairedLabels = unpairedLabels
    }

    /// The predicted RMS target registration error at a point, mm: √⟨TRE²(r)⟩.
    ///
    /// Model: every fiducial is localised with independent, isotropic, zero-mean error whose 3-D
    /// RMS is `fleMM` (so ⟨FLE²⟩ = fleMM², σ = fleMM/√3 per axis), to first order in FLE.
    /// - Equal weights: Fitzpatrick, West & Maurer (1998) eq. 46,
    ///   ⟨TRE²(r)⟩ = (⟨FLE²⟩/N)(1 + (1/3) Σₖ dₖ²/fₖ²), via `FiducialErrorModel.fitzpatrickTREMM`.
    /// - Unequal weights: the first-order covariance of the weighted estimator,
    ///   `FiducialErrorModel.weightedTREMM`, which reduces to the formula above for equal weights.
    ///   Note it still assumes the *same* FLE at every fiducial; the weights only change the
    ///   estimator.
    ///
    /// - Parameters:
    ///   - targetInMRI: the target, in MRI space, mm.
    ///   - fleMM: 3-D RMS fiducial localisation error, mm.
    public func predictedTREMM(at targetInMRI: Vector3, fleMM: Double) -> Double {
        let (points, w) = self.positivelyWeighted()
        if w.allSatisfy({ $0 == w[0] }) {
            return FiducialErrorModel.fitzpatrickTREMM(fiducials: points, target: targetInMRI, fleMM: fleMM)
        }
        return FiducialErrorModel.weightedTREMM(fiducials: points, weights: w, target: targetInMRI, fleMM: fleMM)
    }

    /// The expected RMS FRE for a given FLE, mm: √⟨FRE²⟩ = √(1 − 2/N) · FLE for equal weights
    /// (Fitzpatrick 1998 eq. 10; N counts fiducials with positive weight), or the first-order
    /// weighted generalisation `FiducialErrorModel.weightedExpectedFREMM` otherwise.
    ///
    /// An FRE far above this suggests a mislabelled or badly localised fiducial.
    public func expectedFREMM(fleMM: Double) -> Double {
        let (points, w) = self.positivelyWeighted()
        if w.allSatisfy({ $0 == w[0] }) {
            return FiducialErrorModel.expectedFREMM(fiducialCount: points.count, fleMM: fleMM)
        }
        return FiducialErrorModel.weightedExpectedFREMM(fiducials: points, weights: w, fleMM: fleMM)
    }

    private func positivelyWeighted() -> (points: [Vector3], weights: [Double]) {
        var points: [Vector3] = [], w: [Double] = []
        for (p, wi) in zip(self.fiducialsInMRI, self.weights) where wi > 0 {
            points.append(p.position)
            w.append(wi)
        }
        return (points, w)
    }
}

/// First-order statistics of fiducial-based rigid registration under isotropic fiducial
/// localisation error (FLE): the expected FRE and the RMS target registration error (TRE).
///
/// Throughout, `fleMM` is the 3-D RMS FLE, √⟨FLE²⟩, in mm. Results are RMS values in mm.
public enum FiducialErrorModel {
    /// √⟨FRE²⟩ = √(1 − 2/N) · FLE (Fitzpatrick, West & Maurer 1998, eq. 10).
    public static func expectedFREMM(fiducialCount n: Int, fleMM: Double) -> Double {
        precondition(n >= 3, "expected FRE needs at least 3 fiducials")
        return (1 - 2 / Double(n)).squareRoot() * fleMM
    }

    /// √⟨TRE²(r)⟩ by the closed form of Fitzpatrick, West & Maurer (1998, eq. 46):
    ///
    ///     ⟨TRE²(r)⟩ = (⟨FLE²⟩ / N) · (1 + (1/3) Σₖ₌₁³ dₖ² / fₖ²)
    ///
    /// computed from the fiducials' covariance C = (1/N) Σ xᵢxᵢᵀ (xᵢ centred on the centroid) =
    /// Σ λₖ vₖvₖᵀ: fₖ² = tr C − λₖ is the mean squared distance of the fiducials from principal
    /// axis k (the line through the centroid along vₖ), and dₖ² = |d|² − (d·vₖ)² with
    /// d = r − centroid is the squared distance of the target from that axis. Only differences
    /// from the centroid enter, so the result does not change when fiducials and target are moved
    /// together (unlike scikit-surgerycore 0.8.3's `compute_tre_from_fle`, which passes an
    /// eigenvector where a point on the axis belongs).
    ///
    /// Returns +∞ for collinear fiducials (some fₖ = 0) unless the target lies on their line.
    public static func fitzpatrickTREMM(fiducials: [Vector3], target: Vector3, fleMM: Double) -> Double {
        precondition(fiducials.count >= 3, "TRE prediction needs at least 3 fiducials")
        let n = Double(fiducials.count)
        var sum = Vector3.zero
        for p in fiducials { sum += p }
        let c = sum / n
        var cov = Matrix3.zero
        for p in fiducials {
            let x = p - c
            cov += Matrix3.outer(x / n, x)
        }
        let e = SymmetricEigen3(symmetric: cov)
        let traceC = e.values.x + e.values.y + e.values.z
        let d = target - c
        var ratio = 0.0
        for k in 0..<3 {
            let fk2 = traceC - e.values[k]
            let dk2 = Swift.max(0, d.lengthSquared - d.dot(e.vector(k)) * d.dot(e.vector(k)))
            ratio += dk2 == 0 ? 0 : dk2 / fk2
        }
        return (fleMM * fleMM / n * (1 + ratio / 3)).squareRoot()
    }

    /// √⟨TRE²(r)⟩ for the *weighted* least-squares registration, to first order, when every
    /// fiducial has the same isotropic FLE.
    ///
    /// Linearising the fit about the truth, a perturbation εᵢ of the fixed fiducials moves a point
    /// x by ω × (x − c) + τ, with c the weighted centroid, W = Σ wᵢ, yᵢ = fᵢ − c,
    /// τ = Σ wᵢεᵢ / W and M ω = Σ wᵢ yᵢ × εᵢ, where M = Σ wᵢ(|yᵢ|² I − yᵢyᵢᵀ). With
    /// Cov εᵢ = s² I (s² = FLE²/3) and d = r − c:
    ///
    ///     ⟨TRE²⟩ = 3s² Σwᵢ²/W² + s² tr(K(d) M⁻¹ M₂ M⁻¹) − (2s²/W) tr([d]× M⁻¹ [u]×)
    ///
    /// with K(y) = |y|² I − yyᵀ, M₂ = Σ wᵢ² K(yᵢ) and u = Σ wᵢ² yᵢ. For equal weights this is
    /// exactly `fitzpatrickTREMM`. Zero weights are allowed (those fiducials drop out).
    public static func weightedTREMM(fiducials: [Vector3], weights: [Double], target: Vector3, fleMM: Double) -> Double {
        let g = WeightedGeometry(fiducials: fiducials, weights: weights)
        let s2 = fleMM * fleMM / 3
        let d = target - g.centroid
        let covOmega = g.mInverse * g.m2 * g.mInverse
        let kd = Matrix3.identity * d.lengthSquared - Matrix3.outer(d, d)
        let translationPart = 3 * g.sumSquaredWeights / (g.totalWeight * g.totalWeight)
        let rotationPart = (kd * covOmega).trace
        let crossPart = 2 / g.totalWeight * (Matrix3.skew(d) * g.mInverse * Matrix3.skew(g.u)).trace
        return Swift.max(0, s2 * (translationPart + rotationPart - crossPart)).squareRoot()
    }

    /// √⟨FRE²⟩ of the weighted registration, FRE² being Σ wᵢ|rᵢ|² / Σ wᵢ, to first order, when
    /// every fiducial has the same isotropic FLE:
    ///
    ///     ⟨FRE²⟩ = (s²/W) (3W − Σᵢ wᵢ² (3/W + tr(K(yᵢ) M⁻¹)))
    ///
    /// (notation as in `weightedTREMM`). For equal weights this is (1 − 2/N) FLE².
    public static func weightedExpectedFREMM(fiducials: [Vector3], weights: [Double], fleMM: Double) -> Double {
        let g = WeightedGeometry(fiducials: fiducials, weights: weights)
        let s2 = fleMM * fleMM / 3
        var projected = 0.0
        for (y, w) in zip(g.centred, weights) where w > 0 {
            let k = Matrix3.identity * y.lengthSquared - Matrix3.outer(y, y)
            projected += w * w * (3 / g.totalWeight + (k * g.mInverse).trace)
        }
        return Swift.max(0, s2 / g.totalWeight * (3 * g.totalWeight - projected)).squareRoot()
    }

    /// The weighted quantities shared by the two formulas above.
    private struct WeightedGeometry {
        var centroid: Vector3
        var centred: [Vector3]
        var totalWeight: Double
        var sumSquaredWeights: Double
        var mInverse: Matrix3
        var m2: Matrix3
        var u: Vector3

        init(fiducials: [Vector3], weights: [Double]) {
            precondition(fiducials.count == weights.count, "one weight per fiducial")
            var total = 0.0, total2 = 0.0, sum = Vector3.zero
            for (p, w) in zip(fiducials, weights) {
                precondition(w >= 0 && w.isFinite, "weights must be finite and non-negative")
                total += w
                total2 += w * w
                sum += w * p
            }
            precondition(total > 0, "weights sum to zero")
            let c = sum / total
            var m = Matrix3.zero, m2 = Matrix3.zero, u = Vector3.zero
            var centred: [Vector3] = []
            centred.reserveCapacity(fiducials.count)
            for (p, w) in zip(fiducials, weights) {
                let y = p - c
                centred.append(y)
                let k = Matrix3.identity * y.lengthSquared - Matrix3.outer(y, y)
                m += k * w
                m2 += k * (w * w)
                u += (w * w) * y
            }
            // M is symmetric positive definite unless the weighted points are collinear.
            let e = SymmetricEigen3(symmetric: m)
            let v = e.vectors
            let inv = Matrix3.diagonal(Vector3(1 / e.values.x, 1 / e.values.y, 1 / e.values.z))
            self.centroid = c
            self.centred = centred
            self.totalWeight = total
            self.sumSquaredWeights = total2
            self.mInverse = v * inv * v.transposed
            self.m2 = m2
            self.u = u
        }
    }
}
