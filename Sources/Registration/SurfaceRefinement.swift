import Geometry

/// How far a surface refinement moved one named point, in millimetres (MRI space).
public struct PointShift: Equatable, Sendable, CustomStringConvertible {
    /// The point's label (a fiducial such as "NAS", or a target name).
    public var label: String
    /// Length of the displacement, in millimetres.
    public var shiftMM: Double
    /// Predicted RMS error (mm) of the refined registration at the point's refined position, from
    /// the scatter of the surface points about the fitted surface alone (first-order covariance of
    /// the least-squares fit; excludes mesh errors and systematic digitisation offsets). +∞ when a
    /// motion is unconstrained.
    public var predictedErrorMM: Double

    public init(label: String, shiftMM: Double, predictedErrorMM: Double = .nan) {
        self.label = label
        self.shiftMM = shiftMM
        self.predictedErrorMM = predictedErrorMM
    }

    public var description: String { "\(self.label): moved \(self.shiftMM) mm (predicted error \(self.predictedErrorMM) mm)" }
}

/// The outcome of `SurfaceRefinement.refine`.
public struct SurfaceRefinementResult: Sendable {
    /// The refined head-to-MRI transform.
    public var headToMRI: RigidTransform
    /// RMS point-to-surface distance (Euclidean distance to the closest point on the mesh, mm) of
    /// the final inliers (see `isInlier`) mapped by the initial transform.
    public var rmsBeforeMM: Double
    /// RMS point-to-surface distance (mm) of the same final inliers mapped by `headToMRI`.
    public var rmsAfterMM: Double
    /// Number of linearised point-to-plane steps taken.
    public var iterations: Int
    /// Number of points used in the final fit.
    public var inliers: Int
    /// Number of points left out of the final fit (too far from the surface, outside the robust
    /// band, or on a degenerate triangle).
    public var outliers: Int
    /// Whether a stopping rule was met before `Options.maxIterations` (see `SurfaceRefinement`).
    public var converged: Bool
    /// Whether each input point (same order as `headSurfacePoints`) is a final inlier.
    public var isInlier: [Bool]
    /// For each fiducial given in head space: |refined(fᵢ) − initial(fᵢ)|, in MRI mm.
    public var fiducialShifts: [PointShift]
    /// For each target given in MRI space: |refined(initial⁻¹(t)) − t|, in MRI mm: how far the
    /// refinement moves the head point that the fiducial registration put at the target.
    public var targetShifts: [PointShift]
    /// Smallest over largest eigenvalue of the scaled 6×6 normal matrix at the last step (1 = all
    /// six motions equally constrained by the surface, 0 = some motion not constrained at all).
    public var conditioning: Double
    /// Predicted RMS rotation error of the refined transform (degrees) from the scatter of the
    /// inliers about the surface: with σ̂² = Σ sᵢ²/(N − 6) over the final inliers' signed
    /// point-to-plane distances, Cov(L·ω, t) = σ̂²/N · M⁻¹ (first order, unbiased noise, exact
    /// mesh). +∞ when a motion is unconstrained. About 0.1–0.2° for 1000 points with σ = 0.5 mm on
    /// a real scalp (fsaverage), so a 0.5° difference from another method is meaningful, 0.1° is not.
    public var predictedRotationErrorDegrees: Double
    /// Predicted RMS 3-D error (mm) of the refined transform at the inliers' centroid (same model).
    public var predictedTranslationErrorMM: Double
    /// Human-readable warnings: shifts beyond `Options.shiftWarningMM`, a low inlier fraction, a
    /// degenerate geometry that was worked around, or no convergence. Empty when all is well.
    public var warnings: [String]

    public init(
        headToMRI: RigidTransform, rmsBeforeMM: Double, rmsAfterMM: Double, iterations: Int, inliers: Int, outliers: Int,
        converged: Bool, isInlier: [Bool], fiducialShifts: [PointShift], targetShifts: [PointShift], conditioning: Double,
        predictedRotationErrorDegrees: Double, predictedTranslationErrorMM: Double, warnings: [String]
    ) {
        self.headToMRI = headToMRI
        self.rmsBeforeMM = rmsBeforeMM
        self.rmsAfterMM = rmsAfterMM
        self.iterations = iterations
        self.inliers = inliers
        self.outliers = outliers
        self.converged = converged
        self.isInlier = isInlier
        self.fiducialShifts = fiducialShifts
        self.targetShifts = targetShifts
        self.conditioning = conditioning
        self.predictedRotationErrorDegrees = predictedRotationErrorDegrees
        self.predictedTranslationErrorMM = predictedTranslationErrorMM
        self.warnings = warnings
    }
}

