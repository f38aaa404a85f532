/// A command from host to tracker in the NDI Combined API.
///
/// On the wire a command is ASCII: its name, a separator, its parameters, optionally a CRC, and
/// a CR (`protocols.md` §1.1). `encoded()` writes the form with `:` and CRC, the form ndicapi,
/// PLUS and scikit-surgerynditracker send:
///
///     try NDICommand.initialize.encoded()           // "INIT:E3A5\r"
///     try NDICommand.bx(.transformsAllVolumes).encoded() // "BX:080100EC\r"
///
/// `parse(_:)` is the tracker side: it accepts all three forms (`INIT:E3A5\r`, `INIT \r`,
/// `INIT\r`), checks the CRC when there is one, and reports what is wrong in an
/// `NDICommandError` whose `replyCode` is the `ERRORxx` a tracker answers.
///
/// Commands the codec does not model travel as `.raw(name:parameters:)`, both ways.
public enum NDICommand: Hashable, Sendable {
    /// `INIT`: initialise the system. Reply `OKAY`.
    case initialize
    /// `COMM`: change the serial parameters; the tracker answers `OKAY` at the old rate, then
    /// switches. `COMM:50000` is 115200 8N1 without handshake.
    case comm(
        baud: NDIBaudRate,
        dataBits: NDIDataBits = .eight,
        parity: NDIParity = .none,
        stopBits: NDIStopBits = .one,
        handshake: Bool = false
    )
    /// `PHSR`: list port handles of a kind. Reply: `NDIPortHandleList`.
    case phsr(NDIPortHandleFilter)
    /// `PHRQ`: request a port handle matching a 14-character criteria string (8 device number,
    /// 1 system type, 1 wired/wireless, 2 port, 2 channel; `*` = any). Reply: the handle.
    case phrq(criteria: String = NDICommand.wirelessToolCriteria)
    /// `PHF`: free a port handle.
    case phf(handle: UInt8)
    /// `PVWR`: write 64 bytes of a tool definition to a handle's virtual SROM at `address`.
    case pvwr(handle: UInt8, address: UInt16, data: NDIROMChunk)
    /// `PINIT`: initialise a port handle.
    case pinit(handle: UInt8)
    /// `PENA`: enable tracking of a port handle with a priority.
    case pena(handle: UInt8, priority: NDITrackingPriority)
    /// `PHINF`: information about a port handle; `option` nil sends no option (the tracker's
    /// default, 0x0001). Reply: `NDIPortInfo`.
    case phinf(handle: UInt8, option: NDIPortInfoOption?)
    /// `VER`: firmware version text of the given processor (0 = control processor).
    case ver(UInt8)
    /// `GETINFO`: read a user parameter by name, e.g. `Features.Firmware.Version`.
    case getinfo(String)
    /// `TSTART`: enter tracking mode.
    case tstart
    /// `TSTOP`: leave tracking mode.
    case tstop
    /// `BX`: binary tracking data. `option` nil sends `BX:` without an option (0x0001).
    case bx(NDIReplyOption?)
    /// `TX`: ASCII tracking data. `option` nil sends `TX:` without an option (0x0001).
    case tx(NDIReplyOption?)
    /// `BEEP`: sound the tracker's beeper `count` times.
    case beep(UInt8)
    /// Any other command, sent as `name` + separator + `parameters` (+ CRC). The name must be
    /// uppercase letters and digits starting with a letter; parameters printable ASCII.
    case raw(name: String, parameters: String)

    /// `*********1****`: any wireless (passive) tool, as scikit-surgerynditracker and PLUS
    /// request handles for tool definition files.
    public static let wirelessToolCriteria = "*********1****"

    /// How a command is written on the wire.
    public enum Form: Hashable, Sendable {
        /// `NAME:PARAMS` + 4 hex CRC digits + CR. The CRC covers `NAME:PARAMS`.
        case crc
        /// `NAME PARAMS` + CR, no CRC (`INIT \r` when there are no parameters).
        case space
        /// `NAME` + CR: only for commands without parameters.
        case bare
    }

    /// The command name as sent: `INIT`, `COMM`, `PHSR`, …
    public var name: String {
        switch self {
        case .initialize: "INIT"
        case .comm: "COMM"
        case .phsr: "PHSR"
        case .phrq: "PHRQ"
        case .phf: "PHF"
        case .pvwr: "PVWR"
        case .pinit: "PINIT"
        case .pena: "PENA"
        case .phinf: "PHINF"
        case .ver: "VER"
        case .getinfo: "GETINFO"
        case .tstart: "TSTART"
        case .tstop: "TSTOP"
        case .bx: "BX"
        case .tx: "TX"
        case .beep: "BEEP"
        case .raw(let name, _): name
        }
    }

