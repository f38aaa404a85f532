import Foundation
import Geometry
import MockTracker
import MockTrackerServer
import NDITracker
import Testing
import TrackerCore
import TrackerTransport

/// Issue 3: CoilNav's driver against CoilNav's mock tracker, over every transport, and through
/// every fault. Each side is also tested against independent peers (scripted responders, the
/// codec's golden vectors, ndicapy and scikit-surgerynditracker).
@Suite(.serialized) struct DriverAgainstMockTests {
    /// Collects a driver's events until `enough` says so (or a hang guard expires).
    final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [TrackerEvent] = []
        private let done = DispatchSemaphore(value: 0)
        private var signalled = false
        let enough: @Sendable ([TrackerEvent]) -> Bool

        init(enough: @escaping @Sendable ([TrackerEvent]) -> Bool) { self.enough = enough }

        func push(_ e: TrackerEvent) {
            self.lock.lock()
            self.events.append(e)
            let finished = !self.signalled && self.enough(self.events)
            if finished { self.signalled = true }
            self.lock.unlock()
            if finished { self.done.signal() }
        }

        /// Waits for `enough` (hang guard only: a run that times out fails on its assertions).
        func wait(seconds: Double) -> [TrackerEvent] {
            _ = self.done.wait(timeout: .now() + seconds)
            self.lock.lock()
            defer { self.lock.unlock() }
            return self.events
        }
    }

    static let toolSet = try! ToolSet.load(path: Paths.root.appendingPathComponent("Calibration/tools/toolset-mock.json").path)

    static func scenario(_ name: String) throws -> MockScenario {
        try MockScenario.load(path: Paths.root.appendingPathComponent("Mock/scenarios/\(name)").path)
    }

    static func frames(_ events: [TrackerEvent]) -> [TrackerFrame] {
        events.compactMap { if case .frame(let f) = $0 { return f } else { return nil } }
    }

    /// Runs the driver until `count` frames arrived.
    static func run(
        scenario: MockScenario, count: Int, connect: @escaping @Sendable () throws -> any ByteStream
    ) -> (events: [TrackerEvent], statistics: NDITrackerStatistics) {
        let config = NDITrackerConfiguration.forURL(
            .mock(scenarioPath: "-", seed: 0), profiles: [], tools: Self.toolSet.tools, frameRateHz: scenario.frameRateHz)
        let recorder = Recorder { Self.frames($0).count >= count }
        let driver = NDITrackerDriver(configuration: config, connect: connect, onEvent: recorder.push)
        driver.start()
        let events = recorder.wait(seconds: 60)
        _ = driver.stop()
        return (events, driver.statistics)
    }

    /// Every pose the driver delivered equals, bit for bit, the float32 measurement the mock put
    /// on the wire for that frame; statuses match; frames arrive in order.
    static func expectFramesMatchTheSimulation(_ frames: [TrackerFrame], scenario: MockScenario, seed: UInt64, minimum: Int) {
        let simulation = MockSimulation(scenario: scenario, seed: seed)
        #expect(frames.count >= minimum)
        var previous: UInt32?
        var compared = 0
        for frame in frames {
            if let p = previous { #expect(frame.deviceFrameNumber > p) }
            previous = frame.deviceFrameNumber
            let index = Int(frame.deviceFrameNumber &- scenario.startFrameNumber)
            let expected = simulation.frame(index)
            for tool in expected.tools {
                guard let sample = frame.tool(named: tool.name) else {
                    Issue.record("frame \(frame.deviceFrameNumber): no sample for \(tool.name)")
                    continue
                }
                #expect(sample.status.rawValue == tool.status.rawValue, "frame \(frame.deviceFrameNumber) \(tool.name)")
                if let m = tool.measured, sample.status.hasPose {
                    #expect(sample.toolToTracker == m.transform, "frame \(frame.deviceFrameNumber) \(tool.name)")
                    #expect(sample.rmsErrorMM == Double(Float(tool.rmsErrorMM)))
                    compared += 1
                }
            }
        }
        #expect(compared >= minimum)
    }

    @Test func overTheInMemorySerialLine() throws {
        let scenario = try Self.scenario("demo-approach.json")
        let server = try MockTrackerServer.pipeServer(scenario: scenario, seed: 5, timing: .asFastAsPossible)
        defer { server.stop() }
        let (events, stats) = Self.run(scenario: scenario, count: 40) { server.connect() }
        Self.expectFramesMatchTheSimulation(Self.frames(events), scenario: scenario, seed: 5, minimum: 40)
        #expect(stats.connections == 1)
        #expect(stats.malformedReplies == 0)
    }

    @Test func overAPseudoTerminal() throws {
        let scenario = try Self.scenario("head-motion.json")
        let server = try MockTrackerServer.pseudoTerminal(scenario: scenario, seed: 9, options: .init(timing: .asFastAsPossible))
        defer { server.stop() }
        let path = try #require(server.slavePath)
        let (events, stats) = Self.run(scenario: scenario, count: 30) { try SerialStream(path: path, parameters: .ndiDefault) }
        Self.expectFramesMatchTheSimulation(Self.frames(events), scenario: scenario, seed: 9, minimum: 30)
        #expect(stats.connections == 1)
    }

    @Test func overTCPLikeAVega() throws {
        let scenario = try Self.scenario("static-noise-free.json")
        let server = try MockTrackerServer.tcp(host: "127.0.0.1", port: 0, scenario: scenario, seed: 2, options: .init(timing: .asFastAsPossible))
        defer { server.stop() }
        let port = try #require(server.port)
        let (events, _) = Self.run(scenario: scenario, count: 30) { try TCPStream.connect(host: "127.0.0.1", port: port) }
        Self.expectFramesMatchTheSimulation(Self.frames(events), scenario: scenario, seed: 2, minimum: 30)
    }

    /// occlusion-and-faults.json: a corrupt CRC at frame 120, a 250 ms stall at 300, a 2 s
    /// disconnect at 600. The corrupt reply is skipped and tracking goes on; the stall is longer
    /// than the tracking timeout, so the driver reports the tracker lost and reconnects; so does
    /// the disconnect. Statuses (occlusions, dropouts, partly out of volume) match the scenario
    /// throughout.
    @Test func everyFaultIsSurvived() throws {
        let scenario = try Self.scenario("occlusion-and-faults.json")
        let server = try MockTrackerServer.pipeServer(scenario: scenario, seed: 4, timing: .asFastAsPossible)
        defer { server.stop() }
        let start = scenario.startFrameNumber
        // This scenario's pointer is wired (active): its tool set says so.
        let wired = try ToolSet.load(path: Paths.root.appendingPathComponent("Calibration/tools/toolset-mock-wired-pointer.json").path)
        let config = NDITrackerConfiguration.forURL(
            .mock(scenarioPath: "-", seed: 0), profiles: [], tools: wired.tools, frameRateHz: scenario.frameRateHz)
        let recorder = Recorder { events in
            Self.frames(events).contains { $0.deviceFrameNumber &- start >= 700 }
        }
        let driver = NDITrackerDriver(configuration: config, connect: { server.connect() }, onEvent: recorder.push)
        driver.start()
        let events = recorder.wait(seconds: 90)
        _ = driver.stop()
        let stats = driver.statistics
        let frames = Self.frames(events)
        let indices = frames.map { Int($0.deviceFrameNumber &- start) }
        #expect(indices.last ?? 0 >= 700)
        // The corrupt reply (frame 120) was skipped, counted, and tracking went on.
        #expect(stats.malformedReplies == 1)
        #expect(!indices.contains(120))
        #expect(indices.contains(121))
        // Stall and disconnect: each took the tracker away and the driver came back (during the
        // 2 s disconnect a reconnect attempt may fail first: the mock is still down).
        let states = events.compactMap { if case .state(let s) = $0 { return s } else { return nil } }
        let losses = states.filter { if case .disconnected = $0 { return true } else { return false } }
        #expect(losses.count >= 2, "\(states)")
        #expect(states.filter { $0 == .tracking }.count == 3, "\(states)")
        #expect(stats.connections >= 3)
        // Frames resumed after each fault.
        #expect(indices.contains { $0 > 300 && $0 < 600 })
        #expect(indices.contains { $0 > 600 })
        // Every frame delivered, before and after the faults, is exactly what the mock sent.
        Self.expectFramesMatchTheSimulation(frames, scenario: scenario, seed: 4, minimum: 600)
    }
}

