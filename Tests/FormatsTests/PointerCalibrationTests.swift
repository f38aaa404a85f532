import Foundation
import Formats
import Geometry
import Testing

@Suite struct PointerCalibrationTests {
    @Test func theMockPointerCalibrationMatchesTheScenariosTip() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Calibration/pointers/mock-pointer.json")
        let c = try PointerCalibration.load(path: url.path)
        #expect(c.tool == "pointer" && c.method == "simulation" && c.rmsMM == nil)
        #expect(c.tipMM == Vector3(-1.2, 0.4, -158.3))  // Mock/scenarios/landmarks.json's tipMM
    }

    @Test func roundTripsAndRefusesATipAtTheOrigin() throws {
        let c = PointerCalibration(tool: "pointer", tipMM: Vector3(1, 2, -150.25), method: "pivot", rmsMM: 0.118, date: "2026-11-22T09:00:00Z", toolSerial: "3A1B")
        let data = try c.serialized()
        #expect(try PointerCalibration.parse(data, source: "p.json") == c)
        let zero = #"{"format": "coilnav-pointer-calibration", "version": 1, "tool": "pointer", "tipMM": [0, 0, 0], "method": "pivot", "date": "2026-11-22T09:00:00Z"}"#
        let e = formatError { () throws(FileFormatError) in try PointerCalibration.parse(Data(zero.utf8), source: "p.json") }
        #expect(e?.description == "p.json: line 1, column 85: tipMM: the tip cannot be at the marker's origin (0, 0, 0): is this a pivot result?")
    }
}
