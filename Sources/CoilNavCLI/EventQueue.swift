import Foundation
import NDITracker

/// The queue between a tracker's delivering thread and a command's main thread (`track`,
/// `record`, `qa`): `push` never blocks unless asked to (the oldest events are dropped when full,
/// and counted); a signal handler's `requestStop` wakes the taker.
final class EventQueue: @unchecked Sendable {
    // @unchecked: state is guarded by `condition`.
    private let condition = NSCondition()
    private var items: [TrackerEvent] = []
    private var dropped = 0
    private var stopRequested = false
    let capacity: Int
    /// Whether `push` waits for room instead of dropping (for a replay, which may wait).
    let blocking: Bool

    init(capacity: Int = .max, blocking: Bool = false) {
        self.capacity = capacity
        self.blocking = blocking
    }

    func push(_ e: TrackerEvent) {
        self.condition.lock()
        while self.blocking && self.items.count >= self.capacity && !self.stopRequested { self.condition.wait() }
        if self.items.count >= self.capacity {
            self.items.removeFirst()
            self.dropped += 1
        }
        self.items.append(e)
        self.condition.signal()
        self.condition.unlock()
    }

    func requestStop() {
        self.condition.lock()
        self.stopRequested = true
        self.condition.signal()
        self.condition.unlock()
    }

    /// Waits for events or a stop request — until `deadline`, or for ever without one — and takes
    /// them all: the events, whether a stop was requested since the last take, and how many events
    /// were dropped since then.
    func take(until deadline: Date? = nil) -> (events: [TrackerEvent], stopRequested: Bool, dropped: Int) {
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.items.isEmpty && !self.stopRequested {
            if let deadline {
                if !self.condition.wait(until: deadline) { break }
            } else {
                self.condition.wait()
            }
        }
        let out = (self.items, self.stopRequested, self.dropped)
        self.items = []
        self.condition.broadcast()  // a blocked push has room again
        self.dropped = 0
        self.stopRequested = false
        return out
    }
}
