/// What the readout takes from the navigation server's JSON-lines protocol
/// (docs/json-lines-protocol.md): the parts of frame lines, events and the `hello` and `status`
/// responses that the screen and the plain lines show. Keys the readout does not use are ignored,
/// as the protocol asks of clients.

/// The navigation figures of one frame, in the active target's frame (signs:
/// docs/navigation-metrics.md).
public struct ReadoutMetrics: Equatable, Sendable {
    public var distanceMM: Double
    /// δ in target axes.
    public var offsetMM: (x: Double, y: Double, z: Double)
    /// + = deeper into the head than planned.
    public var depthMM: Double
    /// Where the coil's axis meets the target plane at the coil's bottom face; nil when the axis is
    /// parallel to the plane.
    public var inPlaneAtCoil: ReadoutPlanePoint?
    /// The same at the cortical depth.
    public var inPlaneAtCortex: ReadoutPlanePoint?
    public var tiltDegrees: Double
    public var tiltAboutTargetXDegrees: Double
    public var tiltAboutTargetYDegrees: Double
    /// + = clockwise seen from outside the head; nil when the handle is perpendicular to the plane.
    public var twistDegrees: Double?

    public init(
        distanceMM: Double, offsetMM: (x: Double, y: Double, z: Double), depthMM: Double,
        inPlaneAtCoil: ReadoutPlanePoint?, inPlaneAtCortex: ReadoutPlanePoint?, tiltDegrees: Double,
        tiltAboutTargetXDegrees: Double, tiltAboutTargetYDegrees: Double, twistDegrees: Double?
    ) {
        self.distanceMM = distanceMM
        self.offsetMM = offsetMM
        self.depthMM = depthMM
        self.inPlaneAtCoil = inPlaneAtCoil
        self.inPlaneAtCortex = inPlaneAtCortex
        self.tiltDegrees = tiltDegrees
        self.tiltAboutTargetXDegrees = tiltAboutTargetXDegrees
        self.tiltAboutTargetYDegrees = tiltAboutTargetYDegrees
        self.twistDegrees = twistDegrees
    }

    public static func == (a: ReadoutMetrics, b: ReadoutMetrics) -> Bool {
        a.distanceMM == b.distanceMM && a.offsetMM == b.offsetMM && a.depthMM == b.depthMM
            && a.inPlaneAtCoil == b.inPlaneAtCoil && a.inPlaneAtCortex == b.inPlaneAtCortex
            && a.tiltDegrees == b.tiltDegrees && a.tiltAboutTargetXDegrees == b.tiltAboutTargetXDegrees
            && a.tiltAboutTargetYDegrees == b.tiltAboutTargetYDegrees && a.twistDegrees == b.twistDegrees
    }
}

/// A point in the target plane, target axes, mm, and its distance from the target axis.
public struct ReadoutPlanePoint: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public var mm: Double
    public init(x: Double, y: Double, mm: Double) {
        self.x = x
        self.y = y
        self.mm = mm
    }
}

/// The on-target state of a frame: `off`, `acquiring`, `on` or `holding`.
public struct ReadoutOnTarget: Equatable, Sendable {
    public var state: String
    public var on: Bool
    public var dwellMs: Double
    public init(state: String, on: Bool, dwellMs: Double) {
        self.state = state
        self.on = on
        self.dwellMs = dwellMs
    }
}

/// One frame line.
public struct ReadoutFrame: Equatable, Sendable {
    /// The device frame number.
    public var frame: Int
    public var valid: Bool
    /// Protocol reason codes in the server's order (`stale`, `coil-missing`, …).
    public var reasons: [String]
    public var target: String?
    /// `ok`, `missing`, `partly-out-of-volume`, `disabled`; nil when the frame has no such tool.
    public var coilStatus: String?
    public var headStatus: String?
    public var pointerStatus: String?
    public var metrics: ReadoutMetrics?
    public var onTarget: ReadoutOnTarget

    public init(
        frame: Int, valid: Bool, reasons: [String], target: String?, coilStatus: String?, headStatus: String?,
        pointerStatus: String?, metrics: ReadoutMetrics?, onTarget: ReadoutOnTarget
    ) {
        self.frame = frame
        self.valid = valid
        self.reasons = reasons
        self.target = target
        self.coilStatus = coilStatus
        self.headStatus = headStatus
        self.pointerStatus = pointerStatus
        self.metrics = metrics
        self.onTarget = onTarget
    }
}

/// The `status` response: tracker state, frame counts and registration quality.
public struct ReadoutStatus: Equatable, Sendable {
    /// The tracker driver's state text (`tracking`, `tracking lost`, `reconnecting in …`, `waiting`).
    public var tracker: String
    public var lastFrame: Int?
    public var registered: Bool
    public var target: String?
    public var freMM: Double?
    public var predictedTREMM: Double?
    public var fleMM: Double?
    /// Frames received over the last second.
    public var frameRateHz: Double?
    public var framesReceived: Int
    public var framesDropped: Int

    public init(
        tracker: String, lastFrame: Int?, registered: Bool, target: String?, freMM: Double?, predictedTREMM: Double?,
        fleMM: Double?, frameRateHz: Double?, framesReceived: Int, framesDropped: Int
    ) {
        self.tracker = tracker
        self.lastFrame = lastFrame
        self.registered = registered
        self.target = target
        self.freMM = freMM
        self.predictedTREMM = predictedTREMM
        self.fleMM = fleMM
        self.frameRateHz = frameRateHz
        self.framesReceived = framesReceived
        self.framesDropped = framesDropped
    }
}

/// The `hello` response.
public struct ReadoutHello: Equatable, Sendable {
    public var server: String
    public var protocolVersion: Int
    /// Nominal tracker rate, nil while unknown.
    public var frameRateHz: Double?
    public var tools: [String]
    public var registered: Bool

    public init(server: String, protocolVersion: Int, frameRateHz: Double?, tools: [String], registered: Bool) {
        self.server = server
        self.protocolVersion = protocolVersion
        self.frameRateHz = frameRateHz
        self.tools = tools
        self.registered = registered
    }
}

/// The server's events, as far as the readout uses them.
public enum ReadoutEvent: Equatable, Sendable {
    case trackingLost(lastFrame: Int?, silenceMs: Double)
    case trackingRestored(frame: Int)
    case validityChanged(frame: Int, valid: Bool, reasons: [String])
    case targetChanged(String?)
    case registrationChanged(registered: Bool)
    case onTarget(frame: Int, dwellMs: Double)
    case offTarget(frame: Int)
    case pulseRecorded(index: Int)
    case trackerState(String)
    case warning(String)
    /// An event this version of the readout does not know (ignored, as the protocol asks).
    case other(String)
}

/// One line from the server, decoded.
public enum ReadoutMessage: Equatable, Sendable {
    case frame(ReadoutFrame)
    case event(ReadoutEvent)
    case hello(ReadoutHello)
    case status(ReadoutStatus)
    /// Any other response: its id, and the error message when it failed.
    case response(id: String?, error: String?)
    /// A line whose `type` the readout does not know (ignored, as the protocol asks).
    case ignored
}
