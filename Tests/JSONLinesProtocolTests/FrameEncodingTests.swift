import Foundation
import Formats
import Geometry
import JSONLinesProtocol
import Navigation
import Testing
import TrackerCore

@Suite struct FrameEncodingTests {
    /// The known scene (see `Scene`): coilToTarget = (Rz 90°, (0.5, 1, 1)), so distance 1.5 mm (1² + 2² + 2² = 3²,
    /// halved), depth +1, in-plane (0.5, 1) on both planes (z axis unchanged) with |.| = √1.25, no tilt,
    /// twist +90° (the handle turned from −y to +x), quaternion (√½, 0, 0, √½).
    @Test func knownValidFrameHasExactText() {
        var p = Scene.processor()
        let out = p.process(frame: Scene.frame(number: 1234, at: 5_000_000_000), nowNanoseconds: 5_002_500_000)
        var bytes: [UInt8] = []
        JSONLEncoder.appendFrame(
            out, targetName: "M1 hand", pointerTipMRI: Vector3(1.25, -2, 0.1), pointerStatus: .ok, into: &bytes)
        let expected =
            #"{"type":"frame","frame":1234,"hostTimeNanoseconds":5000000000,"ageNanoseconds":2500000,"valid":true,"reasons":[],"target":"M1 hand","coilStatus":"ok","headStatus":"ok","pointerStatus":"ok","coilToMRI":{"q":[0.7071067811865476,0.0,0.0,0.7071067811865475],"t":[-8.5,2.0,6.0]},"coilToTarget":{"q":[0.7071067811865476,0.0,0.0,0.7071067811865475],"t":[0.5,1.0,1.0]},"pointerTipMRI":[1.25,-2.0,0.1],"metrics":{"distanceMM":1.5,"offsetMM":[0.5,1.0,1.0],"depthMM":1.0,"inPlaneAtCoil":{"x":0.5,"y":1.0,"mm":1.118033988749895},"inPlaneAtCortex":{"x":0.5,"y":1.0,"mm":1.118033988749895},"tiltDegrees":0.0,"tiltAboutTargetXDegrees":-0.0,"tiltAboutTargetYDegrees":0.0,"twistDegrees":90.0},"onTarget":{"state":"off","on":false,"dwellMs":0.0}}"#
            + "\n"
        #expect(text(bytes) == expected)
        // The literal's less obvious numbers, independently: √½ to the last bit or one ulp below, √1.25.
        let q = out.coilToMRI!.quaternion
        #expect(q.q0 == 0.5.squareRoot())
        #expect(q.qz == 0.5.squareRoot().nextDown)
        #expect(1.25.squareRoot() == 1.118033988749895)
        #expect(bytes.filter { $0 == 0x0A }.count == 1)
    }

