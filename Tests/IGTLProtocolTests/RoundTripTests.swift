import Geometry
import IGTLProtocol
import Testing

@Suite struct RoundTripTests {
    /// Seeded random transforms survive encode → decode to float32 precision; encoding the decoded
    /// message gives the same bytes.
    @Test func randomTransforms() throws {
        var rng = SplitMix64(seed: 0x16_7A_2026)
        for i in 0..<500 {
            let rotation = RigidTransform(rotation: rng.nextRotation(), translation: rng.nextGaussianVector(sigma: 300))
            let version: UInt16 = i % 2 == 0 ? 1 : 2
            let message = IGTLMessage(
                headerVersion: version,
                deviceName: "CoilToMRI",
                timestamp: IGTLTimestamp(
                    seconds: UInt32(1_700_000_000 + i),
                    nanoseconds: UInt32(rng.next() % 1_000_000_000)
                ),
                body: .transform(rotation),
                messageID: version == 2 ? UInt32(i) : 0,
                metadata: version == 2 ? [IGTLMetadataEntry(key: "TransformValid", value: "true")] : []
            )
            let bytes = try message.encoded()
            #expect(bytes.count == 58 + 48 + (version == 2 ? 12 + 10 + 14 + 4 : 0))
            let decoded = try IGTLMessage.decode(bytes)
            guard case .transform(let t) = decoded.body else {
                Issue.record("not a transform")
                return
            }
            let d = t.difference(to: rotation)
            #expect(d.translationMM <= 1500 * Double(Float.ulpOfOne))
            #expect(d.rotationRadians <= 1e-6)
            #expect(decoded.timestamp == message.timestamp)
            #expect(decoded.messageID == message.messageID)
            #expect(decoded.metadata == message.metadata)
            #expect(try decoded.encoded() == bytes)
        }
    }

    /// Metadata with several keys, ASCII and UTF-8 values and an empty value.
    @Test func metadataWithSeveralKeys() throws {
        let metadata = [
            IGTLMetadataEntry(key: "TransformValid", value: "false"),
            IGTLMetadataEntry(key: "TransformStatus", value: "INVALID"),
            IGTLMetadataEntry(key: "Reason", value: "coil missing — Spule fehlt"),
            IGTLMetadataEntry(key: "Empty", value: ""),
            IGTLMetadataEntry(key: "Binary", encoding: 0, value: [0, 255, 1]),
        ]
        #expect(metadata[2].encoding == IGTLMetadataEntry.utf8)
        #expect(metadata[0].encoding == IGTLMetadataEntry.usASCII)
        let message = IGTLMessage(
            headerVersion: 2,
            deviceName: "CoilToTarget",
            timestamp: IGTLTimestamp(seconds: 5, fraction: 7),
            body: .transform(.identity),
            messageID: 42,
            metadata: metadata
        )
        let bytes = try message.encoded()
        // Extended header: 12, META_HEADER_SIZE = 2 + 8·5, MSG_ID 42.
        #expect(Array(bytes[58..<62]) == [0, 12, 0, 42])
        #expect(Array(bytes[66..<70]) == [0, 0, 0, 42])
        let decoded = try IGTLMessage.decode(bytes)
        #expect(decoded == message)
        #expect(decoded.metadataValue("Reason") == "coil missing — Spule fehlt")
        #expect(decoded.metadataValue("Binary") == nil)
    }

    /// A version-2 message without metadata still carries the entry count (as pyigtl writes it);
    /// a metadata header size of 0 is accepted on decoding.
    @Test func versionTwoWithoutMetadata() throws {
        let message = IGTLMessage(
            headerVersion: 2,
            deviceName: "Server",
            body: .status(IGTLStatus(code: IGTLStatus.Code.ok))
        )
        let bytes = try message.encoded()
        #expect(Array(bytes[58..<70]) == [0, 12, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(try IGTLMessage.decode(bytes) == message)
        // Same body with META_HEADER_SIZE 0 and no count.
        let content = Array(bytes[70..<(bytes.count - 2)])
        var body: [UInt8] = [0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] + content
        let header = IGTLHeader(
            version: 2,
            typeName: "STATUS",
            deviceName: "Server",
            timestamp: .none,
            bodySize: UInt64(body.count),
            crc: IGTLCRC64.checksum(body)
        )
        body = try header.encoded() + body
        #expect(try IGTLMessage.decode(body) == message)
    }

    @Test(
        arguments: [
            IGTLBody.get(dataType: "TRANS"),
            .get(dataType: "TRANSFOR"),
            .get(dataType: "STATUS"),
            .startStreaming(dataType: "TRANSFOR", IGTLStartStreaming()),
            .startStreaming(dataType: "TRANS", IGTLStartStreaming(resolutionMS: 20)),
            .startStreaming(dataType: "TDATA", IGTLStartStreaming(resolutionMS: 0, coordinateName: "Tracker")),
            .stopStreaming(dataType: "TRANSFOR"),
            .stopStreaming(dataType: "STATUS"),
            .startStopReply(dataType: "TRANSFOR", status: 0),
            .startStopReply(dataType: "TDATA", status: 1),
            .string(IGTLString("{\"distanceMM\":1.25}")),
            .string(IGTLString("SelectTarget M1-left")),
            .status(
                IGTLStatus(
                    code: IGTLStatus.Code.notReady,
                    subcode: -3,
                    errorName: "TRACKING_LOST",
                    message: "no frame for 100 ms"
                )
            ),
            .position(IGTLPosition(x: 1, y: 2, z: 3, quaternion: [])),
            .position(IGTLPosition(x: 1, y: 2, z: 3, quaternion: [0, 0, 0]), typeName: "QTRANS"),
            .raw(typeName: "CAPABILITY", content: []),
        ]
    )
    func bodiesRoundTrip(body: IGTLBody) throws {
        for version: UInt16 in [1, 2] {
            let message = IGTLMessage(headerVersion: version, deviceName: "CoilNav", body: body)
            let bytes = try message.encoded()
            #expect(try IGTLMessage.decode(bytes) == message)
            var decoder = IGTLStreamDecoder()
            decoder.feed(bytes)
            #expect(try decoder.next() == .message(message))
        }
    }

