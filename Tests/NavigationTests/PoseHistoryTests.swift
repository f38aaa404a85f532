import Geometry
import Navigation
import Testing

@Suite struct PoseHistoryTests {
    static func entry(_ n: UInt32, _ t: UInt64, _ pose: RigidTransform?, _ inv: NavigationInvalidity = []) -> PoseHistoryEntry {
        PoseHistoryEntry(frameNumber: n, timeNanoseconds: t, coilToMRI: pose, invalidity: inv)
    }

    @Test func interpolatesRotationAndTranslationBetweenTheSurroundingFrames() throws {
        var h = PoseHistory(capacity: 8, maximumGapNanoseconds: 50_000_000)
        let a = RigidTransform(rotation: Quaternion(axis: Vector3(0, 0, 1), angleRadians: 0), translation: Vector3(10, 0, 0))
        let b = RigidTransform(rotation: Quaternion(axis: Vector3(0, 0, 1), angleRadians: .pi / 2), translation: Vector3(20, 4, -8))
        h.append(Self.entry(7, 1_000_000_000, a))
        h.append(Self.entry(8, 1_016_000_000, b))
        // A quarter of the way from frame 7 to frame 8.
        guard case .interpolated(let p) = h.lookup(at: 1_004_000_000) else { Issue.record("not interpolated"); return }
        #expect(p.before.frameNumber == 7 && p.after.frameNumber == 8)
        #expect(p.fraction == 0.25)
        let pose = try #require(p.coilToMRI)
        #expect((pose.translation - Vector3(12.5, 1, -2)).length < 1e-12)
        #expect(Swift.abs(pose.rotationAngleRadians - .pi / 8) < 1e-12)
        #expect((pose.rotate(Vector3(1, 0, 0)) - Vector3(0.9238795325112867, 0.3826834323650898, 0)).length < 1e-12)
        #expect(p.invalidity.isEmpty)
    }

    @Test func anInstantOnAFrameGivesThatFrameExactly() {
        var h = PoseHistory(capacity: 8, maximumGapNanoseconds: 50_000_000)
        let a = RigidTransform.translation(Vector3(1, 2, 3))
        h.append(Self.entry(1, 100, a))
        h.append(Self.entry(2, 200, .translation(Vector3(9, 9, 9))))
        guard case .interpolated(let p) = h.lookup(at: 200) else { Issue.record("not interpolated"); return }
        #expect(p.before.frameNumber == 2 && p.after.frameNumber == 2 && p.fraction == 0)
        guard case .interpolated(let q) = h.lookup(at: 100) else { Issue.record("not interpolated"); return }
        #expect(q.coilToMRI == a)
    }

    @Test func afterTheNewestFrameIsPendingAndBeforeTheOldestIsTooOld() {
        var h = PoseHistory(capacity: 3, maximumGapNanoseconds: 50)
        #expect(h.lookup(at: 5) == .pending(newest: nil))
        for i in 1...5 { h.append(Self.entry(UInt32(i), UInt64(i) * 10, nil)) }
        // Capacity 3: frames 3, 4, 5 remain.
        #expect(h.count == 3 && h.oldest?.frameNumber == 3 && h.newest?.frameNumber == 5)
        #expect(h.lookup(at: 51) == .pending(newest: Self.entry(5, 50, nil)))
        #expect(h.lookup(at: 29) == .tooOld(oldest: Self.entry(3, 30, nil)))
    }

    @Test func invalidityIsTheUnionAndAGapMakesItStale() {
        var h = PoseHistory(capacity: 8, maximumGapNanoseconds: 20)
        h.append(Self.entry(1, 0, .identity, [.noTarget]))
        h.append(Self.entry(2, 10, nil, [.coilMissing]))
        h.append(Self.entry(3, 40, .identity))
        guard case .interpolated(let p) = h.lookup(at: 5) else { Issue.record("not interpolated"); return }
        #expect(p.invalidity == [.noTarget, .coilMissing])
        #expect(p.coilToMRI == nil)
        guard case .interpolated(let q) = h.lookup(at: 20) else { Issue.record("not interpolated"); return }
        #expect(q.invalidity == [.coilMissing, .stale])  // 30 ns apart, more than the 20 ns allowed
    }

    @Test func outOfOrderEntriesAreIgnored() {
        var h = PoseHistory(capacity: 4, maximumGapNanoseconds: 50)
        h.append(Self.entry(1, 100, nil))
        h.append(Self.entry(2, 100, nil))
        h.append(Self.entry(3, 90, nil))
        #expect(h.count == 1 && h.newest?.frameNumber == 1)
    }
}

@Suite struct TrackingWatchdogTests {
    @Test func standardLimitIsThreePeriodsCappedAt100ms() {
        #expect(TrackingWatchdog.standardLimitNanoseconds(frameRateHz: 60) == 50_000_000)
        #expect(TrackingWatchdog.standardLimitNanoseconds(frameRateHz: 400) == 7_500_000)
        #expect(TrackingWatchdog.standardLimitNanoseconds(frameRateHz: 20) == 100_000_000)
        #expect(TrackingWatchdog.standardLimitNanoseconds(frameRateHz: 0) == 100_000_000)
    }

    @Test func lostOnceAfterTheLimitThenRestoredByTheNextFrame() {
        var w = TrackingWatchdog(limitNanoseconds: 50, startNanoseconds: 1000)
        #expect(w.frameArrived(frameNumber: 1, at: 1010) == nil)
        #expect(w.check(now: 1060) == nil)  // exactly 50: not yet
        #expect(w.check(now: 1061) == .lost(lastFrameNumber: 1, silenceNanoseconds: 51))
        #expect(w.isLost)
        #expect(w.check(now: 2000) == nil)  // announced once
        #expect(w.frameArrived(frameNumber: 2, at: 2010) == .restored(frameNumber: 2, silenceNanoseconds: 1000))
        #expect(!w.isLost)
        #expect(w.frameArrived(frameNumber: 3, at: 2020) == nil)
    }

    @Test func aTrackerThatNeverDeliversIsLostCountedFromStart() {
        var w = TrackingWatchdog(limitNanoseconds: 100, startNanoseconds: 500)
        #expect(w.check(now: 600) == nil)
        #expect(w.check(now: 601) == .lost(lastFrameNumber: nil, silenceNanoseconds: 101))
    }
}
