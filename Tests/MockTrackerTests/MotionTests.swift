import Foundation
import Formats
import Geometry
import Testing

@testable import MockTracker

/// Each motion kind against its definition in `Mock/scenarios/README.md`.
@Suite struct MotionTests {
    /// The motion of the single tool of an inline scenario.
    func motion(_ json: String, extra: String = "") throws -> MockMotion {
        try scenario(document("\"tools\": [\(tool("a", kind: "pointer", handle: 1, motion: json, extra: extra))]")).tools[0].motion
    }

    static let a = RigidTransform(rotation: Quaternion(axis: Vector3(0, 0, 1), angleRadians: 0), translation: Vector3(0, 0, 0))
    static let b = RigidTransform(rotation: Quaternion(axis: Vector3(0, 0, 1), angleRadians: radians(fromDegrees: 90)), translation: Vector3(10, 20, -40))

    @Test func keyframesHoldInterpolateAndEase() throws {
        let keys = #"[{"timeSeconds": 1, "pose": {}}, {"timeSeconds": 3, "pose": {"axis": [0, 0, 1], "angleDegrees": 90, "translationMM": [10, 20, -40]}}]"#
        let linear = try self.motion("{\"type\": \"keyframes\", \"keyframes\": \(keys)}")
        let smooth = try self.motion("{\"type\": \"keyframes\", \"keyframes\": \(keys), \"easing\": \"smooth\"}")
        #expect(linear.typeName == "keyframes")
        #expect(linear.settledAfterSeconds == 3)
        for m in [linear, smooth] {
            #expect(m.pose(atSeconds: 0) == Self.a)
            #expect(m.pose(atSeconds: 1) == Self.a)
            #expect(same(m.pose(atSeconds: 3), Self.b, tolerance: 1e-12))
            #expect(m.pose(atSeconds: 3) == m.pose(atSeconds: 100))
            // Half-way in time is half-way in both easings (smoothstep(½) = ½).
            let mid = m.pose(atSeconds: 2)
            #expect(same(mid, RigidTransform(rotation: Quaternion(axis: Vector3(0, 0, 1), angleRadians: radians(fromDegrees: 45)), translation: Vector3(5, 10, -20)), tolerance: 1e-12))
        }
        // A quarter of the time: linear is a quarter of the way, smooth 3s² − 2s³ = 0.15625.
        #expect(Swift.abs(linear.pose(atSeconds: 1.5).translation.x - 2.5) < 1e-12)
        #expect(Swift.abs(smooth.pose(atSeconds: 1.5).translation.x - 1.5625) < 1e-12)
        #expect(Swift.abs(degrees(fromRadians: smooth.pose(atSeconds: 1.5).rotationAngleRadians) - 90 * 0.15625) < 1e-9)
    }

    @Test func keyframesWithManySegmentsFindTheRightOne() throws {
        var keys: [String] = []
        for k in 0..<20 { keys.append("{\"timeSeconds\": \(Double(k) * 0.5), \"pose\": {\"translationMM\": [\(k * k), 0, 0]}}") }
        let m = try self.motion("{\"type\": \"keyframes\", \"keyframes\": [\(keys.joined(separator: ", "))]}")
        for k in 0..<20 {
            #expect(m.pose(atSeconds: Double(k) * 0.5).translation.x == Double(k * k))
        }
        for k in 0..<19 {
            let x = m.pose(atSeconds: Double(k) * 0.5 + 0.25).translation.x
            #expect(Swift.abs(x - Double(k * k + (k + 1) * (k + 1)) / 2) < 1e-12)
        }
    }

