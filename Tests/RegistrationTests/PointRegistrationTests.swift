import Geometry
import Registration
import Testing

@Suite("Paired-point registration: known answers and properties")
struct PointRegistrationTests {
    static let fiveLabels = ["NAS", "LPA", "RPA", "Cz", "Iz"]

    @Test("recovers a known rotation and translation to 1e-9")
    func recoversKnownTransform() throws {
        let mri = FSAverage.points(Self.fiveLabels)
        let head = headPoints(for: mri, headToMRI: knownHeadToMRI)
        let result = try PointRegistration.register(head: head, mri: mri)
        #expect(maxEntryDifference(result.headToMRI, knownHeadToMRI) < 1e-9)
        #expect(result.freMM < 1e-9)
        #expect(result.residuals.map(\.label) == Self.fiveLabels)
        #expect(result.residuals.allSatisfy { $0.residualMM < 1e-9 && $0.weight == 1 })
        #expect(abs(result.headToMRI.rotation.determinant - 1) < 1e-12)
        #expect(result.fiducialsInMRI == mri)
        #expect(result.unpairedLabels.isEmpty)
    }

    static let specialTransforms: [(String, RigidTransform)] = [
        ("identity", .identity),
        ("pure translation", .translation(Vector3(-250, 17.25, 1033))),
        ("180° about x", RigidTransform(rotation: Quaternion(q0: 0, qx: 1, qy: 0, qz: 0), translation: Vector3(5, 6, 7))),
        ("180° about y", RigidTransform(rotation: Quaternion(q0: 0, qx: 0, qy: 1, qz: 0), translation: .zero)),
        ("180° about z", RigidTransform(rotation: Quaternion(q0: 0, qx: 0, qy: 0, qz: 1), translation: Vector3(0, 0, -90))),
        ("180° about (1,1,1)", RigidTransform(rotation: Quaternion(axis: Vector3(1, 1, 1), angleRadians: .pi), translation: .zero)),
        ("179.999° about (0,3,4)", RigidTransform(rotation: Quaternion(axis: Vector3(0, 3, 4), angleRadians: radians(fromDegrees: 179.999)), translation: Vector3(1, 1, 1))),
        ("1e-7 rad about z", RigidTransform(rotation: Quaternion(axis: Vector3(0, 0, 1), angleRadians: 1e-7), translation: .zero)),
    ]

    @Test("special transforms are recovered to 1e-9", arguments: specialTransforms)
    func recoversSpecialTransforms(name: String, transform: RigidTransform) throws {
        for labels in [["NAS", "LPA", "RPA"], Self.fiveLabels] {
            let mri = FSAverage.points(labels)
            let head = headPoints(for: mri, headToMRI: transform)
            let result = try PointRegistration.register(head: head, mri: mri)
            #expect(maxEntryDifference(result.headToMRI, transform) < 1e-9, "\(name), \(labels.count) fiducials")
        }
    }

    @Test("labels match ignoring case, surrounding spaces and order; results follow the MRI order")
    func labelMatching() throws {
        let mri = FSAverage.points(Self.fiveLabels)
        var head = headPoints(for: mri, headToMRI: knownHeadToMRI)
        head = [head[3], head[0], head[4], head[2], head[1]]
        head[0].label = "  cz"
        head[1].label = "nas\t"
        head[3].label = " rPa "
        let result = try PointRegistration.register(head: head, mri: mri)
        #expect(maxEntryDifference(result.headToMRI, knownHeadToMRI) < 1e-9)
        #expect(result.residuals.map(\.label) == Self.fiveLabels)
    }

