import Foundation
import NDIProtocol
import TrackerCore
import TrackerTransport

/// How the driver runs: the session's set-up, pacing, reconnect backoff.
public struct NDITrackerConfiguration: Sendable {
    /// Set-up and timeouts. `serialLine` is replaced, at each connection, by the stream's
    /// `hasSerialLine` (so a TCP stream never gets COMM or a break).
    public var session: NDISessionConfiguration
    /// The least time between two BX/TX commands (the device frame period); `.zero` polls as
    /// fast as the tracker answers. A real tracker answers BX at once with its latest frame, so
    /// polling faster than its rate only repeats frames (repeats are dropped anyway).
    public var pollInterval: Duration
    /// First reconnect delay; it doubles at each failed attempt up to `maximumBackoff`, and starts
    /// again from here once a connection reached tracking.
    public var initialBackoff: Duration
    public var maximumBackoff: Duration
    /// See `NeverSeenMonitor`.
    public var neverSeenPatience: Duration
    /// How long a serial break is held.
    public var breakDuration: Duration
    /// The longest single blocking read; bounds how late a timeout or `stop()` is noticed.
    public var readSlice: Duration

    public init(
        session: NDISessionConfiguration,
        pollInterval: Duration = .zero,
        initialBackoff: Duration = .milliseconds(100),
        maximumBackoff: Duration = .seconds(5),
        neverSeenPatience: Duration = .seconds(5),
        breakDuration: Duration = .milliseconds(250),
        readSlice: Duration = .milliseconds(5)
    ) {
        self.session = session
        self.pollInterval = pollInterval
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.neverSeenPatience = neverSeenPatience
        self.breakDuration = breakDuration
        self.readSlice = readSlice
    }

    /// The reconnect delay before attempt `attempt` (1, 2, …): initial × 2^(attempt−1), capped.
    public func backoff(attempt: Int) -> Duration {
        var d = self.initialBackoff
        var i = 1
        while i < attempt, d < self.maximumBackoff {
            d = d * 2
            i += 1
        }
        return min(d, self.maximumBackoff)
    }

    /// The device profile a tracker URL uses: ndi-usb, the profile with the URL's USB ids; ndi-serial,
    /// the `ndi-serial` profile (or any serial one); ndi-tcp, the first TCP profile; none for mock and
    /// replay.
    public static func profile(for url: TrackerURL, profiles: [DeviceProfile]) -> DeviceProfile? {
        switch url {
        case .ndiUSB(let v, let p, _): DeviceProfiles.matching(profiles, vendorId: v, productId: p).first
        case .ndiSerial: profiles.first { $0.id == "ndi-serial" } ?? profiles.first { $0.transport == .serial }
        case .ndiTCP: profiles.first { $0.transport == .tcp }
        case .mock, .replay: nil
        }
    }

    /// The configuration for a tracker URL: the COMM rate is the fastest NDI rate not above the
    /// device profile's `fastestBaud` (ndi-usb: the profile with the URL's USB ids; ndi-serial:
    /// the `ndi-serial` profile; 115200 without a profile) nor above the URL's `?baud=`; the poll
    /// interval and tracking timeout come from the profile's frame rate (timeout: three frame
    /// periods, at most 100 ms).
    ///
    /// `frameRateHz` overrides the profile's rate (the mock tracker knows its scenario's rate;
    /// without a profile or an override, 20 Hz).
    public static func forURL(
        _ url: TrackerURL, profiles: [DeviceProfile], tools: [TrackerTool], frameRateHz: Double? = nil
    ) -> NDITrackerConfiguration {
        let profile = Self.profile(for: url, profiles: profiles)
        var cap: Int?
        if case .ndiSerial(_, let baud) = url { cap = baud }
        var fastest = profile?.fastestBaud ?? 115_200
        if let cap { fastest = min(fastest, cap) }
        let rate = NDIBaudRate.allCases.filter { $0.bitsPerSecond <= fastest }.max {
            $0.bitsPerSecond < $1.bitsPerSecond
        }
        let hz = frameRateHz ?? profile?.frameRateHz ?? 20
        let period = Duration.nanoseconds(Int64(1e9 / hz))
        let timeout = min(period * 3, .milliseconds(100))
        return NDITrackerConfiguration(
            session: NDISessionConfiguration(serialLine: true, commBaud: rate, tools: tools, trackingTimeout: timeout),
            pollInterval: period
        )
    }
}

