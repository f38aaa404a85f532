import Foundation
import Formats
import Geometry
import IGTLProtocol
import Navigation
import NavigationServer
import Testing
import TrackerTransport

@Suite(.serialized) struct EngineTests {
    @Test func theWatchdogAnnouncesTrackingLostAndRestoredToEveryClient() throws {
        let h = try ServerHarness(frameRateHz: 60)  // limit: 3 periods = 50 ms
        defer { h.stop() }
        let a = try IGTLTestClient(port: h.server.igtlPort)
        let b = try IGTLTestClient(port: h.server.igtlPort)
        defer { a.close(); b.close() }
        #expect(h.waitForClients(2))
        h.frame(41, at: 1_000_000_000, coil: ServerHarness.target.targetToMRI)
        h.clock.set(1_050_000_000)
        #expect(h.engine.checkWatchdog() == nil)
        h.clock.set(1_050_100_000)
        #expect(h.engine.checkWatchdog() == .lost(lastFrameNumber: 41, silenceNanoseconds: 50_100_000))
        #expect(h.engine.checkWatchdog() == nil)  // once
        for c in [a, b] {
            let lost = try #require(try c.next { $0.typeName == "STATUS" && $0.body != .status(IGTLStatus(code: 1, message: "valid")) })
            #expect(lost.body == .status(IGTLStatus(code: 7, errorName: "tracking lost", message: "tracking lost: no tracker frame for 50.1 ms (last frame 41)")))
        }
        #expect(h.engine.currentSnapshot.trackingLost)
        h.frame(42, at: 1_250_000_000, coil: ServerHarness.target.targetToMRI)
        for c in [a, b] {
            let back = try #require(try c.next { $0.typeName == "STATUS" })
            #expect(back.body == .status(IGTLStatus(code: 1, message: "tracking restored at frame 42 after 250 ms")))
            // Validity is announced again after a loss.
            #expect(try c.next { $0.typeName == "STATUS" }?.body == .status(IGTLStatus(code: 1, message: "valid")))
        }
        #expect(!h.engine.currentSnapshot.trackingLost)
    }

    @Test func aStalledClientNeverDelaysThePipelineOrTheOtherClients() throws {
        let h = try ServerHarness(writeTimeout: .milliseconds(300))
        defer { h.stop() }
        let reader = try IGTLTestClient(port: h.server.igtlPort)
        let stalled = try TCPStream.connect(host: "127.0.0.1", port: h.server.igtlPort)  // never reads
        defer { reader.close(); stalled.close() }
        #expect(h.waitForClients(2))
        // Frames as fast as the pipeline takes them until the stalled client's socket buffers are
        // full and it is dropped (each frame is ≈ 1.7 kB for it), then one last frame.
        let pose = ServerHarness.target.targetToMRI
        final class Seen: @unchecked Sendable {
            let lock = NSLock()
            var last = 0
            var value: Int { self.lock.lock(); defer { self.lock.unlock() }; return self.last }
        }
        let seen = Seen()
        let readerThread = Thread {
            while let m = try? reader.next(seconds: 20, where: { $0.deviceName == "CoilNavMetrics" }) {
                if case .string(let s) = m.body, let text = s.text, let data = text.data(using: .utf8),
                   let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let n = o["frame"] as? Int {
                    seen.lock.lock()
                    seen.last = n
                    seen.lock.unlock()
                    if n >= 1_000_000 { return }
                }
            }
        }
        readerThread.start()
        var i: UInt32 = 0
        let deadline = Date().addingTimeInterval(60)
        var longestCallSeconds = 0.0
        while h.engine.clientCount == 2, Date() < deadline {
            i += 1
            let t0 = Date()
            h.frame(i, at: 1_000_000_000 + UInt64(i) * 1_000_000, coil: pose)
            longestCallSeconds = max(longestCallSeconds, Date().timeIntervalSince(t0))
        }
        #expect(h.logs.wait(for: "dropped: stalled: could not send") != nil, "\(h.logs.all)")
        #expect(h.engine.clientCount == 1)
        // No frame call ever waited for the stalled socket's 300 ms send timeout.
        #expect(longestCallSeconds < 0.3, "\(longestCallSeconds)")
        // The reading client was served throughout and gets the newest frame.
        h.frame(1_000_000, at: 1_000_000_000 + UInt64(i + 1) * 1_000_000, coil: pose)
        #expect(eventually(seconds: 10) { seen.value == 1_000_000 }, "last frame seen \(seen.value) of \(i)")
    }

