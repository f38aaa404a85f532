/// When the driver sends its next BX/TX poll while tracking.
///
/// An NDI tracker answers a poll with its newest frame, so a poll that comes late by more than the
/// slack left in its period skips a frame for good, and one that comes early gets the same frame
/// again (a repeat, which the driver drops). Timing each poll from the previous one lets every
/// sleep's overshoot add up: at 60 Hz a 0.4 ms overshoot per poll skips one frame in forty.
///
/// The schedule is therefore a grid of absolute times, a little faster than the device period
/// (`speedUp`, 1 ‰ by default), so a host clock running slow against the device's still cannot make
/// it skip frames; sleep overshoot does not accumulate because each slot is computed from the
/// previous slot, not from when the poll really went out. The grid's phase creeps earlier until a
/// poll arrives before the device's next frame and gets a repeat; the next poll then follows
/// after `retryFraction` of a period and the grid restarts from there — just after the device's
/// frame, which is also where a poll's answer is freshest. A host that falls a whole period
/// behind (a stall, a reconnect) starts a new grid at once instead of sending a burst.
///
/// Pure value: times are nanoseconds of the driver's injected clock.
public struct PollScheduler: Sendable, Equatable {
    /// The device frame period, ns.
    public let periodNanoseconds: UInt64
    /// The grid's step: the period shortened by `speedUp`.
    public let stepNanoseconds: UInt64
    /// How long after a repeated frame the next poll goes out, ns.
    public let retryNanoseconds: UInt64
    /// The next slot, or nil before the first poll.
    public private(set) var nextSlot: UInt64?

    /// - Parameters:
    ///   - periodNanoseconds: the device frame period; must be positive.
    ///   - speedUp: how much faster than the period the grid runs (0.001 = 1 ‰).
    ///   - retryFraction: after a repeat, the next poll follows after this fraction of a period.
    public init(periodNanoseconds: UInt64, speedUp: Double = 0.001, retryFraction: Double = 0.125) {
        precondition(periodNanoseconds > 0, "a poll period must be positive")
        self.periodNanoseconds = periodNanoseconds
        self.stepNanoseconds = periodNanoseconds - UInt64((Double(periodNanoseconds) * speedUp).rounded())
        self.retryNanoseconds = max(1, UInt64((Double(periodNanoseconds) * retryFraction).rounded()))
    }

    /// The time the next poll should go out, given the clock reads `now`: `now` itself when the
    /// slot has come (or there is none yet, or the host fell a period behind).
    public func sendTime(now: UInt64) -> UInt64 {
        guard let slot = self.nextSlot, now < slot else { return now }
        return slot
    }

    /// Records that a poll went out at `sentAt` for the slot `sendTime` gave (`slot`).
    public mutating func didSend(slot: UInt64, sentAt: UInt64) {
        // More than a period late: the grid is lost (stall, reconnect); start a new one here.
        let base = sentAt &- slot > self.periodNanoseconds ? sentAt : slot
        self.nextSlot = base &+ self.stepNanoseconds
    }

    /// Records the answer to the poll sent at `sentAt`: a repeated frame moves the next poll to
    /// shortly after it.
    public mutating func didReceive(repeated: Bool, sentAt: UInt64) {
        if repeated { self.nextSlot = sentAt &+ self.retryNanoseconds }
    }
}
