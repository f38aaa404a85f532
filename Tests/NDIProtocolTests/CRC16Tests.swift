import Geometry
import NDIProtocol
import Testing

@Suite struct CRC16Tests {
    /// Every ASCII vector of `protocols.md` §1.2, checked against ndicapi's literals there.
    @Test(
        arguments: [
            ("123456789", 0xBB3D),
            ("INIT:", 0xE3A5),
            ("OKAY", 0xA896),
            ("RESET", 0xBE6F),
            ("VER:0", 0x65EE),
            ("GETINFO:Features.Firmware.Version", 0x0492),
            ("BX:0801", 0x00EC),
            ("TX:0801", 0xC19B),
            ("TSTART:", 0x5423),
            ("TSTOP:", 0x2C14),
            ("PHSR:01", 0xE03E),
            ("PHSR:02", 0xE17E),
            ("PHSR:03", 0x21BF),
            ("PINIT:01", 0x31EA),
            ("PENA:01D", 0x6D3B),
            ("COMM:50000", 0x0048),
            ("COMM:00000", 0x0084),
            ("PHRQ:*********1****", 0xA4C1),
            ("", 0x0000),
        ] as [(String, UInt16)]
    )
    func referenceVectors(input: String, crc: UInt16) {
        #expect(NDICRC16.checksum(ascii(input)) == crc)
        #expect(NDICRC16.bitwiseChecksum(ascii(input)) == crc)
    }

    @Test func binaryHeaderVector() {
        // The BX header C4 A5 37 00 has CRC 0x233B, sent as 3B 23.
        #expect(NDICRC16.checksum([0xC4, 0xA5, 0x37, 0x00]) == 0x233B)
    }

    @Test func hexDigitsAreFourUppercase() {
        #expect(NDICRC16.hexDigits(0xE3A5) == ascii("E3A5"))
        #expect(NDICRC16.hexDigits(0x00EC) == ascii("00EC"))
        #expect(NDICRC16.hexDigits(0) == ascii("0000"))
    }

    @Test func seedContinuesAComputation() {
        let whole = NDICRC16.checksum(ascii("GETINFO:Features.Firmware.Version"))
        let first = NDICRC16.checksum(ascii("GETINFO:"))
        #expect(NDICRC16.checksum(ascii("Features.Firmware.Version"), seed: first) == whole)
    }

    @Test func tableMatchesBitwiseDefinitionOnRandomData() {
        var rng = SplitMix64(seed: 0x5EED)
        for length in 0..<300 {
            let data = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(NDICRC16.checksum(data) == NDICRC16.bitwiseChecksum(data))
        }
    }

    @Test func appendingTheCRCLittleEndianLeavesZeroResidue() {
        var rng = SplitMix64(seed: 42)
        for length in [0, 1, 4, 55, 256] {
            let data = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let crc = NDICRC16.checksum(data)
            #expect(NDICRC16.checksum(data + [UInt8(crc & 0xFF), UInt8(crc >> 8)]) == 0)
        }
        // The reference's BX header with its CRC.
        #expect(NDICRC16.checksum([0xC4, 0xA5, 0x37, 0x00, 0x3B, 0x23]) == 0)
    }
}