    @Test("intersection matching uses the common labels and lists the others")
    func intersectionMatching() throws {
        let mri = FSAverage.points(["NAS", "LPA", "RPA", "Cz"])
        var head = headPoints(for: FSAverage.points(["LPA", "NAS", "RPA", "Iz"]), headToMRI: knownHeadToMRI)
        head.append(LabeledPoint(label: "extra", position: Vector3(1, 2, 3)))
        let options = PointRegistration.Options(labelMatching: .intersection)
        let result = try PointRegistration.register(head: head, mri: mri, options: options)
        #expect(result.residuals.map(\.label) == ["NAS", "LPA", "RPA"])
        #expect(result.unpairedLabels == ["Iz", "extra", "Cz"])
        #expect(maxEntryDifference(result.headToMRI, knownHeadToMRI) < 1e-9)
    }

    @Test("residuals are mapped head minus MRI, in MRI space, and FRE is their RMS")
    func residualsAndFRE() throws {
        let mri = FSAverage.points(Self.fiveLabels)
        var head = headPoints(for: mri, headToMRI: knownHeadToMRI)
        let offsets = [Vector3(1, 0, 0), Vector3(0, -2, 0), Vector3(0, 0, 1.5), Vector3(-1, 1, 0), Vector3(0.5, 0.5, -0.5)]
        let mriToHead = knownHeadToMRI.inverse
        for i in head.indices { head[i].position += mriToHead.rotate(offsets[i]) }
        let result = try PointRegistration.register(head: head, mri: mri)
        var sumSquares = 0.0
        for (k, r) in result.residuals.enumerated() {
            let direct = result.headToMRI.apply(to: head[k].position) - mri[k].position
            #expect((direct - r.residualVectorMM).length < 1e-12)
            #expect(abs(r.residualMM - direct.length) < 1e-12)
            sumSquares += direct.lengthSquared
        }
        #expect(abs(result.freMM - (sumSquares / 5).squareRoot()) < 1e-12)
        // The fit is the least-squares optimum: small perturbations only make the FRE worse.
        for axis in [Vector3(1, 0, 0), Vector3(0, 1, 0), Vector3(0, 0, 1)] {
            for delta in [1e-4, -1e-4] {
                let nudged = [
                    RigidTransform(rotation: Quaternion(axis: axis, angleRadians: delta), translation: .zero) * result.headToMRI,
                    RigidTransform.translation(axis * delta * 100) * result.headToMRI,
                ]
                for t in nudged {
                    var s = 0.0
                    for k in 0..<5 { s += (t.apply(to: head[k].position) - mri[k].position).lengthSquared }
                    #expect((s / 5).squareRoot() > result.freMM)
                }
            }
        }
    }

    @Test("300 seeded random transforms and point sets (3–10 points) are recovered to 1e-9")
    func randomTransformsAreRecovered() throws {
        var rng = SplitMix64(seed: 0xC011_4A7)
        var worst = 0.0
        for trial in 0..<300 {
            let n = 3 + trial % 8
            let centre = rng.nextGaussianVector(sigma: 200)
            var mri: [LabeledPoint] = []
            for i in 0..<n { mri.append(LabeledPoint(label: "P\(i)", position: centre + rng.nextGaussianVector(sigma: 60))) }
            let truth = randomTransform(&rng)
            let head = headPoints(for: mri, headToMRI: truth).reversed()
            let result = try PointRegistration.register(head: Array(head), mri: mri)
            worst = max(worst, maxEntryDifference(result.headToMRI, truth))
            #expect(result.freMM < 1e-9)
        }
        #expect(worst < 1e-9, "worst entry error \(worst)")
    }

