/// A command as a tracker received it: what it asks, and in which of the three forms it came.
public struct NDIReceivedCommand: Hashable, Sendable {
    /// The command.
    public var command: NDICommand
    /// `.crc` (`NAME:…CRC`, CRC checked), `.space` (`NAME …`) or `.bare` (`NAME`).
    public var form: NDICommand.Form

    public init(command: NDICommand, form: NDICommand.Form) {
        self.command = command
        self.form = form
    }
}

extension NDICommand {
    /// Parses one command as a tracker receives it (tracker side).
    ///
    /// `bytes` is one command, with or without its final CR. All three forms are accepted:
    /// - `NAME:PARAMS` + 4 hex CRC digits (either case): the CRC over `NAME:PARAMS` is checked;
    /// - `NAME PARAMS`: no CRC;
    /// - `NAME`: no parameters, no CRC.
    ///
    /// Names this codec models become typed cases, with their parameters checked; any other
    /// well-formed name becomes `.raw(name:parameters:)`, for the caller to accept or answer
    /// `ERROR01`. Errors carry the `ERRORxx` code to answer (`NDICommandError.replyCode`).
    public static func parse(_ bytes: some Collection<UInt8>) throws(NDICommandError) -> NDICommand {
        try Self.parseReceived(bytes).command
    }

    /// Like `parse(_:)`, and also says which form the command came in.
    public static func parseReceived(_ bytes: some Collection<UInt8>) throws(NDICommandError) -> NDIReceivedCommand {
        var line = Array(bytes)
        if line.last == 0x0D {
            line.removeLast()
        }
        guard !line.isEmpty else {
            throw NDICommandError(.empty, command: nil, "empty command (nothing before the CR)")
        }
        if let bad = line.firstIndex(where: { $0 < 0x20 || $0 > 0x7E }) {
            throw NDICommandError(
                .invalidCharacter,
                command: nil,
                "byte \(bad) of \(quotedASCII(line)) is not printable ASCII"
            )
        }
        var nameEnd = 0
        while nameEnd < line.count, Self.isNameCharacter(line[nameEnd]) {
            nameEnd += 1
        }
        guard nameEnd > 0, Self.isUppercaseLetter(line[0]) else {
            throw NDICommandError(
                .invalidName,
                command: nil,
                "\(quotedASCII(line)) does not start with a command name (uppercase letters and digits)"
            )
        }
        let name = String(decoding: line[0..<nameEnd], as: UTF8.self)
        let form: Form
        let parameters: ArraySlice<UInt8>
        if nameEnd == line.count {
            form = .bare
            parameters = []
        } else if line[nameEnd] == UInt8(ascii: " ") {
            form = .space
            parameters = line[(nameEnd + 1)...]
        } else if line[nameEnd] == UInt8(ascii: ":") {
            form = .crc
            let afterColon = line.count - nameEnd - 1
            guard afterColon >= 4 else {
                throw NDICommandError(
                    .badCRC,
                    command: name,
                    "expected 4 CRC hex digits after ':', got \(afterColon) characters in \(quotedASCII(line))"
                )
            }
            let crcStart = line.count - 4
            let computed = NDICRC16.checksum(line[0..<crcStart])
            guard let received = Hex.parse(line[crcStart...]) else {
                throw NDICommandError(
                    .badCRC,
                    command: name,
                    "CRC \(quotedASCII(line[crcStart...])) is not 4 hex digits (computed \(Hex.string(UInt64(computed), digits: 4)))"
                )
            }
            guard received == UInt64(computed) else {
                throw NDICommandError(
                    .badCRC,
                    command: name,
                    "CRC \(Hex.string(received, digits: 4)) does not match computed \(Hex.string(UInt64(computed), digits: 4))"
                )
            }
            parameters = line[(nameEnd + 1)..<crcStart]
        } else {
            throw NDICommandError(
                .invalidName,
                command: nil,
                "command name \(quotedASCII(line[0..<nameEnd])) is followed by \(quotedASCII([line[nameEnd]])), not ':', a space or the end"
            )
        }
        let command = try Self.parseParameters(name: name, Array(parameters))
        return NDIReceivedCommand(command: command, form: form)
    }

    // MARK: - Parameters

