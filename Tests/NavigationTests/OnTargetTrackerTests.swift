import Geometry
import Navigation
import Testing

private let ms: UInt64 = 1_000_000

@Suite struct OnTargetTrackerTests {
    @Test func defaultsAreTheIssueThresholds() {
        let t = OnTargetThresholds.standard
        #expect(t.onDistanceMM == 1 && t.onTiltDegrees == 2 && t.onTwistDegrees == 4)
        #expect(t.dwellNanoseconds == 500_000_000)
        #expect(t.offDistanceMM == 2 && t.offTiltDegrees == 4 && t.offTwistDegrees == 8)
    }

    @Test func entersAfterExactlyTheDwellOfQualifyingFrames() {
        var m = OnTargetTracker()
        let t0: UInt64 = 7_000 * ms
        #expect(m.update(timeNanoseconds: t0, distanceMM: 0.5, tiltDegrees: 1, twistDegrees: -3) == .acquiring(since: t0))
        // Every 10 ms up to 490 ms: still acquiring, dwell growing.
        for k in 1...49 {
            let t = t0 + UInt64(k) * 10 * ms
            #expect(m.update(timeNanoseconds: t, distanceMM: 0.9, tiltDegrees: 1.9, twistDegrees: 3.9) == .acquiring(since: t0))
            #expect(m.dwellNanoseconds(at: t) == UInt64(k) * 10 * ms)
            #expect(!m.state.isOnTarget)
        }
        // One nanosecond short of the dwell: not yet.
        #expect(m.update(timeNanoseconds: t0 + 500 * ms - 1, distanceMM: 0, tiltDegrees: 0, twistDegrees: 0) == .acquiring(since: t0))
        // Exactly the dwell: on.
        let tOn = t0 + 500 * ms
        #expect(m.update(timeNanoseconds: tOn, distanceMM: 0, tiltDegrees: 0, twistDegrees: 0) == .on(since: tOn, qualifyingSince: t0))
        #expect(m.state.isOnTarget)
        #expect(m.dwellNanoseconds(at: tOn) == 500 * ms)
        #expect(m.update(timeNanoseconds: tOn + 10 * ms, distanceMM: 0.2, tiltDegrees: 0, twistDegrees: 0) == .on(since: tOn, qualifyingSince: t0))
        #expect(m.dwellNanoseconds(at: tOn + 10 * ms) == 510 * ms)
    }

    @Test func aSparseFrameAfterTheDwellEntersAtThatFrame() {
        var m = OnTargetTracker()
        m.update(timeNanoseconds: 100, distanceMM: 0, tiltDegrees: 0, twistDegrees: 0)
        #expect(m.update(timeNanoseconds: 100 + 800 * ms, distanceMM: 0, tiltDegrees: 0, twistDegrees: 0) == .on(since: 100 + 800 * ms, qualifyingSince: 100))
    }

    @Test func zeroDwellEntersOnTheFirstQualifyingFrame() {
        var m = OnTargetTracker(thresholds: OnTargetThresholds(dwellNanoseconds: 0))
        #expect(m.update(timeNanoseconds: 5, distanceMM: 0.1, tiltDegrees: 0, twistDegrees: 0) == .on(since: 5, qualifyingSince: 5))
    }

    @Test(arguments: [(1.0, 0.0, 0.0), (0.0, 2.0, 0.0), (0.0, 0.0, 4.0), (0.0, 0.0, -4.0), (Double.nan, 0.0, 0.0), (0.0, 0.0, Double.nan)])
    func onThresholdsAreStrict(distance: Double, tilt: Double, twist: Double) {
        var m = OnTargetTracker(thresholds: OnTargetThresholds(dwellNanoseconds: 0))
        #expect(m.update(timeNanoseconds: 0, distanceMM: distance, tiltDegrees: tilt, twistDegrees: twist) == .off)
    }

    @Test func aMissedOnConditionRestartsTheDwell() {
        var m = OnTargetTracker()
        m.update(timeNanoseconds: 0, distanceMM: 0.5, tiltDegrees: 0, twistDegrees: 0)
        m.update(timeNanoseconds: 300 * ms, distanceMM: 0.5, tiltDegrees: 0, twistDegrees: 0)
        // In the hysteresis band, but not yet on: the band only holds an on state.
        #expect(m.update(timeNanoseconds: 310 * ms, distanceMM: 1.5, tiltDegrees: 0, twistDegrees: 0) == .off)
        #expect(m.dwellNanoseconds(at: 310 * ms) == 0)
        #expect(m.update(timeNanoseconds: 320 * ms, distanceMM: 0.5, tiltDegrees: 0, twistDegrees: 0) == .acquiring(since: 320 * ms))
        #expect(m.update(timeNanoseconds: 810 * ms, distanceMM: 0.5, tiltDegrees: 0, twistDegrees: 0) == .acquiring(since: 320 * ms))
        #expect(m.update(timeNanoseconds: 820 * ms, distanceMM: 0.5, tiltDegrees: 0, twistDegrees: 0) == .on(since: 820 * ms, qualifyingSince: 320 * ms))
    }

