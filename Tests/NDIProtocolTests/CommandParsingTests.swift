import Geometry
import NDIProtocol
import Testing

@Suite struct CommandParsingTests {
    func parseError(_ s: String) -> NDICommandError? {
        #expect(throws: NDICommandError.self) { try NDICommand.parse(ascii(s)) }
    }

    @Test func acceptsAllThreeForms() throws {
        #expect(
            try NDICommand.parseReceived(ascii("INIT:E3A5\r")) == NDIReceivedCommand(command: .initialize, form: .crc)
        )
        #expect(
            try NDICommand.parseReceived(ascii("INIT \r")) == NDIReceivedCommand(command: .initialize, form: .space)
        )
        #expect(try NDICommand.parseReceived(ascii("INIT\r")) == NDIReceivedCommand(command: .initialize, form: .bare))
        // Without the CR too, and with a lowercase CRC.
        #expect(try NDICommand.parse(ascii("INIT:e3a5")) == .initialize)
        #expect(
            try NDICommand.parseReceived(ascii("BX 0801\r"))
                == NDIReceivedCommand(command: .bx(.transformsAllVolumes), form: .space)
        )
        #expect(try NDICommand.parse(ascii("TSTART\r")) == .tstart)
    }

    /// Every captured command of `protocols.md` §1.1 parses to the typed command.
    @Test(
        arguments: [
            ("INIT:E3A5\r", NDICommand.initialize),
            ("COMM:500000048\r", .comm(baud: .b115200)),
            ("PHSR:01E03E\r", .phsr(.toBeFreed)),
            ("PHRQ:*********1****A4C1\r", .phrq(criteria: "*********1****")),
            ("PHSR:02E17E\r", .phsr(.notInitialized)),
            ("PINIT:0131EA\r", .pinit(handle: 1)),
            ("PHSR:0321BF\r", .phsr(.notEnabled)),
            ("PENA:01D6D3B\r", .pena(handle: 1, priority: .dynamic)),
            ("VER:065EE\r", .ver(0)),
            ("TSTART:5423\r", .tstart),
            ("BX:080100EC\r", .bx(.transformsAllVolumes)),
            ("TX:0801C19B\r", .tx(.transformsAllVolumes)),
            ("TSTOP:2C14\r", .tstop),
            ("GETINFO:Features.Firmware.Version0492\r", .getinfo("Features.Firmware.Version")),
            (
                "PVWR:010000" + String(repeating: "0", count: 128) + "E5DE\r",
                .pvwr(handle: 1, address: 0, data: NDIROMChunk([UInt8](repeating: 0, count: 64))!)
            ),
        ] as [(String, NDICommand)]
    )
    func parsesCapturedCommands(wire: String, command: NDICommand) throws {
        #expect(try NDICommand.parse(ascii(wire)) == command)
    }

    @Test func everyModelledCommandRoundTripsInEveryForm() throws {
        var rng = SplitMix64(seed: 7)
        let data = NDIROMChunk((0..<64).map { _ in UInt8(truncatingIfNeeded: rng.next()) })!
        let commands: [NDICommand] = [
            .initialize, .comm(baud: .b230400, dataBits: .seven, parity: .odd, stopBits: .two, handshake: true),
            .comm(baud: .b1228739), .phsr(.all), .phsr(NDIPortHandleFilter(rawValue: 0xAB)), .phrq(),
            .phrq(criteria: "12345678011A01"), .phf(handle: 0xFE), .pvwr(handle: 0x10, address: 0x0380, data: data),
            .pinit(handle: 0x0D), .pena(handle: 0x03, priority: .buttonBox), .phinf(handle: 0x01, option: nil),
            .phinf(handle: 0x01, option: [.basic, .gpioStatus]), .ver(255), .getinfo("Param.Tracking.*"), .tstart,
            .tstop, .bx(nil), .bx(NDIReplyOption(rawValue: 0x180F)), .tx(nil), .tx(.transformsAllVolumes), .beep(9),
            .raw(name: "IRATE", parameters: "1"), .raw(name: "SFLIST", parameters: "00"),
            .raw(name: "DSTART", parameters: ""),
        ]
        for command in commands {
            #expect(
                try NDICommand.parseReceived(command.encoded(form: .crc))
                    == NDIReceivedCommand(command: command, form: .crc)
            )
            #expect(
                try NDICommand.parseReceived(command.encoded(form: .space))
                    == NDIReceivedCommand(command: command, form: .space)
            )
            if command.parameters.isEmpty {
                #expect(
                    try NDICommand.parseReceived(command.encoded(form: .bare))
                        == NDIReceivedCommand(command: command, form: .bare)
                )
            }
        }
    }

    @Test func badCRCIsATypedErrorAnsweredWithError04() throws {
        let e = try #require(self.parseError("INIT:E3A6\r"))
        #expect(e.kind == .badCRC)
        #expect(e.replyCode == .badCommandCRC)
        #expect(e.replyCode.rawValue == 0x04)
        #expect(e.description == "INIT: CRC E3A6 does not match computed E3A5")
        #expect(self.parseError("BX:080100ED\r")?.description == "BX: CRC 00ED does not match computed 00EC")
        // A parameter changed under an intact CRC.
        #expect(self.parseError("PHSR:02E03E\r")?.description == "PHSR: CRC E03E does not match computed E17E")
        #expect(
            self.parseError("INIT:\r")?.description
                == #"INIT: expected 4 CRC hex digits after ':', got 0 characters in "INIT:""#
        )
        #expect(self.parseError("INIT:E3\r")?.kind == .badCRC)
        #expect(self.parseError("INIT:E3G5\r")?.description == #"INIT: CRC "E3G5" is not 4 hex digits (computed E3A5)"#)
    }

    @Test func wrongParametersAreReportedClearly() {
        #expect(
            self.parseError("INIT 01\r")?.description
                == #"INIT: expected no parameters, got 2 parameter characters "01""#
        )
        #expect(self.parseError("INIT 01\r")?.replyCode == .wrongNumberOfParameters)
        #expect(self.parseError("PENA 01X\r")?.description == #"PENA: tracking priority "X" is not S, D or B"#)
        #expect(self.parseError("PENA 01X\r")?.replyCode == .invalidMode)
        #expect(self.parseError("PENA 01\r")?.kind == .wrongParameterCount)
        #expect(self.parseError("PENA 0GD\r")?.description == #"PENA: port handle "0G" is not 2 hex digits"#)
        #expect(self.parseError("PENA 0GD\r")?.replyCode == .parameterOutOfRange)
        #expect(self.parseError("COMM 9000\r")?.kind == .wrongParameterCount)
        #expect(self.parseError("COMM 90000\r")?.description == #"COMM: baud code "9" is not one of 0-7 or A"#)
        #expect(
            self.parseError("COMM 52000\r")?.description == #"COMM: data bits code "2" is not 0 (8 bits) or 1 (7 bits)"#
        )
        #expect(
            self.parseError("COMM 50300\r")?.description
                == #"COMM: parity code "3" is not 0 (none), 1 (odd) or 2 (even)"#
        )
        #expect(
            self.parseError("COMM 50020\r")?.description == #"COMM: stop bits code "2" is not 0 (1 bit) or 1 (2 bits)"#
        )
        #expect(self.parseError("COMM 50002\r")?.description == #"COMM: handshake code "2" is not 0 (off) or 1 (on)"#)
        #expect(
            self.parseError("PHSR\r")?.description
                == #"PHSR: expected the 2 hex digit reply option, got 0 parameter characters """#
        )
        #expect(self.parseError("PHF 1\r")?.kind == .wrongParameterCount)
        #expect(self.parseError("PINIT 0x\r")?.kind == .invalidParameter)
        #expect(self.parseError("PHINF 0100\r")?.kind == .wrongParameterCount)
        #expect(self.parseError("PHINF 01000Z\r")?.description == #"PHINF: reply option "000Z" is not 4 hex digits"#)
        #expect(
            self.parseError("BX 801\r")?.description
                == #"BX: expected nothing or a 4 hex digit reply option, got 3 parameter characters "801""#
        )
        #expect(self.parseError("TX 08O1\r")?.kind == .invalidParameter)
        #expect(self.parseError("VER\r")?.kind == .wrongParameterCount)
        #expect(
            self.parseError("VER 256\r")?.description
                == #"VER: processor number "256" is not a decimal number from 0 to 255"#
        )
        #expect(self.parseError("VER A\r")?.kind == .invalidParameter)
        #expect(self.parseError("BEEP 1000\r")?.kind == .wrongParameterCount)
        #expect(self.parseError("GETINFO\r")?.kind == .wrongParameterCount)
        #expect(self.parseError("PHRQ *********1***\r")?.kind == .wrongParameterCount)
        #expect(self.parseError("PVWR 010000\r")?.kind == .wrongParameterCount)
        #expect(
            self.parseError("PVWR 010000" + String(repeating: "0", count: 127) + "g\r")?.description
                == #"PVWR: data byte 63 "0g" is not 2 hex digits"#
        )
    }

    @Test func malformedNamesAndCharacters() {
        #expect(self.parseError("\r")?.kind == .empty)
        #expect(self.parseError("\r")?.replyCode == .commandTooShort)
        #expect(
            self.parseError("init\r")?.description
                == #""init" does not start with a command name (uppercase letters and digits)"#
        )
        #expect(self.parseError("init\r")?.replyCode == .invalidCommand)
        #expect(self.parseError(":E3A5\r")?.kind == .invalidName)
        #expect(self.parseError("1NIT\r")?.kind == .invalidName)
        #expect(
            self.parseError("INIT;\r")?.description
                == #"command name "INIT" is followed by ";", not ':', a space or the end"#
        )
        #expect(self.parseError("INIT\n\r")?.description == #"byte 4 of "INIT\n" is not printable ASCII"#)
        #expect(self.parseError("INIT\n\r")?.replyCode == .invalidCommand)
    }

    @Test func unknownNamesBecomeRaw() throws {
        #expect(try NDICommand.parse(ascii("APIREV \r")) == .raw(name: "APIREV", parameters: ""))
        #expect(try NDICommand.parse(ascii("IRATE 2\r")) == .raw(name: "IRATE", parameters: "2"))
        let withCRC = try NDICommand.raw(name: "SSTAT", parameters: "0001").encoded()
        #expect(try NDICommand.parse(withCRC) == .raw(name: "SSTAT", parameters: "0001"))
    }

    // MARK: - Command framer

    @Test func framerSplitsCommandsAndNamesStreamOffsets() throws {
        let stream = ascii("INIT:E3A5\rPHSR:01E03F\rTSTART\rBX:080100EC\r")
        for sizes in [[1], [stream.count], [3, 7, 2], [5]] {
            var framer = NDICommandFramer()
            var results: [Result<NDIReceivedCommand, NDICommandError>] = []
            var i = 0
            var k = 0
            while i < stream.count {
                let n = sizes[k % sizes.count]
                framer.feed(stream[i..<min(stream.count, i + n)])
                i += n
                k += 1
                while let r = framer.next() {
                    results.append(r)
                }
            }
            #expect(results.count == 4)
            #expect(try results[0].get() == NDIReceivedCommand(command: .initialize, form: .crc))
            guard case .failure(let e) = results[1] else {
                Issue.record("expected a CRC error")
                continue
            }
            #expect(e.streamOffset == 10)
            #expect(e.description == "command at stream byte 10: PHSR: CRC E03F does not match computed E03E")
            #expect(e.replyCode == .badCommandCRC)
            #expect(try results[2].get() == NDIReceivedCommand(command: .tstart, form: .bare))
            #expect(try results[3].get() == NDIReceivedCommand(command: .bx(.transformsAllVolumes), form: .crc))
            #expect(framer.streamOffset == stream.count)
        }
    }

    @Test func framerReportsOverlongCommandsOnceAndRecovers() {
        let long = ascii(String(repeating: "A", count: 40))
        let stream = long + [0x0D] + ascii("INIT:E3A5\r")
        for chunk in [1, 4, stream.count] {
            var framer = NDICommandFramer(maximumLength: 16)
            var results: [Result<NDIReceivedCommand, NDICommandError>] = []
            var i = 0
            while i < stream.count {
                framer.feed(stream[i..<min(stream.count, i + chunk)])
                i += chunk
                while let r = framer.next() {
                    results.append(r)
                }
            }
            #expect(results.count == 2)
            if case .failure(let e) = results.first {
                #expect(e.kind == .tooLong)
                #expect(e.replyCode == .commandTooLong)
                #expect(e.description == "command at stream byte 0: longer than 16 bytes (no CR within the limit)")
            } else {
                Issue.record("expected tooLong")
            }
            if case .success(let c) = results.last {
                #expect(c.command == .initialize)
            } else {
                Issue.record("expected INIT")
            }
        }
    }
}
