import Geometry

/// Paired-point (fiducial) rigid registration: head space → MRI space.
///
/// ### Convention
/// The *head* points are the moving set, digitised in tracker or head-reference space; the *MRI*
/// points are the fixed set, picked in MRI space (RAS mm by CoilNav convention). The result
/// `headToMRI` maps a head-space point to MRI space: `mri ≈ headToMRI.apply(to: head)`.
///
/// ### Method
/// Points are paired by label, then `leastSquaresFit(moving:fixed:weights:)` (Horn 1987, unit
/// quaternions) finds the rotation and translation that minimise Σ wᵢ |R hᵢ + t − mᵢ|². It never
/// returns a reflection. Before fitting, the input is checked, and problems are thrown as
/// `RegistrationError` rather than returned as a poor result:
/// - at least 3 pairs (with positive weight);
/// - labels unique on each side and present on both sides (or, optionally, only the common ones
///   are used);
/// - finite coordinates and finite, non-negative weights;
/// - neither point set (nearly) collinear — see `Options.collinearityRatioThreshold` and
///   `Options.collinearityDistanceThresholdMM`;
/// - MRI fiducials labelled LPA and RPA on the correct sides for `Options.mriAxes`;
/// - after the fit, the data not mirrored — see `Options.mirrorFRERatioThreshold`.
///
/// ### Mirrored fiducials and the three-point limitation
/// A mirrored pairing (for example LPA and RPA swapped on one side) is detected from the residuals
/// when at least one fiducial lies well off the plane of the others (e.g. Cz or a scalp point with
/// NAS, LPA and RPA): then the best mirror-image fit is far better than the best rotation.
/// With exactly three fiducials — or any coplanar set — this is impossible in principle: three
/// points are always congruent to their mirror image (reflecting a plane is the same as turning it
/// over by a rotation), so a swapped set is fitted exactly as well, by a rotation that turns the
/// head upside down. Nothing in the tracker-space points tells which way is up. What *can* be
/// checked is the MRI side, whose axes are known: with `Options.mriAxes` set (RAS by default), the
/// fiducial labelled RPA must lie to the patient's right of the one labelled LPA. A swap in the
/// head (tracker) list with only NAS/LPA/RPA goes undetected; add a fourth, out-of-plane fiducial
/// (Cz, or the inion well below the ear plane) to catch it.
public enum PointRegistration {
    /// How to treat labels present in only one of the two lists.
    public enum LabelMatching: Sendable, Equatable {
        /// Every label must be present on both sides; otherwise `.unmatchedLabels` is thrown.
        case requireAll
        /// Use the labels common to both sides (at least 3); the others are listed in
        /// `PointRegistrationResult.unpairedLabels`.
        case intersection
    }

    /// Thresholds and switches for `register(head:mri:weights:options:)`.
    public struct Options: Sendable, Equatable {
        /// Label handling. Default `.requireAll`.
        public var labelMatching: LabelMatching
        /// Relative collinearity threshold: a point set is rejected when σ₂/σ₁ is below this, with
        /// σₖ the square roots of its (weighted) covariance eigenvalues, largest first. Default
        /// 1e-3. Scale-free, so it also catches degenerate sets far smaller or larger than a head.
        public var collinearityRatioThreshold: Double
        /// Absolute collinearity threshold in mm: a point set is rejected when the (weighted) RMS
        /// distance of its points from their best-fit line, √(λ₂ + λ₃), is below this. Default
        /// 2 mm — about one FLE; with less, the roll about the line is mostly noise.
        public var collinearityDistanceThresholdMM: Double
        /// Mirror test ratio: the fit is rejected as mirrored when the best mirror-image fit has
        /// RMS error below `mirrorFRERatioThreshold` × the FRE of the best rotation *and* that
        /// FRE is at least `mirrorMinimumRotationFREMM`. Default 0.6 (see below).
        public var mirrorFRERatioThreshold: Double
        /// Mirror test floor, in mm. Default 3 mm.
        ///
        /// The defaults were tuned by simulation (FLE 2 mm RMS, 4,000–20,000 seeded trials per
        /// configuration): good data with 3–6 fiducials — the fsaverage NAS/LPA/RPA plus Cz, Iz,
        /// C3 or F3, and random head-sized sets — never met both conditions (the smallest ratio
        /// among fits with FRE ≥ 3 mm was 6.7 at FLE 2 mm and 0.66 at FLE 3 mm). An LPA/RPA swap
        /// with an out-of-plane fourth fiducial gives rotation FRE 70–105 mm and ratio 0.02–0.50.
        public var mirrorMinimumRotationFREMM: Double
        /// The axis convention of the MRI space, used to check that the MRI fiducials labelled
        /// "LPA" and "RPA" are on the patient's left and right (the only mirror check possible with
        /// three fiducials). nil disables the check, e.g. for MRI spaces of unknown orientation.
        /// Default `.ras`, CoilNav's MRI convention.
        public var mriAxes: AnatomicalAxes?

