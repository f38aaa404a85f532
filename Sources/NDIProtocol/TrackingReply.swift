import Geometry

/// A tool pose as the tracker reports it in BX and TX replies.
///
/// The rotation is a unit quaternion in NDI order (`q0` scalar first, active rotation of the
/// tool frame into the tracker frame); the translation is the tool origin in the tracker frame,
/// in millimetres; `rmsError` is the tracker's RMS marker fit error, in millimetres.
///
/// BX carries each number as an IEEE-754 binary32 float; TX as fixed-point decimals (quaternion
/// and error to 0.0001, translation to 0.01 mm). Parsed values are the exact wire values as
/// `Double`.
public struct NDITransform: Equatable, Sendable, CustomStringConvertible {
    /// Rotation, NDI order (q0, qx, qy, qz).
    public var rotation: Quaternion
    /// Translation in millimetres.
    public var translation: Vector3
    /// RMS fit error in millimetres.
    public var rmsError: Double

    public init(rotation: Quaternion, translation: Vector3, rmsError: Double) {
        self.rotation = rotation
        self.translation = translation
        self.rmsError = rmsError
    }

    /// The pose as a rigid transform (tool → tracker). The quaternion is used as sent; a
    /// non-unit quaternion gives a non-orthonormal matrix.
    public var rigidTransform: RigidTransform {
        RigidTransform(rotation: self.rotation, translation: self.translation)
    }

    public var description: String {
        "q \(self.rotation) t (\(self.translation.x), \(self.translation.y), \(self.translation.z)) mm rms \(self.rmsError) mm"
    }
}

/// The state of one port handle in a BX or TX reply.
public enum NDIHandleStatus: Hashable, Sendable, CustomStringConvertible {
    /// The tool was seen: a transform follows (BX status byte 0x01).
    case valid
    /// The tool is enabled but was not seen (BX 0x02, TX `MISSING`).
    case missing
    /// The handle is not enabled (BX 0x04, TX `DISABLED`).
    case disabled
    /// Nothing is plugged into the port (TX `UNOCCUPIED` only; BX has no such status).
    case unoccupied

    /// The BX status byte, nil for `.unoccupied`.
    public var bxCode: UInt8? {
        switch self {
        case .valid: 0x01
        case .missing: 0x02
        case .disabled: 0x04
        case .unoccupied: nil
        }
    }

    public var description: String {
        switch self {
        case .valid: "valid"
        case .missing: "missing"
        case .disabled: "disabled"
        case .unoccupied: "unoccupied"
        }
    }
}

/// BX reply option 0x0002, per handle: the tool information byte and 10 marker information
/// bytes, kept as sent (the reference gives no finer layout).
public struct NDIToolMarkerInfo: Equatable, Sendable {
    /// The tool information byte.
    public var toolInformation: UInt8
    /// The 10 marker information bytes.
    public var markerInformation: [UInt8]

    public init(toolInformation: UInt8, markerInformation: [UInt8]) {
        self.toolInformation = toolInformation
        self.markerInformation = markerInformation
    }
}

/// BX reply option 0x0004, per handle: the active single stray marker.
///
/// ndicapi reads the 12-byte position whenever the status byte is not 0 (`ndiBXHelper`); this
/// codec does the same. ndicapi names status bits 0x01 valid, 0x02 missing, 0x08 out of volume.
public struct NDIActiveStray: Equatable, Sendable {
    /// The status byte.
    public var status: UInt8
    /// Position in millimetres; present exactly when `status` is not 0.
    public var position: Vector3?

    public init(status: UInt8, position: Vector3?) {
        self.status = status
        self.position = position
    }
}

/// A set of 3D marker positions: BX option 0x0008 (a tool's markers, per handle) or option
/// 0x1000 (passive stray markers, once per reply, BX and TX).
public struct NDIMarkerSet: Equatable, Sendable {
    /// The out-of-volume flags exactly as sent, uninterpreted (the reference does not give the
    /// bit order). BX: ⌈n/8⌉ bytes. TX: ⌈n/4⌉ hex digits, one digit's value (0–15) per element.
    public var outOfVolume: [UInt8]
    /// Marker positions in millimetres.
    public var positions: [Vector3]

    public init(outOfVolume: [UInt8], positions: [Vector3]) {
        self.outOfVolume = outOfVolume
        self.positions = positions
    }
}

