import Formats
import Foundation
import Geometry
import NDITracker
import Testing
import TrackerCore
import TrackerRecording

@Suite struct FormatTests {
    static let quarterTurn = RigidTransform(
        rotation: Matrix3(rows: Vector3(-0.0, -1, 0), Vector3(1, 0, 0), Vector3(0, 0, 1)),
        translation: Vector3(0.1, 1e-05, -1450.25))

    @Test func theHeaderLineIsExactlyAsDocumented() {
        let tools = [
            RecordedTool(name: "head", kind: "head-reference", setup: "passive", toolDefinition: "/cal/tools/head.rom", priority: "D"),
            RecordedTool(name: "probe", kind: "pointer", setup: "active", toolDefinition: nil, priority: "S"),
        ]
        #expect(
            RecordingLines.header(testHeader(tools: tools))
                == """
                {"format":"coilnav-recording","version":1,"tracker":"mock://scenario.json?seed=3","deviceProfile":null,\
                "frameRateHz":60.0,"tools":[{"name":"head","kind":"head-reference","setup":"passive",\
                "toolDefinition":"/cal/tools/head.rom","priority":"D"},{"name":"probe","kind":"pointer","setup":"active",\
                "toolDefinition":null,"priority":"S"}],"startedAt":"2025-03-14T09:26:53.000Z",\
                "unixAtStartNanoseconds":1741944413000000000,"clock":"test","clockAtStartNanoseconds":1000000000}

                """)
        #expect(testHeader().unixNanosecondsAtClockZero == 1_741_944_412_000_000_000)
    }

    @Test func aFrameLineIsExactlyAsDocumented() {
        let frame = TrackerFrame(
            deviceFrameNumber: 5000, hostReceiveNanoseconds: 1_000_000_000,
            tools: [
                ToolSample(name: "head", handle: 1, status: .ok, toolToTracker: Self.quarterTurn, rmsErrorMM: 0.15000000596046448, portStatus: 0x31),
                ToolSample(name: "coil", handle: 2, status: .missing, portStatus: 0x31),
            ], systemStatus: 0)
        var line = ""
        RecordingLines.append(.event(.frame(frame), atNanoseconds: 1_000_050_000), to: &line)
        #expect(
            line == """
                {"type":"frame","atNanoseconds":1000050000,"frame":5000,"hostReceiveNanoseconds":1000000000,"systemStatus":0,\
                "tools":[{"name":"head","handle":1,"status":"ok","portStatus":49,\
                "rotation":[-0.0,-1.0,0.0,1.0,0.0,0.0,0.0,0.0,1.0],"translationMM":[0.1,1e-05,-1450.25],\
                "rmsMM":0.15000000596046448},{"name":"coil","handle":2,"status":"missing","portStatus":49}]}

                """)
    }

    @Test func statesWarningsLossesAndTheEndHaveOneLineEach() {
        var text = ""
        let records: [RecordingRecord] = [
            .event(.state(.connecting), atNanoseconds: 1),
            .event(.state(.settingUp), atNanoseconds: 2),
            .event(.state(.tracking), atNanoseconds: 3),
            .event(.state(.disconnected(reason: "reply timeout (\"BX\")")), atNanoseconds: 4),
            .event(.state(.reconnecting(attempt: 2, delay: .milliseconds(200))), atNanoseconds: 5),
            .event(.warning("tool phantom has never been seen"), atNanoseconds: 6),
            .lost(RecordingLoss(fromNanoseconds: 7, untilNanoseconds: 9, frames: 6, otherEvents: 1)),
            .event(.state(.stopped), atNanoseconds: 10),
            .end(RecordingSummary(atNanoseconds: 11, frames: 0, lostFrames: 6, lostOtherEvents: 1, skippedDeviceFrames: 0)),
        ]
        for r in records { RecordingLines.append(r, to: &text) }
        #expect(
            text == """
                {"type":"state","atNanoseconds":1,"state":"connecting"}
                {"type":"state","atNanoseconds":2,"state":"setting-up"}
                {"type":"state","atNanoseconds":3,"state":"tracking"}
                {"type":"state","atNanoseconds":4,"state":"disconnected","reason":"reply timeout (\\"BX\\")"}
                {"type":"state","atNanoseconds":5,"state":"reconnecting","attempt":2,"delayNanoseconds":200000000}
                {"type":"warning","atNanoseconds":6,"message":"tool phantom has never been seen"}
                {"type":"lost","atNanoseconds":7,"untilNanoseconds":9,"frames":6,"otherEvents":1}
                {"type":"state","atNanoseconds":10,"state":"stopped"}
                {"type":"end","atNanoseconds":11,"frames":0,"lostFrames":6,"lostOtherEvents":1,"skippedDeviceFrames":0}

                """)
        let file = RecordingLines.header(testHeader()) + text
        let recording = try? Recording.parse(Data(file.utf8), source: "r.jsonl")
        #expect(recording?.records == Array(records.dropLast()))
        #expect(recording?.summary == RecordingSummary(atNanoseconds: 11, frames: 0, lostFrames: 6, lostOtherEvents: 1, skippedDeviceFrames: 0))
        #expect(recording?.warnings == [])
    }

    /// Poses read back bit for bit: random rotations (from normalised float32 quaternions, as the
    /// NDI driver makes them), translations near −1450 mm, signed zeros, subnormals, NaN and
    /// infinities.
    @Test func posesReadBackBitForBit() throws {
        var random = SplitMix64(seed: 11)
        var frames: [TrackerFrame] = []
        for i in 0..<300 {
            var samples: [ToolSample] = []
            for k in 0..<3 {
                let q = Quaternion(
                    q0: Double(Float(random.nextUnitDouble() * 2 - 1)), qx: Double(Float(random.nextUnitDouble() * 2 - 1)),
                    qy: Double(Float(random.nextUnitDouble() * 2 - 1)), qz: Double(Float(random.nextUnitDouble() * 2 - 1)))
                let t = Vector3(
                    Double(Float(random.nextUnitDouble() * 400 - 200)), Double(Float(random.nextUnitDouble() * 400 - 200)),
                    Double(Float(-1450 + random.nextUnitDouble() * 100)))
                let pose = RigidTransform(rotation: q, translation: t)
                samples.append(
                    ToolSample(
                        name: "tool\(k)", handle: UInt8(k + 1), status: k == 2 && i % 7 == 0 ? .partlyOutOfVolume : .ok,
                        toolToTracker: pose, rmsErrorMM: Double(Float(random.nextUnitDouble())), portStatus: 0x31))
            }
            frames.append(TrackerFrame(deviceFrameNumber: UInt32(i), hostReceiveNanoseconds: UInt64(i) * 5_000_000, tools: samples))
        }
        let odd = RigidTransform(
            rotation: Matrix3(rows: Vector3(1, -0.0, 0), Vector3(0, 1, .leastNonzeroMagnitude), Vector3(-0.0, 0, 1)),
            translation: Vector3(.nan, .infinity, -.infinity))
        frames.append(
            TrackerFrame(
                deviceFrameNumber: UInt32.max, hostReceiveNanoseconds: UInt64.max,
                tools: [ToolSample(name: "odd \"tool\"\n", handle: 255, status: .ok, toolToTracker: odd, rmsErrorMM: -0.0, portStatus: UInt32.max)],
                systemStatus: UInt16.max))
        var text = RecordingLines.header(testHeader())
        for (i, f) in frames.enumerated() { RecordingLines.append(.event(.frame(f), atNanoseconds: UInt64(i)), to: &text) }
        text += "{\"type\":\"end\",\"atNanoseconds\":\(frames.count),\"frames\":\(frames.count),\"lostFrames\":0,\"lostOtherEvents\":0,\"skippedDeviceFrames\":0}\n"
        let back = try Recording.parse(Data(text.utf8), source: "r.jsonl").frames
        try #require(back.count == frames.count)
        func bits(_ f: TrackerFrame) -> [UInt64] {
            f.tools.flatMap { s -> [UInt64] in
                guard let p = s.toolToTracker else { return [] }
                let r = p.rotation
                return [r[0, 0], r[0, 1], r[0, 2], r[1, 0], r[1, 1], r[1, 2], r[2, 0], r[2, 1], r[2, 2], p.translation.x, p.translation.y,
                    p.translation.z, s.rmsErrorMM ?? 1].map(\.bitPattern)
            }
        }
        var mismatches = 0
        for (a, b) in zip(frames, back) {
            if bits(a) != bits(b) || a.deviceFrameNumber != b.deviceFrameNumber || a.hostReceiveNanoseconds != b.hostReceiveNanoseconds
                || a.systemStatus != b.systemStatus || a.tools.map(\.name) != b.tools.map(\.name) || a.tools.map(\.status) != b.tools.map(\.status)
                || a.tools.map(\.handle) != b.tools.map(\.handle) || a.tools.map(\.portStatus) != b.tools.map(\.portStatus)
            {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
        // Equatable frames too (NaN aside: NaN ≠ NaN).
        #expect(Array(back.dropLast()) == Array(frames.dropLast()))
    }
}