    private func onTracker() -> OnTargetTracker {
        var m = OnTargetTracker(thresholds: OnTargetThresholds(dwellNanoseconds: 0))
        m.update(timeNanoseconds: 1_000, distanceMM: 0, tiltDegrees: 0, twistDegrees: 0)
        return m
    }

    @Test func hysteresisBandHoldsTheOnState() {
        var m = onTracker()
        let held = OnTargetState.holding(since: 1_000, qualifyingSince: 1_000)
        #expect(m.update(timeNanoseconds: 2_000, distanceMM: 1.5, tiltDegrees: 0, twistDegrees: 0) == held)
        #expect(m.state.isOnTarget)
        #expect(m.update(timeNanoseconds: 3_000, distanceMM: 0, tiltDegrees: 3.5, twistDegrees: 0) == held)
        #expect(m.update(timeNanoseconds: 4_000, distanceMM: 0, tiltDegrees: 0, twistDegrees: -7.5) == held)
        // Exactly at the off-thresholds is still inside the band (off needs strictly above).
        #expect(m.update(timeNanoseconds: 5_000, distanceMM: 2, tiltDegrees: 4, twistDegrees: 8) == held)
        #expect(m.dwellNanoseconds(at: 5_000) == 4_000)
        // Back inside the on-thresholds: on again, with the original times.
        #expect(m.update(timeNanoseconds: 6_000, distanceMM: 0.5, tiltDegrees: 1, twistDegrees: 1) == .on(since: 1_000, qualifyingSince: 1_000))
    }

    @Test(arguments: [(2.0001, 0.0, 0.0), (0.0, 4.0001, 0.0), (0.0, 0.0, 8.0001), (0.0, 0.0, -8.0001), (Double.nan, 0.0, 0.0), (0.0, Double.nan, 0.0)])
    func leavesAboveAnyOffThreshold(distance: Double, tilt: Double, twist: Double) {
        var m = onTracker()
        m.update(timeNanoseconds: 2_000, distanceMM: 1.5, tiltDegrees: 0, twistDegrees: 0)
        #expect(m.update(timeNanoseconds: 3_000, distanceMM: distance, tiltDegrees: tilt, twistDegrees: twist) == .off)
        #expect(!m.state.isOnTarget)
        var n = onTracker()
        #expect(n.update(timeNanoseconds: 3_000, distanceMM: distance, tiltDegrees: tilt, twistDegrees: twist) == .off)
    }

    @Test func invalidFramesTurnItOffAtOnceAndRestartTheDwell() {
        var m = OnTargetTracker()
        m.update(timeNanoseconds: 0, distanceMM: 0, tiltDegrees: 0, twistDegrees: 0)
        m.update(timeNanoseconds: 500 * ms, distanceMM: 0, tiltDegrees: 0, twistDegrees: 0)
        #expect(m.state.isOnTarget)
        #expect(m.updateInvalid() == .off)
        #expect(m.dwellNanoseconds(at: 510 * ms) == 0)
        #expect(m.update(timeNanoseconds: 520 * ms, distanceMM: 0, tiltDegrees: 0, twistDegrees: 0) == .acquiring(since: 520 * ms))
        #expect(m.updateInvalid() == .off)
        #expect(m.update(timeNanoseconds: 1_000 * ms, distanceMM: 0, tiltDegrees: 0, twistDegrees: 0) == .acquiring(since: 1_000 * ms))
    }

    @Test func customThresholds() {
        var m = OnTargetTracker(
            thresholds: OnTargetThresholds(
                onDistanceMM: 3, onTiltDegrees: 5, onTwistDegrees: 10, dwellNanoseconds: 100,
                offDistanceMM: 6, offTiltDegrees: 10, offTwistDegrees: 20))
        m.update(timeNanoseconds: 0, distanceMM: 2.9, tiltDegrees: 4.9, twistDegrees: -9.9)
        #expect(m.update(timeNanoseconds: 100, distanceMM: 2.9, tiltDegrees: 4.9, twistDegrees: 9.9) == .on(since: 100, qualifyingSince: 0))
        #expect(m.update(timeNanoseconds: 200, distanceMM: 5.9, tiltDegrees: 9.9, twistDegrees: -19.9) == .holding(since: 100, qualifyingSince: 0))
        #expect(m.update(timeNanoseconds: 300, distanceMM: 6.1, tiltDegrees: 0, twistDegrees: 0) == .off)
    }