        public init(
            labelMatching: LabelMatching = .requireAll,
            collinearityRatioThreshold: Double = 1e-3,
            collinearityDistanceThresholdMM: Double = 2.0,
            mirrorFRERatioThreshold: Double = 0.6,
            mirrorMinimumRotationFREMM: Double = 3.0,
            mriAxes: AnatomicalAxes? = .ras
        ) {
            self.labelMatching = labelMatching
            self.collinearityRatioThreshold = collinearityRatioThreshold
            self.collinearityDistanceThresholdMM = collinearityDistanceThresholdMM
            self.mirrorFRERatioThreshold = mirrorFRERatioThreshold
            self.mirrorMinimumRotationFREMM = mirrorMinimumRotationFREMM
            self.mriAxes = mriAxes
        }
    }

    /// The minimum number of fiducial pairs (with positive weight).
    public static let minimumPairs = 3

    /// Registers head-space fiducials to MRI-space fiducials.
    ///
    /// - Parameters:
    ///   - head: moving points (tracker or head-reference space), mm.
    ///   - mri: fixed points (MRI space), mm. The result lists fiducials in this list's order.
    ///   - weights: optional weights by label (matched like the point labels). Labels without an
    ///     entry get weight 1. A weight of 0 leaves a fiducial out of the fit and the FRE, but its
    ///     residual is still reported. Relative FLE variances σᵢ² suggest wᵢ ∝ 1/σᵢ².
    ///   - options: thresholds and label handling.
    /// - Returns: the transform `headToMRI`, the FRE and per-fiducial residuals.
    /// - Throws: `RegistrationError`, in this order of checks: non-finite coordinates, duplicate
    ///   labels, fewer than 3 points, unmatched labels, weights, MRI LPA/RPA sides, collinearity
    ///   (head, then MRI), mirrored fit.
    public static func register(
        head: [LabeledPoint], mri: [LabeledPoint], weights: [String: Double]? = nil, options: Options = .init()
    ) throws(RegistrationError) -> PointRegistrationResult {
        for p in head where !p.position.isFinite { throw .nonFiniteCoordinate(label: p.label, side: .head) }
        for p in mri where !p.position.isFinite { throw .nonFiniteCoordinate(label: p.label, side: .mri) }

        // Index the head labels; find duplicates on both sides.
        var headIndex: [String: Int] = [:]
        headIndex.reserveCapacity(head.count)
        for (i, p) in head.enumerated() {
            if headIndex.updateValue(i, forKey: normalizedLabel(p.label)) != nil {
                throw .duplicateLabel(p.label, side: .head)
            }
        }
        var mriKeys: [String] = []
        mriKeys.reserveCapacity(mri.count)
        for p in mri {
            let key = normalizedLabel(p.label)
            if mriKeys.contains(key) { throw .duplicateLabel(p.label, side: .mri) }
            mriKeys.append(key)
        }
        if Swift.min(head.count, mri.count) < Self.minimumPairs {
            throw .tooFewPairs(found: Swift.min(head.count, mri.count), required: Self.minimumPairs)
        }

        // Pair in MRI order.
        var headPoints: [Vector3] = [], mriPoints: [LabeledPoint] = [], pairKeys: [String] = []
        headPoints.reserveCapacity(mri.count)
        mriPoints.reserveCapacity(mri.count)
        pairKeys.reserveCapacity(mri.count)
        var onlyInMRI: [String] = []
        for (j, p) in mri.enumerated() {
            if let i = headIndex[mriKeys[j]] {
                headPoints.append(head[i].position)
                mriPoints.append(p)
                pairKeys.append(mriKeys[j])
            } else {
                onlyInMRI.append(p.label)
            }
        }
        var onlyInHead: [String] = []
        if headPoints.count < head.count {
            for p in head where !mriKeys.contains(normalizedLabel(p.label)) { onlyInHead.append(p.label) }
        }
        if !(onlyInHead.isEmpty && onlyInMRI.isEmpty) && options.labelMatching == .requireAll {
            throw .unmatchedLabels(onlyInHead: onlyInHead, onlyInMRI: onlyInMRI)
        }
        if mriPoints.count < Self.minimumPairs {
            throw .tooFewPairs(found: mriPoints.count, required: Self.minimumPairs)
        }

        // Weights, in pair order.
        var w = [Double](repeating: 1, count: mriPoints.count)
        if let weights {
            var seen: [String] = []
            for label in weights.keys.sorted() {
                let value = weights[label]!
                let key = normalizedLabel(label)
                if seen.contains(key) { throw .duplicateWeightLabel(label) }
                seen.append(key)
                guard value.isFinite, value >= 0 else { throw .invalidWeight(label: label, value: value) }
                if let k = pairKeys.firstIndex(of: key) {
                    w[k] = value
                } else if headIndex[key] == nil && !mriKeys.contains(key) {
                    throw .weightForUnknownLabel(label)
                }
            }
            let positive = w.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
            if positive == 0 { throw .allWeightsZero }
            if positive < Self.minimumPairs {
                let zero = zip(mriPoints, w).filter { $0.1 == 0 }.map(\.0.label)
                throw .tooFewWeightedPairs(positive: positive, required: Self.minimumPairs, zeroWeightLabels: zero)
            }
        }

        // MRI left/right check (the only mirror check that works with three fiducials).
        if let axes = options.mriAxes, let l = pairKeys.firstIndex(of: "lpa"), let r = pairKeys.firstIndex(of: "rpa") {
            let offset = (mriPoints[r].position - mriPoints[l].position).dot(axes.patientRight)
            if !(offset > 0) { throw .mriFiducialsMirrored(axes: axes, lateralOffsetMM: offset) }
        }

        // Collinearity, both sides.
        var mriPositions: [Vector3] = []
        mriPositions.reserveCapacity(mriPoints.count)
        for p in mriPoints { mriPositions.append(p.position) }
        try Self.checkCollinearity(headPoints, weights: w, side: .head, options: options)
        try Self.checkCollinearity(mriPositions, weights: w, side: .mri, options: options)

        let fit = Self.leastSquaresFit(moving: headPoints, fixed: mriPositions, weights: w)
        let headToMRI = fit.transform

        // Residuals, computed directly (more accurate than the eigenvalue form).
        var residuals: [FiducialResidual] = []
        residuals.reserveCapacity(mriPoints.count)
        var sse = 0.0
        for k in 0..<mriPoints.count {
            let r = headToMRI.apply(to: headPoints[k]) - mriPositions[k]
            let d = r.length
            residuals.append(FiducialResidual(label: mriPoints[k].label, residualMM: d, residualVectorMM: r, weight: w[k]))
            sse += w[k] * d * d
        }
        let fre = (sse / fit.totalWeight).squareRoot()
        let reflectionFRE = fit.reflectionRMSError

        if reflectionFRE < options.mirrorFRERatioThreshold * fre && fre >= options.mirrorMinimumRotationFREMM {
            throw .mirroredFiducials(
                rotationFREMM: fre, reflectionFREMM: reflectionFRE, ratioThreshold: options.mirrorFRERatioThreshold,
                minimumRotationFREMM: options.mirrorMinimumRotationFREMM)
        }

        return PointRegistrationResult(
            headToMRI: headToMRI, freMM: fre, reflectionFREMM: reflectionFRE, residuals: residuals,
            fiducialsInMRI: mriPoints, weights: w, unpairedLabels: onlyInHead + onlyInMRI)
    }