/// Why a surface refinement could not be computed.
public enum SurfaceRefinementError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer digitised points than `Options.minimumInliers`.
    case tooFewPoints(count: Int, required: Int)
    /// A digitised point has a NaN or infinite coordinate.
    case nonFinitePoint(index: Int)
    /// A fiducial or target has a NaN or infinite coordinate.
    case nonFiniteLabeledPoint(label: String)
    /// The initial transform has a NaN or infinite entry.
    case nonFiniteTransform
    /// An option is out of its range.
    case invalidOption(String)
    /// Too few points lie close enough to the surface (and inside the robust band) at some step.
    case tooFewInliers(inliers: Int, points: Int, required: Int, maxDistanceMM: Double, iteration: Int)
    /// The points do not pin down all six degrees of freedom: `weakDirections` of the six
    /// eigenvalues of the scaled normal matrix are below `threshold` × the largest
    /// (`conditioning` is the smallest ratio). `motions` describes them.
    case degenerateGeometry(weakDirections: Int, conditioning: Double, threshold: Double, motions: [String])

    public var description: String {
        switch self {
        case .tooFewPoints(let n, let required):
            return "surface refinement needs at least \(required) digitised scalp points; got \(n)"
        case .nonFinitePoint(let i):
            return "digitised scalp point \(i) has a coordinate that is not a finite number"
        case .nonFiniteLabeledPoint(let label):
            return "point \"\(label)\" has a coordinate that is not a finite number"
        case .nonFiniteTransform:
            return "the initial head-to-MRI transform has an entry that is not a finite number"
        case .invalidOption(let text):
            return "invalid surface refinement option: \(text)"
        case .tooFewInliers(let inliers, let points, let required, let maxDistance, let iteration):
            return
                "only \(inliers) of \(points) digitised points lie within \(maxDistance) mm of the MRI scalp and inside the "
                + "robust band at step \(iteration) (at least \(required) needed): check the fiducial registration and that "
                + "the points were taken on the scalp"
        case .degenerateGeometry(let weak, let conditioning, let threshold, let motions):
            return
                "the digitised points do not constrain \(weak) of the 6 degrees of freedom (eigenvalue ratio \(conditioning) "
                + "below \(threshold)): \(motions.joined(separator: "; ")). Digitise points over a wider, less symmetric "
                + "part of the head (forehead, temples, back of the head)"
        }
    }
}

