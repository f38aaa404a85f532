import Foundation
import Geometry
import IGTLProtocol
import JSONLinesProtocol
import NDITracker
import Navigation
import Synchronization
import TrackerCore

/// The engine's settings.
public struct NavigationEngineConfiguration: Sendable {
    public var navigation: NavigationConfiguration
    /// The pointer's tool name (PointerToMRI, captures).
    public var pointerToolName: String
    /// The tracker's frame rate; sets the watchdog limit (three periods, at most 100 ms).
    public var frameRateHz: Double
    /// Unix time in ns at the clock's zero, for OpenIGTLink timestamps and wall-clock times of pulses.
    public var unixNanosecondsAtClockZero: Int64
    /// How many recent frames are kept for interpolating pulses.
    public var historyCapacity: Int
    /// How long a pulse waits for the frame after it, in real time, before it is recorded without one.
    public var pulseWaitLimit: Duration

    public init(
        navigation: NavigationConfiguration = NavigationConfiguration(), pointerToolName: String = "pointer",
        frameRateHz: Double = 60, unixNanosecondsAtClockZero: Int64 = 0, historyCapacity: Int = 8192,
        pulseWaitLimit: Duration = .milliseconds(250)
    ) {
        self.navigation = navigation
        self.pointerToolName = pointerToolName
        self.frameRateHz = frameRateHz
        self.unixNanosecondsAtClockZero = unixNanosecondsAtClockZero
        self.historyCapacity = historyCapacity
        self.pulseWaitLimit = pulseWaitLimit
    }

    /// The watchdog's limit: three frame periods, at most 100 ms.
    public var watchdogLimitNanoseconds: UInt64 { TrackingWatchdog.standardLimitNanoseconds(frameRateHz: self.frameRateHz) }
}

/// The latest state of the navigation, for status requests and GET_ queries.
public struct NavigationSnapshot: Sendable {
    public var output: NavigationOutput?
    public var transforms: FrameTransforms?
    public var pointerToMRI: RigidTransform?
    public var pointerStatus: ToolStatus?
    public var trackingLost: Bool
    public var trackerState: TrackerState?
    public var activeTarget: NavigationTarget?
    public var headToMRI: RigidTransform?
    public var framesProcessed: Int
    public var lastFrameHostNanoseconds: UInt64?
    /// Device frame numbers skipped between consecutive frames (frames the host never received).
    public var framesDropped: Int
    /// Frames received during the second before the newest one.
    public var framesInLastSecond: Int
}

/// The composition at the heart of `coilnav serve`: tracker events in, navigation outputs out to every
/// client.
///
/// ### Threading
/// `handle(_:)` runs on the tracker driver's thread: it processes the frame synchronously (the
/// pipeline allocates nothing), publishes the frame to the server's fan-out thread (`FrameFanOut`:
/// one wake-up whatever the number of clients), which sends it to each idle client at once without
/// blocking and otherwise offers it to the client's latest-wins outbox, and returns. It never
/// performs I/O and never waits for a client: the only locks it takes are held for a few
/// instructions. Commands arrive on client reader threads and
/// take the same engine lock briefly; durable writes (pulses, session) happen on those threads,
/// outside the engine lock.
public final class NavigationEngine: @unchecked Sendable {
    // @unchecked: mutable state is guarded by `lock`; clients by `clientsLock`.
    public let configuration: NavigationEngineConfiguration
    public let clock: any TrackerClock
    private let lock = NSCondition()
    private var processor: FrameProcessor
    private var history: PoseHistory
    private var watchdog: TrackingWatchdog
    private var targets: [NavigationTarget]
    private var lastInvalidity: NavigationInvalidity?
    private var lastOnTarget = false
    private var snapshot: NavigationSnapshot
    private var messageID: UInt32 = 0
    /// The recent frames' pointer samples, for captures (a ring; `pointerSequence` counts every sample).
    private var pointerSamples: [PointerSample] = []
    private var pointerSequence = 0
    /// The recent non-stale frames as received, for calibration captures (same sequence numbering).
    private var recentFrames: [TrackerFrame] = []
    private static let pointerSampleCapacity = 1024
    private let clientsLock = NSLock()
    private var clients: [Int: ClientConnection] = [:] {
        didSet { self.clientList = Array(self.clients.values) }
    }
    /// `clients`' values, rebuilt when a client comes or goes, so a frame's fan-out only retains it.
    private var clientList: [ClientConnection] = []
    private var nextClientID = 1
    /// Delivers each frame to the clients on the server's fan-out thread.
    let fanOut = FrameFanOut()
    let log: @Sendable (String) -> Void
    /// The pointer tip in pointer coordinates, for the frame's `pointerTipMRI`.
    let pointerTipMM: Vector3?