    @Test("random positive weights still recover exact data; weights act like repeated points")
    func weightsBehaveLikeRepeatedPoints() throws {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<200 {
            let n = 3 + Int(rng.next() % 5)
            var moving: [Vector3] = [], fixed: [Vector3] = [], weights: [Double] = []
            var repeatedMoving: [Vector3] = [], repeatedFixed: [Vector3] = []
            let truth = randomTransform(&rng)
            for _ in 0..<n {
                let p = rng.nextGaussianVector(sigma: 70)
                let q = truth.apply(to: p) + rng.nextGaussianVector(sigma: 3)  // noisy, so weights matter
                let k = 1 + Int(rng.next() % 4)
                moving.append(p)
                fixed.append(q)
                weights.append(Double(k))
                for _ in 0..<k {
                    repeatedMoving.append(p)
                    repeatedFixed.append(q)
                }
            }
            let weighted = PointRegistration.leastSquaresFit(moving: moving, fixed: fixed, weights: weights)
            let repeated = PointRegistration.leastSquaresFit(moving: repeatedMoving, fixed: repeatedFixed)
            #expect(maxEntryDifference(weighted.transform, repeated.transform) < 1e-9)
            #expect(abs(weighted.rmsError - repeated.rmsError) < 1e-6)
            let exact = PointRegistration.leastSquaresFit(
                moving: moving, fixed: moving.map { truth.apply(to: $0) }, weights: weights)
            #expect(maxEntryDifference(exact.transform, truth) < 1e-9)
        }
    }

    @Test("a zero weight leaves a fiducial out of the fit and the FRE but reports its residual")
    func zeroWeightExcludesFiducial() throws {
        let mri = FSAverage.points(Self.fiveLabels)
        var head = headPoints(for: mri, headToMRI: knownHeadToMRI)
        head[4].position += Vector3(0, 0, 25)  // Iz badly digitised
        let result = try PointRegistration.register(head: head, mri: mri, weights: ["iz": 0])
        #expect(maxEntryDifference(result.headToMRI, knownHeadToMRI) < 1e-9)
        #expect(result.freMM < 1e-9)
        #expect(abs(result.residuals[4].residualMM - 25) < 1e-9)
        #expect(result.residuals[4].weight == 0)
        #expect(result.weights == [1, 1, 1, 1, 0])
        // The same data unweighted is pulled off by the bad point.
        let unweighted = try PointRegistration.register(head: head, mri: mri)
        #expect(unweighted.freMM > 5)
    }

    @Test("weighted FRE is √(Σ wᵢ rᵢ² / Σ wᵢ)")
    func weightedFRE() throws {
        let mri = FSAverage.points(Self.fiveLabels)
        var head = headPoints(for: mri, headToMRI: knownHeadToMRI)
        head[1].position += Vector3(2, -1, 0.5)
        head[3].position += Vector3(-1, 0, 1)
        let weights: [String: Double] = ["NAS": 2, "LPA": 0.5, "RPA": 1, "Cz": 3, "Iz": 0.25]
        let result = try PointRegistration.register(head: head, mri: mri, weights: weights)
        let w = [2, 0.5, 1, 3, 0.25]
        #expect(result.weights == w)
        var s = 0.0
        for (r, wi) in zip(result.residuals, w) { s += wi * r.residualMM * r.residualMM }
        #expect(abs(result.freMM - (s / w.reduce(0, +)).squareRoot()) < 1e-12)
        #expect(result.freMM > 0.1)
    }

    @Test("rigid fit reports both the rotation and the mirror-image residual")
    func reflectionResidual() {
        // A tetrahedron and its exact mirror image: the reflection fits perfectly.
        let p = [Vector3(0, 0, 0), Vector3(50, 0, 0), Vector3(0, 60, 0), Vector3(0, 0, 70)]
        let mirrored = p.map { Vector3(-$0.x, $0.y, $0.z) }
        let fit = PointRegistration.leastSquaresFit(moving: p, fixed: mirrored)
        #expect(fit.reflectionRMSError < 1e-6)
        #expect(fit.rmsError > 10)
        #expect(abs(fit.transform.rotation.determinant - 1) < 1e-12)
        // Coplanar points: mirror image and rotation fit equally well.
        let flat = [Vector3(0, 0, 0), Vector3(50, 0, 0), Vector3(0, 60, 0), Vector3(20, 20, 0)]
        let flatFit = PointRegistration.leastSquaresFit(moving: flat, fixed: flat.map { Vector3(-$0.x, $0.y, $0.z) })
        #expect(flatFit.rmsError < 1e-6)
        #expect(abs(flatFit.rmsError - flatFit.reflectionRMSError) < 1e-6)
    }

