import Foundation
import NDIProtocol
import Testing
import TrackerCore
import TrackerTransport

@testable import NDITracker

/// The threaded driver against a scripted tracker over real byte streams. Real time only bounds
/// the waits (hang guards); nothing asserts a duration except against the injected clock.
@Suite(.serialized) struct DriverTests {
    /// Generous set-up and tracking timeouts for real-clock tests on a loaded machine.
    static func config(_ tools: [TrackerTool], tracking: Duration = .seconds(5)) -> NDITrackerConfiguration {
        NDITrackerConfiguration(
            session: NDISessionConfiguration(
                serialLine: true,
                commBaud: .b115200,
                tools: tools,
                initTimeout: .seconds(5),
                resetTimeout: .seconds(5),
                setupTimeout: .seconds(5),
                trackingTimeout: tracking,
                settleDelay: .zero
            ),
            pollInterval: .zero,
            breakDuration: .zero
        )
    }

    /// Makes a fresh pipe pair per connection, with a responder on the tracker end.
    final class PipeFactory: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var responders: [Responder] = []
        var available = true
        let makeTracker: @Sendable () -> ScriptedTracker
        init(_ makeTracker: @escaping @Sendable () -> ScriptedTracker) { self.makeTracker = makeTracker }
        var current: Responder? { self.lock.withLock { self.responders.last } }
        var count: Int { self.lock.withLock { self.responders.count } }
        func setAvailable(_ v: Bool) { self.lock.withLock { self.available = v } }
        func connect() throws -> any ByteStream {
            try self.lock.withLock {
                guard self.available else { throw TransportError(.notFound, "the test tracker is away") }
                let (host, tracker) = PipeStream.pair(serialLine: true, names: ("pipe:host", "pipe:tracker"))
                self.responders.append(Responder(tracker: self.makeTracker(), stream: tracker))
                return host
            }
        }
        func stopAll() { for r in self.lock.withLock({ self.responders }) { r.stop() } }
    }

    @Test func framesArriveOverAPipeAndStopSendsTSTOPAndCOMMBack() throws {
        let factory = PipeFactory { ScriptedTracker(activeHandles: [1], stale: [0x0A]) }
        defer { factory.stopAll() }
        var cfg = Self.config([Tools.coil, Tools.probe])
        cfg.neverSeenPatience = .zero
        let log = EventLog()
        let driver = NDITrackerDriver(configuration: cfg, connect: { try factory.connect() }, onEvent: log.append)
        driver.start()
        #expect(log.wait { $0.frames.count >= 5 })
        #expect(driver.stop())
        let frames = log.frames
        #expect(frames.prefix(5).map(\.deviceFrameNumber) == [101, 102, 103, 104, 105])
        let f = try #require(frames.first)
        #expect(f.tools.map(\.name) == ["coil", "probe"])
        #expect(f.tools.map(\.status) == [.missing, .ok])
        #expect(f.tools[1].rmsErrorMM == 0.125)
        #expect(f.tools[1].toolToTracker?.translation.z == -1500)
        #expect(log.states.first == .connecting)
        #expect(Array(log.states.prefix(3)) == [.connecting, .settingUp, .tracking])
        #expect(log.states.last == .stopped)
        #expect(!log.states.contains { if case .disconnected = $0 { true } else { false } })
        #expect(log.warnings.contains("tool coil has never been seen: check its tool definition file"))
        let commands = try #require(factory.current).tracker.commands
        #expect(
            Array(commands.prefix(6)) == [
                "INIT:E3A5", "COMM:500000048", "PHSR:01E03E", wire("PHF:0A"), "PHRQ:*********1****A4C1",
                wire("PVWR:02" + "0000" + Tools.rom.prefix(64).map { String(format: "%02X", $0) }.joined()),
            ]
        )
        #expect(Array(commands.suffix(2)) == ["TSTOP:2C14", "COMM:000000084"])
        // Every BX got a frame (none repeated, none lost); only the last may still be in flight.
        #expect(commands.filter { $0 == "BX:080100EC" }.count == frames.count)
        // The host line ends back at 9600 (the shared null-modem line of the pipe pair).
        #expect((factory.current?.stream as? PipeStream)?.lineParameters?.baud == 9600)
        #expect(driver.statistics.connections == 1)
    }

    @Test func aCorruptReplyIsSkippedAndTrackingGoesOn() throws {
        let factory = PipeFactory {
            let t = ScriptedTracker(activeHandles: [1])
            t.corruptFrame = 103
            return t
        }
        defer { factory.stopAll() }
        let log = EventLog()
        let driver = NDITrackerDriver(
            configuration: Self.config([Tools.probe]),
            connect: { try factory.connect() },
            onEvent: log.append
        )
        driver.start()
        #expect(log.wait { $0.frames.count >= 5 })
        driver.stop()
        #expect(log.frames.prefix(5).map(\.deviceFrameNumber) == [101, 102, 104, 105, 106])
        #expect(driver.statistics.malformedReplies == 1)
        #expect(log.warnings.filter { $0.hasPrefix("skipped a malformed reply") }.count == 1)
        #expect(!log.states.contains { if case .disconnected = $0 { true } else { false } })
    }

    @Test func aStalledTrackerIsDisconnectedWithin100msOfTheInjectedClockThenReconnects() throws {
        let clock = ManualClock()
        let factory = PipeFactory { ScriptedTracker(activeHandles: [1]) }
        defer { factory.stopAll() }
        let log = EventLog(clock: clock)
        let cfg = Self.config([Tools.probe], tracking: .milliseconds(100))
        let driver = NDITrackerDriver(
            configuration: cfg,
            clock: clock,
            connect: { try factory.connect() },
            onEvent: log.append
        )
        driver.start()
        defer { driver.stop() }
        #expect(log.wait { $0.frames.count >= 3 })
        factory.current?.tracker.set { $0.stalled = true }
        // Let the BX in flight (if any) be answered or ignored; the clock has not moved.
        Thread.sleep(forTimeInterval: 0.05)
        let lastReceive = try #require(log.frames.last).hostReceiveNanoseconds
        func disconnected(_ l: EventLog) -> Int? {
            l.events.firstIndex { if case .state(.disconnected) = $0 { true } else { false } }
        }
        clock.advance(by: .milliseconds(50))
        Thread.sleep(forTimeInterval: 0.2)
        #expect(disconnected(log) == nil, "disconnected before the timeout")
        clock.advance(by: .milliseconds(50))
        #expect(log.wait { disconnected($0) != nil })
        let i = try #require(disconnected(log))
        #expect(log.stamps[i] - lastReceive <= 100_000_000)
        #expect(log.events[i] == .state(.disconnected(reason: "no reply to BX within 0.1 seconds")))
        #expect(log.wait { $0.states.contains(.reconnecting(attempt: 1, delay: .milliseconds(100))) })
        // Reconnection waits 100 ms of the injected clock.
        Thread.sleep(forTimeInterval: 0.1)
        #expect(factory.count == 1)
        clock.advance(by: .milliseconds(100))
        #expect(log.wait { $0.states.filter { $0 == .tracking }.count == 2 })
        let before = log.frames.count
        #expect(log.wait { $0.frames.count >= before + 3 })
        #expect(factory.count == 2)
    }

    @Test func aClosedStreamIsDisconnectedAndReconnectsWhenTheTrackerComesBack() throws {
        let factory = PipeFactory { ScriptedTracker(activeHandles: [1]) }
        defer { factory.stopAll() }
        let log = EventLog()
        let driver = NDITrackerDriver(
            configuration: Self.config([Tools.probe]),
            connect: { try factory.connect() },
            onEvent: log.append
        )
        driver.start()
        defer { driver.stop() }
        #expect(log.wait { $0.frames.count >= 3 })
        factory.setAvailable(false)
        factory.current?.stop()  // the tracker end closes: the host's reads throw .disconnected
        #expect(log.wait { $0.states.contains(.reconnecting(attempt: 2, delay: .milliseconds(200))) })
        factory.setAvailable(true)
        #expect(log.wait { $0.states.filter { $0 == .tracking }.count == 2 })
        let states = log.states
        let firstDisconnect = try #require(states.firstIndex { if case .disconnected = $0 { true } else { false } })
        guard case .disconnected(let reason) = states[firstDisconnect] else { return }
        #expect(reason.hasPrefix("disconnected:"), "\(reason)")
        #expect(states[firstDisconnect + 1] == .reconnecting(attempt: 1, delay: .milliseconds(100)))
        #expect(states.contains(.disconnected(reason: "cannot connect: not-found: the test tracker is away")))
        #expect(factory.count == 2)
    }

    @Test func breakAndResetWhenTheFirstINITIsNotAnswered() throws {
        let factory = PipeFactory {
            let t = ScriptedTracker(activeHandles: [1])
            t.ignoreINIT = 1
            return t
        }
        defer { factory.stopAll() }
        var cfg = Self.config([Tools.probe])
        cfg.session.initTimeout = .milliseconds(200)
        let log = EventLog()
        let driver = NDITrackerDriver(configuration: cfg, connect: { try factory.connect() }, onEvent: log.append)
        driver.start()
        #expect(log.wait { $0.frames.count >= 1 })
        driver.stop()
        #expect(
            Array(try #require(factory.current).tracker.commands.prefix(3)) == [
                "INIT:E3A5", "INIT:E3A5", "COMM:500000048",
            ]
        )
        #expect(!log.states.contains { if case .disconnected = $0 { true } else { false } })
    }

    @Test func overARealPseudoTerminal() throws {
        let pty = try PseudoTerminal()
        defer { pty.close() }
        let responder = Responder(tracker: ScriptedTracker(activeHandles: [1]), stream: pty.master)
        defer { responder.stop() }
        let log = EventLog()
        let path = pty.slavePath
        let driver = NDITrackerDriver(
            configuration: Self.config([Tools.probe]),
            connect: { try SerialStream(path: path) },
            onEvent: log.append
        )
        driver.start()
        #expect(log.wait { $0.frames.count >= 3 })
        #expect(driver.stop())
        #expect(log.frames.prefix(3).map(\.deviceFrameNumber) == [101, 102, 103])
        #expect(log.frames.first?.tools.map(\.status) == [.ok])
        let commands = responder.tracker.commands
        #expect(Array(commands.prefix(2)) == ["INIT:E3A5", "COMM:500000048"])
        #expect(Array(commands.suffix(2)) == ["TSTOP:2C14", "COMM:000000084"])
    }

    @Test func overTCPOnLoopback() throws {
        let listener = try TCPListener(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        let tracker = ScriptedTracker(activeHandles: [1])
        let holder = Protected<Responder?>(nil)
        let acceptor = Thread {
            if let s = try? listener.accept(timeout: .seconds(30)) {
                holder.withLock { $0 = Responder(tracker: tracker, stream: s) }
            }
        }
        acceptor.start()
        defer { holder.value?.stop() }
        let log = EventLog()
        let port = listener.port
        let driver = NDITrackerDriver(
            configuration: Self.config([Tools.probe]),
            connect: { try TCPStream.connect(host: "127.0.0.1", port: port) },
            onEvent: log.append
        )
        driver.start()
        #expect(log.wait { $0.frames.count >= 3 })
        #expect(driver.stop())
        #expect(log.frames.prefix(3).map(\.deviceFrameNumber) == [101, 102, 103])
        let commands = tracker.commands
        #expect(Array(commands.prefix(4)) == ["INIT:E3A5", "PHSR:01E03E", "PHSR:02E17E", "PINIT:0131EA"])
        #expect(!commands.contains { $0.hasPrefix("COMM") })
        #expect(commands.last == "TSTOP:2C14")
    }

    @Test func aTCPPeerClosingIsDisconnectedAndTheDriverReconnects() throws {
        let listener = try TCPListener(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        let responders = Protected<[Responder]>([])
        let acceptor = Thread {
            for _ in 0..<2 {
                guard let s = try? listener.accept(timeout: .seconds(30)) else { return }
                responders.withLock { $0.append(Responder(tracker: ScriptedTracker(activeHandles: [1]), stream: s)) }
            }
        }
        acceptor.start()
        defer { for r in responders.value { r.stop() } }
        let log = EventLog()
        let port = listener.port
        let driver = NDITrackerDriver(
            configuration: Self.config([Tools.probe]),
            connect: { try TCPStream.connect(host: "127.0.0.1", port: port) },
            onEvent: log.append
        )
        driver.start()
        defer { driver.stop() }
        #expect(log.wait { $0.frames.count >= 3 })
        responders.value.first?.stop()  // the tracker closes its socket
        #expect(log.wait { $0.states.filter { $0 == .tracking }.count == 2 })
        let states = log.states
        let i = try #require(states.firstIndex { if case .disconnected = $0 { true } else { false } })
        #expect(states[i + 1] == .reconnecting(attempt: 1, delay: .milliseconds(100)))
        #expect(Array(states[(i + 2)...].prefix(3)) == [.connecting, .settingUp, .tracking])
        let before = log.frames.count
        #expect(log.wait { $0.frames.count >= before + 2 })
        #expect(driver.statistics.connections == 2)
    }

    @Test func theAsyncStreamDeliversFramesAndFinishesAfterStop() async throws {
        let factory = PipeFactory { ScriptedTracker(activeHandles: [1]) }
        defer { factory.stopAll() }
        let (driver, events) = NDITrackerDriver.makeStream(
            configuration: Self.config([Tools.probe]),
            connect: { try factory.connect() }
        )
        driver.start()
        var frames: [UInt32] = []
        for await e in events {
            if case .frame(let f) = e {
                frames.append(f.deviceFrameNumber)
                if frames.count == 3 { Thread { driver.stop() }.start() }
            }
        }
        // The scripted tracker answers as fast as it is polled, so on a busy machine the stream
        // may already have dropped its oldest frames (bufferingNewest) before this loop starts:
        // what must hold is delivery in order, without gaps, from the tracker's first frame on.
        #expect(frames.count >= 3)
        #expect((frames.first ?? 0) >= 101)
        #expect(Array(frames.prefix(3)) == (0..<3).map { (frames.first ?? 0) + UInt32($0) })
    }
}
