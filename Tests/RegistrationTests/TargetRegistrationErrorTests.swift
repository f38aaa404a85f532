import Geometry
import Registration
import Testing

@Suite("FRE and TRE prediction (Fitzpatrick, West & Maurer 1998)")
struct TargetRegistrationErrorTests {
    /// Reference values from algorithms.md §1 (FLE = 2 mm RMS, fsaverage fiducials), with the
    /// figures to four decimals from an independent numpy evaluation of the same closed form.
    static let referenceCases: [(fiducials: [String], target: String, reference: Double, precise: Double)] = [
        (["NAS", "LPA", "RPA"], "F3", 2.03, 2.0288),
        (["NAS", "LPA", "RPA"], "DLPFC", 1.70, 1.7031),
        (["NAS", "LPA", "RPA"], "centroid", 1.15, 1.1547),
        (["NAS", "LPA", "RPA", "Cz"], "F3", 1.36, 1.3604),
        (["NAS", "LPA", "RPA", "Cz"], "DLPFC", 1.21, 1.2105),
        (["NAS", "LPA", "RPA", "Cz"], "centroid", 1.00, 1.0000),
    ]

    static func target(_ name: String, fiducials: [LabeledPoint]) -> Vector3 {
        switch name {
        case "F3": return FSAverage.f3
        case "DLPFC": return FSAverage.dlpfcTarget
        default: return centroid(of: fiducials.map(\.position))
        }
    }

    @Test("TRE matches the reference values to ±0.01 mm", arguments: referenceCases)
    func referenceTRE(fiducials labels: [String], target name: String, reference: Double, precise: Double) throws {
        let mri = FSAverage.points(labels)
        let r = Self.target(name, fiducials: mri)
        let closed = FiducialErrorModel.fitzpatrickTREMM(fiducials: mri.map(\.position), target: r, fleMM: 2)
        #expect(abs(closed - reference) <= 0.01)
        #expect(abs(closed - precise) < 1e-4)
        let result = try PointRegistration.register(head: headPoints(for: mri, headToMRI: knownHeadToMRI), mri: mri)
        #expect(abs(result.predictedTREMM(at: r, fleMM: 2) - closed) < 1e-12)
    }

    @Test("expected FRE: √(1/3)·2 = 1.15 mm for 3 fiducials, 1.41 mm for 4")
    func expectedFRE() throws {
        for (labels, reference) in [(["NAS", "LPA", "RPA"], 1.15), (["NAS", "LPA", "RPA", "Cz"], 1.41)] {
            let mri = FSAverage.points(labels)
            let result = try PointRegistration.register(head: headPoints(for: mri, headToMRI: knownHeadToMRI), mri: mri)
            let fre = result.expectedFREMM(fleMM: 2)
            #expect(abs(fre - reference) <= 0.01)
            #expect(abs(fre - (1 - 2 / Double(labels.count)).squareRoot() * 2) < 1e-12)
        }
    }

    @Test("TRE is unchanged when fiducials and target move together by (100, −50, 30) mm or rotate")
    func treIsTranslationAndRotationInvariant() {
        let shift = Vector3(100, -50, 30)
        let motion = RigidTransform(rotation: Quaternion(axis: Vector3(3, -1, 2), angleRadians: 2.2), translation: shift)
        for labels in [["NAS", "LPA", "RPA"], ["NAS", "LPA", "RPA", "Cz"], ["NAS", "LPA", "RPA", "Cz", "Iz", "C3"]] {
            let f = FSAverage.points(labels).map(\.position)
            let w = (0..<f.count).map { 0.5 + Double($0) }
            for target in [FSAverage.f3, FSAverage.dlpfcTarget, Vector3(0, 0, 0), Vector3(300, -200, 150)] {
                let base = FiducialErrorModel.fitzpatrickTREMM(fiducials: f, target: target, fleMM: 2)
                let shifted = FiducialErrorModel.fitzpatrickTREMM(fiducials: f.map { $0 + shift }, target: target + shift, fleMM: 2)
                let moved = FiducialErrorModel.fitzpatrickTREMM(
                    fiducials: f.map { motion.apply(to: $0) }, target: motion.apply(to: target), fleMM: 2)
                #expect(abs(shifted - base) < 1e-9 * base)
                #expect(abs(moved - base) < 1e-9 * base)
                let wBase = FiducialErrorModel.weightedTREMM(fiducials: f, weights: w, target: target, fleMM: 2)
                let wMoved = FiducialErrorModel.weightedTREMM(
                    fiducials: f.map { motion.apply(to: $0) }, weights: w, target: motion.apply(to: target), fleMM: 2)
                #expect(abs(wMoved - wBase) < 1e-9 * wBase)
            }
        }
    }

