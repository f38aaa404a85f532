import NDIProtocol
import Testing

@Suite struct CommandEncodingTests {
    /// Every command ndicapi was captured sending in `protocols.md` §1.1, plus the serial probe's
    /// literals and the TX vector of §1.2.
    @Test(
        arguments: [
            (NDICommand.initialize, "INIT:E3A5\r"),
            (.comm(baud: .b115200), "COMM:500000048\r"),
            (.phsr(.toBeFreed), "PHSR:01E03E\r"),
            (.phrq(), "PHRQ:*********1****A4C1\r"),
            (.phsr(.notInitialized), "PHSR:02E17E\r"),
            (.pinit(handle: 0x01), "PINIT:0131EA\r"),
            (.phsr(.notEnabled), "PHSR:0321BF\r"),
            (.pena(handle: 0x01, priority: .dynamic), "PENA:01D6D3B\r"),
            (.ver(0), "VER:065EE\r"),
            (.tstart, "TSTART:5423\r"),
            (.bx(.transformsAllVolumes), "BX:080100EC\r"),
            (.tx(.transformsAllVolumes), "TX:0801C19B\r"),
            (.tstop, "TSTOP:2C14\r"),
            (.getinfo("Features.Firmware.Version"), "GETINFO:Features.Firmware.Version0492\r"),
            (.comm(baud: .b9600), "COMM:000000084\r"),
        ] as [(NDICommand, String)]
    )
    func referenceCommandBytes(command: NDICommand, wire: String) throws {
        #expect(try command.encoded() == ascii(wire))
    }

    @Test func pvwrWithZeroDataMatchesTheCapturedCRC() throws {
        // Captured: PVWR:01 0000 + 128 zero digits + E5DE.
        let command = NDICommand.pvwr(
            handle: 0x01,
            address: 0x0000,
            data: NDIROMChunk([UInt8](repeating: 0, count: 64))!
        )
        let expected = ascii("PVWR:010000" + String(repeating: "0", count: 128) + "E5DE\r")
        #expect(try command.encoded() == expected)
    }

