import Formats
import Foundation
import Geometry
import MockTracker
import Testing
import TrackerCore

@testable import QualityAssurance

/// The QA protocol and analysis on the shipped mock phantom, fed the simulation's frames directly
/// (no driver, no server: the end-to-end test runs those): the figures the scenarios script.
@Suite struct QASimulationTests {
    static let calibratedTip = Vector3(-1.2, 0.4, -158.3)

    /// Plays a QA scenario with seed 1 as the host receives it: frames 0, 1, … (the replies with a
    /// corrupt CRC never arrive) until the protocol ends.
    static func run(_ file: String) throws -> (QASession, QAResult, MockSimulation) {
        let phantom = try QAPhantom.load(path: Paths.file("Calibration/phantoms/mock-phantom.json"))
        let scenario = try MockScenario.load(path: Paths.file("Mock/scenarios/\(file)"))
        let sim = MockSimulation(scenario: scenario, seed: 1)
        var session = QASession(
            phantom: phantom, nominalFrameRateHz: scenario.frameRateHz, pointerTipMM: Self.calibratedTip)
        var i = 0
        while !session.isFinished && i < 3 * scenario.frameCount {
            if sim.fault(ofFrame: i) != .corruptCRC { _ = session.consume(trackerFrame(sim.frame(i))) }
            i += 1
        }
        let result = QAAnalysis.evaluate(
            session.recording, phantom: phantom, nominalFrameRateHz: scenario.frameRateHz,
            pointerTipMM: Self.calibratedTip, latency: knownLatency)
        return (session, result, sim)
    }

    static func value(_ r: QAResult, _ id: String) throws -> Double {
        try #require(r.figures.first { $0.id == id }?.value, "\(id)")
    }

    @Test func theMockPhantomPassesWithTheScriptedFigures() throws {
        let (session, result, sim) = try Self.run("qa-phantom.json")
        #expect(session.isFinished)
        #expect(result.verdict == .pass, "\(QAReport.summary(result: result))")

        // Jitter: computed here from the simulation's measured phantom origins of the still phase
        // (frames 60–359 without 200, whose reply is corrupt), the figure is the same to 1e-12.
        let origins = (60..<360).filter { $0 != 200 }.map { sim.frame($0).tools[0].measured!.translationMM }
        let mean = origins.reduce(Vector3.zero, +) / Double(origins.count)
        let squares = origins.map { ($0 - mean).lengthSquared }
        let rms = (squares.reduce(0, +) / Double(origins.count)).squareRoot()
        let largest = squares.max()!.squareRoot()
        #expect(result.jitter?.samples == 299)
        #expect(Swift.abs(try Self.value(result, "jitter-rms") - rms) < 1e-12)
        #expect(Swift.abs(try Self.value(result, "jitter-max") - largest) < 1e-12)
        // …and it is the scenario's noise: σ = 0.1 mm per axis gives E[RMS²] = 3σ²(n − 1)/n, so
        // RMS ≈ 0.1729 mm; n·RMS²/σ² is χ² with 3(n − 1) = 894 degrees of freedom, so the RMS
        // has a relative standard deviation of √(1/(2·894)) = 2.4 %: 10 % is over 4 standard deviations.
        let expected = (3 * 0.01 * 298 / 299).squareRoot()
        #expect(Swift.abs(rms / expected - 1) < 0.10, "RMS \(rms) against \(expected)")
        #expect(Swift.abs(rms - 0.164339066341566) < 1e-12)

        // Frames: every frame from 0 to the end of C2's capture but the 3 corrupt ones.
        let last = try #require(result.frames.lastFrameNumber)
        #expect(result.frames.firstFrameNumber == 0)
        #expect(result.frames.dropped == 3)
        #expect(result.frames.received == Int(last) + 1 - 3)
        #expect(try Self.value(result, "frame-rate") == 60 * Double(Int(last) + 1 - 3) / Double(Int(last) + 1))
        #expect(try Self.value(result, "dropouts") == 300 / Double(Int(last) + 1))
        // C2's dwell starts at 23.1 s (frame 1386); 20 frames at rest and 20 captured end the run
        // before its dwell does (frame 1440).
        #expect(last >= 1386 + 19 && last < 1440, "last frame \(last)")

        // Pivot: the tip found within 0.1 mm of the calibration; windows agree within 0.3 mm.
        let pivot = try #require(result.pivot)
        #expect(pivot.all.tipMM.distance(to: Self.calibratedTip) < 0.1)
        #expect(pivot.all.pivotMM.distance(to: Vector3(60, 0, 10)) < 0.1)
        #expect(pivot.all.poses == 359 && pivot.windows.map(\.poses) == [120, 119, 120])
        #expect(try Self.value(result, "pivot-tip-spread") < 0.3)

        // Accuracy: FRE and TRE of tenths of a millimetre (averaged noise).
        #expect(try Self.value(result, "fre") < 0.1)
        #expect(try Self.value(result, "tre-C1") < 0.3)
        #expect(try Self.value(result, "tre-C2") < 0.3)
        #expect(result.landmarks.allSatisfy { ($0.capture?.sampleCount ?? 0) == 20 })
        // Every capture lies inside its dwell: the window that found the tip at rest may hold the
        // slow end of the approach, the capture after it does not.
        for l in result.landmarks {
            let c = try #require(l.capture)
            let visit = try #require(sim.scenario.tools[1].landmarkVisits.first { $0.label == l.name })
            #expect(Double(c.firstFrame) >= visit.fromSeconds * 60, "\(l.name) from \(c.firstFrame)")
            #expect(Double(c.lastFrame) < visit.toSeconds * 60, "\(l.name) to \(c.lastFrame)")
        }
    }

    @Test func theDamagedCheckPointFailsOnItsTRE() throws {
        let (_, good, _) = try Self.run("qa-phantom.json")
        let (_, result, _) = try Self.run("qa-phantom-3mm-error.json")
        #expect(result.verdict == .fail)
        #expect(result.failures.map(\.id) == ["tre-C2"])
        let tre = try Self.value(result, "tre-C2")
        #expect(Swift.abs(tre - 3) < 0.2, "TRE at C2 \(tre)")
        // Everything before C2 is the same run.
        for id in ["jitter-rms", "jitter-max", "pivot-rms", "pivot-tip-spread", "tip-calibration", "fre", "tre-C1"] {
            #expect(try Self.value(result, id) == Self.value(good, id), "\(id)")
        }
    }

    @Test func theBentPointerFailsOnItsTip() throws {
        let (_, result, _) = try Self.run("qa-phantom-bent-pointer.json")
        #expect(result.verdict == .fail)
        #expect(result.failures.map(\.id).contains("tip-calibration"))
        let deviation = try Self.value(result, "tip-calibration")
        #expect(Swift.abs(deviation - 3) < 0.1, "tip deviation \(deviation)")
        #expect(try #require(result.pivot).all.tipMM.distance(to: Vector3(1.8, 0.4, -158.3)) < 0.1)
        // The registration absorbs most of a bent tip: the check points' TREs stay below 1 mm.
        #expect(try Self.value(result, "tre-C1") < 1 && Self.value(result, "tre-C2") < 1)
    }
}
