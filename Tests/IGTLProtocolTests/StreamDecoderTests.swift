import Geometry
import IGTLProtocol
import Testing

/// Feeds `bytes` in chunks of `chunk` and collects every message (stops at the first error).
func decodeAll(_ bytes: [UInt8], chunk: Int, maximumBodySize: UInt64 = IGTLStreamDecoder.defaultMaximumBodySize)
    throws(IGTLError) -> [IGTLMessage]
{
    var decoder = IGTLStreamDecoder(maximumBodySize: maximumBodySize)
    var out: [IGTLMessage] = []
    var i = 0
    while i < bytes.count {
        decoder.feed(bytes[i..<min(i + chunk, bytes.count)])
        i += chunk
        while case .message(let m) = try decoder.next() { out.append(m) }
    }
    try decoder.finish()
    return out
}

@Suite struct StreamDecoderTests {
    static let allGolden = [
        Golden.transform, Golden.transformFormat2, Golden.status, Golden.string, Golden.position,
        Golden.positionFormat2, Golden.trackingData, Golden.pyigtlCoilToTracker,
    ]

    /// The ByteToMessageDecoderVerifier idea: one byte at a time, odd chunk sizes and all at
    /// once give the same messages.
    @Test func byteByByteEqualsAllAtOnce() throws {
        let stream = Self.allGolden.flatMap { $0 }
        let expected = try Self.allGolden.map { try IGTLMessage.decode($0) }
        #expect(try decodeAll(stream, chunk: stream.count) == expected)
        for chunk in [1, 2, 3, 7, 57, 58, 59, 100] {
            #expect(try decodeAll(stream, chunk: chunk) == expected, "chunk \(chunk)")
        }
    }

    @Test func needMoreDataUntilComplete() throws {
        var decoder = IGTLStreamDecoder()
        #expect(try decoder.next() == .needMoreData)
        decoder.feed(Golden.status[..<58])
        #expect(try decoder.next() == .needMoreData)
        decoder.feed(Golden.status[58..<(Golden.status.count - 1)])
        #expect(try decoder.next() == .needMoreData)
        #expect(decoder.bufferedByteCount == Golden.status.count - 1)
        decoder.feed(Golden.status[(Golden.status.count - 1)...])
        #expect(try decoder.next() == .message(try IGTLMessage.decode(Golden.status)))
        #expect(try decoder.next() == .needMoreData)
        #expect(decoder.streamOffset == Golden.status.count)
        try decoder.finish()
    }

    /// A header announcing a 4 GiB body is refused as soon as the header is in, naming the size,
    /// and the decoder stays failed.
    @Test func fourGiBBodyRejected() {
        var header = Golden.transform[..<58].map { $0 }
        // body size = 2^32 (bytes 42–49)
        for i in 42..<50 { header[i] = 0 }
        header[45] = 1
        var decoder = IGTLStreamDecoder()
        decoder.feed(Golden.string)
        decoder.feed(header)
        #expect(throws: Never.self) { _ = try decoder.next() }
        do {
            _ = try decoder.next()
            Issue.record("accepted a 4 GiB body")
        } catch {
            #expect(error.kind == .bodyTooLarge)
            #expect(error.field == "body size")
            #expect(error.offset == 42)
            #expect(error.messageStreamOffset == Golden.string.count)
            #expect(error.message.contains("4294967296"))
            #expect(error.description.contains("4294967296"))
        }
        #expect(decoder.fatalError?.kind == .bodyTooLarge)
        // Stays failed.
        decoder.feed(Golden.string)
        #expect(throws: IGTLError.self) { _ = try decoder.next() }
    }

    @Test func configurableLimit() throws {
        // STRING body is 26 bytes.
        #expect(try decodeAll(Golden.string, chunk: 10, maximumBodySize: 26).count == 1)
        #expect(throws: IGTLError.self) { _ = try decodeAll(Golden.string, chunk: 10, maximumBodySize: 25) }
    }

    /// A bad CRC names the CRC field and the stream offset, consumes the message, and the stream
    /// continues with the next one.
    @Test func badCRC() throws {
        var bad = Golden.transform
        bad[70] ^= 0x01
        var decoder = IGTLStreamDecoder()
        decoder.feed(Golden.status + bad + Golden.string)
        #expect(try decoder.next() == .message(try IGTLMessage.decode(Golden.status)))
        do {
            _ = try decoder.next()
            Issue.record("bad CRC accepted")
        } catch {
            #expect(error.kind == .crcMismatch)
            #expect(error.field == "CRC")
            #expect(error.offset == 50)
            #expect(error.messageStreamOffset == Golden.status.count)
            #expect(error.streamOffset == Golden.status.count + 50)
            #expect(error.message.contains("0xF6DD2B8EB4DF6DD2"))
        }
        #expect(try decoder.next() == .message(try IGTLMessage.decode(Golden.string)))
        #expect(decoder.fatalError == nil)
    }

    @Test func truncatedStream() {
        for cut in [1, 30, 57, 58, 80, Golden.transform.count - 1] {
            do {
                _ = try decodeAll(Golden.status + Array(Golden.transform[..<cut]), chunk: 13)
                Issue.record("truncation at \(cut) not reported")
            } catch {
                #expect(error.kind == .truncated)
                #expect(error.messageStreamOffset == Golden.status.count)
                #expect(error.offset == cut)
                #expect(error.field == (cut < 58 ? "header" : "body"))
            }
        }
    }

