import Geometry
import NDIProtocol
import Testing

@Suite struct ReplyFramerTests {
    let okay = ascii("OKAYA896\r")
    let reset = ascii("RESETBE6F\r")

    @Test func framesTheReferenceBXReply() throws {
        let frame = try #require(singleFrame(referenceBX))
        #expect(frame.kind == .binary)
        #expect(frame.bytes == referenceBX)
        #expect(frame.streamOffset == 0)
        #expect(frame.payloadOffset == 6)
        #expect(Array(frame.payload) == Array(referenceBX[6..<61]))
    }

    @Test func framesASCIIRepliesAndStripsTheCRC() throws {
        let frame = try #require(singleFrame(self.okay))
        #expect(frame.kind == .ascii)
        #expect(frame.text == "OKAY")
        #expect(frame.bytes == self.okay)
        let tx = try #require(singleFrame(referenceTX))
        #expect(
            tx.text
                == "0201+05000+05000+05000+05000+001250-003425-150000+0125000000031000004D2\n02MISSING00000031000004D2\n0000"
        )
        // The CRC digits may be lowercase.
        #expect(singleFrame(ascii("OKAYa896\r"))?.text == "OKAY")
        // An empty payload has CRC 0000.
        #expect(singleFrame(ascii("0000\r"))?.text == "")
    }

    /// OKAY, BX, an ERROR reply to BX, TX and RESET in one stream: every chunking gives the same
    /// frames at the same offsets.
    @Test func mixedStreamIsIndependentOfChunking() throws {
        let error04 = NDIReply.asciiFrame(payload: ascii("ERROR04"))
        #expect(error04 == ascii("ERROR046802\r"))
        let stream = self.okay + referenceBX + error04 + referenceTX + self.reset
        let expected: [Result<NDIReplyFrame, NDIReplyError>] = [
            .success(NDIReplyFrame(kind: .ascii, bytes: self.okay, streamOffset: 0)),
            .success(NDIReplyFrame(kind: .binary, bytes: referenceBX, streamOffset: 9)),
            .success(NDIReplyFrame(kind: .ascii, bytes: error04, streamOffset: 72)),
            .success(NDIReplyFrame(kind: .ascii, bytes: referenceTX, streamOffset: 84)),
            .success(NDIReplyFrame(kind: .ascii, bytes: self.reset, streamOffset: 84 + referenceTX.count)),
        ]
        #expect(frameInChunks(stream, sizes: [1]) == expected)
        #expect(frameInChunks(stream, sizes: [stream.count]) == expected)
        var rng = SplitMix64(seed: 99)
        for _ in 0..<20 {
            #expect(frameInChunks(stream, sizes: randomChunkSizes(count: 50, maximum: 17, using: &rng)) == expected)
        }
    }

    /// The message format of the brief, at the same offsets: a corrupted body CRC after 1234
    /// bytes of earlier replies; the framer drops that reply and carries on.
    @Test func bodyCRCErrorNamesStreamAndReplyOffsets() throws {
        let earlier = NDIReply.asciiFrame(payload: ascii(String(repeating: "X", count: 1229)))
        #expect(earlier.count == 1234)
        var corrupted = referenceBX
        corrupted[61] = 0xE1
        let stream = earlier + corrupted + self.okay
        for sizes in [[1], [stream.count], [5, 64, 3]] {
            let results = frameInChunks(stream, sizes: sizes)
            #expect(results.count == 3)
            #expect(results[0].frame?.text == String(repeating: "X", count: 1229))
            let e = try #require(results[1].error)
            #expect(e.kind == .bodyCRC)
            #expect(e.replyStreamOffset == 1234)
            #expect(e.offsetInReply == 61)
            #expect(e.streamOffset == 1295)
            #expect(
                e.description
                    == "BX reply at stream byte 1234 (reply byte 61): body CRC 0xB7E1 does not match computed 0xB7E0"
            )
            #expect(results[2].frame == NDIReplyFrame(kind: .ascii, bytes: self.okay, streamOffset: 1297))
        }
    }

    @Test func corruptedBodyByteIsABodyCRCError() throws {
        var corrupted = referenceBX
        corrupted[0x19] ^= 0x01  // a bit of tx
        let results = NDIReplyFramer.frames(in: corrupted + referenceBX)
        #expect(results.count == 2)
        #expect(results[0].error?.kind == .bodyCRC)
        #expect(results[0].error?.offsetInReply == 61)
        #expect(results[1].frame?.streamOffset == 63)
    }

    @Test func badHeaderCRCResynchronisesAtTheNextStartSequence() throws {
        var corrupted = referenceBX
        corrupted[4] = 0x3C
        let stream = corrupted + referenceBX + self.okay
        for sizes in [[1], [stream.count], [7, 2]] {
            let results = frameInChunks(stream, sizes: sizes)
            #expect(results.count == 3)
            #expect(
                results[0].error?.description
                    == "BX reply at stream byte 0 (reply byte 4): header CRC 0x233C does not match computed 0x233B"
            )
            #expect(results[0].error?.kind == .headerCRC)
            #expect(results[1].frame == NDIReplyFrame(kind: .binary, bytes: referenceBX, streamOffset: 63))
            #expect(results[2].frame?.streamOffset == 126)
        }
    }

    @Test func afterGarbageAnASCIIReplyIsFoundOnlyAfterACR() throws {
        // The OKAY right after the bad BX header does not follow a CR, so it is skipped with the
        // rest of the bad reply; the RESET after its CR is found.
        var corrupted = referenceBX
        corrupted[5] = 0x00
        let results = NDIReplyFramer.frames(in: corrupted + self.okay + self.reset)
        #expect(results.count == 2)
        #expect(results[0].error?.kind == .headerCRC)
        #expect(results[1].frame == NDIReplyFrame(kind: .ascii, bytes: self.reset, streamOffset: 72))
    }

    @Test func impossibleLengthIsABadLengthError() throws {
        // N = 2 with a valid header CRC (0x732C).
        let header: [UInt8] = [0xC4, 0xA5, 0x02, 0x00, 0x2C, 0x73, 0x00, 0x00, 0x00, 0x00]
        let results = NDIReplyFramer.frames(in: header + referenceBX)
        #expect(results.count == 2)
        #expect(
            results[0].error?.description
                == "BX reply at stream byte 0 (reply byte 2): reply length 2 is less than 3 (handle count and system status)"
        )
        #expect(results[1].frame?.streamOffset == 10)
    }

    @Test func truncatedReplyFollowedByANewOneResumesAtItsHeader() throws {
        // 40 bytes of a reply, then a whole one: the first is read as 63 bytes, its body CRC
        // fails, and reading resumes at the start sequence inside it.
        let stream = Array(referenceBX[0..<40]) + referenceBX
        for sizes in [[1], [stream.count], [6, 6, 50]] {
            let results = frameInChunks(stream, sizes: sizes)
            #expect(results.count == 2)
            #expect(
                results[0].error?.description
                    == "BX reply at stream byte 0 (reply byte 61): body CRC 0x0000 does not match computed 0xE31B"
            )
            #expect(results[1].frame == NDIReplyFrame(kind: .binary, bytes: referenceBX, streamOffset: 40))
        }
    }

    @Test func finishReportsATruncatedReply() throws {
        var framer = NDIReplyFramer()
        framer.feed(referenceBX[0..<40])
        #expect(framer.next() == nil)
        #expect(framer.pendingByteCount == 40)
        let results = framer.finish()
        #expect(results.count == 1)
        #expect(results[0].error?.kind == .truncated)
        #expect(
            results[0].error?.description
                == "BX reply at stream byte 0 (reply byte 40): truncated: 40 of 63 bytes received"
        )
        #expect(framer.pendingByteCount == 0)
        // The framer starts afresh and stream offsets go on.
        framer.feed(self.okay)
        #expect(framer.next() == .success(NDIReplyFrame(kind: .ascii, bytes: self.okay, streamOffset: 40)))

        #expect(
            NDIReplyFramer.frames(in: referenceBX[0..<3]).first?.error?.description
                == "BX reply at stream byte 0 (reply byte 3): truncated: 3 bytes received, inside the 6-byte header"
        )
        #expect(
            NDIReplyFramer.frames(in: [0xC4]).first?.error?.description
                == "BX reply at stream byte 0 (reply byte 1): truncated: 1 bytes received, inside the 6-byte header"
        )
        #expect(
            NDIReplyFramer.frames(in: ascii("OKAY")).first?.error?.description
                == "ASCII reply at stream byte 0 (reply byte 4): truncated: 4 bytes received without a CR"
        )
    }

    @Test func asciiCRCErrors() throws {
        let results = NDIReplyFramer.frames(in: ascii("OKAYA897\r") + self.okay + ascii("OKAYZ896\r") + ascii("OK\r"))
        #expect(results.count == 4)
        #expect(
            results[0].error?.description
                == "ASCII reply at stream byte 0 (reply byte 4): CRC 0xA897 does not match computed 0xA896"
        )
        #expect(results[1].frame?.streamOffset == 9)
        #expect(
            results[2].error?.description
                == #"ASCII reply at stream byte 18 (reply byte 4): CRC "Z896" is not 4 hex digits (computed 0xA896)"#
        )
        #expect(
            results[3].error?.description
                == "ASCII reply at stream byte 27 (reply byte 0): 2 characters before the CR, too few for a 4-digit CRC"
        )
        #expect(results.allSatisfy { $0.error?.kind ?? .crc == .crc })
    }

    @Test func nonASCIIByteInATextReply() throws {
        let stream = ascii("OK") + [0x00] + ascii("AYA896\r") + self.okay
        for sizes in [[1], [stream.count]] {
            let results = frameInChunks(stream, sizes: sizes)
            #expect(results.count == 2)
            #expect(
                results[0].error?.description
                    == "ASCII reply at stream byte 0 (reply byte 2): byte 0x00 is not ASCII text"
            )
            #expect(results[0].error?.streamOffset == 2)
            #expect(results[1].frame?.streamOffset == 10)
        }
    }

    @Test func garbageBeforeAReply() throws {
        // Garbage, then an OKAY that does not follow a CR (skipped), then a RESET that does.
        let results = NDIReplyFramer.frames(in: [0xFF, 0x13] + self.okay + self.reset)
        #expect(results.count == 2)
        #expect(
            results[0].error?.description == "ASCII reply at stream byte 0 (reply byte 0): byte 0xFF is not ASCII text"
        )
        #expect(results[1].frame?.text == "RESET")
        #expect(results[1].frame?.streamOffset == 11)
        // A start sequence ends the skipping at once.
        let binary = NDIReplyFramer.frames(in: [0xFF, 0xC4, 0x00] + referenceBX)
        #expect(binary.count == 2)
        #expect(binary[1].frame?.streamOffset == 3)
    }

    @Test func overlongASCIIReply() throws {
        var framer = NDIReplyFramer(maximumASCIILength: 8)
        framer.feed(ascii("ABCDEFGHIJKLMNOP\r") + self.okay)
        let first = framer.next()
        #expect(first?.error?.description == "ASCII reply at stream byte 0 (reply byte 8): no CR within 8 bytes")
        #expect(first?.error?.kind == .tooLong)
        #expect(framer.next()?.frame?.streamOffset == 17)
        #expect(framer.next() == nil)
    }

    /// Replies, each possibly corrupted, in random chunks: byte-at-a-time, all-at-once and random
    /// chunking agree, like NIO's ByteToMessageDecoderVerifier.
    @Test func randomCorruptedStreamsAreIndependentOfChunking() throws {
        var rng = SplitMix64(seed: 2024)
        let pieces: [[UInt8]] = [
            self.okay, self.reset, referenceBX, referenceTX, NDIReply.asciiFrame(payload: ascii("ERROR0D")),
            ascii("020100102001") + NDICRC16.hexDigits(NDICRC16.checksum(ascii("020100102001"))) + [0x0D],
        ]
        for _ in 0..<30 {
            var stream: [UInt8] = []
            for _ in 0..<12 {
                var piece = pieces[Int(rng.next() % UInt64(pieces.count))]
                switch rng.next() % 6 {
                case 0: piece[Int(rng.next() % UInt64(piece.count))] ^= UInt8(1 + rng.next() % 255)
                case 1: piece = Array(piece[0..<Int(rng.next() % UInt64(piece.count))])
                case 2: piece.insert(UInt8(truncatingIfNeeded: rng.next()), at: Int(rng.next() % UInt64(piece.count)))
                default: break
                }
                stream += piece
            }
            let reference = frameInChunks(stream, sizes: [stream.count])
            #expect(frameInChunks(stream, sizes: [1]) == reference)
            #expect(frameInChunks(stream, sizes: randomChunkSizes(count: 40, maximum: 30, using: &rng)) == reference)
            // Every byte is accounted for once: frames and errors never overlap and are in order.
            var last = -1
            for r in reference {
                let at = r.frame?.streamOffset ?? r.error!.replyStreamOffset
                #expect(at > last)
                last = at
            }
        }
    }
}