    @Test func approachStartsAtTheOffsetEndsExactlyOnTheTargetAndClosesIn() throws {
        let target = #"{"axis": [0.3, 1, 0.2], "angleDegrees": 70, "translationMM": [-50, 60, 30]}"#
        let offset = #"{"axis": [1, 0, 0], "angleDegrees": 25, "translationMM": [5, -5, -40]}"#
        let m = try self.motion("{\"type\": \"approach\", \"target\": \(target), \"startOffset\": \(offset), \"startSeconds\": 1, \"arrivalSeconds\": 6}")
        let t = RigidTransform(rotation: Quaternion(axis: Vector3(0.3, 1, 0.2), angleRadians: radians(fromDegrees: 70)), translation: Vector3(-50, 60, 30))
        let o = RigidTransform(rotation: Quaternion(axis: Vector3(1, 0, 0), angleRadians: radians(fromDegrees: 25)), translation: Vector3(5, -5, -40))
        #expect(same(m.pose(atSeconds: 0), t * o, tolerance: 1e-12))
        #expect(m.pose(atSeconds: 1) == m.pose(atSeconds: 0))
        #expect(same(m.pose(atSeconds: 6), t, tolerance: 1e-12))
        #expect(m.pose(atSeconds: 6) == m.pose(atSeconds: 600))
        #expect(m.settledAfterSeconds == 6)
        var lastDistance = Double.infinity, lastAngle = Double.infinity
        for k in 0...100 {
            let p = m.pose(atSeconds: 1 + 5 * Double(k) / 100)
            let d = poseDifference(p, t)
            #expect(d.mm <= lastDistance + 1e-12 && d.degrees <= lastAngle + 1e-9, "step \(k)")
            lastDistance = d.mm
            lastAngle = d.degrees
        }
        #expect(lastDistance < 1e-12)
        // With smooth easing the coil starts and arrives at rest: the first and last steps are
        // far smaller than the middle ones.
        let step = { (s: Double) in m.pose(atSeconds: s).translation.distance(to: m.pose(atSeconds: s + 0.01).translation) }
        #expect(step(1) < step(3.5) / 50 && step(5.99) < step(3.5) / 50)
    }

