import Geometry

/// What the tracker says about one tool in one frame.
///
/// A tool leaving the view is data, not an error: `missing` (not seen: occluded, out of view, or a
/// wrong tool definition that matches nothing), `partlyOutOfVolume` (seen, but some markers or the
/// tool lie outside the characterised measurement volume: the pose exists but is less accurate),
/// `disabled` (the port is not enabled). Only `ok` and `partlyOutOfVolume` carry a pose.
public enum ToolStatus: String, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    case ok
    case missing
    case partlyOutOfVolume = "partly-out-of-volume"
    case disabled

    public var description: String { self.rawValue }

    /// Whether a pose accompanies this status.
    public var hasPose: Bool { self == .ok || self == .partlyOutOfVolume }
}

/// One tool's measurement in a frame.
public struct ToolSample: Sendable, Equatable {
    /// The tool's name from its definition (e.g. "coil", "head", "pointer").
    public var name: String
    /// The device's port handle.
    public var handle: UInt8
    public var status: ToolStatus
    /// `toolToTracker`, mm; present exactly when `status.hasPose`.
    public var toolToTracker: RigidTransform?
    /// The device's RMS marker-fit error, mm, when a pose is present.
    public var rmsErrorMM: Double?
    /// The raw port status bits the device reported (NDI: 0x01 occupied, 0x10 initialised,
    /// 0x20 enabled, 0x40 out of volume, 0x80 partially in volume).
    public var portStatus: UInt32

    public init(
        name: String, handle: UInt8, status: ToolStatus, toolToTracker: RigidTransform? = nil, rmsErrorMM: Double? = nil,
        portStatus: UInt32 = 0
    ) {
        self.name = name
        self.handle = handle
        self.status = status
        self.toolToTracker = toolToTracker
        self.rmsErrorMM = rmsErrorMM
        self.portStatus = portStatus
    }
}

/// One tracker frame: every tool measured at the same instant by the device.
public struct TrackerFrame: Sendable, Equatable {
    /// The device's own frame counter (NDI: 32 bits, wraps).
    public var deviceFrameNumber: UInt32
    /// When the host received the reply, as nanoseconds of the injected clock since its epoch.
    public var hostReceiveNanoseconds: UInt64
    public var tools: [ToolSample]
    /// The device's system status bits (NDI BX system status).
    public var systemStatus: UInt16

    public init(deviceFrameNumber: UInt32, hostReceiveNanoseconds: UInt64, tools: [ToolSample], systemStatus: UInt16 = 0) {
        self.deviceFrameNumber = deviceFrameNumber
        self.hostReceiveNanoseconds = hostReceiveNanoseconds
        self.tools = tools
        self.systemStatus = systemStatus
    }

    /// The sample of the named tool, if the frame has it.
    public func tool(named name: String) -> ToolSample? {
        self.tools.first { $0.name == name }
    }
}
