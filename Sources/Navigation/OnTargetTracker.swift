/// The thresholds of the on-target state machine. Comparisons are strict: "on" needs every metric
/// strictly below its on-threshold; "off" happens when any metric is strictly above its
/// off-threshold (a NaN metric counts as above). Twist is compared by its absolute value.
public struct OnTargetThresholds: Sendable, Equatable {
    public var onDistanceMM: Double
    public var onTiltDegrees: Double
    public var onTwistDegrees: Double
    /// How long the on-conditions must hold continuously before the state becomes on, ns.
    public var dwellNanoseconds: UInt64
    public var offDistanceMM: Double
    public var offTiltDegrees: Double
    public var offTwistDegrees: Double

    public init(
        onDistanceMM: Double = 1, onTiltDegrees: Double = 2, onTwistDegrees: Double = 4,
        dwellNanoseconds: UInt64 = 500_000_000,
        offDistanceMM: Double = 2, offTiltDegrees: Double = 4, offTwistDegrees: Double = 8
    ) {
        self.onDistanceMM = onDistanceMM
        self.onTiltDegrees = onTiltDegrees
        self.onTwistDegrees = onTwistDegrees
        self.dwellNanoseconds = dwellNanoseconds
        self.offDistanceMM = offDistanceMM
        self.offTiltDegrees = offTiltDegrees
        self.offTwistDegrees = offTwistDegrees
    }

    /// The defaults: on below 1 mm / 2° / 4° held 0.5 s, off above 2 mm / 4° / 8°.
    public static let standard = OnTargetThresholds()

    /// Every metric strictly below its on-threshold (false for NaN).
    @inlinable
    public func meetsOn(distanceMM: Double, tiltDegrees: Double, twistDegrees: Double) -> Bool {
        distanceMM < self.onDistanceMM && tiltDegrees < self.onTiltDegrees
            && Swift.abs(twistDegrees) < self.onTwistDegrees
    }

    /// Some metric strictly above its off-threshold (true for NaN).
    @inlinable
    public func exceedsOff(distanceMM: Double, tiltDegrees: Double, twistDegrees: Double) -> Bool {
        !(distanceMM <= self.offDistanceMM && tiltDegrees <= self.offTiltDegrees
            && Swift.abs(twistDegrees) <= self.offTwistDegrees)
    }
}

/// Where the on-target state machine is. Times are nanoseconds of the frames' clock.
public enum OnTargetState: Sendable, Equatable {
    /// Not on target.
    case off
    /// Every on-condition has held since `since`, but not yet for the dwell time.
    case acquiring(since: UInt64)
    /// On target and inside the on-thresholds. `since`: when the state became on; `qualifyingSince`:
    /// when the qualifying run that led to it began.
    case on(since: UInt64, qualifyingSince: UInt64)
    /// Still on target, but in the hysteresis band: outside an on-threshold, inside every off-threshold.
    case holding(since: UInt64, qualifyingSince: UInt64)

    /// True for `.on` and `.holding`.
    public var isOnTarget: Bool {
        switch self {
        case .on, .holding: return true
        case .off, .acquiring: return false
        }
    }
}

/// The on-target state machine: a pure function of the frames it is fed, no clock read.
///
/// - off → acquiring when a valid frame meets every on-condition;
/// - acquiring → on when the on-conditions have held on every frame for at least `dwellNanoseconds`
///   (the first frame with `time − since ≥ dwell`); any valid frame that misses an on-condition goes
///   back to off (the dwell restarts);
/// - on ↔ holding while every off-condition is respected (hysteresis band);
/// - on/holding → off when any metric exceeds its off-threshold.
/// - **An invalid frame (no error: coil or head missing, not registered, no target, stale) sends the
///   state to off at once, with no grace period**: a robot servoing on this flag needs an
///   unambiguous stop, and a dropped frame must restart the dwell.
/// - Time going backwards counts as no time elapsed.
public struct OnTargetTracker: Sendable, Equatable {
    public var thresholds: OnTargetThresholds
    public private(set) var state: OnTargetState = .off

    public init(thresholds: OnTargetThresholds = .standard) {
        self.thresholds = thresholds
    }

    /// Forgets the current state (e.g. when the active target changes).
    public mutating func reset() { self.state = .off }

    /// How long the current qualifying run has lasted at `time`: since `acquiring` began, or since the
    /// run that led to `on`/`holding` began; 0 when off.
    @inlinable
    public func dwellNanoseconds(at time: UInt64) -> UInt64 {
        switch self.state {
        case .off: return 0
        case .acquiring(let s), .on(_, let s), .holding(_, let s):
            return time >= s ? time - s : 0
        }
    }

    /// Feeds a valid frame's metrics and returns the new state.
    @discardableResult
    public mutating func update(
        timeNanoseconds t: UInt64, distanceMM: Double, tiltDegrees: Double, twistDegrees: Double
    ) -> OnTargetState {
        let th = self.thresholds
        let meetsOn = th.meetsOn(distanceMM: distanceMM, tiltDegrees: tiltDegrees, twistDegrees: twistDegrees)
        switch self.state {
        case .off:
            if meetsOn { self.state = Self.acquire(since: t, at: t, dwell: th.dwellNanoseconds) }
        case .acquiring(let since):
            self.state = meetsOn ? Self.acquire(since: since, at: t, dwell: th.dwellNanoseconds) : .off
        case .on(let since, let q), .holding(let since, let q):
            if th.exceedsOff(distanceMM: distanceMM, tiltDegrees: tiltDegrees, twistDegrees: twistDegrees) {
                self.state = .off
            } else {
                self.state = meetsOn ? .on(since: since, qualifyingSince: q) : .holding(since: since, qualifyingSince: q)
            }
        }
        return self.state
    }

    /// Feeds an invalid frame: the state becomes off.
    @discardableResult
    public mutating func updateInvalid() -> OnTargetState {
        self.state = .off
        return self.state
    }

    @inlinable
    static func acquire(since: UInt64, at t: UInt64, dwell: UInt64) -> OnTargetState {
        let elapsed = t >= since ? t - since : 0
        return elapsed >= dwell ? .on(since: t, qualifyingSince: since) : .acquiring(since: since)
    }
}
