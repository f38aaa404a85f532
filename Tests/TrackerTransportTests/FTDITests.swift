import Testing

@testable import TrackerTransport

/// The FTDI pure functions against shared/reference/protocols.md §2.2–2.4.
@Suite struct FTDIDivisorTests {
    /// The reference's table for FT232R/BM (3 MHz reference): requested rate, wValue, wIndex,
    /// actual rate.
    static let table: [(Int, UInt16, UInt16, Int)] = [
        (9600, 0x4138, 0x0000, 9600),
        (14400, 0x00D0, 0x0001, 14397),
        (19200, 0x809C, 0x0000, 19200),
        (38400, 0xC04E, 0x0000, 38400),
        (57600, 0xC034, 0x0000, 57554),
        (115_200, 0x001A, 0x0000, 115_385),
        (230_400, 0x000D, 0x0000, 230_769),
        (921_600, 0x8003, 0x0000, 923_077),
        (1_228_739, 0x4002, 0x0000, 1_200_000),
        (1_200_000, 0x4002, 0x0000, 1_200_000),
    ]

    @Test(arguments: table.indices)
    func referenceTable(_ i: Int) throws {
        let (baud, value, index, actual) = Self.table[i]
        let d = try FTDI.baudDivisor(baud: baud, chip: .r)
        #expect(d.value == value, "wValue for \(baud)")
        #expect(d.index == index, "wIndex for \(baud)")
        #expect(d.actualBaud == actual, "actual rate for \(baud)")
        // BM chips use the same encoding.
        #expect(try FTDI.baudDivisor(baud: baud, chip: .bm) == d)
    }

    @Test func specialCasesThreeAndTwoMegabaud() throws {
        #expect(try FTDI.baudDivisor(baud: 3_000_000).value == 0)
        #expect(try FTDI.baudDivisor(baud: 3_000_000).actualBaud == 3_000_000)
        #expect(try FTDI.baudDivisor(baud: 2_000_000).value == 1)
        #expect(try FTDI.baudDivisor(baud: 2_000_000).index == 0)
    }

    @Test func hSeriesUsesTwelveMegahertzAndCarriesThePort() throws {
        // 115200 on an FT232H: div8 = round(96e6 / 115200) = 833 -> enc = 104 | FRAC[1] << 14 | 0x20000.
        let d = try FTDI.baudDivisor(baud: 115_200, chip: .ft232h, port: 1)
        #expect(d.value == 0xC068)
        #expect(d.index == 0x0201)  // ((0x2C068 >> 8) & 0xFF00) | port
        #expect(d.actualBaud == 115_246)
        #expect(FTDI.Chip(bcdDevice: 0x900).isHSeries)
        #expect(!FTDI.Chip(bcdDevice: 0x600).isHSeries)
    }

    @Test func chipFromBcdDevice() {
        #expect(FTDI.Chip(bcdDevice: 0x600) == .r)
        #expect(FTDI.Chip(bcdDevice: 0x400) == .bm)
        #expect(FTDI.Chip(bcdDevice: 0x200, hasSerialNumber: false) == .bm)
        #expect(FTDI.Chip(bcdDevice: 0x200, hasSerialNumber: true) == .am)
        #expect(FTDI.Chip(bcdDevice: 0x700) == .ft2232h)
        #expect(FTDI.Chip(bcdDevice: 0x1234) == .unknown)
    }

    @Test func impossibleRatesAreRejected() {
        for baud in [0, -9600, 4_000_000, 100] {
            #expect(throws: TransportError.self, "\(baud)") { try FTDI.baudDivisor(baud: baud, chip: .r) }
        }
        #expect((try? FTDI.baudDivisor(baud: 184)) != nil)  // about the slowest an R/BM divisor can make
    }

    @Test func dataCharacteristics() {
        #expect(FTDI.dataCharacteristics() == 0x0008)
        #expect(FTDI.dataCharacteristics(breakOn: true) == 0x4008)
        #expect(FTDI.dataCharacteristics(dataBits: 7, parity: .even, stopBits: 2) == 0x1207)
        #expect(FTDI.dataCharacteristics(dataBits: 8, parity: .odd, stopBits: 1) == 0x0108)
    }

    @Test func setupSequenceIsTheDocumentedOrder() throws {
        let seq = try FTDI.setupSequence(LineParameters(baud: 115_200), chip: .r, port: 1, latencyTimerMs: 1)
        let setups = seq.map { $0.setupPacket }
        #expect(
            setups == [
                [0x40, 0x00, 0x00, 0x00, 0x01, 0x00, 0, 0],  // reset SIO
                [0x40, 0x00, 0x01, 0x00, 0x01, 0x00, 0, 0],  // purge RX
                [0x40, 0x00, 0x02, 0x00, 0x01, 0x00, 0, 0],  // purge TX
                [0x40, 0x03, 0x1A, 0x00, 0x00, 0x00, 0, 0],  // baud 115200: wValue 0x001A, wIndex 0
                [0x40, 0x04, 0x08, 0x00, 0x01, 0x00, 0, 0],  // 8N1
                [0x40, 0x02, 0x00, 0x00, 0x01, 0x00, 0, 0],  // no flow control
                [0x40, 0x09, 0x01, 0x00, 0x01, 0x00, 0, 0],  // latency timer 1 ms
                [0x40, 0x01, 0x03, 0x03, 0x01, 0x00, 0, 0],  // DTR and RTS high
            ])
        let rts = try FTDI.setupSequence(LineParameters(baud: 9600, rtsCts: true))
        #expect(rts[5].index == 0x0101)
        #expect(throws: TransportError.self) { try FTDI.setupSequence(LineParameters(baud: 9600), latencyTimerMs: 0) }
    }
}

