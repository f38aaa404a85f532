import Geometry
import NDIProtocol
import Testing

/// Builds BX bytes by hand, independently of the encoder: little-endian fields, float32.
struct BXBuilder {
    var body: [UInt8] = []

    mutating func u8(_ v: UInt8) { self.body.append(v) }
    mutating func u16(_ v: UInt16) { self.body += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    mutating func u32(_ v: UInt32) {
        self.body += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
    }
    mutating func f32(_ v: Float) { self.u32(v.bitPattern) }
    mutating func f32s(_ vs: [Float]) { vs.forEach { self.f32($0) } }

    /// Header, body and CRCs.
    var reply: [UInt8] {
        let n = UInt16(self.body.count)
        var out: [UInt8] = [0xC4, 0xA5, UInt8(n & 0xFF), UInt8(n >> 8)]
        let h = NDICRC16.checksum(out)
        out += [UInt8(h & 0xFF), UInt8(h >> 8)]
        out += self.body
        let b = NDICRC16.checksum(self.body)
        return out + [UInt8(b & 0xFF), UInt8(b >> 8)]
    }
}

@Suite struct BXReplyTests {
    func parse(_ bytes: [UInt8], option: NDIReplyOption?) throws -> NDITrackingReply {
        let frame = try #require(singleFrame(bytes))
        return try NDITrackingReply.parseBX(frame, option: option)
    }

    func parseError(_ bytes: [UInt8], option: NDIReplyOption?) -> NDIReplyError? {
        guard let frame = singleFrame(bytes) else {
            Issue.record("did not frame")
            return nil
        }
        return #expect(throws: NDIReplyError.self) { try NDITrackingReply.parseBX(frame, option: option) }
    }

    /// The 63-byte example of `protocols.md` §1.4, with the values ndicapy returned for it.
    @Test func decodesTheReferenceExample() throws {
        let reply = try self.parse(referenceBX, option: .transformsAllVolumes)
        #expect(reply == referenceTracking)
        let one = try #require(reply.report(for: 0x01))
        #expect(one.status == .valid)
        let t = try #require(one.transform)
        #expect(t.rotation == Quaternion(q0: 0.5, qx: 0.5, qy: 0.5, qz: 0.5))
        #expect(t.translation == Vector3(12.5, -34.25, -1500.0))
        #expect(t.rmsError == 0.125)
        #expect(one.portStatus == [.occupied, .initialized, .enabled])
        #expect(one.portStatus?.isOccupiedInitializedEnabled == true)
        #expect(one.frameNumber == 1234)
        #expect(!one.isOutOfVolume && !one.isPartiallyOutOfVolume)
        let two = try #require(reply.report(for: 0x02))
        #expect(two.status == .missing)
        #expect(two.transform == nil)
        #expect(two.portStatus?.rawValue == 0x31)
        #expect(two.frameNumber == 1234)
        #expect(reply.systemStatus == [])
        #expect(reply.passiveStrays == nil)
        // ndicapi's matrix for this quaternion: R = [[0,0,1],[1,0,0],[0,1,0]].
        let r = t.rigidTransform.rotation
        #expect(r.rowMajor == [0, 0, 1, 1, 0, 0, 0, 1, 0])
        // Option 0x0001 has the same layout.
        #expect(try self.parse(referenceBX, option: nil) == referenceTracking)
        #expect(try self.parse(referenceBX, option: .transformsAndStatus) == referenceTracking)
    }

    @Test func encodesTheReferenceExampleByteForByte() throws {
        #expect(try referenceTracking.encodeBX(option: .transformsAllVolumes) == referenceBX)
        #expect(try referenceTracking.encodeBX(option: nil) == referenceBX)
        #expect(try NDIReply.tracking(referenceTracking).encoded(for: .bx(.transformsAllVolumes)) == referenceBX)
    }

    /// Hand-computed golden reply: a disabled handle (nothing after its status byte), a missing
    /// one out of volume and only partially in volume, a missing one with the largest frame
    /// number, and system status "port occupied | port unoccupied".
    @Test func disabledMissingAndStatusFlags() throws {
        let golden: [UInt8] = [
            0xc4, 0xa5, 0x19, 0x00, 0x26, 0x83, 0x03, 0x05, 0x04, 0x06, 0x02, 0xf1, 0x00, 0x00, 0x00, 0x10, 0x00,
            0x00, 0x00, 0x07, 0x02, 0x31, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xc0, 0x00, 0xbc, 0xbe,
        ]
        let expected = NDITrackingReply(
            handles: [
                NDIHandleReport(handle: 0x05, status: .disabled),
                .missing(
                    handle: 0x06,
                    portStatus: [.occupied, .initialized, .enabled, .outOfVolume, .partiallyInVolume],
                    frameNumber: 16
                ),
                .missing(handle: 0x07, portStatus: NDIPortStatus(rawValue: 0x31), frameNumber: 0xFFFF_FFFF),
            ],
            systemStatus: [.portOccupied, .portUnoccupied]
        )
        let reply = try self.parse(golden, option: .transformsAllVolumes)
        #expect(reply == expected)
        #expect(reply.handles[0].portStatus == nil && reply.handles[0].frameNumber == nil)
        #expect(reply.handles[1].isOutOfVolume && reply.handles[1].isPartiallyOutOfVolume)
        #expect(reply.handles[1].portStatus?.rawValue == 0xF1)
        #expect(reply.systemStatus.rawValue == 0x00C0)
        #expect(try expected.encodeBX(option: .transformsAllVolumes) == golden)
    }