    @Test func unknownTypePassedThroughRaw() throws {
        let message = IGTLMessage(deviceName: "Probe", body: .raw(typeName: "IMAGE", content: [1, 2, 3, 4, 5]))
        let bytes = try message.encoded()
        let decoded = try decodeAll(bytes + Golden.string, chunk: 5)
        #expect(decoded.count == 2)
        #expect(decoded[0].body == .raw(typeName: "IMAGE", content: [1, 2, 3, 4, 5]))
        #expect(decoded[0].deviceName == "Probe")
    }

    @Test func headerVersionsOneAndTwoAcceptedOthersFatal() throws {
        #expect(try decodeAll(Golden.transform + Golden.transformFormat2, chunk: 11).map(\.headerVersion) == [1, 2])
        var v3 = Golden.transform
        v3[1] = 3
        do {
            _ = try decodeAll(v3, chunk: 100)
            Issue.record("version 3 accepted")
        } catch {
            #expect(error.kind == .unsupportedVersion)
            #expect(error.offset == 0)
            #expect(error.field == "version")
        }
    }

    @Test func nonASCIINamesRejectedWithOffset() {
        var bad = Golden.transform
        bad[14 + 3] = 0xC3  // in the device name
        do {
            _ = try decodeAll(bad, chunk: 100)
            Issue.record("non-ASCII device name accepted")
        } catch {
            #expect(error.kind == .invalidName)
            #expect(error.field == "device name")
            #expect(error.offset == 17)
        }
        var emptyType = Golden.transform
        for i in 2..<14 { emptyType[i] = 0 }
        #expect(throws: IGTLError.self) { _ = try decodeAll(emptyType, chunk: 100) }
    }

    @Test func wrongContentSizeIsMalformedAndNotFatal() throws {
        let short = try IGTLMessage(
            deviceName: "X",
            body: .raw(typeName: "TRANSFORM", content: Array(repeating: 0, count: 47))
        ).encoded()
        var decoder = IGTLStreamDecoder()
        decoder.feed(short + Golden.string)
        do {
            _ = try decoder.next()
            Issue.record("47-byte TRANSFORM accepted")
        } catch {
            #expect(error.kind == .malformedBody)
            #expect(error.offset == 58)
            #expect(error.messageStreamOffset == 0)
        }
        #expect(try decoder.next() == .message(try IGTLMessage.decode(Golden.string)))
    }

    @Test func badMetadataSizes() throws {
        // META_SIZE one larger than the body allows.
        var bad = Golden.transformFormat2
        bad[58 + 7] = 0x76
        let crc = IGTLCRC64.checksum(bad[58...])
        for i in 0..<8 { bad[50 + i] = UInt8(truncatingIfNeeded: crc >> (56 - 8 * UInt64(i))) }
        #expect(throws: IGTLError.self) { _ = try IGTLMessage.decode(bad) }
        // Entry sizes that disagree with META_SIZE.
        var bad2 = Golden.transformFormat2
        bad2[58 + 12 + 48 + 2 + 7] = 0x03  // first value size 2 → 3
        let crc2 = IGTLCRC64.checksum(bad2[58...])
        for i in 0..<8 { bad2[50 + i] = UInt8(truncatingIfNeeded: crc2 >> (56 - 8 * UInt64(i))) }
        do {
            _ = try IGTLMessage.decode(bad2)
            Issue.record("inconsistent metadata accepted")
        } catch {
            #expect(error.kind == .invalidMetadata)
        }
    }
}

@Suite struct StreamDecoderLimitTests {
    /// A limit beyond what memory can hold is clamped, so a 2⁶⁴−1-byte header is still refused
    /// rather than overflowing.
    @Test func hugeLimitIsClamped() {
        var decoder = IGTLStreamDecoder(maximumBodySize: .max)
        #expect(decoder.maximumBodySize == UInt64(Int.max - 58))
        var header = Array(Golden.transform[..<58])
        for i in 42..<50 { header[i] = 0xFF }
        decoder.feed(header)
        do {
            _ = try decoder.next()
            Issue.record("a 2^64-1-byte body was accepted")
        } catch {
            #expect(error.kind == .bodyTooLarge && error.message.contains("18446744073709551615"))
        }
    }
}

@Suite struct ExtendedHeaderTests {
    /// A version-2 body too short for the extended header, and an EXT_HEADER_SIZE below 12.
    @Test func shortOrUndersizedExtendedHeader() throws {
        func message(_ body: [UInt8]) throws(IGTLError) -> [UInt8] {
            let header = IGTLHeader(
                version: 2,
                typeName: "STRING",
                deviceName: "X",
                timestamp: .none,
                bodySize: UInt64(body.count),
                crc: IGTLCRC64.checksum(body)
            )
            return try header.encoded() + body
        }
        do {
            _ = try IGTLMessage.decode(try message([0, 12, 0, 0]))
            Issue.record("4-byte version-2 body accepted")
        } catch {
            #expect(error.kind == .invalidExtendedHeader)
        }
        do {
            _ = try IGTLMessage.decode(try message([0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0]))
            Issue.record("EXT_HEADER_SIZE 8 accepted")
        } catch {
            #expect(error.kind == .invalidExtendedHeader && error.field == "extended header size" && error.offset == 58)
        }
        // A valid one for contrast: extended header, STRING content "", metadata count 0.
        let ok = try IGTLMessage.decode(try message([0, 12, 0, 2, 0, 0, 0, 0, 0, 0, 0, 9, 0, 3, 0, 0, 0, 0]))
        #expect(ok.body == .string(IGTLString(encoding: 3, bytes: [])) && ok.messageID == 9)
    }
}
