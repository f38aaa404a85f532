import Geometry
import Testing

@testable import NDITracker

/// The poll schedule against a simulated tracker that answers each poll with its newest frame:
/// frames at `k · devicePeriod` (the device's clock may run fast or slow against the host's),
/// every sleep overshooting its target by a seeded random amount, a reply latency, and the host's
/// processing after each reply. Skipped frames are lost for good; repeats cost one extra poll.
struct PollSchedulerTests {
    struct Outcome: Equatable {
        var polls = 0
        var frames = 0
        var skipped = 0
        var repeats = 0
    }

    enum Rule { case grid, afterPreviousPoll }

    /// Runs `polls` polls; times in ns.
    static func simulate(
        rule: Rule, periodNS: UInt64, deviceDriftPPM: Double, maxOvershootNS: UInt64, replyNS: UInt64,
        processingNS: UInt64, polls: Int, seed: UInt64
    ) -> Outcome {
        var rng = SplitMix64(seed: seed)
        let devicePeriod = Double(periodNS) * (1 + deviceDriftPPM * 1e-6)
        var scheduler = PollScheduler(periodNanoseconds: periodNS)
        var now: UInt64 = 5_000_000  // the first poll is at an arbitrary phase
        var lastSend: UInt64?
        var lastFrame: UInt64?
        var out = Outcome()
        for _ in 0..<polls {
            let overshoot = UInt64(Double(maxOvershootNS) * rng.nextUnitDouble())
            var slot = now
            switch rule {
            case .grid:
                slot = scheduler.sendTime(now: now)
            case .afterPreviousPoll:
                if let l = lastSend, now &- l < periodNS { slot = l + periodNS }
            }
            let sentAt = (slot > now ? slot : now) + overshoot
            if rule == .grid { scheduler.didSend(slot: slot, sentAt: sentAt) }
            lastSend = sentAt
            let frame = UInt64((Double(sentAt) / devicePeriod).rounded(.down))
            out.polls += 1
            let repeated = frame == lastFrame
            if rule == .grid { scheduler.didReceive(repeated: repeated, sentAt: sentAt) }
            if repeated {
                out.repeats += 1
            } else {
                if let l = lastFrame { out.skipped += Int(frame - l - 1) }
                out.frames += 1
                lastFrame = frame
            }
            now = sentAt + replyNS + processingNS
        }
        return out
    }

    @Test(arguments: [
        // 60 Hz: sleeps overshooting by up to 1 ms, device clock 200 ppm fast or slow.
        (UInt64(16_666_667), 200.0, UInt64(1_000_000)), (16_666_667, -200.0, 1_000_000), (16_666_667, 0.0, 1_000_000),
        // 400 Hz: overshoot up to 250 µs.
        (2_500_000, 200.0, 250_000), (2_500_000, -200.0, 250_000),
    ])
    func theGridSkipsNoFrameWhateverTheOvershootAndDrift(periodNS: UInt64, driftPPM: Double, overshootNS: UInt64) {
        for seed in UInt64(1)...4 {
            let o = Self.simulate(
                rule: .grid, periodNS: periodNS, deviceDriftPPM: driftPPM, maxOvershootNS: overshootNS,
                replyNS: 300_000, processingNS: 50_000, polls: 20_000, seed: seed)
            #expect(o.skipped == 0, "seed \(seed): \(o)")
            // Repeats: about one per 1/(speed-up + drift) periods, each costing one short retry.
            #expect(Double(o.repeats) < 0.02 * Double(o.frames), "seed \(seed): \(o)")
            #expect(o.frames + o.repeats == o.polls)
        }
    }

    /// What the grid replaces: waiting a period after the previous poll lets every overshoot add up.
    @Test func timingEachPollFromThePreviousOneSkipsFrames() {
        let o = Self.simulate(
            rule: .afterPreviousPoll, periodNS: 16_666_667, deviceDriftPPM: 0, maxOvershootNS: 800_000,
            replyNS: 300_000, processingNS: 50_000, polls: 20_000, seed: 1)
        // Mean overshoot 0.4 ms against a 16.7 ms period: about one frame in 42 is skipped.
        #expect(o.skipped > 300 && o.skipped < 700, "\(o)")
        let grid = Self.simulate(
            rule: .grid, periodNS: 16_666_667, deviceDriftPPM: 0, maxOvershootNS: 800_000, replyNS: 300_000,
            processingNS: 50_000, polls: 20_000, seed: 1)
        #expect(grid.skipped == 0, "\(grid)")
    }

    @Test func slotsStepByTheShortenedPeriodFromTheSlotNotFromTheSend() {
        var s = PollScheduler(periodNanoseconds: 10_000_000)
        #expect(s.stepNanoseconds == 9_990_000 && s.retryNanoseconds == 1_250_000)
        #expect(s.sendTime(now: 100) == 100)
        s.didSend(slot: 100, sentAt: 400)  // 300 ns of overshoot is not carried forward
        #expect(s.nextSlot == 9_990_100)
        #expect(s.sendTime(now: 5_000_000) == 9_990_100)
        #expect(s.sendTime(now: 9_990_100) == 9_990_100)
        s.didSend(slot: 9_990_100, sentAt: 9_990_500)
        s.didReceive(repeated: false, sentAt: 9_990_500)
        #expect(s.nextSlot == 19_980_100)
        // A repeat: retry an eighth of a period after that poll went out.
        s.didReceive(repeated: true, sentAt: 9_990_500)
        #expect(s.nextSlot == 11_240_500)
        // More than a period late (a stall): a new grid from the late send, no burst of catch-up polls.
        s.didSend(slot: 11_240_500, sentAt: 30_000_000)
        #expect(s.nextSlot == 39_990_000)
    }
}