    @Test func everySystemStatusFlag() throws {
        let flags: [(NDISystemStatus, UInt16)] = [
            (.commSyncError, 0x01), (.tooMuchInfrared, 0x02), (.commCRCError, 0x04), (.recoverableCommError, 0x08),
            (.hardwareFailure, 0x10), (.hardwareChange, 0x20), (.portOccupied, 0x40), (.portUnoccupied, 0x80),
        ]
        for (flag, raw) in flags {
            var b = BXBuilder()
            b.u8(0)
            b.u16(raw)
            #expect(try self.parse(b.reply, option: nil).systemStatus == flag)
        }
        let ports: [(NDIPortStatus, UInt32)] = [
            (.occupied, 0x01), (.switch1, 0x02), (.switch2, 0x04), (.switch3, 0x08), (.initialized, 0x10),
            (.enabled, 0x20), (.outOfVolume, 0x40), (.partiallyInVolume, 0x80),
        ]
        for (flag, raw) in ports {
            #expect(flag.rawValue == raw)
        }
    }

    /// Options 0x0002, 0x0004, 0x0008 and 0x1000 together, built by hand: each section is read
    /// in order and skipped for the disabled handle.
    @Test func optionalSectionsAreParsedInOrder() throws {
        let option = NDIReplyOption(rawValue: 0x100F)
        var b = BXBuilder()
        b.u8(3)
        // Handle 0x0A valid.
        b.u8(0x0A); b.u8(0x01)
        b.f32s([1, 0, 0, 0, 10.5, -20.25, -1800, 0.25])
        b.u32(0x31); b.u32(77)
        b.u8(0x5A); b.body += Array(1...10)  // 0x0002
        b.u8(0x01); b.f32s([1, 2, 3])  // 0x0004: status valid, position
        b.u8(9); b.body += [0xFF, 0x01]; for i in 0..<9 { b.f32s([Float(i), Float(-i), 0.5]) }  // 0x0008: 9 markers
        // Handle 0x0B missing: no transform, but the other sections follow.
        b.u8(0x0B); b.u8(0x02)
        b.u32(0x11); b.u32(77)
        b.u8(0x00); b.body += [UInt8](repeating: 0, count: 10)
        b.u8(0x00)  // stray status 0: no position
        b.u8(0)  // no markers, no out-of-volume bytes
        // Handle 0x0C disabled: nothing.
        b.u8(0x0C); b.u8(0x04)
        // 0x1000: 2 passive strays.
        b.u8(2); b.u8(0x02); b.f32s([100, 200, -300, 1.5, 2.5, -3.5])
        b.u16(0x0002)
        let bytes = b.reply

        let reply = try self.parse(bytes, option: option)
        #expect(reply.handles.count == 3)
        let a = reply.handles[0]
        #expect(a.handle == 0x0A && a.status == .valid)
        #expect(
            a.transform == NDITransform(rotation: .identity, translation: Vector3(10.5, -20.25, -1800), rmsError: 0.25)
        )
        #expect(a.portStatus?.rawValue == 0x31 && a.frameNumber == 77)
        #expect(a.toolMarkerInfo == NDIToolMarkerInfo(toolInformation: 0x5A, markerInformation: Array(1...10)))
        #expect(a.activeStray == NDIActiveStray(status: 0x01, position: Vector3(1, 2, 3)))
        #expect(a.markers?.outOfVolume == [0xFF, 0x01])
        #expect(a.markers?.positions == (0..<9).map { Vector3(Double($0), Double(-$0), 0.5) })
        let m = reply.handles[1]
        #expect(m.status == .missing && m.transform == nil && m.portStatus?.rawValue == 0x11)
        #expect(
            m.toolMarkerInfo
                == NDIToolMarkerInfo(toolInformation: 0, markerInformation: [UInt8](repeating: 0, count: 10))
        )
        #expect(m.activeStray == NDIActiveStray(status: 0, position: nil))
        #expect(m.markers == NDIMarkerSet(outOfVolume: [], positions: []))
        #expect(reply.handles[2] == NDIHandleReport(handle: 0x0C, status: .disabled))
        #expect(
            reply.passiveStrays
                == NDIMarkerSet(outOfVolume: [0x02], positions: [Vector3(100, 200, -300), Vector3(1.5, 2.5, -3.5)])
        )
        #expect(reply.systemStatus == .tooMuchInfrared)
        // The encoder writes the same bytes.
        #expect(try reply.encodeBX(option: option) == bytes)
    }

    @Test func malformedBodiesNameTheOffendingByte() throws {
        var unknownStatus = BXBuilder()
        unknownStatus.u8(1); unknownStatus.u8(0x01); unknownStatus.u8(0x03); unknownStatus.u16(0)
        #expect(
            self.parseError(unknownStatus.reply, option: nil)?.description
                == "BX reply at stream byte 0 (reply byte 8): handle 0x01 has status 0x03, not 0x01 valid, 0x02 missing or 0x04 disabled"
        )

        var short = BXBuilder()
        short.u8(1); short.u8(0x01); short.u8(0x01); short.f32s([1, 0]); short.u16(0x0000); short.u16(0)
        #expect(
            self.parseError(short.reply, option: nil)?.description
                == "BX reply at stream byte 0 (reply byte 17): the body ends inside handle 0x01 qy: needs 4 bytes, 2 left before the system status"
        )

        var missingHandles = BXBuilder()
        missingHandles.u8(2); missingHandles.u8(0x01); missingHandles.u8(0x04); missingHandles.u16(0)
        #expect(
            self.parseError(missingHandles.reply, option: nil)?.description
                == "BX reply at stream byte 0 (reply byte 9): the body ends inside handle 2 of 2: needs 1 bytes, 0 left before the system status"
        )

        var extra = BXBuilder()
        extra.body = Array(referenceBX[6..<59]) + [0xAA, 0xBB] + [0, 0]
        let e = self.parseError(extra.reply, option: .transformsAllVolumes)
        #expect(e?.kind == .malformed)
        #expect(
            e?.description
                == "BX reply at stream byte 0 (reply byte 59): 2 bytes left between the last section and the system status (reply length does not match the option 0x0801)"
        )

        // The same bytes read with the wrong option break the layout.
        #expect(self.parseError(referenceBX, option: [.transformsAndStatus, .toolAndMarkerInfo])?.kind == .malformed)
        #expect(self.parseError(referenceBX, option: [.transformsAndStatus, .passiveStrays])?.kind == .malformed)

        let okay = try #require(singleFrame(ascii("OKAYA896\r")))
        let notBinary = #expect(throws: NDIReplyError.self) { try NDITrackingReply.parseBX(okay, option: nil) }
        #expect(notBinary?.kind == .unexpectedReply)
    }

    @Test func unrepresentableDataIsRefused() {
        func failure(_ reply: NDITrackingReply, _ option: NDIReplyOption?) -> String? {
            (#expect(throws: NDIEncodingError.self) { try reply.encodeBX(option: option) })?.description
        }
        #expect(
            failure(NDITrackingReply(handles: [NDIHandleReport(handle: 1, status: .unoccupied)]), nil)
                == "cannot encode BX reply: handle 0x01 is unoccupied, which BX cannot express"
        )
        #expect(
            failure(
                NDITrackingReply(handles: [NDIHandleReport(handle: 1, status: .valid, portStatus: [], frameNumber: 1)]),
                nil
            )
                == "cannot encode BX reply: handle 0x01 is valid but has no transform"
        )
        #expect(
            failure(NDITrackingReply(handles: [NDIHandleReport(handle: 2, status: .missing)]), nil)
                == "cannot encode BX reply: handle 0x02 needs a port status and a frame number for option 0x0001"
        )
        #expect(
            failure(referenceTracking, [.transformsAndStatus, .passiveStrays])
                == "cannot encode BX reply: option 0x1000 needs passive strays"
        )
        var strays = referenceTracking
        strays.passiveStrays = NDIMarkerSet(outOfVolume: [], positions: [.zero])
        #expect(
            failure(strays, [.transformsAndStatus, .passiveStrays])
                == "cannot encode BX reply: passive strays: 1 markers need 1 out-of-volume bytes, got 0"
        )
        var stray = referenceTracking
        stray.handles[0].activeStray = NDIActiveStray(status: 1, position: nil)
        stray.handles[1].activeStray = NDIActiveStray(status: 0, position: nil)
        #expect(
            failure(stray, [.transformsAndStatus, .activeStray])?.contains("handle 0x01 needs an active stray") == true
        )
        // Disabled handles need nothing.
        #expect(
            (try? NDITrackingReply(handles: [NDIHandleReport(handle: 9, status: .disabled)]).encodeBX(
                option: NDIReplyOption(rawValue: 0x100F).subtracting(.passiveStrays)
            )) != nil
        )
    }
}
