import Foundation
import Geometry
import NDIProtocol
import Testing
import TrackerCore
import TrackerTransport

@testable import NDITracker

@Suite struct FrameMappingTests {
    static let pose = NDITransform(
        rotation: Quaternion(q0: 0.5, qx: 0.5, qy: 0.5, qz: 0.5),
        translation: Vector3(12.5, -34.25, -1500),
        rmsError: 0.125
    )

    /// A BX reply built by the codec, cut by the framer and parsed: the driver's own path.
    func roundTrip(_ reply: NDITrackingReply, tx: Bool = false) throws -> NDITrackingReply {
        let command: NDICommand = tx ? .tx(.transformsAllVolumes) : .bx(.transformsAllVolumes)
        let bytes = try NDIReply.tracking(reply).encoded(for: command)
        let frames = NDIReplyFramer.frames(in: bytes)
        #expect(frames.count == 1)
        guard case .tracking(let t) = try NDIReply.parse(try frames[0].get(), command: command) else {
            Issue.record("not tracking")
            return reply
        }
        return t
    }

    @Test func everyStatusMapsAsDocumented() throws {
        let reply = try self.roundTrip(
            NDITrackingReply(
                handles: [
                    .valid(
                        handle: 1,
                        transform: Self.pose,
                        portStatus: NDIPortStatus(rawValue: 0x31),
                        frameNumber: 1234
                    ),
                    .valid(
                        handle: 2,
                        transform: Self.pose,
                        portStatus: NDIPortStatus(rawValue: 0xB1),
                        frameNumber: 1234
                    ),
                    .valid(
                        handle: 3,
                        transform: Self.pose,
                        portStatus: NDIPortStatus(rawValue: 0x71),
                        frameNumber: 1234
                    ),
                    .missing(handle: 4, portStatus: NDIPortStatus(rawValue: 0x31), frameNumber: 1234),
                    NDIHandleReport(handle: 5, status: .disabled),
                    .valid(
                        handle: 9,
                        transform: Self.pose,
                        portStatus: NDIPortStatus(rawValue: 0x31),
                        frameNumber: 1234
                    ),
                ],
                systemStatus: NDISystemStatus(rawValue: 0x0002)
            )
        )
        let bindings = [
            NDIHandleBinding(handle: 1, toolName: "coil", passive: true),
            NDIHandleBinding(handle: 2, toolName: "head", passive: true),
            NDIHandleBinding(handle: 3, toolName: "pointer", passive: true),
            NDIHandleBinding(handle: 4, toolName: "phantom", passive: true),
            NDIHandleBinding(handle: 5, toolName: "probe", passive: false),
            NDIHandleBinding(handle: 6, toolName: "gone", passive: false),
        ]
        let f = NDIFrameMapper.frame(
            from: reply,
            bindings: bindings,
            toolOrder: ["head", "coil", "pointer", "phantom", "probe", "gone", "never-loaded"],
            hostReceiveNanoseconds: 42
        )
        #expect(f.deviceFrameNumber == 1234)
        #expect(f.hostReceiveNanoseconds == 42)
        #expect(f.systemStatus == 0x0002)
        #expect(
            f.tools.map(\.name) == ["head", "coil", "pointer", "phantom", "probe", "gone", "never-loaded", "port-0x09"]
        )
        #expect(
            f.tools.map(\.status) == [
                .partlyOutOfVolume, .ok, .partlyOutOfVolume, .missing, .disabled, .disabled, .disabled, .ok,
            ]
        )
        #expect(f.tools.map(\.handle) == [2, 1, 3, 4, 5, 6, 0, 9])
        #expect(f.tools.map(\.portStatus) == [0xB1, 0x31, 0x71, 0x31, 0, 0, 0, 0x31])
        #expect(f.tools.map { $0.toolToTracker != nil } == [true, true, true, false, false, false, false, true])
        #expect(f.tools.map(\.rmsErrorMM) == [0.125, 0.125, 0.125, nil, nil, nil, nil, 0.125])
        // q = (0.5, 0.5, 0.5, 0.5): R = [[0,0,1],[1,0,0],[0,1,0]] (protocols.md §1.4, ndicapi's matrix).
        let coil = try #require(f.tool(named: "coil")?.toolToTracker)
        let r = coil.rotation
        let expected: [[Double]] = [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
        for i in 0..<3 { for j in 0..<3 { #expect(abs(r[i, j] - expected[i][j]) < 1e-12, "R[\(i),\(j)]") } }
        #expect(coil.translation == Vector3(12.5, -34.25, -1500))
    }

    @Test func txUnoccupiedIsDisabledAndFrameNumberFallsBack() throws {
        let reply = NDITrackingReply(handles: [NDIHandleReport(handle: 1, status: .unoccupied)])
        let f = NDIFrameMapper.frame(
            from: try self.roundTrip(reply, tx: true),
            bindings: [NDIHandleBinding(handle: 1, toolName: "probe", passive: false)],
            toolOrder: ["probe"],
            hostReceiveNanoseconds: 7,
            fallbackFrameNumber: 99
        )
        #expect(f.tools == [ToolSample(name: "probe", handle: 1, status: .disabled)])
        #expect(f.deviceFrameNumber == 99)
    }

    @Test func neverSeenToolIsWarnedOnceAfterFiveSecondsOfOthersBeingSeen() {
        var m = NeverSeenMonitor(patience: .seconds(5))
        func frame(_ t: UInt64, coil: ToolStatus, head: ToolStatus) -> TrackerFrame {
            let pose = RigidTransform.identity
            return TrackerFrame(
                deviceFrameNumber: UInt32(t),
                hostReceiveNanoseconds: t * 1_000_000_000,
                tools: [
                    ToolSample(name: "coil", handle: 1, status: coil, toolToTracker: coil.hasPose ? pose : nil),
                    ToolSample(name: "head", handle: 2, status: head, toolToTracker: head.hasPose ? pose : nil),
                ]
            )
        }
        // Nothing seen at all: no warning (the camera may be covered).
        #expect(m.observe(frame(0, coil: .missing, head: .missing)) == [])
        #expect(m.observe(frame(10, coil: .missing, head: .missing)) == [])
        #expect(m.observe(frame(11, coil: .missing, head: .ok)) == [])
        #expect(m.observe(frame(15, coil: .missing, head: .ok)) == [])
        #expect(m.observe(frame(16, coil: .missing, head: .missing)) == ["coil"])
        #expect(m.observe(frame(30, coil: .missing, head: .ok)) == [])
        // A tool seen once is never warned about.
        var m2 = NeverSeenMonitor(patience: .seconds(5))
        #expect(m2.observe(frame(0, coil: .ok, head: .ok)) == [])
        #expect(m2.observe(frame(9, coil: .missing, head: .ok)) == [])
    }

    @Test func backoffDoublesUpToTheCap() {
        let c = NDITrackerConfiguration(session: NDISessionConfiguration(serialLine: true, tools: []))
        #expect(
            (1...9).map { c.backoff(attempt: $0) } == [
                .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600),
                .milliseconds(3200),
                .seconds(5), .seconds(5), .seconds(5),
            ]
        )
    }

    @Test func configurationForURLsUsesProfilesAndTheURLCap() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let profiles = try DeviceProfiles.load(directory: root.appendingPathComponent("Devices").path)
        let usb = NDITrackerConfiguration.forURL(try TrackerURL(parsing: "ndi-usb://"), profiles: profiles, tools: [])
        #expect(usb.session.commBaud == .b1228739)
        #expect(usb.pollInterval == .milliseconds(50))
        #expect(usb.session.trackingTimeout == .milliseconds(100))
        let serial = NDITrackerConfiguration.forURL(
            try TrackerURL(parsing: "ndi-serial:///dev/ttyUSB0?baud=60000"),
            profiles: profiles,
            tools: []
        )
        #expect(serial.session.commBaud == .b57600)
        #expect(
            NDITrackerConfiguration.forURL(
                try TrackerURL(parsing: "ndi-serial:///dev/ttyUSB0"),
                profiles: profiles,
                tools: []
            ).session.commBaud == .b115200
        )
        let tcp = NDITrackerConfiguration.forURL(
            try TrackerURL(parsing: "ndi-tcp://127.0.0.1:8765"),
            profiles: profiles,
            tools: []
        )
        #expect(tcp.session.trackingTimeout == .nanoseconds(3 * 16_666_666))  // three periods at 60 Hz
    }

    @Test func loadsTheMockToolSet() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let set = try ToolSet.load(path: root.appendingPathComponent("Calibration/tools/toolset-mock.json").path)
        #expect(set.tools.map(\.name) == ["head", "coil", "pointer", "phantom"])
        #expect(set.tools.map(\.priority) == [.dynamic, .dynamic, .dynamic, .staticTool])
        for t in set.tools {
            guard case .passive(let path, let rom) = t.setup else {
                Issue.record("\(t.name) is not passive")
                continue
            }
            #expect(path.hasPrefix(root.appendingPathComponent("Calibration/tools").standardizedFileURL.path))
            #expect(rom == [UInt8](FileManager.default.contents(atPath: path)!))
        }
    }

    @Test(arguments: [
        (#"{"format": "x", "version": 1, "tools": []}"#, "format"),
        (#"{"format": "coilnav-toolset", "version": 2, "tools": []}"#, "version"),
        (#"{"format": "coilnav-toolset", "version": 1, "tools": []}"#, "tools"),
        (
            #"{"format": "coilnav-toolset", "version": 1, "tools": [{"name": "a", "setup": {"type": "passive", "toolDefinition": "nope.rom"}}]}"#,
            "tools[0].setup.toolDefinition"
        ),
        (
            #"{"format": "coilnav-toolset", "version": 1, "tools": [{"name": "a", "setup": {"type": "active"}, "priority": "X"}]}"#,
            "tools[0].priority"
        ),
        (
            #"{"format": "coilnav-toolset", "version": 1, "tools": [{"name": "a", "setup": {"type": "active"}}, {"name": "a", "setup": {"type": "active"}}]}"#,
            "tools[1].name"
        ),
        (
            #"{"format": "coilnav-toolset", "version": 1, "tools": [{"name": "a", "setup": {"type": "wired"}}]}"#,
            "tools[0].setup.type"
        ),
        (
            #"{"format": "coilnav-toolset", "version": 1, "tools": [{"name": "a", "colour": 1, "setup": {"type": "active"}}]}"#,
            "tools[0].colour"
        ),
    ])
    func malformedToolSetsNameTheField(_ json: String, _ field: String) {
        do {
            _ = try ToolSet.parse(Data(json.utf8), file: "/tmp/x/toolset.json")
            Issue.record("parsed")
        } catch {
            #expect(error.field == field, "\(error)")
            #expect(error.file == "/tmp/x/toolset.json")
        }
    }
}
