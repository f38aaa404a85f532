import Formats
import Foundation
import Geometry
import Testing

@Suite struct DemoRegistrationTests {
    /// ground-truth.json's `headToMRI`, read as plain JSON.
    static func groundTruth() throws -> [[Double]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: repositoryPath("Mock/demo/ground-truth.json")))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(object["headToMRI"] as? [[Double]])
    }

    @Test func holdsTheGroundTruthExactly() throws {
        let record = try RegistrationRecord.load(path: repositoryPath("Mock/demo/registration.json"))
        let truth = try Self.groundTruth()
        var largest = 0.0
        for (row, truthRow) in zip(record.headToMRI.matrix4x4, truth) {
            for (x, y) in zip(row, truthRow) { largest = max(largest, abs(x - y)) }
        }
        #expect(truth.count == 4 && largest < 1e-12)
        #expect(try #require(record.notes).hasPrefix("SIMULATION TRUTH, not a measured registration"))
        #expect(record.createdAt == "2026-11-22T00:23:00Z" && record.fleMM == 1 && record.surface == nil)
    }

    /// The residuals are the demo's digitised fiducials under the true transform, and the FRE their RMS.
    @Test func residualsAreThoseOfTheSimulatedDigitisation() throws {
        let record = try RegistrationRecord.load(path: repositoryPath("Mock/demo/registration.json"))
        let head = try MarkupsFile.load(path: repositoryPath("Mock/demo/head-fiducials.mrk.json")).markups[0].points
        let mri = try MarkupsFile.load(path: repositoryPath("Mock/demo/mri-fiducials.mrk.json")).markups[0].points
        #expect(record.fiducialResiduals.map(\.name) == ["NAS", "LPA", "RPA", "Cz", "Iz"])
        var sumOfSquares = 0.0
        for r in record.fiducialResiduals {
            let h = try #require(head.first { $0.label == r.name }).position
            let m = try #require(mri.first { $0.label == r.name }).position
            let residual = record.headToMRI.apply(to: h).distance(to: m)
            #expect(abs(residual - r.residualMM) < 1e-9, "\(r.name)")
            sumOfSquares += residual * residual
        }
        #expect(abs((sumOfSquares / 5).squareRoot() - record.freMM) < 1e-9)
        #expect(record.freMM > 0.5 && record.freMM < 1.0)
    }
}