@Suite struct FTDIStatusByteTests {
    /// The BX reply of protocols.md §1.4 (63 bytes).
    static let bx: [UInt8] = hexBytes(
        """
        c4 a5 37 00 3b 23 02 01 01 00 00 00 3f 00 00 00
        3f 00 00 00 3f 00 00 00 3f 00 00 48 41 00 00 09
        c2 00 80 bb c4 00 00 00 3e 31 00 00 00 d2 04 00
        00 02 02 31 00 00 00 d2 04 00 00 00 00 e0 b7
        """)

    @Test func referenceVectorSixtySevenBytesGiveTheSixtyThreeBXBytes() {
        #expect(Self.bx.count == 63)
        let transfer: [UInt8] = [0x01, 0x60] + Self.bx[0..<62] + [0x01, 0x60] + Self.bx[62...]
        #expect(transfer.count == 67)
        let s = FTDI.stripStatusBytes(transfer, maxPacketSize: 64)
        #expect(s.payload == Self.bx)
        #expect(s.lastStatus == FTDI.Status(modem: 0x01, line: 0x60))
        #expect(s.packetsWithLineErrors == 0)
    }

    @Test func highSpeedPacketsOf512() {
        let data = (0..<1200).map { UInt8(truncatingIfNeeded: $0 * 7) }
        var transfer: [UInt8] = []
        var i = 0
        while i < data.count {
            let n = min(510, data.count - i)
            transfer += [0x31, 0x60] + data[i..<(i + n)]
            i += n
        }
        #expect(transfer.count == 1200 + 2 * 3)
        #expect(FTDI.stripStatusBytes(transfer, maxPacketSize: 512).payload == data)
        // Cut the same bytes at 64 and the result is wrong: the packet size matters.
        #expect(FTDI.stripStatusBytes(transfer, maxPacketSize: 64).payload != data)
    }

    @Test func statusOnlyPacketsCarryNoPayload() {
        #expect(FTDI.stripStatusBytes([0x01, 0x60], maxPacketSize: 64).payload.isEmpty)
        #expect(FTDI.stripStatusBytes([], maxPacketSize: 64) == FTDI.StrippedTransfer(payload: [], lastStatus: nil, packetsWithLineErrors: 0))
        // Three full status-only packets back to back would only happen padded to max size, so a
        // short transfer of a bare status packet is the realistic case; a full packet of 64 with
        // payload followed by a bare one keeps the payload only.
        let full = [0x01, 0x60] + [UInt8](repeating: 0x41, count: 62)
        let s = FTDI.stripStatusBytes(full + [0x11, 0x60], maxPacketSize: 64)
        #expect(s.payload == [UInt8](repeating: 0x41, count: 62))
        #expect(s.lastStatus == FTDI.Status(modem: 0x11, line: 0x60))
    }

    @Test func partialPacketsAreKept() {
        // A short last packet (5 bytes: 2 status + 3 payload) after a full one.
        let full = [0x01, 0x60] + [UInt8](1...62)
        let s = FTDI.stripStatusBytes(full + [0x01, 0x60, 0xAA, 0xBB, 0xCC], maxPacketSize: 64)
        #expect(s.payload == [UInt8](1...62) + [0xAA, 0xBB, 0xCC])
        // A lone 1-byte fragment carries nothing (not even a full status).
        #expect(FTDI.stripStatusBytes([0x01], maxPacketSize: 64).payload.isEmpty)
        #expect(FTDI.stripStatusBytes([0x01], maxPacketSize: 64).lastStatus == nil)
    }

    @Test func lineErrorsAreCounted() {
        // 0x02 overrun in the first packet, 0x08 framing error in the second, TX-empty bits only in the third.
        let p1 = [0x01, 0x62] + [UInt8](repeating: 1, count: 62)
        let p2 = [0x01, 0x68] + [UInt8](repeating: 2, count: 62)
        let s = FTDI.stripStatusBytes(p1 + p2 + [0x01, 0x60, 3], maxPacketSize: 64)
        #expect(s.packetsWithLineErrors == 2)
        #expect(s.payload.count == 62 + 62 + 1)
        #expect(FTDI.Status(modem: 0, line: 0x60).hasLineError == false)
        #expect(FTDI.Status(modem: 0, line: 0x80).hasLineError)
    }
}

/// "c4a5 …" (whitespace and newlines ignored) as bytes.
func hexBytes(_ s: String) -> [UInt8] {
    let digits = s.filter { !$0.isWhitespace }
    var out: [UInt8] = []
    var i = digits.startIndex
    while i < digits.endIndex {
        let j = digits.index(i, offsetBy: 2)
        out.append(UInt8(digits[i..<j], radix: 16)!)
        i = j
    }
    return out
}
