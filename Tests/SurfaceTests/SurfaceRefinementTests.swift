import Geometry
import Registration
import Testing

/// A synthetic digitisation: points sampled on the MRI mesh (upper part), noise added, expressed in
/// head space through a known `truth` (head → MRI), and a fiducial-like start `initial` that is
/// off by a rotation of `startDegrees` about a random axis through the MRI origin (the ellipsoid's
/// centre) followed by a translation of `startMM`.
private struct Scenario {
    var truth: RigidTransform
    var initial: RigidTransform
    var headPoints: [Vector3]
    var mriSurfacePoints: [Vector3]
    var mriNormals: [Vector3]

    init(
        mesh: TriangleMesh, seed: UInt64, count: Int = 1000, noiseMM: Double = 0.5, startDegrees: Double = 8,
        startMM: Double = 6, keep: (Vector3) -> Bool = { $0.z > -20 }
    ) {
        var rng = SplitMix64(seed: seed)
        // Head origin near the MRI origin, so the transforms' translation difference is the error at
        // the centre of the head.
        self.truth = RigidTransform(
            rotation: rng.nextRotation(angleRadians: radians(fromDegrees: 20)), translation: rng.nextGaussianVector(sigma: 4))
        let samples = TestMeshes.samplePoints(on: mesh, count: count, rng: &rng, keep: keep)
        self.mriSurfacePoints = samples.map(\.point)
        self.mriNormals = samples.map(\.normal)
        let headToMRI = self.truth
        self.headPoints = samples.map { headToMRI.inverse.apply(to: $0.point + rng.nextGaussianVector(sigma: noiseMM)) }
        let offset = rng.nextGaussianVector(sigma: 1).normalized * startMM
        let perturbation = RigidTransform(
            rotation: rng.nextRotation(angleRadians: radians(fromDegrees: startDegrees)), translation: offset)
        self.initial = perturbation * self.truth
    }

    /// Rotation error (degrees) and error at the head's centre (mm) of a result.
    func errors(of transform: RigidTransform) -> (degrees: Double, mm: Double) {
        let d = self.truth.difference(to: transform)
        return (degrees(fromRadians: d.rotationRadians), d.translationMM)
    }
}

@Suite("Surface refinement (point-to-plane ICP)")
struct SurfaceRefinementTests {
    static let head = TestMeshes.headLikeEllipsoid()
    static let headIndex = try! MeshIndex(mesh: head)

    @Test(
        "1000 points with 0.5 mm RMS noise from a start 8° and 6 mm off are refined to within 0.2° and 0.2 mm",
        arguments: [11, 12, 13, 14] as [UInt64])
    func recoversTheTruth(seed: UInt64) throws {
        // 0.5 mm RMS 3-D localisation error (the way FLE is usually quoted): 0.29 mm per axis.
        let s = Scenario(mesh: Self.head, seed: seed, noiseMM: 0.5 / 3.0.squareRoot())
        let start = s.errors(of: s.initial)
        #expect(abs(start.degrees - 8) < 1e-9)
        let result = try SurfaceRefinement.refine(
            initialHeadToMRI: s.initial, headSurfacePoints: s.headPoints, mesh: Self.headIndex)
        let e = s.errors(of: result.headToMRI)
        #expect(e.degrees <= 0.2, "rotation error \(e.degrees)° (predicted RMS \(result.predictedRotationErrorDegrees)°)")
        #expect(e.mm <= 0.2, "translation error \(e.mm) mm")
        #expect(result.converged)
        #expect(result.iterations <= 25)
        #expect(result.inliers + result.outliers == 1000)
        #expect(result.inliers >= 985, "a 3-sigma band should keep nearly all Gaussian points (\(result.inliers))")
        #expect(result.isInlier.filter { $0 }.count == result.inliers)
        // The RMS distance after is the noise's normal component (0.29 mm), far below before.
        #expect(result.rmsAfterMM > 0.25 && result.rmsAfterMM < 0.33, "rms after \(result.rmsAfterMM)")
        #expect(result.rmsBeforeMM > 8 * result.rmsAfterMM, "rms before \(result.rmsBeforeMM)")
        #expect(result.conditioning > 5e-3)
        #expect(result.predictedRotationErrorDegrees < 0.15)
        #expect(result.warnings.isEmpty, "\(result.warnings)")
    }

