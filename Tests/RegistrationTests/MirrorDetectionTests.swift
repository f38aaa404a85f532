import Geometry
import Registration
import Testing

@Suite("Mirrored fiducials (LPA/RPA swaps)")
struct MirrorDetectionTests {
    /// Swaps the positions of the points labelled LPA and RPA.
    static func swappingLPAandRPA(_ points: [LabeledPoint]) -> [LabeledPoint] {
        var p = points
        let l = p.firstIndex { $0.label == "LPA" }!, r = p.firstIndex { $0.label == "RPA" }!
        (p[l].position, p[r].position) = (p[r].position, p[l].position)
        return p
    }

    @Test("an LPA/RPA swap in the head list is caught with NAS, LPA, RPA, Cz, Iz")
    func headSwapIsCaught() {
        let mri = FSAverage.points(["NAS", "LPA", "RPA", "Cz", "Iz"])
        let head = Self.swappingLPAandRPA(headPoints(for: mri, headToMRI: knownHeadToMRI))
        let e = registrationError { try PointRegistration.register(head: head, mri: mri) }
        guard case .mirroredFiducials(let rotationFRE, let reflectionFRE, let ratio, let minimum) = e else {
            Issue.record("expected mirroredFiducials, got \(String(describing: e))")
            return
        }
        #expect(ratio == 0.6 && minimum == 3)
        #expect(rotationFRE > 50)
        #expect(reflectionFRE < 0.05 * rotationFRE)
        let text = e!.description
        #expect(text.hasPrefix("fiducials look mirrored (e.g. LPA and RPA swapped): the best rotation leaves FRE "))
        #expect(text.contains("\(formatted(rotationFRE)) mm but a mirror image fits with FRE \(formatted(reflectionFRE)) mm"))
        #expect(text.contains("(flagged when the mirror FRE is below 0.600 × the rotation FRE and the rotation FRE is at least 3.00 mm)"))
    }

    @Test("a swap in the MRI list is caught by the residual test and, in RAS, by the side check")
    func mriSwapIsCaught() {
        let correct = FSAverage.points(["NAS", "LPA", "RPA", "Cz", "Iz"])
        let head = headPoints(for: correct, headToMRI: knownHeadToMRI)
        let swapped = Self.swappingLPAandRPA(correct)
        let residualTest = registrationError {
            try PointRegistration.register(head: head, mri: swapped, options: .init(mriAxes: nil))
        }
        guard case .mirroredFiducials = residualTest else {
            Issue.record("expected mirroredFiducials, got \(String(describing: residualTest))")
            return
        }
        let sideCheck = registrationError { try PointRegistration.register(head: head, mri: swapped) }
        #expect(sideCheck == .mriFiducialsMirrored(axes: .ras, lateralOffsetMM: -(84.36 + 80.62)))
    }

