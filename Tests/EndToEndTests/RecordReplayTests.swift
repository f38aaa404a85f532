import CoilNavTestSupport
import Foundation
import Geometry
import MockTracker
import Testing
import TrackerCore
import TrackerRecording
import TrackerTransport

/// Issue 5 through the built binary: `coilnav record`, `coilnav track --record`, and replay://
/// in `track` and `serve`.
@Suite(.serialized) struct RecordReplayTests {
    /// Every fault in 2 s at 200 Hz (the mock runs in real time through mock://).
    static let scenario = Paths.root.appendingPathComponent("Tests/TrackerRecordingTests/Fixtures/faults-200hz.json").path
    static let mockURL = "mock://\(scenario)?seed=7"

    /// One live run prints its frames and records them; the replay of the recording, as fast as
    /// possible, prints the same lines, byte for byte — through the corrupt reply, the stall and
    /// the disconnect (both reconnected), occlusions, dropouts and the disabled port.
    @Test func trackReplaysExactlyTheLinesItPrintedLive() throws {
        let dir = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("live.jsonl").path
        let live = try coilnav(["track", "--tracker", Self.mockURL, "--frames", "380", "--record", file, "--format", "jsonl"])
        #expect(live.status == 0, "\(live.stderr)")
        let liveLines = live.stdout.split(separator: "\n")
        #expect(liveLines.count == 380 * 4)
        for status in ["\"status\":\"missing\"", "\"status\":\"partly-out-of-volume\"", "\"status\":\"disabled\""] {
            #expect(live.stdout.contains(status), "\(status)")
        }
        // Tracking three times at least: at the start, after the stall, after the disconnect.
        let liveTrackingStarts = live.stderr.components(separatedBy: ": tracking\n").count - 1
        #expect(liveTrackingStarts >= 3, "\(live.stderr)")
        #expect(live.stderr.contains("coilnav: record: 380 frames in "), "\(live.stderr)")

        let replay = try coilnav(["track", "--tracker", "replay://\(file)?speed=0", "--format", "jsonl"])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout == live.stdout)
        #expect(replay.stderr.components(separatedBy: ": tracking\n").count - 1 == liveTrackingStarts, "\(replay.stderr)")
        #expect(replay.stderr.hasSuffix(": disconnected (end of the recording \(file))\ncoilnav: tracker replay://\(file)?speed=0: stopped\n"), "\(replay.stderr)")

