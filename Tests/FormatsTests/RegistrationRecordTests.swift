import Foundation
import Geometry
import Testing

@testable import Formats

/// The registration record: round trip, layout and validation.
@Suite struct RegistrationRecordTests {
    static let record = RegistrationRecord(
        createdAt: "2025-03-14T09:26:53.25+01:00",
        headToMRI: RigidTransform(rotation: Quaternion(axis: Vector3(0, 0.2, 1).normalized, angleRadians: -0.3), translation: Vector3(2.5, -110, 31)),
        freMM: 1.375, fleMM: 0.9,
        fiducialResiduals: [.init(name: "NAS", residualMM: 1.5), .init(name: "LPA", residualMM: 1.25), .init(name: "RPA", residualMM: 1.36)],
        surface: .init(rmsBeforeMM: 2.4, rmsAfterMM: 0.85, iterations: 23, inliers: 412),
        notes: "re-digitised LPA")

    private func error(_ text: String) -> FileFormatError? {
        do {
            _ = try RegistrationRecord.parse(Data(text.utf8), source: "reg.json")
            return nil
        } catch {
            return error
        }
    }

    @Test func roundTrip() throws {
        let data = try Self.record.serialized()
        let back = try RegistrationRecord.parse(data, source: "reg.json")
        #expect(back.createdAt == Self.record.createdAt)
        #expect(back.freMM == 1.375 && back.fleMM == 0.9)
        #expect(back.fiducialResiduals == Self.record.fiducialResiduals)
        #expect(back.surface == Self.record.surface)
        #expect(back.notes == "re-digitised LPA")
        let d = back.headToMRI.difference(to: Self.record.headToMRI)
        #expect(d.translationMM == 0 && d.rotationRadians < 1e-12)
    }

    @Test func minimalRecordLayout() throws {
        let record = RegistrationRecord(
            createdAt: "2025-01-02T03:04:05Z", headToMRI: .translation(Vector3(1, 2, 3)), freMM: 0.5,
            fiducialResiduals: [.init(name: "NAS", residualMM: 0.25)])
        let expected = """
            {
                "format": "coilnav-registration",
                "version": 1,
                "createdAt": "2025-01-02T03:04:05Z",
                "headToMRI": [
                    [1, 0, 0, 1],
                    [0, 1, 0, 2],
                    [0, 0, 1, 3],
                    [0, 0, 0, 1]
                ],
                "freMM": 0.5,
                "fiducialResiduals": [
                    {
                        "name": "NAS",
                        "residualMM": 0.25
                    }
                ]
            }

            """
        #expect(String(decoding: try record.serialized(), as: UTF8.self) == expected)
        #expect(try RegistrationRecord.parse(Data(expected.utf8), source: "r") == record)
    }

    @Test func validationErrors() throws {
        let good = String(decoding: try Self.record.serialized(), as: UTF8.self)
        let e = self.error(good.replacingOccurrences(of: "2025-03-14T09:26:53.25+01:00", with: "yesterday"))
        #expect(e?.description
            == "reg.json: line 4, column 18: createdAt: expected an ISO 8601 date-time with a time zone such as \"2025-03-14T09:26:53Z\", got \"yesterday\"")
        #expect(self.error(good.replacingOccurrences(of: "\"freMM\": 1.375", with: "\"freMM\": -1"))?.message == "must not be negative, got -1.0")
        #expect(self.error(good.replacingOccurrences(of: "\"iterations\": 23", with: "\"iterations\": 2.5"))?.field == "surface.iterations")
        #expect(self.error(good.replacingOccurrences(of: "\"version\": 1", with: "\"version\": 2"))?.message
            == "unsupported registration version 2: this CoilNav reads version 1; the file was written by a newer CoilNav")
        #expect(self.error(good.replacingOccurrences(of: "\"coilnav-registration\"", with: "\"coilnav-plan\""))?.message
            == "expected \"coilnav-registration\", got \"coilnav-plan\": this is not a CoilNav registration file")
        #expect(self.error(good.replacingOccurrences(of: "\"name\": \"RPA\"", with: "\"name\": \"NAS\""))?.message
            == "duplicate fiducial name \"NAS\" (also fiducialResiduals[0])")
        let noFre = good.replacingOccurrences(of: "    \"freMM\": 1.375,\n", with: "")
        #expect(self.error(noFre)?.description == "reg.json: line 1, column 1: freMM: required field is missing")
    }

    @Test func writerChecksTheTimestampWithoutReadingAClock() {
        var r = Self.record
        r.createdAt = "2025-03-14 09:26"
        #expect(throws: FileFormatError(
            file: "registration", field: "createdAt",
            message: "expected an ISO 8601 date-time with a time zone, got \"2025-03-14 09:26\"")) {
            try r.serialized()
        }
    }

    @Test func loadAndWriteUseTheFileSystem() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("coilnav-registration-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("registration.json").path
        try Self.record.write(path: path)
        let back = try RegistrationRecord.load(path: path)
        #expect(back.fiducialResiduals == Self.record.fiducialResiduals && back.surface == Self.record.surface)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == (try Self.record.serialized(destination: path)))
    }
}