/// Point-to-plane ICP: refines a head-to-MRI registration by fitting digitised scalp points (head
/// space) to the MRI scalp mesh, starting from the fiducial registration.
///
/// ### Method (Chen & Medioni 1992)
/// Each step maps the points by the current transform, finds for each the exact closest point cᵢ
/// on the mesh's triangles with that triangle's face normal nᵢ (via a `MeshIndex` that the caller
/// builds once per MRI), selects inliers (below), and minimises Σ((R yᵢ + t − cᵢ)·nᵢ)² linearised
/// about the identity (R ≈ I + [ω]×). The step is expressed about the inliers' centroid c, and the
/// rotation part is scaled by their RMS radius L, so the six unknowns x = (L·ω, t) are all in mm
/// and the 6×6 normal matrix M = (1/N) Σ aᵢaᵢᵀ, aᵢ = ((yᵢ − c)×nᵢ / L, nᵢ), has comparable
/// eigenvalues. The step's rotation is applied exactly with the exponential map, about c.
///
/// ### Correspondences and outlier rejection
/// 1. A point is a candidate when the mesh lies within `maxCorrespondenceDistanceMM` of it (default
///    10 mm: the fiducial registration should already be within a few mm) and its triangle is not
///    degenerate.
/// 2. Robust band on the signed point-to-plane distances sᵢ = (yᵢ − cᵢ)·nᵢ: with m their median and
///    MAD the median of |sᵢ − m|, a candidate is an inlier when |sᵢ − m| ≤ max(k·1.4826·MAD, floor)
///    (k = `robustBandSigmas`, default 3; floor = `robustBandFloorMM`, default 1 mm, so that nearly
///    perfect data, where MAD → 0, does not lose its good points to round-off).
/// 3. The inlier set is chosen afresh at each step until the step is below 100× the stopping
///    tolerances (0.01 mm and 1e-4 rad with the defaults), then frozen, so that a point at the
///    band's edge cannot make the fit flip between two inlier sets forever.
///
/// Fewer than `minimumInliers` (default 6, the number of unknowns; at least 6) inliers at any step is
/// an error that says how many of how many points were within what distance.
///
/// ### Degeneracy
/// A surface patch that is symmetric under some motion (a sphere under rotation about its centre,
/// a plane under sliding, a cylinder under rotation about its axis) leaves that motion
/// unconstrained. It is detected at every step from the eigenvalues of M: an eigenvalue below
/// `minimumConditioning` (default 1e-3) × the largest marks a weak direction. Measured ratios:
/// the fsaverage scalp with points above z = −20 mm 0.011–0.012; the head-like test surface
/// 0.013–0.016; a bare 75/95/85 mm ellipsoid 0.003; the upper half of a 90 mm sphere tessellated
/// into 5120 triangles 0.0003 (its facets are all that constrain the rotation); a plane 0. With
/// `DegeneracyPolicy.fail` (the default) this throws `SurfaceRefinementError.degenerateGeometry`.
/// With `.refineConstrainedDirections` the step is solved only in the well-constrained
/// eigen-directions (a truncated eigen-solve; the weak combinations of rotation and translation
/// keep their current values) and a warning is added.
///
/// ### Stopping rules
/// Stop after the step in which either
/// - the update is below both `translationToleranceMM` (default 1e-3 mm, the centroid's
///   displacement) and `rotationToleranceRadians` (default 1e-5 rad, 0.0006°: both far below the noise floor of a digitised scalp), or
/// - the inlier set did not change and the inliers' RMS point-to-plane distance changed by less
///   than `relativeRMSTolerance` (default 1e-6) of its previous value,
///
/// or after `maxIterations` steps (default 50), which leaves `converged == false` and adds a
/// warning.
///
/// ### Predicted error
/// From the final inliers' scatter about the surface, σ̂² = Σ sᵢ²/(N − 6), the first-order
/// covariance of the fit is Cov(x) = σ̂²/N · M⁻¹. It gives `predictedRotationErrorDegrees`,
/// `predictedTranslationErrorMM` (at the inliers' centroid) and each fiducial's and target's
/// `PointShift.predictedErrorMM`: the error that the points' noise alone leaves in the refined
/// registration (not errors of the mesh itself, nor systematic offsets such as hair). With 1000
/// points and 0.5 mm noise per axis it is ≈ 0.18° on the fsaverage scalp (observed RMS 0.16° over 8
/// trials), so a 0.2° tolerance is at the noise floor for such data. A predicted rotation error above
/// `predictedRotationWarningDegrees` (default 1°) adds a warning.
///
/// ### Reported numbers
/// After the last step the correspondences are recomputed once for the final transform. RMS
/// values before and after are over the same final inliers (Euclidean distances to the mesh).
/// Fiducial and target shifts above `shiftWarningMM` (default 3 mm: larger than the
/// fiducial registration's expected error at the target, and InVesalius' 3 mm FRE alarm) add a
/// warning, as does an inlier fraction below `lowInlierFractionWarning` (default 0.5). Points are
/// queried in Z-order (`MeshIndex.spatiallyCoherentOrder`), about twice as fast as random order.
public enum SurfaceRefinement {
    /// What to do when the points leave some motion unconstrained (see `SurfaceRefinement`).
    public enum DegeneracyPolicy: Sendable, Equatable {
        /// Throw `SurfaceRefinementError.degenerateGeometry`.
        case fail
        /// Solve only the well-constrained directions and add a warning.
        case refineConstrainedDirections
    }