/// Counters of a running driver.
public struct NDITrackerStatistics: Sendable, Equatable {
    /// Connections opened (successful `connect` calls).
    public var connections = 0
    /// Frames delivered.
    public var frames = 0
    /// Replies with a repeated device frame number, not delivered.
    public var repeatedFrames = 0
    /// Malformed replies skipped while tracking (bad CRC, truncated, …).
    public var malformedReplies = 0
    /// ERROR replies to BX/TX while tracking.
    public var trackingErrors = 0
}

/// The NDI tracker driver: one dedicated thread owns the `ByteStream`, runs an `NDISession`
/// over it, turns tracking replies into `TrackerFrame`s and reconnects with backoff when the
/// device is lost.
///
/// ### Threading
/// `start()` spawns the device thread; everything that touches the stream happens on it, with
/// blocking reads of at most `readSlice`. Events are handed to `onEvent` **on the device
/// thread**, so the callback must be quick and must not block (the `AsyncStream` variant,
/// `makeStream`, buffers the newest events and never blocks). `stop()` may be called from any
/// thread; it asks the thread to send TSTOP (and COMM back to 9600 on a serial line), waits for
/// it to finish, and closes the stream by force if it has not finished in time.
///
/// ### Failure handling
/// No `fatalError` on any path: a failed connect, a transport error (`.disconnected` on unplug
/// or a closed peer), a reply timeout or a refused set-up all become
/// `.state(.disconnected(reason:))`, then `.state(.reconnecting(attempt:delay:))`; after the
/// delay (measured on the injected clock) the full set-up runs again. Malformed replies while
/// tracking are skipped (warning + statistics) and tracking goes on.
public final class NDITrackerDriver: Sendable {
    public let configuration: NDITrackerConfiguration
    private let connect: @Sendable () throws -> any ByteStream
    private let clock: any TrackerClock
    private let onEvent: @Sendable (TrackerEvent) -> Void
    private let control = Protected(Control())
    private let stats = Protected(NDITrackerStatistics())
    private let done = DispatchSemaphore(value: 0)

    private struct Control {
        var started = false
        var stopRequested = false
        var finished = false
        var stream: (any ByteStream)?
    }

    /// - Parameters:
    ///   - connect: opens a fresh stream for each connection attempt (e.g.
    ///     `{ try TransportEndpoint(url).open() }`); it runs on the device thread.
    ///   - clock: frame times, timeouts and backoff are measured on it.
    ///   - onEvent: called on the device thread for every event, in order.
    public init(
        configuration: NDITrackerConfiguration,
        clock: any TrackerClock = SystemTrackerClock(),
        connect: @escaping @Sendable () throws -> any ByteStream,
        onEvent: @escaping @Sendable (TrackerEvent) -> Void
    ) {
        self.configuration = configuration
        self.clock = clock
        self.connect = connect
        self.onEvent = onEvent
    }

    /// A driver whose events go to an `AsyncStream` buffering the newest `bufferSize` events, so
    /// a slow consumer never blocks the device thread. The stream finishes after `.stopped`.
    public static func makeStream(
        configuration: NDITrackerConfiguration,
        clock: any TrackerClock = SystemTrackerClock(),
        bufferSize: Int = 256,
        connect: @escaping @Sendable () throws -> any ByteStream
    ) -> (NDITrackerDriver, AsyncStream<TrackerEvent>) {
        let (stream, continuation) = AsyncStream.makeStream(
            of: TrackerEvent.self,
            bufferingPolicy: .bufferingNewest(bufferSize)
        )
        let driver = NDITrackerDriver(configuration: configuration, clock: clock, connect: connect) { event in
            continuation.yield(event)
            if event == .state(.stopped) { continuation.finish() }
        }
        return (driver, stream)
    }

    /// The counters so far.
    public var statistics: NDITrackerStatistics { self.stats.value }

