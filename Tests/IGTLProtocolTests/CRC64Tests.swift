import IGTLProtocol
import Testing

@Suite struct CRC64Tests {
    @Test func checkValue() {
        // ECMA-182 as OpenIGTLink uses it: check("123456789") = 0x6C40DF5F0B497347 (protocols.md §3.1).
        #expect(IGTLCRC64.checksum(ascii("123456789")) == 0x6C40_DF5F_0B49_7347)
        #expect(IGTLCRC64.bitwiseChecksum(ascii("123456789")) == 0x6C40_DF5F_0B49_7347)
        #expect(IGTLCRC64.checksum([UInt8]()) == 0)
    }

    /// The CRC stored in each golden header is the CRC of its body.
    @Test(
        arguments: [
            ("TRANSFORM", Golden.transform, 0xF6DD_2B8E_B4DF_6DD2),
            ("TRANSFORM format 2", Golden.transformFormat2, 0xF698_F64F_DAE2_66DD),
            ("STATUS", Golden.status, 0x98EE_43EE_D8E4_31CF),
            ("STRING", Golden.string, 0xCEF1_B42A_7011_04D4),
            ("POSITION", Golden.position, 0x6BC8_D628_2B79_A3A1),
            ("POSITION format 2", Golden.positionFormat2, 0xC711_1642_7681_C1E2),
            ("TDATA", Golden.trackingData, 0x5C7C_EBFD_2767_6877),
            ("pyigtl TRANSFORM", Golden.pyigtlCoilToTracker, 0x431B_FFA4_56CA_4278),
        ] as [(String, [UInt8], UInt64)]
    )
    func goldenBodies(name: String, message: [UInt8], crc: UInt64) {
        let body = message[58...]
        #expect(IGTLCRC64.checksum(body) == crc, "\(name)")
        #expect(IGTLCRC64.bitwiseChecksum(body) == crc, "\(name)")
    }

    @Test func tableMatchesBitwiseOnSeededData() {
        var state: UInt64 = 12345
        var bytes: [UInt8] = []
        for _ in 0..<1000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes.append(UInt8(truncatingIfNeeded: state >> 33))
        }
        #expect(IGTLCRC64.checksum(bytes) == IGTLCRC64.bitwiseChecksum(bytes))
        // Continuing from a partial checksum equals checksumming at once.
        let partial = IGTLCRC64.checksum(bytes[..<400])
        #expect(IGTLCRC64.checksum(bytes[400...], initial: partial) == IGTLCRC64.checksum(bytes))
        // Every length 0…40 and every start offset 0…8: the eight-byte steps and the byte tail agree
        // with the definition, and a non-contiguous sequence takes the byte-at-a-time path.
        for start in 0...8 {
            for length in 0...40 {
                let slice = bytes[start..<start + length]
                #expect(IGTLCRC64.checksum(slice) == IGTLCRC64.bitwiseChecksum(slice), "\(start) \(length)")
                #expect(IGTLCRC64.checksum(slice.lazy.map { $0 }) == IGTLCRC64.bitwiseChecksum(slice))
            }
        }
    }
}

@Suite struct TimestampTests {
    /// protocols.md §3.1: OpenIGTLink's fraction approximation, not exact scaling.
    @Test(
        arguments: [
            (250_000_000, 0x4000_0000),
            (500_000_000, 0x8000_0000),
            (1_000_000, 0x0041_892C),
            (123_456_789, 0x1F9A_DD24),
            (0, 0),
        ] as [(UInt32, UInt32)]
    )
    func fractionVectors(nanoseconds: UInt32, fraction: UInt32) {
        #expect(IGTLTimestamp.fraction(nanoseconds: nanoseconds) == fraction)
        #expect(IGTLTimestamp.nanoseconds(fraction: fraction) == nanoseconds)
    }

    @Test func roundTripsEveryMillisecondAndSomeNanoseconds() {
        for ms in stride(from: UInt32(0), to: 1000, by: 1) {
            let ns = ms * 1_000_000 + ms * 997 % 1_000_000
            let t = IGTLTimestamp(seconds: 1_700_000_000, nanoseconds: ns)
            #expect(t.nanoseconds == ns)
            #expect(IGTLTimestamp(rawValue: t.rawValue) == t)
        }
    }
}
