import Foundation
import Formats
import Geometry
import Testing

@testable import MockTracker

/// Reading scenario files: defaults, every reference form, and a located error for each kind
/// of mistake (file, line, column, JSON path, and a message that says what to fix).
@Suite struct ScenarioParsingTests {
    static let still = #"{"type": "static", "pose": {}}"#

    @Test func minimalScenarioGetsTheDocumentedDefaults() throws {
        let s = try scenario(document("\"tools\": [\(tool("a", handle: 7, motion: Self.still))]"))
        #expect(s.frameRateHz == 100)
        #expect(s.frameCount == 1000)
        #expect(s.startFrameNumber == 0)
        #expect(s.faults.isEmpty)
        #expect(s.headToMRI == nil)
        #expect(s.duration == .seconds(10))
        let a = s.tools[0]
        #expect(a.name == "a" && a.kind == .other && a.handle == 7)
        #expect(a.setup == .passive(toolDefinition: "tools/a.rom"))
        #expect(a.space == .tracker)
        #expect(a.noise == .none)
        #expect(a.occlusions.isEmpty && a.partlyOutOfVolume.isEmpty && a.disabled.isEmpty)
        #expect(a.dropoutProbability == 0)
        #expect(a.motion.typeName == "static")
        #expect(a.motion.pose(atSeconds: 3) == .identity)
        #expect(s.tool(handle: 7)?.name == "a")
        #expect(s.tool(named: "b") == nil)
    }