    @Test func droppedFramesAndTheFrameRateAreCounted() throws {
        let h = try ServerHarness()
        defer { h.stop() }
        // 60 Hz for 1.5 s, with frames 10 and 11 (and 50) never received.
        var n = 0
        for i in 1...90 where ![10, 11, 50].contains(i) {
            h.frame(UInt32(i), at: 1_000_000_000 + UInt64(i) * 16_666_667, coil: ServerHarness.target.targetToMRI)
            n += 1
        }
        let s = h.engine.currentSnapshot
        #expect(s.framesProcessed == 87 && s.framesDropped == 3)
        // Frames in the second before frame 90 (t = 90 × 16.67 ms): frames 31…90 but 50 → 59.
        #expect(s.framesInLastSecond == 59)
        _ = n
    }

    @Test func aPulseRecordsTheCoilPoseInterpolatedToItsTimeDurably() throws {
        let h = try ServerHarness()
        defer { h.stop() }
        let t = ServerHarness.target.targetToMRI
        let a = t * RigidTransform.translation(Vector3(0, 0, 0))
        let b = t * RigidTransform(rotation: Quaternion(axis: Vector3(0, 1, 0), angleRadians: 4 * .pi / 180), translation: Vector3(2, -4, 1))
        h.frame(100, at: 2_000_000_000, coil: a)
        h.frame(101, at: 2_016_000_000, coil: b)
        let p = try h.executor.recordPulse(timeNanoseconds: 2_004_000_000, intensityPercentMSO: 55, label: "train 1")
        #expect(p.index == 1 && p.frameBefore == 100 && p.frameAfter == 101 && p.interpolationFraction == 0.25)
        let expected = a.interpolated(to: b, fraction: 0.25)
        let pose = try #require(p.coilToMRI)
        #expect(pose.difference(to: expected).translationMM < 1e-12 && pose.difference(to: expected).rotationRadians < 1e-12)
        // A quarter of the way: (0.5, −1, 0.25) mm off, 1° tilt about target y.
        #expect(Swift.abs(p.distanceMM! - (0.25 + 1 + 0.0625).squareRoot()) < 1e-9)
        #expect(Swift.abs(p.depthMM! - 0.25) < 1e-9)
        #expect(Swift.abs(p.tiltDegrees! - 1) < 1e-9)
        #expect(p.isValid && p.invalidReasons.isEmpty && p.targetName == "T1" && p.label == "train 1" && p.intensityPercentMSO == 55)
        #expect(p.wallClock == "2023-11-14T22:13:22.004Z")  // 1.7e9 s + 2.004 s
        // On disk before the call returned, and read back identical.
        let onDisk = try PulseLog.open(path: h.session.pulsesPath)
        #expect(onDisk.records == [p])
        onDisk.close()
    }

    @Test func aPulseAtNowWaitsForTheFrameAfterIt() throws {
        let h = try ServerHarness()
        defer { h.stop() }
        let t = ServerHarness.target.targetToMRI
        h.frame(1, at: 3_000_000_000, coil: t)
        h.clock.set(3_008_000_000)
        nonisolated(unsafe) var record: PulseRecord?
        let thread = Thread { record = try? h.executor.recordPulse(timeNanoseconds: nil, intensityPercentMSO: nil, label: nil) }
        thread.start()
        Thread.sleep(forTimeInterval: 0.05)
        #expect(record == nil)  // still waiting for the frame after
        h.frame(2, at: 3_016_000_000, coil: t * .translation(Vector3(0, 0, 2)))
        #expect(eventually { record != nil })
        #expect(record?.frameBefore == 1 && record?.frameAfter == 2 && record?.interpolationFraction == 0.5)
        #expect(record.map { Swift.abs($0.depthMM! - 1) < 1e-9 } == true)
    }

    @Test func aPulseWithoutACoilIsRecordedAsInvalidWithTheReason() throws {
        let h = try ServerHarness()
        defer { h.stop() }
        h.frame(1, at: 1_000_000_000, coil: nil)
        h.frame(2, at: 1_016_000_000, coil: ServerHarness.target.targetToMRI)
        let p = try h.executor.recordPulse(timeNanoseconds: 1_010_000_000, intensityPercentMSO: nil, label: nil)
        #expect(!p.isValid && p.invalidReasons == ["coil missing"] && p.coilToMRI == nil && p.distanceMM == nil)
        // Past the history's newest frame and nothing arrives: recorded, invalid, with the reason.
        let late = try h.executor.recordPulse(timeNanoseconds: 2_000_000_000, intensityPercentMSO: nil, label: nil)
        #expect(late.index == 2 && !late.isValid && late.frameBefore == 2)
        #expect(late.invalidReasons == ["no tracker frame after the pulse within 0.3 seconds"])
    }
}
