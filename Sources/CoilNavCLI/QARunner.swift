import Formats
import Foundation
import Geometry
import Histogram
import NDITracker
import Navigation
import NavigationServer
import QualityAssurance
import TrackerCore

/// Runs the QA protocol against a tracker: the driver's frames go, on its thread, to an in-process
/// navigation engine (whose OpenIGTLink server a loopback `LatencyProbe` reads: the latency) and to
/// a queue the calling thread drains into the `QASession` state machine, printing what the
/// operator must do. Returns every figure once the last landmark is captured or given up.
struct QARunner {
    let phantom: QAPhantom
    let pointerTipMM: Vector3
    let connection: TrackerConnection
    /// mock:// played faster than real time: the driver polls this many times per frame period.
    let mockSpeed: Double?
    /// Give up when no frame arrives for this long (real time).
    let stallSeconds: Double
    /// Operator messages (standard error).
    let say: (String) -> Void

    static let latencyDevice = "HeadToTracker"
    static let latencyPath =
        "frame received by the host → HeadToTracker (the phantom reference) decoded by a loopback OpenIGTLink client"

    func run() throws -> QAResult {
        let clock = SystemTrackerClock()
        let nominal = self.connection.frameRateHz

        // The server's real per-frame path: the phantom reference plays the head reference, so
        // HeadToTracker goes out whenever the phantom is seen. Timestamps are the clock's
        // nanoseconds (unix offset 0), which the probe compares with its own reading of the clock.
        let engine = NavigationEngine(
            configuration: NavigationEngineConfiguration(
                navigation: NavigationConfiguration(headToolName: self.phantom.phantomTool),
                pointerToolName: self.phantom.pointerTool,
                frameRateHz: nominal, unixNanosecondsAtClockZero: 0),
            clock: clock, targets: [], activeTargetName: nil, headToMRI: .identity)
        let executor = CommandExecutor(
            engine: engine, session: nil, pulseLog: nil, token: nil,
            context: CommandContext(mriFiducials: [], scalp: nil, pointerTipMM: self.pointerTipMM))
        let server: NavigationServer
        do {
            server = try NavigationServer(engine: engine, commands: executor, options: .init(igtlPort: 0, jsonPort: 0))
        } catch {
            throw CLIError("cannot start the in-process server for the latency: \(error)")
        }
        server.start()
        defer { server.stop() }
        let probe = try LatencyProbe(port: server.igtlPort, deviceName: Self.latencyDevice, clock: clock)
        var probeStopped = false
        defer { if !probeStopped { _ = probe.stop() } }
        let deadline = Date().addingTimeInterval(5)
        while engine.clientCount < 1 {
            guard Date() < deadline else {
                throw CLIError("the latency probe could not connect to the in-process server")
            }
            Thread.sleep(forTimeInterval: 0.005)
        }

        var configuration = self.connection.configuration
        // Only the tools the protocol uses: the others would only be reported as never seen.
        var used: Set<String> = [self.phantom.phantomTool, self.phantom.pointerTool]
        for p in self.phantom.phases { if case .still(let s) = p { used.insert(s.tool) } }
        configuration.session.tools = configuration.session.tools.filter { used.contains($0.name) }
        if let speed = self.mockSpeed {
            configuration.pollInterval = .nanoseconds(Int64(1e9 / (nominal * speed)))
            // The mock answers at once: a reply only comes late when the host itself is starved
            // (a loaded test machine), and a timeout would reconnect and lose a frame the
            // scenario did not script. A mock that really stops is caught by --stall-seconds.
            configuration.session.trackingTimeout = .seconds(10)
        }
        // Unbounded: the QA needs every frame (a run holds a few thousand).
        let queue = EventQueue()
        let protocolDone = ManagedFlag()
        let driver = NDITrackerDriver(configuration: configuration, clock: clock, connect: self.connection.connect) {
            event in
            // The latency is timed on the run's frames (a few more may slip in while it ends).
            if !protocolDone.isSet { engine.handle(event) }
            queue.push(event)
        }
        let signals = TerminationSignals { _ in queue.requestStop() }
        defer { signals.cancel() }
        driver.start()
        var driverStopped = false
        defer { if !driverStopped { driver.stop() } }

        var session = QASession(phantom: self.phantom, nominalFrameRateHz: nominal, pointerTipMM: self.pointerTipMM)
        var lastFrame = Date()
        var lastState = "connecting"
        var lastDisconnect: String?
        while !session.isFinished {
            let (events, interrupted, _) = queue.take(until: Date().addingTimeInterval(0.25))
            if interrupted { throw CLIError("interrupted: the QA run was stopped before its end; no report written") }
            for event in events {
                switch event {
                case .frame(let frame):
                    lastFrame = Date()
                    for e in session.consume(frame) { self.announce(e) }
                    if session.isFinished { break }
                case .state(let s):
                    lastState = TrackerConnection.describe(s)
                    if case .disconnected = s { lastDisconnect = lastState }
                    self.say("coilnav qa: tracker: \(lastState)")
                case .warning(let w):
                    self.say("coilnav qa: warning: \(w)")
                }
                if session.isFinished { break }
            }
            if !session.isFinished, Date().timeIntervalSince(lastFrame) > self.stallSeconds {
                let why = lastDisconnect.map { "last \($0)" } ?? "tracker: \(lastState)"
                throw CLIError(
                    "no tracker frame for \(QATextOut.seconds(self.stallSeconds)) s (\(why)); no report written")
            }
        }
        protocolDone.set()
        driver.stop()
        driverStopped = true
        // Frames already sent are still in flight to the probe.
        Thread.sleep(forTimeInterval: 0.2)
        let (histogram, count) = probe.stop()
        probeStopped = true
        let latency = Self.latency(histogram, count: count)
        return QAAnalysis.evaluate(
            session.recording, phantom: self.phantom, nominalFrameRateHz: nominal, pointerTipMM: self.pointerTipMM,
            latency: latency)
    }

    /// p50, p99 and max of the probe's histogram (ns) in milliseconds, and its distribution in bins.
    static func latency(_ h: Histogram<UInt64>, count: Int) -> QALatency {
        guard count > 0 else {
            return QALatency(path: Self.latencyPath, samples: 0, p50MS: 0, p99MS: 0, maxMS: 0, bins: [])
        }
        let bins = QALatencyBins.make(maxNanoseconds: h.max) { range in Int(h.count(within: range)) }
        return QALatency(
            path: Self.latencyPath, samples: count, p50MS: Double(h.valueAtPercentile(50)) / 1e6,
            p99MS: Double(h.valueAtPercentile(99)) / 1e6,
            maxMS: Double(h.max) / 1e6, bins: bins)
    }

    private func announce(_ e: QAEvent) {
        switch e {
        case .phaseStarted(let n, let count, _, let instruction):
            self.say("[\(n)/\(count)] \(instruction)")
        case .landmarkRequested(let n, let count, let name, let role):
            self.say("  Touch landmark \(name) (\(n) of \(count), \(role.rawValue)) and hold still.")
        case .landmarkCaptured(let c):
            self.say("  \(c.name) captured: \(c.sampleCount) frames, tip spread \(fixed(c.spreadMM)) mm")
        case .landmarkTimedOut(let name, let seconds):
            self.say(
                "  \(name) not captured within \(fixed(seconds, 0)) s: going on without it (the QA will be incomplete)")
        case .finished:
            self.say("coilnav qa: every phase done; computing the figures")
        }
    }
}

enum QATextOut {
    /// Seconds as typed: 30, 1.5.
    static func seconds(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
}
