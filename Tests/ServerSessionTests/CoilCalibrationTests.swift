import Formats
import Foundation
import Geometry
import ServerSession
import Testing

@Suite struct CoilCalibrationTests {
    static let sample = CoilCalibration(
        tool: "coil",
        coilToMarker: RigidTransform(
            rotation: Quaternion(axis: Vector3(0.2, -0.7, 0.4), angleRadians: 1.1), translation: Vector3(3.25, -41.5, 12.125)),
        method: "three-point", residualMM: 0.42, date: "2026-11-22T03:10:00.5+01:00", toolSerial: "34801403",
        coilModel: "MagVenture Cool-B65", notes: "after re-fixing the marker")

    @Test func roundTripKeepsEveryField() throws {
        let data = try Self.sample.serialized(destination: "c.json")
        let back = try CoilCalibration.parse(data, source: "c.json")
        #expect(back.tool == "coil" && back.method == "three-point" && back.residualMM == 0.42)
        #expect(back.date == "2026-11-22T03:10:00.5+01:00" && back.toolSerial == "34801403")
        #expect(back.coilModel == "MagVenture Cool-B65" && back.notes == "after re-fixing the marker")
        #expect(maxDifference(back.coilToMarker, Self.sample.coilToMarker) < 1e-15)
        // Deterministic: the same value always gives the same bytes, and its read-back gives them too.
        #expect(try Self.sample.serialized(destination: "c.json") == data)
        #expect(try back.serialized(destination: "c.json") == data)
        let text = String(decoding: data, as: UTF8.self)
        let keys = text.split(separator: "\n").filter { $0.hasPrefix("    \"") }.map { $0.split(separator: "\"")[1] }
        #expect(keys == ["format", "version", "tool", "coilModel", "toolSerial", "method", "date", "coilToMarker", "residualMM", "notes"])
    }

    @Test func writeAndLoadThroughTheFileSystem() throws {
        let scratch = try ScratchFolder()
        defer { scratch.cleanUp() }
        let minimal = CoilCalibration(tool: "coil", coilToMarker: .identity, method: "plate", date: "2026-11-22T03:10:00Z")
        try minimal.write(path: scratch.file("coil.json"))
        #expect(try CoilCalibration.load(path: scratch.file("coil.json")) == minimal)
        #expect(
            String(decoding: try Data(contentsOf: URL(fileURLWithPath: scratch.file("coil.json"))), as: UTF8.self) == """
                {
                    "format": "coilnav-coil-calibration",
                    "version": 1,
                    "tool": "coil",
                    "method": "plate",
                    "date": "2026-11-22T03:10:00Z",
                    "coilToMarker": [
                        [1, 0, 0, 0],
                        [0, 1, 0, 0],
                        [0, 0, 1, 0],
                        [0, 0, 0, 1]
                    ]
                }

                """)
    }

    @Test func theMockCoilIsTheIdentity() throws {
        let path = repositoryPath("Calibration/coils/mock-coil.json")
        let c = try CoilCalibration.load(path: path)
        #expect(c.tool == "coil" && c.method == "identity-mock" && c.residualMM == nil && c.toolSerial == nil)
        #expect(c.coilToMarker == .identity)
        // The shipped file is exactly what the writer produces.
        #expect(try c.serialized() == Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func readingErrors() throws {
        let good = String(decoding: try Self.sample.serialized(), as: UTF8.self)
        func message(_ text: String) -> String? {
            formatError { () throws(FileFormatError) in try CoilCalibration.parse(Data(text.utf8), source: "c.json") }?.description
        }
        #expect(
            message(good.replacingOccurrences(of: "\"method\"", with: "\"methd\""))
                == "c.json: line 7, column 5: methd: unknown field (expected one of \"coilModel\", \"coilToMarker\", \"date\", \"format\", \"method\", \"notes\", \"residualMM\", \"tool\", \"toolSerial\", \"version\")")
        #expect(
            message(good.replacingOccurrences(of: "\"residualMM\": 0.42", with: "\"residualMM\": -0.42"))
                == "c.json: line 15, column 19: residualMM: must not be negative, got -0.42")
        #expect(
            message(good.replacingOccurrences(of: "2026-11-22T03:10:00.5+01:00", with: "22.11.2026"))
                == "c.json: line 8, column 13: date: expected an ISO 8601 date-time with a time zone such as \"2025-03-14T09:26:53Z\", got \"22.11.2026\"")
        #expect(
            message(good.replacingOccurrences(of: "\"tool\": \"coil\"", with: "\"tool\": 7"))
                == "c.json: line 4, column 13: tool: expected a string, got the number 7.0")
        let noMatrix = try CoilCalibration(tool: "c", coilToMarker: .identity, method: "plate", date: "2026-11-22T03:10:00Z").serialized()
        let noMatrixText = String(decoding: noMatrix, as: UTF8.self)
        let cut = noMatrixText.replacingOccurrences(
            of: ",\n    \"coilToMarker\": [\n        [1, 0, 0, 0],\n        [0, 1, 0, 0],\n        [0, 0, 1, 0],\n        [0, 0, 0, 1]\n    ]",
            with: "")
        #expect(message(cut) == "c.json: line 1, column 1: coilToMarker: required field is missing")
        let scaled = noMatrixText.replacingOccurrences(of: "[1, 0, 0, 0]", with: "[2, 0, 0, 0]")
        #expect(
            message(scaled)
                == "c.json: line 7, column 21: coilToMarker: the rotation part is not orthonormal (max |RᵀR − I| = 3.0, tolerance 1e-06); scaling or shear is not a rigid transform")
        #expect(
            message(noMatrixText.replacingOccurrences(of: "coilnav-coil-calibration", with: "coilnav-registration"))
                == "c.json: line 2, column 15: format: expected \"coilnav-coil-calibration\", got \"coilnav-registration\": this is not a CoilNav coil calibration file")
    }

    @Test func writingChecksWhatReadingChecks() {
        var c = Self.sample
        c.residualMM = -1
        #expect(formatError { () throws(FileFormatError) in try c.serialized(destination: "out.json") }?.description == "out.json: residualMM: must not be negative, got -1.0")
        c = Self.sample
        c.date = "yesterday"
        #expect(
            formatError { () throws(FileFormatError) in try c.serialized(destination: "out.json") }?.description
                == "out.json: date: expected an ISO 8601 date-time with a time zone, got \"yesterday\"")
        c = Self.sample
        c.method = " "
        #expect(formatError { () throws(FileFormatError) in try c.serialized(destination: "out.json") }?.description == "out.json: method: must not be empty")
    }
}
