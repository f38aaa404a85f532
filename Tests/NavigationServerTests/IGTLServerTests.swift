import Foundation
import Geometry
import IGTLProtocol
import Navigation
import NavigationServer
import Testing
import TrackerTransport

@Suite(.serialized) struct IGTLServerTests {
    /// protocols.md §3.6 (b): pyigtl's packing of this pose as `CoilToTracker` at 1700000000.25 s.
    static let goldenCoilToTracker = hexBytes("""
        00 01 54 52 41 4e 53 46 4f 52 4d 00 00 00 43 6f 69 6c 54 6f 54 72 61 63 6b 65 72 00 00 00 00 00
        00 00 65 53 f1 00 40 00 00 00 00 00 00 00 00 00 00 30 43 1b ff a4 56 ca 42 78 00 00 00 00 3f 80
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 3f 80 00 00 3f 80 00 00 00 00 00 00 00 00 00 00 41 48
        00 00 c2 09 00 00 c4 bb 80 00
        """)
    static let goldenPose = try! RigidTransform(matrix4x4: [[0, 0, 1, 12.5], [1, 0, 0, -34.25], [0, 1, 0, -1500], [0, 0, 0, 1]])

    @Test func aFramesTransformIsTheGoldenVectorByteForByte() throws {
        // Frame time 1 s on the test clock ↔ Unix 1700000000.25 s.
        let h = try ServerHarness(unixAtZero: 1_700_000_000_250_000_000 - 1_000_000_000)
        defer { h.stop() }
        #expect(Self.goldenCoilToTracker.count == 106)
        let client = try IGTLTestClient(port: h.server.igtlPort)
        defer { client.close() }
        #expect(h.waitForClients(1))
        h.frame(1, at: 1_000_000_000, coil: Self.goldenPose)
        let m = try #require(try client.next { $0.deviceName == "CoilToTracker" })
        #expect(m.headerVersion == 1 && m.timestamp == IGTLTimestamp(seconds: 1_700_000_000, fraction: 0x4000_0000))
        let found = client.received.indices.contains { i in
            i + 106 <= client.received.count && Array(client.received[i..<i + 106]) == Self.goldenCoilToTracker
        }
        #expect(found, "the CoilToTracker message is not the golden vector")
        // Head reference and registration are the identity: CoilToMRI is the same pose.
        let mri = try #require(try client.next { $0.deviceName == "CoilNavMetrics" })
        _ = mri
    }

    @Test func aVersion1ClientGetsOnlyUsableTransformsAndAStatusOnEveryValidityChange() throws {
        let h = try ServerHarness()
        defer { h.stop() }
        let client = try IGTLTestClient(port: h.server.igtlPort)
        defer { client.close() }
        #expect(h.waitForClients(1))
        let onTarget = ServerHarness.target.targetToMRI
        h.frame(1, at: 1_000_000_000, coil: onTarget)
        let ok = try #require(try client.next { $0.typeName == "STATUS" })
        #expect(ok.body == .status(IGTLStatus(code: 1, subcode: 0, errorName: "", message: "valid")))
        var names: [String] = []
        while let m = try client.next(where: { _ in true }), m.deviceName != "CoilNavMetrics" {
            if m.typeName == "TRANSFORM" { names.append(m.deviceName) }
        }
        #expect(names == ["CoilToMRI", "CoilToTarget", "TargetToMRI", "HeadToTracker", "CoilToTracker"])
        // The coil disappears: a STATUS says why, and no coil transform is sent.
        h.frame(2, at: 1_016_000_000, coil: nil)
        let missing = try #require(try client.next { $0.typeName == "STATUS" })
        #expect(missing.body == .status(IGTLStatus(code: 13, subcode: 1, errorName: "coil missing", message: "invalid: coil missing")))
        names = []
        while let m = try client.next(where: { _ in true }), m.deviceName != "CoilNavMetrics" {
            if m.typeName == "TRANSFORM" { names.append(m.deviceName) }
        }
        #expect(names == ["TargetToMRI", "HeadToTracker"])
        // The same validity again: no new STATUS before the next frame's transforms.
        h.frame(3, at: 1_032_000_000, coil: nil)
        let next = try #require(try client.next { _ in true })
        #expect(next.deviceName == "TargetToMRI")
    }

