import MockTracker

/// Which simulation frame a BX/TX reply carries.
///
/// - `.realTime` (the default): the tracker's camera runs at the scenario's frame rate on
///   `ContinuousClock` from the first `TSTART` on, and keeps running for the server's lifetime
///   (through `TSTOP`, reconnects and faults, like a real camera); a reply carries the frame that
///   is due by the clock (`FramePacer.frame(dueAt:)`), so a slow host skips frames.
/// - `.clock(c)`: the same with any injected `Clock` (a manual test clock).
/// - `.asFastAsPossible`: every tracking reply advances exactly one frame (0, 1, 2, … for the
///   server's lifetime), whatever the time: deterministic, for tests.
///
/// Stalls and disconnect delays of fault injection are always real time: they are what the host
/// observes on the wire.
public struct MockFrameTiming: Sendable {
    let makeSource: @Sendable (_ frameRateHz: Double) -> any MockFrameSource

    /// Frames advance on the real clock (`ContinuousClock`).
    public static var realTime: MockFrameTiming { .clock(ContinuousClock()) }

    /// Frames advance on `clock`, starting at the first TSTART.
    public static func clock<C: Clock & Sendable>(_ clock: C) -> MockFrameTiming where C.Duration == Duration {
        MockFrameTiming { rate in PacedFrameSource(clock: clock, frameRateHz: rate) }
    }

    /// Each tracking reply carries the next frame.
    public static var asFastAsPossible: MockFrameTiming {
        MockFrameTiming { _ in SequentialFrameSource() }
    }
}

/// Supplies frame indices to a serving loop; used only on the serving thread.
protocol MockFrameSource: AnyObject {
    /// Tracking mode was entered.
    func trackingStarted()
    /// The frame the next tracking reply carries.
    func nextFrame() -> Int
}

final class SequentialFrameSource: MockFrameSource {
    private var next = 0
    func trackingStarted() {}
    func nextFrame() -> Int {
        defer { self.next += 1 }
        return self.next
    }
}

final class PacedFrameSource<C: Clock>: MockFrameSource where C.Duration == Duration {
    private let clock: C
    private let frameRateHz: Double
    private var pacer: FramePacer<C>?

    init(clock: C, frameRateHz: Double) {
        self.clock = clock
        self.frameRateHz = frameRateHz
    }

    func trackingStarted() {
        if self.pacer == nil {
            self.pacer = FramePacer(clock: self.clock, frameRateHz: self.frameRateHz)
        }
    }

    func nextFrame() -> Int {
        self.pacer?.currentFrame() ?? 0
    }
}
