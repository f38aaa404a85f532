import CoilNavTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Formats
import Geometry
import Testing
import TrackerTransport

/// Follows the server's frames to know the mock scenario's time: frame numbers start at 0 at
/// TSTART and the mock runs at 60 Hz, so t = frame / 60 s.
final class ScenarioClock: @unchecked Sendable {
    private let lock = NSLock()
    private var frame = -1
    private let client: JSONLines
    private var running = true

    init(jsonPort: Int) throws {
        self.client = try JSONLines(port: jsonPort)
        _ = try self.client.request(#"{"id":1,"cmd":"subscribe","events":false}"#, id: 1)
        let t = Thread { [self] in
            while self.isRunning, let f = try? self.client.next(seconds: 1, where: { ($0["type"] as? String) == "frame" }) {
                self.lock.lock()
                self.frame = f["frame"] as? Int ?? self.frame
                self.lock.unlock()
            }
        }
        t.start()
    }
    private var isRunning: Bool { self.lock.lock(); defer { self.lock.unlock() }; return self.running }
    var seconds: Double { self.lock.lock(); defer { self.lock.unlock() }; return Double(self.frame) / 60 }
    func stop() {
        self.lock.lock()
        self.running = false
        self.lock.unlock()
        self.client.close()
    }

    /// Waits until the scenario time is inside [from, to); false if it is already past.
    func wait(from: Double, to: Double) -> Bool {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let t = self.seconds
            if t >= to { return false }
            if t >= from { return true }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return false
    }
}

/// A program run on a pseudo-terminal: what it prints is read from the master side.
final class TerminalSession: @unchecked Sendable {
    let pty: PseudoTerminal
    let process = Process()
    private let lock = NSLock()
    private var text = ""
    private var reader: Thread?

    init(_ executable: URL, _ arguments: [String]) throws {
        self.pty = try PseudoTerminal()
        let slave = try #require(FileHandle(forUpdatingAtPath: self.pty.slavePath))
        // The pseudo-terminal starts in the serial mocks' raw mode with VMIN 0 (a read returns at
        // once); a person's terminal blocks until input arrives: VMIN 1.
        var attributes = termios()
        tcgetattr(slave.fileDescriptor, &attributes)
        withUnsafeMutableBytes(of: &attributes.c_cc) { $0[Int(VMIN)] = 1; $0[Int(VTIME)] = 0 }
        tcsetattr(slave.fileDescriptor, TCSANOW, &attributes)
        self.process.executableURL = executable
        self.process.arguments = arguments
        self.process.standardInput = slave
        self.process.standardOutput = slave
        self.process.standardError = slave
        try self.process.run()
        let master = self.pty.master
        let t = Thread { [self] in
            while true {
                guard let bytes = try? master.read(maxBytes: 4096, timeout: .milliseconds(100)) else { return }
                if bytes.isEmpty { if !self.process.isRunning { return } else { continue } }
                self.lock.lock()
                self.text += String(decoding: bytes, as: UTF8.self)
                self.lock.unlock()
            }
        }
        t.start()
        self.reader = t
    }

    var output: String { self.lock.lock(); defer { self.lock.unlock() }; return self.text }

    /// Waits until the output after `offset` contains `needle`; returns the end offset of the match.
    @discardableResult
    func waitFor(_ needle: String, after offset: String.Index? = nil, seconds: Double = 20) -> String.Index? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let out = self.output
            let start = offset.map { min($0, out.endIndex) } ?? out.startIndex
            if let r = out.range(of: needle, range: start..<out.endIndex) { return r.upperBound }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return nil
    }

    func type(_ line: String) throws { try self.pty.master.write(Array((line + "\n").utf8)) }

    func finish() -> Int32 {
        let deadline = Date().addingTimeInterval(10)
        while self.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if self.process.isRunning { self.process.terminate() }
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }
}