    @Test(
        "with 0.5 mm noise per axis the error is within 2.5 times the predicted RMS error, which is itself about 0.17°",
        arguments: [15, 16, 17, 18] as [UInt64])
    func errorMatchesPrediction(seed: UInt64) throws {
        let s = Scenario(mesh: Self.head, seed: seed, noiseMM: 0.5)
        let result = try SurfaceRefinement.refine(
            initialHeadToMRI: s.initial, headSurfacePoints: s.headPoints, mesh: Self.headIndex)
        let e = s.errors(of: result.headToMRI)
        let predicted = result.predictedRotationErrorDegrees
        #expect(predicted > 0.1 && predicted < 0.25, "predicted \(predicted)°")
        // For a 3-D Gaussian error, P(|ω| > 2.5 × RMS) ≈ 1e-4.
        #expect(e.degrees <= 2.5 * predicted, "rotation error \(e.degrees)°, predicted RMS \(predicted)°")
        // The same at the points' centroid (where the translation error is smallest).
        let centroidInHead = centroid(of: s.headPoints)
        let errorAtCentroid = (result.headToMRI.apply(to: centroidInHead) - s.truth.apply(to: centroidInHead)).length
        let predictedAtCentroid = result.predictedTranslationErrorMM
        #expect(predictedAtCentroid > 0.03 && predictedAtCentroid < 0.15, "predicted at centroid \(predictedAtCentroid) mm")
        #expect(errorAtCentroid <= 2.5 * predictedAtCentroid, "error at centroid \(errorAtCentroid) mm")
        #expect(result.converged)
    }

    @Test("exact points from a start 8° and 6 mm off are fitted exactly")
    func noiseFreeDataIsFittedExactly() throws {
        let s = Scenario(mesh: Self.head, seed: 5, count: 400, noiseMM: 0)
        let result = try SurfaceRefinement.refine(
            initialHeadToMRI: s.initial, headSurfacePoints: s.headPoints, mesh: Self.headIndex)
        let e = s.errors(of: result.headToMRI)
        #expect(e.degrees <= 1e-4 && e.mm <= 1e-4, "errors \(e)")
        #expect(result.rmsAfterMM <= 1e-5)
        #expect(result.outliers == 0)
        #expect(result.converged)
    }

    @Test("starting at the truth with exact points: converged at once, nothing rejected, nothing moved")
    func startingAtTheTruth() throws {
        let s = Scenario(mesh: Self.head, seed: 6, count: 300, noiseMM: 0)
        let nasion = LabeledPoint(label: "NAS", position: s.truth.inverse.apply(to: Vector3(0, 95, -10)))
        let target = LabeledPoint(label: "DLPFC", position: Vector3(-38, 44, 26))
        let result = try SurfaceRefinement.refine(
            initialHeadToMRI: s.truth, headSurfacePoints: s.headPoints, mesh: Self.headIndex, fiducialsInHead: [nasion],
            targetsInMRI: [target])
        #expect(result.iterations <= 2)
        #expect(result.converged && result.outliers == 0)
        #expect(result.rmsBeforeMM <= 1e-9 && result.rmsAfterMM <= 1e-9)
        #expect(result.fiducialShifts.count == 1 && result.fiducialShifts[0].label == "NAS")
        #expect(result.fiducialShifts[0].shiftMM <= 1e-6 && result.targetShifts[0].shiftMM <= 1e-6)
        #expect(result.warnings.isEmpty)
    }

    @Test("gross outliers (5 % 15 mm off) and moderate ones (3 % 4 mm off) are rejected")
    func rejectsOutliers() throws {
        var s = Scenario(mesh: Self.head, seed: 21)
        var rng = SplitMix64(seed: 99)
        var planted: Set<Int> = []
        for k in 0..<80 {
            let i = (k * 12 + Int(rng.nextUnitDouble() * 12)) % 1000
            planted.insert(i)
            let distance = k < 50 ? 15.0 : 4.0
            let moved = s.mriSurfacePoints[i] + s.mriNormals[i] * distance + rng.nextGaussianVector(sigma: 0.5)
            s.headPoints[i] = s.truth.inverse.apply(to: moved)
        }
        let result = try SurfaceRefinement.refine(
            initialHeadToMRI: s.initial, headSurfacePoints: s.headPoints, mesh: Self.headIndex)
        let e = s.errors(of: result.headToMRI)
        #expect(e.degrees <= 0.2 && e.mm <= 0.2, "errors \(e)")
        let keptOutliers = planted.filter { result.isInlier[$0] }
        #expect(keptOutliers.isEmpty, "outliers kept: \(keptOutliers.sorted())")
        let lostGood = (0..<1000).filter { !planted.contains($0) && !result.isInlier[$0] }.count
        #expect(lostGood <= 15, "good points rejected: \(lostGood)")
        #expect(result.outliers == planted.count + lostGood)
    }