    /// Starts the device thread (once).
    public func start() {
        let first = self.control.withLock { c -> Bool in
            if c.started { return false }
            c.started = true
            return true
        }
        guard first else { return }
        let thread = Thread { [self] in
            self.run()
            self.control.withLock { $0.finished = true }
            self.done.signal()
        }
        thread.name = "coilnav.ndi-tracker"
        thread.qualityOfService = .userInteractive
        thread.start()
    }

    /// Stops tracking (TSTOP, COMM back to 9600 on serial), waits up to `timeout` for the thread,
    /// then closes the stream by force. Returns true when the thread has ended. Idempotent.
    /// Do not call it from `onEvent` (that runs on the device thread, which `stop` waits for):
    /// call it from another thread or task.
    @discardableResult
    public func stop(timeout: Duration = .seconds(3)) -> Bool {
        let started = self.control.withLock { c -> Bool in
            c.stopRequested = true
            return c.started && !c.finished
        }
        guard started else { return true }
        if self.done.wait(timeout: .now() + .nanoseconds(Int(timeout.wholeNanoseconds))) == .success {
            self.done.signal()
            return true
        }
        self.control.withLock { $0.stream }?.close()
        if self.done.wait(timeout: .now() + .seconds(2)) == .success {
            self.done.signal()
            return true
        }
        return false
    }

    private var stopRequested: Bool { self.control.withLock { $0.stopRequested } }

    private func emit(_ e: TrackerEvent) { self.onEvent(e) }

    // MARK: - The device thread

    private func run() {
        var attempt = 0
        var monitor = NeverSeenMonitor(patience: self.configuration.neverSeenPatience)
        while !self.stopRequested {
            self.emit(.state(.connecting))
            var reason: String
            do {
                let stream = try self.connect()
                self.stats.withLock { $0.connections += 1 }
                self.control.withLock { $0.stream = stream }
                let (result, reachedTracking) = self.runSession(on: stream, monitor: &monitor)
                stream.close()
                self.control.withLock { $0.stream = nil }
                if reachedTracking { attempt = 0 }
                guard let failure = result else { break }
                reason = failure
            } catch {
                reason = "cannot connect: \(error)"
            }
            if self.stopRequested { break }
            self.emit(.state(.disconnected(reason: reason)))
            attempt += 1
            let delay = self.configuration.backoff(attempt: attempt)
            self.emit(.state(.reconnecting(attempt: attempt, delay: delay)))
            self.waitOnClock(delay)
        }
        self.emit(.state(.stopped))
    }

    /// Waits until `d` has passed on the injected clock, or a stop is requested.
    private func waitOnClock(_ d: Duration) {
        let target = self.clock.nowNanoseconds() &+ d.wholeNanoseconds
        while !self.stopRequested {
            let now = self.clock.nowNanoseconds()
            if now >= target { return }
            let slice = min(target - now, self.configuration.readSlice.wholeNanoseconds)
            Thread.sleep(forTimeInterval: Double(max(slice, 100_000)) / 1e9)
        }
    }

