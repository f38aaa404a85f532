import Geometry
import IGTLProtocol
import Testing

/// Every golden message of protocols.md §3.6: decoded to the expected values, and the expected
/// values encoded byte for byte.
@Suite struct GoldenMessageTests {
    static let goldenTimestamp = IGTLTimestamp(rawValue: 0x4996_02D4)

    static func floats(_ bytes: [UInt8]) -> [Float] {
        var out: [Float] = []
        for i in stride(from: 0, to: bytes.count, by: 4) {
            var bits: UInt32 = 0
            for b in bytes[i..<i + 4] { bits = bits << 8 | UInt32(b) }
            out.append(Float(bitPattern: bits))
        }
        return out
    }

    /// The C library's transform, from its float32 values (R11 R21 R31 R12 … TX TY TZ).
    static let goldenTransform = IGTLTransformContent.transform(floats(Golden.transformBody))

    @Test func transformDecodes() throws {
        let message = try IGTLMessage.decode(Golden.transform)
        #expect(message.headerVersion == 1)
        #expect(message.typeName == "TRANSFORM")
        #expect(message.deviceName == "DeviceName")
        #expect(message.timestamp == Self.goldenTimestamp)
        #expect(message.timestamp.seconds == 0 && message.timestamp.fraction == 0x4996_02D4)
        #expect(message.metadata.isEmpty)
        guard case .transform(let t) = message.body else {
            Issue.record("not a transform: \(message.body)")
            return
        }
        // The values in protocols.md §3.6 (a), column by column, then the translation.
        let expected: [Double] = [
            -0.954892, 0.196632, -0.222525, -0.196632, 0.142857, 0.970014, 0.222525, 0.970014, -0.0977491,
            46.0531, 19.4709, 46.0531,
        ]
        let got = [
            t.rotation[0, 0], t.rotation[1, 0], t.rotation[2, 0], t.rotation[0, 1], t.rotation[1, 1], t.rotation[2, 1],
            t.rotation[0, 2], t.rotation[1, 2], t.rotation[2, 2], t.translation.x, t.translation.y, t.translation.z,
        ]
        for (g, e) in zip(got, expected) {
            #expect(abs(g - e) <= 1e-6 * max(1, abs(e)), "\(g) vs \(e)")
        }
        #expect(t == Self.goldenTransform)
    }

    @Test func transformEncodes() throws {
        let message = IGTLMessage(
            deviceName: "DeviceName",
            timestamp: Self.goldenTimestamp,
            body: .transform(Self.goldenTransform)
        )
        #expect(try message.encoded() == Golden.transform)
    }

