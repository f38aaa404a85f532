import Geometry
import TrackerCore

/// Why a navigation output is invalid. Several reasons can hold at once; an empty set means valid.
public struct NavigationInvalidity: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The coil's tool is absent from the frame, or reported without a (finite) pose.
    public static let coilMissing = NavigationInvalidity(rawValue: 1 << 0)
    /// The head reference's tool is absent from the frame, or reported without a (finite) pose.
    public static let headReferenceMissing = NavigationInvalidity(rawValue: 1 << 1)
    /// No `headToMRI` registration.
    public static let notRegistered = NavigationInvalidity(rawValue: 1 << 2)
    /// No active target.
    public static let noTarget = NavigationInvalidity(rawValue: 1 << 3)
    /// The frame is older than the allowed age, or its frame number did not advance.
    public static let stale = NavigationInvalidity(rawValue: 1 << 4)

    /// The reasons in reporting order (most fundamental first).
    public static let orderedReasons: [(NavigationInvalidity, StaticString)] = [
        (.stale, "stale"), (.coilMissing, "coil missing"), (.headReferenceMissing, "head reference missing"),
        (.notRegistered, "not registered"), (.noTarget, "no target"),
    ]

    /// The first reason in `orderedReasons` order, as a static string (no allocation), or nil when valid.
    public var primaryReason: StaticString? {
        if self.contains(.stale) { return "stale" }
        if self.contains(.coilMissing) { return "coil missing" }
        if self.contains(.headReferenceMissing) { return "head reference missing" }
        if self.contains(.notRegistered) { return "not registered" }
        if self.contains(.noTarget) { return "no target" }
        return nil
    }

    /// All reasons, comma-separated ("valid" when none). Allocates: not for the hot path.
    public var description: String {
        if self.isEmpty { return "valid" }
        return Self.orderedReasons.filter { self.contains($0.0) }.map { "\($0.1)" }.joined(separator: ", ")
    }
}

/// The pipeline's settings.
public struct NavigationConfiguration: Sendable, Equatable {
    /// The tool name of the coil's marker in tracker frames.
    public var coilToolName: String
    /// The tool name of the head reference in tracker frames.
    public var headToolName: String
    /// A frame whose host receive time is more than this before "now" is stale, ns.
    public var maxFrameAgeNanoseconds: UInt64
    /// Whether a `partlyOutOfVolume` pose is used (true) or treated as missing (false).
    public var acceptPartlyOutOfVolume: Bool
    public var onTarget: OnTargetThresholds

    public init(
        coilToolName: String = "coil", headToolName: String = "head", maxFrameAgeNanoseconds: UInt64 = 100_000_000,
        acceptPartlyOutOfVolume: Bool = true, onTarget: OnTargetThresholds = .standard
    ) {
        self.coilToolName = coilToolName
        self.headToolName = headToolName
        self.maxFrameAgeNanoseconds = maxFrameAgeNanoseconds
        self.acceptPartlyOutOfVolume = acceptPartlyOutOfVolume
        self.onTarget = onTarget
    }
}

/// The on-target part of an output.
public struct OnTargetStatus: Sendable, Equatable {
    public var state: OnTargetState
    /// How long the current qualifying run has lasted at this frame, ns (0 when off).
    public var dwellNanoseconds: UInt64
    public var isOnTarget: Bool { self.state.isOnTarget }

    public init(state: OnTargetState, dwellNanoseconds: UInt64) {
        self.state = state
        self.dwellNanoseconds = dwellNanoseconds
    }
}

/// What the pipeline says about one tracker frame.
///
/// Poses are filled in as far as the inputs allow, even when the output is invalid (e.g. a stale frame
/// still carries its poses; a frame without a target still carries `coilToMRI`). `error` is present
/// whenever coil, head, registration and target are all available; consumers must still check
/// `isValid` (a stale frame has an `error` but is invalid).
public struct NavigationOutput: Sendable, Equatable {
    /// The device's frame counter (the device's own time base).
    public var deviceFrameNumber: UInt32
    /// When the host received the frame, ns of the injected clock.
    public var hostReceiveNanoseconds: UInt64
    /// `now − hostReceiveNanoseconds` at processing (0 if the frame is stamped in the future).
    public var ageNanoseconds: UInt64
    public var invalidity: NavigationInvalidity
    public var isValid: Bool { self.invalidity.isEmpty }

    /// The coil marker's and head reference's statuses in this frame; nil when the frame has no such
    /// tool. `.partlyOutOfVolume` poses are used (unless configured otherwise) but less accurate.
    public var coilStatus: ToolStatus?
    public var headStatus: ToolStatus?

    public var coilToTracker: RigidTransform?
    public var headToTracker: RigidTransform?
    public var coilToHead: RigidTransform?
    public var coilToMRI: RigidTransform?
    public var error: CoilError?
    public var onTarget: OnTargetStatus
}

/// The per-frame pipeline: tracker frame → coil and head poses from that same frame → `coilToHead` →
/// `coilToMRI` → `CoilError` against the active target → on-target state.
///
/// Synchronous and free of heap allocation per frame: tools are found by a linear scan comparing
/// names (with the previous frame's index tried first), and every output is a value type.
public struct FrameProcessor: Sendable {
    public private(set) var configuration: NavigationConfiguration
    /// `coilToCoilMarker`: the coil calibration (coil frame, SimNIBS axes, → the coil's marker tool).
    public var coilCalibration: RigidTransform
    /// The registration `headToMRI`; nil until registered.
    public var headToMRI: RigidTransform?
    /// The active target; setting a different one resets the on-target state.
    public var activeTarget: NavigationTarget? {
        didSet { if oldValue != self.activeTarget { self.onTargetTracker.reset() } }
    }
    public private(set) var onTargetTracker: OnTargetTracker
    /// The newest frame number processed (stale frames do not move it back).
    public private(set) var lastFrameNumber: UInt32?