    @Test("fiducial and target shifts are the refinement's displacements, and large ones are warned about")
    func shiftsAndWarnings() throws {
        let s = Scenario(mesh: Self.head, seed: 31)
        let mriFiducials = [("NAS", Vector3(0, 94, -5)), ("LPA", Vector3(-74, 0, -10)), ("RPA", Vector3(74, 0, -10))]
        let fiducials = mriFiducials.map { LabeledPoint(label: $0.0, position: s.truth.inverse.apply(to: $0.1)) }
        let targets = [LabeledPoint(label: "F3", position: Vector3(-40, 40, 55))]
        let result = try SurfaceRefinement.refine(
            initialHeadToMRI: s.initial, headSurfacePoints: s.headPoints, mesh: Self.headIndex, fiducialsInHead: fiducials,
            targetsInMRI: targets)
        for (f, shift) in zip(fiducials, result.fiducialShifts) {
            let expected = (s.truth.apply(to: f.position) - s.initial.apply(to: f.position)).length
            #expect(shift.label == f.label)
            #expect(abs(shift.shiftMM - expected) <= 0.3, "\(f.label): \(shift.shiftMM) vs \(expected)")
            #expect(shift.shiftMM > 3)
            #expect(result.warnings.contains { $0.contains("fiducial \(f.label)") })
        }
        let t = targets[0].position
        let expectedTarget = (s.truth.apply(to: s.initial.inverse.apply(to: t)) - t).length
        #expect(abs(result.targetShifts[0].shiftMM - expectedTarget) <= 0.3)
        #expect(result.warnings.contains { $0.contains("target F3") })
        // A generous bound silences them.
        var options = SurfaceRefinement.Options()
        options.shiftWarningMM = 50
        let quiet = try SurfaceRefinement.refine(
            initialHeadToMRI: s.initial, headSurfacePoints: s.headPoints, mesh: Self.headIndex, fiducialsInHead: fiducials,
            targetsInMRI: targets, options: options)
        #expect(quiet.warnings.isEmpty, "\(quiet.warnings)")
    }

    @Test("points on a sphere leave the rotation unconstrained: reported as an error, or refined in the rest with a warning")
    func sphereIsDegenerate() throws {
        var sphere = TestMeshes.icosphere(subdivisions: 4)
        sphere.vertices = sphere.vertices.map { $0 * 90 }
        let index = try MeshIndex(mesh: sphere)
        let s = Scenario(mesh: sphere, seed: 41, count: 500, keep: { $0.z > 0 })
        do {
            _ = try SurfaceRefinement.refine(initialHeadToMRI: s.initial, headSurfacePoints: s.headPoints, mesh: index)
            Issue.record("a sphere should not constrain the rotation")
        } catch {
            guard case .degenerateGeometry(let weak, let conditioning, let threshold, let motions) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(weak == 3, "weak directions: \(motions)")
            #expect(conditioning < threshold)
            #expect(motions.allSatisfy { $0.contains("rotation") })
            #expect(error.description.contains("do not constrain 3 of the 6 degrees of freedom"))
        }
        var options = SurfaceRefinement.Options()
        options.degeneracyPolicy = .refineConstrainedDirections
        let result = try SurfaceRefinement.refine(
            initialHeadToMRI: s.initial, headSurfacePoints: s.headPoints, mesh: index, options: options)
        #expect(result.warnings.contains { $0.contains("unconstrained") })
        #expect(result.conditioning < 1e-3)
        // What the sphere does determine: where its centre goes.
        let centreInHead = s.truth.inverse.apply(to: .zero)
        #expect(result.headToMRI.apply(to: centreInHead).length <= 0.3)
        #expect(s.initial.apply(to: centreInHead).length > 3)
        #expect(result.rmsAfterMM < 0.6)
    }

