import Foundation
import Formats
import Geometry
import Testing

@testable import MockTracker

/// The determinism contract of `MockSimulation`, statuses, measurement rounding and timing.
@Suite struct SimulationTests {
    @Test(arguments: ["demo-approach.json", "occlusion-and-faults.json", "landmarks.json"])
    func sameScenarioAndSeedGiveBitIdenticalFrames(file: String) throws {
        let s = try MockScenario.load(path: Paths.scenario(file))
        let sim = MockSimulation(scenario: s, seed: 42)
        let first = digest(of: sim)
        #expect(digest(of: sim) == first, "the same simulation twice")
        // A fresh parse and a fresh simulation.
        let again = MockSimulation(scenario: try MockScenario.load(path: Paths.scenario(file)), seed: 42)
        #expect(digest(of: again) == first)
        // Another seed gives other noise …
        let other = MockSimulation(scenario: s, seed: 43)
        #expect(digest(of: other) != first)
        #expect(other.frame(100).tools.map(\.measured) != sim.frame(100).tools.map(\.measured))
        // … but the same truth.
        for i in stride(from: 0, to: s.frameCount, by: 37) {
            #expect(other.frame(i).tools.map(\.truth) == sim.frame(i).tools.map(\.truth))
        }
    }

    @Test func framesAreRandomAccess() throws {
        let s = try MockScenario.load(path: Paths.scenario("occlusion-and-faults.json"))
        let sim = MockSimulation(scenario: s, seed: 5)
        let forward = (0..<s.frameCount).map { sim.frame($0) }
        let backward = (0..<s.frameCount).reversed().map { sim.frame($0) }.reversed()
        #expect(Array(backward) == forward)
        // Past the end the motions hold and frames stay defined.
        let later = sim.frame(s.frameCount + 10)
        #expect(later.frameNumber == 5000 + UInt32(s.frameCount + 10))
        #expect(later.tools.map(\.truth) == forward.last!.tools.map(\.truth))
    }

    @Test func measurementsAreFloat32ValuesAndNoiseFreeMeansRoundedTruth() throws {
        let s = try MockScenario.load(path: Paths.scenario("demo-approach.json"))
        let sim = MockSimulation(scenario: s, seed: 8)
        for i in stride(from: 0, to: s.frameCount, by: 11) {
            for t in sim.frame(i).tools {
                let m = try #require(t.measured)
                for v in [m.rotation.q0, m.rotation.qx, m.rotation.qy, m.rotation.qz, m.translationMM.x, m.translationMM.y, m.translationMM.z, t.rmsErrorMM] {
                    #expect(Double(Float(v)) == v)
                }
                #expect(m.rotation.q0 >= 0)
                #expect(Swift.abs(m.rotation.norm - 1) < 1e-6)
            }
        }
        let clean = MockSimulation(scenario: try MockScenario.load(path: Paths.scenario("static-noise-free.json")), seed: 8)
        for t in clean.frame(3).tools {
            let q = t.truth.quaternion
            let m = try #require(t.measured)
            #expect(m.rotation == Quaternion(q0: Double(Float(q.q0)), qx: Double(Float(q.qx)), qy: Double(Float(q.qy)), qz: Double(Float(q.qz))))
            #expect(m.translationMM == Vector3(Double(Float(t.truth.translation.x)), Double(Float(t.truth.translation.y)), Double(Float(t.truth.translation.z))))
        }
    }

    @Test func oneToolsNoiseDoesNotDependOnAnotherTool() throws {
        func run(_ otherSigma: Double, otherDropout: Double) throws -> [MockMeasurement?] {
            let s = try scenario(document(
                """
                "tools": [
                    \(tool("a", handle: 1, motion: #"{"type": "static", "pose": {"translationMM": [0, 0, -1000]}}"#, extra: #""noise": {"translationSigmaMM": 0.2, "rotationSigmaDegrees": 0.1}"#)),
                    \(tool("b", handle: 2, motion: #"{"type": "static", "pose": {}}"#, extra: "\"noise\": {\"translationSigmaMM\": \(otherSigma)}, \"dropoutProbability\": \(otherDropout)"))
                ]
                """))
            let sim = MockSimulation(scenario: s, seed: 99)
            return (0..<200).map { sim.frame($0).tools[0].measured }
        }
        #expect(try run(0, otherDropout: 0) == run(3, otherDropout: 0.5))
    }

