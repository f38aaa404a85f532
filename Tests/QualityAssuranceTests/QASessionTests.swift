import Formats
import Foundation
import Geometry
import Testing
import TrackerCore

@testable import QualityAssurance

/// The QA protocol as a state machine over synthetic frames: phases on the tracker's frame
/// numbers, what each phase keeps, automatic landmark captures with the server's rule, timeouts.
@Suite struct QASessionTests {
    /// The still phase's deviations, in the order of its frames that see the phantom.
    static let deviations: [Vector3] = [
        Vector3(0.1, 0, 0), Vector3(-0.1, 0, 0), Vector3(0, 0.2, 0), Vector3(0, -0.2, 0), Vector3(0, 0, 0.3),
        Vector3(0, 0, -0.3),
        Vector3(0.1, 0.2, 0.2), Vector3(-0.1, -0.2, -0.2),
    ]

    /// Plays the protocol: frame numbers from 1000; frame 1009 never arrives; the phantom is
    /// hidden in 1012 and the pointer in 1020 and 1045; A rests 1046–1051, B 1054–1059 (after two
    /// moving frames), C 1060–1065; D is never touched (the tip rests 30 mm away).
    static func play() -> (session: QASession, events: [(offset: Int, event: QAEvent)]) {
        var session = QASession(phantom: smallPhantom(), nominalFrameRateHz: 10, pointerTipMM: tipMM)
        var events: [(Int, QAEvent)] = []
        var still = Self.deviations.makeIterator()
        let b = Vector3(100, 0, 0)
        for offset in 0..<90 where offset != 9 {
            let n = UInt32(1000 + offset)
            var f: TrackerFrame
            switch offset {
            case 0..<5: f = frame(n, pointerInPhantom: pointerAt(Vector3(200, 0, 0)))
            case 12: f = frame(n, phantom: nil, pointerInPhantom: nil)
            case 5..<15:
                let moved = RigidTransform(
                    rotation: phantomToTracker.rotation, translation: phantomToTracker.translation + still.next()!)
                f = frame(n, phantom: moved, pointerInPhantom: pointerAt(Vector3(200, 0, 0)))
            case 20: f = frame(n, pointerInPhantom: nil)
            case 15..<45: f = frame(n, pointerInPhantom: pivotPose(offset - 15))
            case 45: f = frame(n, pointerInPhantom: nil)
            case 46...51: f = frame(n, pointerInPhantom: pointerAt(Vector3(0, 0, 0)))
            case 52: f = frame(n, pointerInPhantom: pointerAt(b + Vector3(5, 0, 0)))
            case 53: f = frame(n, pointerInPhantom: pointerAt(b + Vector3(2, 0, 0)))
            case 54...59: f = frame(n, pointerInPhantom: pointerAt(b))
            case 60...65: f = frame(n, pointerInPhantom: pointerAt(Vector3(0, 100, 0.25)))
            default: f = frame(n, pointerInPhantom: pointerAt(Vector3(80, 50, 40)))
            }
            for e in session.consume(f) { events.append((offset, e)) }
            // A repeated frame number changes nothing.
            #expect(session.consume(f).isEmpty)
        }
        return (session, events)
    }

