import Geometry
import NDIProtocol
import Testing

@Suite struct TXReplyTests {
    /// An ASCII reply with a correct CRC around `payload`.
    func reply(_ payload: String) -> [UInt8] {
        NDIReply.asciiFrame(payload: ascii(payload))
    }

    func parse(_ bytes: [UInt8], option: NDIReplyOption?) throws -> NDITrackingReply {
        let frame = try #require(singleFrame(bytes))
        return try NDITrackingReply.parseTX(frame, option: option)
    }

    func parseError(_ payload: String, option: NDIReplyOption? = .transformsAllVolumes) -> NDIReplyError? {
        guard let frame = singleFrame(self.reply(payload)) else {
            Issue.record("did not frame")
            return nil
        }
        return #expect(throws: NDIReplyError.self) { try NDITrackingReply.parseTX(frame, option: option) }
    }

    /// The TX example of `protocols.md` §1.5 gives the same values as the BX example.
    @Test func decodesTheReferenceExample() throws {
        let reply = try self.parse(referenceTX, option: .transformsAllVolumes)
        #expect(reply == referenceTracking)
        #expect(reply.handles[0].transform?.translation == Vector3(12.5, -34.25, -1500.0))
        #expect(reply.handles[0].transform?.rmsError == 0.125)
        #expect(reply.handles[1].status == .missing)
        #expect(try self.parse(referenceTX, option: nil) == referenceTracking)
        #expect(
            try NDIReply.parse(#require(singleFrame(referenceTX)), command: .tx(.transformsAllVolumes))
                == .tracking(referenceTracking)
        )
    }

    @Test func encodesTheReferenceExampleByteForByte() throws {
        #expect(try referenceTracking.encodeTX(option: .transformsAllVolumes) == referenceTX)
        #expect(try NDIReply.tracking(referenceTracking).encoded(for: .tx(nil)) == referenceTX)
    }

    @Test func unoccupiedDisabledAndMissing() throws {
        let payload = "03" + "01UNOCCUPIED" + "02DISABLED0000001100000009\n" + "03MISSING00000071FFFFFFFF\n" + "0081"
        let expected = NDITrackingReply(
            handles: [
                NDIHandleReport(handle: 1, status: .unoccupied),
                NDIHandleReport(
                    handle: 2,
                    status: .disabled,
                    portStatus: NDIPortStatus(rawValue: 0x11),
                    frameNumber: 9
                ),
                .missing(
                    handle: 3,
                    portStatus: [.occupied, .initialized, .enabled, .outOfVolume],
                    frameNumber: 0xFFFF_FFFF
                ),
            ],
            systemStatus: [.commSyncError, .portUnoccupied]
        )
        #expect(try self.parse(self.reply(payload), option: .transformsAllVolumes) == expected)
        #expect(try expected.encodeTX(option: .transformsAllVolumes) == self.reply(payload))
        // An LF after UNOCCUPIED is accepted too.
        let withLF = "02" + "01UNOCCUPIED\n" + "02DISABLED0000001100000009\n" + "0081"
        #expect(try self.parse(self.reply(withLF), option: nil).handles.map(\.status) == [.unoccupied, .disabled])
    }

    @Test func signsAndScaling() throws {
        let payload =
            "01" + "0A" + "-10000+00000-00001+09999" + "-999999+000001+000000" + "+99999" + "000000F1" + "00000000"
            + "\n" + "0000"
        let t = try #require(try self.parse(self.reply(payload), option: nil).handles.first?.transform)
        #expect(t.rotation == Quaternion(q0: -1, qx: 0, qy: -0.0001, qz: 0.9999))
        #expect(t.translation == Vector3(-9999.99, 0.01, 0))
        #expect(t.rmsError == 9.9999)
    }