    @Test("TRE scales with FLE and grows away from the centroid")
    func treScalesAndGrows() {
        let f = FSAverage.points(["NAS", "LPA", "RPA", "Cz"]).map(\.position)
        let c = centroid(of: f)
        let at1 = FiducialErrorModel.fitzpatrickTREMM(fiducials: f, target: FSAverage.f3, fleMM: 1)
        let at3 = FiducialErrorModel.fitzpatrickTREMM(fiducials: f, target: FSAverage.f3, fleMM: 3)
        #expect(abs(at3 - 3 * at1) < 1e-12)
        // At the centroid TRE = FLE/√N exactly.
        #expect(abs(FiducialErrorModel.fitzpatrickTREMM(fiducials: f, target: c, fleMM: 2) - 1) < 1e-12)
        var last = 0.0
        for d in stride(from: 0.0, through: 400, by: 50) {
            let tre = FiducialErrorModel.fitzpatrickTREMM(fiducials: f, target: c + Vector3(d, d, 0), fleMM: 2)
            #expect(tre >= last)
            last = tre
        }
    }

    @Test("the weighted formulas reduce to Fitzpatrick's for equal weights (200 seeded configurations)")
    func weightedReducesToClosedForm() {
        var rng = SplitMix64(seed: 99)
        for trial in 0..<200 {
            let n = 3 + trial % 6
            let f = (0..<n).map { _ in rng.nextGaussianVector(sigma: 80) + Vector3(0, 0, 40) }
            let target = rng.nextGaussianVector(sigma: 120)
            let weight = 0.1 + 5 * rng.nextUnitDouble()
            let w = [Double](repeating: weight, count: n)
            let closed = FiducialErrorModel.fitzpatrickTREMM(fiducials: f, target: target, fleMM: 1.7)
            let weighted = FiducialErrorModel.weightedTREMM(fiducials: f, weights: w, target: target, fleMM: 1.7)
            #expect(abs(weighted - closed) < 1e-9 * closed)
            let fre = FiducialErrorModel.weightedExpectedFREMM(fiducials: f, weights: w, fleMM: 1.7)
            #expect(abs(fre - FiducialErrorModel.expectedFREMM(fiducialCount: n, fleMM: 1.7)) < 1e-9)
        }
    }

    /// Runs `trials` registrations of noisy copies of `mri` (isotropic Gaussian FLE of 3-D RMS
    /// `fle` added in MRI space, then mapped to a random head pose) and returns the RMS TRE at each
    /// target and the mean of FRE².
    static func monteCarlo(
        mri: [LabeledPoint], weights: [String: Double]? = nil, targets: [Vector3], fle: Double, trials: Int, seed: UInt64
    ) throws -> (rmsTRE: [Double], meanFRE2: Double) {
        var rng = SplitMix64(seed: seed)
        let sigma = fle / 3.0.squareRoot()
        var sumTRE2 = [Double](repeating: 0, count: targets.count)
        var sumFRE2 = 0.0
        for _ in 0..<trials {
            let truth = randomTransform(&rng, maxShift: 300)
            let mriToHead = truth.inverse
            let head = mri.map {
                LabeledPoint(label: $0.label, position: mriToHead.apply(to: $0.position + rng.nextGaussianVector(sigma: sigma)))
            }
            let result = try PointRegistration.register(head: head, mri: mri, weights: weights)
            for (k, r) in targets.enumerated() {
                sumTRE2[k] += (result.headToMRI.apply(to: mriToHead.apply(to: r)) - r).lengthSquared
            }
            sumFRE2 += result.freMM * result.freMM
        }
        return (sumTRE2.map { ($0 / Double(trials)).squareRoot() }, sumFRE2 / Double(trials))
    }

