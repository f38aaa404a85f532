import Formats
import Foundation
import Geometry
import Testing

@testable import MockTracker

/// The `sequence` motion: segments handing over at their start times, each evaluated at the run's
/// time, and its refusals.
@Suite struct SequenceMotionTests {
    func motion(_ json: String, extra: String = "") throws -> MockMotion {
        try scenario(document("\"tools\": [\(tool("a", kind: "pointer", handle: 1, motion: json, extra: extra))]"))
            .tools[0].motion
    }

    static let pivot = #"""
        {"type": "pivot", "pivotMM": [10, 20, 30], "tipMM": [0, 0, -150],
         "swings": [{"axis": [1, 0, 0], "amplitudeDegrees": 20, "periodSeconds": 1}]}
        """#
    static let landmarks = #"""
        {"type": "landmarks", "tipMM": [0, 0, -150], "startSeconds": 6, "travelSeconds": 0.5, "dwellSeconds": 1,
         "points": [{"label": "A", "positionMM": [0, 0, 0]}, {"label": "B", "positionMM": [50, 0, 0]}]}
        """#

    @Test func segmentsHandOverAtTheirStartsAndUseTheRunsTime() throws {
        let json = """
            {"type": "sequence", "segments": [
                {"fromSeconds": 0, "motion": {"type": "static", "pose": {"translationMM": [1, 2, 3]}}},
                {"fromSeconds": 2, "motion": \(Self.pivot)},
                {"fromSeconds": 5.5, "motion": \(Self.landmarks)}
            ]}
            """
        let m = try self.motion(json)
        let pivot = try self.motion(Self.pivot)
        let landmarks = try self.motion(Self.landmarks)
        #expect(m.typeName == "sequence")
        #expect(m.segments.map(\.fromSeconds) == [0, 2, 5.5])
        #expect(m.segments.map(\.motion.typeName) == ["static", "pivot", "landmarks"])
        // Before the second segment: the static pose, exactly.
        #expect(m.pose(atSeconds: 0) == RigidTransform.translation(Vector3(1, 2, 3)))
        #expect(m.pose(atSeconds: 1.999) == RigidTransform.translation(Vector3(1, 2, 3)))
        // From 2 s the pivot, evaluated at the run's time (not the time since 2 s): 2.25 s is a
        // quarter period into the swing, so 20° about x.
        for t in [2.0, 2.25, 3.1, 5.49] {
            #expect(m.pose(atSeconds: t) == pivot.pose(atSeconds: t))
        }
        #expect(Swift.abs(degrees(fromRadians: m.pose(atSeconds: 2.25).rotationAngleRadians) - 20) < 1e-9)
        // The tip stays on the pivot throughout the pivot segment.
        for k in 0..<35 {
            let t = 2 + Double(k) * 0.1
            #expect(m.pose(atSeconds: t).apply(to: Vector3(0, 0, -150)).distance(to: Vector3(10, 20, 30)) < 1e-9)
        }
        // From 5.5 s the landmarks motion, also at the run's time: it hovers until 6 s, rests on A
        // during [6.5, 7.5) and on B during [8, 9).
        for t in [5.5, 6.7, 8.5, 20.0] {
            #expect(m.pose(atSeconds: t) == landmarks.pose(atSeconds: t))
        }
        #expect(m.pose(atSeconds: 7).apply(to: Vector3(0, 0, -150)).distance(to: Vector3(0, 0, 0)) < 1e-9)
        #expect(m.pose(atSeconds: 8.5).apply(to: Vector3(0, 0, -150)).distance(to: Vector3(50, 0, 0)) < 1e-9)
        #expect(m.landmarkVisits == landmarks.landmarkVisits)
        #expect(m.landmarkVisits.map(\.fromSeconds) == [6.5, 8])
        #expect(m.tipMM == Vector3(0, 0, -150))
        // Settles when its last segment does.
        #expect(m.settledAfterSeconds == landmarks.settledAfterSeconds)
        #expect(m.settledAfterSeconds == 9.5)
    }

    @Test func visitsOutsideTheirSegmentAreNotListed() throws {
        // The landmarks segment is cut off at 7 s by a static segment: only A's dwell (6.5–7.5)
        // would start inside it, and it does not end inside it, so no visit is listed.
        let json = """
            {"type": "sequence", "segments": [
                {"fromSeconds": 0, "motion": \(Self.landmarks)},
                {"fromSeconds": 7, "motion": {"type": "static", "pose": {}}}
            ]}
            """
        let m = try self.motion(json)
        #expect(m.landmarkVisits.isEmpty)
        #expect(m.settledAfterSeconds == nil)
        #expect(m.pose(atSeconds: 7) == .identity)
    }

    @Test func aSequenceFollowsItsToolsSpace() throws {
        // A pointer posed in a phantom's coordinates: the sequence is composed like any motion.
        let phantom = tool(
            "phantom", kind: "phantom", handle: 4,
            motion:
                #"{"type": "static", "pose": {"axis": [0, 0, 1], "angleDegrees": 30, "translationMM": [10, -20, -1400]}}"#
        )
        let seq = """
            {"type": "sequence", "segments": [
                {"fromSeconds": 0, "motion": {"type": "static", "pose": {"translationMM": [100, 0, 0]}}},
                {"fromSeconds": 1, "motion": \(Self.pivot)}
            ]}
            """
        let pointer = tool("pointer", kind: "pointer", handle: 3, motion: seq, extra: "\"relativeTo\": \"phantom\"")
        let s = try scenario(document("\"tools\": [\(phantom), \(pointer)]"))
        let sim = MockSimulation(scenario: s, seed: 1)
        let phantomToTracker = RigidTransform(
            rotation: Quaternion(axis: Vector3(0, 0, 1), angleRadians: radians(fromDegrees: 30)),
            translation: Vector3(10, -20, -1400))
        #expect(
            same(sim.truth(atSeconds: 0.5)[1], phantomToTracker * .translation(Vector3(100, 0, 0)), tolerance: 1e-9))
        let tip = sim.truth(atSeconds: 1.3)[1].apply(to: Vector3(0, 0, -150))
        #expect(tip.distance(to: phantomToTracker.apply(to: Vector3(10, 20, 30))) < 1e-9)
    }

    @Test func badSequencesAreLocatedErrors() throws {
        func error(_ motion: String) -> String {
            scenarioError(document("\"tools\": [\(tool("a", handle: 1, motion: motion))]")).map { "\($0)" } ?? "parsed"
        }
        #expect(
            error(#"{"type": "sequence", "segments": []}"#)
                == "bad.json: line 3, column 45: tools[0].motion.segments: needs at least one segment")
        let late = error(
            #"{"type": "sequence", "segments": [{"fromSeconds": 1, "motion": {"type": "static", "pose": {}}}]}"#)
        #expect(
            late.hasSuffix("tools[0].motion.segments[0].fromSeconds: the first segment must start at 0 s, got 1.0 s"),
            "\(late)")
        let order = error(
            #"{"type": "sequence", "segments": [{"fromSeconds": 0, "motion": {"type": "static", "pose": {}}}, {"fromSeconds": 0, "motion": {"type": "static", "pose": {}}}]}"#
        )
        #expect(
            order.hasSuffix(
                "tools[0].motion.segments[1].fromSeconds: segment starts must increase strictly (previous: 0.0 s), got 0.0 s"
            ), "\(order)")
        let nested = error(
            #"{"type": "sequence", "segments": [{"fromSeconds": 0, "motion": {"type": "sequence", "segments": []}}]}"#)
        #expect(
            nested.hasSuffix("tools[0].motion.segments[0].motion.type: a sequence segment cannot itself be a sequence"),
            "\(nested)")
        let unknown = error(
            #"{"type": "sequence", "segments": [{"fromSeconds": 0, "motion": {"type": "static", "pose": {}}, "until": 3}]}"#
        )
        #expect(unknown.contains("tools[0].motion.segments[0].until: unknown field"), "\(unknown)")
        let inner = error(
            #"{"type": "sequence", "segments": [{"fromSeconds": 0, "motion": {"type": "pivot", "pivotMM": [0, 0, 0], "tipMM": [0, 0, 0], "swings": []}}]}"#
        )
        #expect(inner.contains("tools[0].motion.segments[0].motion."), "\(inner)")
    }
}
