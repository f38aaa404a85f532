import NDIProtocol
import Testing

@Suite struct ReplyTests {
    func reply(_ payload: String) -> [UInt8] {
        NDIReply.asciiFrame(payload: ascii(payload))
    }

    func parse(_ bytes: [UInt8], _ command: NDICommand) throws -> NDIReply {
        try NDIReply.parse(#require(singleFrame(bytes)), command: command)
    }

    func parseError(_ bytes: [UInt8], _ command: NDICommand) -> NDIReplyError? {
        guard let frame = singleFrame(bytes) else {
            Issue.record("did not frame")
            return nil
        }
        return #expect(throws: NDIReplyError.self) { try NDIReply.parse(frame, command: command) }
    }

    @Test func okayErrorAndResetLiterals() throws {
        #expect(try NDIReply.okay.encoded(for: .initialize) == ascii("OKAYA896\r"))
        #expect(try NDIReply.reset.encoded(for: .initialize) == ascii("RESETBE6F\r"))
        #expect(try NDIReply.error(.badCommandCRC).encoded(for: .initialize) == ascii("ERROR046802\r"))
        #expect(try self.parse(ascii("OKAYA896\r"), .initialize) == .okay)
        #expect(try self.parse(ascii("RESETBE6F\r"), .initialize) == .reset)
        // ERROR and RESET can answer any command, BX included.
        for command in [
            NDICommand.initialize, .phsr(.all), .bx(.transformsAllVolumes), .tx(nil), .ver(0), .getinfo("X"),
        ] {
            #expect(try self.parse(ascii("ERROR046802\r"), command) == .error(.badCommandCRC))
            #expect(try self.parse(ascii("RESETBE6F\r"), command) == .reset)
        }
        #expect(try self.parse(self.reply("ERROR2e"), .tstart) == .error(NDIErrorCode(rawValue: 0x2E)))
        for command in [
            NDICommand.comm(baud: .b115200), .phf(handle: 1), .pinit(handle: 1), .pena(handle: 1, priority: .dynamic),
            .tstart, .tstop,
            .pvwr(handle: 1, address: 0, data: NDIROMChunk([UInt8](repeating: 0, count: 64))!),
        ] {
            #expect(try self.parse(ascii("OKAYA896\r"), command) == .okay)
        }
    }

    /// The error table of `protocols.md` §1.1, with numbers kept for unknown codes.
    @Test func errorCodeMeanings() {
        let table: [(UInt8, String)] = [
            (0x01, "invalid command"), (0x02, "command too long"), (0x03, "command too short"),
            (0x04, "bad command CRC"), (0x05, "internal timeout"), (0x06, "new comm parameters failed"),
            (0x07, "wrong number of parameters"), (0x08, "invalid port handle"),
            (0x09, "invalid mode (tracking priority must be S, D or B)"), (0x0C, "command invalid in the current mode"),
            (0x0D, "no tool in port"), (0x0E, "port not initialized"), (0x0F, "port not enabled"),
            (0x10, "system not initialized"), (0x11, "TSTOP failed"), (0x12, "TSTART failed"), (0x13, "PINIT failed"),
        ]
        for (code, meaning) in table {
            #expect(NDIErrorCode(rawValue: code).meaning == meaning)
        }
        #expect(NDIErrorCode.badCommandCRC.description == "0x04 bad command CRC")
        #expect(NDIErrorCode(rawValue: 0x42).description == "0x42 device not present")
        #expect(NDIErrorCode(rawValue: 0x2E).description == "0x2E (no documented meaning)")
        #expect(NDIErrorCode(rawValue: 0x18).meaning == nil)
        #expect(NDIErrorCode(rawValue: 0xFF).description == "0xFF (no documented meaning)")
    }

    /// The PHSR example of `protocols.md` §1.3.
    @Test func phsrReference() throws {
        let bytes = self.reply("020100102001")
        let expected = NDIPortHandleList(entries: [
            NDIPortHandleEntry(handle: 0x01, status: .occupied), NDIPortHandleEntry(handle: 0x02, status: .occupied),
        ])
        #expect(try self.parse(bytes, .phsr(.all)) == .portHandles(expected))
        #expect(expected.handles == [1, 2])
        #expect(try NDIReply.portHandles(expected).encoded(for: .phsr(.all)) == bytes)
        #expect(try self.parse(self.reply("00"), .phsr(.toBeFreed)) == .portHandles(NDIPortHandleList(entries: [])))
        let wide = NDIPortHandleList(entries: [NDIPortHandleEntry(handle: 0xFF, status: NDIPortStatus(rawValue: 0xABC))]
        )
        #expect(try wide.encoded() == self.reply("01FFABC"))
        #expect(throws: NDIEncodingError.self) {
            try NDIPortHandleList(entries: [NDIPortHandleEntry(handle: 1, status: NDIPortStatus(rawValue: 0x1000))])
                .encoded()
        }
        #expect(
            self.parseError(self.reply("0201001"), .phsr(.all))?.description
                == "PHSR reply at stream byte 0 (reply byte 7): the reply ends inside handle 2 of 2: needs 2 characters, 0 left"
        )
        #expect(
            self.parseError(self.reply("OKAY"), .phsr(.all))?.description
                == #"PHSR reply at stream byte 0 (reply byte 0): handle count "OK" is not 2 hex digits"#
        )
        #expect(self.parseError(self.reply("0101001FF"), .phsr(.all))?.kind == .malformed)
    }

    @Test func phrqReply() throws {
        #expect(try self.parse(self.reply("0A"), .phrq()) == .portHandle(0x0A))
        #expect(try NDIReply.portHandle(0x0A).encoded(for: .phrq()) == self.reply("0A"))
        #expect(self.parseError(self.reply("0A0"), .phrq())?.kind == .malformed)
        #expect(
            self.parseError(self.reply("Z1"), .phrq())?.description
                == #"PHRQ reply at stream byte 0 (reply byte 0): port handle "Z1" is not 2 hex digits"#
        )
    }

    @Test func phinfBasicAndOtherFields() throws {
        let basic = "01000000" + "NDI         " + "001" + "3A5C9E01" + "31"
        let payload = basic + "8700339             " + "29" + "00000000010A00"
        let option: NDIPortInfoOption = [.basic, .partNumber, .markerType, .portLocation]
        let reply = try self.parse(self.reply(payload), .phinf(handle: 1, option: option))
        guard case .portInfo(let info) = reply else {
            Issue.record("not port info: \(reply)")
            return
        }
        let b = try #require(info.basic)
        #expect(b.toolType == "01000000")
        #expect(b.mainType == 0x01)
        #expect(b.manufacturer == "NDI         ")
        #expect(b.revision == "001")
        #expect(b.serialNumber == "3A5C9E01")
        #expect(b.portStatus == [.occupied, .initialized, .enabled])
        #expect(info.partNumber == "8700339             ")
        #expect(info.markerType == 0x29)
        #expect(info.portLocation == "00000000010A00")
        #expect(info.currentTest == nil && info.accessories == nil && info.gpioStatus == nil && !info.isUnoccupied)
        // Encoding pads text fields on the right.
        var short = info
        short.basic?.manufacturer = "NDI"
        short.partNumber = "8700339"
        #expect(try short.encoded(option: option) == self.reply(payload))
        // Default option 0x0001.
        #expect(try self.parse(self.reply(basic), .phinf(handle: 1, option: nil)) == .portInfo(NDIPortInfo(basic: b)))
        // All documented fields.
        let all = NDIPortInfoOption(rawValue: 0x007F)
        let full = NDIPortInfo(
            basic: b,
            currentTest: 0xDEADBEEF,
            partNumber: "PN",
            accessories: 0x13,
            markerType: 0x28,
            portLocation: "12345678000102",
            gpioStatus: 0x07
        )
        let fullBytes = try full.encoded(option: all)
        #expect(
            fullBytes == self.reply(basic + "DEADBEEF" + "PN                  " + "13" + "28" + "12345678000102" + "07")
        )
        #expect(
            try self.parse(fullBytes, .phinf(handle: 1, option: all))
                == .portInfo(
                    NDIPortInfo(
                        basic: b,
                        currentTest: 0xDEADBEEF,
                        partNumber: "PN                  ",
                        accessories: 0x13,
                        markerType: 0x28,
                        portLocation: "12345678000102",
                        gpioStatus: 0x07
                    )
                )
        )
    }

    @Test func phinfUnoccupiedAndErrors() throws {
        #expect(try self.parse(self.reply("UNOCCUPIED"), .phinf(handle: 3, option: .basic)) == .portInfo(.unoccupied))
        #expect(try NDIPortInfo.unoccupied.encoded(option: .basic) == self.reply("UNOCCUPIED"))
        #expect(
            self.parseError(self.reply("01000000NDI         0013A5"), .phinf(handle: 1, option: nil))?.description
                == "PHINF reply at stream byte 0 (reply byte 23): the reply ends inside serial number: needs 8 characters, 3 left"
        )
        #expect(
            self.parseError(self.reply("00"), .phinf(handle: 1, option: NDIPortInfoOption(rawValue: 0x0081)))?
                .description
                == "PHINF reply at stream byte 0 (reply byte 0): option bits 0x0080 have no documented PHINF layout"
        )
        #expect(throws: NDIEncodingError.self) {
            try NDIPortInfo(partNumber: String(repeating: "x", count: 21)).encoded(option: .partNumber)
        }
        #expect(throws: NDIEncodingError.self) { try NDIPortInfo().encoded(option: .basic) }
        #expect(throws: NDIEncodingError.self) { try NDIReply.portInfo(.unoccupied).encoded(for: .bx(nil)) }
    }

    @Test func versionText() throws {
        // A made-up VER:0 text in the shape the reference describes (lines, a Freeze Tag line).
        let text =
            "Polaris Vega Control Firmware\nNDI S/N: P9-00000\nFreeze Tag: Polaris Vega 008\nFreeze Date:01/01/2020\n"
        let reply = try self.parse(self.reply(text), .ver(0))
        guard case .version(let version) = reply else {
            Issue.record("not a version: \(reply)")
            return
        }
        #expect(version.text == text)
        #expect(
            version.lines == [
                "Polaris Vega Control Firmware", "NDI S/N: P9-00000", "Freeze Tag: Polaris Vega 008",
                "Freeze Date:01/01/2020",
            ]
        )
        #expect(version.freezeTag == "Polaris Vega 008")
        #expect(version.value(forKey: "NDI S/N") == "P9-00000")
        #expect(version.value(forKey: "Freeze Date") == "01/01/2020")
        #expect(version.value(forKey: "Freeze") == nil)
        #expect(version.value(forKey: "Polaris Vega Control Firmware") == nil)
        #expect(try version.encoded() == self.reply(text))
        #expect(throws: NDIEncodingError.self) { try NDIVersionInfo(text: "a\rb").encoded() }
    }

    @Test func textRepliesAndUnexpectedOnes() throws {
        #expect(
            try self.parse(self.reply("Features.Firmware.Version=1.2"), .getinfo("Features.Firmware.Version"))
                == .text("Features.Firmware.Version=1.2")
        )
        #expect(try self.parse(self.reply("1"), .beep(1)) == .text("1"))
        #expect(try self.parse(ascii("OKAYA896\r"), .raw(name: "IRATE", parameters: "1")) == .okay)
        #expect(
            self.parseError(self.reply("HELLO"), .initialize)?.description
                == #"INIT reply at stream byte 0 (reply byte 0): expected OKAY, ERRORxx or RESET, got "HELLO""#
        )
        #expect(
            self.parseError(referenceBX, .tstart)?.description
                == "TSTART reply at stream byte 0 (reply byte 0): a binary (BX) reply cannot answer TSTART"
        )
        #expect(self.parseError(ascii("OKAYA896\r"), .bx(nil))?.kind == .unexpectedReply)
        #expect(throws: NDIEncodingError.self) { try NDIReply.tracking(referenceTracking).encoded(for: .phsr(.all)) }
        #expect(throws: NDIEncodingError.self) { try NDIReply.text("a\u{80}").encoded(for: .getinfo("X")) }
        #expect(try NDIReply.text("Param=1").encoded(for: .getinfo("Param")) == self.reply("Param=1"))
    }
}
