/// The reply option of a BX or TX command: which sections the tracker puts in its reply.
///
/// Sent as 4 hex digits (`BX:0801`). `protocols.md` §1.3/§1.4 and `ndicapi.h` name the bits.
/// The layout of a reply depends on it, so the parsers and encoders take it as a parameter.
public struct NDIReplyOption: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// 0x0001: transforms and port status (the default when no option is sent).
    public static let transformsAndStatus = NDIReplyOption(rawValue: 0x0001)
    /// 0x0002: per handle, tool information and marker information (BX: 1 + 10 bytes).
    public static let toolAndMarkerInfo = NDIReplyOption(rawValue: 0x0002)
    /// 0x0004: per handle, the active single stray marker.
    public static let activeStray = NDIReplyOption(rawValue: 0x0004)
    /// 0x0008: per handle, the 3D positions of the tool's markers (BX).
    public static let markerPositions = NDIReplyOption(rawValue: 0x0008)
    /// 0x0800: also report transforms that are out of the characterized volume. Changes what is
    /// reported, not the layout.
    public static let outOfVolumeTransforms = NDIReplyOption(rawValue: 0x0800)
    /// 0x1000: passive stray markers, once for the whole reply.
    public static let passiveStrays = NDIReplyOption(rawValue: 0x1000)

    /// `0x0801`, as used by PLUS and scikit-surgerynditracker.
    public static let transformsAllVolumes: NDIReplyOption = [.transformsAndStatus, .outOfVolumeTransforms]

    /// `0xNNNN`.
    public var description: String { Hex.display(UInt64(self.rawValue), digits: 4) }
}

/// Port status bits, as reported per handle in BX (32 bits) and TX (8 hex digits), and in PHSR
/// (3 hex digits) and PHINF (2 hex digits) replies.
///
/// `protocols.md` §1.4; PLUS counts a tool as trackable when occupied, initialized and enabled
/// are all set (`isOccupiedInitializedEnabled`).
public struct NDIPortStatus: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// 0x01: a tool is in the port (occupied).
    public static let occupied = NDIPortStatus(rawValue: 0x01)
    /// 0x02: switch (button) 1 is closed.
    public static let switch1 = NDIPortStatus(rawValue: 0x02)
    /// 0x04: switch 2 is closed.
    public static let switch2 = NDIPortStatus(rawValue: 0x04)
    /// 0x08: switch 3 is closed.
    public static let switch3 = NDIPortStatus(rawValue: 0x08)
    /// 0x10: the port is initialized.
    public static let initialized = NDIPortStatus(rawValue: 0x10)
    /// 0x20: the port is enabled for tracking.
    public static let enabled = NDIPortStatus(rawValue: 0x20)
    /// 0x40: the tool is out of the characterized measurement volume (BX/TX).
    public static let outOfVolume = NDIPortStatus(rawValue: 0x40)
    /// 0x80: the tool is only partially in the volume (BX/TX). In PHSR and PHINF replies the same
    /// bit means "tool sensed through current detection" (`ndicapi.h`).
    public static let partiallyInVolume = NDIPortStatus(rawValue: 0x80)

    /// Occupied, initialized and enabled all set (0x31): PLUS's test for a usable tool.
    public var isOccupiedInitializedEnabled: Bool {
        self.isSuperset(of: [.occupied, .initialized, .enabled])
    }

    /// `0xNNNNNNNN`.
    public var description: String { Hex.display(UInt64(self.rawValue), digits: 8) }
}

/// System status bits, reported once per BX (16 bits) or TX (4 hex digits) reply.
///
/// `protocols.md` §1.4.
public struct NDISystemStatus: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// 0x01: communication synchronisation error.
    public static let commSyncError = NDISystemStatus(rawValue: 0x01)
    /// 0x02: too much external infrared.
    public static let tooMuchInfrared = NDISystemStatus(rawValue: 0x02)
    /// 0x04: communication CRC error.
    public static let commCRCError = NDISystemStatus(rawValue: 0x04)
    /// 0x08: recoverable communication error.
    public static let recoverableCommError = NDISystemStatus(rawValue: 0x08)
    /// 0x10: hardware failure.
    public static let hardwareFailure = NDISystemStatus(rawValue: 0x10)
    /// 0x20: hardware change.
    public static let hardwareChange = NDISystemStatus(rawValue: 0x20)
    /// 0x40: a port became occupied.
    public static let portOccupied = NDISystemStatus(rawValue: 0x40)
    /// 0x80: a port became unoccupied.
    public static let portUnoccupied = NDISystemStatus(rawValue: 0x80)

    /// `0xNNNN`.
    public var description: String { Hex.display(UInt64(self.rawValue), digits: 4) }
}