    @Test func queryBodiesOnTheWire() throws {
        let get = try IGTLMessage(deviceName: "CoilToMRI", body: .get(dataType: "TRANS")).encoded()
        #expect(get.count == 58)
        #expect(Array(get[2..<14]) == ascii("GET_TRANS") + [0, 0, 0])
        #expect(Array(get[42..<58]) == [0, 0, 0, 0, 0, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 0])  // size 0, CRC of nothing 0
        let stt = try IGTLMessage(
            deviceName: "",
            body: .startStreaming(dataType: "TDATA", IGTLStartStreaming(resolutionMS: 50, coordinateName: "RAS"))
        ).encoded()
        #expect(Array(stt[58...]) == [0, 0, 0, 50] + ascii("RAS") + Array(repeating: 0, count: 29))
        let rts = try IGTLMessage(deviceName: "", body: .startStopReply(dataType: "TRANSFOR", status: 0)).encoded()
        #expect(Array(rts[2..<14]) == ascii("RTS_TRANSFOR"))
        #expect(Array(rts[58...]) == [0])
        #expect(IGTLBody.canonicalDataType("TRANS") == "TRANSFORM")
        #expect(IGTLBody.canonicalDataType("TRANSFOR") == "TRANSFORM")
        #expect(IGTLBody.canonicalDataType("STATUS") == "STATUS")
    }

    @Test func twentyCharacterDeviceNameHasNoTerminator() throws {
        let name = "ABCDEFGHIJKLMNOPQRST"
        let bytes = try IGTLMessage(deviceName: name, body: .transform(.identity)).encoded()
        #expect(Array(bytes[14..<34]) == ascii(name))
        #expect(try IGTLMessage.decode(bytes).deviceName == name)
    }

    @Test func encodingErrorsNameTheField() {
        func failure(_ message: IGTLMessage) -> IGTLError? {
            do {
                _ = try message.encoded()
                return nil
            } catch {
                return error
            }
        }
        let long = failure(IGTLMessage(deviceName: "ABCDEFGHIJKLMNOPQRSTU", body: .transform(.identity)))
        #expect(long?.field == "device name" && long?.offset == 14 && long?.kind == .invalidName)
        let nonASCII = failure(IGTLMessage(deviceName: "Spüle", body: .transform(.identity)))
        #expect(nonASCII?.field == "device name" && nonASCII?.offset == 16)
        let longType = failure(IGTLMessage(deviceName: "X", body: .get(dataType: "TRANSFORM")))  // GET_TRANSFORM is 13
        #expect(longType?.field == "type name" && longType?.offset == 2)
        let metadataOnV1 = failure(
            IGTLMessage(
                deviceName: "X",
                body: .transform(.identity),
                metadata: [IGTLMetadataEntry(key: "a", value: "b")]
            )
        )
        #expect(metadataOnV1?.kind == .unencodable)
        let version3 = failure(IGTLMessage(headerVersion: 3, deviceName: "X", body: .transform(.identity)))
        #expect(version3?.kind == .unsupportedVersion && version3?.offset == 0)
        let longString = failure(
            IGTLMessage(
                deviceName: "X",
                body: .string(IGTLString(encoding: 3, bytes: Array(repeating: 65, count: 65536)))
            )
        )
        #expect(longString?.field == "STRING length")
        let longErrorName = failure(
            IGTLMessage(deviceName: "X", body: .status(IGTLStatus(code: 2, errorName: "ABCDEFGHIJKLMNOPQRSTU")))
        )
        #expect(longErrorName?.field == "STATUS error name" && longErrorName?.offset == 68)
    }

    @Test func stringLengthFieldChecked() throws {
        var bytes = Golden.string
        bytes[61] = 0x17  // LENGTH 23 > 22 bytes
        let crc = IGTLCRC64.checksum(bytes[58...])
        for i in 0..<8 { bytes[50 + i] = UInt8(truncatingIfNeeded: crc >> (56 - 8 * UInt64(i))) }
        do {
            _ = try IGTLMessage.decode(bytes)
            Issue.record("bad LENGTH accepted")
        } catch {
            #expect(error.kind == .malformedBody && error.field == "STRING length" && error.offset == 60)
        }
    }
}

@Suite struct EncodeIntoTests {
    /// Appending into one buffer gives the messages back to back; a failed message leaves the
    /// buffer as it was.
    @Test func appendsAndRollsBack() throws {
        let a = try IGTLMessage.decode(Golden.transformFormat2)
        let b = try IGTLMessage.decode(Golden.status)
        var buffer: [UInt8] = []
        try a.encode(into: &buffer)
        try b.encode(into: &buffer)
        #expect(buffer == Golden.transformFormat2 + Golden.status)
        let bad = IGTLMessage(
            headerVersion: 2,
            deviceName: "X",
            body: .status(IGTLStatus(code: 2, errorName: "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        )
        do {
            try bad.encode(into: &buffer)
            Issue.record("a 26-character error name was encoded")
        } catch {
            // Version 2: the content starts after the 12-byte extended header.
            #expect(error.field == "STATUS error name" && error.offset == 80)
        }
        #expect(buffer == Golden.transformFormat2 + Golden.status)
        buffer.removeAll(keepingCapacity: true)
        try b.encode(into: &buffer)
        #expect(buffer == Golden.status)
    }
}
