/// Says when the tracker has gone silent: no frame for `limitNanoseconds` → lost; the next frame →
/// restored. A pure state machine fed with the injected clock's readings; the server calls `check`
/// from a timer and `frameArrived` from the pipeline.
///
/// Before the first frame the silence is counted from `startNanoseconds`, so a tracker that never
/// delivers is reported lost too.
public struct TrackingWatchdog: Sendable, Equatable {
    public enum Event: Sendable, Equatable {
        /// No frame since `lastFrameNanoseconds` (nil: none ever) for `silenceNanoseconds`.
        case lost(lastFrameNumber: UInt32?, silenceNanoseconds: UInt64)
        /// A frame arrived after a loss; the silence lasted `silenceNanoseconds`.
        case restored(frameNumber: UInt32, silenceNanoseconds: UInt64)
    }

    /// The silence that counts as lost, ns.
    public let limitNanoseconds: UInt64
    public private(set) var lastFrameNanoseconds: UInt64?
    public private(set) var lastFrameNumber: UInt32?
    public private(set) var isLost = false
    private var reference: UInt64

    /// The standard limit: three frame periods, at most 100 ms (and at least 1 ms).
    public static func standardLimitNanoseconds(frameRateHz: Double) -> UInt64 {
        guard frameRateHz.isFinite, frameRateHz > 0 else { return 100_000_000 }
        let threePeriods = 3e9 / frameRateHz
        return UInt64(max(1_000_000, min(100_000_000, threePeriods.rounded(.up))))
    }

    public init(limitNanoseconds: UInt64, startNanoseconds: UInt64) {
        self.limitNanoseconds = limitNanoseconds
        self.reference = startNanoseconds
    }

    /// A frame arrived at `time` (its host receive time). Returns `.restored` when tracking had been lost.
    public mutating func frameArrived(frameNumber: UInt32, at time: UInt64) -> Event? {
        let silence = time >= self.reference ? time - self.reference : 0
        self.reference = max(self.reference, time)
        self.lastFrameNanoseconds = time
        self.lastFrameNumber = frameNumber
        guard self.isLost else { return nil }
        self.isLost = false
        return .restored(frameNumber: frameNumber, silenceNanoseconds: silence)
    }

    /// Called periodically with the clock's reading. Returns `.lost` once, when the silence first
    /// exceeds the limit.
    public mutating func check(now: UInt64) -> Event? {
        guard !self.isLost else { return nil }
        let silence = now >= self.reference ? now - self.reference : 0
        guard silence > self.limitNanoseconds else { return nil }
        self.isLost = true
        return .lost(lastFrameNumber: self.lastFrameNumber, silenceNanoseconds: silence)
    }
}
