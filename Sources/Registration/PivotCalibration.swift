import Geometry

/// The outcome of `PivotCalibration.calibrate(markerToTracker:options:)`. Lengths in mm.
public struct PivotCalibrationResult: Sendable, Equatable {
    /// The pointer tip in the pointer marker's frame (`tipToMarker` translation).
    public var tipInMarkerMM: Vector3
    /// The fixed pivot point (the divot) in tracker space.
    public var pivotInTrackerMM: Vector3
    /// RMS over the used poses of the 3-D distance between the tip, as placed by each pose, and
    /// the pivot: √((1/n) Σ |Rᵢ t_tip + pᵢ − t_piv|²).
    ///
    /// scikit-surgerycalibration's `residual_error` is the RMS over all 3n *components* instead,
    /// which is smaller by exactly √3; it is available as `perComponentRMSMM`.
    public var rmsMM: Double
    /// The largest 3-D tip distance from the pivot among the used poses.
    public var maxResidualMM: Double
    /// How many poses the final solution uses.
    public var posesUsed: Int
    /// Indices (into the input) of the poses rejected as outliers, ascending.
    public var rejectedPoseIndices: [Int]
    /// The 3-D tip distance from the pivot for every input pose, rejected ones included.
    public var residualsMM: [Double]
    /// The residual above which poses were rejected in the final round (see
    /// `PivotCalibration.Options.outlierMADMultiplier`); +∞ when rejection is off.
    public var outlierThresholdMM: Double
    /// The angular range, in degrees, of the used poses about the *second* principal axis of
    /// their orientation scatter: the pivoting range achieved in the weaker of the two main
    /// directions. This is the number compared with `Options.minimumRotationSpanDegrees`.
    public var rotationSpanDegrees: Double
    /// Angular ranges, in degrees, about all three principal axes, largest first.
    public var principalRotationSpansDegrees: Vector3
    /// Smallest over largest eigenvalue of the tip normal matrix Σ (Rᵢ − R̄)ᵀ(Rᵢ − R̄): 0 when the
    /// tip is undetermined along some direction, up to 1 for rotations spread evenly about all axes.
    public var conditionRatio: Double

    /// The RMS over all 3n components of the pose residuals, rmsMM / √3: the figure
    /// scikit-surgerycalibration reports as the residual error of `pivot_calibration`.
    public var perComponentRMSMM: Double { self.rmsMM / 3.0.squareRoot() }

    /// The transform from the pointer tip frame to the marker frame (identity rotation).
    public var tipToMarker: RigidTransform { .translation(self.tipInMarkerMM) }
}

/// Pivot calibration of a tracked pointer: the pointer is pivoted with its tip held in a fixed
/// divot, and the tip offset in the marker frame is found from the marker poses.
///
/// ### Model
/// Each pose i gives the marker-to-tracker rotation Rᵢ and translation pᵢ. The tip offset t_tip
/// (marker frame) and the pivot t_piv (tracker frame) satisfy Rᵢ t_tip + pᵢ = t_piv, i.e.
/// [Rᵢ | −I]·[t_tip; t_piv] = −pᵢ, stacked into a 3n×6 least-squares problem. It is solved exactly,
/// not through the ill-scaled 6×6 normal matrix: for a given tip the best pivot is the mean
/// R̄ t_tip + p̄, and substituting leaves the 3×3 system
///
///     G t_tip = −Σ (Rᵢ − R̄)ᵀ (pᵢ − p̄),   G = Σ (Rᵢ − R̄)ᵀ (Rᵢ − R̄)
///
/// (G is the Schur complement of the 6×6 normal matrix, so the two are singular together). G is
/// solved by its eigen-decomposition, whose eigenvalues also measure how well each direction of the
/// tip is determined.
///
/// ### Rotation requirement
/// Rotations about a single axis leave the tip undetermined along that axis, and small rotations
/// make it noisy. The poses are accepted only if both hold:
/// - the angular range about the second principal axis of the orientations is at least
///   `minimumRotationSpanDegrees` (15° by default). Orientations are expressed as rotation vectors
///   relative to their mean (the principal eigenvector of Σ qᵢqᵢᵀ); their principal axes come
///   from the covariance of those vectors; the range about an axis is max − min of the projections;
/// - G's smallest eigenvalue is at least `minimumConditionRatio` (0.01 by default) times its
///   largest, which catches spans made by a single stray pose.
///
/// ### Outliers
/// When the tip slips in the divot for a few samples, those poses are rejected: after each fit,
/// with r the 3-D tip residuals of the current inliers, every pose whose residual exceeds
/// max(median(r) + k·1.4826·MAD(r), floor) is rejected (k = `outlierMADMultiplier`, 3 by default;
/// floor = `outlierFloorMM`, 0.5 mm by default), and the fit is repeated on the remaining poses;
/// rejected poses may come back if the refit explains them. This stops when the set no longer
/// changes, or after `maximumIterations` refits. More than `maximumRejectedFraction` (20 %)
/// rejected is an error: the recording should be repeated. For pure Maxwell-distributed noise
/// (isotropic Gaussian residuals) the band rejects about 0.5 % of good poses, which costs nothing.
public enum PivotCalibration {
    /// Thresholds for `calibrate(markerToTracker:options:)`.
    public struct Options: Sendable, Equatable {
        /// Minimum number of poses. Default 10 (a real recording has hundreds).
        public var minimumPoses: Int
        /// Minimum angular range, degrees, about each of two independent axes. Default 15°.
        public var minimumRotationSpanDegrees: Double
        /// Minimum smallest/largest eigenvalue ratio of the tip normal matrix G. Default 0.01.
        public var minimumConditionRatio: Double
        /// Reject outliers at all. Default true.
        public var rejectOutliers: Bool
        /// k in the rejection threshold median + k·1.4826·MAD. Default 3.
        public var outlierMADMultiplier: Double
        /// The rejection threshold is never below this, mm. Default 0.5 mm.
        public var outlierFloorMM: Double
        /// More rejected poses than this fraction is an error. Default 0.2.
        public var maximumRejectedFraction: Double
        /// Maximum number of refits after the first fit. Default 5.
        public var maximumIterations: Int