    @Test("collinearity measures: σ₂/σ₁ and RMS distance from the best-fit line")
    func collinearityMeasures() {
        // Three points on the x axis and one 3 mm off it.
        let pts = [Vector3(-100, 0, 0), Vector3(0, 0, 0), Vector3(100, 0, 0), Vector3(0, 3, 0)]
        let c = PointRegistration.collinearity(of: pts)
        // Covariance: λ₁ = 5000, λ₂ = mean of (y − 0.75)² = (3·0.75² + 2.25²)/4 = 1.6875, λ₃ = 0.
        #expect(abs(c.lineDistanceRMSMM - 1.6875.squareRoot()) < 1e-9)
        #expect(abs(c.singularValueRatio - (1.6875 / 5000).squareRoot()) < 1e-9)
    }

    @Test("Horn fast path (Newton + adjugate) agrees with a full Jacobi decomposition (500 seeded noisy sets)")
    func hornMatchesJacobi() {
        var rng = SplitMix64(seed: 4_4)
        var worstRotation = 0.0, worstValue = 0.0, worstReflection = 0.0
        for trial in 0..<500 {
            let n = 3 + trial % 6
            let truth = randomTransform(&rng)
            // Some sets are nearly flat or nearly collinear, some have huge noise.
            let squash = Vector3(1, trial % 5 == 0 ? 0.01 : 1, trial % 7 == 0 ? 0.001 : 1)
            let noise = [0.0, 0.5, 5, 50][trial % 4]
            let moving = (0..<n).map { _ in rng.nextGaussianVector(sigma: 80) * squash }
            let fixed = moving.map { truth.apply(to: $0) + rng.nextGaussianVector(sigma: noise) }
            let fit = PointRegistration.leastSquaresFit(moving: moving, fixed: fixed)
            // Reference: Horn's N from the same data, decomposed by Jacobi.
            let cm = centroid(of: moving), cf = centroid(of: fixed)
            var sm = Matrix3.zero
            var spread = 0.0
            for (p, q) in zip(moving, fixed) {
                sm += Matrix3.outer(p - cm, q - cf)
                spread += (p - cm).lengthSquared + (q - cf).lengthSquared
            }
            let (sxx, sxy, sxz) = (sm[0, 0], sm[0, 1], sm[0, 2])
            let (syx, syy, syz) = (sm[1, 0], sm[1, 1], sm[1, 2])
            let (szx, szy, szz) = (sm[2, 0], sm[2, 1], sm[2, 2])
            let e = SymmetricEigen4(symmetric: SIMD16(
                sxx + syy + szz, syz - szy, szx - sxz, sxy - syx,
                syz - szy, sxx - syy - szz, sxy + syx, szx + sxz,
                szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy,
                sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz))
            let v = e.vector(0)
            let reference = Quaternion(q0: v[0], qx: v[1], qy: v[2], qz: v[3]).rotationMatrix
            var d = 0.0
            for i in 0..<3 { for j in 0..<3 { d = max(d, abs(reference[i, j] - fit.transform.rotation[i, j])) } }
            worstRotation = max(worstRotation, d)
            if noise == 0 {
                // Exact data: both must also match the truth.
                var t = 0.0
                for i in 0..<3 { for j in 0..<3 { t = max(t, abs(truth.rotation[i, j] - fit.transform.rotation[i, j])) } }
                worstRotation = max(worstRotation, t)
            }
            worstValue = max(worstValue, abs(max(0, spread - 2 * e.values[0]) - fit.weightedSquaredError) / spread)
            worstReflection = max(
                worstReflection, abs(max(0, spread + 2 * e.values[3]) - fit.reflectionWeightedSquaredError) / spread)
        }
        #expect(worstRotation < 1e-9, "worst rotation entry difference \(worstRotation)")
        #expect(worstValue < 1e-13, "worst relative residual difference \(worstValue)")
        #expect(worstReflection < 1e-9, "worst relative mirror residual difference \(worstReflection)")
    }