    @Test func frameWithoutCoilHasNullPosesAndMetrics() {
        var p = Scene.processor()
        let out = p.process(frame: Scene.frame(number: 7, at: 1_000_000_000, coil: nil), nowNanoseconds: 1_000_000_000)
        var bytes: [UInt8] = []
        JSONLEncoder.appendFrame(out, targetName: "M1 hand", pointerTipMRI: nil, pointerStatus: nil, into: &bytes)
        #expect(
            text(bytes)
                == #"{"type":"frame","frame":7,"hostTimeNanoseconds":1000000000,"ageNanoseconds":0,"valid":false,"reasons":["coil-missing"],"target":"M1 hand","coilStatus":null,"headStatus":"ok","pointerStatus":null,"coilToMRI":null,"coilToTarget":null,"pointerTipMRI":null,"metrics":null,"onTarget":{"state":"off","on":false,"dwellMs":0.0}}"#
                + "\n")
    }

    /// Stale, unregistered and without a target: every reason in reporting order; the coil is seen
    /// but has no MRI pose without a registration.
    @Test func staleUnregisteredFrameListsReasonsInOrder() {
        var p = FrameProcessor()
        let out = p.process(frame: Scene.frame(number: 9, at: 0), nowNanoseconds: 100_000_001)
        var bytes: [UInt8] = []
        JSONLEncoder.appendFrame(out, targetName: nil, pointerTipMRI: nil, pointerStatus: .missing, into: &bytes)
        #expect(
            text(bytes)
                == #"{"type":"frame","frame":9,"hostTimeNanoseconds":0,"ageNanoseconds":100000001,"valid":false,"reasons":["stale","not-registered","no-target"],"target":null,"coilStatus":"ok","headStatus":"ok","pointerStatus":"missing","coilToMRI":null,"coilToTarget":null,"pointerTipMRI":null,"metrics":null,"onTarget":{"state":"off","on":false,"dwellMs":0.0}}"#
                + "\n")
    }

    @Test func partlyOutOfVolumeAndDisabledStatusesAreKebabCase() {
        var p = Scene.processor()
        var frame = Scene.frame(number: 1, at: 0)
        frame.tools[0].status = .partlyOutOfVolume
        frame.tools[1].status = .disabled
        frame.tools[1].toolToTracker = nil
        let out = p.process(frame: frame, nowNanoseconds: 0)
        var bytes: [UInt8] = []
        JSONLEncoder.appendFrame(out, targetName: "M1 hand", pointerTipMRI: nil, pointerStatus: nil, into: &bytes)
        let line = text(bytes)
        #expect(line.contains(#""reasons":["coil-missing"],"#))
        #expect(line.contains(#""coilStatus":"disabled","headStatus":"partly-out-of-volume","pointerStatus":null,"#))
    }

    /// A coil exactly on target (coilToTarget = identity): acquiring at 0 and 250 ms, on at 500 ms
    /// (the dwell), then a frame without the coil turns it off at once.
    @Test func onTargetStateAndDwellAreEncoded() {
        var p = Scene.processor()
        let onTarget = RigidTransform.translation(Vector3(11, 21, 30))
        var lines: [String] = []
        for (n, t) in [(1, 0), (2, 250_000_000), (3, 500_000_000)] as [(UInt32, UInt64)] {
            let out = p.process(frame: Scene.frame(number: n, at: t, coil: onTarget), nowNanoseconds: t)
            var bytes: [UInt8] = []
            JSONLEncoder.appendFrame(out, targetName: "M1 hand", pointerTipMRI: nil, pointerStatus: nil, into: &bytes)
            lines.append(text(bytes))
        }
        let off = p.process(frame: Scene.frame(number: 4, at: 510_000_000, coil: nil), nowNanoseconds: 510_000_000)
        var bytes: [UInt8] = []
        JSONLEncoder.appendFrame(off, targetName: "M1 hand", pointerTipMRI: nil, pointerStatus: nil, into: &bytes)
        lines.append(text(bytes))

        #expect(lines[0].hasSuffix(#","onTarget":{"state":"acquiring","on":false,"dwellMs":0.0}}"# + "\n"))
        #expect(lines[1].hasSuffix(#","onTarget":{"state":"acquiring","on":false,"dwellMs":250.0}}"# + "\n"))
        #expect(lines[2].hasSuffix(#","onTarget":{"state":"on","on":true,"dwellMs":500.0}}"# + "\n"))
        #expect(lines[3].hasSuffix(#","onTarget":{"state":"off","on":false,"dwellMs":0.0}}"# + "\n"))
        #expect(lines[2].contains(#""coilToTarget":{"q":[1.0,0.0,0.0,0.0],"t":[0.0,0.0,0.0]}"#))
        #expect(lines[2].contains(#""metrics":{"distanceMM":0.0,"offsetMM":[0.0,0.0,0.0],"depthMM":0.0,"#))
    }

    /// A coil tilted 90° about target x: its axis is parallel to the target planes (no in-plane
    /// intersection) and its handle perpendicular to them (no twist): those are null, not 0.
    @Test func undefinedInPlaneAndTwistAreNull() {
        let rx90 = Matrix3(rows: Vector3(1, 0, 0), Vector3(0, 0, -1), Vector3(0, 1, 0))
        var p = Scene.processor()
        let out = p.process(
            frame: Scene.frame(number: 1, at: 0, coil: RigidTransform(rotation: rx90, translation: Vector3(11, 21, 30))),
            nowNanoseconds: 0)
        var bytes: [UInt8] = []
        JSONLEncoder.appendFrame(out, targetName: "M1 hand", pointerTipMRI: nil, pointerStatus: nil, into: &bytes)
        #expect(
            text(bytes).contains(
                #""metrics":{"distanceMM":0.0,"offsetMM":[0.0,0.0,0.0],"depthMM":0.0,"inPlaneAtCoil":null,"inPlaneAtCortex":null,"tiltDegrees":90.0,"tiltAboutTargetXDegrees":90.0,"tiltAboutTargetYDegrees":0.0,"twistDegrees":null}"#
            ))
    }

    @Test func nonFiniteNumbersAreWrittenAsNull() {
        var p = Scene.processor()
        let out = p.process(frame: Scene.frame(number: 1, at: 0), nowNanoseconds: 0)
        var bytes: [UInt8] = []
        JSONLEncoder.appendFrame(
            out, targetName: nil, pointerTipMRI: Vector3(.nan, 1, -.infinity), pointerStatus: .ok, into: &bytes)
        #expect(text(bytes).contains(#""pointerTipMRI":[null,1.0,null],"#))
        #expect(!text(bytes).contains("nan") && !text(bytes).contains("inf"))
    }

    /// Appending keeps what the buffer held: two frames make two lines.
    @Test func appendingKeepsEarlierBytes() {
        var p = Scene.processor()
        var bytes = Array("previous\n".utf8)
        bytes.reserveCapacity(JSONLEncoder.typicalFrameLineBytes)
        for n in 1...2 as ClosedRange<UInt32> {
            let out = p.process(frame: Scene.frame(number: n, at: UInt64(n)), nowNanoseconds: UInt64(n))
            JSONLEncoder.appendFrame(out, targetName: "M1 hand", pointerTipMRI: nil, pointerStatus: nil, into: &bytes)
        }
        let lines = text(bytes).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 4 && lines[3].isEmpty)
        #expect(lines[0] == "previous")
        #expect(lines[1].hasPrefix(#"{"type":"frame","frame":1,"#) && lines[2].hasPrefix(#"{"type":"frame","frame":2,"#))
    }

    /// Frames of random poses parse back (Formats' strict parser) to exactly the doubles encoded.
    @Test func randomFramesRoundTripBitForBit() throws {
        var rng = SplitMix64(seed: 20_261_122)
        for n in 1...200 as ClosedRange<UInt32> {
            let head = RigidTransform(rotation: rng.nextRotation(), translation: rng.nextGaussianVector(sigma: 300))
            let coilToHead = RigidTransform(
                rotation: rng.nextRotation(angleRadians: rng.nextUnitDouble() * 0.3),
                translation: rng.nextGaussianVector(sigma: 80))
            let target = NavigationTarget(
                name: "t\(n)",
                targetToMRI: RigidTransform(rotation: rng.nextRotation(), translation: rng.nextGaussianVector(sigma: 60)),
                coilToCortexMM: 10 + 20 * rng.nextUnitDouble())
            var p = FrameProcessor(
                headToMRI: RigidTransform(rotation: rng.nextRotation(), translation: rng.nextGaussianVector(sigma: 50)),
                activeTarget: target)
            let t = UInt64(n) * 16_666_667 + 1_700_000_000_000_000_000
            let out = p.process(frame: Scene.frame(number: n, at: t, coil: head * coilToHead), nowNanoseconds: t + 1234)
            let tip = rng.nextGaussianVector(sigma: 100)
            var bytes: [UInt8] = []
            JSONLEncoder.appendFrame(out, targetName: target.name, pointerTipMRI: tip, pointerStatus: .ok, into: &bytes)
            #expect(bytes.last == 0x0A)

            let root = try JSONDocument.parse(Data(bytes), source: "frame").rootField.object()
            // A second, independent parser accepts the line too. swift-corelibs-foundation's
            // JSONSerialization does not round decimal text correctly (seen 1–2 ulps off), so it is only
            // held to 4 ulps; the bit-exact checks below use Formats' parser (Swift's `Double(String)`).
            let foundation = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            let fm = try #require(foundation["metrics"] as? [String: Any])
            let e0 = try #require(out.error)
            for (key, value) in [("distanceMM", e0.distanceMM), ("tiltDegrees", e0.tiltDegrees), ("depthMM", e0.depthMM)] {
                let read = try #require((fm[key] as? NSNumber)?.doubleValue, "\(key)")
                #expect(Swift.abs(read - value) <= 4 * value.ulp, "\(key): \(read) vs \(value)")
            }
            #expect(try root.required("frame").integer() == Int(n))
            #expect(try root.required("target").string() == target.name)
            // hostTimeNanoseconds is above 2⁵³ here: compare its digits, which a Double would round.
            #expect(text(bytes).contains("\"hostTimeNanoseconds\":\(t),\"ageNanoseconds\":1234,"))
            let e = try #require(out.error)
            let cm = try #require(out.coilToMRI)
            try expectPose(root.required("coilToMRI"), cm)
            try expectPose(root.required("coilToTarget"), e.coilToTarget)
            try expectBits(root.required("pointerTipMRI").numbers(count: 3), [tip.x, tip.y, tip.z])
            let m = try root.required("metrics").object()
            try expectBits([m.required("distanceMM").number()], [e.distanceMM])
            try expectBits(m.required("offsetMM").numbers(count: 3), [e.offsetMM.x, e.offsetMM.y, e.offsetMM.z])
            try expectBits([m.required("depthMM").number()], [e.depthMM])
            for (key, plane) in [("inPlaneAtCoil", e.inPlaneAtCoilMM), ("inPlaneAtCortex", e.inPlaneAtCortexMM)] {
                let o = try m.required(key).object()
                try expectBits(
                    [o.required("x").number(), o.required("y").number(), o.required("mm").number()],
                    [plane.x, plane.y, plane.magnitude])
            }
            try expectBits(
                [
                    m.required("tiltDegrees").number(), m.required("tiltAboutTargetXDegrees").number(),
                    m.required("tiltAboutTargetYDegrees").number(), m.required("twistDegrees").number(),
                ], [e.tiltDegrees, e.tiltAboutTargetXDegrees, e.tiltAboutTargetYDegrees, e.twistDegrees])
        }
    }

    private func expectPose(_ field: JSONField, _ pose: RigidTransform) throws {
        let o = try field.object()
        let q = pose.quaternion
        try expectBits(o.required("q").numbers(count: 4), [q.q0, q.qx, q.qy, q.qz])
        try expectBits(o.required("t").numbers(count: 3), [pose.translation.x, pose.translation.y, pose.translation.z])
        #expect(q.q0 >= 0)
    }

    private func expectBits(_ parsed: [Double], _ expected: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(parsed.map(\.bitPattern) == expected.map(\.bitPattern), "\(parsed) vs \(expected)", sourceLocation: sourceLocation)
    }
}
