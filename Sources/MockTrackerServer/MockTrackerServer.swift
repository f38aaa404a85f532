import Foundation
import MockTracker
import NDIProtocol
import Synchronization
import TrackerTransport

/// A mock NDI tracker serving a scenario over a byte stream: an in-memory pipe, a
/// pseudo-terminal or TCP. One host at a time; the protocol is `NDITrackerSession`.
///
/// Start one with `pipe(…)`, `pseudoTerminal(…)` or `tcp(…)`; each runs its serving loop on a
/// dedicated thread until `stop()`:
///
///     let (client, server) = try MockTrackerServer.pipe(scenario: scenario, seed: 7, timing: .asFastAsPossible)
///     defer { server.stop() }
///     try client.write(try NDICommand.initialize.encoded())   // → OKAYA896\r
///
/// ### Transports
/// - **Pipe** (`pipe`): `PipeStream.pair(serialLine: true)`; the server end sees the client's
///   breaks (→ `RESET` at 9600) and COMM sets the shared line parameters. After a disconnect
///   fault the server closes its end; `connect()` gives a new client end, served once the
///   disconnect delay has passed.
/// - **Pseudo-terminal** (`pseudoTerminal`): serial-like; open `slavePath` with `SerialStream`.
///   Linux pseudo-terminals carry no break, so there is no reset by break (INIT still works). A
///   disconnect fault stops answering for its delay and discards what arrives meanwhile, then the
///   tracker is back in power-up mode.
/// - **TCP** (`tcp`): Vega-like (network link: COMM has no effect); an accept loop on a
///   `TCPListener`. A disconnect fault closes the socket and accepts again after the delay.
///
/// Every new connection starts in power-up mode (send INIT first). Faults fire once each for the
/// server's lifetime; the frame clock (`MockFrameTiming`) keeps running across connections.
public final class MockTrackerServer: Sendable {
    /// What the server is listening on: `tcp://127.0.0.1:8765`, `pty:/dev/pts/3`, `pipe`.
    public let endpoint: String
    /// The TCP port (nil unless `tcp`).
    public let port: Int?
    /// The pseudo-terminal slave path (nil unless `pseudoTerminal`).
    public let slavePath: String?

    private let state = Mutex(State())
    private let finished = DispatchSemaphore(value: 0)
    private let closer: @Sendable () -> Void

    private struct State {
        var stopping = false
        var pending: [PipeStream] = []
        var current: (any ByteStream)?
        var failure: String?
    }

    private enum Source {
        case pipeQueue
        case pseudoTerminal(PseudoTerminal)
        case listener(TCPListener)
    }

    /// Options shared by every transport.
    public struct Options: Sendable {
        /// Scenario frames served (see `MockFrameTiming`).
        public var timing: MockFrameTiming
        /// Receives the truth-dump text (`TruthDump.lines`) of every frame from 0 up to the latest
        /// frame a tracking reply carried, each frame once, in order.
        public var truthSink: (@Sendable (String) -> Void)?
        /// Where tool-definition names of the scenario are resolved; nil: the `Calibration/`
        /// directory found by walking up from the scenario file.
        public var calibrationDirectory: String?

        public init(
            timing: MockFrameTiming = .realTime,
            truthSink: (@Sendable (String) -> Void)? = nil,
            calibrationDirectory: String? = nil
        ) {
            self.timing = timing
            self.truthSink = truthSink
            self.calibrationDirectory = calibrationDirectory
        }
    }

    private init(endpoint: String, port: Int?, slavePath: String?, closer: @escaping @Sendable () -> Void) {
        self.endpoint = endpoint
        self.port = port
        self.slavePath = slavePath
        self.closer = closer
    }

    // MARK: - Starting

    /// An in-process mock over in-memory pipes with a serial line, with no client yet: every
    /// connection, the first and any after a disconnect, is `connect()`. This is what a driver's
    /// connect closure wants (`{ server.connect() }`).
    public static func pipeServer(
        scenario: MockScenario,
        seed: UInt64,
        timing: MockFrameTiming = .realTime,
        options: Options = Options()
    ) throws -> MockTrackerServer {
        var options = options
        options.timing = timing
        let server = MockTrackerServer(endpoint: "pipe", port: nil, slavePath: nil, closer: {})
        try server.start(source: .pipeQueue, scenario: scenario, seed: seed, options: options)
        return server
    }

    /// An in-process mock over an in-memory pipe with a serial line, and its first client end.
    public static func pipe(
        scenario: MockScenario,
        seed: UInt64,
        timing: MockFrameTiming = .realTime,
        options: Options = Options()
    ) throws -> (client: PipeStream, server: MockTrackerServer) {
        let server = try Self.pipeServer(scenario: scenario, seed: seed, timing: timing, options: options)
        return (server.connect(), server)
    }

    /// A new client end for a pipe server (after a disconnect fault, or to replace a client that
    /// went away). The server serves it when the current connection has ended and any
    /// disconnect delay has passed.
    public func connect() -> PipeStream {
        self.enqueuePipe()
    }

