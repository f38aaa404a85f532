import CoilNavTestSupport
import Foundation
import MockTracker
import MockTrackerServer
import NDIProtocol
import Testing
import TrackerTransport

/// A running `coilnav mock-tracker` process: its first stdout line, then SIGTERM/SIGINT.
final class MockTrackerProcess {
    let process = Process()
    let stdout = Pipe()
    let stderr = Pipe()
    private(set) var firstLine = ""

    init(_ arguments: [String]) throws {
        self.process.executableURL = Paths.executable
        self.process.arguments = ["mock-tracker"] + arguments
        self.process.standardOutput = self.stdout
        self.process.standardError = self.stderr
        try self.process.run()
        var line: [UInt8] = []
        let handle = self.stdout.fileHandleForReading
        while true {
            let data = handle.readData(ofLength: 1)
            if data.isEmpty || data.first == 0x0A { break }
            line += data
        }
        self.firstLine = String(decoding: line, as: UTF8.self)
    }

    /// Sends `signal` and waits (at most 10 s) for the exit status.
    func stop(signal: Int32 = SIGTERM) -> Int32? {
        kill(self.process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(10)
        while self.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if self.process.isRunning {
            self.process.terminate()
            return nil
        }
        return self.process.terminationStatus
    }

    var errorText: String { String(decoding: self.stderr.fileHandleForReading.availableData, as: UTF8.self) }
}

@Suite(.serialized)
struct MockTrackerCommandTests {
    /// The test scenario as a file, for the command line.
    func scenarioFile(withoutFaults: Bool = true) throws -> String {
        let dir = try Paths.temporaryDirectory()
        var text = TestScenario.json
        if withoutFaults {
            let start = text.range(of: "\"faults\"")!.lowerBound
            let end = text.range(of: "]", range: start..<text.endIndex)!.upperBound
            text.replaceSubrange(start..<end, with: "\"faults\": []")
        }
        let path = dir.appendingPathComponent("protocol-test.json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func listenPrintsTheActualPortServesTCPAndExitsCleanlyOnSIGTERM() throws {
        let file = try self.scenarioFile()
        let truth = try Paths.temporaryDirectory().appendingPathComponent("truth.jsonl").path
        let mock = try MockTrackerProcess([
            "--scenario", file, "--seed", "21", "--listen", "127.0.0.1:0", "--as-fast-as-possible",
            "--calibration", Paths.calibration, "--dump-truth", truth,
        ])
        #expect(mock.firstLine.hasPrefix("listening on 127.0.0.1:"))
        let port = try #require(Int(mock.firstLine.split(separator: ":").last ?? ""))
        #expect(port > 0)
        let tcp = try TCPStream.connect(host: "127.0.0.1", port: port)
        let host = Host(tcp)
        try host.startTracking(roms: ServerTests.roms)
        let scenario = try MockScenario.load(path: file)
        let simulation = MockSimulation(scenario: scenario, seed: 21)
        for i in 0..<12 {
            let reply = try host.bx()
            for (k, state) in simulation.frame(i).tools.enumerated() {
                expectReport(reply.report(for: UInt8(k + 1)), matches: state, frameNumber: simulation.frameNumber(ofFrame: i))
            }
        }
        try host.okay(.tstop)
        tcp.close()
        #expect(mock.stop(signal: SIGTERM) == 0)
        let dumped = try String(contentsOfFile: truth, encoding: .utf8)
        #expect(dumped == (0..<12).map { TruthDump.lines(of: simulation, frame: $0) }.joined())
    }

    @Test func ptyPrintsTheSlavePathAndExitsCleanlyOnSIGINT() throws {
        let file = try self.scenarioFile()
        let mock = try MockTrackerProcess(["--scenario", file, "--pty", "--calibration", Paths.calibration])
        #expect(mock.firstLine.hasPrefix("/dev/pts/"))
        let serial = try SerialStream(path: mock.firstLine)
        let host = Host(serial)
        try host.okay(.initialize)
        try host.okay(.comm(baud: .init(bitsPerSecond: 115200)!))
        try serial.setLineParameters(baud: 115200)
        try host.startTracking(roms: ServerTests.roms)
        // Real time: the frame numbers never go backwards.
        var last: UInt32 = 0
        for _ in 0..<5 {
            let n = try #require(try host.bx().report(for: 1)?.frameNumber)
            #expect(n >= last)
            last = n
        }
        serial.close()
        #expect(mock.stop(signal: SIGINT) == 0)
    }

    @Test(arguments: [[String](), ["--pty", "--listen", "127.0.0.1:0"], ["--listen", "nonsense"]])
    func refusesBadTransportOptions(extra: [String]) throws {
        let mock = try MockTrackerProcess(["--scenario", Paths.scenario("static-noise-free.json")] + extra)
        mock.process.waitUntilExit()
        #expect(mock.process.terminationStatus != 0)
    }
}

/// ndicapy (PyPI `ndicapi` 3.7.6, NDI's Combined API C library) drives `coilnav mock-tracker`
/// over TCP as it would a Vega. Needs a Python with ndicapy: `$COILNAV_PYTHON`, or the
/// `.venv-ci` that `.ci/run` creates (`python3 -m venv .venv-ci && .venv-ci/bin/pip install ndicapi==3.7.6`).
struct NdicapyInteropTests {
    static let python: String? = pythonInterpreter(importing: ["ndicapy"], packageRoot: Paths.root)

