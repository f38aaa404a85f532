import Foundation
import MockTracker
import MockTrackerServer
import NDIProtocol
import Testing
import TrackerTransport

enum Paths {
    /// The repository root (this file is Tests/MockTrackerServerTests/Support.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let calibration = root.appendingPathComponent("Calibration").path
    static func rom(_ name: String) -> String { root.appendingPathComponent("Calibration/tools/\(name)").path }
    static func scenario(_ name: String) -> String { root.appendingPathComponent("Mock/scenarios/\(name)").path }

    /// The built `coilnav` (next to the test bundle, or `$COILNAV_BIN`).
    static var executable: URL {
        if let e = ProcessInfo.processInfo.environment["COILNAV_BIN"], !e.isEmpty { return URL(fileURLWithPath: e) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("coilnav")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return root.appendingPathComponent(".build/debug/coilnav")
    }

    static func temporaryDirectory() throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("coilnav-mockserver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}

/// A small scenario with everything the protocol side must express: two passive tools (noise,
/// an occlusion, a partly-out-of-volume window), an active tool with a disabled window, and the
/// three faults. 10 Hz, 40 frames, device frame numbers from 1000.
enum TestScenario {
    static let json = """
        {
            "format": "coilnav-mock-scenario",
            "version": 1,
            "frameRateHz": 10,
            "frameCount": 40,
            "startFrameNumber": 1000,
            "tools": [
                {
                    "name": "head", "kind": "head-reference", "portHandle": 1,
                    "setup": {"type": "passive", "toolDefinition": "tools/head-reference.rom"},
                    "motion": {"type": "static", "pose": {"axis": [0, 1, 0], "angleDegrees": 180, "translationMM": [0, 0, -1400]}},
                    "noise": {"translationSigmaMM": 0.1, "rotationSigmaDegrees": 0.05, "rmsErrorMM": 0.12}
                },
                {
                    "name": "coil", "kind": "coil", "portHandle": 2,
                    "setup": {"type": "passive", "toolDefinition": "tools/coil-reference.rom"},
                    "motion": {"type": "keyframes", "keyframes": [
                        {"timeSeconds": 0, "pose": {"translationMM": [10, 20, -1300]}},
                        {"timeSeconds": 3, "pose": {"axis": [1, 0, 0], "angleDegrees": 30, "translationMM": [40, 0, -1350]}}
                    ]},
                    "noise": {"translationSigmaMM": 0.2, "rmsErrorMM": 0.2},
                    "occlusions": [{"fromSeconds": 1, "toSeconds": 1.5}],
                    "partlyOutOfVolume": [{"fromSeconds": 2, "toSeconds": 2.5}]
                },
                {
                    "name": "pointer", "kind": "pointer", "portHandle": 3,
                    "setup": {"type": "active"},
                    "motion": {"type": "static", "pose": {"translationMM": [-50, 30, -1500]}},
                    "disabled": [{"fromSeconds": 0.5, "toSeconds": 0.8}]
                }
            ],
            "faults": [
                {"frameIndex": 25, "type": "corrupt-crc"},
                {"frameIndex": 28, "type": "stall", "durationMS": 150},
                {"frameIndex": 32, "type": "disconnect", "durationMS": 200}
            ]
        }
        """

    static func scenario(withoutFaults: Bool = false) throws -> MockScenario {
        var text = Self.json
        if withoutFaults {
            let start = text.range(of: "\"faults\"")!.lowerBound
            let end = text.range(of: "]", range: start..<text.endIndex)!.upperBound
            text.replaceSubrange(start..<end, with: "\"faults\": []")
        }
        return try MockScenario.parse(
            data: Data(text.utf8),
            source: Paths.root.appendingPathComponent("Mock/scenarios/protocol-test.json").path,
            baseDirectory: Paths.root.appendingPathComponent("Mock/scenarios").path
        )
    }

    static func definitions() throws -> [String: [UInt8]] {
        try MockTrackerServer.loadToolDefinitions(for: try scenario(), calibrationDirectory: Paths.calibration)
    }

    static var options: MockTrackerServer.Options {
        MockTrackerServer.Options(timing: .asFastAsPossible, calibrationDirectory: Paths.calibration)
    }
}

struct HostError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { self.description = d }
}

/// The host side of the protocol, as a driver speaks it: encode a command, frame the reply with
/// `NDIReplyFramer`, interpret it with `NDIReply.parse`. Keeps every reply byte received.
final class Host {
    let stream: any ByteStream
    private var framer = NDIReplyFramer()
    private(set) var received: [UInt8] = []

    init(_ stream: any ByteStream) { self.stream = stream }

    /// Sends `command` and returns the next framed reply (or framing error).
    func exchange(_ command: NDICommand, form: NDICommand.Form = .crc) throws -> Result<NDIReplyFrame, NDIReplyError> {
        try self.stream.write(try command.encoded(form: form))
        return try self.nextFrame()
    }

    func sendBytes(_ bytes: [UInt8]) throws -> Result<NDIReplyFrame, NDIReplyError> {
        try self.stream.write(bytes)
        return try self.nextFrame()
    }

    func nextFrame(timeout: Duration = .seconds(10)) throws -> Result<NDIReplyFrame, NDIReplyError> {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            if let next = self.framer.next() { return next }
            let left = clock.now.duration(to: deadline)
            guard left > .zero else { throw HostError("no reply within \(timeout)") }
            let bytes = try self.stream.read(maxBytes: 4096, timeout: min(left, .milliseconds(200)))
            self.received += bytes
            self.framer.feed(bytes)
        }
    }

    /// Sends `command` and interprets a well-framed reply.
    func send(_ command: NDICommand, form: NDICommand.Form = .crc) throws -> NDIReply {
        let frame = try self.exchange(command, form: form).get()
        return try NDIReply.parse(frame, command: command)
    }

    /// Sends `command`, requires OKAY.
    func okay(_ command: NDICommand) throws {
        let reply = try self.send(command)
        guard reply == .okay else { throw HostError("\(command.name): expected OKAY, got \(reply)") }
    }

    func handles(_ filter: NDIPortHandleFilter) throws -> [UInt8] {
        guard case .portHandles(let list) = try self.send(.phsr(filter)) else { throw HostError("PHSR") }
        return list.handles
    }

    /// The ndicapi / scikit-surgerynditracker start-up: INIT, PHSR:01 + PHF, PHRQ + 16 PVWR per
    /// ROM, PHSR:02 + PINIT, PHSR:03 + PENA, TSTART. Returns the handle of each ROM.
    @discardableResult
    func startTracking(roms: [String]) throws -> [UInt8] {
        try self.okay(.initialize)
        for h in try self.handles(.toBeFreed) { try self.okay(.phf(handle: h)) }
        var assigned: [UInt8] = []
        for path in roms {
            guard case .portHandle(let h) = try self.send(.phrq()) else { throw HostError("PHRQ") }
            let rom = [UInt8](FileManager.default.contents(atPath: path)!)
            for command in NDIROMChunk.pvwrCommands(handle: h, rom: rom)! { try self.okay(command) }
            assigned.append(h)
        }
        for h in try self.handles(.notInitialized) { try self.okay(.pinit(handle: h)) }
        for h in try self.handles(.notEnabled) { try self.okay(.pena(handle: h, priority: .dynamic)) }
        try self.okay(.tstart)
        return assigned
    }

    func bx() throws -> NDITrackingReply {
        guard case .tracking(let t) = try self.send(.bx(.transformsAllVolumes)) else { throw HostError("BX") }
        return t
    }
}

/// What a BX report must be for frame `frame` of the simulation (scenario tool at index `k`).
func expectReport(
    _ report: NDIHandleReport?,
    matches state: MockToolState,
    frameNumber: UInt32,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let report else {
        Issue.record("handle \(state.handle) (\(state.name)) not reported", sourceLocation: sourceLocation)
        return
    }
    switch state.status {
    case .ok, .partlyOutOfVolume:
        #expect(report.frameNumber == frameNumber, sourceLocation: sourceLocation)
        #expect(report.status == .valid, sourceLocation: sourceLocation)
        let m = state.measured!
        #expect(report.transform?.rotation == m.rotation, sourceLocation: sourceLocation)
        #expect(report.transform?.translation == m.translationMM, sourceLocation: sourceLocation)
        #expect(report.transform?.rmsError == Double(Float(state.rmsErrorMM)), sourceLocation: sourceLocation)
        let expected: NDIPortStatus =
            state.status == .ok ? [.occupied, .initialized, .enabled] : [.occupied, .initialized, .enabled, .partiallyInVolume]
        #expect(report.portStatus == expected, sourceLocation: sourceLocation)
    case .missing:
        #expect(report.frameNumber == frameNumber, sourceLocation: sourceLocation)
        #expect(report.status == .missing, sourceLocation: sourceLocation)
        #expect(report.transform == nil, sourceLocation: sourceLocation)
        #expect(report.portStatus == [.occupied, .initialized, .enabled], sourceLocation: sourceLocation)
    case .disabled:
        // BX carries nothing after the status byte of a disabled handle.
        #expect(report.status == .disabled, sourceLocation: sourceLocation)
        #expect(report.transform == nil && report.frameNumber == nil, sourceLocation: sourceLocation)
    }
}