    /// A serial-like mock on a new pseudo-terminal; open `slavePath` with `SerialStream`.
    public static func pseudoTerminal(
        scenario: MockScenario,
        seed: UInt64,
        options: Options = Options()
    ) throws -> MockTrackerServer {
        let pty = try PseudoTerminal()
        let server = MockTrackerServer(
            endpoint: "pty:\(pty.slavePath)",
            port: nil,
            slavePath: pty.slavePath,
            closer: { pty.close() }
        )
        do {
            try server.start(source: .pseudoTerminal(pty), scenario: scenario, seed: seed, options: options)
        } catch {
            pty.close()
            throw error
        }
        return server
    }

    /// A Vega-like mock listening on TCP `host:port` (port 0: any free port; see `port`).
    public static func tcp(
        host: String = "127.0.0.1",
        port: Int = 0,
        scenario: MockScenario,
        seed: UInt64,
        options: Options = Options()
    ) throws -> MockTrackerServer {
        let listener = try TCPListener(host: host, port: port)
        let server = MockTrackerServer(
            endpoint: "tcp://\(listener.host):\(listener.port)",
            port: listener.port,
            slavePath: nil,
            closer: { listener.close() }
        )
        do {
            try server.start(source: .listener(listener), scenario: scenario, seed: seed, options: options)
        } catch {
            listener.close()
            throw error
        }
        return server
    }

    /// Stops serving, closes the connection and the listener or pseudo-terminal, and waits for
    /// the serving thread to end. Idempotent.
    public func stop() {
        let current: (any ByteStream)? = self.state.withLock { state in
            if state.stopping { return nil }
            state.stopping = true
            return state.current
        }
        current?.close()
        self.closer()
        self.finished.wait()
        self.finished.signal()
    }

    /// Why the serving loop ended by itself (nil while it runs or after a clean `stop()`).
    public var failure: String? { self.state.withLock { $0.failure } }

    // MARK: - Tool definitions