    /// Tuning of the refinement. Defaults are those documented on `SurfaceRefinement`.
    public struct Options: Sendable, Equatable {
        /// Points farther than this from the mesh (mm) are not matched.
        public var maxCorrespondenceDistanceMM: Double
        /// Half-width of the robust band in robust standard deviations (1.4826·MAD).
        public var robustBandSigmas: Double
        /// Smallest half-width of the robust band (mm).
        public var robustBandFloorMM: Double
        /// Fewest inliers accepted at any step (≥ 6).
        public var minimumInliers: Int
        /// Most linearised steps.
        public var maxIterations: Int
        /// Stop when the step's translation is below this (mm) and its rotation below `rotationToleranceRadians`.
        public var translationToleranceMM: Double
        /// Stop when the step's rotation is below this (rad) and its translation below `translationToleranceMM`.
        public var rotationToleranceRadians: Double
        /// Stop when the inlier set is unchanged and the RMS changed by less than this fraction.
        public var relativeRMSTolerance: Double
        /// Eigenvalue ratio (smallest/largest) below which a direction counts as unconstrained.
        public var minimumConditioning: Double
        /// What to do with unconstrained directions.
        public var degeneracyPolicy: DegeneracyPolicy
        /// Shifts of fiducials and targets above this (mm) add a warning.
        public var shiftWarningMM: Double
        /// An inlier fraction below this adds a warning.
        public var lowInlierFractionWarning: Double
        /// A predicted RMS rotation error above this (degrees) adds a warning.
        public var predictedRotationWarningDegrees: Double

        public init(
            maxCorrespondenceDistanceMM: Double = 10, robustBandSigmas: Double = 3, robustBandFloorMM: Double = 1,
            minimumInliers: Int = 6, maxIterations: Int = 50, translationToleranceMM: Double = 1e-3,
            rotationToleranceRadians: Double = 1e-5, relativeRMSTolerance: Double = 1e-6, minimumConditioning: Double = 1e-3,
            degeneracyPolicy: DegeneracyPolicy = .fail, shiftWarningMM: Double = 3, lowInlierFractionWarning: Double = 0.5,
            predictedRotationWarningDegrees: Double = 1
        ) {
            self.maxCorrespondenceDistanceMM = maxCorrespondenceDistanceMM
            self.robustBandSigmas = robustBandSigmas
            self.robustBandFloorMM = robustBandFloorMM
            self.minimumInliers = minimumInliers
            self.maxIterations = maxIterations
            self.translationToleranceMM = translationToleranceMM
            self.rotationToleranceRadians = rotationToleranceRadians
            self.relativeRMSTolerance = relativeRMSTolerance
            self.minimumConditioning = minimumConditioning
            self.degeneracyPolicy = degeneracyPolicy
            self.shiftWarningMM = shiftWarningMM
            self.lowInlierFractionWarning = lowInlierFractionWarning
            self.predictedRotationWarningDegrees = predictedRotationWarningDegrees
        }

        func validate() throws(SurfaceRefinementError) {
            if !(self.maxCorrespondenceDistanceMM > 0) { throw .invalidOption("maxCorrespondenceDistanceMM must be > 0") }
            if !(self.robustBandSigmas > 0) { throw .invalidOption("robustBandSigmas must be > 0") }
            if !(self.robustBandFloorMM >= 0 && self.robustBandFloorMM.isFinite) {
                throw .invalidOption("robustBandFloorMM must be a finite number ≥ 0")
            }
            if self.minimumInliers < 6 { throw .invalidOption("minimumInliers must be at least 6 (six unknowns)") }
            if self.maxIterations < 1 { throw .invalidOption("maxIterations must be at least 1") }
            if !(self.translationToleranceMM >= 0 && self.rotationToleranceRadians >= 0 && self.relativeRMSTolerance >= 0) {
                throw .invalidOption("tolerances must be ≥ 0")
            }
            if !(self.minimumConditioning >= 0 && self.minimumConditioning < 1) {
                throw .invalidOption("minimumConditioning must be in [0, 1)")
            }
            if !(self.shiftWarningMM >= 0) { throw .invalidOption("shiftWarningMM must be ≥ 0") }
            if !(self.lowInlierFractionWarning >= 0 && self.lowInlierFractionWarning <= 1) {
                throw .invalidOption("lowInlierFractionWarning must be in [0, 1]")
            }
            if !(self.predictedRotationWarningDegrees >= 0) {
                throw .invalidOption("predictedRotationWarningDegrees must be ≥ 0")
            }
        }
    }

