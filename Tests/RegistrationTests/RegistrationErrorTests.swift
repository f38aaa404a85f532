import Geometry
import Registration
import Testing

@Suite("Paired-point registration: every invalid input is an error with a clear message")
struct RegistrationErrorTests {
    static let mri = FSAverage.points(["NAS", "LPA", "RPA", "Cz", "Iz"])
    static let head = headPoints(for: mri, headToMRI: knownHeadToMRI)

    @Test("fewer than 3 pairs")
    func tooFewPairs() {
        let e = registrationError { try PointRegistration.register(head: Array(Self.head[0..<2]), mri: Array(Self.mri[0..<2])) }
        #expect(e == .tooFewPairs(found: 2, required: 3))
        #expect(e?.description == "paired-point registration needs at least 3 fiducial pairs; got 2")
        let none = registrationError { try PointRegistration.register(head: [], mri: []) }
        #expect(none == .tooFewPairs(found: 0, required: 3))
        // With intersection matching, the count is of common labels.
        let common = registrationError {
            try PointRegistration.register(
                head: Array(Self.head[0..<3]), mri: Array(Self.mri[1..<5]), options: .init(labelMatching: .intersection))
        }
        #expect(common == .tooFewPairs(found: 2, required: 3))
    }

    @Test("labels missing from either side are named")
    func unmatchedLabels() {
        let head = Array(Self.head[0..<3]) + [Self.head[4], LabeledPoint(label: "T7", position: .zero)]
        let mri = Array(Self.mri[0..<4])
        let e = registrationError { try PointRegistration.register(head: head, mri: mri) }
        #expect(e == .unmatchedLabels(onlyInHead: ["Iz", "T7"], onlyInMRI: ["Cz"]))
        #expect(
            e?.description
                == "the head and MRI fiducial labels do not match; missing from the head fiducials: \"Cz\"; "
                + "missing from the MRI fiducials: \"Iz\", \"T7\"")
        let oneWay = registrationError { try PointRegistration.register(head: Array(Self.head[0..<4]), mri: Self.mri) }
        #expect(oneWay?.description == "the head and MRI fiducial labels do not match; missing from the head fiducials: \"Iz\"")
    }

    @Test("duplicate labels on either side")
    func duplicateLabels() {
        var head = Self.head
        head[3].label = " lpa"
        let e = registrationError { try PointRegistration.register(head: head, mri: Self.mri) }
        #expect(e == .duplicateLabel(" lpa", side: .head))
        #expect(
            e?.description
                == "the head fiducials contain the label \" lpa\" more than once "
                + "(labels are compared ignoring case and surrounding spaces)")
        var mri = Self.mri
        mri[4].label = "NAS"
        let m = registrationError { try PointRegistration.register(head: Self.head, mri: mri) }
        #expect(m == .duplicateLabel("NAS", side: .mri))
        #expect(m?.description.hasPrefix("the MRI fiducials contain the label \"NAS\" more than once") == true)
    }

    @Test("non-finite coordinates name the label and the side", arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteCoordinates(bad: Double) {
        var head = Self.head
        head[1].position.y = bad
        let e = registrationError { try PointRegistration.register(head: head, mri: Self.mri) }
        #expect(e == .nonFiniteCoordinate(label: "LPA", side: .head))
        #expect(e?.description == "the head fiducial \"LPA\" has a coordinate that is not a finite number")
        var mri = Self.mri
        mri[3].position.z = bad
        let m = registrationError { try PointRegistration.register(head: Self.head, mri: mri) }
        #expect(m == .nonFiniteCoordinate(label: "Cz", side: .mri))
        #expect(m?.description == "the MRI fiducial \"Cz\" has a coordinate that is not a finite number")
    }

    @Test(
        "negative or non-finite weights",
        arguments: [(-1.0, "-1.00"), (-0.000_012_5, "-1.25e-05"), (Double.nan, "nan"), (Double.infinity, "inf")])
    func invalidWeights(value: Double, shown: String) {
        let e = registrationError { try PointRegistration.register(head: Self.head, mri: Self.mri, weights: ["RPA": value]) }
        guard case .invalidWeight(let label, _) = e else {
            Issue.record("expected invalidWeight, got \(String(describing: e))")
            return
        }
        #expect(label == "RPA")
        #expect(e?.description == "the weight of fiducial \"RPA\" is \(shown); weights must be finite and not negative")
    }

    @Test("weights for unknown labels, duplicate weight labels, all-zero weights")
    func weightProblems() {
        let unknown = registrationError { try PointRegistration.register(head: Self.head, mri: Self.mri, weights: ["T7": 1]) }
        #expect(unknown == .weightForUnknownLabel("T7"))
        #expect(unknown?.description == "a weight was given for \"T7\", which is neither a head nor an MRI fiducial")

        let duplicate = registrationError {
            try PointRegistration.register(head: Self.head, mri: Self.mri, weights: ["LPA": 1, "lpa ": 2])
        }
        #expect(duplicate == .duplicateWeightLabel("lpa "))
        #expect(duplicate?.description == "the weights name the fiducial \"lpa \" more than once")

        let zeros = Dictionary(uniqueKeysWithValues: Self.mri.map { ($0.label, 0.0) })
        let allZero = registrationError { try PointRegistration.register(head: Self.head, mri: Self.mri, weights: zeros) }
        #expect(allZero == .allWeightsZero)
        #expect(allZero?.description == "all fiducial weights are zero")

        let twoLeft = registrationError {
            try PointRegistration.register(head: Self.head, mri: Self.mri, weights: ["LPA": 0, "RPA": 0, "Cz": 0, "NAS": 5])
        }
        #expect(twoLeft == .tooFewWeightedPairs(positive: 2, required: 3, zeroWeightLabels: ["LPA", "RPA", "Cz"]))
        #expect(
            twoLeft?.description
                == "paired-point registration needs at least 3 fiducial pairs with a positive weight; "
                + "got 2 (weight 0: \"LPA\", \"RPA\", \"Cz\")")
    }

    @Test("exactly collinear head fiducials")
    func exactlyCollinear() {
        let mri = FSAverage.points(["NAS", "LPA", "RPA"])
        let head = [
            LabeledPoint(label: "NAS", position: Vector3(-50, 0, 0)),
            LabeledPoint(label: "LPA", position: Vector3(0, 0, 0)),
            LabeledPoint(label: "RPA", position: Vector3(70, 0, 0)),
        ]
        let e = registrationError { try PointRegistration.register(head: head, mri: mri) }
        guard case .collinearFiducials(let side, let ratio, let rms, let ratioThreshold, let distanceThreshold) = e else {
            Issue.record("expected collinearFiducials, got \(String(describing: e))")
            return
        }
        #expect(side == .head && ratioThreshold == 1e-3 && distanceThreshold == 2)
        #expect(ratio < 1e-6 && rms < 1e-6)  // exactly 0 up to the rounding of the eigenvalue formula
        #expect(
            e?.description
                == "the head fiducials are (nearly) collinear, so the rotation about their line is undetermined: "
                + "RMS distance from their best-fit line 0.00 mm (minimum 2.00 mm), σ₂/σ₁ 0 (minimum 0.00100); "
                + "use fiducials that span a wide triangle")
    }

    @Test("nearly collinear MRI fiducials fail the absolute (2 mm) test")
    func nearlyCollinearAbsolute() {
        // Three MRI points, the middle one 3 mm off the line through the other two: the RMS distance
        // from the best-fit line is about 1.4 mm although σ₂/σ₁ ≈ 0.02 passes the relative test.
        let mri = [
            LabeledPoint(label: "A", position: Vector3(-80, 0, 0)),
            LabeledPoint(label: "B", position: Vector3(0, 3, 0)),
            LabeledPoint(label: "C", position: Vector3(80, 0, 0)),
        ]
        let head = headPoints(for: FSAverage.points(["NAS", "LPA", "RPA"]), headToMRI: .identity).enumerated().map {
            LabeledPoint(label: ["A", "B", "C"][$0.offset], position: $0.element.position)
        }
        let e = registrationError { try PointRegistration.register(head: head, mri: mri) }
        guard case .collinearFiducials(let side, let ratio, let rms, _, _) = e else {
            Issue.record("expected collinearFiducials, got \(String(describing: e))")
            return
        }
        #expect(side == .mri)
        #expect(abs(rms - (2.0).squareRoot()) < 1e-9)  // y = (−1, 2, −1): RMS √2
        #expect(ratio > 1e-3)
        #expect(e?.description.contains("RMS distance from their best-fit line 1.41 mm (minimum 2.00 mm)") == true)
        // 3 mm more off the line passes.
        var wide = mri
        wide[1].position.y = 6
        #expect(registrationError { try PointRegistration.register(head: head, mri: wide) } == nil)
    }

    @Test("nearly collinear points at a large scale fail the relative (σ₂/σ₁ < 1e-3) test")
    func nearlyCollinearRelative() {
        // A 20 m long set with a 9 mm bulge: far from a line in mm, but σ₂/σ₁ ≈ 5.2e-4.
        let mri = [
            LabeledPoint(label: "A", position: Vector3(-10_000, 0, 0)),
            LabeledPoint(label: "B", position: Vector3(0, 9, 0)),
            LabeledPoint(label: "C", position: Vector3(10_000, 0, 0)),
        ]
        let head = mri.map { LabeledPoint(label: $0.label, position: knownHeadToMRI.inverse.apply(to: $0.position)) }
        let e = registrationError { try PointRegistration.register(head: head, mri: mri) }
        guard case .collinearFiducials(let side, let ratio, let rms, _, _) = e else {
            Issue.record("expected collinearFiducials, got \(String(describing: e))")
            return
        }
        #expect(side == .head)
        #expect(rms > 2)
        #expect(ratio < 1e-3)
        #expect(e?.description.contains("σ₂/σ₁ 5.20e-04 (minimum 0.00100)") == true)
        // The thresholds are options.
        let relaxed = PointRegistration.Options(collinearityRatioThreshold: 1e-4)
        #expect(registrationError { try PointRegistration.register(head: head, mri: mri, options: relaxed) } == nil)
    }

    @Test("register rejects exactly the sets whose collinearity measures fall below a threshold (2,000 near-threshold sets)")
    func collinearityDecisionMatchesMeasures() {
        var rng = SplitMix64(seed: 1234)
        var rejected = 0, accepted = 0
        for trial in 0..<2000 {
            let n = 3 + trial % 4
            let length = trial % 2 == 0 ? 150.0 : 4000.0  // head-sized (absolute test) or large (relative test)
            let width = length == 150 ? 1 + 3 * rng.nextUnitDouble() : 1 + 10 * rng.nextUnitDouble()
            let axis = rng.nextGaussianVector(sigma: 1).normalized
            let across = axis.anyPerpendicular
            let mri = (0..<n).map { i in
                LabeledPoint(
                    label: "P\(i)",
                    position: axis * (rng.nextUnitDouble() - 0.5) * length + across * rng.nextGaussian() * width
                        + axis.cross(across) * rng.nextGaussian() * width * 0.3)
            }
            let head = headPoints(for: mri, headToMRI: knownHeadToMRI)
            let measures = PointRegistration.collinearity(of: mri.map(\.position))
            let headMeasures = PointRegistration.collinearity(of: head.map(\.position))
            let shouldReject = [measures, headMeasures].contains { $0.singularValueRatio < 1e-3 || $0.lineDistanceRMSMM < 2 }
            let e = registrationError { try PointRegistration.register(head: head, mri: mri) }
            var isCollinearError = false
            if case .collinearFiducials = e { isCollinearError = true }
            #expect(isCollinearError == shouldReject, "trial \(trial): \(measures), \(String(describing: e))")
            if shouldReject { rejected += 1 } else { accepted += 1 }
        }
        // Both outcomes must be well represented for the comparison to mean anything.
        #expect(rejected > 300 && accepted > 300, "rejected \(rejected), accepted \(accepted)")
    }
}
