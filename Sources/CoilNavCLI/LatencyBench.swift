import Foundation
import Geometry
import Histogram
import IGTLProtocol
import NDITracker
import Navigation
import NavigationServer
import TrackerCore
import TrackerTransport

/// The server's end-to-end latency: a frame enters the server (what the tracker driver does when a
/// reply arrives: `engine.handle(.frame)` stamped with the receive time) → pipeline → encoding →
/// fan-out → loopback TCP → an OpenIGTLink client has decoded that frame's `CoilToTarget` TRANSFORM.
/// The frame's time travels in the message's timestamp (the igtl fraction round-trips
/// nanoseconds exactly), so each client measures its own latency without shared state.
enum LatencyBench {
    struct Result: Encodable {
        var rateHz: Double
        var clients: Int
        var framesEmitted: Int
        /// Frames each client decoded, on average (latest-wins may skip frames for a slow client).
        var framesReceivedPerClient: Double
        var p50Microseconds: Double
        var p99Microseconds: Double
        var maxMicroseconds: Double
        /// The emitting thread's time in `engine.handle` per frame (pipeline + encoding + fan-out), median / p99.
        var serverPerFrameMedianMicroseconds: Double
        var serverPerFrameP99Microseconds: Double
    }

    static func run(rateHz: Double, clients: Int, seconds: Double) throws -> Result {
        let clock = SystemTrackerClock()
        let target = NavigationTarget(name: "T", targetToMRI: .translation(Vector3(0, 0, 80)), coilToCortexMM: 20)
        // unix offset 0: IGTL timestamps are the clock's nanoseconds.
        let engine = NavigationEngine(
            configuration: NavigationEngineConfiguration(frameRateHz: rateHz, unixNanosecondsAtClockZero: 0),
            clock: clock, targets: [target], activeTargetName: "T", headToMRI: .identity)
        let executor = CommandExecutor(engine: engine, session: nil, pulseLog: nil, token: nil, context: CommandContext(mriFiducials: [], scalp: nil, pointerTipMM: nil))
        let server = try NavigationServer(engine: engine, commands: executor, options: .init(igtlPort: 0, jsonPort: 0, watchdogInterval: nil))
        server.start()
        defer { server.stop() }

        var probes: [LatencyProbe] = []
        for _ in 0..<clients {
            probes.append(try LatencyProbe(port: server.igtlPort, deviceName: "CoilToTarget", clock: clock))
        }
        guard eventually({ engine.clientCount == clients }) else { throw CLIError("latency bench: clients did not connect") }

        let frames = Int(rateHz * seconds)
        let period = 1e9 / rateHz
        var serverCost = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        let head = RigidTransform(rotation: Quaternion(axis: Vector3(0.2, 1, 0.1), angleRadians: 2.5), translation: Vector3(20, -40, -1450))
        let start = clock.nowNanoseconds() + 50_000_000
        for i in 0..<frames {
            let due = start + UInt64(Double(i) * period)
            while true {
                let now = clock.nowNanoseconds()
                if now >= due { break }
                let left = due - now
                if left > 200_000 { Thread.sleep(forTimeInterval: Double(left - 150_000) / 1e9) }
            }
            let wobble = RigidTransform(
                rotation: Quaternion(axis: Vector3(1, 0, 0), angleRadians: 0.01 * sin(Double(i) * 0.01)),
                translation: Vector3(0.5 * sin(Double(i) * 0.02), 0, 0))
            let coilToTracker = head * target.targetToMRI * wobble  // headToMRI = identity
            let t0 = clock.nowNanoseconds()
            engine.handle(.frame(TrackerFrame(
                deviceFrameNumber: UInt32(i + 1), hostReceiveNanoseconds: t0,
                tools: [ToolSample(name: "head", handle: 1, status: .ok, toolToTracker: head, rmsErrorMM: 0.1),
                        ToolSample(name: "coil", handle: 2, status: .ok, toolToTracker: coilToTracker, rmsErrorMM: 0.1)])))
            _ = serverCost.record(clock.nowNanoseconds() - t0)
        }
        Thread.sleep(forTimeInterval: 0.3)
        var merged = LatencyProbe.makeHistogram()
        var received = 0
        for p in probes {
            let (h, n) = p.stop()
            merged.add(h)
            received += n
        }
        func us(_ v: UInt64) -> Double { (Double(v) / 100).rounded() / 10 }
        return Result(
            rateHz: rateHz, clients: clients, framesEmitted: frames,
            framesReceivedPerClient: Double(received) / Double(clients),
            p50Microseconds: us(merged.valueAtPercentile(50)), p99Microseconds: us(merged.valueAtPercentile(99)),
            maxMicroseconds: us(merged.max),
            serverPerFrameMedianMicroseconds: us(serverCost.valueAtPercentile(50)),
            serverPerFrameP99Microseconds: us(serverCost.valueAtPercentile(99)))
    }

    private static func eventually(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return false
    }
}