    /// Refines `initialHeadToMRI` by point-to-plane ICP (see `SurfaceRefinement` for the method,
    /// thresholds and stopping rules).
    ///
    /// - Parameters:
    ///   - initialHeadToMRI: the starting registration (normally the fiducial fit), head → MRI.
    ///   - headSurfacePoints: digitised scalp points in head space (mm).
    ///   - index: a `MeshIndex` over the MRI scalp mesh (MRI mm, outward-wound), built once per MRI.
    ///   - fiducialsInHead: fiducials in head space, only to report how far the refinement moves them.
    ///   - targetsInMRI: targets in MRI space, only to report how far the refinement moves them.
    ///   - options: thresholds; the defaults suit a scalp digitised with a tracked pointer.
    /// - Throws: `SurfaceRefinementError` for too few or non-finite inputs, too few inliers, a
    ///   degenerate geometry (with `.fail`), or invalid options.
    public static func refine(
        initialHeadToMRI: RigidTransform, headSurfacePoints: [Vector3], mesh index: MeshIndex,
        fiducialsInHead: [LabeledPoint] = [], targetsInMRI: [LabeledPoint] = [], options: Options = Options()
    ) throws(SurfaceRefinementError) -> SurfaceRefinementResult {
        try options.validate()
        guard initialHeadToMRI.isFinite else { throw .nonFiniteTransform }
        for (i, p) in headSurfacePoints.enumerated() where !p.isFinite { throw .nonFinitePoint(index: i) }
        for f in fiducialsInHead + targetsInMRI where !f.position.isFinite { throw .nonFiniteLabeledPoint(label: f.label) }
        let n = headSurfacePoints.count
        guard n >= options.minimumInliers else { throw .tooFewPoints(count: n, required: options.minimumInliers) }

        // Queries in Z-order are about twice as fast as in random order (caches); results do not depend on it.
        let order = MeshIndex.spatiallyCoherentOrder(headSurfacePoints)
        var transform = initialHeadToMRI
        var hints = [Int?](repeating: nil, count: n)
        var frozen: [Bool]? = nil
        var previousInliers: [Bool] = []
        var previousRMS = Double.nan
        var converged = false
        var iterations = 0
        var conditioning = 1.0
        var warnedDegenerate = false
        var warnings: [String] = []
        // Distances at the initial transform (first step), reused for `rmsBeforeMM`.
        var initialHits: [MeshHit?] = []

        for iteration in 1...options.maxIterations {
            let c = Self.correspondences(
                transform: transform, points: headSurfacePoints, order: order, index: index, options: options, hints: &hints, frozen: frozen)
            if iteration == 1 { initialHits = c.hits }
            guard c.inlierCount >= options.minimumInliers else {
                throw .tooFewInliers(
                    inliers: c.inlierCount, points: n, required: options.minimumInliers,
                    maxDistanceMM: options.maxCorrespondenceDistanceMM, iteration: iteration)
            }
            let rms = c.planeRMS

            let equations = Self.normalEquations(c)
            let eigen = equations.eigen
            let (centre, scale, g) = (equations.centre, equations.scale, equations.g)
            let largest = Swift.max(eigen.values[0], 1e-300)
            conditioning = Swift.max(eigen.values[5], 0) / largest
            var weak: [Int] = []
            for k in 0..<6 where !(eigen.values[k] >= options.minimumConditioning * largest) { weak.append(k) }
            if !weak.isEmpty {
                let motions = weak.map { Self.describe(eigenvector: eigen.vectors[$0]) }
                switch options.degeneracyPolicy {
                case .fail:
                    throw .degenerateGeometry(
                        weakDirections: weak.count, conditioning: conditioning, threshold: options.minimumConditioning,
                        motions: motions)
                case .refineConstrainedDirections:
                    if !warnedDegenerate {
                        warnedDegenerate = true
                        warnings.append(
                            "the points leave \(weak.count) of 6 degrees of freedom unconstrained (eigenvalue ratio "
                                + "\(conditioning)): \(motions.joined(separator: "; ")); only the others were refined")
                    }
                }
            }
            // Truncated eigen-solve of M x = g over the well-constrained directions.
            var x = [Double](repeating: 0, count: 6)
            for k in 0..<6 where !weak.contains(k) {
                let v = eigen.vectors[k]
                var dot = 0.0
                for j in 0..<6 { dot += v[j] * g[j] }
                let coefficient = dot / eigen.values[k]
                for j in 0..<6 { x[j] += coefficient * v[j] }
            }
            let omega = Vector3(x[0], x[1], x[2]) / scale
            let step = Vector3(x[3], x[4], x[5])
            let rotation = Quaternion(rotationVector: omega).rotationMatrix
            let delta = RigidTransform(rotation: rotation, translation: centre - rotation * centre + step)
            transform = delta * transform
            iterations = iteration

            let small = step.length < options.translationToleranceMM && omega.length < options.rotationToleranceRadians
            let sameSet = c.inlier == previousInliers
            let flat =
                sameSet && previousRMS.isFinite
                && Swift.abs(rms - previousRMS) <= options.relativeRMSTolerance * previousRMS
            if small || flat {
                converged = true
                break
            }
            if frozen == nil && step.length < 100 * options.translationToleranceMM
                && omega.length < 100 * options.rotationToleranceRadians
            {
                frozen = c.inlier
            }
            previousInliers = c.inlier
            previousRMS = rms
        }

        // Final correspondences and statistics.
        let final = Self.correspondences(
            transform: transform, points: headSurfacePoints, order: order, index: index, options: options, hints: &hints, frozen: frozen)
        guard final.inlierCount >= options.minimumInliers else {
            throw .tooFewInliers(
                inliers: final.inlierCount, points: n, required: options.minimumInliers,
                maxDistanceMM: options.maxCorrespondenceDistanceMM, iteration: iterations + 1)
        }
        var sumBefore = 0.0, sumAfter = 0.0
        for i in order where final.inlier[i] {
            sumAfter += final.hits[i]!.distanceMM * final.hits[i]!.distanceMM
            let before =
                initialHits[i]
                ?? index.closestPoint(to: initialHeadToMRI.apply(to: headSurfacePoints[i]), hint: final.hits[i]!.triangle)
            let d = before?.distanceMM ?? .infinity
            sumBefore += d * d
        }
        let rmsBefore = (sumBefore / Double(final.inlierCount)).squareRoot()
        let rmsAfter = (sumAfter / Double(final.inlierCount)).squareRoot()

        // Noise-driven uncertainty of the final fit: Cov(x) = σ̂²/N · M⁻¹ with σ̂² = Σ sᵢ² / (N − 6).
        let finalEquations = Self.normalEquations(final)
        let sigma2 = final.planeRMS * final.planeRMS * Double(final.inlierCount) / Double(Swift.max(final.inlierCount - 6, 1))
        let uncertainty = Uncertainty(
            equations: finalEquations, noiseVariance: sigma2, count: final.inlierCount,
            minimumConditioning: options.minimumConditioning)

        let fiducialShifts = fiducialsInHead.map { f in
            let mapped = transform.apply(to: f.position)
            return PointShift(
                label: f.label, shiftMM: (mapped - initialHeadToMRI.apply(to: f.position)).length,
                predictedErrorMM: uncertainty.rmsError(at: mapped))
        }
        let correction = transform * initialHeadToMRI.inverse
        let targetShifts = targetsInMRI.map { t in
            let mapped = correction.apply(to: t.position)
            return PointShift(
                label: t.label, shiftMM: (mapped - t.position).length, predictedErrorMM: uncertainty.rmsError(at: mapped))
        }

        if !converged {
            warnings.append("surface refinement did not converge in \(options.maxIterations) steps")
        }
        let fraction = Double(final.inlierCount) / Double(n)
        if fraction < options.lowInlierFractionWarning {
            warnings.append(
                "only \(final.inlierCount) of \(n) points (\(Int((fraction * 100).rounded())) %) were used; the others were "
                    + "farther than \(options.maxCorrespondenceDistanceMM) mm from the scalp or outside the robust band")
        }
        if uncertainty.rotationDegrees > options.predictedRotationWarningDegrees && !warnedDegenerate {
            warnings.append(
                "the surface fit leaves the rotation poorly determined: predicted RMS error "
                    + "\(Self.format(uncertainty.rotationDegrees))° (more than \(Self.format(options.predictedRotationWarningDegrees))°); "
                    + "digitise more points over a wider part of the head")
        }
        for s in fiducialShifts where s.shiftMM > options.shiftWarningMM {
            warnings.append("the refinement moved fiducial \(s.label) by \(Self.format(s.shiftMM)) mm (more than \(Self.format(options.shiftWarningMM)) mm)")
        }
        for s in targetShifts where s.shiftMM > options.shiftWarningMM {
            warnings.append("the refinement moved target \(s.label) by \(Self.format(s.shiftMM)) mm (more than \(Self.format(options.shiftWarningMM)) mm)")
        }

        return SurfaceRefinementResult(
            headToMRI: transform, rmsBeforeMM: rmsBefore, rmsAfterMM: rmsAfter, iterations: iterations,
            inliers: final.inlierCount, outliers: n - final.inlierCount, converged: converged, isInlier: final.inlier,
            fiducialShifts: fiducialShifts, targetShifts: targetShifts, conditioning: conditioning,
            predictedRotationErrorDegrees: uncertainty.rotationDegrees, predictedTranslationErrorMM: uncertainty.rmsError(at: finalEquations.centre),
            warnings: warnings)
    }