    @Test func approachWobbleIsSmallBoundedAndStartsAtZero() throws {
        let m = try self.motion(
            #"{"type": "approach", "target": {"translationMM": [0, 0, 100]}, "startOffset": {"translationMM": [0, 0, -30]}, "arrivalSeconds": 2, "wobble": {"translationMM": 0.3, "rotationDegrees": 0.5, "periodSeconds": 2}}"#)
        let target = RigidTransform.translation(Vector3(0, 0, 100))
        #expect(m.pose(atSeconds: 2) == target)
        var maxMM = 0.0, maxDegrees = 0.0
        for k in 0..<2000 {
            let d = poseDifference(m.pose(atSeconds: 2 + Double(k) * 0.01), target)
            maxMM = Swift.max(maxMM, d.mm)
            maxDegrees = Swift.max(maxDegrees, d.degrees)
            // The wobble is in the target's x–y plane: depth never changes.
            #expect(Swift.abs(m.pose(atSeconds: 2 + Double(k) * 0.01).translation.z - 100) < 1e-12)
        }
        #expect(maxMM <= 0.3 * 2.0.squareRoot() + 1e-12 && maxMM > 0.35)
        #expect(maxDegrees <= 0.5 + 1e-9 && maxDegrees > 0.49)
    }

    @Test func pivotKeepsTheTipAndSwingsByTheAmplitude() throws {
        let m = try self.motion(
            #"{"type": "pivot", "pivotMM": [1, 2, 3], "tipMM": [0, 0, -150], "orientation": {"axis": [0, 1, 0], "angleDegrees": 10}, "swings": [{"axis": [1, 0, 0], "amplitudeDegrees": 20, "periodSeconds": 4}]}"#)
        let base = RigidTransform(rotation: Quaternion(axis: Vector3(0, 1, 0), angleRadians: radians(fromDegrees: 10)), translation: .zero)
        #expect(m.tipMM == Vector3(0, 0, -150))
        #expect(m.settledAfterSeconds == nil)
        for k in 0..<400 {
            let t = Double(k) * 0.01
            let p = m.pose(atSeconds: t)
            #expect(p.apply(to: Vector3(0, 0, -150)).distance(to: Vector3(1, 2, 3)) < 1e-12)
            // The rotation relative to the base orientation is 20° sin(2πt/4) about x.
            let relative = p.rotation * base.rotation.transposed
            let expected = 20 * sinDouble(2 * Double.pi * t / 4)
            #expect(Swift.abs(degrees(fromRadians: Quaternion(rotationMatrix: relative).angleRadians) - Swift.abs(expected)) < 1e-9)
        }
    }

    @Test func landmarksFollowTheTimelineAndAimAtTheCentre() throws {
        let m = try self.motion(
            #"""
            {"type": "landmarks", "tipMM": [0, 0, -100], "aimAtMM": [0, 0, 0],
             "points": [{"label": "A", "positionMM": [80, 0, 0]}, {"label": "B", "positionMM": [0, 80, 0]}, {"label": "C", "positionMM": [0, 0, 80]}],
             "startSeconds": 0.5, "travelSeconds": 1, "dwellSeconds": 2, "liftMM": 25}
            """#)
        let tip = Vector3(0, 0, -100)
        let visits = m.landmarkVisits
        #expect(visits == [
            MockLandmarkVisit(label: "A", positionMM: Vector3(80, 0, 0), fromSeconds: 1.5, toSeconds: 3.5),
            MockLandmarkVisit(label: "B", positionMM: Vector3(0, 80, 0), fromSeconds: 4.5, toSeconds: 6.5),
            MockLandmarkVisit(label: "C", positionMM: Vector3(0, 0, 80), fromSeconds: 7.5, toSeconds: 9.5),
        ])
        #expect(m.settledAfterSeconds == 10.5)
        var previous: Vector3? = nil
        for k in 0..<1200 {
            let t = Double(k) / 100
            let p = m.pose(atSeconds: t)
            let tipAt = p.apply(to: tip)
            let shaft = p.rotate(tip).normalized
            if let v = visits.first(where: { t >= $0.fromSeconds && t < $0.toSeconds }) {
                #expect(tipAt.distance(to: v.positionMM) < 1e-12, "\(t) s on \(v.label)")
                // Aimed at the centre: the shaft points from the point toward (0, 0, 0).
                #expect(shaft.distance(to: -v.positionMM.normalized) < 1e-12)
            }
            // 113 mm between points in 1 s with smoothstep (peak speed 1.5×): at most ~2.4 mm per 10 ms.
            if let q = previous { #expect(tipAt.distance(to: q) < 3, "no jumps (\(t) s)") }
            previous = tipAt
        }
        // Hovering before the start and after the end: lifted 25 mm back along the shaft.
        #expect(m.pose(atSeconds: 0).apply(to: tip).distance(to: Vector3(105, 0, 0)) < 1e-12)
        #expect(m.pose(atSeconds: 11).apply(to: tip).distance(to: Vector3(0, 0, 105)) < 1e-12)
        // Between A and B, half-way, the tip is lifted off the straight line by liftMM.
        let mid = m.pose(atSeconds: 4).apply(to: tip)
        #expect(Swift.abs(mid.distance(to: Vector3(40, 40, 0)) - 25) < 1e-9)
    }

    @Test func headMotionIsTheDocumentedComposition() throws {
        let rest = #"{"axis": [0, 1, 0], "angleDegrees": 30, "translationMM": [10, 0, -1400]}"#
        let nodOnly = try self.motion(
            "{\"type\": \"head-motion\", \"rest\": \(rest), \"nod\": {\"axis\": [1, 0, 0], \"pivotMM\": [10, -120, -1400], \"amplitudeDegrees\": 4, \"periodSeconds\": 8, \"phaseDegrees\": 90}}")
        let restPose = RigidTransform(rotation: Quaternion(axis: Vector3(0, 1, 0), angleRadians: radians(fromDegrees: 30)), translation: Vector3(10, 0, -1400))
        for t in stride(from: 0.0, to: 16, by: 0.37) {
            let p = nodOnly.pose(atSeconds: t)
            let move = p * restPose.inverse
            // Rotation about the pivot: the pivot stays put, the angle follows 4° sin(2πt/8 + 90°).
            #expect(move.apply(to: Vector3(10, -120, -1400)).distance(to: Vector3(10, -120, -1400)) < 1e-9)
            let expected = Swift.abs(4 * cosDouble(2 * Double.pi * t / 8))
            #expect(Swift.abs(degrees(fromRadians: move.rotationAngleRadians) - expected) < 1e-9)
        }
        let swayOnly = try self.motion(
            "{\"type\": \"head-motion\", \"rest\": \(rest), \"sway\": {\"amplitudeMM\": [3, -2, 1], \"periodSeconds\": 5}}")
        for t in stride(from: 0.0, to: 10, by: 0.41) {
            let p = swayOnly.pose(atSeconds: t)
            let s = sinDouble(2 * Double.pi * t / 5)
            #expect((p.translation - restPose.translation - Vector3(3, -2, 1) * s).length < 1e-9)
            #expect(same(RigidTransform(rotation: p.rotation, translation: .zero), RigidTransform(rotation: restPose.rotation, translation: .zero), tolerance: 1e-15))
        }
    }

    @Test func scalpSweepSamplingDependsOnlyOnTheSampleSeed() throws {
        func sweep(_ seed: Int) throws -> [Vector3] {
            try self.motion(
                "{\"type\": \"scalp-sweep\", \"mesh\": \"../demo/scalp.ply\", \"tipMM\": [0, 0, -100], \"pointCount\": 12, \"sampleSeed\": \(seed), \"travelSeconds\": 0.5}"
            ).sweepPointsMM
        }
        let a = try sweep(1), b = try sweep(1), c = try sweep(2)
        #expect(a.count == 12)
        #expect(a == b)
        #expect(a != c)
        // The tour goes to the nearest unvisited point each time.
        for k in 1..<(a.count - 1) {
            let rest = a[(k + 1)...]
            #expect(rest.allSatisfy { a[k].distance(to: a[k + 1]) <= a[k].distance(to: $0) + 1e-12 })
        }
        let m = try self.motion(
            "{\"type\": \"scalp-sweep\", \"mesh\": \"../demo/scalp.ply\", \"tipMM\": [0, 0, -100], \"pointCount\": 12, \"sampleSeed\": 1, \"startSeconds\": 2, \"travelSeconds\": 0.5, \"dwellSeconds\": 0.25}")
        #expect(m.settledAfterSeconds == 2 + 11 * 0.75)
        // Resting on point k from 2 + k·0.75 − 0.25 s: the tip is exactly there (on the surface).
        for k in 1..<12 {
            let p = m.pose(atSeconds: 2 + Double(k) * 0.75 - 0.1)
            #expect(p.apply(to: Vector3(0, 0, -100)).distance(to: a[k]) < 1e-9)
        }
        #expect(m.pose(atSeconds: 0).apply(to: Vector3(0, 0, -100)).distance(to: a[0]) < 1e-9)
    }

    @Test func relativeToChainsCompose() throws {
        let s = try scenario(document(
            """
            "tools": [
                \(tool("c", handle: 3, motion: #"{"type": "static", "pose": {"axis": [1, 0, 0], "angleDegrees": 10, "translationMM": [0, 5, 0]}}"#, extra: #""relativeTo": "b""#)),
                \(tool("b", handle: 2, motion: #"{"type": "static", "pose": {"axis": [0, 1, 0], "angleDegrees": 20, "translationMM": [7, 0, 0]}}"#, extra: #""relativeTo": "a""#)),
                \(tool("a", handle: 1, motion: #"{"type": "head-motion", "rest": {"translationMM": [0, 0, -1000]}, "sway": {"amplitudeMM": [5, 0, 0], "periodSeconds": 2}}"#))
            ]
            """))
        let sim = MockSimulation(scenario: s, seed: 0)
        for t in [0.0, 0.3, 1.7] {
            let truth = sim.truth(atSeconds: t)
            let a = s.tools[2].motion.pose(atSeconds: t), b = s.tools[1].motion.pose(atSeconds: t), c = s.tools[0].motion.pose(atSeconds: t)
            #expect(truth[2] == a)
            #expect(same(truth[1], a * b, tolerance: 1e-12))
            #expect(same(truth[0], a * b * c, tolerance: 1e-12))
        }
        #expect(s.tools.map(\.space) == [.tool("b"), .tool("a"), .tracker])
    }
}