    public init(
        configuration: NavigationEngineConfiguration, clock: any TrackerClock, targets: [NavigationTarget],
        activeTargetName: String?, headToMRI: RigidTransform?, coilCalibration: RigidTransform = .identity,
        pointerTipMM: Vector3? = nil, log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.clock = clock
        self.targets = targets
        let active = activeTargetName.flatMap { n in targets.first { $0.name == n } }
        self.processor = FrameProcessor(
            configuration: configuration.navigation, coilCalibration: coilCalibration, headToMRI: headToMRI, activeTarget: active)
        self.history = PoseHistory(
            capacity: configuration.historyCapacity, maximumGapNanoseconds: configuration.watchdogLimitNanoseconds)
        self.watchdog = TrackingWatchdog(limitNanoseconds: configuration.watchdogLimitNanoseconds, startNanoseconds: clock.nowNanoseconds())
        self.snapshot = NavigationSnapshot(
            output: nil, transforms: nil, pointerToMRI: nil, pointerStatus: nil, trackingLost: false, trackerState: nil,
            activeTarget: active, headToMRI: headToMRI, framesProcessed: 0, lastFrameHostNanoseconds: nil,
            framesDropped: 0, framesInLastSecond: 0)
        self.log = log
        self.pointerTipMM = pointerTipMM
    }

    // MARK: Tracker events (driver thread)

    /// Handles one tracker event. Quick and non-blocking: call it from the driver's `onEvent`.
    public func handle(_ event: TrackerEvent) {
        switch event {
        case .frame(let frame): self.process(frame)
        case .state(let state):
            self.lock.lock()
            if state == .tracking { self.processor.resetFrameSequence() }
            self.snapshot.trackerState = state
            self.lock.unlock()
            self.broadcastEvent(.trackerState(state))
        case .warning(let text):
            self.broadcastEvent(.warning(text))
        }
    }