    /// The linearised least-squares problem of one step: M x = g with x = (L·ω, t), about `centre`.
    private struct NormalEquations {
        var centre: Vector3
        /// L, the inliers' RMS distance from `centre` (mm).
        var scale: Double
        /// M, 6×6 row-major, per point.
        var m: [Double]
        /// g, per point.
        var g: [Double]
        var eigen: SymmetricEigen
    }

    /// Normal equations about the inliers' centroid, the rotation scaled by their RMS radius.
    private static func normalEquations(_ c: Correspondences) -> NormalEquations {
        let n = c.mapped.count
        var centre = Vector3.zero
        for i in 0..<n where c.inlier[i] { centre += c.mapped[i] }
        centre /= Double(c.inlierCount)
        var radius2 = 0.0
        for i in 0..<n where c.inlier[i] { radius2 += (c.mapped[i] - centre).lengthSquared }
        let scale = Swift.max((radius2 / Double(c.inlierCount)).squareRoot(), 1e-6)
        // M = (1/N) Σ aᵢaᵢᵀ and g = (1/N) Σ aᵢbᵢ with aᵢ = (rᵢ, nᵢ), accumulated by 3×3 blocks.
        var mRR = Matrix3.zero, mRN = Matrix3.zero, mNN = Matrix3.zero
        var gR = Vector3.zero, gN = Vector3.zero
        for i in 0..<n where c.inlier[i] {
            let hit = c.hits[i]!
            let nrm = hit.normal
            let r = (c.mapped[i] - centre).cross(nrm) / scale
            let b = (hit.point - c.mapped[i]).dot(nrm)
            mRR += Matrix3.outer(r, r)
            mRN += Matrix3.outer(r, nrm)
            mNN += Matrix3.outer(nrm, nrm)
            gR += r * b
            gN += nrm * b
        }
        let inverseCount = 1 / Double(c.inlierCount)
        var m = [Double](repeating: 0, count: 36)
        for j in 0..<3 {
            for k in 0..<3 {
                m[j * 6 + k] = mRR[j, k] * inverseCount
                m[j * 6 + k + 3] = mRN[j, k] * inverseCount
                m[(k + 3) * 6 + j] = mRN[j, k] * inverseCount
                m[(j + 3) * 6 + k + 3] = mNN[j, k] * inverseCount
            }
        }
        let g = [gR.x, gR.y, gR.z, gN.x, gN.y, gN.z].map { $0 * inverseCount }
        return NormalEquations(centre: centre, scale: scale, m: m, g: g, eigen: SymmetricEigen(symmetric: m, n: 6))
    }