    /// Runs one connection. Returns nil after a clean stop, or the reason the connection failed;
    /// and whether it reached tracking.
    private func runSession(on stream: any ByteStream, monitor: inout NeverSeenMonitor) -> (String?, Bool) {
        var sessionConfig = self.configuration.session
        sessionConfig.serialLine = stream.hasSerialLine
        var session = NDISession(configuration: sessionConfig)
        var framer = NDIReplyFramer()
        var bindings: [NDIHandleBinding] = []
        let toolOrder = sessionConfig.tools.map(\.name)
        var reachedTracking = false
        var lastFrameNumber: UInt32?
        // Polls go out on a grid slightly faster than the device's frames (see PollScheduler).
        var scheduler =
            self.configuration.pollInterval > .zero
            ? PollScheduler(periodNanoseconds: self.configuration.pollInterval.wholeNanoseconds) : nil
        var sentAt = self.clock.nowNanoseconds()
        var receivedAt = sentAt
        var stopDelivered = false
        var seenMalformed = 0
        var seenErrors = 0
        self.emit(.state(.settingUp))
        var actions = session.step(.start)
        do {
            while true {
                var i = 0
                while i < actions.count {
                    let action = actions[i]
                    i += 1
                    switch action {
                    case .setHostLine(let baud):
                        try stream.setLineParameters(baud: baud)
                    case .purge:
                        try stream.purge()
                        framer = NDIReplyFramer()
                    case .sendBreak:
                        try stream.sendBreak(duration: self.configuration.breakDuration)
                    case .pause(let d):
                        if d > .zero { Thread.sleep(forTimeInterval: d.inSeconds) }
                    case .send(let command):
                        let isPoll = session.isTracking && command == session.trackingCommand
                        if isPoll, self.stopRequested, !stopDelivered {
                            stopDelivered = true
                            actions += session.step(.stop)
                            continue
                        }
                        var slot: UInt64?
                        if isPoll, let grid = scheduler {
                            let now = self.clock.nowNanoseconds()
                            let s = grid.sendTime(now: now)
                            if s > now { self.waitOnClock(.nanoseconds(Int64(s - now))) }
                            slot = s
                        }
                        try stream.write(try command.encoded())
                        sentAt = self.clock.nowNanoseconds()
                        if let slot { scheduler?.didSend(slot: slot, sentAt: sentAt) }
                    case .trackingStarted(let b):
                        bindings = b
                        reachedTracking = true
                        self.emit(.state(.tracking))
                    case .tracking(let reply):
                        let frame = NDIFrameMapper.frame(
                            from: reply,
                            bindings: bindings,
                            toolOrder: toolOrder,
                            hostReceiveNanoseconds: receivedAt,
                            fallbackFrameNumber: lastFrameNumber ?? 0
                        )
                        let repeated = frame.deviceFrameNumber == lastFrameNumber
                        scheduler?.didReceive(repeated: repeated, sentAt: sentAt)
                        if repeated {
                            self.stats.withLock { $0.repeatedFrames += 1 }
                            break
                        }
                        lastFrameNumber = frame.deviceFrameNumber
                        self.stats.withLock { $0.frames += 1 }
                        self.emit(.frame(frame))
                        for name in monitor.observe(frame) {
                            self.emit(.warning("tool \(name) has never been seen: check its tool definition file"))
                        }
                    case .warning(let text):
                        self.emit(.warning(text))
                    case .failed(let reason):
                        return (reason, reachedTracking)
                    case .finished:
                        return (nil, reachedTracking)
                    }
                    if session.malformedReplies != seenMalformed || session.trackingErrors != seenErrors {
                        let (m, e) = (session.malformedReplies - seenMalformed, session.trackingErrors - seenErrors)
                        (seenMalformed, seenErrors) = (session.malformedReplies, session.trackingErrors)
                        self.stats.withLock {
                            $0.malformedReplies += m
                            $0.trackingErrors += e
                        }
                    }
                }
                actions = []
                guard let timeout = session.awaitedTimeout else { return (nil, reachedTracking) }
                let deadline = sentAt &+ timeout.wholeNanoseconds
                while actions.isEmpty {
                    if let result = framer.next() {
                        receivedAt = self.clock.nowNanoseconds()
                        actions = session.step(.reply(result))
                        if actions.isEmpty { continue }
                        break
                    }
                    if self.stopRequested, !stopDelivered, !session.isTracking {
                        stopDelivered = true
                        actions = session.step(.stop)
                        if !actions.isEmpty { break }
                    }
                    let now = self.clock.nowNanoseconds()
                    if now >= deadline {
                        framer = NDIReplyFramer()
                        actions = session.step(.timeout)
                        break
                    }
                    let slice = Duration.nanoseconds(
                        Int64(min(deadline - now, self.configuration.readSlice.wholeNanoseconds))
                    )
                    let bytes = try stream.read(maxBytes: 4096, timeout: slice)
                    if !bytes.isEmpty { framer.feed(bytes) }
                }
            }
        } catch let error as TransportError {
            if session.isTracking == false, stopDelivered { return (nil, reachedTracking) }
            return ("\(error)", reachedTracking)
        } catch {
            return ("\(error)", reachedTracking)
        }
    }
}

/// A value behind a lock, for state shared between the device thread and callers.
final class Protected<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { self.stored = value }
    var value: Value { self.lock.withLock { self.stored } }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        self.lock.lock()
        defer { self.lock.unlock() }
        return try body(&self.stored)
    }
}
