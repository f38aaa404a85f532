import Foundation
import MockTracker
import MockTrackerServer
import NDIProtocol
import Testing
import TrackerTransport

/// The serving loops: a whole ndicapi-style session over the in-memory pipe, a pseudo-terminal
/// and TCP; every fault; bit-identical replies for the same scenario and seed.
@Suite(.serialized)
struct ServerTests {
    static let roms = [Paths.rom("head-reference.rom"), Paths.rom("coil-reference.rom")]

    /// Runs the start-up and `frames` BX replies, checking every pose against the simulation.
    /// Returns all reply bytes received.
    func session(over stream: any ByteStream, scenario: MockScenario, seed: UInt64, frames: Int, firstFrame: Int = 0)
        throws -> [UInt8]
    {
        let host = Host(stream)
        let handles = try host.startTracking(roms: Self.roms)
        #expect(handles == [1, 2])
        let simulation = MockSimulation(scenario: scenario, seed: seed)
        for i in firstFrame..<(firstFrame + frames) {
            let reply = try host.bx()
            let frame = simulation.frame(i)
            #expect(reply.handles.map(\.handle) == [1, 2, 3])
            for (k, state) in frame.tools.enumerated() {
                expectReport(reply.report(for: UInt8(k + 1)), matches: state, frameNumber: frame.frameNumber)
            }
        }
        try host.okay(.tstop)
        return host.received
    }

    @Test func fullSessionOverPipeReturnsTheMeasuredPosesExactly() throws {
        let scenario = try TestScenario.scenario(withoutFaults: true)
        let (client, server) = try MockTrackerServer.pipe(
            scenario: scenario, seed: 11, timing: .asFastAsPossible, options: TestScenario.options)
        defer { server.stop() }
        // COMM first, as a serial driver does: OKAY, then the shared line is at 115200.
        let host = Host(client)
        try host.okay(.initialize)
        try host.okay(.comm(baud: .init(bitsPerSecond: 115200)!))
        Thread.sleep(forTimeInterval: 0.1)
        #expect(client.lineParameters?.baud == 115200)
        _ = try self.session(over: client, scenario: scenario, seed: 11, frames: 40)
    }

    @Test func sameScenarioAndSeedGiveBitIdenticalReplies() throws {
        let scenario = try TestScenario.scenario(withoutFaults: true)
        func run(seed: UInt64) throws -> [UInt8] {
            let (client, server) = try MockTrackerServer.pipe(
                scenario: scenario, seed: seed, timing: .asFastAsPossible, options: TestScenario.options)
            defer { server.stop() }
            return try self.session(over: client, scenario: scenario, seed: seed, frames: 40)
        }
        let a = try run(seed: 5)
        let b = try run(seed: 5)
        let c = try run(seed: 6)
        #expect(a.count > 40 * 100)
        #expect(fnv1a(a) == fnv1a(b))
        #expect(a == b)
        #expect(a != c)
    }

    @Test func breakOverPipeResetsTheTracker() throws {
        let scenario = try TestScenario.scenario(withoutFaults: true)
        let (client, server) = try MockTrackerServer.pipe(
            scenario: scenario, seed: 1, timing: .asFastAsPossible, options: TestScenario.options)
        defer { server.stop() }
        let host = Host(client)
        try host.startTracking(roms: Self.roms)
        try client.sendBreak(duration: .milliseconds(10))
        let frame = try host.nextFrame().get()
        #expect(frame.bytes == Array("RESETBE6F\r".utf8))
        #expect(try host.send(.bx(nil)) == .error(.systemNotInitialized))
        _ = try self.session(over: client, scenario: scenario, seed: 1, frames: 3)
    }