    @Test func transformFormat2Decodes() throws {
        let message = try IGTLMessage.decode(Golden.transformFormat2)
        #expect(message.headerVersion == 2)
        #expect(message.deviceName == "DeviceName")
        #expect(message.timestamp == Self.goldenTimestamp)
        #expect(message.messageID == 1)
        #expect(message.body == .transform(Self.goldenTransform))
        #expect(
            message.metadata == [
                IGTLMetadataEntry(key: "First patient age", encoding: 3, value: ascii("22")),
                IGTLMetadataEntry(key: "Second patient age", encoding: 3, value: ascii("25")),
            ]
        )
        #expect(message.metadataValue("Second patient age") == "25")
    }

    @Test func transformFormat2Encodes() throws {
        let message = IGTLMessage(
            headerVersion: 2,
            deviceName: "DeviceName",
            timestamp: Self.goldenTimestamp,
            body: .transform(Self.goldenTransform),
            messageID: 1,
            metadata: [
                IGTLMetadataEntry(key: "First patient age", value: "22"),
                IGTLMetadataEntry(key: "Second patient age", value: "25"),
            ]
        )
        #expect(try message.encoded() == Golden.transformFormat2)
    }

    @Test func statusDecodesAndEncodes() throws {
        let status = IGTLStatus(
            code: IGTLStatus.Code.disabled,
            subcode: 10,
            errorName: "ACTUATOR_DISABLED",
            message: "Actuator A is disabled."
        )
        let message = try IGTLMessage.decode(Golden.status)
        #expect(message.typeName == "STATUS")
        #expect(message.deviceName == "DeviceName")
        #expect(message.timestamp == Self.goldenTimestamp)
        #expect(message.body == .status(status))
        let built = IGTLMessage(deviceName: "DeviceName", timestamp: Self.goldenTimestamp, body: .status(status))
        #expect(try built.encoded() == Golden.status)
    }

    @Test func stringDecodesAndEncodes() throws {
        let message = try IGTLMessage.decode(Golden.string)
        guard case .string(let s) = message.body else {
            Issue.record("not a string: \(message.body)")
            return
        }
        #expect(s.encoding == 3)
        #expect(s.text == "Welcome to OpenIGTLink")
        let built = IGTLMessage(
            deviceName: "DeviceName",
            timestamp: Self.goldenTimestamp,
            body: .string(IGTLString("Welcome to OpenIGTLink"))
        )
        #expect(try built.encoded() == Golden.string)
    }

    @Test func positionDecodesAndEncodes() throws {
        let message = try IGTLMessage.decode(Golden.position)
        guard case .position(let p, let typeName) = message.body else {
            Issue.record("not a position: \(message.body)")
            return
        }
        #expect(typeName == "POSITION")
        #expect(
            abs(Double(p.x) - 46.0531) < 1e-4 && abs(Double(p.y) - 19.4709) < 1e-4 && abs(Double(p.z) - 46.0531) < 1e-4
        )
        #expect(p.quaternion.count == 4)
        #expect(p.quaternion[0] == 0)
        #expect(abs(Double(p.quaternion[1]) - 0.57735) < 1e-5 && abs(Double(p.quaternion[2]) - 0.57735) < 1e-5)
        #expect(abs(Double(p.quaternion[3]) - 1.0 / 3.0) < 1e-6)
        let values = Self.floats(Array(Golden.position[58...]))
        let built = IGTLMessage(
            deviceName: "DeviceName",
            timestamp: Self.goldenTimestamp,
            body: .position(IGTLPosition(x: values[0], y: values[1], z: values[2], quaternion: Array(values[3...])))
        )
        #expect(try built.encoded() == Golden.position)
    }

    /// protocols.md §3.6 (b): the pose of §1.4 as pyigtl packs it, header and CRC included.
    @Test func pyigtlTransformEncodes() throws {
        let transform = try RigidTransform(matrix4x4: [
            [0, 0, 1, 12.5], [1, 0, 0, -34.25], [0, 1, 0, -1500], [0, 0, 0, 1],
        ])
        let message = IGTLMessage(
            deviceName: "CoilToTracker",
            timestamp: IGTLTimestamp(seconds: 1_700_000_000, nanoseconds: 250_000_000),
            body: .transform(transform)
        )
        #expect(try message.encoded() == Golden.pyigtlCoilToTracker)
        let decoded = try IGTLMessage.decode(Golden.pyigtlCoilToTracker)
        #expect(decoded == message)
        #expect(decoded.timestamp.seconds == 1_700_000_000 && decoded.timestamp.fraction == 0x4000_0000)
    }

    @Test func headerFieldsOfGolden() throws {
        let header = try IGTLHeader.decode(Golden.transformFormat2)
        #expect(
            header
                == IGTLHeader(
                    version: 2,
                    typeName: "TRANSFORM",
                    deviceName: "DeviceName",
                    timestamp: Self.goldenTimestamp,
                    bodySize: 117,
                    crc: 0xF698_F64F_DAE2_66DD
                )
        )
        #expect(try header.encoded() == Array(Golden.transformFormat2[..<58]))
    }

    @Test func positionFormat2DecodesAndEncodes() throws {
        let message = try IGTLMessage.decode(Golden.positionFormat2)
        let plain = try IGTLMessage.decode(Golden.position)
        #expect(message.headerVersion == 2 && message.messageID == 1)
        #expect(message.body == plain.body)
        #expect(message.metadataValue("First patient age") == "22")
        #expect(message.metadataValue("Second patient age") == "25")
        var built = plain
        built.headerVersion = 2
        built.messageID = 1
        built.metadata = [
            IGTLMetadataEntry(key: "First patient age", value: "22"),
            IGTLMetadataEntry(key: "Second patient age", value: "25"),
        ]
        #expect(try built.encoded() == Golden.positionFormat2)
    }

    @Test func trackingDataDecodesAndEncodes() throws {
        let message = try IGTLMessage.decode(Golden.trackingData)
        let elements = (0..<3).map {
            IGTLTrackingDataElement(
                name: "Tracker\($0)",
                type: IGTLTrackingDataElement.InstrumentType.sixDOF,
                transform: Self.goldenTransform
            )
        }
        #expect(message.typeName == "TDATA")
        #expect(message.body == .trackingData(elements))
        let built = IGTLMessage(
            deviceName: "DeviceName",
            timestamp: Self.goldenTimestamp,
            body: .trackingData(elements)
        )
        #expect(try built.encoded() == Golden.trackingData)
    }
}