        // A recording cut short while its last line was written still plays, with warnings.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        let lastStart = bytes.dropLast().lastIndex(of: 0x0A)! + 1
        let tornLine = (try Recording.read(path: file)).records.count + 2  // header, records, then the torn end line
        bytes = bytes.prefix(lastStart + 20)
        let torn = dir.appendingPathComponent("torn.jsonl").path
        try bytes.write(to: URL(fileURLWithPath: torn))
        let tornReplay = try coilnav(["track", "--tracker", "replay://\(torn)?speed=0", "--format", "jsonl"])
        #expect(tornReplay.status == 0, "\(tornReplay.stderr)")
        #expect(tornReplay.stdout == live.stdout)
        #expect(
            tornReplay.stderr.hasPrefix(
                """
                coilnav: warning: \(torn): line \(tornLine): the last line is incomplete (20 bytes without a final newline; the recorder was stopped while writing it?); it was not read
                coilnav: warning: \(torn): no end record: the recording was not finished (the recorder was killed?); its 380 frames are read

                """), "\(tornReplay.stderr)")
    }

    /// `coilnav record` writes the device's frames exactly: every recorded pose equals, bit for
    /// bit, the float32 measurement the mock put on the wire for that frame number.
    @Test func recordWritesTheDevicesExactFrames() throws {
        let dir = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("r.jsonl").path
        let run = try coilnav(["record", "--tracker", Self.mockURL, "--out", file, "--frames", "150"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "")
        #expect(run.stderr.contains("coilnav: record: 150 frames recorded\n"), "\(run.stderr)")
        #expect(run.stderr.contains(try Regex(#"coilnav: record: 150 frames in [0-9.]+ s \(device frames 7000–[0-9]+, [0-9]+ skipped: never received by the host\), 0 lost by the recorder; "#)), "\(run.stderr)")

        let recording = try Recording.read(path: file)
        #expect(recording.warnings == [])
        #expect(recording.header.tracker == Self.mockURL)
        #expect(recording.header.frameRateHz == 200)
        #expect(recording.header.clock == "monotonic")
        #expect(recording.header.tools.map(\.name) == ["head", "coil", "pointer", "phantom"])
        #expect(recording.frameCount == 150)
        #expect(recording.summary?.frames == 150)
        let simulation = MockSimulation(scenario: try MockScenario.load(path: Self.scenario), seed: 7)
        var compared = 0
        for frame in recording.frames {
            let expected = simulation.frame(Int(frame.deviceFrameNumber - 7000))
            for tool in expected.tools {
                let sample = try #require(frame.tool(named: tool.name))
                #expect(sample.status.rawValue == tool.status.rawValue)
                if let m = tool.measured, sample.status.hasPose {
                    #expect(sample.toolToTracker == m.transform)
                    #expect(sample.rmsErrorMM == Double(Float(tool.rmsErrorMM)))
                    compared += 1
                }
            }
        }
        #expect(compared > 300)

        let again = try coilnav(["record", "--tracker", Self.mockURL, "--out", file, "--frames", "1"])
        #expect(again.status != 0)
        #expect(again.stderr.contains("Error: \(file): the file exists; choose another name or overwrite it with --force"), "\(again.stderr)")
        let ofReplay = try coilnav(["record", "--tracker", "replay://\(file)", "--out", file + "2"])
        #expect(ofReplay.status != 0)
        #expect(ofReplay.stderr.contains("Error: --tracker replay://\(file): this is already a recording; copy the file to keep it"))
    }

    /// SIGINT stops a recording cleanly: TSTOP, the end record, fsync, the summary.
    @Test func aSignalStopsARecordingCleanly() throws {
        let dir = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("r.jsonl").path
        let p = Process()
        p.executableURL = Paths.executable
        p.arguments = ["record", "--tracker", Self.mockURL, "--out", file]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        let box = DataBox()
        let reader = DispatchGroup()
        reader.enter()
        DispatchQueue.global().async {
            box.data = err.fileHandleForReading.readDataToEndOfFile()
            reader.leave()
        }
        // Hang guard: wait for frames in the file (the first progress line comes after a second).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, ((try? String(contentsOfFile: file, encoding: .utf8))?.components(separatedBy: "\"type\":\"frame\"").count ?? 0) < 20 {
            Thread.sleep(forTimeInterval: 0.02)
        }
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        reader.wait()
        let stderr = String(decoding: box.data, as: UTF8.self)
        #expect(p.terminationStatus == 0, "\(stderr)")
        #expect(stderr.contains("coilnav: record: stopped by a signal\n"), "\(stderr)")
        let recording = try Recording.read(path: file)
        #expect(recording.warnings == [])
        #expect(recording.frameCount >= 20)
        #expect(recording.summary?.frames == recording.frameCount)
        #expect(recording.records.last == .event(.state(.stopped), atNanoseconds: recording.records.last!.atNanoseconds))
    }

    /// `coilnav serve --tracker replay://…` serves the recording's frames with the recorded host
    /// times and ages, reports the end of the recording, and keeps serving.
    @Test func serveReplaysARecordingAndKeepsServing() throws {
        let dir = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("r.jsonl").path
        let made = try coilnav(["record", "--tracker", Self.mockURL, "--out", file, "--frames", "120"])
        try #require(made.status == 0, "\(made.stderr)")
        let recording = try Recording.read(path: file)
        var expected: [UInt32: (UInt64, UInt64)] = [:]
        for r in recording.records {
            if case .event(.frame(let f), let at) = r { expected[f.deviceFrameNumber] = (f.hostReceiveNanoseconds, at - f.hostReceiveNanoseconds) }
        }
        // At half speed the 0.6 s of frames take over a second: time for a client to subscribe.
        let server = try ServerProcess([
            "--tracker", "replay://\(file)?speed=0.5", "--plan", Paths.demo("plan.json"), "--registration", Paths.demo("registration.json"),
            "--session", dir.appendingPathComponent("session").path, "--igtl-port", "0", "--json-port", "0", "--insecure",
        ])
        let client = try JSONLines(port: server.jsonPort)
        defer { client.close() }
        #expect(try client.request(#"{"id":1,"cmd":"subscribe","events":true}"#, id: 1)?["ok"] as? Bool == true)
        var frames = 0
        var mismatches: [String] = []
        var ended = false
        while let line = try client.next(seconds: 20) {
            if line["type"] as? String == "frame", let n = line["frame"] as? Int {
                frames += 1
                let host = (line["hostTimeNanoseconds"] as? NSNumber)?.uint64Value
                let age = (line["ageNanoseconds"] as? NSNumber)?.uint64Value
                if let e = expected[UInt32(n)], host != e.0 || age != e.1 { mismatches.append("frame \(n): \(String(describing: host)) \(String(describing: age)) vs \(e)") }
            }
            if line["event"] as? String == "tracker-state", line["state"] as? String == "stopped" {
                ended = true
                break
            }
        }
        #expect(ended)
        #expect(frames > 0)
        #expect(mismatches == [])
        // Still serving after the end (at speed > 0 the replay's clock runs on, so the watchdog
        // calls the silence after the last frame a tracking loss, as it would live).
        let status = try client.request(#"{"id":2,"cmd":"status"}"#, id: 2)
        #expect(status?["ok"] as? Bool == true)
        #expect((status?["lastFrame"] as? NSNumber)?.uint32Value == recording.frames.last?.deviceFrameNumber)
        let (code, stderr) = server.stop()
        #expect(code == 0, "\(stderr)")
        #expect(stderr.contains("coilnav: tracker: disconnected (end of the recording \(file))"), "\(stderr)")
    }

    /// Subscribes to a server's frames and keeps each frame line's exact text, by frame number,
    /// until `done` says so (or a hang guard expires).
    static func collectFrameLines(port: Int, until done: (Int, [String: Any]) -> Bool) throws -> [Int: String] {
        let stream = try TCPStream.connect(host: "127.0.0.1", port: port)
        defer { stream.close() }
        try stream.write(Array(#"{"id":1,"cmd":"subscribe","events":true}"#.utf8) + [0x0A])
        var buffer: [UInt8] = []
        var lines: [Int: String] = [:]
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            buffer += try stream.read(maxBytes: 1 << 16, timeout: .milliseconds(50))
            while let nl = buffer.firstIndex(of: 0x0A) {
                let text = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeFirst(nl + 1)
                guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { continue }
                if object["type"] as? String == "frame", let n = object["frame"] as? Int { lines[n] = text }
                if done(lines.count, object) { return lines }
            }
        }
        return lines
    }

    /// `coilnav serve --record` on the live mock, then `coilnav serve` on `replay://` of that
    /// file: every frame line a client received from both is the same text, byte for byte —
    /// poses, metrics, validity, ages, on-target state and dwell.
    @Test func serveReplaysItsOwnRecordingToIdenticalFrameLines() throws {
        let dir = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("serve.jsonl").path
        func arguments(_ tracker: String, _ session: String) -> [String] {
            [
                "--tracker", tracker, "--plan", Paths.demo("plan.json"), "--registration", Paths.demo("registration.json"),
                "--session", dir.appendingPathComponent(session).path, "--igtl-port", "0", "--json-port", "0", "--insecure",
            ]
        }
        let live = try ServerProcess(arguments(Self.mockURL, "live") + ["--record", file])
        #expect(live.bannerText.contains("recording: \(file)"))
        // Until the frames after the disconnect at frame 320.
        let liveLines = try Self.collectFrameLines(port: live.jsonPort) { _, o in (o["frame"] as? Int ?? 0) >= 7360 }
        let (liveCode, liveLog) = live.stop()
        #expect(liveCode == 0, "\(liveLog)")
        #expect(liveLog.contains("coilnav: record: "), "\(liveLog)")
        let recording = try Recording.read(path: file)
        #expect(recording.warnings == [])

        let replay = try ServerProcess(arguments("replay://\(file)?speed=1", "replay"))
        let replayLines = try Self.collectFrameLines(port: replay.jsonPort) { _, o in
            o["event"] as? String == "tracker-state" && o["state"] as? String == "stopped"
        }
        let (replayCode, replayLog) = replay.stop()
        #expect(replayCode == 0, "\(replayLog)")

        let common = Set(liveLines.keys).intersection(replayLines.keys).sorted()
        #expect(common.count >= 50, "live \(liveLines.count), replay \(replayLines.count) frame lines")
        let different = common.filter { liveLines[$0] != replayLines[$0] }
        #expect(different.isEmpty, "\(different.prefix(3).map { "\(liveLines[$0]!)\n\(replayLines[$0]!)" })")
        // The lines compared cover valid and invalid frames and the on-target state.
        let compared = common.compactMap { liveLines[$0] }
        #expect(compared.contains { $0.contains(#""valid":true"#) })
        #expect(compared.contains { $0.contains(#""reasons":["coil-missing"]"#) })
        #expect(compared.contains { $0.contains(#""onTarget":{"state":"acquiring""#) || $0.contains(#""onTarget":{"state":"on""#) })
    }
}
