import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The engine behind every file-descriptor stream (serial ports, pseudo-terminals, TCP sockets).
///
/// The descriptor is non-blocking; `read` and `write` wait in poll(2) on the descriptor *and* on
/// a private wake-up pipe. `close()` writes one byte into that pipe, so every pending and future
/// poll returns at once and the blocked call throws `.closed`; it then waits for calls in flight
/// (`CallGate`) and only then closes the descriptor, so a descriptor number is never closed while
/// another thread may still use it.
final class FDStream: @unchecked Sendable {
    // @unchecked: `fd` and the wake pipe never change after init; they are closed only after
    // `gate.waitIdle()`, when no other call can be using them.
    let fd: Int32
    let name: String
    private let isSocket: Bool
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let gate = CallGate()
    private let onClose: (@Sendable (Int32) -> Void)?

    /// Takes ownership of `fd` (closed by `close()`). `isSocket` selects send(2) with
    /// MSG_NOSIGNAL so a closed peer gives EPIPE instead of SIGPIPE. `onClose` runs just before
    /// the descriptor is closed (e.g. to restore a terminal).
    init(fd: Int32, name: String, isSocket: Bool, onClose: (@Sendable (Int32) -> Void)? = nil) throws(TransportError) {
        var p: [Int32] = [-1, -1]
        guard pipe(&p) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw posixError("cannot create the wake-up pipe for \(name)", errno: e)
        }
        for w in p {
            _ = fcntl(w, F_SETFD, FD_CLOEXEC)
            _ = fcntl(w, F_SETFL, fcntl(w, F_GETFL) | O_NONBLOCK)
        }
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
        self.fd = fd
        self.name = name
        self.isSocket = isSocket
        self.wakeRead = p[0]
        self.wakeWrite = p[1]
        self.onClose = onClose
    }

    deinit {
        self.close()
    }

    /// Runs `body` with the descriptor while holding a place in the gate (throws `.closed` after
    /// `close()`).
    func withDescriptor<T>(_ body: (Int32) throws(TransportError) -> T) throws(TransportError) -> T {
        try self.gate.enter(self.name)
        defer { self.gate.leave() }
        return try body(self.fd)
    }

    /// Waits until `fd` has `events` or the deadline passes. Returns the revents, or 0 on timeout.
    /// Throws `.closed` when woken by `close()`.
    private func wait(for events: Int16, until deadline: ContinuousClock.Instant) throws(TransportError) -> Int16 {
        let clock = ContinuousClock()
        while true {
            var fds = [
                pollfd(fd: self.fd, events: events, revents: 0),
                pollfd(fd: self.wakeRead, events: Int16(POLLIN), revents: 0),
            ]
            let left = clock.now.duration(to: deadline)
            let r = poll(&fds, 2, milliseconds(left))
            if r < 0 {
                if errno == EINTR { continue }
                throw posixError("poll on \(self.name) failed", errno: errno)
            }
            if fds[1].revents != 0 { throw TransportError(.closed, "\(self.name) was closed") }
            if r == 0 || fds[0].revents == 0 {
                if left <= .zero { return 0 }
                continue
            }
            if fds[0].revents & Int16(POLLNVAL) != 0 { throw TransportError(.closed, "\(self.name) was closed") }
            return fds[0].revents
        }
    }

    /// Waits until the descriptor is readable (or hung up); `false` on timeout.
    func waitReadable(timeout: Duration) throws(TransportError) -> Bool {
        try self.gate.enter(self.name)
        defer { self.gate.leave() }
        return try self.wait(for: Int16(POLLIN), until: ContinuousClock().now.advanced(by: max(timeout, .zero))) != 0
    }

    func read(maxBytes: Int, timeout: Duration) throws(TransportError) -> [UInt8] {
        guard maxBytes > 0 else { throw TransportError(.invalidArgument, "maxBytes must be positive, got \(maxBytes)") }
        try self.gate.enter(self.name)
        defer { self.gate.leave() }
        let deadline = ContinuousClock().now.advanced(by: max(timeout, .zero))
        while true {
            let revents = try self.wait(for: Int16(POLLIN), until: deadline)
            if revents == 0 { return [] }
            // Read even on POLLHUP/POLLERR: data may still be queued before the end. Straight into
            // the returned array (not zero-filled first: a 64 KiB buffer per read costs more than
            // the read).
            var n = 0
            let bytes = [UInt8](unsafeUninitializedCapacity: maxBytes) { buffer, count in
                n = Glibc.read(self.fd, buffer.baseAddress, maxBytes)
                count = max(n, 0)
            }
            if n > 0 { return bytes.count * 4 < maxBytes && maxBytes > 4096 ? Array(bytes) : bytes }
            if n == 0 {
                throw TransportError(.disconnected, "\(self.name): the other end closed the connection", underlying: "EOF")
            }
            let e = errno
            switch e {
            case EAGAIN, EINTR:
                // Spurious wake-up, or only POLLHUP with nothing readable yet: check for hang-up.
                if revents & Int16(POLLHUP | POLLERR) != 0 {
                    throw TransportError(.disconnected, "\(self.name): the other end hung up", underlying: "POLLHUP")
                }
                continue
            case EIO, ENODEV, ENXIO, ECONNRESET, EPIPE:
                // EIO: pseudo-terminal whose other side closed, or a USB serial adapter unplugged.
                throw TransportError(.disconnected, "\(self.name): device or peer went away", underlying: errnoName(e))
            default:
                throw posixError("read from \(self.name) failed", errno: e)
            }
        }
    }

    func write(_ bytes: [UInt8], timeout: Duration) throws(TransportError) {
        try self.gate.enter(self.name)
        defer { self.gate.leave() }
        let deadline = ContinuousClock().now.advanced(by: timeout)
        var offset = try self.sendAvailable(bytes, from: 0)
        while offset < bytes.count {
            let revents = try self.wait(for: Int16(POLLOUT), until: deadline)
            if revents == 0 {
                throw TransportError(
                    .timeout, "\(self.name): could not write \(bytes.count - offset) of \(bytes.count) bytes in time")
            }
            if revents & Int16(POLLOUT) == 0 && revents & Int16(POLLHUP | POLLERR) != 0 {
                throw TransportError(.disconnected, "\(self.name): the other end hung up", underlying: "POLLHUP")
            }
            offset = try self.sendAvailable(bytes, from: offset)
        }
    }

    /// Writes as much of `bytes` as the descriptor takes without waiting and returns how many
    /// bytes that was (0 when its buffer is full).
    func writeAvailable(_ bytes: [UInt8]) throws(TransportError) -> Int {
        try self.gate.enter(self.name)
        defer { self.gate.leave() }
        return try self.sendAvailable(bytes, from: 0)
    }

    /// Writes `bytes` from `offset` until all are written or the (non-blocking) descriptor would
    /// block; returns the offset reached. Call inside the gate.
    private func sendAvailable(_ bytes: [UInt8], from start: Int) throws(TransportError) -> Int {
        var offset = start
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                let p = raw.baseAddress!.advanced(by: offset)
                if self.isSocket { return send(self.fd, p, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
                return Glibc.write(self.fd, p, bytes.count - offset)
            }
            if n > 0 {
                offset += n
                continue
            }
            let e = errno
            switch e {
            case EINTR: continue
            case EAGAIN: return offset
            case EIO, ENODEV, ENXIO, ECONNRESET, EPIPE:
                throw TransportError(.disconnected, "\(self.name): device or peer went away", underlying: errnoName(e))
            default:
                throw posixError("write to \(self.name) failed", errno: e)
            }
        }
        return offset
    }

    /// Wakes blocked calls, waits for them to return, then closes the descriptor. Idempotent.
    func close() {
        guard self.gate.beginClose() else { return }
        var one: UInt8 = 1
        _ = Glibc.write(self.wakeWrite, &one, 1)
        self.gate.waitIdle()
        self.onClose?(self.fd)
        Glibc.close(self.fd)
        Glibc.close(self.wakeRead)
        Glibc.close(self.wakeWrite)
    }

    var isClosed: Bool { self.gate.isClosed }
}