    @Test func passiveStraysOption() throws {
        let option = NDIReplyOption(rawValue: 0x1001)
        let payload =
            "01" + "05MISSING0000003100000007\n" + "02" + "1" + "+010000+020000-030000" + "+000150+000250-000350"
            + "0000"
        let reply = try self.parse(self.reply(payload), option: option)
        #expect(reply.handles == [.missing(handle: 5, portStatus: NDIPortStatus(rawValue: 0x31), frameNumber: 7)])
        #expect(
            reply.passiveStrays
                == NDIMarkerSet(outOfVolume: [1], positions: [Vector3(100, 200, -300), Vector3(1.5, 2.5, -3.5)])
        )
        #expect(try reply.encodeTX(option: option) == self.reply(payload))
    }

    @Test func unmodelledPerHandleTextIsSkippedForItsOptions() throws {
        let payload = "01" + "05MISSING0000003100000007" + "0123456789ABCDEFGHIJ" + "\n" + "0000"
        let reply = try self.parse(self.reply(payload), option: [.transformsAndStatus, .toolAndMarkerInfo])
        #expect(reply.handles == [.missing(handle: 5, portStatus: NDIPortStatus(rawValue: 0x31), frameNumber: 7)])
        // Without those option bits the same text is an error.
        #expect(
            self.parseError(payload)?.description
                == #"TX reply at stream byte 0 (reply byte 27): expected the LF ending handle 0x05, found "0123456789AB""#
        )
    }

    @Test func malformedRepliesNameTheOffendingByte() throws {
        let good = String(decoding: referenceTX.dropLast(5), as: UTF8.self)
        func corrupt(_ offset: Int, _ s: String) -> String {
            var chars = Array(good)
            chars.replaceSubrange(offset..<(offset + s.count), with: Array(s))
            return String(chars)
        }
        #expect(
            self.parseError(corrupt(10, "+05A00"))?.description
                == #"TX reply at stream byte 0 (reply byte 10): handle 0x01 qx "+05A00" is not a sign and 5 digits"#
        )
        #expect(
            self.parseError(corrupt(28, " "))?.description
                == #"TX reply at stream byte 0 (reply byte 28): handle 0x01 tx " 001250" is not a sign and 6 digits"#
        )
        #expect(
            self.parseError(corrupt(57, "G"))?.description
                == #"TX reply at stream byte 0 (reply byte 55): handle 0x01 port status "00G00031" is not 8 hex digits"#
        )
        #expect(
            self.parseError(corrupt(0, "03"))?.description
                == #"TX reply at stream byte 0 (reply byte 100): the reply ends inside handle 0x00 q0: needs 6 characters, 2 left"#
        )
        #expect(
            self.parseError("0X")?.description
                == #"TX reply at stream byte 0 (reply byte 0): handle count "0X" is not 2 hex digits"#
        )
        #expect(
            self.parseError(good + "00")?.description
                == #"TX reply at stream byte 0 (reply byte 102): 2 unexpected characters at the end, starting "00""#
        )
        #expect(
            self.parseError("0101+05000")?.description
                == #"TX reply at stream byte 0 (reply byte 10): the reply ends inside handle 0x01 qx: needs 6 characters, 0 left"#
        )
        #expect(self.parseError(good, option: .toolAndMarkerInfo)?.kind == .unexpectedReply)
        // Offsets include the stream position when the frame came from a framer mid-stream.
        var framer = NDIReplyFramer()
        framer.feed(ascii("OKAYA896\r") + self.reply(corrupt(10, "+05A00")))
        _ = framer.next()
        let frame = try #require(framer.next()?.frame)
        let e = #expect(throws: NDIReplyError.self) { try NDITrackingReply.parseTX(frame, option: nil) }
        #expect(
            e?.description
                == #"TX reply at stream byte 9 (reply byte 10): handle 0x01 qx "+05A00" is not a sign and 5 digits"#
        )
        #expect(e?.streamOffset == 19)
        let binary = #expect(throws: NDIReplyError.self) {
            try NDITrackingReply.parseTX(#require(singleFrame(referenceBX)), option: nil)
        }
        #expect(binary?.kind == .unexpectedReply)
    }

    @Test func encoderRoundsAndRefusesWhatDoesNotFit() throws {
        func encode(_ t: NDITransform) throws -> String {
            let reply = NDITrackingReply(handles: [.valid(handle: 1, transform: t, portStatus: [], frameNumber: 0)])
            return String(decoding: try reply.encodeTX(option: nil).dropLast(5), as: UTF8.self)
        }
        let rounded = try encode(
            NDITransform(
                rotation: Quaternion(q0: 0.70710678, qx: -0.70710678, qy: -0.00004, qz: 0.00006),
                translation: Vector3(-0.004, 1234.567, -0.006),
                rmsError: 0.12344
            )
        )
        #expect(
            rounded == "0101" + "+07071-07071+00000+00001" + "+000000+123457-000001" + "+01234" + "00000000"
                + "00000000" + "\n" + "0000"
        )
        func failure(_ t: NDITransform) -> String? {
            (#expect(throws: NDIEncodingError.self) { try encode(t) })?.description
        }
        #expect(
            failure(NDITransform(rotation: .identity, translation: Vector3(10000, 0, 0), rmsError: 0))
                == "cannot encode TX reply: handle 0x01 tx = 10000.0 does not fit ±6 digits × 0.01"
        )
        #expect(
            failure(NDITransform(rotation: .identity, translation: .zero, rmsError: 10))?.contains("RMS error") == true
        )
        #expect(failure(NDITransform(rotation: .identity, translation: Vector3(.nan, 0, 0), rmsError: 0)) != nil)
        let option = #expect(throws: NDIEncodingError.self) {
            try referenceTracking.encodeTX(option: [.transformsAndStatus, .activeStray])
        }
        #expect(option?.description == "cannot encode TX reply: option bits 0x0004 have no documented TX layout")
        #expect(throws: NDIEncodingError.self) { try referenceTracking.encodeTX(option: .passiveStrays) }
        #expect(throws: NDIEncodingError.self) {
            try referenceTracking.encodeTX(option: [.transformsAndStatus, .passiveStrays])
        }
    }
}
