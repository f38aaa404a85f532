import Formats
import Foundation
import Geometry
import Testing

@testable import MockTracker

/// The QA scenarios play `Calibration/phantoms/mock-phantom.json`'s protocol: checked on the
/// noise-free truth against the phantom file, and on the measured noise.
@Suite struct QAScenarioTests {
    static let phantomFile = Paths.root.appendingPathComponent("Calibration/phantoms/mock-phantom.json").path
    static let calibratedTip = Vector3(-1.2, 0.4, -158.3)

    struct Timeline {
        let scenario: MockScenario
        let sim: MockSimulation
        let phantom: Int
        let pointer: Int
        init(_ file: String) throws {
            self.scenario = try MockScenario.load(path: Paths.scenario(file))
            self.sim = MockSimulation(scenario: self.scenario, seed: 1)
            self.phantom = try #require(self.scenario.tools.firstIndex { $0.name == "phantom" })
            self.pointer = try #require(self.scenario.tools.firstIndex { $0.name == "pointer" })
        }
        /// The pointer's physical tip in phantom coordinates at frame i (noise-free).
        func tip(_ i: Int, tipMM: Vector3) -> Vector3 {
            let t = self.sim.truth(ofFrame: i)
            return (t[self.phantom].inverse * t[self.pointer]).apply(to: tipMM)
        }
    }

