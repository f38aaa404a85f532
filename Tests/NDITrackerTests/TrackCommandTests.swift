import Foundation
import Geometry
import NDIProtocol
import Testing
import TrackerCore
import TrackerTransport

@testable import NDITracker

@Suite struct TrackJSONLTests {
    @Test func linesHaveTheFixedKeysAndOmitThePoseWhenThereIsNone() {
        let pose = RigidTransform(
            rotation: Quaternion(q0: 0.5, qx: 0.5, qy: 0.5, qz: 0.5),
            translation: Vector3(12.5, -34.25, -1500)
        )
        let frame = TrackerFrame(
            deviceFrameNumber: 1234,
            hostReceiveNanoseconds: 0,
            tools: [
                ToolSample(
                    name: "coil",
                    handle: 1,
                    status: .ok,
                    toolToTracker: pose,
                    rmsErrorMM: 0.125,
                    portStatus: 0x31
                ),
                ToolSample(
                    name: "head",
                    handle: 2,
                    status: .partlyOutOfVolume,
                    toolToTracker: .identity,
                    rmsErrorMM: 0.3,
                    portStatus: 0xB1
                ),
                ToolSample(name: "pointer", handle: 3, status: .missing, portStatus: 0x31),
                ToolSample(name: "phan\"tom", handle: 4, status: .disabled),
            ]
        )
        #expect(
            TrackJSONL.lines(for: frame) == [
                #"{"frame":1234,"tool":"coil","status":"ok","q":[0.5,0.5,0.5,0.5],"t":[12.5,-34.25,-1500],"rmsMM":0.125}"#,
                #"{"frame":1234,"tool":"head","status":"partly-out-of-volume","q":[1,0,0,0],"t":[0,0,0],"rmsMM":0.3}"#,
                #"{"frame":1234,"tool":"pointer","status":"missing"}"#,
                #"{"frame":1234,"tool":"phan\"tom","status":"disabled"}"#,
            ]
        )
        // A negative scalar part is printed as the same rotation with q0 ≥ 0.
        let flipped = RigidTransform(rotation: Quaternion(q0: -0.5, qx: 0.5, qy: 0.5, qz: 0.5), translation: .zero)
        #expect(
            TrackJSONL.line(
                frame: 1,
                sample: ToolSample(name: "x", handle: 1, status: .ok, toolToTracker: flipped, rmsErrorMM: 0)
            )
                == #"{"frame":1,"tool":"x","status":"ok","q":[0.5,-0.5,-0.5,-0.5],"t":[0,0,0],"rmsMM":0}"#
        )
    }
}

/// `coilnav track` run as a process against the scripted tracker on 127.0.0.1.
@Suite struct TrackCommandTests {
    static var executable: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("coilnav")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent(".build/debug/coilnav")
    }

    func run(_ args: [String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = Self.executable
        p.arguments = args
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test func tracksATCPTrackerAndPrintsJSONLines() throws {
        let listener = try TCPListener(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        let tracker = ScriptedTracker()
        let holder = Protected<Responder?>(nil)
        Thread {
            if let s = try? listener.accept(timeout: .seconds(60)) {
                holder.withLock { $0 = Responder(tracker: tracker, stream: s) }
            }
        }.start()
        defer { holder.value?.stop() }
        // The mock tool set: four passive tools from Calibration/, handles 1…4 in file order.
        let (status, out, err) = try self.run([
            "track", "--tracker", "ndi-tcp://127.0.0.1:\(listener.port)", "--frames", "2", "--format", "jsonl",
        ])
        #expect(status == 0, "\(err)")
        #expect(
            out.split(separator: "\n").map(String.init) == [
                #"{"frame":101,"tool":"head","status":"ok","q":[0.5,0.5,0.5,0.5],"t":[12.5,-34.25,-1500],"rmsMM":0.125}"#,
                #"{"frame":101,"tool":"coil","status":"missing"}"#,
                #"{"frame":101,"tool":"pointer","status":"missing"}"#,
                #"{"frame":101,"tool":"phantom","status":"missing"}"#,
                #"{"frame":102,"tool":"head","status":"ok","q":[0.5,0.5,0.5,0.5],"t":[12.5,-34.25,-1500],"rmsMM":0.125}"#,
                #"{"frame":102,"tool":"coil","status":"missing"}"#,
                #"{"frame":102,"tool":"pointer","status":"missing"}"#,
                #"{"frame":102,"tool":"phantom","status":"missing"}"#,
            ]
        )
        #expect(err.contains("tracking"))
        #expect(tracker.commands.last == "TSTOP:2C14")
        #expect(tracker.commands.filter { $0.hasPrefix("PVWR:") }.count == 64)
        #expect(tracker.commands.contains(wire("PENA:04S")))
    }

    @Test func mockURLsRunTheMockTrackerInProcess() throws {
        let scenario = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Mock/scenarios/static-noise-free.json").path
        let (status, out, err) = try self.run([
            "track", "--tracker", "mock://\(scenario)?seed=1", "--frames", "3", "--format", "jsonl",
        ])
        #expect(status == 0, "\(err)")
        let lines = out.split(separator: "\n").map(String.init)
        // 3 frames × the 4 tools of the default tool set; the scenario has head and coil only, so
        // the pointer's and phantom's definitions match nothing and stay missing.
        #expect(lines.count == 12)
        var frameNumbers: [Int] = []
        var coilT: [[Double]] = []
        for line in lines {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let tool = try #require(o["tool"] as? String)
            let frame = try #require(o["frame"] as? Int)
            if tool == "head" { frameNumbers.append(frame) }
            switch tool {
            case "head", "coil":
                #expect(o["status"] as? String == "ok")
                #expect((o["q"] as? [Double])?.count == 4)
                if tool == "coil" { coilT.append(try #require(o["t"] as? [Double])) }
            default:
                #expect(o["status"] as? String == "missing")
                #expect(o["q"] == nil && o["t"] == nil)
            }
        }
        #expect(frameNumbers.count == 3)
        #expect(zip(frameNumbers, frameNumbers.dropFirst()).allSatisfy { $1 == $0 + 1 })
        // Noise-free and static: the same pose every frame.
        #expect(coilT.count == 3 && coilT[0] == coilT[1] && coilT[1] == coilT[2])
        #expect(err.contains("tracking"))
    }
}