    /// The per-frame path.
    public func process(_ frame: TrackerFrame) {
        self.lock.lock()
        let now = self.clock.nowNanoseconds()
        // A silence longer than the watchdog's limit between two frames' receipt restarts the dwell,
        // here and only here, so a frame's output never depends on when the periodic checks ran (or
        // whether they ran at all: a recording replayed faster than real time). A silence no check
        // saw (it ran late, or not at all) is announced now, before this frame.
        var missedLoss: TrackingWatchdog.Event? = nil
        if let last = self.watchdog.lastFrameNanoseconds, frame.hostReceiveNanoseconds > last,
            frame.hostReceiveNanoseconds - last > self.watchdog.limitNanoseconds
        {
            if let e = self.watchdog.check(now: frame.hostReceiveNanoseconds) {
                missedLoss = e
                self.noteLoss()
            }
            self.processor.resetOnTarget()
        }
        let previousFrame = self.processor.lastFrameNumber
        let output = self.processor.process(frame: frame, nowNanoseconds: now)
        if let previous = previousFrame, !output.invalidity.contains(.stale) {
            let step = frame.deviceFrameNumber &- previous
            if step > 1 && step < 1 << 31 { self.snapshot.framesDropped += Int(step - 1) }
        }
        let target = self.processor.activeTarget
        // Pointer in MRI space, from the same frame.
        var pointerToMRI: RigidTransform? = nil
        var pointerToHead: RigidTransform? = nil
        var pointerStatus: ToolStatus? = nil
        if let p = frame.tool(named: self.configuration.pointerToolName) {
            pointerStatus = p.status
            if p.status.hasPose, let pt = p.toolToTracker, pt.isFinite, let head = output.headToTracker {
                let ph = head.inverse * pt
                pointerToHead = ph
                if let reg = self.processor.headToMRI { pointerToMRI = reg * ph }
            }
        }
        if !output.invalidity.contains(.stale) {
            let sample = PointerSample(
                frameNumber: frame.deviceFrameNumber, pointerStatus: pointerStatus, headStatus: output.headStatus,
                pointerToHead: pointerToHead)
            if self.pointerSamples.count < Self.pointerSampleCapacity {
                self.pointerSamples.append(sample)
                self.recentFrames.append(frame)
            } else {
                self.pointerSamples[self.pointerSequence % Self.pointerSampleCapacity] = sample
                self.recentFrames[self.pointerSequence % Self.pointerSampleCapacity] = frame
            }
            self.pointerSequence += 1
            self.history.append(
                PoseHistoryEntry(
                    frameNumber: frame.deviceFrameNumber, timeNanoseconds: frame.hostReceiveNanoseconds,
                    coilToMRI: output.coilToMRI, invalidity: output.invalidity,
                    onTarget: output.onTarget.isOnTarget))
        }
        let restored = self.watchdog.frameArrived(frameNumber: frame.deviceFrameNumber, at: frame.hostReceiveNanoseconds)
        let validityChanged = self.lastInvalidity != output.invalidity
        self.lastInvalidity = output.invalidity
        let onTargetChanged = self.lastOnTarget != output.onTarget.isOnTarget
        self.lastOnTarget = output.onTarget.isOnTarget
        let transforms = FrameTransforms(output: output, target: target, pointerToMRI: pointerToMRI)
        self.snapshot.output = output
        self.snapshot.transforms = transforms
        self.snapshot.pointerToMRI = pointerToMRI
        self.snapshot.pointerStatus = pointerStatus
        self.snapshot.trackingLost = false
        self.snapshot.framesProcessed += 1
        self.snapshot.lastFrameHostNanoseconds = frame.hostReceiveNanoseconds
        let t = frame.hostReceiveNanoseconds
        self.snapshot.framesInLastSecond = self.history.count(after: t >= 1_000_000_000 ? t - 1_000_000_000 : 0)
        let timestamp = self.igtlTimestamp(frame.hostReceiveNanoseconds)
        let firstMessageID = self.messageID &+ 1
        self.messageID &+= FramePayload.messageIDsPerFrame
        let pointerTip = pointerToMRI.flatMap { p in self.pointerTipMM.map { p.apply(to: $0) } }
        self.lock.broadcast()  // pulses waiting for the frame after their time
        self.lock.unlock()

        if let missedLoss { self.broadcastEvent(self.event(for: missedLoss)) }
        if let restored { self.broadcastEvent(self.event(for: restored)) }
        if validityChanged { self.broadcastEvent(.validityChanged(output.invalidity, frameNumber: frame.deviceFrameNumber)) }
        if onTargetChanged {
            self.broadcastEvent(
                .onTargetChanged(
                    output.onTarget.isOnTarget, frameNumber: frame.deviceFrameNumber, targetName: target?.name,
                    dwellNanoseconds: output.onTarget.dwellNanoseconds))
        }
        let payload = FramePayload(
            output: output, transforms: transforms, targetName: target?.name, pointerTipMRI: pointerTip, pointerStatus: pointerStatus,
            timestamp: timestamp, firstMessageID: firstMessageID)
        self.clientsLock.lock()
        let anyClient = !self.clientList.isEmpty
        self.clientsLock.unlock()
        if anyClient { self.fanOut.publish(payload) }
    }

