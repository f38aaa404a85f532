/// A tracker's reply to a command, interpreted.
///
/// Host side: `NDIReply.parse(_:command:)` turns a frame from `NDIReplyFramer` into one of these,
/// knowing which command it answers. Tracker side: `encoded(for:)` writes the bytes a tracker
/// sends for it.
///
/// Any command can be answered with `ERRORxx` (`.error`), and a tracker announces a reset with
/// `RESET` (`.reset`) at any time; the other cases depend on the command:
///
/// | command | reply |
/// |---|---|
/// | INIT, COMM, PHF, PVWR, PINIT, PENA, TSTART, TSTOP | `.okay` |
/// | PHSR | `.portHandles` |
/// | PHRQ | `.portHandle` |
/// | PHINF | `.portInfo` |
/// | VER | `.version` |
/// | BX (binary), TX (ASCII) | `.tracking` |
/// | GETINFO, BEEP, raw | `.okay` if the text is `OKAY`, else `.text` |
public enum NDIReply: Equatable, Sendable {
    /// `OKAY`.
    case okay
    /// `ERRORxx`.
    case error(NDIErrorCode)
    /// `RESET`: the tracker has reset (after a serial break, or unsolicited over TCP).
    case reset
    /// PHSR: the listed handles and their status.
    case portHandles(NDIPortHandleList)
    /// PHRQ: the handle assigned.
    case portHandle(UInt8)
    /// PHINF: information about a handle.
    case portInfo(NDIPortInfo)
    /// VER: firmware version text.
    case version(NDIVersionInfo)
    /// BX or TX: tracking data.
    case tracking(NDITrackingReply)
    /// Text of a reply this codec does not interpret (GETINFO, BEEP, raw commands).
    case text(String)

    /// Interprets a framed reply as the answer to `command`.
    ///
    /// Throws `.unexpectedReply` when the reply cannot answer the command (a binary frame to
    /// anything but BX, text other than `OKAY` to INIT, …) and `.malformed` when its content
    /// breaks the layout; both name the reply's stream offset and the offending byte.
    public static func parse(_ frame: NDIReplyFrame, command: NDICommand) throws(NDIReplyError) -> NDIReply {
        if frame.kind == .binary {
            guard case .bx(let option) = command else {
                throw NDIReplyError(
                    .unexpectedReply,
                    replyName: command.name,
                    replyStreamOffset: frame.streamOffset,
                    offsetInReply: 0,
                    "a binary (BX) reply cannot answer \(command.name)"
                )
            }
            return .tracking(try NDITrackingReply.parseBX(frame, option: option))
        }
        let payload = frame.payload
        if payload.elementsEqual("RESET".utf8) {
            return .reset
        }
        if payload.count == 7, payload.starts(with: "ERROR".utf8), let code = Hex.parse(payload.dropFirst(5)) {
            return .error(NDIErrorCode(rawValue: UInt8(code)))
        }
        let isOkay = payload.elementsEqual("OKAY".utf8)
        switch command {
        case .initialize, .comm, .phf, .pvwr, .pinit, .pena, .tstart, .tstop:
            guard isOkay else {
                throw NDIReplyError(
                    .unexpectedReply,
                    replyName: command.name,
                    replyStreamOffset: frame.streamOffset,
                    offsetInReply: 0,
                    "expected OKAY, ERRORxx or RESET, got \(quotedASCII(payload))"
                )
            }
            return .okay
        case .phsr:
            return .portHandles(try NDIPortHandleList.parse(frame))
        case .phrq:
            var reader = TextReader(frame: frame, replyName: "PHRQ")
            let handle = UInt8(try reader.hex(2, "port handle"))
            try reader.expectEnd()
            return .portHandle(handle)
        case .phinf(_, let option):
            return .portInfo(try NDIPortInfo.parse(frame, option: option))
        case .ver:
            return .version(NDIVersionInfo(text: frame.text))
        case .tx(let option):
            return .tracking(try NDITrackingReply.parseTX(frame, option: option))
        case .bx:
            throw NDIReplyError(
                .unexpectedReply,
                replyName: "BX",
                replyStreamOffset: frame.streamOffset,
                offsetInReply: 0,
                "expected a binary reply, ERRORxx or RESET, got \(quotedASCII(payload))"
            )
        case .getinfo, .beep, .raw:
            return isOkay ? .okay : .text(frame.text)
        }
    }

    /// The bytes a tracker sends for this reply to `command` (tracker side).
    ///
    /// `command` supplies the reply option of BX, TX and PHINF, and chooses between BX (binary)
    /// and TX (ASCII) for `.tracking`. Throws when the reply cannot be written for that command
    /// (`.tracking` for a command other than BX or TX, `.portInfo` for one other than PHINF) or
    /// when its values do not fit the format.
    public func encoded(for command: NDICommand) throws(NDIEncodingError) -> [UInt8] {
        switch self {
        case .okay:
            return Self.asciiFrame(payload: Array("OKAY".utf8))
        case .error(let code):
            var payload = Array("ERROR".utf8)
            Hex.append(UInt64(code.rawValue), digits: 2, to: &payload)
            return Self.asciiFrame(payload: payload)
        case .reset:
            return Self.asciiFrame(payload: Array("RESET".utf8))
        case .portHandles(let list):
            return try list.encoded()
        case .portHandle(let handle):
            var payload: [UInt8] = []
            Hex.append(UInt64(handle), digits: 2, to: &payload)
            return Self.asciiFrame(payload: payload)
        case .portInfo(let info):
            guard case .phinf(_, let option) = command else {
                throw NDIEncodingError(replyName: command.name, "port information answers PHINF only")
            }
            return try info.encoded(option: option)
        case .version(let version):
            return try version.encoded()
        case .tracking(let tracking):
            switch command {
            case .bx(let option):
                return try tracking.encodeBX(option: option)
            case .tx(let option):
                return try tracking.encodeTX(option: option)
            default:
                throw NDIEncodingError(replyName: command.name, "tracking data answers BX or TX only")
            }
        case .text(let text):
            let bytes = Array(text.utf8)
            if let bad = bytes.first(where: { !($0 == 0x0A || $0 == 0x09 || ($0 >= 0x20 && $0 <= 0x7E)) }) {
                throw NDIEncodingError(
                    replyName: command.name,
                    "byte \(Hex.display(UInt64(bad), digits: 2)) cannot be sent in an ASCII reply"
                )
            }
            return Self.asciiFrame(payload: bytes)
        }
    }

    /// An ASCII reply: `payload`, its CRC as 4 uppercase hex digits, and CR. `OKAY` gives
    /// `OKAYA896\r`. The payload is not checked.
    public static func asciiFrame(payload: [UInt8]) -> [UInt8] {
        var out = payload
        out.reserveCapacity(payload.count + 5)
        out.append(contentsOf: NDICRC16.hexDigits(NDICRC16.checksum(payload)))
        out.append(0x0D)
        return out
    }
}
