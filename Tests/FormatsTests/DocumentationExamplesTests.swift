import Foundation
import Geometry
import Testing

@testable import Formats

/// The JSON examples in docs/file-formats.md are real files: they must read, and say what the
/// document says they say.
@Suite struct DocumentationExamplesTests {
    /// The ```json blocks of the document, in order.
    static func jsonBlocks() throws -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/file-formats.md"), encoding: .utf8)
        var blocks: [String] = []
        var current: [String]? = nil
        for line in text.components(separatedBy: "\n") {
            if line == "```json" {
                current = []
            } else if line == "```", let block = current {
                blocks.append(block.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    @Test func examplesReadAsDocumented() throws {
        let blocks = try Self.jsonBlocks()
        #expect(blocks.count == 3)
        guard blocks.count == 3 else { return }

        // The markups example is exactly what the writer produces for RAS (1.5, 85.25, -34.5).
        let markups = try MarkupsFile.parse(Data(blocks[0].utf8), source: "doc")
        #expect(markups.markups[0].points == [LabeledPoint(label: "NAS", position: Vector3(1.5, 85.25, -34.5))])
        #expect(String(decoding: try markups.serialized(), as: UTF8.self) == blocks[0] + "\n")

        let plan = try Plan.parse(Data(blocks[1].utf8), source: "doc")
        let target = try #require(plan.targets.first)
        // The cortical target lies 20 mm along the coil's z axis, the scalp point 4 mm along it.
        let cortex = target.coilToMRI.apply(to: Vector3(0, 0, 20))
        let skin = target.coilToMRI.apply(to: Vector3(0, 0, 4))
        #expect((cortex - target.cortexMM!).length < 1e-12)
        #expect((skin - target.scalpPointMM!).length < 1e-12)
        #expect(target.coilToCortexMM == 20)
        #expect(plan.resolvedScalpMeshPath(planPath: "/data/sub-01/plan.json") == "/data/sub-01/mesh/scalp.ply")

        let registration = try RegistrationRecord.parse(Data(blocks[2].utf8), source: "doc")
        #expect(registration.surface?.iterations == 23)
        #expect((registration.headToMRI.apply(to: Vector3(1, 0, 0)) - Vector3(3.3, -109.4, 31)).length < 1e-12)
    }

    @Test func pulseLogExampleReadsAndIsWhatTheWriterWrites() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/file-formats.md"), encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "```jsonl"))
        let end = try #require(lines[(start + 1)...].firstIndex(of: "```"))
        let block = lines[(start + 1)..<end].map { $0 + "\n" }.joined()
        let contents = try PulseLogContents.parse(Data(block.utf8), source: "doc")
        #expect(contents.tornLastLine == nil)
        #expect(contents.records.map(\.index) == [1, 2])
        #expect(contents.records[0].coilToMRI?.apply(to: Vector3(0, 0, 0)) == Vector3(10, 20, 30))
        #expect(contents.records[1].invalidReasons == ["coil missing"])
        #expect(try PulseLogContents.headerLine + contents.records.map { try $0.jsonLine() }.joined() == block)
    }
}