    @Test(
        .enabled(
            if: Self.python != nil,
            "ndicapy is not installed: run `python3 -m venv .venv-ci && .venv-ci/bin/pip install ndicapi==3.7.6` (as .ci/run does) or set COILNAV_PYTHON"
        )
    )
    func ndicapyDrivesTheMockOverTCP() throws {
        let file = try MockTrackerCommandTests().scenarioFile()
        let mock = try MockTrackerProcess([
            "--scenario", file, "--seed", "5", "--listen", "127.0.0.1:0", "--as-fast-as-possible",
            "--calibration", Paths.calibration,
        ])
        defer { _ = mock.stop() }
        let port = try #require(mock.firstLine.split(separator: ":").last.map(String.init))
        let frames = 30
        let script = Process()
        let out = Pipe()
        let err = Pipe()
        script.executableURL = URL(fileURLWithPath: Self.python!)
        script.arguments = [
            Paths.root.appendingPathComponent("Tests/MockTrackerServerTests/interop/ndicapy_session.py").path,
            "127.0.0.1", port, String(frames), Paths.rom("head-reference.rom"), Paths.rom("coil-reference.rom"),
        ]
        script.standardOutput = out
        script.standardError = err
        try script.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        script.waitUntilExit()
        let errorText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(script.terminationStatus == 0, "ndicapy_session.py failed: \(errorText)")

        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        let scenario = try MockScenario.load(path: file)
        let simulation = MockSimulation(scenario: scenario, seed: 5)
        #expect((lines.first?["roms"] as? [String: Int])?.values.sorted() == [1, 2])
        #expect(lines.last?["event"] as? String == "done")
        // How often ndicapy's binding could not turn a binary reply into Python text (harmless:
        // the C library had parsed it already); recorded for the report, not asserted.
        print("ndicapy: BX replies its binding failed to decode as UTF-8:", lines.last?["bxDecodeFailures"] ?? "?")
        let bx = lines.filter { $0["event"] as? String == "bx" }
        // Handles 1 and 2 (the ROMs) and the active pointer on 3, every frame.
        #expect(bx.count == frames * 3)
        var seen: Set<String> = []
        for line in bx {
            let i = line["i"] as! Int
            let handle = line["handle"] as! Int
            let state = simulation.frame(i).tools[handle - 1]
            seen.insert(state.status.rawValue)
            switch state.status {
            case .ok, .partlyOutOfVolume:
                // Compared as float32 bit patterns: exact, with no decimal text in between.
                let bits = try #require(line["bits"] as? [Int], "frame \(i) handle \(handle): \(line)")
                let m = try #require(state.measured)
                let expected = [
                    m.rotation.q0, m.rotation.qx, m.rotation.qy, m.rotation.qz,
                    m.translationMM.x, m.translationMM.y, m.translationMM.z, state.rmsErrorMM,
                ].map { Int(Float($0).bitPattern) }
                #expect(bits == expected, "frame \(i) handle \(handle)")
                #expect(line["frame"] as? Int == Int(simulation.frameNumber(ofFrame: i)))
                let portStatus = line["portStatus"] as? Int
                // On the wire 0x31, or 0xB1 with the partially-in-volume flag; ndicapi reads the
                // status through signed chars, so 0xB1 comes back sign-extended as 0xFFFFFFB1.
                #expect(portStatus == (state.status == .ok ? 0x31 : 0xFFFF_FFB1), "frame \(i) handle \(handle)")
            case .missing:
                #expect(line["transform"] as? String == "MISSING", "frame \(i) handle \(handle)")
                #expect(line["portStatus"] as? Int == 0x31)
            case .disabled:
                #expect(line["transform"] as? String == "DISABLED", "frame \(i) handle \(handle)")
            }
        }
        #expect(seen == ["ok", "missing", "disabled", "partly-out-of-volume"])
        // TX after the BX loop: the next frame, to TX's resolution (0.0001, 0.01 mm).
        for line in lines where line["event"] as? String == "tx" {
            let i = line["i"] as! Int
            let handle = line["handle"] as! Int
            let state = simulation.frame(i).tools[handle - 1]
            guard let m = state.measured, let values = line["transform"] as? [Double] else { continue }
            let expected = [m.rotation.q0, m.rotation.qx, m.rotation.qy, m.rotation.qz, m.translationMM.x, m.translationMM.y, m.translationMM.z]
            for (a, b) in zip(values.prefix(4), expected.prefix(4)) { #expect(abs(a - b) <= 0.00005 + 1e-12) }
            for (a, b) in zip(values.dropFirst(4).prefix(3), expected.dropFirst(4)) { #expect(abs(a - b) <= 0.005 + 1e-9) }
        }
        #expect(lines.contains { $0["event"] as? String == "tx" })
    }
}

/// scikit-surgerynditracker 1.0.6 (on top of ndicapy) drives `coilnav mock-tracker` as a Vega.
/// Needs it in the Python of `NdicapyInteropTests` (`.ci/run` installs it into `.venv-ci`).
struct SksurgeryInteropTests {
    static let python: String? = pythonInterpreter(importing: ["ndicapy", "sksurgerynditracker.nditracker"], packageRoot: Paths.root)

    @Test(
        .enabled(
            if: Self.python != nil,
            "scikit-surgerynditracker is not installed: `.venv-ci/bin/pip install scikit-surgerynditracker==1.0.6` (as .ci/run does)"
        )
    )
    func scikitSurgeryNDITrackerDrivesTheMockAsAVega() throws {
        let file = try MockTrackerCommandTests().scenarioFile()
        let mock = try MockTrackerProcess([
            "--scenario", file, "--seed", "8", "--listen", "127.0.0.1:0", "--as-fast-as-possible",
            "--calibration", Paths.calibration,
        ])
        defer { _ = mock.stop() }
        let port = try #require(mock.firstLine.split(separator: ":").last.map(String.init))
        // NDITracker runs `ping -c 1 127.0.0.1` first; containers often have no ping.
        let stubs = try Paths.temporaryDirectory()
        let ping = stubs.appendingPathComponent("ping").path
        try "#!/bin/sh\nexit 0\n".write(toFile: ping, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: ping)
        let frames = 30
        let script = Process()
        let out = Pipe()
        let err = Pipe()
        script.executableURL = URL(fileURLWithPath: Self.python!)
        script.arguments = [
            Paths.root.appendingPathComponent("Tests/MockTrackerServerTests/interop/sksurgery_session.py").path,
            port, String(frames), Paths.rom("head-reference.rom"), Paths.rom("coil-reference.rom"),
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = stubs.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        script.environment = environment
        script.standardOutput = out
        script.standardError = err
        try script.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        script.waitUntilExit()
        let errorText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(script.terminationStatus == 0, "sksurgery_session.py failed: \(errorText)")
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        #expect(lines.last?["done"] as? Bool == true)
        let simulation = MockSimulation(scenario: try MockScenario.load(path: file), seed: 8)
        let frameLines = lines.filter { $0["handles"] != nil }
        #expect(frameLines.count == frames)
        var statuses: Set<String> = []
        for (i, line) in frameLines.enumerated() {
            #expect(line["handles"] as? [Int] == [1, 2])
            let tracking = try #require(line["tracking"] as? [[Any]])
            for (k, values) in tracking.enumerated() {
                let state = simulation.frame(i).tools[k]
                statuses.insert(state.status.rawValue)
                guard let m = state.measured else {
                    // scikit-surgerynditracker reports a missing tool as NaNs.
                    #expect(values.allSatisfy { $0 is NSNull }, "frame \(i) tool \(k)")
                    continue
                }
                // Doubles through JSON text: compare to a few ulps of float32 (the exact bits are
                // checked by the ndicapy test).
                let got = values.compactMap { ($0 as? NSNumber)?.doubleValue }
                let expected = [m.rotation.q0, m.rotation.qx, m.rotation.qy, m.rotation.qz, m.translationMM.x, m.translationMM.y, m.translationMM.z]
                #expect(got.count == 7)
                for (a, b) in zip(got, expected) { #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "frame \(i) tool \(k)") }
                #expect((line["frames"] as? [Int])?[k] == Int(simulation.frameNumber(ofFrame: i)))
            }
        }
        #expect(statuses.contains("missing") && statuses.contains("ok") && statuses.contains("partly-out-of-volume"))
    }
}