    @Test func aVersion3ClientGetsEveryTransformWithValidityMetadata() throws {
        let h = try ServerHarness()
        defer { h.stop() }
        let client = try IGTLTestClient(port: h.server.igtlPort)
        defer { client.close() }
        #expect(h.waitForClients(1))
        // Any header-version-2 message switches the client to version 2.
        try client.send(IGTLMessage(headerVersion: 2, deviceName: "", body: .get(dataType: "STATUS"), messageID: 7))
        let status = try #require(try client.next { $0.typeName == "STATUS" })
        #expect(status.headerVersion == 2)
        #expect(status.body == .status(IGTLStatus(code: 13, errorName: "no frame", message: "no tracker frame yet")))
        h.frame(1, at: 1_000_000_000, coil: nil)
        var seen: [String: IGTLMessage] = [:]
        while let m = try client.next(where: { $0.typeName == "TRANSFORM" || $0.deviceName == "CoilNavMetrics" }), m.deviceName != "CoilNavMetrics" {
            seen[m.deviceName] = m
        }
        #expect(Set(seen.keys) == Set(IGTLDeviceName.transforms))
        for (name, m) in seen {
            #expect(m.headerVersion == 2)
            let usable = name == "TargetToMRI" || name == "HeadToTracker"
            #expect(m.metadataValue("TransformValid") == (usable ? "true" : "false"), "\(name)")
            #expect(m.metadataValue("TransformStatus") == (usable ? "OK" : "MISSING"), "\(name)")
        }
        #expect(seen["CoilToMRI"]?.body == .transform(.identity))
        #expect(seen["TargetToMRI"].map { m -> Bool in
            guard case .transform(let t) = m.body else { return false }
            return t.difference(to: ServerHarness.target.targetToMRI).translationMM < 1e-4
        } == true)
    }

    @Test func getStartAndStopQueriesInBothSpellings() throws {
        let h = try ServerHarness()
        defer { h.stop() }
        let client = try IGTLTestClient(port: h.server.igtlPort)
        defer { client.close() }
        #expect(h.waitForClients(1))
        h.frame(1, at: 1_000_000_000, coil: ServerHarness.target.targetToMRI)
        _ = try client.next { $0.deviceName == "CoilNavMetrics" }
        try client.send(IGTLMessage(deviceName: "CoilToTarget", body: .get(dataType: "TRANS")))
        let reply = try #require(try client.next { $0.typeName == "TRANSFORM" })
        #expect(reply.deviceName == "CoilToTarget")
        #expect(reply.body == .transform(.identity))
        try client.send(IGTLMessage(deviceName: "", body: .stopStreaming(dataType: "TRANSFOR")))
        let rts = try #require(try client.next { $0.typeName.hasPrefix("RTS_") })
        #expect(rts.body == .startStopReply(dataType: "TRANSFOR", status: 0))
        h.frame(2, at: 1_016_000_000, coil: ServerHarness.target.targetToMRI)
        // Only the metrics STRING now.
        let afterStop = try #require(try client.next { _ in true })
        #expect(afterStop.deviceName == "CoilNavMetrics")
        try client.send(IGTLMessage(deviceName: "", body: .startStreaming(dataType: "TRANS", IGTLStartStreaming())))
        #expect(try client.next { $0.typeName.hasPrefix("RTS_") }?.body == .startStopReply(dataType: "TRANS", status: 0))
        h.frame(3, at: 1_032_000_000, coil: ServerHarness.target.targetToMRI)
        #expect(try client.next { _ in true }?.deviceName == "CoilToMRI")
        try client.send(IGTLMessage(deviceName: "", body: .startStreaming(dataType: "IMAGE", IGTLStartStreaming())))
        #expect(try client.next { $0.typeName.hasPrefix("RTS_") }?.body == .startStopReply(dataType: "IMAGE", status: 1))
    }

    @Test func misbehavingClientsAreDroppedWithAReasonAndTheOthersKeepReceiving() throws {
        let h = try ServerHarness()
        defer { h.stop() }
        let good = try IGTLTestClient(port: h.server.igtlPort)
        defer { good.close() }
        let garbage = try TCPStream.connect(host: "127.0.0.1", port: h.server.igtlPort)
        let huge = try TCPStream.connect(host: "127.0.0.1", port: h.server.igtlPort)
        #expect(h.waitForClients(3))
        try garbage.write(Array(repeating: 0x78, count: 64))
        var header = try IGTLHeader(version: 1, typeName: "STRING", deviceName: "x", timestamp: .none, bodySize: 1 << 32, crc: 0).encoded()
        try huge.write(header)
        header.removeAll()
        #expect(h.logs.wait(for: "sent an unusable OpenIGTLink header: ") != nil)
        let hugeLine = h.logs.wait(for: "4294967296-byte body")
        #expect(hugeLine != nil, "\(h.logs.all)")
        #expect(h.waitForClients(1))
        h.frame(1, at: 1_000_000_000, coil: ServerHarness.target.targetToMRI)
        #expect(try good.next { $0.deviceName == "CoilToTarget" } != nil)
        garbage.close()
        huge.close()
    }
}
