import Foundation
import Geometry
import Testing

@testable import Formats

/// The QA phantom file: the shipped phantom, the default protocol, and a located error for each
/// kind of mistake.
@Suite struct QAPhantomTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let thresholds = """
        "thresholds": {"jitterRMSMM": 0.25, "jitterMaxMM": 0.6, "minFrameRateFraction": 0.99, "maxDropoutPercent": 0.5,
         "pivotRMSMM": 0.5, "pivotTipSpreadMM": 0.3, "pivotPointSpreadMM": 0.3, "tipCalibrationDeviationMM": 1,
         "freMM": 0.5, "treMM": 1, "latencyP99MS": 50}
        """
    static let landmarks = """
        "landmarks": [{"name": "A", "positionMM": [0, 0, 0], "role": "registration"},
                      {"name": "B", "positionMM": [100, 0, 0], "role": "registration"},
                      {"name": "C", "positionMM": [0, 100, 0], "role": "registration"},
                      {"name": "D", "positionMM": [50, 50, 40], "role": "check"}]
        """

    /// A phantom document with `body` spliced in (landmarks, phases, thresholds as given).
    static func document(
        landmarks: String = Self.landmarks, phases: String? = nil, thresholds: String = Self.thresholds
    ) -> String {
        """
        {"format": "coilnav-qa-phantom", "version": 1, "name": "test phantom", "phantomTool": "phantom", "pointerTool": "pointer",
         \(landmarks),
        \(phases.map { "\"phases\": \($0)," } ?? "")
         \(thresholds)}
        """
    }

    func error(_ text: String) -> String {
        do {
            _ = try QAPhantom.parse(Data(text.utf8), source: "phantom.json")
            return "parsed"
        } catch {
            return error.description
        }
    }

    @Test func theShippedMockPhantom() throws {
        let p = try QAPhantom.load(
            path: Self.root.appendingPathComponent("Calibration/phantoms/mock-phantom.json").path)
        #expect(p.name == "CoilNav mock phantom")
        #expect(p.phantomTool == "phantom" && p.pointerTool == "pointer")
        #expect(p.landmarks.map(\.name) == ["L1", "L2", "L3", "L4", "L5", "C1", "C2"])
        #expect(p.registrationLandmarks.map(\.name) == ["L1", "L2", "L3", "L4", "L5"])
        #expect(p.checkPoints.map(\.name) == ["C1", "C2"])
        #expect(p.landmarks[4].positionMM == Vector3(120, 0, 45))
        #expect(p.landmarks[6] == QAPhantom.Landmark(name: "C2", positionMM: Vector3(145, -25, 35), role: .check))
        #expect(p.phases.map(\.typeName) == ["pause", "still", "pause", "pivot", "landmarks"])
        #expect(p.phases.map(\.durationSeconds) == [1, 5, 1, 6, nil])
        #expect(p.phases[1] == .still(QAPhantom.StillPhase(durationSeconds: 5, tool: "phantom", pointMM: .zero)))
        #expect(p.phases[3] == .pivot(QAPhantom.PivotPhase(durationSeconds: 6, windows: 3)))
        #expect(
            p.landmarkPhase
                == QAPhantom.LandmarkPhase(captureFrames: 20, stillnessMM: 1.0, captureRadiusMM: 10, timeoutSeconds: 30)
        )
        #expect(p.phases[0].instruction?.hasPrefix("Put the phantom in the middle") == true)
        #expect(p.phases[2].instruction == nil)
        #expect(
            p.thresholds
                == QAPhantom.Thresholds(
                    jitterRMSMM: 0.25, jitterMaxMM: 0.6, minFrameRateFraction: 0.99, maxDropoutPercent: 0.5,
                    pivotRMSMM: 0.5,
                    pivotTipSpreadMM: 0.3, pivotPointSpreadMM: 0.3, tipCalibrationDeviationMM: 1, freMM: 0.5, treMM: 1,
                    latencyP99MS: 50))
    }

    @Test func withoutPhasesTheDefaultProtocolIsUsed() throws {
        let p = try QAPhantom.parse(Data(Self.document().utf8), source: "phantom.json")
        #expect(p.phases == QAPhantom.defaultPhases(phantomTool: "phantom"))
        #expect(p.phases.map(\.durationSeconds) == [3, 10, 5, 20, nil])
        #expect(p.landmarkPhase.captureFrames == 10 && p.landmarkPhase.timeoutSeconds == 60)
        #expect(p.description == nil)
    }

    @Test func phaseOptionsAreRead() throws {
        let phases = """
            [{"type": "still", "durationSeconds": 2.5, "tool": "coil", "pointMM": [0, 0, -150], "instruction": "Hands off."},
             {"type": "pause", "durationSeconds": 4}, {"type": "pivot", "durationSeconds": 12, "windows": 4},
             {"type": "landmarks", "captureFrames": 15, "stillnessMM": 0.3, "captureRadiusMM": 8, "timeoutSeconds": 45}]
            """
        let p = try QAPhantom.parse(Data(Self.document(phases: phases).utf8), source: "phantom.json")
        #expect(
            p.phases[0]
                == .still(
                    QAPhantom.StillPhase(
                        durationSeconds: 2.5, tool: "coil", pointMM: Vector3(0, 0, -150), instruction: "Hands off.")))
        #expect(p.phases[1] == .pause(durationSeconds: 4, instruction: nil))
        #expect(
            p.landmarkPhase
                == QAPhantom.LandmarkPhase(captureFrames: 15, stillnessMM: 0.3, captureRadiusMM: 8, timeoutSeconds: 45))
    }

    @Test func mistakesAreLocated() throws {
        let reg =
            #"{"name": "A", "positionMM": [0, 0, 0], "role": "registration"}, {"name": "B", "positionMM": [100, 0, 0], "role": "registration"}, {"name": "C", "positionMM": [0, 100, 0], "role": "registration"}"#
        #expect(
            self.error(
                Self.document(
                    landmarks:
                        "\"landmarks\": [\(reg), {\"name\": \"D\", \"positionMM\": [50, 50, 40], \"role\": \"target\"}]"
                ))
                == #"phantom.json: line 2, column 262: landmarks[3].role: unknown role "target" (expected "registration" or "check")"#
        )
        #expect(
            self.error(
                Self.document(
                    landmarks:
                        "\"landmarks\": [\(reg), {\"name\": \"B\", \"positionMM\": [50, 50, 40], \"role\": \"check\"}]")
            )
                == #"phantom.json: line 2, column 221: landmarks[3].name: duplicate landmark name "B" (also landmarks[1])"#
        )
        #expect(
            self.error(
                Self.document(
                    landmarks:
                        #""landmarks": [{"name": "A", "positionMM": [0, 0, 0], "role": "registration"}, {"name": "B", "positionMM": [100, 0, 0], "role": "registration"}, {"name": "D", "positionMM": [50, 50, 40], "role": "check"}]"#
                ))
                == "phantom.json: line 2, column 15: landmarks: needs at least 3 landmarks with role \"registration\" (a rigid registration needs 3 points), got 2"
        )
        #expect(
            self.error(Self.document(landmarks: "\"landmarks\": [\(reg)]"))
                == "phantom.json: line 2, column 15: landmarks: needs at least one landmark with role \"check\": the TRE is measured at check points left out of the registration"
        )
        #expect(
            self.error(
                Self.document(
                    landmarks:
                        #""landmarks": [{"name": "A", "positionMM": [0, 0, 0], "role": "registration"}, {"name": "B", "positionMM": [100, 0, 0], "role": "registration"}, {"name": "C", "positionMM": [50, 3, 0], "role": "registration"}, {"name": "D", "positionMM": [50, 50, 40], "role": "check"}]"#
                ))
                == "phantom.json: line 2, column 15: landmarks: the registration landmarks lie on a line (the farthest is 3 mm off it; at least 5 mm is needed): the registration would be undetermined"
        )
        #expect(
            self.error(
                Self.document(
                    landmarks:
                        "\"landmarks\": [\(reg), {\"name\": \"D\", \"positionMM\": [0, 15, 0], \"role\": \"check\"}]"))
                == #"phantom.json: line 2, column 221: landmarks[3].name: landmarks "A" and "D" are 15 mm apart: with captureRadiusMM 10 a touch could not tell them apart (they must be more than 20 mm apart)"#
        )

        let still = #"{"type": "still", "durationSeconds": 5}"#
        let pivot = #"{"type": "pivot", "durationSeconds": 5, "windows": 3}"#
        let marks =
            #"{"type": "landmarks", "captureFrames": 10, "stillnessMM": 0.5, "captureRadiusMM": 10, "timeoutSeconds": 30}"#
        #expect(
            self.error(Self.document(phases: "[\(still), \(marks), \(pivot)]")).hasSuffix(
                #"phases[2].type: the "landmarks" phase (phases[1]) must be the last: it lasts until every landmark is captured"#
            ))
        #expect(
            self.error(Self.document(phases: "[\(still), \(still), \(pivot), \(marks)]")).hasSuffix(
                #"phases[1].type: a second "still" phase (also phases[0]): the protocol has one of each"#))
        #expect(
            self.error(Self.document(phases: "[\(still), \(marks)]")).hasSuffix(
                #"phases: the protocol needs a "pivot" phase (phases must include "still", "pivot" and "landmarks", the last one last)"#
            ))
        #expect(
            self.error(Self.document(phases: #"[{"type": "jitter", "durationSeconds": 5}]"#)).hasSuffix(
                #"phases[0].type: unknown phase type "jitter" (expected "pause", "still", "pivot" or "landmarks")"#))
        #expect(
            self.error(Self.document(phases: #"[{"type": "pivot", "durationSeconds": 5, "windows": 1}]"#)).hasSuffix(
                "phases[0].windows: must be 2 to 20 (the repeatability is the spread between windows), got 1"))
        #expect(
            self.error(Self.document(phases: #"[{"type": "pause", "durationSeconds": 0}]"#)).hasSuffix(
                "phases[0].durationSeconds: must be more than 0, got 0.0"))
        #expect(
            self.error(Self.document(phases: #"[{"type": "pause", "durationSeconds": 1, "seconds": 2}]"#)).contains(
                "phases[0].seconds: unknown field"))

        let missing = Self.thresholds.replacingOccurrences(of: #""treMM": 1, "#, with: "")
        #expect(self.error(Self.document(thresholds: missing)).hasSuffix("thresholds.treMM: required field is missing"))
        let fraction = Self.thresholds.replacingOccurrences(
            of: #""minFrameRateFraction": 0.99"#, with: #""minFrameRateFraction": 95"#)
        #expect(
            self.error(Self.document(thresholds: fraction)).hasSuffix(
                "thresholds.minFrameRateFraction: is a fraction of the nominal frame rate: more than 0 and at most 1, got 95.0"
            ))
        let negative = Self.thresholds.replacingOccurrences(of: #""freMM": 0.5"#, with: #""freMM": -0.5"#)
        #expect(
            self.error(Self.document(thresholds: negative)).hasSuffix("thresholds.freMM: must be more than 0, got -0.5")
        )
        let same = Self.document().replacingOccurrences(
            of: #""pointerTool": "pointer""#, with: #""pointerTool": "phantom""#)
        #expect(
            self.error(same).hasSuffix(
                #"pointerTool: the pointer and the phantom must be different tools (both are "phantom")"#))
        #expect(
            self.error(#"{"format": "coilnav-plan", "version": 1}"#)
                == #"phantom.json: line 1, column 12: format: expected "coilnav-qa-phantom", got "coilnav-plan": this is not a CoilNav QA phantom file"#
        )
    }
}
