import Foundation

/// Counts calls in flight on a stream and implements the close protocol shared by every
/// transport: once `beginClose()` has run, `enter()` throws `.closed`; `waitIdle()` then blocks
/// until every call that had entered has left, so the resource can be released safely.
final class CallGate: @unchecked Sendable {
    // @unchecked: all state is guarded by `condition`.
    private let condition = NSCondition()
    private var inFlight = 0
    private var closed = false

    /// Registers a call; throws `.closed` once the stream is closing or closed.
    func enter(_ what: @autoclosure () -> String) throws(TransportError) {
        self.condition.lock()
        defer { self.condition.unlock() }
        if self.closed { throw TransportError(.closed, "\(what()) is closed") }
        self.inFlight += 1
    }

    /// Unregisters a call registered with `enter`.
    func leave() {
        self.condition.lock()
        self.inFlight -= 1
        if self.inFlight == 0 { self.condition.broadcast() }
        self.condition.unlock()
    }

    /// Marks the gate closed. Returns `true` for the first caller only (who must then wake
    /// blocked calls, `waitIdle()`, and release the resource).
    func beginClose() -> Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        if self.closed { return false }
        self.closed = true
        return true
    }

    /// Blocks until no call is in flight.
    func waitIdle() {
        self.condition.lock()
        while self.inFlight > 0 { self.condition.wait() }
        self.condition.unlock()
    }

    var isClosed: Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.closed
    }
}

/// Converts a timeout to whole milliseconds for poll(2) and libusb, rounding up so a positive
/// timeout never becomes 0, and clamping to `Int32.max`. Negative durations give 0.
func milliseconds(_ d: Duration) -> Int32 {
    if d <= .zero { return 0 }
    let (s, atto) = d.components
    let ms = Double(s) * 1000 + (Double(atto) / 1e15).rounded(.up)
    return ms >= Double(Int32.max) ? Int32.max : Int32(ms)
}

/// The symbolic name of an errno value (`"ENOENT"`), or `"errno N"`.
func errnoName(_ e: Int32) -> String {
    switch e {
    case EPERM: return "EPERM"
    case ENOENT: return "ENOENT"
    case EINTR: return "EINTR"
    case EIO: return "EIO"
    case ENXIO: return "ENXIO"
    case EBADF: return "EBADF"
    case EAGAIN: return "EAGAIN"
    case EACCES: return "EACCES"
    case EBUSY: return "EBUSY"
    case ENODEV: return "ENODEV"
    case EINVAL: return "EINVAL"
    case ENOTTY: return "ENOTTY"
    case EPIPE: return "EPIPE"
    case ECONNREFUSED: return "ECONNREFUSED"
    case ECONNRESET: return "ECONNRESET"
    case ECONNABORTED: return "ECONNABORTED"
    case EHOSTUNREACH: return "EHOSTUNREACH"
    case ENETUNREACH: return "ENETUNREACH"
    case ETIMEDOUT: return "ETIMEDOUT"
    case ENOTCONN: return "ENOTCONN"
    case EADDRINUSE: return "EADDRINUSE"
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL"
    default: return "errno \(e)"
    }
}

/// A `TransportError` for errno `e` after `what` failed, with a code chosen from the errno.
func posixError(_ what: String, errno e: Int32) -> TransportError {
    let text = String(cString: strerror(e))
    let code: TransportError.Code
    switch e {
    case ENOENT, ENODEV, ENXIO, ECONNREFUSED, EHOSTUNREACH, ENETUNREACH: code = .notFound
    case EACCES, EPERM: code = .permissionDenied
    case EBUSY: code = .busy
    case EPIPE, ECONNRESET, ECONNABORTED, ENOTCONN: code = .disconnected
    case ETIMEDOUT: code = .timeout
    case EINVAL: code = .invalidArgument
    case ENOTTY: code = .unsupported
    default: code = .io
    }
    return TransportError(code, "\(what): \(text)", underlying: errnoName(e))
}
