/// Paces frames against a clock by deadline: frame `i` is due at `start + i / frameRateHz`,
/// computed from the start instant each time, so lateness (a slow client, a stall fault) never
/// accumulates into the schedule the way sleeping for one period after each frame would.
///
/// The clock is injected: `ContinuousClock` for a real tracker, a manual or immediate clock for
/// tests ("as fast as possible"). The pacer reads the clock only in `currentFrame()` and
/// `sleep(untilFrame:)`.
public struct FramePacer<C: Clock>: Sendable where C.Duration == Duration {
    public let clock: C
    /// The instant frame 0 is due.
    public let start: C.Instant
    public let frameRateHz: Double

    /// A pacer whose frame 0 is due at `start`.
    public init(clock: C, start: C.Instant, frameRateHz: Double) {
        precondition(frameRateHz > 0, "the frame rate must be positive")
        self.clock = clock
        self.start = start
        self.frameRateHz = frameRateHz
    }

    /// A pacer whose frame 0 is due now.
    public init(clock: C, frameRateHz: Double) {
        self.init(clock: clock, start: clock.now, frameRateHz: frameRateHz)
    }

    /// When frame `index` is due: `start + MockSimulation.time(ofFrame: index, rateHz:)`.
    public func deadline(ofFrame index: Int) -> C.Instant {
        self.start.advanced(by: MockSimulation.time(ofFrame: index, rateHz: self.frameRateHz))
    }

    /// The last frame due at `instant` (the largest `i` with `deadline(ofFrame: i) ≤ instant`),
    /// or `nil` before frame 0 is due. After a stall, this is the frame to send next: the
    /// frames in between were never delivered, as on a real tracker whose camera kept running.
    public func frame(dueAt instant: C.Instant) -> Int? {
        guard instant >= self.start else { return nil }
        let elapsed = self.start.duration(to: instant)
        let (s, atto) = elapsed.components
        let seconds = Double(s) + Double(atto) * 1e-18
        var i = Swift.max(0, Int((seconds * self.frameRateHz).rounded(.down)))
        while self.deadline(ofFrame: i + 1) <= instant { i += 1 }
        while i > 0 && self.deadline(ofFrame: i) > instant { i -= 1 }
        return i
    }

    /// The last frame due now (see `frame(dueAt:)`).
    public func currentFrame() -> Int? {
        self.frame(dueAt: self.clock.now)
    }

    /// Suspends until frame `index` is due (returns at once if it already is).
    public func sleep(untilFrame index: Int) async throws {
        try await self.clock.sleep(until: self.deadline(ofFrame: index), tolerance: nil)
    }
}
