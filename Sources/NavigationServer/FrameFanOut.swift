import Foundation

/// Hands each frame to every client, on one thread of its own, so the tracking thread only ever
/// publishes (one lock, one wake-up) whatever the number of clients.
///
/// For each client the fan-out sends the newest frame it wants at once, without blocking, when
/// nothing else waits to go out to it, so an idle client costs no thread wake-up on the server; a
/// client whose socket is full, or that has responses or events queued, gets the frame through its
/// outbox and writer thread (latest wins), as before. Frames published while the fan-out was busy
/// are all put to each client's `wantsFrame` in order (its rate cap sees every frame), and only
/// the newest wanted one is sent. Of more than `backlogLimit` unhandled frames the oldest are
/// forgotten (latest wins here too). Frames published before the thread starts wait for it; after
/// `stop()` they are ignored.
final class FrameFanOut: @unchecked Sendable {
    // @unchecked: state is guarded by `condition`.
    private let condition = NSCondition()
    private var pending: [FramePayload] = []
    private var stopping = false
    let backlogLimit: Int

    init(backlogLimit: Int = 1024) {
        self.backlogLimit = backlogLimit
        self.pending.reserveCapacity(64)
    }

    /// Publishes the newest frame.
    func publish(_ frame: FramePayload) {
        self.condition.lock()
        defer { self.condition.unlock() }
        guard !self.stopping else { return }
        if self.pending.count >= self.backlogLimit { self.pending.removeFirst() }
        self.pending.append(frame)
        self.condition.signal()
    }

    /// The fan-out loop; returns after `stop()`. `clients` gives the clients to deliver to.
    func run(clients: () -> [ClientConnection]) {
        var scratch: [UInt8] = []
        scratch.reserveCapacity(16 * 1024)
        var batch: [FramePayload] = []
        batch.reserveCapacity(64)
        while true {
            self.condition.lock()
            while self.pending.isEmpty && !self.stopping { self.condition.wait() }
            if self.stopping {
                self.pending.removeAll()
                self.condition.unlock()
                return
            }
            swap(&batch, &self.pending)
            self.condition.unlock()
            for c in clients() { c.deliver(frames: batch[...], scratch: &scratch) }
            batch.removeAll(keepingCapacity: true)
        }
    }

    func stop() {
        self.condition.lock()
        self.stopping = true
        self.condition.broadcast()
        self.condition.unlock()
    }
}