        public init(
            minimumPoses: Int = 10, minimumRotationSpanDegrees: Double = 15, minimumConditionRatio: Double = 0.01,
            rejectOutliers: Bool = true, outlierMADMultiplier: Double = 3, outlierFloorMM: Double = 0.5,
            maximumRejectedFraction: Double = 0.2, maximumIterations: Int = 5
        ) {
            self.minimumPoses = minimumPoses
            self.minimumRotationSpanDegrees = minimumRotationSpanDegrees
            self.minimumConditionRatio = minimumConditionRatio
            self.rejectOutliers = rejectOutliers
            self.outlierMADMultiplier = outlierMADMultiplier
            self.outlierFloorMM = outlierFloorMM
            self.maximumRejectedFraction = maximumRejectedFraction
            self.maximumIterations = maximumIterations
        }
    }

    /// Calibrates the pointer tip from poses recorded while pivoting about a fixed point.
    ///
    /// - Parameters:
    ///   - poses: `markerToTracker` transforms of the pointer's marker, mm. Rotations must be
    ///     orthonormal (as `RigidTransform` guarantees).
    ///   - options: thresholds.
    /// - Throws: `RegistrationError.tooFewPoses`, `.nonFinitePose`, `.insufficientPivotRotation`
    ///   (checked on all poses, and again on the inliers), `.tooManyPivotOutliers`.
    public static func calibrate(
        markerToTracker poses: [RigidTransform], options: Options = .init()
    ) throws(RegistrationError) -> PivotCalibrationResult {
        if poses.count < options.minimumPoses { throw .tooFewPoses(found: poses.count, required: options.minimumPoses) }
        for (i, pose) in poses.enumerated() where !pose.isFinite { throw .nonFinitePose(index: i) }

        var inliers = [Bool](repeating: true, count: poses.count)
        var fit = try Self.fit(poses, inliers: inliers, options: options)
        var residuals = Self.residuals(poses, fit: fit)
        var threshold = Double.infinity
        if options.rejectOutliers {
            var refits = 0
            while true {
                var inlierResiduals: [Double] = []
                for (r, ok) in zip(residuals, inliers) where ok { inlierResiduals.append(r) }
                let median = Self.median(inlierResiduals)
                let mad = Self.median(inlierResiduals.map { Swift.abs($0 - median) })
                threshold = Swift.max(median + options.outlierMADMultiplier * 1.4826 * mad, options.outlierFloorMM)
                let next = residuals.map { $0 <= threshold }
                let rejected = next.reduce(0) { $0 + ($1 ? 0 : 1) }
                if Double(rejected) > options.maximumRejectedFraction * Double(poses.count) {
                    throw .tooManyPivotOutliers(
                        rejected: rejected, total: poses.count, maximumFraction: options.maximumRejectedFraction,
                        thresholdMM: threshold)
                }
                if next == inliers || refits >= options.maximumIterations { break }
                inliers = next
                fit = try Self.fit(poses, inliers: inliers, options: options)
                residuals = Self.residuals(poses, fit: fit)
                refits += 1
            }
        }

        var sumSquares = 0.0, maxResidual = 0.0, used = 0
        var rejected: [Int] = []
        for (i, r) in residuals.enumerated() {
            if inliers[i] {
                sumSquares += r * r
                maxResidual = Swift.max(maxResidual, r)
                used += 1
            } else {
                rejected.append(i)
            }
        }
        return PivotCalibrationResult(
            tipInMarkerMM: fit.tip, pivotInTrackerMM: fit.pivot, rmsMM: (sumSquares / Double(used)).squareRoot(),
            maxResidualMM: maxResidual, posesUsed: used, rejectedPoseIndices: rejected, residualsMM: residuals,
            outlierThresholdMM: threshold, rotationSpanDegrees: fit.spansDegrees.y,
            principalRotationSpansDegrees: fit.spansDegrees, conditionRatio: fit.conditionRatio)
    }

