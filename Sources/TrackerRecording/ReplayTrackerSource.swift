import Foundation
import NDITracker
import TrackerCore

/// A recording played back as a tracker (`replay://FILE?speed=S`): one thread delivers the
/// recorded events — frames, states, warnings — to the same callback the NDI driver feeds, in
/// order, each at its recorded time divided by the speed (speed 0: as fast as the consumer takes
/// them), while `clock` reads the recorded timeline (see `ReplayClock`), so a consumer that reads
/// it as "now" computes what it computed live.
///
/// - A recorded `stopped` state is not replayed: when the recording ends the source reports
///   `.disconnected(reason: "end of the recording FILE")` and then `.stopped`, its last event.
/// - Where the recorder lost events (its disk did not keep up) the source reports a warning
///   saying how many frames are missing there.
/// - `stop()` ends the replay early; `.stopped` is then the last event.
///
/// The callback runs on the replay thread and, unlike a device, may take its time: the replay
/// waits for it (a replay never drops frames).
public final class ReplayTrackerSource: TrackerSource, @unchecked Sendable {
    // @unchecked: `stopRequested`, `started` and `delivered` are guarded by `condition`.
    public let recording: Recording
    public let clock: ReplayClock
    private let onEvent: @Sendable (TrackerEvent) -> Void
    private let condition = NSCondition()
    private var started = false
    private var stopRequested = false
    private var delivered = 0
    private let done = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - speed: recorded seconds per real second; 0 plays as fast as possible.
    ///   - onEvent: called on the replay thread for every event, in order.
    public convenience init(recording: Recording, speed: Double, onEvent: @escaping @Sendable (TrackerEvent) -> Void) {
        self.init(recording: recording, clock: ReplayClock(start: recording.header.clockAtStartNanoseconds, speed: speed), onEvent: onEvent)
    }

    /// With a clock made beforehand (`ReplayClock(start: header.clockAtStartNanoseconds, speed:)`),
    /// for consumers that must exist, reading it, before the source does.
    public init(recording: Recording, clock: ReplayClock, onEvent: @escaping @Sendable (TrackerEvent) -> Void) {
        self.recording = recording
        self.clock = clock
        self.onEvent = onEvent
    }

    /// Frames delivered so far.
    public var framesDelivered: Int {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.delivered
    }

    /// The text of the warning delivered where the recorder lost events.
    public static func lossWarning(_ loss: RecordingLoss) -> String {
        "the recording is missing \(loss.frames) frame\(loss.frames == 1 ? "" : "s") and \(loss.otherEvents) other event\(loss.otherEvents == 1 ? "" : "s") here (its disk did not keep up)"
    }

    public func start() {
        self.condition.lock()
        let first = !self.started
        self.started = true
        self.condition.unlock()
        guard first else { return }
        let thread = Thread { [self] in
            self.run()
            self.done.signal()
        }
        thread.name = "coilnav.replay"
        thread.qualityOfService = .userInteractive
        thread.start()
    }

    @discardableResult
    public func stop(timeout: Duration) -> Bool {
        self.condition.lock()
        self.stopRequested = true
        let running = self.started
        self.condition.broadcast()
        self.condition.unlock()
        guard running else { return true }
        let seconds = timeout.inSeconds
        guard self.done.wait(timeout: .now() + seconds) == .success else { return false }
        self.done.signal()
        return true
    }

    private var isStopRequested: Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.stopRequested
    }

    /// Waits (real time) until the timeline reaches `recorded`; false when a stop came first.
    private func wait(until recorded: UInt64) -> Bool {
        guard self.clock.speed > 0 else { return !self.isStopRequested }
        let due = self.clock.due(recorded)
        self.condition.lock()
        defer { self.condition.unlock() }
        while !self.stopRequested {
            let remaining = ContinuousClock.now.duration(to: due)
            if remaining <= .zero { return true }
            let seconds = min(remaining.inSeconds, 0.25)
            _ = self.condition.wait(until: Date().addingTimeInterval(seconds))
        }
        return false
    }

    private func run() {
        let records = self.recording.records
        self.clock.begin(at: self.recording.header.clockAtStartNanoseconds)
        var lastAt = self.recording.header.clockAtStartNanoseconds
        var index = 0
        var ended = true
        while index < records.count {
            let record = records[index]
            index += 1
            if case .event(.state(.stopped), _) = record { continue }
            let at = record.atNanoseconds
            guard self.wait(until: at) else {
                ended = false
                break
            }
            self.clock.deliver(at: at)
            lastAt = at
            switch record {
            case .event(let event, _):
                self.onEvent(event)
                if case .frame = event {
                    self.condition.lock()
                    self.delivered += 1
                    self.condition.unlock()
                }
            case .lost(let loss):
                self.onEvent(.warning(Self.lossWarning(loss)))
            case .end:
                break
            }
            self.clock.allow(upTo: index < records.count ? records[index].atNanoseconds : (self.recording.summary?.atNanoseconds ?? at))
        }
        if ended, !self.isStopRequested {
            let endAt = max(self.recording.summary?.atNanoseconds ?? lastAt, lastAt)
            if self.wait(until: endAt) {
                self.clock.deliver(at: endAt)
                self.onEvent(.state(.disconnected(reason: "end of the recording \(self.recording.source)")))
            }
        }
        self.clock.allow(upTo: .max)
        self.onEvent(.state(.stopped))
    }
}
