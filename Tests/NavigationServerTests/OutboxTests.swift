import Geometry
import IGTLProtocol
import Navigation
import Testing
import TrackerCore

@testable import NavigationServer

/// The outbox shared by a client's writer thread and the fan-out's direct sends: one writer at a
/// time, and messages in the order they were queued, whoever sends them.
struct OutboxTests {
    static func payload(_ n: UInt32) -> FramePayload {
        var processor = FrameProcessor()
        let output = processor.process(
            frame: TrackerFrame(deviceFrameNumber: n, hostReceiveNanoseconds: UInt64(n) * 1_000_000, tools: []),
            nowNanoseconds: UInt64(n) * 1_000_000)
        return FramePayload(
            output: output, transforms: FrameTransforms(output: output, target: nil, pointerToMRI: nil), targetName: nil,
            pointerTipMRI: nil, pointerStatus: nil, timestamp: .none, firstMessageID: 1)
    }

    @Test func aDirectSendIsAllowedOnlyWhenNothingWaitsAndNobodyWrites() {
        let o = Outbox()
        #expect(o.claimForDirectSend())
        // While the direct send runs, neither a second direct send nor the writer may write.
        #expect(!o.claimForDirectSend())
        o.endDirectSend(unsent: [])
        // A queued response must go first: the frame then goes through the writer, after it.
        #expect(o.enqueue([1, 2, 3]))
        #expect(!o.claimForDirectSend())
        o.offer(frame: Self.payload(7))
        let taken = o.take()
        #expect(taken?.control == [[1, 2, 3]] && taken?.frame?.frameNumber == 7)
        // The writer is writing: no direct send until it has finished.
        #expect(!o.claimForDirectSend())
        o.writeFinished()
        #expect(o.claimForDirectSend())
        o.endDirectSend(unsent: [])
    }

    @Test func whatTheSocketDidNotTakeGoesOutFirstThroughTheWriter() {
        let o = Outbox()
        #expect(o.claimForDirectSend())
        let frameBytes: [UInt8] = Array(0..<10)
        o.endDirectSend(unsent: frameBytes[4...])  // the socket took 4 bytes of 10
        // Until the writer has sent the rest, nothing may jump ahead of it.
        #expect(!o.claimForDirectSend())
        #expect(o.enqueue([99]))
        o.offer(frame: Self.payload(8))
        let taken = o.take()
        #expect(taken?.control == [[4, 5, 6, 7, 8, 9], [99]] && taken?.frame?.frameNumber == 8)
        o.writeFinished()
        #expect(o.claimForDirectSend())
    }

    @Test func aFinishingOutboxDeliversTheRestOfADirectSendBeforeClosing() {
        let o = Outbox()
        #expect(o.claimForDirectSend())
        o.endDirectSend(unsent: [5, 6][...])
        #expect(o.enqueue([7]))
        o.finish(reason: "protocol error")
        #expect(!o.claimForDirectSend())
        let taken = o.take()
        #expect(taken?.control == [[5, 6], [7]] && taken?.frame == nil)
        o.writeFinished()
        #expect(o.take() == nil && o.reason == "protocol error")
    }
}