    @Test("too few points, non-finite input and bad options are rejected with clear errors")
    func invalidInput() throws {
        let s = Scenario(mesh: Self.head, seed: 51, count: 50)
        #expect(throws: SurfaceRefinementError.tooFewPoints(count: 5, required: 6)) {
            try SurfaceRefinement.refine(
                initialHeadToMRI: s.initial, headSurfacePoints: Array(s.headPoints.prefix(5)), mesh: Self.headIndex)
        }
        var points = s.headPoints
        points[7] = Vector3(1, .nan, 0)
        #expect(throws: SurfaceRefinementError.nonFinitePoint(index: 7)) {
            try SurfaceRefinement.refine(initialHeadToMRI: s.initial, headSurfacePoints: points, mesh: Self.headIndex)
        }
        #expect(throws: SurfaceRefinementError.nonFiniteLabeledPoint(label: "LPA")) {
            try SurfaceRefinement.refine(
                initialHeadToMRI: s.initial, headSurfacePoints: s.headPoints, mesh: Self.headIndex,
                fiducialsInHead: [LabeledPoint(label: "LPA", position: Vector3(.infinity, 0, 0))])
        }
        var broken = s.initial
        broken.translation.x = .nan
        #expect(throws: SurfaceRefinementError.nonFiniteTransform) {
            try SurfaceRefinement.refine(initialHeadToMRI: broken, headSurfacePoints: s.headPoints, mesh: Self.headIndex)
        }
        var options = SurfaceRefinement.Options()
        options.minimumInliers = 3
        #expect(throws: SurfaceRefinementError.invalidOption("minimumInliers must be at least 6 (six unknowns)")) {
            try SurfaceRefinement.refine(
                initialHeadToMRI: s.initial, headSurfacePoints: s.headPoints, mesh: Self.headIndex, options: options)
        }
    }

    @Test("points far from the scalp give a too-few-inliers error that says how many of how many within what distance")
    func tooFewInliers() throws {
        let s = Scenario(mesh: Self.head, seed: 61, count: 100)
        // Every point 30 mm outside the surface.
        let far = zip(s.mriSurfacePoints, s.mriNormals).map { s.truth.inverse.apply(to: $0.0 + $0.1 * 30) }
        do {
            _ = try SurfaceRefinement.refine(initialHeadToMRI: s.truth, headSurfacePoints: far, mesh: Self.headIndex)
            Issue.record("expected too few inliers")
        } catch {
            #expect(error == .tooFewInliers(inliers: 0, points: 100, required: 6, maxDistanceMM: 10, iteration: 1))
            #expect(error.description.contains("only 0 of 100 digitised points lie within 10.0 mm"))
        }
    }

    @Test("stopping early and losing most points are reported as warnings")
    func warningsForNonConvergenceAndFewInliers() throws {
        let s = Scenario(mesh: Self.head, seed: 71, count: 300)
        var options = SurfaceRefinement.Options()
        options.maxIterations = 1
        let once = try SurfaceRefinement.refine(
            initialHeadToMRI: s.initial, headSurfacePoints: s.headPoints, mesh: Self.headIndex, options: options)
        #expect(!once.converged && once.iterations == 1)
        #expect(once.warnings.contains { $0.contains("did not converge in 1 steps") })
        // 60 % of the points far outside: the fit uses the rest and says so.
        var points = s.headPoints
        for i in 0..<180 { points[i] = s.truth.inverse.apply(to: s.mriSurfacePoints[i] + s.mriNormals[i] * 40) }
        let partial = try SurfaceRefinement.refine(initialHeadToMRI: s.initial, headSurfacePoints: points, mesh: Self.headIndex)
        #expect(partial.inliers <= 120 && partial.inliers >= 110)
        #expect(partial.warnings.contains { $0.contains("only \(partial.inliers) of 300 points") })
        // 40 points with 1.5 mm noise leave the rotation poorly determined (predicted ≈ 2.7°).
        let sparse = Scenario(mesh: Self.head, seed: 72, count: 40, noiseMM: 1.5)
        let poor = try SurfaceRefinement.refine(initialHeadToMRI: sparse.truth, headSurfacePoints: sparse.headPoints, mesh: Self.headIndex)
        #expect(poor.predictedRotationErrorDegrees > 1.5 && poor.predictedRotationErrorDegrees < 5, "\(poor.predictedRotationErrorDegrees)")
        #expect(poor.warnings.contains { $0.contains("poorly determined") }, "\(poor.warnings)")
    }
}
