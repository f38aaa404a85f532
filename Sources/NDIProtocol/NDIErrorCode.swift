/// The code of an `ERRORxx` reply: the two hex digits `xx` a tracker sends when it rejects a
/// command.
///
/// Every code from 0x00 to 0xFF can be carried; `meaning` gives NDI's documented text where there
/// is one. Meanings 0x01–0x13 are the table of `protocols.md` §1.1; the others (0x0A, 0x0B,
/// 0x14–0x42, 0xF1, 0xF4–0xF6) are the `NDI_…` error constants of `ndicapi.h` (NDI Combined API C
/// library, PlusToolkit/ndicapi), whose header comments the reference calls authoritative. Codes
/// that header marks "reserved" (0x18, 0x1B, 0x1D, 0x20, 0x26, 0x27, 0x29, 0x31, 0x3A, 0x3E, 0x3F)
/// and codes it does not list have no meaning; they still print with their number.
///
///     NDIErrorCode(rawValue: 0x04).description == "0x04 bad command CRC"
///     NDIErrorCode(rawValue: 0x2E).description == "0x2E (no documented meaning)"
public struct NDIErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The code as sent on the wire.
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// 0x01: the command name is not known.
    public static let invalidCommand = NDIErrorCode(rawValue: 0x01)
    /// 0x02: the command is too long.
    public static let commandTooLong = NDIErrorCode(rawValue: 0x02)
    /// 0x03: the command is too short.
    public static let commandTooShort = NDIErrorCode(rawValue: 0x03)
    /// 0x04: the CRC appended to the command does not match the command.
    public static let badCommandCRC = NDIErrorCode(rawValue: 0x04)
    /// 0x05: the command timed out inside the tracker.
    public static let internalTimeout = NDIErrorCode(rawValue: 0x05)
    /// 0x06: the new communication parameters (COMM) could not be applied.
    public static let newCommParametersFailed = NDIErrorCode(rawValue: 0x06)
    /// 0x07: wrong number of command parameters.
    public static let wrongNumberOfParameters = NDIErrorCode(rawValue: 0x07)
    /// 0x08: invalid port handle.
    public static let invalidPortHandle = NDIErrorCode(rawValue: 0x08)
    /// 0x09: invalid mode (for PENA: the tracking priority must be S, D or B).
    public static let invalidMode = NDIErrorCode(rawValue: 0x09)
    /// 0x0C: the command is not valid in the current mode (e.g. PHSR while tracking).
    public static let invalidInCurrentMode = NDIErrorCode(rawValue: 0x0C)
    /// 0x0D: no tool in the port.
    public static let noToolInPort = NDIErrorCode(rawValue: 0x0D)
    /// 0x0E: the port is not initialized.
    public static let portNotInitialized = NDIErrorCode(rawValue: 0x0E)
    /// 0x0F: the port is not enabled.
    public static let portNotEnabled = NDIErrorCode(rawValue: 0x0F)
    /// 0x10: the system is not initialized (INIT first).
    public static let systemNotInitialized = NDIErrorCode(rawValue: 0x10)
    /// 0x11: TSTOP failed.
    public static let tstopFailed = NDIErrorCode(rawValue: 0x11)
    /// 0x12: TSTART failed.
    public static let tstartFailed = NDIErrorCode(rawValue: 0x12)
    /// 0x13: PINIT failed.
    public static let pinitFailed = NDIErrorCode(rawValue: 0x13)
    /// 0x23: a command parameter is out of range (`ndicapi.h`).
    public static let parameterOutOfRange = NDIErrorCode(rawValue: 0x23)
    /// 0x2B: the port handle has not been allocated (`ndicapi.h`).
    public static let handleNotAllocated = NDIErrorCode(rawValue: 0x2B)
    /// 0x2D: all port handles are allocated (`ndicapi.h`).
    public static let allHandlesAllocated = NDIErrorCode(rawValue: 0x2D)

    /// NDI's documented meaning of the code, or nil when it has none (reserved or unlisted).
    public var meaning: String? {
        switch self.rawValue {
        case 0x01: "invalid command"
        case 0x02: "command too long"
        case 0x03: "command too short"
        case 0x04: "bad command CRC"
        case 0x05: "internal timeout"
        case 0x06: "new comm parameters failed"
        case 0x07: "wrong number of parameters"
        case 0x08: "invalid port handle"
        case 0x09: "invalid mode (tracking priority must be S, D or B)"
        case 0x0A: "invalid LED selected"
        case 0x0B: "invalid LED state selected"
        case 0x0C: "command invalid in the current mode"
        case 0x0D: "no tool in port"
        case 0x0E: "port not initialized"
        case 0x0F: "port not enabled"
        case 0x10: "system not initialized"
        case 0x11: "TSTOP failed"
        case 0x12: "TSTART failed"
        case 0x13: "PINIT failed"
        case 0x14: "invalid position sensor characterization parameters"
        case 0x15: "unable to initialize the system"
        case 0x16: "failure to start diagnostic mode"
        case 0x17: "failure to stop diagnostic mode"
        case 0x19: "failure to read firmware version"
        case 0x1A: "internal device error"
        case 0x1C: "failure to set marker firing signature"
        case 0x1E: "failure to read SROM data"
        case 0x1F: "failure to write SROM data"
        case 0x21: "failure to perform tool current test"
        case 0x22: "enabled tools are not supported by the selected volume parameters"
        case 0x23: "command parameter out of range"
        case 0x24: "no camera parameters for this volume"
        case 0x25: "failure to determine supported features"
        case 0x28: "too many tools enabled, or tool type not supported"
        case 0x2A: "no memory available (heap full)"
        case 0x2B: "port handle not allocated"
        case 0x2C: "port handle has become unoccupied"
        case 0x2D: "all handles allocated"
        case 0x2F: "invalid port description"
        case 0x30: "port already has a handle"
        case 0x32: "invalid operation for the device on this port handle"
        case 0x33: "feature not available"
        case 0x34: "user parameter does not exist"
        case 0x35: "invalid value type"
        case 0x36: "user parameter value out of range"
        case 0x37: "user parameter array index out of range"
        case 0x38: "user parameter size incorrect"
        case 0x39: "permission denied"
        case 0x3B: "file not found"
        case 0x3C: "error writing to file"
        case 0x3D: "error reading from file"
        case 0x40: "tool definition file error"
        case 0x41: "tool characteristics not supported"
        case 0x42: "device not present"
        case 0xF1: "too much environmental infrared"
        case 0xF4: "failure to erase flash EEPROM"
        case 0xF5: "failure to write flash EEPROM"
        case 0xF6: "failure to read flash EEPROM"
        default: nil
        }
    }

    /// `0xNN meaning`, or `0xNN (no documented meaning)`.
    public var description: String {
        let number = Hex.display(UInt64(self.rawValue), digits: 2)
        if let meaning = self.meaning {
            return "\(number) \(meaning)"
        }
        return "\(number) (no documented meaning)"
    }
}