/// One port handle's entry in a BX or TX reply.
///
/// Which fields are present depends on the status and the reply option:
/// - `transform`: status `.valid` and option 0x0001;
/// - `portStatus`, `frameNumber`: option 0x0001, except for BX `.disabled` (nothing follows the
///   status byte) and TX `.unoccupied`;
/// - `toolMarkerInfo`, `activeStray`, `markers`: BX options 0x0002, 0x0004, 0x0008, except for
///   `.disabled`.
public struct NDIHandleReport: Equatable, Sendable {
    /// The port handle (1–255).
    public var handle: UInt8
    /// Seen, missing, disabled or unoccupied.
    public var status: NDIHandleStatus
    /// The pose, for a valid handle.
    public var transform: NDITransform?
    /// Port status flags: occupied, switches, initialized, enabled, out of volume (0x40),
    /// partially in volume (0x80).
    public var portStatus: NDIPortStatus?
    /// The tracker's frame number for this handle's data.
    public var frameNumber: UInt32?
    /// BX option 0x0002.
    public var toolMarkerInfo: NDIToolMarkerInfo?
    /// BX option 0x0004.
    public var activeStray: NDIActiveStray?
    /// BX option 0x0008.
    public var markers: NDIMarkerSet?

    public init(
        handle: UInt8,
        status: NDIHandleStatus,
        transform: NDITransform? = nil,
        portStatus: NDIPortStatus? = nil,
        frameNumber: UInt32? = nil,
        toolMarkerInfo: NDIToolMarkerInfo? = nil,
        activeStray: NDIActiveStray? = nil,
        markers: NDIMarkerSet? = nil
    ) {
        self.handle = handle
        self.status = status
        self.transform = transform
        self.portStatus = portStatus
        self.frameNumber = frameNumber
        self.toolMarkerInfo = toolMarkerInfo
        self.activeStray = activeStray
        self.markers = markers
    }

    /// A seen tool (option 0x0001 fields).
    public static func valid(
        handle: UInt8,
        transform: NDITransform,
        portStatus: NDIPortStatus,
        frameNumber: UInt32
    ) -> NDIHandleReport {
        NDIHandleReport(
            handle: handle,
            status: .valid,
            transform: transform,
            portStatus: portStatus,
            frameNumber: frameNumber
        )
    }

    /// An enabled tool that was not seen (option 0x0001 fields).
    public static func missing(handle: UInt8, portStatus: NDIPortStatus, frameNumber: UInt32) -> NDIHandleReport {
        NDIHandleReport(handle: handle, status: .missing, portStatus: portStatus, frameNumber: frameNumber)
    }

    /// True when the port status says the tool is partially out of the measurement volume
    /// (flag 0x80), the "partly out of volume" state of the driver.
    public var isPartiallyOutOfVolume: Bool {
        self.portStatus?.contains(.partiallyInVolume) ?? false
    }

    /// True when the port status says the tool is out of the measurement volume (flag 0x40).
    public var isOutOfVolume: Bool {
        self.portStatus?.contains(.outOfVolume) ?? false
    }
}

/// A BX or TX reply: every reported handle, the system status, and the passive strays (0x1000).
public struct NDITrackingReply: Equatable, Sendable {
    /// The handles in the order the tracker sent them.
    public var handles: [NDIHandleReport]
    /// System status flags.
    public var systemStatus: NDISystemStatus
    /// Passive stray markers, present when option 0x1000 was requested.
    public var passiveStrays: NDIMarkerSet?

    public init(handles: [NDIHandleReport], systemStatus: NDISystemStatus = [], passiveStrays: NDIMarkerSet? = nil) {
        self.handles = handles
        self.systemStatus = systemStatus
        self.passiveStrays = passiveStrays
    }

    /// The report for `handle`, if the reply has one.
    public func report(for handle: UInt8) -> NDIHandleReport? {
        self.handles.first { $0.handle == handle }
    }
}

/// Why a reply could not be encoded (tracker side): the typed values do not fit the wire format
/// (a TX value out of its fixed-point range, a field of the wrong width, a status the format
/// cannot express, a required field missing).
public struct NDIEncodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The reply being encoded: `BX`, `TX`, `PHSR`, …
    public var replyName: String
    /// What does not fit, in words.
    public var message: String

    public init(replyName: String, _ message: String) {
        self.replyName = replyName
        self.message = message
    }

    public var description: String { "cannot encode \(self.replyName) reply: \(self.message)" }
}
