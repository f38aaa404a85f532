import TrackerCore

/// The connection state of a tracker driver.
public enum TrackerState: Sendable, Equatable {
    /// Opening the byte stream.
    case connecting
    /// The stream is open; INIT … TSTART in progress.
    case settingUp
    /// Frames are flowing.
    case tracking
    /// The device was lost or refused the set-up; `reason` says why.
    case disconnected(reason: String)
    /// Waiting `delay` before connection attempt `attempt` (1, 2, …).
    case reconnecting(attempt: Int, delay: Duration)
    /// `stop()` finished: the driver will not reconnect.
    case stopped
}

/// What a driver reports, in order.
public enum TrackerEvent: Sendable, Equatable {
    case frame(TrackerFrame)
    case state(TrackerState)
    /// Something a person should know that does not stop tracking: a skipped malformed reply, a
    /// refused COMM rate, a tool never seen ("tool X has never been seen: check its tool
    /// definition file").
    case warning(String)
}

/// The driver's clock: nanoseconds since an arbitrary epoch, never decreasing. Injected so tests
/// control time; frames carry it as `hostReceiveNanoseconds`, and reply timeouts and reconnect
/// delays are measured on it.
public protocol TrackerClock: Sendable {
    func nowNanoseconds() -> UInt64
}

/// The real clock: `ContinuousClock`, counted from the clock's creation.
public struct SystemTrackerClock: TrackerClock {
    private let origin = ContinuousClock.now
    public init() {}
    public func nowNanoseconds() -> UInt64 {
        self.origin.duration(to: .now).wholeNanoseconds
    }
}