@Suite(.serialized) struct GuidedRegistrationTests {
    /// The whole guided registration on a pseudo-terminal against `coilnav serve` on the
    /// register-walkthrough scenario, pressing Enter in each refusal window first: pointer hidden,
    /// pointer moving, head reference hidden.
    @Test func guidedRegistrationRefusesBadCapturesAndAcceptsAGoodRegistration() throws {
        let session = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: session) }
        let scenario = Paths.root.appendingPathComponent("Mock/scenarios/register-walkthrough.json").path
        let server = try ServerProcess([
            "--tracker", "mock://\(scenario)?seed=3", "--plan", Paths.demo("plan.json"),
            "--registration", Paths.demo("registration.json"), "--session", session.path,
            "--pointer-calibration", Paths.root.appendingPathComponent("Calibration/pointers/mock-pointer.json").path,
            "--igtl-port", "0", "--json-port", "0",
        ])
        defer { server.stop() }
        let clock = try ScenarioClock(jsonPort: server.jsonPort)
        defer { clock.stop() }
        let term = try TerminalSession(
            Paths.executable,
            ["register", "--server", "127.0.0.1:\(server.jsonPort)", "--token-file", session.appendingPathComponent("token").path])
        var at = try #require(term.waitFor("[1/5] Touch NAS"), "\(term.output)")

        // NAS: pointer hidden until 1.5 s.
        #expect(clock.wait(from: 0.2, to: 1.1), "too late for the hidden-pointer window: t = \(clock.seconds)")
        try term.type("")
        at = try #require(term.waitFor("NAS refused — capture refused: pointer not visible (frame ", after: at), "\(term.output)")
        #expect(clock.wait(from: 2.3, to: 3.6))
        try term.type("")
        at = try #require(term.waitFor("NAS captured: 10 frames", after: at), "\(term.output)")

        // LPA: pressed mid-travel (4–5 s): moving.
        at = try #require(term.waitFor("[2/5] Touch LPA", after: at))
        #expect(clock.wait(from: 4.3, to: 4.6), "t = \(clock.seconds)")
        try term.type("")
        at = try #require(term.waitFor("LPA refused — capture refused: pointer moving: the tip wandered ", after: at), "\(term.output)")
        #expect(clock.wait(from: 5.3, to: 6.6))
        try term.type("")
        at = try #require(term.waitFor("LPA captured", after: at), "\(term.output)")

        // RPA: the head reference is hidden 8.0–8.8 s.
        at = try #require(term.waitFor("[3/5] Touch RPA", after: at))
        #expect(clock.wait(from: 8.1, to: 8.4), "t = \(clock.seconds)")
        try term.type("")
        at = try #require(term.waitFor("RPA refused — capture refused: head reference not visible (frame ", after: at), "\(term.output)")
        #expect(clock.wait(from: 9.0, to: 9.7))
        try term.type("")
        at = try #require(term.waitFor("RPA captured", after: at), "\(term.output)")

        for (name, from) in [("Cz", 11.3), ("Iz", 14.3)] {
            at = try #require(term.waitFor("Touch \(name)", after: at))
            #expect(clock.wait(from: from, to: from + 1.2))
            try term.type("")
            at = try #require(term.waitFor("\(name) captured", after: at), "\(term.output)")
        }
        at = try #require(term.waitFor("Scalp points for surface refinement", after: at))
        try term.type("n")
        at = try #require(term.waitFor("Registration: FRE ", after: at), "\(term.output)")
        at = try #require(term.waitFor("Predicted TRE (FLE 1.00 mm):", after: at), "\(term.output)")
        at = try #require(term.waitFor("Enter: accept; r NAME: redo that fiducial", after: at))
        // Redo one fiducial (Iz rests until 16 s), then accept.
        try term.type("r Iz")
        at = try #require(term.waitFor("[5/5] Touch Iz", after: at))
        #expect(clock.wait(from: clock.seconds, to: 15.8))
        try term.type("")
        at = try #require(term.waitFor("Iz captured", after: at), "\(term.output)")
        at = try #require(term.waitFor("Enter: accept", after: at))
        try term.type("")
        try #require(term.waitFor("Registration accepted: FRE ", after: at), "\(term.output)")
        #expect(term.finish() == 0, "\(term.output)")

        // The accepted registration agrees with the simulation's truth at the DLPFC target.
        let accepted = try RegistrationRecord.load(path: session.appendingPathComponent("registration.json").path)
        let truth = try RegistrationRecord.load(path: Paths.demo("registration.json")).headToMRI
        let target = try #require(try Plan.load(path: Paths.demo("plan.json")).target(named: "DLPFC-Fox2012")).coilToMRI.translation
        let error = accepted.headToMRI.apply(to: truth.inverse.apply(to: target)).distance(to: target)
        #expect(error < 0.5, "registration error at the DLPFC target \(error) mm")
        #expect(accepted.freMM < 0.5 && accepted.fiducialResiduals.map(\.name) == ["NAS", "LPA", "RPA", "Cz", "Iz"])
    }
}