    /// The parameter characters as sent (between the separator and the CRC).
    public var parameters: String {
        switch self {
        case .initialize, .tstart, .tstop:
            return ""
        case .comm(let baud, let dataBits, let parity, let stopBits, let handshake):
            return String([baud.code, dataBits.rawValue, parity.rawValue, stopBits.rawValue, handshake ? "1" : "0"])
        case .phsr(let filter):
            return Hex.string(UInt64(filter.rawValue), digits: 2)
        case .phrq(let criteria):
            return criteria
        case .phf(let handle), .pinit(let handle):
            return Hex.string(UInt64(handle), digits: 2)
        case .pvwr(let handle, let address, let data):
            var out: [UInt8] = []
            out.reserveCapacity(134)
            Hex.append(UInt64(handle), digits: 2, to: &out)
            Hex.append(UInt64(address), digits: 4, to: &out)
            for byte in data.bytes {
                Hex.append(UInt64(byte), digits: 2, to: &out)
            }
            return String(decoding: out, as: UTF8.self)
        case .pena(let handle, let priority):
            return Hex.string(UInt64(handle), digits: 2) + String(priority.rawValue)
        case .phinf(let handle, let option):
            let h = Hex.string(UInt64(handle), digits: 2)
            guard let option else { return h }
            return h + Hex.string(UInt64(option.rawValue), digits: 4)
        case .ver(let n):
            return String(n)
        case .getinfo(let name):
            return name
        case .bx(let option), .tx(let option):
            guard let option else { return "" }
            return Hex.string(UInt64(option.rawValue), digits: 4)
        case .beep(let count):
            return String(count)
        case .raw(_, let parameters):
            return parameters
        }
    }

    /// The bytes to send, ending with CR.
    ///
    /// Throws when the command cannot be written: a `.raw` name that is not uppercase letters and
    /// digits, parameters outside printable ASCII (a CR would end the command early), a `PHRQ`
    /// criteria string that is not 14 characters, an empty `GETINFO` name, or `.bare` form for a
    /// command with parameters.
    public func encoded(form: Form = .crc) throws(NDICommandError) -> [UInt8] {
        try self.validate()
        let name = Array(self.name.utf8)
        let parameters = Array(self.parameters.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(name.count + parameters.count + 6)
        out.append(contentsOf: name)
        switch form {
        case .crc:
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: parameters)
            out.append(contentsOf: NDICRC16.hexDigits(NDICRC16.checksum(out)))
        case .space:
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: parameters)
        case .bare:
            guard parameters.isEmpty else {
                throw NDICommandError(
                    .wrongParameterCount,
                    command: self.name,
                    "the bare form (name and CR only) cannot carry parameters \(quotedASCII(parameters))"
                )
            }
        }
        out.append(0x0D)
        return out
    }

    /// Checks that the command can be written (see `encoded(form:)`).
    public func validate() throws(NDICommandError) {
        switch self {
        case .phrq(let criteria):
            try Self.checkPHRQCriteria(Array(criteria.utf8))
        case .getinfo(let name):
            let bytes = Array(name.utf8)
            guard !bytes.isEmpty else {
                throw NDICommandError(.wrongParameterCount, command: "GETINFO", "the parameter name is empty")
            }
            try Self.checkPrintable(bytes, command: "GETINFO")
        case .raw(let name, let parameters):
            let nameBytes = Array(name.utf8)
            guard let first = nameBytes.first, Self.isUppercaseLetter(first),
                nameBytes.allSatisfy({ Self.isNameCharacter($0) })
            else {
                throw NDICommandError(
                    .invalidName,
                    command: nil,
                    "command name \(quotedASCII(nameBytes)) must be uppercase letters and digits starting with a letter"
                )
            }
            try Self.checkPrintable(Array(parameters.utf8), command: name)
        default:
            break
        }
    }

    static func isUppercaseLetter(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")
    }

    static func isNameCharacter(_ byte: UInt8) -> Bool {
        Self.isUppercaseLetter(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    static func checkPrintable(_ bytes: [UInt8], command: String) throws(NDICommandError) {
        if let bad = bytes.firstIndex(where: { $0 < 0x20 || $0 > 0x7E }) {
            throw NDICommandError(
                .invalidCharacter,
                command: command,
                "parameter byte \(bad) is \(quotedASCII([bytes[bad]])), not printable ASCII"
            )
        }
    }

    static func checkPHRQCriteria(_ bytes: [UInt8]) throws(NDICommandError) {
        guard bytes.count == 14 else {
            throw NDICommandError(
                .wrongParameterCount,
                command: "PHRQ",
                "criteria \(quotedASCII(bytes)) must be 14 characters (device 8, system 1, wired/wireless 1, port 2, channel 2), got \(bytes.count)"
            )
        }
        if let bad = bytes.firstIndex(where: { $0 <= 0x20 || $0 > 0x7E }) {
            throw NDICommandError(
                .invalidParameter,
                command: "PHRQ",
                "criteria character \(bad) is \(quotedASCII([bytes[bad]])), not a printable non-space character"
            )
        }
    }
}