    /// First-order covariance of the fitted motion, Cov(x) = σ²/N · M⁻¹, and the RMS errors it implies.
    private struct Uncertainty {
        /// Covariance of x = (L·ω, t), 6×6 row-major; nil when a direction is unconstrained.
        var covariance: [Double]?
        var centre: Vector3
        var scale: Double

        init(equations e: NormalEquations, noiseVariance: Double, count: Int, minimumConditioning: Double) {
            self.centre = e.centre
            self.scale = e.scale
            let largest = Swift.max(e.eigen.values[0], 1e-300)
            guard e.eigen.values.allSatisfy({ $0 >= minimumConditioning * largest && $0 > 0 }) else {
                self.covariance = nil
                return
            }
            var cov = [Double](repeating: 0, count: 36)
            for k in 0..<6 {
                let v = e.eigen.vectors[k]
                let w = noiseVariance / (Double(count) * e.eigen.values[k])
                for i in 0..<6 {
                    for j in 0..<6 { cov[i * 6 + j] += w * v[i] * v[j] }
                }
            }
            self.covariance = cov
        }

        /// RMS rotation error (root of the trace of the rotation-vector covariance), degrees.
        var rotationDegrees: Double {
            guard let c = self.covariance else { return .infinity }
            return degrees(fromRadians: (c[0] + c[7] + c[14]).squareRoot() / self.scale)
        }