    @Test("Monte-Carlo (20,000 noisy registrations) agrees with the closed-form TRE and ⟨FRE²⟩ = (1 − 2/N)FLE²")
    func monteCarloMatchesClosedForm() throws {
        let mri = FSAverage.points(["NAS", "LPA", "RPA", "Cz"])
        let targets = [FSAverage.f3, FSAverage.dlpfcTarget, centroid(of: mri.map(\.position)), Vector3(120, -90, -20)]
        let mc = try Self.monteCarlo(mri: mri, targets: targets, fle: 2, trials: 20_000, seed: 1998)
        for (k, r) in targets.enumerated() {
            let closed = FiducialErrorModel.fitzpatrickTREMM(fiducials: mri.map(\.position), target: r, fleMM: 2)
            #expect(abs(mc.rmsTRE[k] / closed - 1) < 0.02, "target \(r): Monte-Carlo \(mc.rmsTRE[k]) vs \(closed)")
        }
        #expect(abs(mc.meanFRE2 / ((1 - 2.0 / 4) * 4) - 1) < 0.02, "mean FRE² \(mc.meanFRE2) vs 2.0")
    }

    @Test("Monte-Carlo with 3 fiducials: ⟨FRE²⟩ = FLE²/3 and TRE at F3")
    func monteCarloThreeFiducials() throws {
        let mri = FSAverage.points(["NAS", "LPA", "RPA"])
        let mc = try Self.monteCarlo(mri: mri, targets: [FSAverage.f3], fle: 2, trials: 10_000, seed: 3)
        #expect(abs(mc.rmsTRE[0] / 2.0288 - 1) < 0.03, "Monte-Carlo TRE at F3 \(mc.rmsTRE[0])")
        #expect(abs(mc.meanFRE2 / (4.0 / 3) - 1) < 0.03, "mean FRE² \(mc.meanFRE2) vs 1.333")
    }

    @Test("Monte-Carlo with unequal weights agrees with the weighted first-order formulas")
    func monteCarloWeighted() throws {
        let mri = FSAverage.points(["NAS", "LPA", "RPA", "Cz", "Iz"])
        let weights: [String: Double] = ["NAS": 4, "LPA": 1, "RPA": 1, "Cz": 0.25, "Iz": 2]
        let targets = [FSAverage.f3, FSAverage.dlpfcTarget, Vector3(60, -20, 80)]
        let mc = try Self.monteCarlo(mri: mri, weights: weights, targets: targets, fle: 2, trials: 20_000, seed: 11)
        let result = try PointRegistration.register(
            head: headPoints(for: mri, headToMRI: knownHeadToMRI), mri: mri, weights: weights)
        for (k, r) in targets.enumerated() {
            let predicted = result.predictedTREMM(at: r, fleMM: 2)
            let unweighted = FiducialErrorModel.fitzpatrickTREMM(fiducials: mri.map(\.position), target: r, fleMM: 2)
            #expect(abs(mc.rmsTRE[k] / predicted - 1) < 0.02, "target \(r): Monte-Carlo \(mc.rmsTRE[k]) vs \(predicted)")
            // These weights are far from optimal for equal FLE, so the weighted estimator is worse
            // than the unweighted one, and the formula must see that.
            #expect(predicted > unweighted * 1.03)
        }
        let expectedFRE = result.expectedFREMM(fleMM: 2)
        #expect(abs(mc.meanFRE2 / (expectedFRE * expectedFRE) - 1) < 0.02, "mean FRE² \(mc.meanFRE2) vs \(expectedFRE * expectedFRE)")
    }
}