    /// The angular ranges (degrees, largest first) of a set of orientations about the principal
    /// axes of their scatter, measured as rotation vectors relative to the mean orientation (in
    /// the rotated, i.e. marker, frame). See the type's documentation.
    public static func principalRotationSpansDegrees(of rotations: [Quaternion]) -> Vector3 {
        precondition(!rotations.isEmpty)
        // Mean orientation: principal eigenvector of Σ q qᵀ (sign-invariant).
        var s = SIMD16<Double>(repeating: 0)
        for q in rotations {
            let v = SIMD4(q.q0, q.qx, q.qy, q.qz)
            for r in 0..<4 {
                for c in 0..<4 { s[r * 4 + c] += v[r] * v[c] }
            }
        }
        let m = SymmetricEigen4(symmetric: s).vector(0)
        let mean = Quaternion(q0: m[0], qx: m[1], qy: m[2], qz: m[3]).normalized.conjugate
        var vectors: [Vector3] = []
        vectors.reserveCapacity(rotations.count)
        var sum = Vector3.zero
        for q in rotations {
            let w = (mean * q).rotationVector
            vectors.append(w)
            sum += w
        }
        let c = sum / Double(rotations.count)
        var cov = Matrix3.zero
        for w in vectors { cov += Matrix3.outer(w - c, w - c) }
        let axes = SymmetricEigen3(symmetric: cov).vectors
        var spans = Vector3.zero
        for k in 0..<3 {
            let axis = axes.column(k)
            var lo = Double.infinity, hi = -Double.infinity
            for w in vectors {
                let x = w.dot(axis)
                lo = Swift.min(lo, x)
                hi = Swift.max(hi, x)
            }
            spans[k] = degrees(fromRadians: hi - lo)
        }
        // Order by range (the covariance order can differ from the range order).
        var a = [spans.x, spans.y, spans.z]
        a.sort(by: >)
        return Vector3(a[0], a[1], a[2])
    }

    private struct Fit {
        var tip: Vector3
        var pivot: Vector3
        var spansDegrees: Vector3
        var conditionRatio: Double
    }

    /// Least-squares tip and pivot from the poses flagged in `inliers`, after the rotation checks.
    private static func fit(_ poses: [RigidTransform], inliers: [Bool], options: Options) throws(RegistrationError) -> Fit {
        var n = 0.0
        var meanR = Matrix3.zero, meanP = Vector3.zero
        var quaternions: [Quaternion] = []
        quaternions.reserveCapacity(poses.count)
        for (pose, ok) in zip(poses, inliers) where ok {
            n += 1
            meanR += pose.rotation
            meanP += pose.translation
            quaternions.append(pose.quaternion)
        }
        meanR = meanR * (1 / n)
        meanP = meanP / n
        var g = Matrix3.zero, h = Vector3.zero
        for (pose, ok) in zip(poses, inliers) where ok {
            let dr = pose.rotation - meanR
            let drt = dr.transposed
            g += drt * dr
            h += drt * (pose.translation - meanP)
        }
        let e = SymmetricEigen3(symmetric: g)
        let ratio = e.values.x > 0 ? Swift.max(0, e.values.z) / e.values.x : 0
        let spans = Self.principalRotationSpansDegrees(of: quaternions)
        if !(spans.y >= options.minimumRotationSpanDegrees) || !(ratio >= options.minimumConditionRatio) {
            throw .insufficientPivotRotation(
                spansDegrees: spans, requiredSpanDegrees: options.minimumRotationSpanDegrees, conditionRatio: ratio,
                requiredConditionRatio: options.minimumConditionRatio)
        }
        // t = −G⁻¹ h through the eigen-decomposition (G is positive definite here).
        let v = e.vectors
        let vth = v.transposed * h
        let tip = -(v * Vector3(vth.x / e.values.x, vth.y / e.values.y, vth.z / e.values.z))
        let pivot = meanR * tip + meanP
        return Fit(tip: tip, pivot: pivot, spansDegrees: spans, conditionRatio: ratio)
    }

    private static func residuals(_ poses: [RigidTransform], fit: Fit) -> [Double] {
        poses.map { ($0.apply(to: fit.tip) - fit.pivot).length }
    }

    private static func median(_ values: [Double]) -> Double {
        precondition(!values.isEmpty)
        let s = values.sorted()
        let m = s.count / 2
        return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
    }
}