        /// RMS 3-D error at a point (MRI mm): the displacement there is J x with
        /// J = [−[(X − centre)/L]×, I].
        func rmsError(at point: Vector3) -> Double {
            guard let c = self.covariance else { return .infinity }
            let d = (point - self.centre) / self.scale
            // Rows of J (3×6): displacement = (Lω) × d + t.
            let j: [[Double]] = [
                [0, d.z, -d.y, 1, 0, 0],
                [-d.z, 0, d.x, 0, 1, 0],
                [d.y, -d.x, 0, 0, 0, 1],
            ]
            var trace = 0.0
            for row in j {
                for a in 0..<6 {
                    for b in 0..<6 { trace += row[a] * c[a * 6 + b] * row[b] }
                }
            }
            return Swift.max(trace, 0).squareRoot()
        }
    }

    /// Correspondences for one step.
    private struct Correspondences {
        var mapped: [Vector3]
        var hits: [MeshHit?]
        var inlier: [Bool]
        var inlierCount: Int
        /// RMS of the inliers' signed point-to-plane distances.
        var planeRMS: Double
    }

    /// Maps the points, finds their closest points and selects the inliers (distance cut, then the
    /// robust band, or the frozen set when given).
    private static func correspondences(
        transform: RigidTransform, points: [Vector3], order: [Int], index: MeshIndex, options: Options, hints: inout [Int?],
        frozen: [Bool]?
    ) -> Correspondences {
        let n = points.count
        var mapped = [Vector3](repeating: .zero, count: n)
        var hits = [MeshHit?](repeating: nil, count: n)
        var signed = [Double](repeating: 0, count: n)
        var candidate = [Bool](repeating: false, count: n)
        var candidates: [Double] = []
        candidates.reserveCapacity(n)
        for i in order {
            let y = transform.apply(to: points[i])
            mapped[i] = y
            if let frozen, !frozen[i] { continue }
            guard let hit = index.closestPoint(to: y, maxDistance: options.maxCorrespondenceDistanceMM, hint: hints[i]),
                hit.normal != .zero
            else { continue }
            hints[i] = hit.triangle
            hits[i] = hit
            signed[i] = (y - hit.point).dot(hit.normal)
            candidate[i] = true
            candidates.append(signed[i])
        }
        var inlier = candidate
        if frozen == nil && !candidates.isEmpty {
            let median = Self.median(&candidates)
            var deviations = candidates.map { Swift.abs($0 - median) }
            let mad = Self.median(&deviations)
            let halfWidth = Swift.max(options.robustBandSigmas * 1.4826 * mad, options.robustBandFloorMM)
            for i in 0..<n where candidate[i] && Swift.abs(signed[i] - median) > halfWidth { inlier[i] = false }
        }
        var count = 0
        var sum = 0.0
        for i in 0..<n where inlier[i] {
            count += 1
            sum += signed[i] * signed[i]
        }
        return Correspondences(
            mapped: mapped, hits: hits, inlier: inlier, inlierCount: count, planeRMS: count > 0 ? (sum / Double(count)).squareRoot() : 0)
    }

    /// Median of a non-empty array (reorders it).
    private static func median(_ values: inout [Double]) -> Double {
        values.sort()
        let c = values.count
        return c % 2 == 1 ? values[c / 2] : (values[c / 2 - 1] + values[c / 2]) / 2
    }

    /// Describes an eigenvector of the scaled normal matrix as the motion it stands for.
    private static func describe(eigenvector v: [Double]) -> String {
        let rotation = Vector3(v[0], v[1], v[2]), translation = Vector3(v[3], v[4], v[5])
        func axis(_ a: Vector3) -> String {
            let u = a.normalized
            return "(\(Self.format(u.x, digits: 2)), \(Self.format(u.y, digits: 2)), \(Self.format(u.z, digits: 2)))"
        }
        if rotation.length >= translation.length {
            return "mostly rotation about \(axis(rotation)) (rotation share \(Self.format(rotation.lengthSquared * 100, digits: 0)) %)"
        }
        return "mostly translation along \(axis(translation)) (translation share \(Self.format(translation.lengthSquared * 100, digits: 0)) %)"
    }

    /// Fixed-point formatting without Foundation.
    static func format(_ x: Double, digits: Int = 2) -> String {
        guard x.isFinite else { return "\(x)" }
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        let r = (Swift.abs(x) * p).rounded()
        let whole = Int(r / p)
        let frac = Int(r - Double(whole) * p)
        let sign = x < 0 && r > 0 ? "-" : ""
        if digits == 0 { return "\(sign)\(whole)" }
        let fracText = String(frac)
        return "\(sign)\(whole).\(String(repeating: "0", count: digits - fracText.count))\(fracText)"
    }
}