    // MARK: Watchdog

    /// Checks for silence; call it periodically (the server's watchdog thread does, every few ms).
    /// Returns the event it raised, if any.
    @discardableResult
    public func checkWatchdog() -> TrackingWatchdog.Event? {
        self.lock.lock()
        let event = self.watchdog.check(now: self.clock.nowNanoseconds())
        if event != nil { self.noteLoss() }
        self.lock.unlock()
        if let event { self.broadcastEvent(self.event(for: event)) }
        return event
    }

    /// What announcing a loss changes; call with the lock held. (The dwell restarts in `process`,
    /// at the first frame after the silence.)
    private func noteLoss() {
        self.snapshot.trackingLost = true
        self.lastInvalidity = nil  // the next frame announces its validity again
        self.lastOnTarget = false
    }

    private func event(for e: TrackingWatchdog.Event) -> ServerEvent {
        switch e {
        case .lost(let last, let silence): .trackingLost(lastFrameNumber: last, silenceNanoseconds: silence)
        case .restored(let frame, let silence): .trackingRestored(frameNumber: frame, silenceNanoseconds: silence)
        }
    }

    // MARK: State and commands

    public var currentSnapshot: NavigationSnapshot {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.snapshot
    }

    public var targetList: [NavigationTarget] {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.targets
    }

    /// Makes the named target active (nil: none). Throws when no target has that name.
    public func selectTarget(named name: String?) throws(ServerCommandError) {
        self.lock.lock()
        let target: NavigationTarget?
        if let name {
            guard let t = self.targets.first(where: { $0.name == name }) else {
                let known = self.targets.map(\.name).joined(separator: ", ")
                self.lock.unlock()
                throw ServerCommandError(.notFound, "no target named \"\(name)\" (targets: \(known))")
            }
            target = t
        } else {
            target = nil
        }
        let changed = self.processor.activeTarget != target
        self.processor.activeTarget = target
        self.snapshot.activeTarget = target
        self.lock.unlock()
        if changed { self.broadcastEvent(.targetChanged(name)) }
    }

    /// Applies a registration (`headToMRI`); nil removes it.
    public func setRegistration(_ headToMRI: RigidTransform?) {
        self.lock.lock()
        self.processor.headToMRI = headToMRI
        self.snapshot.headToMRI = headToMRI
        self.lock.unlock()
        self.broadcastEvent(.registrationChanged(registered: headToMRI != nil))
    }

    /// The pose at `time` (ns of the clock), waiting up to `pulseWaitLimit` (real time) for the frame
    /// after it. Returns the lookup and the active target at that moment.
    public func pose(at time: UInt64) -> (PoseLookup, NavigationTarget?) {
        let deadline = Date().addingTimeInterval(self.configuration.pulseWaitLimit.inSeconds)
        self.lock.lock()
        defer { self.lock.unlock() }
        while true {
            let r = self.history.lookup(at: time)
            if case .pending = r, Date() < deadline {
                _ = self.lock.wait(until: deadline)
                continue
            }
            return (r, self.processor.activeTarget)
        }
    }

    /// Waits (real time, up to `timeout`) for the next `count` processed frames and returns their
    /// pointer samples; fewer when the time runs out.
    public func nextPointerSamples(count: Int, timeout: Duration) -> [PointerSample] {
        self.nextFromRing(\.pointerSamples, count: count, timeout: timeout)
    }

    /// Waits (real time, up to `timeout`) for the next `count` processed frames and returns them as
    /// received; fewer when the time runs out.
    public func nextFrames(count: Int, timeout: Duration) -> [TrackerFrame] {
        self.nextFromRing(\.recentFrames, count: count, timeout: timeout)
    }