    static func checkCollinearity(
        _ points: [Vector3], weights: [Double], side: RegistrationSide, options: Options
    ) throws(RegistrationError) {
        let c = Self.collinearity(of: points, weights: weights)
        if c.singularValueRatio < options.collinearityRatioThreshold
            || c.lineDistanceRMSMM < options.collinearityDistanceThresholdMM
        {
            throw .collinearFiducials(
                side: side, singularValueRatio: c.singularValueRatio, lineDistanceRMSMM: c.lineDistanceRMSMM,
                ratioThreshold: options.collinearityRatioThreshold,
                distanceThresholdMM: options.collinearityDistanceThresholdMM)
        }
    }

    /// How close a (weighted) point set is to a line: σ₂/σ₁ of its covariance and the RMS distance
    /// of its points from their best-fit line, in the points' unit. Points with weight 0 are
    /// ignored; `weights` nil means all 1.
    public static func collinearity(of points: [Vector3], weights: [Double]? = nil)
        -> (singularValueRatio: Double, lineDistanceRMSMM: Double)
    {
        var total = 0.0
        var sum = Vector3.zero
        for i in 0..<points.count {
            let w = weights?[i] ?? 1
            total += w
            sum += w * points[i]
        }
        guard total > 0 else { return (0, 0) }
        let c = sum / total
        var cov = Matrix3.zero
        for i in 0..<points.count {
            let w = weights?[i] ?? 1
            if w == 0 { continue }
            let y = points[i] - c
            cov += Matrix3.outer(y * (w / total), y)
        }
        let e = SymmetricEigen3(symmetric: cov)
        let l1 = Swift.max(e.values.x, 0), l2 = Swift.max(e.values.y, 0), l3 = Swift.max(e.values.z, 0)
        let ratio = l1 > 0 ? (l2 / l1).squareRoot() : 0
        return (ratio, (l2 + l3).squareRoot())
    }
}

/// A label as compared for matching: surrounding whitespace removed, lower-cased.
func normalizedLabel(_ label: String) -> String {
    var s = Substring(label)
    while let c = s.first, c.isWhitespace { s.removeFirst() }
    while let c = s.last, c.isWhitespace { s.removeLast() }
    return s.lowercased()
}
