import Foundation
import IGTLProtocol
import Navigation
import NavigationServer
import Testing
import TrackerCore

/// A silence longer than the watchdog's limit restarts the dwell at the first frame after it —
/// measured between the frames' receipt times, whether or not a periodic check ran — so a frame's
/// output never depends on the checks' timing (and a replay faster than real time, where no check
/// runs in the gaps, computes what the live run did).
@Suite(.serialized) struct SilenceTests {
    /// Frames every 10 ms from `start` for `count` frames, the coil on the target.
    func onTarget(_ h: ServerHarness, from first: UInt32, count: Int, start: UInt64) {
        for i in 0..<count {
            h.frame(first + UInt32(i), at: start + UInt64(i) * 10_000_000, coil: ServerHarness.target.targetToMRI)
        }
    }

    @Test func aSilenceNoCheckSawRestartsTheDwellAndIsAnnounced() throws {
        let h = try ServerHarness(frameRateHz: 60)  // limit: 50 ms
        defer { h.stop() }
        let client = try IGTLTestClient(port: h.server.igtlPort)
        defer { client.close() }
        #expect(h.waitForClients(1))
        self.onTarget(h, from: 1, count: 60, start: 1_000_000_000)  // 1.00 … 1.59 s
        #expect(h.engine.currentSnapshot.output?.onTarget.isOnTarget == true)
        // 250 ms without a frame and without any watchdog check, then a frame on target.
        h.frame(61, at: 1_840_000_000, coil: ServerHarness.target.targetToMRI)
        let output = try #require(h.engine.currentSnapshot.output)
        #expect(!output.onTarget.isOnTarget)
        #expect(output.onTarget.state == .acquiring(since: 1_840_000_000))
        #expect(output.onTarget.dwellNanoseconds == 0)
        let statuses = (0..<4).compactMap { _ in try? client.next { $0.typeName == "STATUS" }?.body }
        #expect(statuses.contains(.status(IGTLStatus(code: 7, errorName: "tracking lost", message: "tracking lost: no tracker frame for 250 ms (last frame 60)"))))
        #expect(statuses.contains(.status(IGTLStatus(code: 1, message: "tracking restored at frame 61 after 250 ms"))))
    }

    /// A check that announced a loss while a frame received within the limit was still on its way
    /// (a race between the check and the tracker's thread) does not restart the dwell: only the
    /// receipt times decide.
    @Test func aLateFrameWithinTheLimitKeepsTheDwell() throws {
        let h = try ServerHarness(frameRateHz: 60)
        defer { h.stop() }
        self.onTarget(h, from: 1, count: 60, start: 1_000_000_000)
        h.clock.set(1_590_000_000 + 50_100_000)
        #expect(h.engine.checkWatchdog() == .lost(lastFrameNumber: 60, silenceNanoseconds: 50_100_000))
        // The frame was received 40 ms after the previous one, and handled only now.
        let late = TrackerFrame(
            deviceFrameNumber: 61, hostReceiveNanoseconds: 1_630_000_000,
            tools: [tool("head", 1, .identity), tool("coil", 2, ServerHarness.target.targetToMRI)])
        h.engine.handle(.frame(late))
        let output = try #require(h.engine.currentSnapshot.output)
        #expect(output.onTarget.isOnTarget)
        #expect(output.onTarget.dwellNanoseconds == 630_000_000)
        #expect(!h.engine.currentSnapshot.trackingLost)
    }
}
