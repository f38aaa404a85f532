import CoilNavTestSupport
import Foundation
import Geometry
import IGTLProtocol
import Testing

/// pyigtl (PyPI 0.3.4, the client the field uses from Python) unpacks messages this codec encoded:
/// header fields, TRANSFORM matrix, STRING text, version-2 metadata and message ID, and its own
/// CRC-64 of each body equals ours. No sockets: the messages go through pyigtl's own
/// `parse_header`/`create_message`/`unpack`, the functions its client thread calls on received bytes.
///
/// Needs a Python with pyigtl: `$COILNAV_PYTHON`, or `.venv-ci/bin/python` at the package root
/// (`python3 -m venv .venv-ci && .venv-ci/bin/pip install pyigtl==0.3.4`). Skipped, saying why,
/// without it.
struct PyigtlInteropTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let python: String? = pythonInterpreter(importing: ["pyigtl"], packageRoot: Self.packageRoot)

    /// Reads one hex-encoded message per stdin line; prints one JSON object per message.
    static let script = """
        import sys, json, struct
        import pyigtl
        from pyigtl.messages import MessageBase, CRC64
        for line in sys.stdin:
            data = bytes.fromhex(line.strip())
            header, body = data[:58], data[58:]
            fields = MessageBase.parse_header(header)
            assert fields['body_size'] == len(body), (fields['body_size'], len(body))
            out = {'type': fields['message_type'], 'device': fields['device_name'],
                   'version': fields['header_version'], 'timestamp': fields['timestamp'],
                   'crc': CRC64(body), 'headerCRC': int.from_bytes(header[50:58], 'big')}
            message = MessageBase.create_message(fields['message_type'])
            if message is None:
                out['decoded'] = False
            else:
                message.unpack(fields, body)
                out['decoded'] = True
                out['metadata'] = message.metadata
                out['messageID'] = message.message_id
                if isinstance(message, pyigtl.TransformMessage):
                    # float32 bit patterns: exact, with no decimal text in between.
                    out['matrix'] = [[struct.unpack('>I', struct.pack('>f', float(v)))[0] for v in row]
                                     for row in message.matrix]
                if isinstance(message, pyigtl.StringMessage):
                    out['string'] = message.string
            print(json.dumps(out))
        """

    @Test(
        .enabled(
            if: Self.python != nil,
            "pyigtl is not installed: run `python3 -m venv .venv-ci && .venv-ci/bin/pip install pyigtl==0.3.4` or set COILNAV_PYTHON"
        )
    )
    func pyigtlUnpacksOurMessages() throws {
        var rng = SplitMix64(seed: 404)
        let transforms = (0..<4).map { _ in
            RigidTransform(rotation: rng.nextRotation(), translation: rng.nextGaussianVector(sigma: 100))
        }
        let timestamp = IGTLTimestamp(seconds: 1_700_000_000, nanoseconds: 250_000_000)
        let messages = [
            IGTLMessage(deviceName: "CoilToMRI", timestamp: timestamp, body: .transform(transforms[0])),
            IGTLMessage(
                headerVersion: 2,
                deviceName: "CoilToTarget",
                timestamp: timestamp,
                body: .transform(transforms[1]),
                messageID: 77,
                metadata: [
                    IGTLMetadataEntry(key: "TransformValid", value: "false"),
                    IGTLMetadataEntry(key: "TransformStatus", value: "coil missing"),
                ]
            ),
            IGTLMessage(
                headerVersion: 2,
                deviceName: "HeadToTracker",
                timestamp: timestamp,
                body: .transform(transforms[2])
            ),
            IGTLMessage(deviceName: "Metrics", timestamp: timestamp, body: .string(IGTLString("{\"distanceMM\":1.5}"))),
            IGTLMessage(
                headerVersion: 2,
                deviceName: "Metrics",
                timestamp: timestamp,
                body: .string(IGTLString("Ziel: M1 links — ok")),
                messageID: 3
            ),
            IGTLMessage(
                deviceName: "Tracking",
                timestamp: timestamp,
                body: .status(IGTLStatus(code: 13, errorName: "LOST", message: "no frame"))
            ),
        ]
        let input = try messages.map { try $0.encoded().map { hex2($0) }.joined() }.joined(separator: "\n") + "\n"

        let process = Process()
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.executableURL = URL(fileURLWithPath: Self.python!)
        process.arguments = ["-c", Self.script]
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "pyigtl script failed: \(String(decoding: errors, as: UTF8.self))")

        let lines = try String(decoding: output, as: UTF8.self).split(separator: "\n").map {
            try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        try #require(lines.count == messages.count)
        for (message, line) in zip(messages, lines) {
            #expect(line["type"] as? String == message.typeName)
            #expect(line["device"] as? String == message.deviceName)
            #expect((line["version"] as? Int).map(UInt16.init) == message.headerVersion)
            #expect(line["timestamp"] as? Double == 1_700_000_000.25)
            // pyigtl's CRC of the body equals the CRC we put in the header.
            #expect((line["crc"] as? NSNumber)?.uint64Value == (line["headerCRC"] as? NSNumber)?.uint64Value)
            switch message.body {
            case .transform(let t):
                let matrix = try #require(line["matrix"] as? [[Int]])
                let m = t.matrix4x4
                for r in 0..<4 {
                    for c in 0..<4 {
                        // float32 on the wire: pyigtl's values are exactly our values rounded to float32.
                        #expect(matrix[r][c] == Int(Float(m[r][c]).bitPattern), "\(message.deviceName) [\(r)][\(c)]")
                    }
                }
            case .string(let s):
                #expect(line["string"] as? String == s.text)
            case .status:
                // pyigtl skips STATUS (protocols.md §3.5): it reads the header, has no class for it.
                #expect(line["decoded"] as? Bool == false)
            default:
                Issue.record("unexpected body")
            }
            if message.headerVersion == 2 {
                #expect((line["messageID"] as? Int).map(UInt32.init) == message.messageID)
                let metadata = try #require(line["metadata"] as? [String: String])
                #expect(metadata == Dictionary(uniqueKeysWithValues: message.metadata.map { ($0.key, $0.text!) }))
            }
        }
    }

    func hex2(_ b: UInt8) -> String {
        let s = String(b, radix: 16)
        return s.count == 1 ? "0" + s : s
    }
}