    /// The entries of a ring kept in step with `pointerSequence` for the next `count` frames.
    private func nextFromRing<T>(
        _ ring: KeyPath<NavigationEngine, [T]>, count: Int, timeout: Duration
    ) -> [T] {
        let deadline = Date().addingTimeInterval(timeout.inSeconds)
        let count = min(count, Self.pointerSampleCapacity)
        self.lock.lock()
        defer { self.lock.unlock() }
        let start = self.pointerSequence
        while self.pointerSequence - start < count, Date() < deadline { _ = self.lock.wait(until: deadline) }
        let end = min(self.pointerSequence, start + count)
        var out: [T] = []
        var i = max(start, self.pointerSequence - Self.pointerSampleCapacity)
        while i < end {
            out.append(self[keyPath: ring][i % Self.pointerSampleCapacity])
            i += 1
        }
        return out
    }

    func igtlTimestamp(_ hostNanoseconds: UInt64) -> IGTLTimestamp {
        let unix = self.configuration.unixNanosecondsAtClockZero &+ Int64(clamping: hostNanoseconds)
        guard unix > 0 else { return .none }
        return IGTLTimestamp(seconds: UInt32(truncatingIfNeeded: unix / 1_000_000_000), nanoseconds: UInt32(unix % 1_000_000_000))
    }

    /// The next OpenIGTLink message ID (header version 2).
    func takeMessageIDs(_ body: (inout UInt32) -> Void) {
        self.lock.lock()
        body(&self.messageID)
        self.lock.unlock()
    }

    // MARK: Clients

    func addClient(_ make: (Int) -> ClientConnection) -> ClientConnection {
        self.clientsLock.lock()
        let id = self.nextClientID
        self.nextClientID += 1
        let c = make(id)
        self.clients[id] = c
        self.clientsLock.unlock()
        return c
    }

    func removeClient(_ c: ClientConnection) {
        self.clientsLock.lock()
        self.clients[c.id] = nil
        self.clientsLock.unlock()
    }

    func currentClients() -> [ClientConnection] {
        self.clientsLock.lock()
        defer { self.clientsLock.unlock() }
        return self.clientList
    }

    public var clientCount: Int {
        self.clientsLock.lock()
        defer { self.clientsLock.unlock() }
        return self.clients.count
    }

    /// Closes every client.
    func closeAllClients(reason: String) {
        for c in self.currentClients() { c.close(reason: reason) }
    }

    /// Sends an event to every client (each renders it in its protocol).
    func broadcastEvent(_ event: ServerEvent) {
        let now = self.clock.nowNanoseconds()
        var id: UInt32 = 0
        self.takeMessageIDs { m in m &+= 2; id = m }
        let rendered = RenderedEvent(event: event, timestamp: self.igtlTimestamp(now), messageID: id)
        for c in self.currentClients() { c.handler.deliver(rendered, to: c) }
    }
}

/// Something every client hears about.
public enum ServerEvent: Sendable, Equatable {
    case trackingLost(lastFrameNumber: UInt32?, silenceNanoseconds: UInt64)
    case trackingRestored(frameNumber: UInt32, silenceNanoseconds: UInt64)
    case validityChanged(NavigationInvalidity, frameNumber: UInt32)
    case onTargetChanged(Bool, frameNumber: UInt32, targetName: String?, dwellNanoseconds: UInt64)
    case targetChanged(String?)
    case registrationChanged(registered: Bool)
    case pulseRecorded(index: Int, timeNanoseconds: UInt64, valid: Bool)
    case trackerState(TrackerState)
    case warning(String)
}

/// An error answering a command.
public struct ServerCommandError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case notFound = "not-found"
        case unauthorized = "unauthorized"
        case invalid = "invalid"
        case notReady = "not-ready"
        case failed = "failed"
    }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { self.message }
}