    private var coilIndexHint = 0
    private var headIndexHint = 0

    public init(
        configuration: NavigationConfiguration = NavigationConfiguration(), coilCalibration: RigidTransform = .identity,
        headToMRI: RigidTransform? = nil, activeTarget: NavigationTarget? = nil
    ) {
        self.configuration = configuration
        self.coilCalibration = coilCalibration
        self.headToMRI = headToMRI
        self.activeTarget = activeTarget
        self.onTargetTracker = OnTargetTracker(thresholds: configuration.onTarget)
    }

    /// Changes the on-target thresholds (keeps the current state).
    public mutating func setOnTargetThresholds(_ thresholds: OnTargetThresholds) {
        self.configuration.onTarget = thresholds
        self.onTargetTracker.thresholds = thresholds
    }

    /// Sends the on-target state to off (e.g. after the tracker fell silent: the dwell restarts).
    public mutating func resetOnTarget() { self.onTargetTracker.reset() }

    /// Forgets the last frame number, for when the tracker restarts its counter (reconnection).
    public mutating func resetFrameSequence() { self.lastFrameNumber = nil }

    /// Processes one frame. `nowNanoseconds` is the injected clock's reading, in the same time base as
    /// `frame.hostReceiveNanoseconds`.
    ///
    /// Stale: the frame's age exceeds `maxFrameAgeNanoseconds`, or its frame number does not advance
    /// past the last one processed (equal, or behind in 32-bit serial-number arithmetic, so the NDI
    /// counter may wrap).
    public mutating func process(frame: TrackerFrame, nowNanoseconds: UInt64) -> NavigationOutput {
        var invalidity = NavigationInvalidity(rawValue: 0)  // not `[]`: an array literal may allocate unoptimised
        let age = nowNanoseconds >= frame.hostReceiveNanoseconds ? nowNanoseconds - frame.hostReceiveNanoseconds : 0
        if age > self.configuration.maxFrameAgeNanoseconds { invalidity.insert(.stale) }
        if let last = self.lastFrameNumber {
            let step = Int32(bitPattern: frame.deviceFrameNumber &- last)
            if step <= 0 { invalidity.insert(.stale) } else { self.lastFrameNumber = frame.deviceFrameNumber }
        } else {
            self.lastFrameNumber = frame.deviceFrameNumber
        }

        let (coilStatus, coilMarkerToTracker) = Self.pose(
            in: frame.tools, named: self.configuration.coilToolName, hint: &self.coilIndexHint,
            acceptPartlyOutOfVolume: self.configuration.acceptPartlyOutOfVolume)
        let (headStatus, headToTracker) = Self.pose(
            in: frame.tools, named: self.configuration.headToolName, hint: &self.headIndexHint,
            acceptPartlyOutOfVolume: self.configuration.acceptPartlyOutOfVolume)
        if coilMarkerToTracker == nil { invalidity.insert(.coilMissing) }
        if headToTracker == nil { invalidity.insert(.headReferenceMissing) }
        if self.headToMRI == nil { invalidity.insert(.notRegistered) }
        if self.activeTarget == nil { invalidity.insert(.noTarget) }

        let coilToTracker = coilMarkerToTracker.map { $0 * self.coilCalibration }
        var coilToHead: RigidTransform? = nil
        var coilToMRI: RigidTransform? = nil
        var error: CoilError? = nil
        if let c = coilToTracker, let h = headToTracker {
            let ch = h.inverse * c
            coilToHead = ch
            if let reg = self.headToMRI {
                let cm = reg * ch
                coilToMRI = cm
                if let target = self.activeTarget { error = CoilError(coilToMRI: cm, target: target) }
            }
        }

        let t = frame.hostReceiveNanoseconds
        if invalidity.isEmpty, let e = error {
            self.onTargetTracker.update(
                timeNanoseconds: t, distanceMM: e.distanceMM, tiltDegrees: e.tiltDegrees, twistDegrees: e.twistDegrees)
        } else {
            self.onTargetTracker.updateInvalid()
        }

        return NavigationOutput(
            deviceFrameNumber: frame.deviceFrameNumber, hostReceiveNanoseconds: t, ageNanoseconds: age,
            invalidity: invalidity, coilStatus: coilStatus, headStatus: headStatus, coilToTracker: coilToTracker, headToTracker: headToTracker, coilToHead: coilToHead,
            coilToMRI: coilToMRI, error: error,
            onTarget: OnTargetStatus(
                state: self.onTargetTracker.state, dwellNanoseconds: self.onTargetTracker.dwellNanoseconds(at: t))
        )
    }

    /// The named tool's status (nil when absent) and its finite, usable pose. Tries `hint` first, then
    /// scans; no allocation.
    @inline(__always)
    static func pose(in tools: [ToolSample], named name: String, hint: inout Int, acceptPartlyOutOfVolume: Bool)
        -> (ToolStatus?, RigidTransform?)
    {
        var index = -1
        if hint < tools.count, tools[hint].name == name {
            index = hint
        } else {
            var i = 0
            while i < tools.count {
                if tools[i].name == name { index = i; break }
                i += 1
            }
        }
        guard index >= 0 else { return (nil, nil) }
        hint = index
        let status = tools[index].status
        switch status {
        case .ok: break
        case .partlyOutOfVolume: if !acceptPartlyOutOfVolume { return (status, nil) }
        case .missing, .disabled: return (status, nil)
        }
        guard let pose = tools[index].toolToTracker, pose.isFinite else { return (status, nil) }
        return (status, pose)
    }
}
