import CoilNavTestSupport
import Foundation
import Formats
import Geometry
import MockTracker
import Navigation
import Registration
import Testing
import TrackerTransport

/// `coilnav serve` as a child process, with its ports read from its first lines.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let igtlPort: Int
    let jsonPort: Int
    /// Every stdout line read so far.
    private(set) var lines: [String] = []
    private let stderrPipe = Pipe()
    private let stdoutPipe = Pipe()
    private let stderrBox = DataBox()
    private let stderrDone = DispatchGroup()
    private var stderrData: Data { self.stderrBox.data }

    init(_ arguments: [String]) throws {
        self.process.executableURL = Paths.executable
        self.process.arguments = ["serve"] + arguments
        self.process.standardOutput = self.stdoutPipe
        self.process.standardError = self.stderrPipe
        try self.process.run()
        self.stderrDone.enter()
        DispatchQueue.global().async { [stderrPipe, stderrDone, stderrBox] in
            stderrBox.data = stderrPipe.fileHandleForReading.readDataToEndOfFile()
            stderrDone.leave()
        }
        var igtl: Int?
        var json: Int?
        var buffer = Data()
        let reader = self.stdoutPipe.fileHandleForReading
        var sawTracker = false
        while igtl == nil || json == nil || !sawTracker {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            buffer += chunk
            while let nl = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
                buffer = Data(buffer[(nl + 1)...])
                self.lines.append(line)
                if line.hasPrefix("OpenIGTLink: listening on "), let p = line.split(separator: ":").last { igtl = Int(p) }
                if line.hasPrefix("JSON-lines: listening on "), let p = line.split(separator: ":").last { json = Int(p) }
                if line.hasPrefix("tracker: ") { sawTracker = true }
            }
        }
        guard let igtl, let json else {
            self.process.terminate()
            self.process.waitUntilExit()
            self.stderrDone.wait()
            throw ServeTestError("coilnav serve did not print its ports; stdout \(self.lines), stderr \(String(decoding: self.stderrBox.data, as: UTF8.self))")
        }
        self.igtlPort = igtl
        self.jsonPort = json
        self.restOfBanner = buffer
    }
    private var restOfBanner: Data

    /// The banner lines after the two port lines (already buffered).
    var bannerText: String { (self.lines + [String(decoding: self.restOfBanner, as: UTF8.self)]).joined(separator: "\n") }

    /// SIGTERM, wait, and return stderr.
    @discardableResult
    func stop() -> (status: Int32, stderr: String) {
        if self.process.isRunning { self.process.terminate() }
        self.process.waitUntilExit()
        self.stderrDone.wait()
        return (self.process.terminationStatus, String(decoding: self.stderrData, as: UTF8.self))
    }
}

final class DataBox: @unchecked Sendable {
    var data = Data()
}

struct ServeTestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { self.description = d }
}

/// A JSON-lines client.
final class JSONLines {
    let stream: TCPStream
    private var buffer: [UInt8] = []
    init(port: Int) throws { self.stream = try TCPStream.connect(host: "127.0.0.1", port: port) }
    func send(_ line: String) throws { try self.stream.write(Array((line + "\n").utf8)) }
    func next(seconds: Double = 10, where predicate: ([String: Any]) -> Bool = { _ in true }) throws -> [String: Any]? {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            while let nl = self.buffer.firstIndex(of: 0x0A) {
                let line = Array(self.buffer[..<nl])
                self.buffer.removeFirst(nl + 1)
                if let o = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], predicate(o) { return o }
            }
            if Date() >= deadline { return nil }
            self.buffer += try self.stream.read(maxBytes: 65536, timeout: .milliseconds(50))
        }
    }
    func request(_ line: String, id: Int) throws -> [String: Any]? {
        try self.send(line)
        return try self.next { ($0["type"] as? String) == "response" && ($0["id"] as? Int) == id }
    }
    func close() { self.stream.close() }
}