    @Test func qaPhantomPlaysThePhantomFilesProtocol() throws {
        let qa = try QAPhantom.load(path: Self.phantomFile)
        let t = try Timeline("qa-phantom.json")
        let s = t.scenario
        #expect(s.frameRateHz == 60 && s.frameCount == 1500)
        // The phases of the phantom file at 60 Hz: pause 0–59, still 60–359, pause 360–419,
        // pivot 420–779, landmarks from 780.
        #expect(qa.phases.map(\.durationSeconds) == [1, 5, 1, 6, nil])
        // The phantom never moves.
        let phantom0 = t.sim.truth(ofFrame: 0)[t.phantom]
        for i in stride(from: 0, to: s.frameCount, by: 13) { #expect(t.sim.truth(ofFrame: i)[t.phantom] == phantom0) }
        // The pointer is in view during the still phase, hidden while it is picked up (6–7 s)
        // and before the landmarks (13–13.5 s).
        let statuses = (0..<s.frameCount).map { t.sim.frame($0).tools[t.pointer].status }
        #expect(statuses[60..<360].allSatisfy { $0 == .ok })
        #expect(statuses[360..<420].allSatisfy { $0 == .missing })
        #expect(statuses[420..<780].allSatisfy { $0 == .ok })
        #expect(statuses[780..<810].allSatisfy { $0 == .missing })
        #expect(statuses[810...].allSatisfy { $0 == .ok })
        // Pivot phase: the tip in the phantom's pivot divot in every frame; the shaft swings about
        // both of the phantom's horizontal axes (its direction's x and y components each range
        // over more than 0.6, i.e. beyond ±17°).
        var lo = Vector3(1, 1, 1)
        var hi = Vector3(-1, -1, -1)
        for i in 420..<780 {
            #expect(t.tip(i, tipMM: Self.calibratedTip).distance(to: Vector3(60, 0, 10)) < 1e-9, "frame \(i)")
            let truth = t.sim.truth(ofFrame: i)
            let shaft = (truth[t.phantom].inverse * truth[t.pointer]).rotate(Self.calibratedTip).normalized
            lo = Vector3(Swift.min(lo.x, shaft.x), Swift.min(lo.y, shaft.y), 0)
            hi = Vector3(Swift.max(hi.x, shaft.x), Swift.max(hi.y, shaft.y), 0)
        }
        #expect(hi.x - lo.x > 0.6 && hi.y - lo.y > 0.6, "shaft ranges \(hi.x - lo.x), \(hi.y - lo.y)")
        // Landmarks: each dwell rests on the phantom file's divot, in order, inside the landmark
        // phase, each 54 frames long.
        let visits = s.tools[t.pointer].landmarkVisits
        #expect(visits.map(\.label) == qa.landmarks.map(\.name))
        for (v, l) in zip(visits, qa.landmarks) {
            #expect(v.positionMM == l.positionMM)
            let first = Int((v.fromSeconds * 60).rounded(.up))
            let last = Int((v.toSeconds * 60).rounded(.up)) - 1
            #expect(last - first + 1 == 54, "\(l.name): \(first)…\(last)")
            #expect(first >= 780)
            for i in first...last {
                #expect(t.tip(i, tipMM: Self.calibratedTip).distance(to: l.positionMM) < 1e-9, "\(l.name) frame \(i)")
            }
        }
        for (v, from) in zip(visits, [14.1, 15.6, 17.1, 18.6, 20.1, 21.6, 23.1]) {
            #expect(Swift.abs(v.fromSeconds - from) < 1e-12)
        }
        // Three corrupt replies: one in the still phase, one in the pivot phase, one between L4 and L5.
        #expect(s.faults.map(\.frameIndex) == [200, 600, 1200])
        #expect(s.faults.allSatisfy { $0.fault == .corruptCRC })
        // The still phase's measured phantom origin: σ = 0.1 mm per tracker axis (300 frames:
        // each sample standard deviation is within 10 % of 0.1, about 2.4 of its standard errors).
        let origins = (60..<360).map { t.sim.frame($0).tools[t.phantom].measured!.translationMM }
        let mean = origins.reduce(Vector3.zero, +) / Double(origins.count)
        for axis in 0..<3 {
            let sd = (origins.map { ($0 - mean)[axis] * ($0 - mean)[axis] }.reduce(0, +) / Double(origins.count))
                .squareRoot()
            #expect(Swift.abs(sd - 0.1) < 0.01, "axis \(axis): \(sd)")
        }
    }

    @Test func theThreeMillimetreErrorIsC2sDivotAndNothingElse() throws {
        let qa = try QAPhantom.load(path: Self.phantomFile)
        let good = try Timeline("qa-phantom.json")
        let bad = try Timeline("qa-phantom-3mm-error.json")
        let visits = bad.scenario.tools[bad.pointer].landmarkVisits
        for (v, l) in zip(visits, qa.landmarks) {
            #expect(v.positionMM.distance(to: l.positionMM) == (l.name == "C2" ? 3 : 0), "\(l.name)")
        }
        #expect(bad.scenario.faults == good.scenario.faults)
        // Before C2's approach (its cycle starts at 13.5 + 6 × 1.5 = 22.5 s) every frame is the same.
        for i in stride(from: 0, to: 1350, by: 7) { #expect(bad.sim.frame(i) == good.sim.frame(i), "frame \(i)") }
        let c2 = try #require(visits.last)
        let i = Int((c2.fromSeconds * 60).rounded(.up)) + 10
        let definition = try #require(qa.landmarks.last).positionMM
        #expect(Swift.abs(bad.tip(i, tipMM: Self.calibratedTip).distance(to: definition) - 3) < 1e-9)
    }

    @Test func theBentPointersTipIsThreeMillimetresFromItsCalibration() throws {
        let qa = try QAPhantom.load(path: Self.phantomFile)
        let good = try Timeline("qa-phantom.json")
        let bent = try Timeline("qa-phantom-bent-pointer.json")
        let bentTip = Vector3(1.8, 0.4, -158.3)
        #expect(bentTip.distance(to: Self.calibratedTip) == 3)
        // The physical (bent) tip still rests in the pivot divot and on every divot…
        for i in stride(from: 420, to: 780, by: 5) {
            #expect(bent.tip(i, tipMM: bentTip).distance(to: Vector3(60, 0, 10)) < 1e-9)
        }
        for (v, l) in zip(bent.scenario.tools[bent.pointer].landmarkVisits, qa.landmarks) {
            #expect(v.positionMM == l.positionMM)
            let i = Int((v.fromSeconds * 60).rounded(.up)) + 20
            #expect(bent.tip(i, tipMM: bentTip).distance(to: l.positionMM) < 1e-9)
            // …so where the calibration puts the tip is 3 mm off it.
            #expect(Swift.abs(bent.tip(i, tipMM: Self.calibratedTip).distance(to: l.positionMM) - 3) < 1e-9)
        }
        // Still phase identical.
        for i in stride(from: 0, to: 360, by: 11) { #expect(bent.sim.frame(i) == good.sim.frame(i)) }
    }
}
