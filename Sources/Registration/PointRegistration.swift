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
/// (Cz, or another scalp point well above the nasion–ear plane) to catch it.
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
        /// The defaults were tuned by simulation (isotropic FLE 2 mm RMS, 4,000–20,000 seeded
        /// trials per configuration): good data with 3–6 fiducials — the fsaverage NAS/LPA/RPA plus
        /// Cz, Iz, C3 or F3, and random head-sized sets of 4–6 points — never met both conditions
        /// (among fits with FRE ≥ 3 mm the smallest ratio was 6.7 at FLE 2 mm, and still 0.66 at
        /// FLE 3 mm). An LPA/RPA swap with a fiducial well off the NAS/LPA/RPA plane (Cz, F3, C3)
        /// gives a rotation FRE of 70–105 mm and a ratio of 0.02–0.50, so it is always caught.
        /// With Iz as the only extra point (about 6 mm off that plane) a swap leaves a rotation FRE
        /// of only 2.6–5.3 mm (1st–99th percentile) and is caught in about 90 % of noisy trials.
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
    ///     residual is still reported. Relative FLE variances σᵢ² suggest wᵢ ∝ 1/σᵢ². A weight for
    ///     a label found in only one list (possible with `.intersection`) is ignored; a weight for
    ///     a label in neither list is an error (it is probably a typo).
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

        // Normalise the labels; duplicates on either side are errors.
        let headIndex = try LabelIndex(head, side: .head)
        let mriIndex = try LabelIndex(mri, side: .mri)
        if Swift.min(head.count, mri.count) < Self.minimumPairs {
            throw .tooFewPairs(found: Swift.min(head.count, mri.count), required: Self.minimumPairs)
        }

        // Pair in MRI order.
        var headPoints: [Vector3] = [], mriPoints: [LabeledPoint] = [], pairKeys: [String] = []
        headPoints.reserveCapacity(mri.count)
        mriPoints.reserveCapacity(mri.count)
        pairKeys.reserveCapacity(mri.count)
        var onlyInMRI: [String] = []
        for j in 0..<mri.count {
            let key = mriIndex.keys[j]
            if let i = headIndex.index(of: key) {
                headPoints.append(head[i].position)
                mriPoints.append(mri[j])
                pairKeys.append(key)
            } else {
                onlyInMRI.append(mri[j].label)
            }
        }
        var onlyInHead: [String] = []
        if headPoints.count < head.count {
            for i in 0..<head.count where mriIndex.index(of: headIndex.keys[i]) == nil { onlyInHead.append(head[i].label) }
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
                } else if headIndex.index(of: key) == nil && mriIndex.index(of: key) == nil {
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
        let cov = Self.weightedCovariance(of: points, weights: weights)
        // Fast screen: the closed-form eigenvalues (a few tens of nanoseconds) are accurate to
        // about √ε·λ₁ even in the worst case (a nearly repeated pair), so a set that clears both
        // thresholds by more than 1e-7·λ₁ clears them for certain. Anything closer to a threshold
        // is decided, and reported, with the accurate Jacobi eigenvalues.
        let fast = closedFormEigenvalues(cov)
        let slack = 1e-7 * Swift.abs(fast.x)
        let ratio2 = options.collinearityRatioThreshold * options.collinearityRatioThreshold
        let distance2 = options.collinearityDistanceThresholdMM * options.collinearityDistanceThresholdMM
        if fast.y - slack >= ratio2 * (fast.x + slack) && fast.y + fast.z - 2 * slack >= distance2 { return }

        let c = Self.collinearityMeasures(covariance: cov)
        if c.singularValueRatio < options.collinearityRatioThreshold
            || c.lineDistanceRMSMM < options.collinearityDistanceThresholdMM
        {
            throw .collinearFiducials(
                side: side, singularValueRatio: c.singularValueRatio, lineDistanceRMSMM: c.lineDistanceRMSMM,
                ratioThreshold: options.collinearityRatioThreshold,
                distanceThresholdMM: options.collinearityDistanceThresholdMM)
        }
    }

    /// How close a (weighted) point set is to a line: σ₂/σ₁ (the square roots of its covariance
    /// eigenvalues λ₂ and λ₁, largest first) and the RMS distance of its points from their
    /// best-fit line, √(λ₂ + λ₃), in the points' unit. Points with weight 0 are ignored; `weights`
    /// nil means all 1. These are the measures `register` compares with
    /// `Options.collinearityRatioThreshold` and `Options.collinearityDistanceThresholdMM`.
    public static func collinearity(of points: [Vector3], weights: [Double]? = nil)
        -> (singularValueRatio: Double, lineDistanceRMSMM: Double)
    {
        Self.collinearityMeasures(covariance: Self.weightedCovariance(of: points, weights: weights))
    }

    static func collinearityMeasures(covariance: Matrix3) -> (singularValueRatio: Double, lineDistanceRMSMM: Double) {
        let e = SymmetricEigen3.eigenvalues(ofSymmetric: covariance)
        let l1 = Swift.max(e.x, 0), l2 = Swift.max(e.y, 0), l3 = Swift.max(e.z, 0)
        let ratio = l1 > 0 ? (l2 / l1).squareRoot() : 0
        return (ratio, (l2 + l3).squareRoot())
    }

    /// (1/W) Σ wᵢ (xᵢ − x̄)(xᵢ − x̄)ᵀ about the weighted centroid; zero if the weights sum to 0.
    static func weightedCovariance(of points: [Vector3], weights: [Double]?) -> Matrix3 {
        var total = 0.0
        var sum = Vector3.zero
        for i in 0..<points.count {
            let w = weights?[i] ?? 1
            total += w
            sum += w * points[i]
        }
        guard total > 0 else { return .zero }
        let c = sum / total
        var cov = Matrix3.zero
        for i in 0..<points.count {
            let w = weights?[i] ?? 1
            if w == 0 { continue }
            let y = points[i] - c
            cov += Matrix3.outer(y * (w / total), y)
        }
        return cov
    }
}

