import Foundation
import Formats
import Geometry
import Testing

@testable import MockTracker

/// Every scenario in `Mock/scenarios/` loads and does what its description says, checked
/// numerically on the noise-free truth (and, where it matters, on the noisy measurements).
@Suite struct ShippedScenarioTests {
    static let files = [
        "demo-approach.json", "static-noise-free.json", "pivot.json", "landmarks.json", "scalp-sweep.json",
        "occlusion-and-faults.json", "head-motion.json", "static-jitter.json", "register-walkthrough.json",
        "pivot-walkthrough.json", "coil-calibration.json", "qa-phantom.json", "qa-phantom-3mm-error.json",
        "qa-phantom-bent-pointer.json", "readout-walkthrough.json",
    ]

    @Test func everyShippedScenarioIsListedAndLoads() throws {
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: Paths.scenarios).filter { $0.hasSuffix(".json") }.sorted()
        #expect(onDisk == Self.files.sorted())
        for f in Self.files {
            let s = try MockScenario.load(path: Paths.scenario(f))
            #expect(s.frameCount > 0)
            #expect(!s.tools.isEmpty)
            #expect(s.description?.isEmpty == false, "\(f) says what it is for")
        }
    }

    // MARK: demo-approach

    @Test(arguments: [1, 2, 3] as [UInt64])
    func demoApproachEndsExactlyOnTheTargetAndGoesOnTargetWithinTwentySeconds(seed: UInt64) throws {
        let s = try MockScenario.load(path: Paths.scenario("demo-approach.json"))
        let sim = MockSimulation(scenario: s, seed: seed)
        let headToMRI = try demoHeadToMRI()
        let target = try #require(try demoPlan().target(named: "DLPFC-Fox2012")).coilToMRI
        #expect(same(try #require(s.headToMRI), headToMRI, tolerance: 1e-12))
        let head = try #require(s.tools.firstIndex { $0.name == "head" })
        let coil = try #require(s.tools.firstIndex { $0.name == "coil" })

        // Noise-free: from the arrival on, the coil is exactly the target mapped into tracker
        // space through the moving head reference.
        var headTravel = 0.0
        let head0 = sim.truth(ofFrame: 0)[head]
        for i in stride(from: 0, to: s.frameCount, by: 7) {
            let truth = sim.truth(ofFrame: i)
            headTravel = Swift.max(headTravel, truth[head].translation.distance(to: head0.translation))
            if sim.seconds(ofFrame: i) >= 20 {
                let expected = truth[head] * headToMRI.inverse * target
                #expect(same(truth[coil], expected, tolerance: 1e-9), "frame \(i)")
            }
        }
        #expect(headTravel > 0.5, "the head moves (\(headTravel) mm)")
        let last = sim.truth(ofFrame: s.frameCount - 1)
        #expect(same(last[coil], last[head] * headToMRI.inverse * target, tolerance: 1e-9))

        // It starts about 40 mm and 20° away.
        let start = CoilError(coilToMRI: headToMRI * sim.truth(ofFrame: 0)[head].inverse * sim.truth(ofFrame: 0)[coil], targetToMRI: target)
        #expect(Swift.abs(start.distanceMM - 40) < 1.5, "start distance \(start.distanceMM)")
        #expect(start.tiltDegrees > 10)

        // Measured (noisy, float32): the on-target rule (1 mm / 2° / 4°) holds for 0.5 s by
        // 20.5 s and never lets go afterwards.
        var heldSince: Int? = nil
        var onTargetAt: Int? = nil
        for i in 0..<s.frameCount {
            let f = sim.frame(i)
            let h = try #require(f.tools[head].measured), c = try #require(f.tools[coil].measured)
            let e = CoilError(coilToMRI: headToMRI * h.transform.inverse * c.transform, targetToMRI: target)
            if e.onTarget {
                if heldSince == nil { heldSince = i }
                if onTargetAt == nil, sim.seconds(ofFrame: i) - sim.seconds(ofFrame: heldSince!) >= 0.5 { onTargetAt = i }
            } else {
                #expect(onTargetAt == nil, "off target again at frame \(i) (\(e.distanceMM) mm, \(e.tiltDegrees)°, \(e.twistDegrees)°)")
                heldSince = nil
            }
        }
        let at = try #require(onTargetAt)
        let seconds = sim.seconds(ofFrame: at)
        #expect(seconds > 15 && seconds <= 20.5, "ON TARGET (held 0.5 s) at \(seconds) s")
    }

    // MARK: readout-walkthrough

    /// The readout's ten-second walkthrough: off target beyond the bullseye, the approach, ON TARGET
    /// at about 3.1 s, the stall (tracking lost), the coil hidden 8.0–8.7 s.
    @Test func readoutWalkthroughApproachesStallsAndHidesTheCoil() throws {
        let s = try MockScenario.load(path: Paths.scenario("readout-walkthrough.json"))
        #expect(s.frameCount == 600 && s.frameRateHz == 60 && s.startFrameNumber == 0)
        #expect(s.faults == [MockScheduledFault(frameIndex: 300, fault: .stall(.milliseconds(1500)))])
        let sim = MockSimulation(scenario: s, seed: 4)
        let headToMRI = try demoHeadToMRI()
        let target = try #require(try demoPlan().target(named: "DLPFC-Fox2012")).coilToMRI
        func error(_ tools: [RigidTransform]) -> CoilError { CoilError(coilToMRI: headToMRI * tools[0].inverse * tools[1], targetToMRI: target) }

        // Start: the offset (−7.2, 9.6, −12) mm, 12 mm in the plane (beyond the bullseye's 10 mm),
        // √288 mm in all; 12° of tilt; held until 0.5 s.
        for i in [0, 29] {
            let e = error(sim.truth(ofFrame: i))
            #expect(Swift.abs(e.distanceMM - 288.0.squareRoot()) < 1e-9)
            #expect(Swift.abs(e.inPlaneMM - 12) < 1e-9)
            #expect(Swift.abs(e.depthMM + 12) < 1e-9)
            #expect(Swift.abs(e.tiltDegrees - 12) < 1e-9)
        }
        // From 3 s on: exactly the target.
        for i in stride(from: 180, to: s.frameCount, by: 11) {
            let truth = sim.truth(ofFrame: i)
            #expect(same(truth[1], truth[0] * headToMRI.inverse * target, tolerance: 1e-9), "frame \(i)")
        }
        // Statuses: the coil hidden in frames 480..<522 (8.0 ≤ t < 8.7 s), the pointer partly out
        // of the volume throughout, the head reference always seen.
        for i in 0..<s.frameCount {
            let statuses = sim.frame(i).tools.map(\.status)
            let hidden = (480..<522).contains(i)
            #expect(statuses == [.ok, hidden ? .missing : .ok, .partlyOutOfVolume], "frame \(i)")
        }
        // Measured (noise-free, float32): the on-target rule first holds at frame F and, held 0.5 s,
        // is ON TARGET at F + 30, about 3.1 s.
        var heldSince: Int?
        var onTargetAt: Int?
        for i in 0..<480 {
            let f = sim.frame(i)
            let e = error([try #require(f.tools[0].measured).transform, try #require(f.tools[1].measured).transform])
            if e.onTarget {
                if heldSince == nil { heldSince = i }
                if onTargetAt == nil, i - heldSince! >= 30 { onTargetAt = i }
            } else {
                #expect(onTargetAt == nil, "off again at frame \(i)")
                heldSince = nil
            }
        }
        let at = try #require(onTargetAt)
        #expect(at >= 170 && at <= 200, "ON TARGET at frame \(at)")
    }

    // MARK: static-noise-free

    @Test func staticNoiseFreeHasTheDocumentedCoilToTarget() throws {
        let s = try MockScenario.load(path: Paths.scenario("static-noise-free.json"))
        let headToMRI = try demoHeadToMRI()
        let target = try #require(try demoPlan().target(named: "DLPFC-Fox2012")).coilToMRI
        let offset = RigidTransform(rotation: Quaternion(axis: Vector3(0, 1, 0), angleRadians: radians(fromDegrees: 3)), translation: Vector3(1.5, -2, 0.5))
        for seed: UInt64 in [0, 7] {
            let sim = MockSimulation(scenario: s, seed: seed)
            let first = sim.frame(0)
            for i in [0, 150, s.frameCount - 1] {
                let f = sim.frame(i)
                #expect(f.tools.map(\.status) == [.ok, .ok])
                #expect(f.tools.map(\.truth) == first.tools.map(\.truth), "static")
                // Truth: coilToTarget is the documented offset, to rounding.
                let coilToMRI = headToMRI * f.tools[0].truth.inverse * f.tools[1].truth
                #expect(same(target.inverse * coilToMRI, offset, tolerance: 1e-9))
                let e = CoilError(coilToMRI: coilToMRI, targetToMRI: target)
                #expect(Swift.abs(e.distanceMM - 6.5.squareRoot()) < 1e-9)
                #expect(Swift.abs(e.inPlaneMM - 2.5) < 1e-9)
                #expect(Swift.abs(e.depthMM - 0.5) < 1e-9)
                #expect(Swift.abs(e.tiltDegrees - 3) < 1e-9)
                #expect(Swift.abs(e.twistDegrees) < 1e-9)
                // Metrics from what the wire carries (float32) are within a few 1e-4 mm of the
                // truth's, as the README says.
                let received = CoilError(
                    coilToMRI: headToMRI * (try #require(f.tools[0].measured)).transform.inverse * (try #require(f.tools[1].measured)).transform,
                    targetToMRI: target)
                #expect(Swift.abs(received.distanceMM - e.distanceMM) < 1e-3)
                #expect(Swift.abs(received.tiltDegrees - e.tiltDegrees) < 1e-4)
                // Measured: the truth rounded to float32, identical in every frame and for every
                // seed (no noise), and within float32 resolution of the truth.
                #expect(f.tools.map(\.measured) == first.tools.map(\.measured))
                for t in f.tools {
                    let m = try #require(t.measured)
                    let d = poseDifference(m.transform, t.truth)
                    #expect(d.mm < 2e-4 && d.degrees < 1e-5)
                    #expect(t.rmsErrorMM == 0)
                }
            }
        }
    }

    // MARK: pivot

    @Test func pivotKeepsTheTipOnThePivotWhileSwingingWidely() throws {
        let s = try MockScenario.load(path: Paths.scenario("pivot.json"))
        let sim = MockSimulation(scenario: s, seed: 3)
        let pointer = s.tools[0]
        let tip = try #require(pointer.motion.tipMM)
        let pivot = Vector3(-50, 30, -1500)
        var maxAngle = 0.0
        var measuredTipSpread = 0.0
        let rest = sim.truth(ofFrame: 0)[0]
        for i in 0..<s.frameCount {
            let f = sim.frame(i)
            let truth = f.tools[0].truth
            #expect(truth.apply(to: tip).distance(to: pivot) < 1e-9, "frame \(i)")
            maxAngle = Swift.max(maxAngle, degrees(fromRadians: (rest.inverse * truth).rotationAngleRadians))
            let m = try #require(f.tools[0].measured)
            measuredTipSpread = Swift.max(measuredTipSpread, m.transform.apply(to: tip).distance(to: pivot))
        }
        #expect(maxAngle > 40, "the pointer swings \(maxAngle)°")
        // Noise moves the measured tip by the translation noise plus the rotation noise on the
        // 158 mm lever (0.1 mm and 0.05° per axis): a few tenths of a millimetre, never more.
        #expect(measuredTipSpread > 0.1 && measuredTipSpread < 1.5, "\(measuredTipSpread) mm")
    }

    // MARK: landmarks

    @Test func registerWalkthroughHasItsRefusalWindows() throws {
        let s = try MockScenario.load(path: Paths.scenario("register-walkthrough.json"))
        let sim = MockSimulation(scenario: s, seed: 9)
        let pointer = try #require(s.tool(named: "pointer"))
        let visits = pointer.landmarkVisits
        #expect(visits.map(\.label) == ["NAS", "LPA", "RPA", "Cz", "Iz"])
        #expect(visits.map(\.fromSeconds) == [2, 5, 8, 11, 14])
        #expect(visits.map(\.toSeconds) == [4, 7, 10, 13, 16])
        func statuses(at t: Double) -> [MockToolStatus] { sim.frame(Int((t * 60).rounded())).tools.map(\.status) }
        #expect(statuses(at: 1.0) == [.ok, .missing])  // pointer hidden
        #expect(statuses(at: 2.5) == [.ok, .ok])
        #expect(statuses(at: 8.4) == [.missing, .ok])  // head reference hidden during the RPA dwell
        #expect(statuses(at: 9.2) == [.ok, .ok])
        // Travelling between NAS and LPA the tip moves fast (≥ 20 mm/s mid-way).
        let tip = try #require(pointer.motion.tipMM)
        let a = sim.truth(atSeconds: 4.45), b = sim.truth(atSeconds: 4.55)
        #expect(a[1].apply(to: tip).distance(to: b[1].apply(to: tip)) > 2)
    }

    @Test func pivotWalkthroughKeepsTheTipOnThePivotAndHidesThePointerFirst() throws {
        let s = try MockScenario.load(path: Paths.scenario("pivot-walkthrough.json"))
        let sim = MockSimulation(scenario: s, seed: 4)
        let tip = Vector3(-1.2, 0.4, -158.3)
        for i in stride(from: 0, to: s.frameCount, by: 7) {
            #expect(sim.truth(ofFrame: i)[0].apply(to: tip).distance(to: Vector3(-50, 30, -1500)) < 1e-9)
            #expect((sim.frame(i).tools[0].status == .missing) == (sim.seconds(ofFrame: i) < 1.5))
        }
    }

    @Test func coilCalibrationScenarioPutsTheMarksOnTheModelAndTheCoilInThePlate() throws {
        let s = try MockScenario.load(path: Paths.scenario("coil-calibration.json"))
        let sim = MockSimulation(scenario: s, seed: 4)
        let coilToMarker = RigidTransform(
            rotation: Quaternion(axis: Vector3(1, 0.2, 0) / Vector3(1, 0.2, 0).length, angleRadians: 12 * .pi / 180),
            translation: Vector3(0, -85, -40))
        let coilToPlate = RigidTransform(rotation: Quaternion(axis: Vector3(0, 0, 1), angleRadians: .pi / 2), translation: Vector3(10, -5, 30))
        let model = ["LEFT": Vector3(-60, 0, -10), "RIGHT": Vector3(60, 0, -10), "FRONT": Vector3(0, 45, -12), "HANDLE": Vector3(0, -70, -18)]
        let pointer = try #require(s.tool(named: "pointer"))
        let tip = try #require(pointer.motion.tipMM)
        for v in pointer.landmarkVisits {
            let truth = sim.truth(atSeconds: (v.fromSeconds + v.toSeconds) / 2)  // phantom, coil, pointer
            let tipInCoilFrame = (truth[1] * coilToMarker).inverse.apply(to: truth[2].apply(to: tip))
            #expect(tipInCoilFrame.distance(to: try #require(model[v.label])) < 1e-9, "\(v.label)")
            #expect((truth[1] * coilToMarker).difference(to: truth[0] * coilToPlate).translationMM < 1e-9)
        }
        #expect(sim.frame(Int(5.4 * 60)).tools[1].status == .missing)
    }

    @Test func landmarksRestTheTipOnEachFiducialInHeadSpace() throws {
        let s = try MockScenario.load(path: Paths.scenario("landmarks.json"))
        let sim = MockSimulation(scenario: s, seed: 5)
        let headToMRI = try demoHeadToMRI()
        let plan = try demoPlan()
        let pointer = try #require(s.tool(named: "pointer"))
        let tip = try #require(pointer.motion.tipMM)
        let visits = pointer.landmarkVisits
        #expect(visits.map(\.label) == ["NAS", "LPA", "RPA", "Cz", "Iz"])
        #expect(visits.map(\.fromSeconds) == [3, 8, 13, 18, 23])
        #expect(visits.map(\.toSeconds) == [6, 11, 16, 21, 26])
        var dwellFrames = 0
        for i in 0..<s.frameCount {
            let t = sim.seconds(ofFrame: i)
            let truth = sim.truth(ofFrame: i)
            let tipInHead = truth[0].inverse.apply(to: truth[1].apply(to: tip))
            let tipInMRI = headToMRI.apply(to: tipInHead)
            if let v = visits.first(where: { t >= $0.fromSeconds && t < $0.toSeconds }) {
                dwellFrames += 1
                let fiducial = try #require(plan.fiducials.first { $0.label == v.label }).position
                #expect(tipInHead.distance(to: headToMRI.inverse.apply(to: fiducial)) < 1e-9, "frame \(i) on \(v.label)")
                #expect(tipInMRI.distance(to: fiducial) < 1e-9)
            } else {
                // Between dwells the tip is off every fiducial (lifted or travelling), except at
                // the very edges of a dwell.
                let nearest = plan.fiducials.map { $0.position.distance(to: tipInMRI) }.min()!
                let edge = visits.contains { Swift.abs(t - $0.fromSeconds) < 0.2 || Swift.abs(t - $0.toSeconds) < 0.2 }
                if !edge { #expect(nearest > 0.5, "frame \(i) at \(t) s") }
            }
        }
        #expect(dwellFrames == 5 * 3 * 60)
        // The head moves, so the tip moves in tracker space during a dwell.
        let a = sim.truth(atSeconds: 3.0), b = sim.truth(atSeconds: 5.9)
        #expect(a[1].apply(to: tip).distance(to: b[1].apply(to: tip)) > 0.05)
    }

    // MARK: scalp-sweep

    @Test func scalpSweepKeepsTheTipOnTheScalpAndTouchesEverySample() throws {
        let s = try MockScenario.load(path: Paths.scenario("scalp-sweep.json"))
        let sim = MockSimulation(scenario: s, seed: 9)
        let headToMRI = try demoHeadToMRI()
        let index = try MeshIndex(mesh: MeshFile.read(path: Paths.demo("scalp.ply")))
        let pointer = try #require(s.tool(named: "pointer"))
        let tip = try #require(pointer.motion.tipMM)
        let points = pointer.motion.sweepPointsMM
        #expect(points.count == 120)
        for p in points {
            #expect(p.z >= -25 && p.y <= 65, "sampled in the box (triangle centres inside)")
            #expect(try #require(index.closestPoint(to: p)).distanceMM < 1e-9)
        }
        var visited = Set<Int>()
        var path = 0.0
        var previous: Vector3? = nil
        for i in 0..<s.frameCount {
            let truth = sim.truth(ofFrame: i)
            let tipInMRI = headToMRI.apply(to: truth[0].inverse.apply(to: truth[1].apply(to: tip)))
            let hit = try #require(index.closestPoint(to: tipInMRI))
            #expect(hit.distanceMM < 1e-9, "frame \(i): the tip is \(hit.distanceMM) mm off the scalp")
            // The tip axis is along the inward normal (within the smoothing of vertex normals).
            let shaft = (headToMRI * truth[0].inverse * truth[1]).rotate(tip).normalized
            #expect(shaft.dot(-hit.normal) > 0.8)
            for (k, p) in points.enumerated() where p.distance(to: tipInMRI) < 1e-6 { visited.insert(k) }
            if let q = previous { path += q.distance(to: tipInMRI) }
            previous = tipInMRI
        }
        #expect(visited.count == points.count, "every sampled point is touched")
        #expect(path > 500, "the sweep covers the cranium (\(path) mm of path)")
    }

    // MARK: occlusion-and-faults

    @Test func occlusionsWindowsDropoutsAndFaultsHappenWhereTheFileSays() throws {
        let s = try MockScenario.load(path: Paths.scenario("occlusion-and-faults.json"))
        let sim = MockSimulation(scenario: s, seed: 11)
        var dropouts = 0
        var seenCoilFrames = 0
        var faults: [Int: MockFault] = [:]
        for i in 0..<s.frameCount {
            let f = sim.frame(i)
            let t = sim.seconds(ofFrame: i)
            #expect(f.frameNumber == 5000 + UInt32(i))
            if let fault = f.fault { faults[i] = fault }
            let (head, coil, pointer) = (f.tools[0], f.tools[1], f.tools[2])
            #expect(head.status == (t >= 6 && t < 6.5 ? .missing : .ok), "head at \(t) s")
            #expect(pointer.status == (t >= 10 && t < 12 ? .disabled : .ok), "pointer at \(t) s")
            if t >= 3 && t < 4.5 {
                #expect(coil.status == .missing)
            } else {
                let expected: MockToolStatus = t >= 8 && t < 9 ? .partlyOutOfVolume : .ok
                if coil.status == .missing { dropouts += 1 } else { #expect(coil.status == expected, "coil at \(t) s") }
                seenCoilFrames += 1
            }
            for tool in f.tools {
                let posed = tool.status == .ok || tool.status == .partlyOutOfVolume
                #expect((tool.measured != nil) == posed)
                #expect((tool.rmsErrorMM > 0) == posed)
            }
        }
        #expect(faults == [120: .corruptCRC, 300: .stall(.milliseconds(250)), 600: .disconnect(.seconds(2))])
        // 2% of 810 frames: 16.2 expected, standard deviation 4.
        #expect(dropouts >= 4 && dropouts <= 32, "\(dropouts) dropouts in \(seenCoilFrames) frames")
        #expect(s.tools[2].setup == .active)
        #expect(s.tools[0].setup.toolDefinition == "tools/head-reference.rom")
    }

    // MARK: head-motion

    @Test func headMotionMovesTheHeadButNotTheCoilRelativeToIt() throws {
        let s = try MockScenario.load(path: Paths.scenario("head-motion.json"))
        let sim = MockSimulation(scenario: s, seed: 13)
        let first = sim.truth(ofFrame: 0)
        let coilToHead0 = first[0].inverse * first[1]
        var maxTravel = 0.0, maxTurn = 0.0
        for i in 0..<s.frameCount {
            let truth = sim.truth(ofFrame: i)
            #expect(same(truth[0].inverse * truth[1], coilToHead0, tolerance: 1e-9), "frame \(i)")
            let d = poseDifference(first[0], truth[0])
            maxTravel = Swift.max(maxTravel, d.mm)
            maxTurn = Swift.max(maxTurn, d.degrees)
        }
        #expect(maxTravel > 10, "the head reference travels \(maxTravel) mm")
        #expect(maxTurn > 4.9, "and turns \(maxTurn)° (±5° from the rest pose)")
    }

    // MARK: static-jitter

    @Test func staticJitterHasTheDocumentedSpread() throws {
        let s = try MockScenario.load(path: Paths.scenario("static-jitter.json"))
        let sim = MockSimulation(scenario: s, seed: 17)
        let truth = sim.truth(ofFrame: 0)[0]
        var sumSquares = Vector3.zero, sumAngle2 = 0.0
        for i in 0..<s.frameCount {
            let f = sim.frame(i)
            #expect(f.tools[0].truth == truth)
            let m = try #require(f.tools[0].measured)
            let d = m.translationMM - truth.translation
            sumSquares += d * d
            sumAngle2 += (truth.inverse * m.transform).rotationAngleRadians * (truth.inverse * m.transform).rotationAngleRadians
            #expect(f.tools[0].rmsErrorMM == Double(Float(0.12)))
        }
        let n = Double(s.frameCount)
        // 1200 samples: the sample standard deviation of each axis is within ±8% of 0.1 mm
        // (4σ of its sampling distribution).
        for k in 0..<3 { #expect(Swift.abs((sumSquares[k] / n).squareRoot() - 0.1) < 0.008, "axis \(k)") }
        #expect(Swift.abs((sumSquares.sum() / n).squareRoot() - 0.1 * 3.0.squareRoot()) < 0.01)
        // Rotation: three components of σ = 0.05° each, so the RMS angle is √3 · 0.05°.
        let rmsDegrees = degrees(fromRadians: (sumAngle2 / n).squareRoot())
        #expect(Swift.abs(rmsDegrees - 0.05 * 3.0.squareRoot()) < 0.008, "\(rmsDegrees)°")
    }
}