    @Test func statusPrecedenceIsDisabledThenMissingThenPartlyOutOfVolume() throws {
        let s = try scenario(document(
            """
            "tools": [\(tool("a", handle: 1, motion: #"{"type": "static", "pose": {}}"#, extra: #"""
                "dropoutProbability": 1,
                "disabled": [{"fromSeconds": 1, "toSeconds": 2}],
                "partlyOutOfVolume": [{"fromSeconds": 2, "toSeconds": 3}]
                """#)),
                      \(tool("b", handle: 2, motion: #"{"type": "static", "pose": {}}"#, extra: #"""
                "occlusions": [{"fromSeconds": 0.5, "toSeconds": 1}],
                "partlyOutOfVolume": [{"fromSeconds": 2, "toSeconds": 3}]
                """#))]
            """, rate: 10, duration: 4))
        let sim = MockSimulation(scenario: s, seed: 1)
        let a = (0..<40).map { sim.frame($0).tools[0].status }
        let b = (0..<40).map { sim.frame($0).tools[1].status }
        // A dropout probability of 1 hides the tool whenever it is not disabled, including
        // while it is partly out of volume.
        #expect(a == Array(repeating: .missing, count: 10) + Array(repeating: .disabled, count: 10) + Array(repeating: .missing, count: 20))
        // Windows are half-open [from, to) on frame times i / rate.
        #expect(b == Array(repeating: .ok, count: 5) + Array(repeating: .missing, count: 5) + Array(repeating: .ok, count: 10)
            + Array(repeating: .partlyOutOfVolume, count: 10) + Array(repeating: .ok, count: 10))
        let partly = sim.frame(25).tools[1]
        #expect(partly.measured != nil)
    }

    @Test func dropoutsHappenAtTheGivenRate() throws {
        let s = try scenario(document("\"tools\": [\(tool("a", handle: 1, motion: #"{"type": "static", "pose": {}}"#, extra: #""dropoutProbability": 0.3"#))]", rate: 1000, duration: 10))
        let sim = MockSimulation(scenario: s, seed: 2024)
        let missing = (0..<s.frameCount).filter { sim.frame($0).tools[0].status == .missing }.count
        // Binomial(10000, 0.3): mean 3000, standard deviation 45.8; ±5σ.
        #expect(Swift.abs(missing - 3000) < 230, "\(missing)")
    }

    @Test func translationNoiseHasTheGivenSigmaPerAxis() throws {
        let s = try scenario(document("\"tools\": [\(tool("a", handle: 1, motion: #"{"type": "static", "pose": {"translationMM": [100, 200, -1500]}}"#, extra: #""noise": {"translationSigmaMM": 0.25}"#))]", rate: 1000, duration: 10))
        let sim = MockSimulation(scenario: s, seed: 77)
        var sum = Vector3.zero, sum2 = Vector3.zero
        for i in 0..<s.frameCount {
            let m = try #require(sim.frame(i).tools[0].measured)
            let d = m.translationMM - Vector3(100, 200, -1500)
            sum += d
            sum2 += d * d
            // No rotation noise was asked for: the rotation is the identity's float32 rounding.
            #expect(m.rotation == .identity)
        }
        let n = Double(s.frameCount)
        for k in 0..<3 {
            #expect(Swift.abs(sum[k] / n) < 0.25 * 5 / n.squareRoot())
            // The sample standard deviation of 10000 normals is within ±5% of σ (about 7σ of its spread).
            #expect(Swift.abs((sum2[k] / n).squareRoot() - 0.25) < 0.0125)
        }
    }

    @Test func frameNumbersWrapAndTimesAreExact() throws {
        let s = try scenario(#"{"format": "coilnav-mock-scenario", "version": 1, "frameRateHz": 250, "frameCount": 10, "startFrameNumber": 4294967294, "tools": [\#(tool("a", handle: 1, motion: #"{"type": "static", "pose": {}}"#))]}"#)
        let sim = MockSimulation(scenario: s, seed: 0)
        #expect((0..<4).map { sim.frame($0).frameNumber } == [4_294_967_294, 4_294_967_295, 0, 1])
        #expect(sim.frame(1).timeSinceStart == .milliseconds(4))
        #expect(sim.frame(250).timeSinceStart == .seconds(1))
        #expect(sim.frame(0).timeSinceStart == .zero)
        #expect(MockSimulation.time(ofFrame: 3, rateHz: 60) == .milliseconds(50))
        // 1/60 s rounded down to the attosecond.
        #expect(MockSimulation.time(ofFrame: 1, rateHz: 60) == Duration(secondsComponent: 0, attosecondsComponent: 16_666_666_666_666_666))
        #expect(MockSimulation.time(ofFrame: 7_200_061, rateHz: 60) == Duration(secondsComponent: 120_001, attosecondsComponent: 16_666_666_666_666_666))
        // Non-integer rates go through Double.
        #expect(MockSimulation.time(ofFrame: 5994, rateHz: 59.94) == .seconds(100))
        #expect(sim.seconds(ofFrame: 5) == 0.02)
        #expect(s.duration == .milliseconds(40))
    }

    @Test func faultsAppearOnlyOnTheirFrames() throws {
        let s = try MockScenario.load(path: Paths.scenario("occlusion-and-faults.json"))
        let sim = MockSimulation(scenario: s, seed: 0)
        let faulted = (0..<s.frameCount).filter { sim.frame($0).fault != nil }
        #expect(faulted == [120, 300, 600])
        #expect(sim.fault(ofFrame: 300) == .stall(.milliseconds(250)))
        #expect(sim.fault(ofFrame: 301) == nil)
    }

    @Test func toolsKeepScenarioOrderAndHandles() throws {
        let s = try MockScenario.load(path: Paths.scenario("demo-approach.json"))
        let f = MockSimulation(scenario: s, seed: 0).frame(0)
        #expect(f.tools.map(\.name) == ["head", "coil", "pointer"])
        #expect(f.tools.map(\.handle) == [1, 2, 3])
        #expect(s.tools.map(\.kind) == [.headReference, .coil, .pointer])
        #expect(s.tools.map(\.setup.toolDefinition) == ["tools/head-reference.rom", "tools/coil-reference.rom", "tools/pointer.rom"])
        #expect(s.tools.map(\.space) == [.tracker, .mri, .tracker])
        #expect(f.frameNumber == 1000)
    }
}