    /// Reads the tool-definition files the scenario's passive tools name, from
    /// `calibrationDirectory`, or else from the `Calibration/` directory found by walking up from
    /// the scenario file's directory (the repository layout: `Mock/scenarios/x.json` and
    /// `Calibration/tools/x.rom`). Keys are the scenario's `toolDefinition` strings.
    public static func loadToolDefinitions(
        for scenario: MockScenario,
        calibrationDirectory: String? = nil
    ) throws -> [String: [UInt8]] {
        let names = scenario.tools.compactMap(\.setup.toolDefinition)
        guard !names.isEmpty else { return [:] }
        let directory = try calibrationDirectory ?? Self.findCalibrationDirectory(from: scenario.source, needing: names)
        var out: [String: [UInt8]] = [:]
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw MockTrackerServerError("cannot read tool definition \(path) named by \(scenario.source)")
            }
            out[name] = [UInt8](data)
        }
        return out
    }

    static func findCalibrationDirectory(from scenarioPath: String, needing names: [String]) throws -> String {
        var dir = (URL(fileURLWithPath: scenarioPath).standardizedFileURL.path as NSString).deletingLastPathComponent
        while true {
            let candidate = (dir as NSString).appendingPathComponent("Calibration")
            if FileManager.default.fileExists(atPath: (candidate as NSString).appendingPathComponent(names[0])) {
                return candidate
            }
            let parent = (dir as NSString).deletingLastPathComponent
            if parent == dir || parent.isEmpty { break }
            dir = parent
        }
        let cwd = (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent("Calibration")
        if FileManager.default.fileExists(atPath: (cwd as NSString).appendingPathComponent(names[0])) {
            return cwd
        }
        throw MockTrackerServerError(
            "no Calibration/ directory with \(names[0]) above \(scenarioPath) or in the current directory"
        )
    }

    // MARK: - Serving

    private func enqueuePipe() -> PipeStream {
        let (client, server) = PipeStream.pair(serialLine: true, names: ("pipe:host", "pipe:mock-tracker"))
        self.state.withLock { $0.pending.append(server) }
        return client
    }

    private func start(source: Source, scenario: MockScenario, seed: UInt64, options: Options) throws {
        let definitions = try Self.loadToolDefinitions(
            for: scenario,
            calibrationDirectory: options.calibrationDirectory
        )
        let link: NDITrackerSession.Link
        switch source {
        case .listener: link = .network
        case .pipeQueue, .pseudoTerminal: link = .serial
        }
        let session = NDITrackerSession(
            simulation: MockSimulation(scenario: scenario, seed: seed),
            toolDefinitions: definitions,
            link: link
        )
        let box = UncheckedBox((source, session, options))
        let thread = Thread { [self] in
            let (source, session, options) = box.value
            self.run(source: source, session: session, options: options)
            self.finished.signal()
        }
        thread.name = "mock-tracker"
        thread.start()
    }

    private var isStopping: Bool { self.state.withLock { $0.stopping } }

    private func run(source: Source, session: NDITrackerSession, options: Options) {
        var session = session
        let frames = options.timing.makeSource(session.simulation.scenario.frameRateHz)
        var dumped = -1
        let simulation = session.simulation
        var reconnectAfter: ContinuousClock.Instant?
        let clock = ContinuousClock()
        while !self.isStopping {
            if let until = reconnectAfter {
                self.sleep(until: until)
                reconnectAfter = nil
                if self.isStopping { break }
            }
            // Next connection.
            let stream: any ByteStream
            var takeBreaks: (() -> Int)? = nil
            switch source {
            case .pipeQueue:
                guard let next = self.state.withLock({ $0.pending.isEmpty ? nil : $0.pending.removeFirst() }) else {
                    Thread.sleep(forTimeInterval: 0.01)
                    continue
                }
                stream = next
                takeBreaks = { next.takeBreaks() }
            case .pseudoTerminal(let pty):
                stream = pty.master
            case .listener(let listener):
                do {
                    guard let accepted = try listener.accept(timeout: .milliseconds(100)) else { continue }
                    stream = accepted
                } catch {
                    if !self.isStopping { self.state.withLock { $0.failure = "accept failed: \(error)" } }
                    return
                }
            }
            let proceed = self.state.withLock { state -> Bool in
                if state.stopping { return false }
                state.current = stream
                return true
            }
            guard proceed else {
                stream.close()
                break
            }
            session.connectionOpened()
            let outcome = self.serve(
                stream: stream,
                session: &session,
                takeBreaks: takeBreaks,
                frames: frames,
                dump: { index in
                    guard let sink = options.truthSink, index > dumped else { return }
                    var text = ""
                    for i in (dumped + 1)...index {
                        text += TruthDump.lines(of: simulation, frame: i)
                    }
                    dumped = index
                    sink(text)
                }
            )
            self.state.withLock { $0.current = nil }
            switch outcome {
            case .disconnectFault(let delay):
                if case .pseudoTerminal = source {
                    // Hang up: answer nothing for the delay, drop what arrived meanwhile.
                } else {
                    stream.close()
                }
                reconnectAfter = clock.now.advanced(by: delay)
                if case .pseudoTerminal(let pty) = source {
                    // Drop whatever the host sends until the hang-up is over; keep what comes after.
                    let until = reconnectAfter!
                    reconnectAfter = nil
                    while !self.isStopping {
                        let left = clock.now.duration(to: until)
                        if left <= .zero { break }
                        _ = try? pty.master.read(maxBytes: 65536, timeout: min(left, .milliseconds(20)))
                    }
                }
            case .peerGone:
                stream.close()
                if case .pseudoTerminal = source {
                    // The master never sees a hang-up; a read error means the pty is closed.
                    return
                }
            case .stopped:
                stream.close()
                return
            }
        }
    }

    private enum Outcome {
        case peerGone
        case stopped
        case disconnectFault(Duration)
    }

    private func serve(
        stream: any ByteStream,
        session: inout NDITrackerSession,
        takeBreaks: (() -> Int)?,
        frames: any MockFrameSource,
        dump: (Int) -> Void
    ) -> Outcome {
        var framer = NDICommandFramer()
        while true {
            if self.isStopping { return .stopped }
            var inputs: [NDITrackerSession.Input] = []
            if let takeBreaks, takeBreaks() > 0 {
                framer = NDICommandFramer()
                inputs.append(.serialBreak)
            }
            let bytes: [UInt8]
            do {
                bytes = try stream.read(maxBytes: 4096, timeout: .milliseconds(50))
            } catch {
                return error.code == .closed && self.isStopping ? .stopped : .peerGone
            }
            framer.feed(bytes)
            while let next = framer.next() {
                inputs.append(.command(next))
            }
            for input in inputs {
                let actions = session.handle(input) {
                    let index = frames.nextFrame()
                    dump(index)
                    return index
                }
                for action in actions {
                    switch action {
                    case .send(let reply):
                        do {
                            try stream.write(reply)
                        } catch {
                            return self.isStopping ? .stopped : .peerGone
                        }
                    case .setLine(let settings):
                        try? stream.setLineParameters(
                            baud: settings.baud.bitsPerSecond,
                            dataBits: settings.dataBits == .seven ? 7 : 8,
                            parity: settings.parity == .odd ? .odd : settings.parity == .even ? .even : .none,
                            stopBits: settings.stopBits == .two ? 2 : 1,
                            rtsCts: settings.handshake
                        )
                    case .stall(let duration):
                        self.sleep(until: ContinuousClock().now.advanced(by: duration))
                        if self.isStopping { return .stopped }
                    case .disconnect(let duration):
                        return .disconnectFault(duration)
                    case .trackingStarted:
                        frames.trackingStarted()
                    case .trackingStopped:
                        break
                    }
                }
            }
        }
    }

    /// Sleeps until `instant` in short slices, returning early when stopping.
    private func sleep(until instant: ContinuousClock.Instant) {
        let clock = ContinuousClock()
        while !self.isStopping {
            let left = clock.now.duration(to: instant)
            if left <= .zero { return }
            let slice = min(left, .milliseconds(20))
            let (s, atto) = slice.components
            Thread.sleep(forTimeInterval: Double(s) + Double(atto) * 1e-18)
        }
    }
}

/// Why a mock tracker server could not start.
public struct MockTrackerServerError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}

/// Moves non-Sendable values into the serving thread, which is their only user from then on.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
