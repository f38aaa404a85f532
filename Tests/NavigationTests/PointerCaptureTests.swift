import Geometry
import Navigation
import Testing
import TrackerCore

@Suite struct PointerCaptureTests {
    static let tip = Vector3(-1.2, 0.4, -158.3)
    /// A pointer pose whose tip lands exactly on `p` (head coordinates): rotation about z by `angle`.
    static func sample(_ n: UInt32, tipAt p: Vector3, angle: Double = 0.3, pointer: ToolStatus? = .ok, head: ToolStatus? = .ok) -> PointerSample {
        let r = Quaternion(axis: Vector3(0, 0, 1), angleRadians: angle)
        let rotated = RigidTransform(rotation: r, translation: .zero).apply(to: tip)
        let pose = RigidTransform(rotation: r, translation: p - rotated)
        let visible = pointer?.hasPose == true && head?.hasPose == true
        return PointerSample(frameNumber: n, pointerStatus: pointer, headStatus: head, pointerToHead: visible ? pose : nil)
    }

    @Test func averagesDistinctFramesOfAStillTip() throws {
        let p = Vector3(10, 20, 30)
        // Frame 2 repeats (a repeated BX reply): counted once. The tip rotates about itself: still.
        let samples = [Self.sample(1, tipAt: p, angle: 0.1), Self.sample(2, tipAt: p + Vector3(0.2, 0, 0)),
                       Self.sample(2, tipAt: p + Vector3(0.2, 0, 0)), Self.sample(3, tipAt: p - Vector3(0.2, 0, 0), angle: 0.5)]
        let r = try PointerCapture.evaluate(samples: samples, tipInPointerMM: Self.tip, framesNeeded: 3, stillnessLimitMM: 0.5).get()
        #expect(r.sampleCount == 3 && r.firstFrame == 1 && r.lastFrame == 3)
        #expect((r.positionInHeadMM - p).length < 1e-9)
        #expect(Swift.abs(r.spreadMM - 0.2) < 1e-9)
    }

    @Test func refusesAHiddenPointerAHiddenHeadReferenceAndAMovingTip() {
        let p = Vector3(0, 0, 0)
        let hiddenPointer = [Self.sample(1, tipAt: p), Self.sample(2, tipAt: p, pointer: .missing)]
        #expect(PointerCapture.evaluate(samples: hiddenPointer, tipInPointerMM: Self.tip, framesNeeded: 2, stillnessLimitMM: 0.5)
            == .failure(.pointerNotVisible(frameNumber: 2, status: .missing)))
        let hiddenHead = [Self.sample(7, tipAt: p, head: .partlyOutOfVolume), Self.sample(8, tipAt: p, head: .missing)]
        #expect(PointerCapture.evaluate(samples: hiddenHead, tipInPointerMM: Self.tip, framesNeeded: 2, stillnessLimitMM: 0.5)
            == .failure(.headReferenceNotVisible(frameNumber: 8, status: .missing)))
        let moving = [Self.sample(1, tipAt: p), Self.sample(2, tipAt: Vector3(2, 0, 0))]
        let r = PointerCapture.evaluate(samples: moving, tipInPointerMM: Self.tip, framesNeeded: 2, stillnessLimitMM: 0.5)
        #expect(r == .failure(.pointerMoving(spreadMM: 1.0000000000000002, limitMM: 0.5, frames: 2)) || r == .failure(.pointerMoving(spreadMM: 1, limitMM: 0.5, frames: 2)))
        guard case .failure(let e) = r else { return }
        #expect(e.description == "pointer moving: the tip wandered 1.00 mm over 2 frames (limit 0.50 mm): hold it still")
        #expect(CaptureRefusal.pointerNotVisible(frameNumber: 2, status: .missing).description
            == "pointer not visible (frame 2: missing): keep the pointer in view of the tracker")
        #expect(PointerCapture.evaluate(samples: [Self.sample(1, tipAt: p)], tipInPointerMM: Self.tip, framesNeeded: 3, stillnessLimitMM: 0.5)
            == .failure(.notEnoughFrames(got: 1, needed: 3)))
    }
}