    @Test func pvwrWritesDataAsUppercaseHexInOrder() throws {
        let data = (0..<64).map { UInt8($0 * 4 + 3) }
        let command = NDICommand.pvwr(handle: 0xA2, address: 0x03C0, data: NDIROMChunk(data)!)
        let wire = try command.encoded()
        let text = String(decoding: wire, as: UTF8.self)
        #expect(text.hasPrefix("PVWR:A203C003070B0F"))
        #expect(
            text.hasSuffix(
                "F3F7FBFF" + String(decoding: NDICRC16.hexDigits(NDICRC16.checksum(wire.dropLast(5))), as: UTF8.self)
                    + "\r"
            )
        )
        #expect(wire.count == 5 + 134 + 4 + 1)
        #expect(NDIROMChunk([1, 2, 3]) == nil)
    }

    @Test func romIsWrittenAsSixteenZeroPaddedChunks() throws {
        let rom = (0..<100).map { UInt8($0) }
        let commands = try #require(NDIROMChunk.pvwrCommands(handle: 0x0B, rom: rom))
        #expect(commands.count == 16)
        #expect(
            commands.map { command -> UInt16 in
                guard case .pvwr(_, let address, _) = command else { return 0xFFFF }
                return address
            } == (0..<16).map { UInt16($0 * 64) }
        )
        guard case .pvwr(let h, _, let second) = commands[1], case .pvwr(_, _, let third) = commands[2] else {
            Issue.record("not PVWR")
            return
        }
        #expect(h == 0x0B)
        #expect(second.bytes == (64..<100).map { UInt8($0) } + [UInt8](repeating: 0, count: 28))
        #expect(third.bytes == [UInt8](repeating: 0, count: 64))
        #expect(NDIROMChunk.pvwrCommands(handle: 1, rom: [UInt8](repeating: 0, count: 1025)) == nil)
    }

    /// The COMM digit table of `protocols.md` §1.3 step 4, including `A` for 230400.
    @Test func commDigitTable() throws {
        let expected: [(NDIBaudRate, Character, Int)] = [
            (.b9600, "0", 9600), (.b14400, "1", 14400), (.b19200, "2", 19200), (.b38400, "3", 38400),
            (.b57600, "4", 57600), (.b115200, "5", 115_200), (.b921600, "6", 921_600), (.b1228739, "7", 1_228_739),
            (.b230400, "A", 230_400),
        ]
        for (rate, code, bps) in expected {
            #expect(rate.code == code)
            #expect(rate.bitsPerSecond == bps)
            #expect(NDIBaudRate(code: code) == rate)
            #expect(NDIBaudRate(bitsPerSecond: bps) == rate)
            #expect(NDICommand.comm(baud: rate).parameters == "\(code)0000")
        }
        #expect(NDIBaudRate(code: "8") == nil)
        #expect(NDIBaudRate(bitsPerSecond: 4800) == nil)
        #expect(
            NDICommand.comm(baud: .b230400, dataBits: .seven, parity: .even, stopBits: .two, handshake: true).parameters
                == "A1211"
        )
        #expect(NDICommand.comm(baud: .b57600, parity: .odd).parameters == "40100")
        let a = try NDICommand.comm(baud: .b230400).encoded()
        #expect(a == ascii("COMM:A0000") + NDICRC16.hexDigits(NDICRC16.checksum(ascii("COMM:A0000"))) + [0x0D])
    }

    @Test func parameterFormatsOfEveryCommand() {
        #expect(NDICommand.phf(handle: 0x0A).parameters == "0A")
        #expect(NDICommand.phinf(handle: 0x01, option: .basic).parameters == "010001")
        #expect(
            NDICommand.phinf(handle: 0xFF, option: [.basic, .partNumber, .markerType, .portLocation]).parameters
                == "FF0035"
        )
        #expect(NDICommand.phinf(handle: 0x02, option: nil).parameters == "02")
        #expect(NDICommand.bx(nil).parameters == "")
        #expect(NDICommand.bx([.transformsAndStatus, .passiveStrays]).parameters == "1001")
        #expect(NDICommand.ver(4).parameters == "4")
        #expect(NDICommand.beep(3).parameters == "3")
        #expect(NDICommand.pena(handle: 0x0C, priority: .staticTool).parameters == "0CS")
        #expect(NDICommand.pena(handle: 0x0C, priority: .buttonBox).parameters == "0CB")
        #expect(NDICommand.phsr(.all).parameters == "00")
        #expect(NDICommand.phsr(.enabled).parameters == "04")
        #expect(NDICommand.raw(name: "APIREV", parameters: "").name == "APIREV")
    }

    @Test func theOtherTwoForms() throws {
        #expect(try NDICommand.initialize.encoded(form: .space) == ascii("INIT \r"))
        #expect(try NDICommand.initialize.encoded(form: .bare) == ascii("INIT\r"))
        #expect(try NDICommand.bx(.transformsAllVolumes).encoded(form: .space) == ascii("BX 0801\r"))
        #expect(
            try NDICommand.raw(name: "IRATE", parameters: "2").encoded() == ascii("IRATE:2")
                + NDICRC16.hexDigits(NDICRC16.checksum(ascii("IRATE:2"))) + [0x0D]
        )
        let error = #expect(throws: NDICommandError.self) {
            try NDICommand.bx(.transformsAllVolumes).encoded(form: .bare)
        }
        #expect(error?.kind == .wrongParameterCount)
    }

    @Test func unencodableCommandsAreRefused() {
        func failure(_ command: NDICommand) -> NDICommandError? {
            #expect(throws: NDICommandError.self) { try command.encoded() }
        }
        #expect(failure(.getinfo("a\rb"))?.description == #"GETINFO: parameter byte 1 is "\r", not printable ASCII"#)
        #expect(failure(.getinfo(""))?.kind == .wrongParameterCount)
        #expect(failure(.phrq(criteria: "*****"))?.kind == .wrongParameterCount)
        #expect(failure(.phrq(criteria: "******** *1****"))?.kind == .wrongParameterCount)
        #expect(failure(.phrq(criteria: "******** 1****"))?.kind == .invalidParameter)
        #expect(failure(.raw(name: "init", parameters: ""))?.kind == .invalidName)
        #expect(failure(.raw(name: "", parameters: ""))?.kind == .invalidName)
        #expect(failure(.raw(name: "1NIT", parameters: ""))?.kind == .invalidName)
        #expect(failure(.raw(name: "SET", parameters: "x\u{7F}"))?.kind == .invalidCharacter)
    }
}