    @Test func fullSessionOverPseudoTerminal() throws {
        let scenario = try TestScenario.scenario(withoutFaults: true)
        let server = try MockTrackerServer.pseudoTerminal(scenario: scenario, seed: 3, options: TestScenario.options)
        defer { server.stop() }
        let serial = try SerialStream(path: try #require(server.slavePath))
        defer { serial.close() }
        let host = Host(serial)
        try host.okay(.initialize)
        try host.okay(.comm(baud: .init(bitsPerSecond: 115200)!))
        try serial.setLineParameters(baud: 115200)
        _ = try self.session(over: serial, scenario: scenario, seed: 3, frames: 20)
    }

    @Test func fullSessionOverTCP() throws {
        let scenario = try TestScenario.scenario(withoutFaults: true)
        let server = try MockTrackerServer.tcp(port: 0, scenario: scenario, seed: 4, options: TestScenario.options)
        defer { server.stop() }
        let port = try #require(server.port)
        #expect(port > 0)
        let tcp = try TCPStream.connect(host: "127.0.0.1", port: port)
        defer { tcp.close() }
        _ = try self.session(over: tcp, scenario: scenario, seed: 4, frames: 40)
        // A second client after the first leaves starts from power-up again; frames continue.
        tcp.close()
        let again = try TCPStream.connect(host: "127.0.0.1", port: port)
        defer { again.close() }
        _ = try self.session(over: again, scenario: scenario, seed: 4, frames: 5, firstFrame: 40)
    }

    /// Frames 0…24 fine, 25 a corrupt CRC, 28 a stall, 32 a disconnect; then the host comes back.
    func faultSequence(host: Host, scenario: MockScenario, seed: UInt64) throws {
        try host.startTracking(roms: Self.roms)
        let simulation = MockSimulation(scenario: scenario, seed: seed)
        for i in 0..<32 {
            let result = try host.exchange(.bx(.transformsAllVolumes))
            if i == 25 {
                guard case .failure(let error) = result else {
                    Issue.record("frame 25 should have a bad CRC")
                    continue
                }
                #expect(error.kind == .bodyCRC)
                continue
            }
            let reply = try NDITrackingReply.parseBX(try result.get(), option: .transformsAllVolumes)
            let frame = simulation.frame(i)
            for (k, state) in frame.tools.enumerated() {
                expectReport(reply.report(for: UInt8(k + 1)), matches: state, frameNumber: frame.frameNumber)
            }
        }
        // Frame 32: the connection drops without a reply.
        try host.stream.write(try NDICommand.bx(.transformsAllVolumes).encoded())
        do {
            let r = try host.nextFrame(timeout: .seconds(5))
            Issue.record("expected the connection to drop, got \(r)")
        } catch let error as TransportError {
            #expect(error.code == .disconnected)
        }
    }

    @Test func faultsOverPipe() throws {
        let scenario = try TestScenario.scenario()
        let (client, server) = try MockTrackerServer.pipe(
            scenario: scenario, seed: 9, timing: .asFastAsPossible, options: TestScenario.options)
        defer { server.stop() }
        try self.faultSequence(host: Host(client), scenario: scenario, seed: 9)
        // Reconnect: served after the delay, from power-up, frames continue at 33.
        let again = server.connect()
        _ = try self.session(over: again, scenario: scenario, seed: 9, frames: 5, firstFrame: 33)
    }

    @Test func faultsOverTCP() throws {
        let scenario = try TestScenario.scenario()
        let server = try MockTrackerServer.tcp(port: 0, scenario: scenario, seed: 9, options: TestScenario.options)
        defer { server.stop() }
        let tcp = try TCPStream.connect(host: "127.0.0.1", port: try #require(server.port))
        try self.faultSequence(host: Host(tcp), scenario: scenario, seed: 9)
        tcp.close()
        let again = try TCPStream.connect(host: "127.0.0.1", port: try #require(server.port))
        defer { again.close() }
        _ = try self.session(over: again, scenario: scenario, seed: 9, frames: 5, firstFrame: 33)
    }

    @Test func disconnectOverPseudoTerminalStopsAnsweringThenPowersUp() throws {
        let scenario = try TestScenario.scenario()
        let server = try MockTrackerServer.pseudoTerminal(scenario: scenario, seed: 2, options: TestScenario.options)
        defer { server.stop() }
        let serial = try SerialStream(path: try #require(server.slavePath))
        defer { serial.close() }
        let host = Host(serial)
        try host.startTracking(roms: Self.roms)
        for _ in 0..<32 { _ = try host.exchange(.bx(.transformsAllVolumes)) }
        try serial.write(try NDICommand.bx(.transformsAllVolumes).encoded())
        #expect(throws: HostError.self) { _ = try host.nextFrame(timeout: .milliseconds(100)) }
        // After the 200 ms hang-up the tracker answers again, from power-up: a driver retries
        // INIT until it gets OKAY (what it sends during the hang-up is lost).
        var answered = false
        for _ in 0..<50 where !answered {
            try serial.write(try NDICommand.initialize.encoded())
            let bytes = try serial.read(exactly: 9, timeout: .milliseconds(200))
            answered = bytes == Array("OKAYA896\r".utf8)
        }
        #expect(answered)
        _ = try self.session(over: serial, scenario: scenario, seed: 2, frames: 3, firstFrame: 33)
    }

    @Test func pacedByAManualClock() throws {
        let scenario = try TestScenario.scenario(withoutFaults: true)
        let clock = ManualClock()
        var options = TestScenario.options
        options.timing = .clock(clock)
        let (client, server) = try MockTrackerServer.pipe(
            scenario: scenario, seed: 1, timing: .clock(clock), options: options)
        defer { server.stop() }
        let host = Host(client)
        try host.startTracking(roms: Self.roms)
        let numbers = { () throws -> UInt32? in try host.bx().handles.first?.frameNumber }
        #expect(try numbers() == 1000)
        #expect(try numbers() == 1000)  // no time passed: the same frame
        clock.advance(by: .milliseconds(100))
        #expect(try numbers() == 1001)
        clock.advance(by: .milliseconds(1250))
        #expect(try numbers() == 1013)
    }

    @Test func truthSinkGetsEveryFrameUpToTheLastServed() throws {
        let scenario = try TestScenario.scenario(withoutFaults: true)
        let text = Mutex2("")
        var options = TestScenario.options
        options.truthSink = { t in text.mutate { $0 += t } }
        let (client, server) = try MockTrackerServer.pipe(
            scenario: scenario, seed: 1, timing: .asFastAsPossible, options: options)
        _ = try self.session(over: client, scenario: scenario, seed: 1, frames: 7)
        server.stop()
        let simulation = MockSimulation(scenario: scenario, seed: 1)
        #expect(text.value == (0..<7).map { TruthDump.lines(of: simulation, frame: $0) }.joined())
    }
}

/// A manual clock for pacing tests: `now` moves only when `advance(by:)` is called.
final class ManualClock: Clock, @unchecked Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by d: Duration) -> Instant { Instant(offset: self.offset + d) }
        func duration(to other: Instant) -> Duration { other.offset - self.offset }
        static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }
    private let lock = NSLock()
    private var current = Instant(offset: .zero)
    var now: Instant { self.lock.withLock { self.current } }
    var minimumResolution: Duration { .zero }
    func advance(by d: Duration) { self.lock.withLock { self.current = self.current.advanced(by: d) } }
    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        while self.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
    }
}

final class Mutex2<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var v: T
    init(_ v: T) { self.v = v }
    var value: T { self.lock.withLock { self.v } }
    func mutate(_ f: (inout T) -> Void) { self.lock.withLock { f(&self.v) } }
}

func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
}