    @Test func timeGoingBackwardsCountsAsNoTimeElapsed() {
        var m = OnTargetTracker()
        m.update(timeNanoseconds: 1_000 * ms, distanceMM: 0, tiltDegrees: 0, twistDegrees: 0)
        #expect(m.update(timeNanoseconds: 200 * ms, distanceMM: 0, tiltDegrees: 0, twistDegrees: 0) == .acquiring(since: 1_000 * ms))
        #expect(m.dwellNanoseconds(at: 200 * ms) == 0)
    }

    @Test func resetForgetsTheState() {
        var m = onTracker()
        m.reset()
        #expect(m.state == .off)
    }
}

/// The on-target rule restated without a state machine: at frame i the coil is on target when some
/// earlier frame k ≤ i ended a run of consecutive valid frames that all met the on-conditions and
/// lasted at least the dwell, and no frame in (k, i] was invalid or exceeded an off-threshold.
@Suite struct OnTargetTrackerReferenceTests {
    private struct Sample {
        var t: UInt64, valid: Bool, distance: Double, tilt: Double, twist: Double
    }

    private func referenceOn(_ s: [Sample], _ i: Int, _ th: OnTargetThresholds) -> Bool {
        // Stated independently of OnTargetThresholds.meetsOn/exceedsOff.
        func meetsOn(_ x: Sample) -> Bool {
            x.valid && x.distance < th.onDistanceMM && x.tilt < th.onTiltDegrees
                && x.twist > -th.onTwistDegrees && x.twist < th.onTwistDegrees
        }
        func keeps(_ x: Sample) -> Bool {
            x.valid && x.distance <= th.offDistanceMM && x.tilt <= th.offTiltDegrees
                && x.twist >= -th.offTwistDegrees && x.twist <= th.offTwistDegrees
        }
        for k in stride(from: i, through: 0, by: -1) {
            if k < i && !keeps(s[k + 1]) { return false }
            guard meetsOn(s[k]) else { continue }
            var r = k
            while r > 0 && meetsOn(s[r - 1]) { r -= 1 }
            if s[k].t - s[r].t >= th.dwellNanoseconds { return true }
        }
        return false
    }

    @Test func randomSequencesAgreeWithTheReference() {
        var rng = SplitMix64(seed: 0x0E7A_26E7)
        let thresholdSets = [
            OnTargetThresholds.standard,
            OnTargetThresholds(dwellNanoseconds: 0),
            OnTargetThresholds(onDistanceMM: 2, onTiltDegrees: 3, onTwistDegrees: 5, dwellNanoseconds: 120_000_000,
                               offDistanceMM: 2, offTiltDegrees: 3, offTwistDegrees: 5),
        ]
        var onCount = 0, holdingCount = 0
        for th in thresholdSets {
            for _ in 0..<200 {
                var samples: [Sample] = []
                var t: UInt64 = 1_000_000_000
                // Metrics drawn mostly near the thresholds, with runs of similar values.
                var level = rng.nextUnitDouble()
                for _ in 0..<120 {
                    if rng.nextUnitDouble() < 0.1 { level = rng.nextUnitDouble() }
                    t += UInt64(rng.nextUnitDouble() * 150_000_000)
                    let scale = 2.5 * level
                    samples.append(Sample(
                        t: t, valid: rng.nextUnitDouble() > 0.02,
                        distance: scale * rng.nextUnitDouble(), tilt: 2 * scale * rng.nextUnitDouble(),
                        twist: 4 * scale * (2 * rng.nextUnitDouble() - 1)))
                }
                var m = OnTargetTracker(thresholds: th)
                for (i, x) in samples.enumerated() {
                    let state = x.valid
                        ? m.update(timeNanoseconds: x.t, distanceMM: x.distance, tiltDegrees: x.tilt, twistDegrees: x.twist)
                        : m.updateInvalid()
                    #expect(state.isOnTarget == referenceOn(samples, i, th), "frame \(i): \(state)")
                    if case .on = state { onCount += 1 }
                    if case .holding = state { holdingCount += 1 }
                }
            }
        }
        // The sequences do exercise every state.
        #expect(onCount > 1_000)
        #expect(holdingCount > 100)
    }
}