@Suite(.serialized) struct ServeTests {
    static let scenario = Paths.root.appendingPathComponent("Mock/scenarios/static-noise-free.json").path

    @Test func aNoiseFreeScenarioGivesTheKnownMetricsToAMillionthOfAMillimetre() throws {
        let session = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: session) }
        let server = try ServerProcess([
            "--tracker", "mock://\(Self.scenario)?seed=5", "--plan", Paths.demo("plan.json"),
            "--registration", Paths.demo("registration.json"), "--session", session.path,
            "--igtl-port", "0", "--json-port", "0", "--insecure",
        ])
        defer { server.stop() }
        let client = try JSONLines(port: server.jsonPort)
        defer { client.close() }
        #expect(try client.request(#"{"id":1,"cmd":"subscribe"}"#, id: 1)?["ok"] as? Bool == true)
        let frame = try #require(try client.next { ($0["type"] as? String) == "frame" && ($0["valid"] as? Bool) == true })
        #expect(frame["target"] as? String == "DLPFC-Fox2012")
        let metrics = try #require(frame["metrics"] as? [String: Any])

        // What the server must have computed: the mock's float32 measurements (as the wire carries
        // them) through the registration file, against the plan's target.
        let sim = MockSimulation(scenario: try MockScenario.load(path: Self.scenario), seed: 5)
        let tools = sim.frame(0).tools
        let head = try #require(tools.first { $0.name == "head" }?.measured?.transform)
        let coil = try #require(tools.first { $0.name == "coil" }?.measured?.transform)
        let headToMRI = try RegistrationRecord.load(path: Paths.demo("registration.json")).headToMRI
        let planTarget = try #require(try Plan.load(path: Paths.demo("plan.json")).target(named: "DLPFC-Fox2012"))
        let target = NavigationTarget(name: planTarget.name, targetToMRI: planTarget.coilToMRI, coilToCortexMM: planTarget.coilToCortexMM ?? 0)
        let expected = CoilError(coilToMRI: headToMRI * (head.inverse * coil), target: target)
        func number(_ key: String) throws -> Double { try #require(metrics[key] as? Double, "\(key)") }
        #expect(Swift.abs(try number("distanceMM") - expected.distanceMM) < 1e-6)
        #expect(Swift.abs(try number("depthMM") - expected.depthMM) < 1e-6)
        #expect(Swift.abs(try number("tiltDegrees") - expected.tiltDegrees) < 1e-6)
        #expect(Swift.abs(try number("twistDegrees") - expected.twistDegrees) < 1e-6)
        let inPlane = try #require(metrics["inPlaneAtCoil"] as? [String: Any])
        #expect(Swift.abs((inPlane["x"] as? Double ?? .nan) - expected.inPlaneAtCoilMM.x) < 1e-6)
        #expect(Swift.abs((inPlane["y"] as? Double ?? .nan) - expected.inPlaneAtCoilMM.y) < 1e-6)
        let cortex = try #require(metrics["inPlaneAtCortex"] as? [String: Any])
        #expect(Swift.abs((cortex["mm"] as? Double ?? .nan) - expected.inPlaneAtCortexMM.magnitude) < 1e-6)
        // And the scenario's truth, to the float32 rounding of poses 1.5 m from the camera:
        // offset (1.5, −2, 0.5) mm and 3° about the coil's y axis.
        #expect(Swift.abs(try number("distanceMM") - 6.5.squareRoot()) < 1e-3)
        #expect(Swift.abs(try number("depthMM") - 0.5) < 1e-3)
        #expect(Swift.abs(try number("tiltDegrees") - 3) < 1e-3)
        #expect(Swift.abs(try number("twistDegrees")) < 1e-3)
        // The coil axis (tilted 3° about y) meets the target plane 0.5·tan 3° short of the centre offset.
        #expect(Swift.abs((inPlane["x"] as? Double ?? .nan) - (1.5 - 0.5 * tan(3 * Double.pi / 180))) < 1e-3)
    }

    @Test func tokensGuardSessionChangesAndARestartedServerResumesTheSession() throws {
        let session = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: session) }
        let arguments = [
            "--tracker", "mock://\(Self.scenario)?seed=5", "--plan", Paths.demo("plan.json"),
            "--registration", Paths.demo("registration.json"), "--session", session.path,
            "--igtl-port", "0", "--json-port", "0",
        ]
        let first = try ServerProcess(arguments)
        let tokenPath = session.appendingPathComponent("token").path
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: tokenPath)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        let token = try String(contentsOfFile: tokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.count == 64)
        let c = try JSONLines(port: first.jsonPort)
        // Reading and streaming need no token.
        #expect(try c.request(#"{"id":1,"cmd":"subscribe","maxRateHz":5}"#, id: 1)?["ok"] as? Bool == true)
        #expect(try c.next { ($0["type"] as? String) == "frame" } != nil)
        // Changing the session does.
        let refused = try #require(try c.request(#"{"id":2,"cmd":"select-target","name":"F3"}"#, id: 2))
        #expect(refused["ok"] as? Bool == false)
        #expect((refused["error"] as? [String: Any])?["code"] as? String == "unauthorized")
        let wrong = try #require(try c.request(#"{"id":3,"cmd":"pulse","token":"0000"}"#, id: 3))
        #expect((wrong["error"] as? [String: Any])?["code"] as? String == "unauthorized")
        #expect(try c.request(#"{"id":4,"cmd":"select-target","name":"F3","token":"\#(token)"}"#, id: 4)?["ok"] as? Bool == true)
        let pulse = try #require(try c.request(#"{"id":5,"cmd":"pulse","token":"\#(token)","intensityPercentMSO":60}"#, id: 5))
        #expect(pulse["ok"] as? Bool == true, "\(pulse)")
        c.close()
        let stopped = first.stop()
        #expect(stopped.status == 0, "\(stopped.stderr)")
        let log = try String(contentsOf: session.appendingPathComponent("pulses.jsonl"), encoding: .utf8)
        #expect(log.split(separator: "\n").count == 2)  // header + one pulse

        // Restart on the same session: target, registration and pulses are back.
        let second = try ServerProcess(arguments)
        defer { second.stop() }
        #expect(second.bannerText.contains("(resumed), 1 pulses recorded"), "\(second.bannerText)")
        #expect(second.bannerText.contains("active target: F3"), "\(second.bannerText)")
        #expect(second.bannerText.contains("registration: resumed from the session"), "\(second.bannerText)")
        #expect(try String(contentsOfFile: tokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == token)
        let d = try JSONLines(port: second.jsonPort)
        defer { d.close() }
        let status = try #require(try d.request(#"{"id":1,"cmd":"status"}"#, id: 1))
        #expect(status["target"] as? String == "F3", "\(status)")
        #expect(status["pulses"] as? Int == 1, "\(status)")
        #expect(status["registered"] as? Bool == true, "\(status)")
        // Registration quality for the readout: the demo registration's FRE, and the TRE predicted at
        // F3's cortical point for its fiducials (the plan's, with the record's FLE).
        let record = try RegistrationRecord.load(path: Paths.demo("registration.json"))
        #expect(Swift.abs((status["freMM"] as? Double ?? 0) - record.freMM) < 1e-12)
        let plan = try Plan.load(path: Paths.demo("plan.json"))
        let names = Set(record.fiducialResiduals.map { $0.name.lowercased() })
        let f3 = try #require(plan.target(named: "F3"))
        let expectedTRE = FiducialErrorModel.fitzpatrickTREMM(
            fiducials: plan.fiducials.filter { names.contains($0.label.lowercased()) }.map(\.position),
            target: f3.coilToMRI.apply(to: Vector3(0, 0, f3.coilToCortexMM ?? 0)), fleMM: record.fleMM ?? 1)
        #expect(Swift.abs((status["predictedTREMM"] as? Double ?? 0) - expectedTRE) < 1e-12, "\(status)")
        #expect(status["framesDropped"] as? Int == 0)
    }
}