    @Test("three fiducials: an MRI-side swap is caught by the RAS side check, with its message")
    func threeFiducialMRISwap() {
        let correct = FSAverage.points(["NAS", "LPA", "RPA"])
        let head = headPoints(for: correct, headToMRI: knownHeadToMRI)
        let swapped = Self.swappingLPAandRPA(correct)
        let e = registrationError { try PointRegistration.register(head: head, mri: swapped) }
        #expect(e == .mriFiducialsMirrored(axes: .ras, lateralOffsetMM: -(84.36 + 80.62)))
        #expect(
            e?.description
                == "MRI fiducials look mirrored (e.g. LPA and RPA swapped): in RAS coordinates RPA must lie to the "
                + "patient's right of LPA, but (RPA − LPA) along the patient's right is -164.98 mm; "
                + "check the MRI fiducials and the MRI axis convention")
    }

    @Test("the side check follows the declared MRI axes (RAS, LPS or none)")
    func sideCheckFollowsAxes() throws {
        // The same head in LPS coordinates: x and y negated.
        let lps = FSAverage.points(["NAS", "LPA", "RPA"]).map {
            LabeledPoint(label: $0.label, position: Vector3(-$0.position.x, -$0.position.y, $0.position.z))
        }
        let head = headPoints(for: lps, headToMRI: knownHeadToMRI)
        _ = try PointRegistration.register(head: head, mri: lps, options: .init(mriAxes: .lps))
        _ = try PointRegistration.register(head: head, mri: lps, options: .init(mriAxes: nil))
        let e = registrationError { try PointRegistration.register(head: head, mri: lps) }
        #expect(e == .mriFiducialsMirrored(axes: .ras, lateralOffsetMM: -(84.36 + 80.62)))
        #expect(e?.description.contains("in RAS coordinates") == true)
    }

    @Test("three fiducials: a head-side swap cannot be detected (documented limitation)")
    func threeFiducialHeadSwapIsUndetectable() throws {
        // Three points are congruent to their mirror image, so the swapped set is fitted as well
        // as the true one — by a rotation that turns the head upside down.
        let mri = FSAverage.points(["NAS", "LPA", "RPA"])
        let head = Self.swappingLPAandRPA(headPoints(for: mri, headToMRI: knownHeadToMRI))
        let result = try PointRegistration.register(head: head, mri: mri)
        #expect(result.freMM < 1)  // LPA and RPA are nearly symmetric about the midline
        #expect(abs(result.reflectionFREMM - result.freMM) < 1e-6)
        // Where the true registration sends Cz (up), the swapped one sends it far below the ear plane.
        let czHead = knownHeadToMRI.inverse.apply(to: FSAverage.cz)
        #expect(result.headToMRI.apply(to: czHead).z < -150)
    }

    @Test("adding Cz catches the head-side swap for every noisy trial (FLE 2 mm, 500 seeds)")
    func swapWithCzAlwaysCaught() {
        var rng = SplitMix64(seed: 2024)
        let mri = FSAverage.points(["NAS", "LPA", "RPA", "Cz"])
        let sigma = 2 / 3.0.squareRoot()
        var caught = 0
        for _ in 0..<500 {
            let truth = randomTransform(&rng)
            var head = headPoints(for: mri, headToMRI: truth)
            for i in head.indices { head[i].position += rng.nextGaussianVector(sigma: sigma) }
            head = Self.swappingLPAandRPA(head)
            if case .mirroredFiducials = registrationError({ try PointRegistration.register(head: head, mri: mri) }) {
                caught += 1
            }
        }
        #expect(caught == 500)
    }

    @Test(
        "a head-side swap is caught whenever a fiducial lies well off the NAS/LPA/RPA plane (200 noisy trials each)",
        arguments: [
            ["NAS", "LPA", "RPA", "F3"], ["NAS", "LPA", "RPA", "Cz", "Iz"], ["NAS", "LPA", "RPA", "Iz", "F3"],
            ["NAS", "LPA", "RPA", "Cz", "Iz", "C3"],
        ])
    func swapCaughtWithOutOfPlaneFiducial(labels: [String]) {
        var rng = SplitMix64(seed: UInt64(labels.count) * 31 + 7)
        let mri = FSAverage.points(labels)
        let sigma = 2 / 3.0.squareRoot()
        var worstRatio = 0.0
        for _ in 0..<200 {
            var head = headPoints(for: mri, headToMRI: randomTransform(&rng))
            for i in head.indices { head[i].position += rng.nextGaussianVector(sigma: sigma) }
            let e = registrationError { try PointRegistration.register(head: Self.swappingLPAandRPA(head), mri: mri) }
            guard case .mirroredFiducials(let rotationFRE, let reflectionFRE, _, _) = e else {
                Issue.record("swap not caught: \(String(describing: e))")
                return
            }
            #expect(rotationFRE > 30)
            worstRatio = max(worstRatio, reflectionFRE / rotationFRE)
        }
        #expect(worstRatio < 0.55)
    }

    static let configurations: [[String]] = [
        ["NAS", "LPA", "RPA"],
        ["NAS", "LPA", "RPA", "Cz"],
        ["NAS", "LPA", "RPA", "Iz"],
        ["NAS", "LPA", "RPA", "F3"],
        ["NAS", "LPA", "RPA", "Cz", "Iz"],
        ["NAS", "LPA", "RPA", "Iz", "F3"],
        ["NAS", "LPA", "RPA", "Cz", "Iz", "C3"],
    ]

    @Test("good data with FLE 2 mm is never flagged as mirrored (600 seeded trials each)", arguments: configurations)
    func goodDataNeverFlagged(labels: [String]) {
        var rng = SplitMix64(seed: UInt64(labels.count * 7919) + UInt64(labels.last!.unicodeScalars.first!.value))
        let mri = FSAverage.points(labels)
        let sigma = 2 / 3.0.squareRoot()
        var errors: [RegistrationError] = []
        for _ in 0..<600 {
            let truth = randomTransform(&rng)
            var head = headPoints(for: mri, headToMRI: truth)
            for i in head.indices { head[i].position += rng.nextGaussianVector(sigma: sigma) }
            if let e = registrationError({ try PointRegistration.register(head: head, mri: mri) }) { errors.append(e) }
        }
        #expect(errors.isEmpty, "\(errors.first.map(String.init(describing:)) ?? "")")
    }

    @Test("random head-sized configurations of 4–6 fiducials with FLE 2 mm are never flagged (3,000 trials)")
    func randomConfigurationsNeverFlagged() {
        var rng = SplitMix64(seed: 77)
        let sigma = 2 / 3.0.squareRoot()
        var flagged = 0
        for trial in 0..<3000 {
            let n = 4 + trial % 3
            var mri: [LabeledPoint] = []
            for i in 0..<n {
                let radius = 60 + 40 * rng.nextUnitDouble()
                mri.append(LabeledPoint(label: "P\(i)", position: rng.nextGaussianVector(sigma: 1).normalized * radius))
            }
            let truth = randomTransform(&rng)
            var head = headPoints(for: mri, headToMRI: truth)
            for i in head.indices { head[i].position += rng.nextGaussianVector(sigma: sigma) }
            if case .mirroredFiducials = registrationError({ try PointRegistration.register(head: head, mri: mri) }) {
                flagged += 1
            }
        }
        #expect(flagged == 0)
    }
}

/// Two decimals, as the error messages print millimetres.
private func formatted(_ x: Double) -> String {
    let r = (x * 100).rounded() / 100
    var s = "\(r)"
    if let dot = s.firstIndex(of: ".") {
        while s.distance(from: dot, to: s.endIndex) < 3 { s += "0" }
    }
    return s
}