    @Test func phasesStartOnTheTrackersFrameNumbers() throws {
        let (session, events) = Self.play()
        let starts = events.compactMap { e -> (Int, Int, QAPhaseKind)? in
            if case .phaseStarted(let n, let count, let kind, _) = e.event {
                #expect(count == 4)
                return (e.offset, n, kind)
            }
            return nil
        }
        #expect(starts.map(\.0) == [0, 5, 15, 45])
        #expect(starts.map(\.1) == [1, 2, 3, 4])
        #expect(starts.map(\.2) == [.pause, .still, .pivot, .landmarks])
        guard case .phaseStarted(_, _, _, let first) = events[0].event else { throw QATestError("no first phase") }
        #expect(first == "Get ready (0.5 s): put the phantom in the middle of the tracker's view and let go of it.")
        #expect(session.instruction(for: 1) == "Leave \"phantom\" still for 1 s: touch neither it nor the table.")
        #expect(
            session.instruction(for: 2)
                == "Swivel the pointer with its tip seated in the pivot divot for 3 s: tilt it ±20° or more about two axes, without lifting the tip."
        )
        #expect(
            session.instruction(for: 3)
                == "Touch each landmark with the pointer tip when asked and hold still until it is captured (3 frames, tip within 0.5 mm)."
        )
        #expect(session.isFinished)
        // Frames after the end are not taken.
        var s = session
        #expect(s.consume(frame(2000, pointerInPhantom: nil)).isEmpty)
        #expect(s.recording == session.recording)
    }

    @Test func eachPhaseKeepsItsData() throws {
        let (session, _) = Self.play()
        let r = session.recording
        #expect(r.firstFrameNumber == 1000)
        #expect(r.lastFrameNumber == 1075)
        #expect(r.framesReceived == 75)  // 0…75 without 9
        #expect(r.framesDropped == 1)
        #expect(r.counterRestarts == 0)
        // Still: 8 frames saw the phantom (9 never came, 12 had no phantom).
        #expect(r.stillPhaseFrames == 10)
        #expect(r.jitterFramesWithoutTool == 1)
        #expect(r.jitterPointsMM.count == 8)
        for (p, d) in zip(r.jitterPointsMM, Self.deviations) {
            #expect(p.distance(to: phantomToTracker.translation + d) < 1e-9)
        }
        // Pivot: 30 frames, the pointer hidden in one.
        #expect(r.pivotPhaseFrames == 30)
        #expect(r.pivotPoses.map(\.frameInPhase) == Array(0..<30).filter { $0 != 5 })
        for p in r.pivotPoses {
            #expect(p.pointerToPhantom.apply(to: tipMM).distance(to: Vector3(60, 0, 10)) < 1e-9)
        }
    }

    @Test func landmarksAreCapturedByTheServersRuleAndTimeOut() throws {
        let (session, events) = Self.play()
        let landmarkEvents = events.filter { $0.offset >= 45 }
        #expect(landmarkEvents.count == 10)
        #expect(landmarkEvents[1].event == .landmarkRequested(number: 1, count: 4, name: "A", role: .registration))
        #expect(landmarkEvents[1].offset == 45)
        // A: 1046–1048 is the first window with the pointer in every frame and the tip at rest;
        // the next window, 1049–1051, is the capture.
        guard case .landmarkCaptured(let a) = landmarkEvents[2].event else { throw QATestError("A not captured") }
        #expect(landmarkEvents[2].offset == 51)
        #expect(a.name == "A" && a.firstFrame == 1049 && a.lastFrame == 1051 && a.sampleCount == 3)
        #expect(a.measuredMM.distance(to: Vector3(0, 0, 0)) < 1e-9)
        #expect(landmarkEvents[3].event == .landmarkRequested(number: 2, count: 4, name: "B", role: .registration))
        // B: the windows ending at 1054 (spread 2.67 mm) and 1055 (1.33 mm) are refused as moving;
        // 1054–1056 is at rest, 1057–1059 the capture.
        guard case .landmarkCaptured(let b) = landmarkEvents[4].event else { throw QATestError("B not captured") }
        #expect(landmarkEvents[4].offset == 59)
        #expect(b.firstFrame == 1057 && b.lastFrame == 1059 && b.spreadMM < 1e-9)
        guard case .landmarkCaptured(let c) = landmarkEvents[6].event else { throw QATestError("C not captured") }
        #expect(landmarkEvents[6].offset == 65)
        #expect(c.measuredMM.distance(to: Vector3(0, 100, 0.25)) < 1e-9)
        #expect(landmarkEvents[7].event == .landmarkRequested(number: 4, count: 4, name: "D", role: .check))
        // D: the tip rests 30 mm away (outside the 10 mm radius): given up after 1 s (10 frames).
        #expect(landmarkEvents[8].event == .landmarkTimedOut(name: "D", timeoutSeconds: 1))
        #expect(landmarkEvents[8].offset == 75)
        #expect(landmarkEvents[9].event == .finished)
        #expect(session.recording.captures.map { $0?.name } == ["A", "B", "C", nil])
    }

    @Test func aCounterRestartIsNotADropout() throws {
        var session = QASession(phantom: smallPhantom(), nominalFrameRateHz: 10, pointerTipMM: tipMM)
        for n: UInt32 in [100, 101, 103, 5, 6, 7] { _ = session.consume(frame(n, pointerInPhantom: nil)) }
        #expect(session.recording.framesReceived == 6)
        #expect(session.recording.framesDropped == 1)
        #expect(session.recording.counterRestarts == 1)
        // The counter wraps at 2³²: 4294967295 → 0 is one step.
        var wrap = QASession(phantom: smallPhantom(), nominalFrameRateHz: 10, pointerTipMM: tipMM)
        for n: UInt32 in [UInt32.max - 1, UInt32.max, 0, 2] { _ = wrap.consume(frame(n, pointerInPhantom: nil)) }
        #expect(wrap.recording.framesDropped == 1 && wrap.recording.counterRestarts == 0)
    }
}

struct QATestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { self.description = d }
}