    @Test func frameCountAndDurationAreAlternatives() throws {
        let t = "\"tools\": [\(tool("a", handle: 1, motion: Self.still))]"
        let byCount = try scenario(#"{"format": "coilnav-mock-scenario", "version": 1, "frameRateHz": 250, "frameCount": 17, "startFrameNumber": 4294967295, "#
            + t + "}")
        #expect(byCount.frameCount == 17)
        #expect(byCount.startFrameNumber == UInt32.max)
        // round(duration × rate): 0.1 s at 59.94 Hz is 5.994 → 6 frames.
        #expect(try scenario(document(t, rate: 59.94, duration: 0.1)).frameCount == 6)
        let both = scenarioError(#"{"format": "coilnav-mock-scenario", "version": 1, "frameRateHz": 250, "frameCount": 17, "durationSeconds": 1, "# + t + "}")
        #expect(both?.field == "frameCount")
        #expect(both?.message.contains("not both") == true)
        let neither = scenarioError(#"{"format": "coilnav-mock-scenario", "version": 1, "frameRateHz": 250, "# + t + "}")
        #expect(neither?.message.contains("durationSeconds") == true)
        #expect(scenarioError(document(t, rate: 0))?.field == "frameRateHz")
        #expect(scenarioError(document(t, rate: 100, duration: 0.001))?.message.contains("less than one frame") == true)
    }

    @Test func poseFormsAgree() throws {
        let q = Quaternion(axis: Vector3(1, 2, 3), angleRadians: radians(fromDegrees: 40))
        let expected = RigidTransform(rotation: q, translation: Vector3(1, -2, 3))
        let m = expected.matrix4x4.map { "[" + $0.map { "\($0)" }.joined(separator: ", ") + "]" }.joined(separator: ", ")
        let poses = [
            #"{"axis": [1, 2, 3], "angleDegrees": 40, "translationMM": [1, -2, 3]}"#,
            #"{"q": [\#(q.q0), \#(q.qx), \#(q.qy), \#(q.qz)], "translationMM": [1, -2, 3]}"#,
            #"{"matrix": [\#(m)]}"#,
        ]
        for p in poses {
            let s = try scenario(document("\"tools\": [\(tool("a", handle: 1, motion: "{\"type\": \"static\", \"pose\": \(p)}"))]"))
            #expect(same(s.tools[0].motion.pose(atSeconds: 0), expected, tolerance: 1e-12), "\(p)")
        }
    }

    @Test func planTargetPosesAndInlineOrFileRegistrations() throws {
        let plan = try demoPlan()
        let target = try #require(plan.target(named: "F3")).coilToMRI
        let body = """
            "plan": "../demo/plan.json", "headToMRI": {"translationMM": [0, 0, 10]},
            "tools": [\(tool("head", kind: "head-reference", handle: 1, motion: Self.still)),
                      \(tool("coil", kind: "coil", handle: 2, motion: #"{"type": "static", "pose": {"planTarget": "F3", "offset": {"translationMM": [0, 0, -5]}}}"#, extra: #""relativeTo": "mri""#))]
            """
        let s = try scenario(document(body))
        #expect(s.headToMRI == .translation(Vector3(0, 0, 10)))
        #expect(same(s.tools[1].motion.pose(atSeconds: 0), target * .translation(Vector3(0, 0, -5)), tolerance: 1e-12))
        let truth = MockSimulation(scenario: s, seed: 0).truth(ofFrame: 0)
        #expect(same(truth[1], RigidTransform.translation(Vector3(0, 0, -10)) * target * .translation(Vector3(0, 0, -5)), tolerance: 1e-12))

        // A CoilNav registration file works as well as the demo's ground-truth file.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mock-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let headToMRI = RigidTransform(rotation: Quaternion(axis: Vector3(0, 0, 1), angleRadians: 0.3), translation: Vector3(4, 5, 6))
        let record = RegistrationRecord(
            createdAt: "2026-01-02T03:04:05Z", headToMRI: headToMRI, freMM: 1.1,
            fiducialResiduals: [.init(name: "NAS", residualMM: 1), .init(name: "LPA", residualMM: 1), .init(name: "RPA", residualMM: 1)])
        let path = dir.appendingPathComponent("registration.json").path
        try record.write(path: path)
        let viaRecord = try scenario(document(body.replacingOccurrences(of: #""headToMRI": {"translationMM": [0, 0, 10]}"#, with: "\"registration\": \"\(path)\"")))
        #expect(viaRecord.headToMRI == headToMRI)
        let viaTruth = try scenario(document(body.replacingOccurrences(of: #""headToMRI": {"translationMM": [0, 0, 10]}"#, with: #""registration": "../demo/ground-truth.json""#)))
        #expect(same(try #require(viaTruth.headToMRI), try demoHeadToMRI(), tolerance: 1e-14))
    }

    // MARK: Errors

    @Test func syntaxErrorsCarryLineAndColumn() throws {
        let e = try #require(scenarioError("{\n  \"format\": \"coilnav-mock-scenario\",\n  \"version\": 1,,\n}"))
        #expect(e.file == "bad.json")
        #expect(e.line == 3)
        #expect(e.column == 16)
    }

    @Test func nonFiniteNumbersAreRefused() throws {
        let overflow = try #require(scenarioError(document("\"tools\": [\(tool("a", handle: 1, motion: #"{"type": "static", "pose": {"translationMM": [1e999, 0, 0]}}"#))]")))
        #expect(overflow.line == 3)
        #expect(overflow.message.contains("1e999") || overflow.message.lowercased().contains("finite") || overflow.message.contains("large"))
        let nan = try #require(scenarioError(document("\"tools\": [\(tool("a", handle: 1, motion: #"{"type": "static", "pose": {"translationMM": [NaN, 0, 0]}}"#))]")))
        #expect(nan.line == 3)
    }

    @Test func headerIsChecked() throws {
        let e1 = try #require(scenarioError(#"{"format": "coilnav-plan", "version": 1}"#))
        #expect(e1.field == "format")
        #expect(e1.message.contains("not a CoilNav mock scenario"))
        let e2 = try #require(scenarioError(#"{"format": "coilnav-mock-scenario", "version": 2}"#))
        #expect(e2.field == "version")
        #expect(e2.message.contains("newer"))
    }

    @Test func unknownFieldsAreLocatedAtTheirKey() throws {
        let json = document("\"tools\": [\n" + tool("a", handle: 1, motion: #"{"type": "static", "pose": {}, "speed": 3}"#) + "\n]")
        let e = try #require(scenarioError(json))
        #expect(e.field == "tools[0].motion.speed")
        #expect(e.line == 4)
        #expect(e.message.contains("unknown field"))
        let typo = try #require(scenarioError(document("\"tools\": [\(tool("a", handle: 1, motion: Self.still, extra: #""occlusion": []"#))]")))
        #expect(typo.field == "tools[0].occlusion")
    }

    @Test func unknownToolReferencesAreLocated() throws {
        let json = document(
            """
            "tools": [
                \(tool("a", handle: 1, motion: Self.still)),
                {"name": "b", "kind": "coil", "portHandle": 2, "setup": {"type": "active"}, "relativeTo": "c", "motion": \(Self.still)}
            ]
            """)
        let e = try #require(scenarioError(json))
        // Where the value "c" starts in the text, counted independently.
        let lines = json.split(separator: "\n", omittingEmptySubsequences: false)
        let line = try #require(lines.firstIndex { $0.contains(#""relativeTo": "c""#) })
        let column = try #require(lines[line].range(of: #""relativeTo": "#)).upperBound.utf16Offset(in: lines[line]) - lines[line].startIndex.utf16Offset(in: lines[line]) + 1
        #expect(e.field == "tools[1].relativeTo")
        #expect(e.line == line + 1)
        #expect(e.column == column)
        #expect(e.message.contains("unknown tool \"c\""))
        #expect(e.description.hasPrefix("bad.json: line \(line + 1), column \(column): tools[1].relativeTo: unknown tool"))
    }

    @Test func cyclicRelativeToIsRefused() throws {
        let cycle = document(
            """
            "tools": [\(tool("a", handle: 1, motion: Self.still, extra: #""relativeTo": "b""#)),
                      \(tool("b", handle: 2, motion: Self.still, extra: #""relativeTo": "a""#))]
            """)
        let e = try #require(scenarioError(cycle))
        #expect(e.field == "tools[0].relativeTo")
        #expect(e.message.contains("cycle"))
        let selfRef = try #require(scenarioError(document("\"tools\": [\(tool("a", handle: 1, motion: Self.still, extra: #""relativeTo": "a""#))]")))
        #expect(selfRef.message.contains("cycle"))
        let headInMRI = try #require(scenarioError(document(
            "\"headToMRI\": {}, \"tools\": [\(tool("h", kind: "head-reference", handle: 1, motion: Self.still, extra: #""relativeTo": "mri""#))]")))
        #expect(headInMRI.message.contains("cycle"))
    }

    @Test func mriSpaceNeedsARegistrationAndAHeadReference() throws {
        let noRegistration = try #require(scenarioError(document(
            "\"tools\": [\(tool("h", kind: "head-reference", handle: 1, motion: Self.still)), \(tool("c", handle: 2, motion: Self.still, extra: #""relativeTo": "mri""#))]")))
        #expect(noRegistration.field == "tools[1].relativeTo")
        #expect(noRegistration.message.contains("registration"))
        let noHead = try #require(scenarioError(document(
            "\"headToMRI\": {}, \"tools\": [\(tool("c", handle: 2, motion: Self.still, extra: #""relativeTo": "mri""#))]")))
        #expect(noHead.message.contains("head-reference"))
        let twoHeads = try #require(scenarioError(document(
            "\"tools\": [\(tool("h", kind: "head-reference", handle: 1, motion: Self.still)), \(tool("g", kind: "head-reference", handle: 2, motion: Self.still))]")))
        #expect(twoHeads.field == "tools[1].kind")
    }

    @Test func overlappingWindowsAreRefused() throws {
        let same = try #require(scenarioError(document("\"tools\": [\(tool("a", handle: 1, motion: Self.still, extra: #""occlusions": [{"fromSeconds": 1, "toSeconds": 3}, {"fromSeconds": 2.5, "toSeconds": 4}]"#))]")))
        #expect(same.field == "tools[0].occlusions[1]")
        #expect(same.message.contains("overlaps tools[0].occlusions[0]"))
        let across = try #require(scenarioError(document(
            "\"tools\": [\(tool("a", handle: 1, motion: Self.still, extra: #""occlusions": [{"fromSeconds": 1, "toSeconds": 3}], "disabled": [{"fromSeconds": 0, "toSeconds": 1.5}]"#))]")))
        #expect(across.field == "tools[0].occlusions[0]")
        #expect(across.message.contains("tools[0].disabled[0]"))
        // Touching windows do not overlap: [1, 3) then [3, 4).
        #expect(scenarioError(document("\"tools\": [\(tool("a", handle: 1, motion: Self.still, extra: #""occlusions": [{"fromSeconds": 1, "toSeconds": 3}], "partlyOutOfVolume": [{"fromSeconds": 3, "toSeconds": 4}]"#))]")) == nil)
        let backwards = try #require(scenarioError(document("\"tools\": [\(tool("a", handle: 1, motion: Self.still, extra: #""disabled": [{"fromSeconds": 2, "toSeconds": 2}]"#))]")))
        #expect(backwards.field == "tools[0].disabled[0].toSeconds")
    }

    @Test func missingReferencedFilesAreLocatedAtTheirField() throws {
        let plan = try #require(scenarioError(document("\"plan\": \"nowhere/plan.json\",\n\"tools\": [\(tool("a", handle: 1, motion: Self.still))]")))
        #expect(plan.field == "plan")
        #expect(plan.line == 2)
        #expect(plan.message.contains("no such file"))
        #expect(plan.message.contains("nowhere/plan.json"))
        let registration = try #require(scenarioError(document("\"registration\": \"missing.json\", \"tools\": [\(tool("a", handle: 1, motion: Self.still))]")))
        #expect(registration.field == "registration")
        let sweep = #"{"type": "scalp-sweep", "mesh": "no-such-scalp.ply", "tipMM": [0, 0, -100], "pointCount": 5, "travelSeconds": 1}"#
        let mesh = try #require(scenarioError(document("\"tools\": [\(tool("p", kind: "pointer", handle: 1, motion: sweep))]")))
        #expect(mesh.field == "tools[0].motion.mesh")
        #expect(mesh.message.contains("cannot use the mesh"))
        // A registration file that is neither a CoilNav registration nor has headToMRI.
        let notRegistration = try #require(scenarioError(document("\"registration\": \"../demo/targets.mrk.json\", \"tools\": [\(tool("a", handle: 1, motion: Self.still))]")))
        #expect(notRegistration.message.contains("headToMRI"))
    }

    @Test func planNamesAreChecked() throws {
        let head = tool("h", kind: "head-reference", handle: 1, motion: Self.still)
        func coil(_ pose: String, space: String = "mri") -> String {
            document("\"plan\": \"../demo/plan.json\", \"headToMRI\": {}, \"tools\": [\(head), \(tool("c", handle: 2, motion: "{\"type\": \"static\", \"pose\": \(pose)}", extra: "\"relativeTo\": \"\(space)\""))]")
        }
        let unknown = try #require(scenarioError(coil(#"{"planTarget": "M1"}"#)))
        #expect(unknown.field == "tools[1].motion.pose.planTarget")
        #expect(unknown.message.contains("DLPFC-Fox2012"))
        let wrongSpace = try #require(scenarioError(coil(#"{"planTarget": "F3"}"#, space: "h")))
        #expect(wrongSpace.message.contains("relativeTo"))
        let noPlan = try #require(scenarioError(document("\"headToMRI\": {}, \"tools\": [\(head), \(tool("c", handle: 2, motion: #"{"type": "static", "pose": {"planTarget": "F3"}}"#, extra: #""relativeTo": "mri""#))]")))
        #expect(noPlan.message.contains("no \"plan\""))
        let landmarks = #"{"type": "landmarks", "tipMM": [0, 0, -100], "points": [{"planFiducial": "NAS"}, {"planFiducial": "INION"}], "travelSeconds": 1, "dwellSeconds": 1}"#
        let fiducial = try #require(scenarioError(document("\"plan\": \"../demo/plan.json\", \"headToMRI\": {}, \"tools\": [\(head), \(tool("p", handle: 2, motion: landmarks, extra: #""relativeTo": "mri""#))]")))
        #expect(fiducial.field == "tools[1].motion.points[1].planFiducial")
        #expect(fiducial.message.contains("\"Iz\""))
    }

    @Test func identitiesAreChecked() throws {
        let dupHandle = try #require(scenarioError(document("\"tools\": [\(tool("a", handle: 3, motion: Self.still)), \(tool("b", handle: 3, motion: Self.still))]")))
        #expect(dupHandle.field == "tools[1].portHandle")
        #expect(scenarioError(document("\"tools\": [\(tool("a", handle: 256, motion: Self.still))]"))?.field == "tools[0].portHandle")
        #expect(scenarioError(document("\"tools\": [\(tool("a", handle: 0, motion: Self.still))]"))?.field == "tools[0].portHandle")
        let dupName = try #require(scenarioError(document("\"tools\": [\(tool("a", handle: 1, motion: Self.still)), \(tool("a", handle: 2, motion: Self.still))]")))
        #expect(dupName.field == "tools[1].name")
        #expect(scenarioError(document("\"tools\": [\(tool("mri", handle: 1, motion: Self.still))]"))?.message.contains("reserved") == true)
        #expect(scenarioError(document("\"tools\": [\(tool("a", kind: "camera", handle: 1, motion: Self.still))]"))?.field == "tools[0].kind")
        #expect(scenarioError(document("\"tools\": []"))?.field == "tools")
        let absolute = #"{"name": "a", "kind": "coil", "portHandle": 1, "setup": {"type": "passive", "toolDefinition": "/etc/a.rom"}, "motion": {"type": "static", "pose": {}}}"#
        #expect(scenarioError(document("\"tools\": [\(absolute)]"))?.field == "tools[0].setup.toolDefinition")
        let upward = absolute.replacingOccurrences(of: "/etc/a.rom", with: "tools/../../a.rom")
        #expect(scenarioError(document("\"tools\": [\(upward)]"))?.field == "tools[0].setup.toolDefinition")
        let wireless = absolute.replacingOccurrences(of: #""type": "passive", "toolDefinition": "/etc/a.rom""#, with: #""type": "wireless""#)
        #expect(scenarioError(document("\"tools\": [\(wireless)]"))?.field == "tools[0].setup.type")
    }

    @Test func valuesOutOfRangeAreRefused() throws {
        func motionError(_ motion: String, extra: String = "") -> FileFormatError? {
            scenarioError(document("\"tools\": [\(tool("a", handle: 1, motion: motion, extra: extra))]"))
        }
        #expect(motionError(#"{"type": "static", "pose": {"q": [1, 0, 0, 0.1]}}"#)?.field == "tools[0].motion.pose.q")
        #expect(motionError(#"{"type": "static", "pose": {"q": [1, 0, 0, 0], "axis": [0, 0, 1], "angleDegrees": 3}}"#)?.field == "tools[0].motion.pose")
        #expect(motionError(#"{"type": "static", "pose": {"axis": [0, 0, 0], "angleDegrees": 3}}"#)?.field == "tools[0].motion.pose.axis")
        #expect(motionError(#"{"type": "static", "pose": {"angleDegrees": 3}}"#)?.message.contains("axis") == true)
        #expect(motionError(#"{"type": "static", "pose": {"matrix": [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]}}"#)?.message.contains("orthonormal") == true)
        #expect(motionError(#"{"type": "orbit"}"#)?.message.contains("\"scalp-sweep\"") == true)
        #expect(motionError(#"{"type": "keyframes", "keyframes": [{"timeSeconds": 1, "pose": {}}, {"timeSeconds": 1, "pose": {}}]}"#)?.field == "tools[0].motion.keyframes[1].timeSeconds")
        #expect(motionError(#"{"type": "keyframes", "keyframes": [{"timeSeconds": 0, "pose": {}}], "easing": "bouncy"}"#)?.field == "tools[0].motion.easing")
        #expect(motionError(#"{"type": "approach", "target": {}, "startOffset": {}, "startSeconds": 5, "arrivalSeconds": 5}"#)?.field == "tools[0].motion.arrivalSeconds")
        #expect(motionError(#"{"type": "pivot", "pivotMM": [0, 0, 0], "tipMM": [0, 0, 0], "swings": [{"axis": [1, 0, 0], "amplitudeDegrees": 10, "periodSeconds": 1}]}"#)?.field == "tools[0].motion.tipMM")
        #expect(motionError(#"{"type": "pivot", "pivotMM": [0, 0, 0], "tipMM": [0, 0, 1], "swings": []}"#)?.field == "tools[0].motion.swings")
        #expect(motionError(#"{"type": "pivot", "pivotMM": [0, 0, 0], "tipMM": [0, 0, 1], "swings": [{"axis": [1, 0, 0], "amplitudeDegrees": 10, "periodSeconds": 0}]}"#)?.field == "tools[0].motion.swings[0].periodSeconds")
        #expect(motionError(#"{"type": "landmarks", "tipMM": [0, 0, 1], "points": [{"label": "A", "positionMM": [1, 2, 3]}], "aimAtMM": [1, 2, 3], "travelSeconds": 1, "dwellSeconds": 1}"#)?.field == "tools[0].motion.points[0]")
        #expect(motionError(#"{"type": "landmarks", "tipMM": [0, 0, 1], "points": [], "travelSeconds": 1, "dwellSeconds": 1}"#)?.field == "tools[0].motion.points")
        #expect(motionError(#"{"type": "scalp-sweep", "tipMM": [0, 0, 1], "pointCount": 3, "travelSeconds": 1}"#)?.message.contains("\"mesh\"") == true)
        #expect(motionError(#"{"type": "scalp-sweep", "mesh": "../demo/scalp.ply", "tipMM": [0, 0, 1], "pointCount": 3, "travelSeconds": 1, "boxMinMM": [500, 500, 500]}"#)?.field == "tools[0].motion.boxMinMM")
        #expect(motionError(#"{"type": "head-motion", "rest": {}, "nod": {"axis": [1, 0, 0], "amplitudeDegrees": 1, "periodSeconds": 5}}"#)?.field == "tools[0].motion.nod.pivotMM")
        #expect(motionError(Self.still, extra: #""dropoutProbability": 1.5"#)?.field == "tools[0].dropoutProbability")
        #expect(motionError(Self.still, extra: #""noise": {"translationSigmaMM": -1}"#)?.field == "tools[0].noise.translationSigmaMM")
    }

    @Test func faultsAreChecked() throws {
        let t = "\"tools\": [\(tool("a", handle: 1, motion: Self.still))]"
        let ok = try scenario(document(t + #", "faults": [{"frameIndex": 999, "type": "disconnect", "durationMS": 1500.5}, {"frameIndex": 0, "type": "corrupt-crc"}]"#))
        #expect(ok.faults == [
            MockScheduledFault(frameIndex: 0, fault: .corruptCRC),
            MockScheduledFault(frameIndex: 999, fault: .disconnect(.microseconds(1_500_500))),
        ])
        #expect(scenarioError(document(t + #", "faults": [{"frameIndex": 1000, "type": "corrupt-crc"}]"#))?.field == "faults[0].frameIndex")
        #expect(scenarioError(document(t + #", "faults": [{"frameIndex": 5, "type": "corrupt-crc"}, {"frameIndex": 5, "type": "stall", "durationMS": 10}]"#))?.field == "faults[1].frameIndex")
        #expect(scenarioError(document(t + #", "faults": [{"frameIndex": 5, "type": "stall"}]"#))?.field == "faults[0].durationMS")
        #expect(scenarioError(document(t + #", "faults": [{"frameIndex": 5, "type": "stall", "durationMS": 0}]"#))?.field == "faults[0].durationMS")
        #expect(scenarioError(document(t + #", "faults": [{"frameIndex": 5, "type": "corrupt-crc", "durationMS": 3}]"#))?.field == "faults[0].durationMS")
        #expect(scenarioError(document(t + #", "faults": [{"frameIndex": 5, "type": "unplug"}]"#))?.field == "faults[0].type")
    }

    @Test func loadNamesTheFileAndResolvesRelativeToIt() throws {
        var missing: FileFormatError? = nil
        do {
            _ = try MockScenario.load(path: Paths.scenario("no-such-scenario.json"))
        } catch {
            missing = error
        }
        let error = try #require(missing)
        #expect(error.file.hasSuffix("no-such-scenario.json"))
        #expect(error.message.contains("no such file"))
        // Loaded from its own directory, the shipped scenarios' "../demo/…" references resolve
        // whatever the current directory is.
        let s = try MockScenario.load(path: Paths.scenario("static-noise-free.json"))
        #expect(s.source == Paths.scenario("static-noise-free.json"))
        #expect(s.headToMRI != nil)
    }
}
