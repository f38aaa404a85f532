import Foundation
import Geometry
import Testing

@testable import MockTracker

/// The `--dump-truth` JSON lines: fixed layout, exact numbers.
@Suite struct TruthDumpTests {
    @Test func lineLayoutIsFixed() {
        // The pose of the decoded BX example in protocols.md §1.4.
        let pose = RigidTransform(rotation: Quaternion(q0: 0.5, qx: 0.5, qy: 0.5, qz: 0.5), translation: Vector3(12.5, -34.25, -1500))
        #expect(
            TruthDump.line(frameNumber: 1234, tool: "coil", pose: pose)
                == #"{"frame":1234,"tool":"coil","q":[0.5,0.5,0.5,0.5],"t":[12.5,-34.25,-1500.0]}"# + "\n")
        #expect(
            TruthDump.line(frameNumber: 0, tool: "a \"b\"\\c", pose: .translation(Vector3(0.1, 1e-05, 1e21)))
                == #"{"frame":0,"tool":"a \"b\"\\c","q":[1.0,0.0,0.0,0.0],"t":[0.1,1e-05,1e+21]}"# + "\n")
    }

    @Test func numbersReadBackToTheExactDoubles() throws {
        let s = try MockScenario.load(path: Paths.scenario("demo-approach.json"))
        let sim = MockSimulation(scenario: s, seed: 1)
        for i in [0, 777, 1800] {
            let text = TruthDump.lines(of: sim, frame: i)
            let lines = text.split(separator: "\n")
            #expect(lines.count == s.tools.count)
            #expect(text.hasSuffix("\n"))
            let truth = sim.truth(ofFrame: i)
            for (k, line) in lines.enumerated() {
                #expect(line.hasPrefix("{\"frame\":\(1000 + i),\"tool\":\"\(s.tools[k].name)\",\"q\":["))
                #expect(!line.contains(" "))
                // Pull the seven numbers out and parse them with Double(_:) (correctly rounded).
                let q = try #require(line.split(separator: "\"q\":[").last?.split(separator: "]").first)
                let t = try #require(line.split(separator: "\"t\":[").last?.split(separator: "]").first)
                let qv = q.split(separator: ",").map { Double(String($0))! }
                let tv = t.split(separator: ",").map { Double(String($0))! }
                let expectedQ = truth[k].quaternion
                #expect(qv == [expectedQ.q0, expectedQ.qx, expectedQ.qy, expectedQ.qz])
                #expect(tv == [truth[k].translation.x, truth[k].translation.y, truth[k].translation.z])
                // And the line is valid JSON with the four keys.
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                #expect(Set(object.keys) == ["frame", "tool", "q", "t"])
            }
        }
    }

    @Test func dumpIsTheSameForEverySeedAndEveryRun() throws {
        let s = try MockScenario.load(path: Paths.scenario("landmarks.json"))
        let a = MockSimulation(scenario: s, seed: 1), b = MockSimulation(scenario: s, seed: 2)
        var textA = "", textB = ""
        for i in stride(from: 0, to: s.frameCount, by: 13) {
            textA += TruthDump.lines(of: a, frame: i)
            textB += TruthDump.lines(of: b, frame: i)
        }
        #expect(textA == textB)
        #expect(textA == (0..<s.frameCount).filter { $0 % 13 == 0 }.map { TruthDump.lines(of: a, frame: $0) }.joined())
    }
}
