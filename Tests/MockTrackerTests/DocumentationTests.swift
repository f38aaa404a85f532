import Foundation
import Testing

@testable import MockTracker

/// `Mock/scenarios/README.md` stays true: its complete examples parse and run, and its table
/// lists exactly the shipped scenarios.
@Suite struct DocumentationTests {
    static let readme: String = (try? String(contentsOfFile: Paths.scenario("README.md"), encoding: .utf8)) ?? ""

    @Test func jsonExamplesAreValidScenarios() throws {
        let blocks = Self.readme.components(separatedBy: "```json\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        #expect(!blocks.isEmpty)
        for block in blocks {
            let s = try MockScenario.parse(data: Data(block.utf8), source: "README.md example", baseDirectory: Paths.scenarios)
            let sim = MockSimulation(scenario: s, seed: 1)
            for i in stride(from: 0, to: s.frameCount, by: 97) { _ = sim.frame(i) }
        }
    }

    @Test func tableListsTheShippedScenarios() throws {
        let listed = Self.readme.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `"), let end = line.dropFirst(3).firstIndex(of: "`") else { return nil }
            let name = String(line[line.index(line.startIndex, offsetBy: 3)..<end])
            return name.hasSuffix(".json") ? name : nil
        }
        let shipped = try FileManager.default.contentsOfDirectory(atPath: Paths.scenarios).filter { $0.hasSuffix(".json") }
        #expect(listed.sorted() == shipped.sorted())
    }
}
