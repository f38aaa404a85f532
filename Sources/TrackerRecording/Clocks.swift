import Foundation
import NDITracker

/// The clock the consumers of tracker events read, so that everything done while one event is
/// delivered — the recorder stamping it, the navigation engine computing the frame's age — sees
/// one and the same instant.
///
/// `deliver` reads the underlying clock once and pins this clock to that reading while its body
/// runs; any thread reading meanwhile gets the pinned instant. Outside a delivery it reads the
/// underlying clock. Readings never go back. This is what makes a recording reproduce the live
/// outputs exactly: the recorder writes the instant each event was delivered (`atNanoseconds`),
/// the live engine computed its frame ages against that same instant, and a replay's clock reads
/// it again while the event is delivered.
public final class DeliveryClock: TrackerClock, @unchecked Sendable {
    // @unchecked: `pinned` and `last` are guarded by `lock`.
    public let base: any TrackerClock
    private let lock = NSLock()
    private var pinned: UInt64?
    private var last: UInt64 = 0

    public init(base: any TrackerClock) { self.base = base }

    public func nowNanoseconds() -> UInt64 {
        self.lock.lock()
        defer { self.lock.unlock() }
        if let p = self.pinned { return p }
        let t = max(self.base.nowNanoseconds(), self.last)
        self.last = t
        return t
    }

    /// Reads the clock, pins it at that instant while `body` runs, and passes the instant to `body`.
    public func deliver<R>(_ body: (UInt64) throws -> R) rethrows -> R {
        self.lock.lock()
        let t = max(self.base.nowNanoseconds(), self.last)
        self.last = t
        self.pinned = t
        self.lock.unlock()
        defer {
            self.lock.lock()
            self.pinned = nil
            self.lock.unlock()
        }
        return try body(t)
    }
}

/// The clock of a replay: it reads the recorded timeline.
///
/// While an event is delivered it reads the event's recorded `atNanoseconds` exactly (so frame ages
/// are what they were live). Between events, at speed S > 0, it runs at S times real time from the
/// previous event but never past the next event's time (so a periodic watchdog sees the recorded
/// silences as they were); at speed 0 it stands at the last delivered event. After the end of a
/// recording played at S > 0 it keeps running.
public final class ReplayClock: TrackerClock, @unchecked Sendable {
    // @unchecked: mutable state is guarded by `lock`.
    public let speed: Double
    private let lock = NSLock()
    private var anchorRecorded: UInt64
    private var anchorReal: ContinuousClock.Instant
    /// The reading never goes below the last delivered event's time nor above the next one's.
    private var floor: UInt64
    private var ceiling: UInt64

    /// A clock standing at `start` (the recording's start) until the replay begins.
    public init(start: UInt64, speed: Double) {
        self.speed = speed
        self.anchorRecorded = start
        self.anchorReal = .now
        self.floor = start
        self.ceiling = start
    }

    public func nowNanoseconds() -> UInt64 {
        self.lock.lock()
        defer { self.lock.unlock() }
        guard self.speed > 0 else { return self.floor }
        let elapsed = self.anchorReal.duration(to: .now).wholeNanoseconds
        let advanced = self.anchorRecorded &+ UInt64(min(Double(elapsed) * self.speed, 1.8e19))
        return min(max(advanced, self.floor), self.ceiling)
    }

    /// Starts the timeline: recorded time `recorded` is now.
    func begin(at recorded: UInt64) {
        self.lock.lock()
        self.anchorRecorded = recorded
        self.anchorReal = .now
        self.floor = recorded
        self.ceiling = recorded
        self.lock.unlock()
    }

    /// The real instant at which the timeline reaches `recorded` (speed > 0).
    func due(_ recorded: UInt64) -> ContinuousClock.Instant {
        self.lock.lock()
        defer { self.lock.unlock() }
        let ahead = recorded > self.anchorRecorded ? recorded - self.anchorRecorded : 0
        return self.anchorReal + .nanoseconds(Int64(min((Double(ahead) / self.speed).rounded(.up), 9e18)))
    }

    /// The event at `recorded` is being delivered: the clock reads exactly `recorded`.
    func deliver(at recorded: UInt64) {
        self.lock.lock()
        self.floor = max(self.floor, recorded)
        self.ceiling = self.floor
        self.lock.unlock()
    }

    /// After a delivery: the clock may run on up to `recorded` (the next event's time; `.max`
    /// after the last).
    func allow(upTo recorded: UInt64) {
        self.lock.lock()
        self.ceiling = max(self.floor, recorded)
        self.lock.unlock()
    }
}
