import Foundation
import Formats
import Geometry
import Navigation
import NavigationServer
import ServerSession
import TrackerCore

/// An in-process server on port 0 with a manual clock and a temporary session directory.
final class ServerHarness: @unchecked Sendable {
    let clock: TestClock
    let engine: NavigationEngine
    let executor: CommandExecutor
    let server: NavigationServer
    let logs = LogLines()
    let directory: String
    let session: SessionStore
    let pulseLog: PulseLog

    static let target = NavigationTarget(
        name: "T1",
        targetToMRI: RigidTransform(rotation: Quaternion(axis: Vector3(1, 0, 0), angleRadians: .pi), translation: Vector3(-38, 44, 70)),
        coilToCortexMM: 20)
    static let target2 = NavigationTarget(name: "T2", targetToMRI: .translation(Vector3(10, 0, 0)), coilToCortexMM: 15)

    init(
        frameRateHz: Double = 60, unixAtZero: Int64 = 1_700_000_000_000_000_000, headToMRI: RigidTransform? = .identity,
        token: String? = nil, writeTimeout: Duration = .seconds(2), controlLimitBytes: Int = 1 << 20, pointerTip: Vector3? = nil,
        directory: String? = nil
    ) throws {
        self.clock = TestClock(1_000_000_000)
        self.directory = directory ?? (NSTemporaryDirectory() + "coilnav-server-test-" + UUID().uuidString)
        self.session = try SessionStore.open(directory: self.directory, createIfMissing: true)
        self.pulseLog = try PulseLog.open(path: self.session.pulsesPath)
        let logs = self.logs
        self.engine = NavigationEngine(
            configuration: NavigationEngineConfiguration(frameRateHz: frameRateHz, unixNanosecondsAtClockZero: unixAtZero, pulseWaitLimit: .milliseconds(300)),
            clock: self.clock, targets: [Self.target, Self.target2], activeTargetName: "T1", headToMRI: headToMRI,
            log: { logs.append($0) })
        self.executor = CommandExecutor(
            engine: self.engine, session: self.session, pulseLog: self.pulseLog, token: token,
            context: CommandContext(mriFiducials: [], scalp: nil, pointerTipMM: pointerTip))
        self.server = try NavigationServer(
            engine: self.engine, commands: self.executor,
            options: .init(igtlPort: 0, jsonPort: 0, writeTimeout: writeTimeout, controlLimitBytes: controlLimitBytes, watchdogInterval: nil))
        self.server.start()
    }

    /// Feeds a frame received "now" (the test clock).
    func frame(_ number: UInt32, at t: UInt64? = nil, coil: RigidTransform?, head: RigidTransform? = .identity, pointer: RigidTransform? = nil) {
        let time = t ?? self.clock.nowNanoseconds()
        if t != nil { self.clock.set(time) }
        var tools = [tool("head", 1, head), tool("coil", 2, coil)]
        if let pointer { tools.append(tool("pointer", 3, pointer)) }
        self.engine.handle(.frame(TrackerFrame(deviceFrameNumber: number, hostReceiveNanoseconds: time, tools: tools)))
    }

    func waitForClients(_ n: Int) -> Bool { eventually { self.engine.clientCount == n } }

    func stop() {
        self.server.stop()
        self.pulseLog.close()
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}