/// The eigenvalues of a symmetric 3×3 matrix, descending, by the trigonometric closed form
/// (Smith 1961). Fast, but only accurate to about √ε·‖A‖ when two eigenvalues nearly coincide
/// (acos is steep near ±1), hence used only as a screen.
func closedFormEigenvalues(_ m: Matrix3) -> Vector3 {
    let a00 = m[0, 0], a11 = m[1, 1], a22 = m[2, 2]
    let a01 = m[0, 1], a02 = m[0, 2], a12 = m[1, 2]
    let q = (a00 + a11 + a22) / 3
    let b00 = a00 - q, b11 = a11 - q, b22 = a22 - q
    let p2 = b00 * b00 + b11 * b11 + b22 * b22 + 2 * (a01 * a01 + a02 * a02 + a12 * a12)
    if p2 == 0 { return Vector3(q, q, q) }
    let p = (p2 / 6).squareRoot()
    let det = b00 * (b11 * b22 - a12 * a12) - a01 * (a01 * b22 - a12 * a02) + a02 * (a01 * a12 - b11 * a02)
    let r = Swift.max(-1, Swift.min(1, det / (p * p * p) / 2))
    let phi = acosDouble(r) / 3
    let largest = q + 2 * p * cosDouble(phi)
    let smallest = q + 2 * p * cosDouble(phi + 2 * Double.pi / 3)
    return Vector3(largest, 3 * q - largest - smallest, smallest)
}

/// The normalised labels of one point list, with lookup: a linear search for the handful of
/// fiducials a registration normally has (faster than hashing), a dictionary beyond 32.
struct LabelIndex {
    var keys: [String]
    var dictionary: [String: Int]?

    init(_ points: [LabeledPoint], side: RegistrationSide) throws(RegistrationError) {
        self.keys = []
        self.keys.reserveCapacity(points.count)
        if points.count > 32 {
            var d = [String: Int](minimumCapacity: points.count)
            for (i, p) in points.enumerated() {
                let key = normalizedLabel(p.label)
                if d.updateValue(i, forKey: key) != nil { throw .duplicateLabel(p.label, side: side) }
                self.keys.append(key)
            }
            self.dictionary = d
        } else {
            for p in points {
                let key = normalizedLabel(p.label)
                if self.keys.contains(key) { throw .duplicateLabel(p.label, side: side) }
                self.keys.append(key)
            }
            self.dictionary = nil
        }
    }

    func index(of key: String) -> Int? {
        if let d = self.dictionary { return d[key] }
        return self.keys.firstIndex(of: key)
    }
}

/// A label as compared for matching: surrounding whitespace removed, lower-cased.
///
/// ASCII labels (the usual case) take a byte-level path that neither classifies Unicode
/// characters nor allocates for short labels; others go through `Character`.
func normalizedLabel(_ label: String) -> String {
    let bytes = label.utf8
    var hasUpper = false
    for b in bytes {
        if b >= 0x80 { return normalizedUnicodeLabel(label) }
        if b >= 0x41 && b <= 0x5A { hasUpper = true }
    }
    @inline(__always) func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
    var start = bytes.startIndex, end = bytes.endIndex
    while start < end && isSpace(bytes[start]) { start = bytes.index(after: start) }
    while end > start && isSpace(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
    if start == bytes.startIndex && end == bytes.endIndex && !hasUpper { return label }
    let slice = bytes[start..<end]
    return String(unsafeUninitializedCapacity: slice.count) { buffer in
        var i = 0
        for b in slice {
            buffer[i] = (b >= 0x41 && b <= 0x5A) ? b + 0x20 : b
            i += 1
        }
        return i
    }
}

private func normalizedUnicodeLabel(_ label: String) -> String {
    var s = Substring(label)
    while let c = s.first, c.isWhitespace { s.removeFirst() }
    while let c = s.last, c.isWhitespace { s.removeLast() }
    return s.lowercased()
}