    private static func parseParameters(name: String, _ p: [UInt8]) throws(NDICommandError) -> NDICommand {
        switch name {
        case "INIT":
            try Self.expectNoParameters(p, name)
            return .initialize
        case "TSTART":
            try Self.expectNoParameters(p, name)
            return .tstart
        case "TSTOP":
            try Self.expectNoParameters(p, name)
            return .tstop
        case "COMM":
            try Self.expectLength(p, 5, name, "baud, data bits, parity, stop bits, handshake (e.g. 50000)")
            let chars = p.map { Character(Unicode.Scalar($0)) }
            guard let baud = NDIBaudRate(code: chars[0]) else {
                throw Self.invalid(name, "baud code \(quotedASCII([p[0]])) is not one of 0-7 or A")
            }
            guard let dataBits = NDIDataBits(rawValue: chars[1]) else {
                throw Self.invalid(name, "data bits code \(quotedASCII([p[1]])) is not 0 (8 bits) or 1 (7 bits)")
            }
            guard let parity = NDIParity(rawValue: chars[2]) else {
                throw Self.invalid(name, "parity code \(quotedASCII([p[2]])) is not 0 (none), 1 (odd) or 2 (even)")
            }
            guard let stopBits = NDIStopBits(rawValue: chars[3]) else {
                throw Self.invalid(name, "stop bits code \(quotedASCII([p[3]])) is not 0 (1 bit) or 1 (2 bits)")
            }
            guard p[4] == UInt8(ascii: "0") || p[4] == UInt8(ascii: "1") else {
                throw Self.invalid(name, "handshake code \(quotedASCII([p[4]])) is not 0 (off) or 1 (on)")
            }
            return .comm(
                baud: baud,
                dataBits: dataBits,
                parity: parity,
                stopBits: stopBits,
                handshake: p[4] == UInt8(ascii: "1")
            )
        case "PHSR":
            try Self.expectLength(p, 2, name, "the 2 hex digit reply option")
            return .phsr(NDIPortHandleFilter(rawValue: try Self.hexByte(p[0..<2], name, "reply option")))
        case "PHRQ":
            try Self.checkPHRQCriteria(p)
            return .phrq(criteria: String(decoding: p, as: UTF8.self))
        case "PHF":
            try Self.expectLength(p, 2, name, "the 2 hex digit port handle")
            return .phf(handle: try Self.hexByte(p[0..<2], name, "port handle"))
        case "PINIT":
            try Self.expectLength(p, 2, name, "the 2 hex digit port handle")
            return .pinit(handle: try Self.hexByte(p[0..<2], name, "port handle"))
        case "PVWR":
            try Self.expectLength(p, 134, name, "port handle (2 hex), address (4 hex) and 64 data bytes (128 hex)")
            let handle = try Self.hexByte(p[0..<2], name, "port handle")
            let address = try Self.hexWord(p[2..<6], name, "address")
            var data: [UInt8] = []
            data.reserveCapacity(64)
            for i in 0..<64 {
                let at = 6 + 2 * i
                data.append(try Self.hexByte(p[at..<(at + 2)], name, "data byte \(i)"))
            }
            return .pvwr(handle: handle, address: address, data: NDIROMChunk(data)!)
        case "PENA":
            try Self.expectLength(p, 3, name, "port handle (2 hex) and tracking priority (S, D or B)")
            let handle = try Self.hexByte(p[0..<2], name, "port handle")
            guard let priority = NDITrackingPriority(rawValue: Character(Unicode.Scalar(p[2]))) else {
                throw NDICommandError(
                    .invalidMode,
                    command: name,
                    "tracking priority \(quotedASCII([p[2]])) is not S, D or B"
                )
            }
            return .pena(handle: handle, priority: priority)
        case "PHINF":
            guard p.count == 2 || p.count == 6 else {
                throw Self.wrongCount(p, name, "port handle (2 hex) and optionally a reply option (4 hex)")
            }
            let handle = try Self.hexByte(p[0..<2], name, "port handle")
            let option =
                p.count == 6 ? NDIPortInfoOption(rawValue: try Self.hexWord(p[2..<6], name, "reply option")) : nil
            return .phinf(handle: handle, option: option)
        case "VER":
            return .ver(try Self.decimalByte(p, name, "processor number"))
        case "BEEP":
            return .beep(try Self.decimalByte(p, name, "number of beeps"))
        case "GETINFO":
            guard !p.isEmpty else {
                throw Self.wrongCount(p, name, "a parameter name")
            }
            return .getinfo(String(decoding: p, as: UTF8.self))
        case "BX", "TX":
            guard p.isEmpty || p.count == 4 else {
                throw Self.wrongCount(p, name, "nothing or a 4 hex digit reply option")
            }
            let option = p.isEmpty ? nil : NDIReplyOption(rawValue: try Self.hexWord(p[0..<4], name, "reply option"))
            return name == "BX" ? .bx(option) : .tx(option)
        default:
            return .raw(name: name, parameters: String(decoding: p, as: UTF8.self))
        }
    }

    private static func expectNoParameters(_ p: [UInt8], _ name: String) throws(NDICommandError) {
        guard p.isEmpty else {
            throw Self.wrongCount(p, name, "no parameters")
        }
    }

    private static func expectLength(_ p: [UInt8], _ count: Int, _ name: String, _ what: String) throws(NDICommandError)
    {
        guard p.count == count else {
            throw Self.wrongCount(p, name, what)
        }
    }

    private static func wrongCount(_ p: [UInt8], _ name: String, _ what: String) -> NDICommandError {
        NDICommandError(
            .wrongParameterCount,
            command: name,
            "expected \(what), got \(p.count) parameter characters \(quotedASCII(p))"
        )
    }

    private static func invalid(_ name: String, _ message: String) -> NDICommandError {
        NDICommandError(.invalidParameter, command: name, message)
    }

    private static func hexByte(_ p: ArraySlice<UInt8>, _ name: String, _ what: String) throws(NDICommandError) -> UInt8
    {
        guard let v = Hex.parse(p) else {
            throw Self.invalid(name, "\(what) \(quotedASCII(p)) is not \(p.count) hex digits")
        }
        return UInt8(v)
    }

    private static func hexWord(_ p: ArraySlice<UInt8>, _ name: String, _ what: String) throws(NDICommandError)
        -> UInt16
    {
        guard let v = Hex.parse(p) else {
            throw Self.invalid(name, "\(what) \(quotedASCII(p)) is not \(p.count) hex digits")
        }
        return UInt16(v)
    }

    private static func decimalByte(_ p: [UInt8], _ name: String, _ what: String) throws(NDICommandError) -> UInt8 {
        guard !p.isEmpty, p.count <= 3 else {
            throw Self.wrongCount(p, name, "the \(what) in decimal (1 to 3 digits)")
        }
        guard let v = Hex.parseDecimal(p), v <= 255 else {
            throw Self.invalid(name, "\(what) \(quotedASCII(p)) is not a decimal number from 0 to 255")
        }
        return UInt8(v)
    }
}