    @Test("collinear and coincident points still give a proper rotation that fits (Jacobi fallback)")
    func degenerateInputToBareSolver() {
        let line = [Vector3(0, 0, 0), Vector3(10, 0, 0), Vector3(30, 0, 0)]
        let truth = knownHeadToMRI
        let fit = PointRegistration.leastSquaresFit(moving: line, fixed: line.map { truth.apply(to: $0) })
        #expect(abs(fit.transform.rotation.determinant - 1) < 1e-12)
        #expect(fit.transform.rotation.orthogonalityError < 1e-12)
        for p in line { #expect((fit.transform.apply(to: p) - truth.apply(to: p)).length < 1e-9) }
        let same = [Vector3](repeating: Vector3(1, 2, 3), count: 4)
        let point = PointRegistration.leastSquaresFit(moving: same, fixed: same.map { $0 + Vector3(5, 0, 0) })
        #expect((point.transform.apply(to: Vector3(1, 2, 3)) - Vector3(6, 2, 3)).length < 1e-12)
        #expect(abs(point.transform.rotation.determinant - 1) < 1e-12)
    }

    @Test("non-ASCII labels are matched too (Unicode whitespace and case)")
    func unicodeLabels() throws {
        let mri = [
            LabeledPoint(label: "Nasión", position: FSAverage.nas),
            LabeledPoint(label: "LPA", position: FSAverage.lpa),
            LabeledPoint(label: "RPA", position: FSAverage.rpa),
            LabeledPoint(label: "Scheitel Ä", position: FSAverage.cz),
        ]
        var head = headPoints(for: mri, headToMRI: knownHeadToMRI)
        head[0].label = "\u{00A0}NASIÓN\u{2003}"
        head[3].label = " scheitel ä"
        let result = try PointRegistration.register(head: head, mri: mri)
        #expect(maxEntryDifference(result.headToMRI, knownHeadToMRI) < 1e-9)
        head[1].label = "NASIÓN"
        #expect(registrationError { try PointRegistration.register(head: head, mri: mri) } == .duplicateLabel("NASIÓN", side: .head))
    }

    @Test("large labelled sets (> 32 points, hashed lookup) are matched and recovered")
    func manyLabels() throws {
        var rng = SplitMix64(seed: 640)
        var mri: [LabeledPoint] = []
        for i in 0..<60 { mri.append(LabeledPoint(label: "Point \(i)", position: rng.nextGaussianVector(sigma: 90))) }
        var head = headPoints(for: mri, headToMRI: knownHeadToMRI)
        for i in head.indices { head[i].label = " " + head[i].label.uppercased() }
        head.shuffle(using: &rng)
        let result = try PointRegistration.register(head: head, mri: mri, options: .init(mriAxes: nil))
        #expect(maxEntryDifference(result.headToMRI, knownHeadToMRI) < 1e-9)
        #expect(result.residuals.map(\.label) == mri.map(\.label))
        var withDuplicate = head
        withDuplicate[40].label = withDuplicate[7].label.lowercased()
        let e = registrationError { try PointRegistration.register(head: withDuplicate, mri: mri) }
        guard case .duplicateLabel(_, .head) = e else {
            Issue.record("expected a head duplicate, got \(String(describing: e))")
            return
        }
        let missing = registrationError { try PointRegistration.register(head: Array(head.dropLast()), mri: mri) }
        #expect(missing == .unmatchedLabels(onlyInHead: [], onlyInMRI: [mri.first { normalized($0.label) == normalized(head.last!.label) }!.label]))
    }
}

private func normalized(_ s: String) -> String {
    String(s.drop { $0 == " " }).lowercased()
}
