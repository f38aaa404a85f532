import Synchronization
import Testing

@testable import MockTracker

/// An instant of the test clocks: a duration since their zero.
struct TestInstant: InstantProtocol {
    var offset: Duration

    func advanced(by duration: Duration) -> TestInstant { TestInstant(offset: self.offset + duration) }
    func duration(to other: TestInstant) -> Duration { other.offset - self.offset }
    static func < (a: TestInstant, b: TestInstant) -> Bool { a.offset < b.offset }
}

/// A clock that never waits: `sleep(until:)` records the deadline and jumps the time to it, plus
/// a fixed lateness (a scheduler that always wakes a little late).
final class ImmediateRecordingClock: Clock, Sendable {
    private struct State {
        var now = TestInstant(offset: .zero)
        var deadlines: [TestInstant] = []
    }

    private let state = Mutex(State())
    let lateness: Duration

    init(lateness: Duration = .zero) {
        self.lateness = lateness
    }

    var now: TestInstant { self.state.withLock { $0.now } }
    var minimumResolution: Duration { .zero }
    var deadlines: [TestInstant] { self.state.withLock { $0.deadlines } }

    func advance(by d: Duration) { self.state.withLock { $0.now = $0.now.advanced(by: d) } }

    func sleep(until deadline: TestInstant, tolerance: Duration?) async throws {
        self.state.withLock { s in
            s.deadlines.append(deadline)
            if deadline > s.now { s.now = deadline }
            s.now = s.now.advanced(by: self.lateness)
        }
    }
}

/// A clock whose time moves only when the test says so; sleepers wake when it passes their
/// deadline.
final class ManualClock: Clock, Sendable {
    private struct State {
        var now = TestInstant(offset: .zero)
        var sleepers: [(TestInstant, CheckedContinuation<Void, Never>)] = []
        var waitingForSleeper: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    var now: TestInstant { self.state.withLock { $0.now } }
    var minimumResolution: Duration { .zero }

    func sleep(until deadline: TestInstant, tolerance: Duration?) async throws {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let waiters: [CheckedContinuation<Void, Never>]? = self.state.withLock { s in
                if deadline <= s.now { return nil }
                s.sleepers.append((deadline, c))
                defer { s.waitingForSleeper = [] }
                return s.waitingForSleeper
            }
            guard let waiters else {
                c.resume()
                return
            }
            for w in waiters { w.resume() }
        }
    }

    /// Moves time on and wakes the sleepers whose deadline has come.
    func advance(by d: Duration) {
        let due: [CheckedContinuation<Void, Never>] = self.state.withLock { s in
            s.now = s.now.advanced(by: d)
            let now = s.now
            let due = s.sleepers.filter { $0.0 <= now }.map(\.1)
            s.sleepers.removeAll { $0.0 <= now }
            return due
        }
        for c in due { c.resume() }
    }

    /// Returns once somebody is asleep on the clock.
    func waitForSleeper() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let asleep = self.state.withLock { s in
                if !s.sleepers.isEmpty { return true }
                s.waitingForSleeper.append(c)
                return false
            }
            if asleep { c.resume() }
        }
    }
}

/// Counts frames sent by a pacing loop.
final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() { self.value.withLock { $0 += 1 } }
    var count: Int { self.value.withLock { $0 } }
}

@Suite struct FramePacerTests {
    @Test func deadlinesComeFromTheStartNotFromTheLastWakeUp() async throws {
        // The clock wakes every sleeper 1 ms late; at 250 Hz a sleep-for-one-period loop would
        // drift by 1 ms per frame, deadline scheduling does not drift at all.
        let clock = ImmediateRecordingClock(lateness: .milliseconds(1))
        clock.advance(by: .seconds(5))
        let pacer = FramePacer(clock: clock, frameRateHz: 250)
        #expect(pacer.start == TestInstant(offset: .seconds(5)))
        for i in 0..<1000 { try await pacer.sleep(untilFrame: i) }
        let expected = (0..<1000).map { TestInstant(offset: .seconds(5) + .milliseconds(4 * $0)) }
        #expect(clock.deadlines == expected)
        #expect(clock.now == TestInstant(offset: .seconds(5) + .milliseconds(3996 + 1)))
    }

    @Test func frameDueAtIsTheInverseOfDeadline() {
        let clock = ImmediateRecordingClock()
        for rate in [60.0, 250, 59.94, 1000, 7] {
            let pacer = FramePacer(clock: clock, start: TestInstant(offset: .seconds(2)), frameRateHz: rate)
            #expect(pacer.frame(dueAt: TestInstant(offset: .seconds(1))) == nil)
            for i in [0, 1, 2, 59, 60, 61, 599, 12345] {
                let d = pacer.deadline(ofFrame: i)
                #expect(pacer.frame(dueAt: d) == i, "rate \(rate), frame \(i)")
                // A nanosecond earlier it is the previous frame (nothing before frame 0).
                #expect(pacer.frame(dueAt: d.advanced(by: .nanoseconds(-1))) == (i == 0 ? nil : i - 1))
            }
        }
        // After a 250 ms stall at 60 Hz the frame to send has moved on by 15.
        let pacer = FramePacer(clock: clock, start: TestInstant(offset: .zero), frameRateHz: 60)
        #expect(pacer.frame(dueAt: pacer.deadline(ofFrame: 300).advanced(by: .milliseconds(250))) == 315)
        #expect(pacer.frame(dueAt: TestInstant(offset: .milliseconds(16))) == 0)
        #expect(pacer.frame(dueAt: TestInstant(offset: .milliseconds(17))) == 1)
    }

    @Test func aManualClockReleasesExactlyTheFramesThatAreDue() async throws {
        let clock = ManualClock()
        let pacer = FramePacer(clock: clock, frameRateHz: 250)
        let sent = Counter()
        let loop = Task {
            for i in 0..<500 {
                try await pacer.sleep(untilFrame: i)
                sent.increment()
            }
        }
        // Frame 0 is due at once; frame 1 waits.
        await clock.waitForSleeper()
        #expect(sent.count == 1)
        // One second later frames 1 … 250 are due (frame 250 exactly on the second).
        clock.advance(by: .seconds(1))
        await clock.waitForSleeper()
        #expect(sent.count == 251)
        #expect(pacer.currentFrame() == 250)
        clock.advance(by: .milliseconds(3))
        #expect(sent.count == 251)
        clock.advance(by: .seconds(1))
        try await loop.value
        #expect(sent.count == 500)
    }
}
