/// Something that delivers `TrackerEvent`s to a consumer from its own thread: the NDI driver
/// (`NDITrackerDriver`) or a recording played back (`ReplayTrackerSource` in `TrackerRecording`).
/// Commands that take `--tracker` start one and stop it; what it delivers, and on which thread, is
/// the same for both, so the consumer (the navigation engine, `coilnav track`) cannot tell them
/// apart.
///
/// The contract of both: events arrive in order on one thread; the last one is
/// `.state(.stopped)`; `stop` may be called from any thread except the delivering one.
public protocol TrackerSource: AnyObject, Sendable {
    /// Starts delivering (once).
    func start()
    /// Stops, waiting up to `timeout`; true when the delivering thread has ended.
    @discardableResult func stop(timeout: Duration) -> Bool
}

extension NDITrackerDriver: TrackerSource {}
