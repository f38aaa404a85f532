import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection (e.g. to an NDI Vega on port 8765). TCP_NODELAY is set so each command leaves
/// at once. A peer that closes the connection makes `read` throw `.disconnected`.
///
/// There is no serial line: `setLineParameters` is accepted and ignored, and `sendBreak` throws
/// `.unsupported`. Threading: see `ByteStream`.
public final class TCPStream: ByteStream {
    private let core: FDStream
    /// The remote address as `host:port`.
    public let remote: String
    /// How long `write` may wait for the socket buffer to drain before throwing `.timeout`.
    public let writeTimeout: Duration

    init(fd: Int32, remote: String, writeTimeout: Duration) throws(TransportError) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        self.core = try FDStream(fd: fd, name: "tcp://\(remote)", isSocket: true)
        self.remote = remote
        self.writeTimeout = writeTimeout
    }

    /// Connects to `host:port` (a name or a numeric IPv4/IPv6 address), trying each address the
    /// resolver returns until one answers within `timeout`.
    ///
    /// Throws `.notFound` when the host is unknown or nothing listens (connection refused,
    /// unreachable), `.timeout` when no address answered in time.
    public static func connect(
        host: String, port: Int, timeout: Duration = .seconds(5), writeTimeout: Duration = .seconds(2)
    ) throws(TransportError) -> TCPStream {
        guard (1...65535).contains(port) else { throw TransportError(.invalidArgument, "TCP port must be 1…65535, got \(port)") }
        let addresses = try resolve(host: host, port: port, passive: false)
        let deadline = ContinuousClock().now.advanced(by: timeout)
        var lastError = TransportError(.notFound, "no address found for \(host)")
        for a in addresses {
            do {
                let fd = try connectOne(a, deadline: deadline, label: "\(host):\(port)")
                return try TCPStream(fd: fd, remote: a.label, writeTimeout: writeTimeout)
            } catch {
                lastError = error
                if error.code == .timeout { break }
            }
        }
        throw lastError
    }

    public func write(_ bytes: [UInt8]) throws(TransportError) {
        try self.core.write(bytes, timeout: self.writeTimeout)
    }

    /// Sends as much of `bytes` as the socket's buffer takes right now, without waiting; returns
    /// how many bytes went (0 when the buffer is full). For a sender that must never block (the
    /// server's frame fan-out), which hands the rest to a thread that may wait.
    public func writeAvailable(_ bytes: [UInt8]) throws(TransportError) -> Int {
        try self.core.writeAvailable(bytes)
    }

    public func read(maxBytes: Int, timeout: Duration) throws(TransportError) -> [UInt8] {
        try self.core.read(maxBytes: maxBytes, timeout: timeout)
    }

    /// Accepted and ignored: a TCP connection has no serial line (still validates the values).
    public func setLineParameters(_ parameters: LineParameters) throws(TransportError) {
        try parameters.validate()
        _ = try self.core.withDescriptor { _ in () }
    }

    /// Throws `.unsupported`: a TCP connection has no serial line to break. (An NDI Vega is reset
    /// over the network by other means.)
    public func sendBreak(duration: Duration) throws(TransportError) {
        throw TransportError(.unsupported, "\(self.description) has no serial line: a break cannot be sent over TCP")
    }

    /// Discards whatever has been received and not read yet (bytes already sent cannot be
    /// recalled on TCP).
    public func purge() throws(TransportError) {
        while try !self.core.read(maxBytes: 4096, timeout: .zero).isEmpty {}
    }

    /// Turns on TCP keepalive so a peer that vanished without closing (a half-open connection:
    /// cable pulled, machine off) is detected: after `idleSeconds` of silence the kernel probes every
    /// `intervalSeconds`, and after `count` unanswered probes reads and writes fail with
    /// `.disconnected`. `TCP_USER_TIMEOUT` bounds unacknowledged sends the same way.
    public func enableKeepAlive(idleSeconds: Int32 = 5, intervalSeconds: Int32 = 1, count: Int32 = 3) throws(TransportError) {
        try self.core.withDescriptor { fd throws(TransportError) in
            let size = socklen_t(MemoryLayout<Int32>.size)
            var one: Int32 = 1
            var idle = idleSeconds
            var interval = intervalSeconds
            var probes = count
            var userTimeout = UInt32((idleSeconds + intervalSeconds * count) * 1000)
            if setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, size) != 0
                || setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, size) != 0
                || setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, &interval, size) != 0
                || setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, &probes, size) != 0
                || setsockopt(fd, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, &userTimeout, socklen_t(MemoryLayout<UInt32>.size)) != 0
            {
                throw posixError("cannot enable keepalive on \(self.description)", errno: errno)
            }
        }
    }

    public func close() { self.core.close() }

    public var hasSerialLine: Bool { false }

    public var description: String { "tcp://\(self.remote)" }

    /// The socket, for tests that inspect its options.
    var fdForTesting: Int32 { self.core.fd }
}

/// A listening TCP socket that accepts `TCPStream`s (used by the mock tracker and by tests).
/// Bind to port 0 to let the system choose a free port, then read `port`.
///
/// `close()` from another thread wakes a pending `accept` (which then throws `.closed`).
public final class TCPListener: Sendable {
    private let core: FDStream
    /// The port actually bound (useful after binding port 0).
    public let port: Int
    /// The local address bound, as given.
    public let host: String

    /// Binds and listens on `host:port` (SO_REUSEADDR set). `host` may be `"127.0.0.1"`, `"::1"`,
    /// `"0.0.0.0"`, `"localhost"` or any name the resolver knows.
    public init(host: String = "127.0.0.1", port: Int = 0, backlog: Int32 = 4) throws(TransportError) {
        guard (0...65535).contains(port) else { throw TransportError(.invalidArgument, "TCP port must be 0…65535, got \(port)") }
        let addresses = try resolve(host: host, port: port, passive: true)
        var lastError = TransportError(.notFound, "no address found for \(host)")
        for a in addresses {
            let fd = socket(a.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 {
                lastError = posixError("cannot create a socket", errno: errno)
                continue
            }
            var one: Int32 = 1
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            let bound = a.storage.withUnsafeBytes { raw in
                bind(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), a.length)
            }
            if bound != 0 || listen(fd, backlog) != 0 {
                lastError = posixError("cannot listen on \(a.label)", errno: errno)
                Glibc.close(fd)
                continue
            }
            var storage = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            _ = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
            }
            self.port = Int(socketPort(storage))
            self.host = host
            self.core = try FDStream(fd: fd, name: "tcp-listener://\(host):\(self.port)", isSocket: true)
            return
        }
        throw lastError
    }

    /// Waits up to `timeout` for a client. Returns `nil` on timeout; throws `.closed` after
    /// `close()`.
    public func accept(timeout: Duration, writeTimeout: Duration = .seconds(2)) throws(TransportError) -> TCPStream? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let accepted: (Int32, String)? = try self.core.withDescriptor { fd throws(TransportError) in
                var storage = sockaddr_storage()
                var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let c = withUnsafeMutablePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(fd, $0, &len) }
                }
                if c >= 0 {
                    _ = fcntl(c, F_SETFD, FD_CLOEXEC)
                    return (c, socketLabel(storage))
                }
                if errno == EAGAIN || errno == EINTR || errno == ECONNABORTED { return nil }
                throw posixError("accept on \(self.core.name) failed", errno: errno)
            }
            if let (fd, label) = accepted { return try TCPStream(fd: fd, remote: label, writeTimeout: writeTimeout) }
            // Nothing pending: wait for a connection (a zero-byte "read" poll on the listener).
            if clock.now >= deadline { return nil }
            _ = try self.core.waitReadable(timeout: clock.now.duration(to: deadline))
        }
    }

    /// Stops listening; wakes a pending `accept`. Idempotent.
    public func close() { self.core.close() }
}

// MARK: - Address helpers

struct ResolvedAddress {
    var family: Int32
    var storage: [UInt8]
    var length: socklen_t
    var label: String
}

/// getaddrinfo for TCP. Throws `.notFound` for unknown hosts.
func resolve(host: String, port: Int, passive: Bool) throws(TransportError) -> [ResolvedAddress] {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = passive ? AI_PASSIVE : 0
    var result: UnsafeMutablePointer<addrinfo>?
    let rc = getaddrinfo(host, String(port), &hints, &result)
    guard rc == 0, let first = result else {
        let text = String(cString: gai_strerror(rc))
        throw TransportError(.notFound, "cannot resolve host \"\(host)\": \(text)", underlying: "EAI \(rc)")
    }
    defer { freeaddrinfo(first) }
    var out: [ResolvedAddress] = []
    var p: UnsafeMutablePointer<addrinfo>? = first
    while let a = p {
        let len = Int(a.pointee.ai_addrlen)
        let bytes = [UInt8](UnsafeRawBufferPointer(start: a.pointee.ai_addr, count: len))
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: bytes) }
        out.append(ResolvedAddress(family: a.pointee.ai_family, storage: bytes, length: a.pointee.ai_addrlen, label: socketLabel(storage)))
        p = a.pointee.ai_next
    }
    return out
}

private func connectOne(_ a: ResolvedAddress, deadline: ContinuousClock.Instant, label: String) throws(TransportError) -> Int32 {
    let fd = socket(a.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    guard fd >= 0 else { throw posixError("cannot create a socket", errno: errno) }
    let rc = a.storage.withUnsafeBytes { raw in
        Glibc.connect(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), a.length)
    }
    if rc == 0 { return fd }
    guard errno == EINPROGRESS else {
        let e = errno
        Glibc.close(fd)
        throw posixError("cannot connect to \(label) (\(a.label))", errno: e)
    }
    let clock = ContinuousClock()
    while true {
        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let left = clock.now.duration(to: deadline)
        let r = poll(&p, 1, milliseconds(left))
        if r < 0 && errno == EINTR { continue }
        if r <= 0 {
            Glibc.close(fd)
            if r == 0 { throw TransportError(.timeout, "connecting to \(label) (\(a.label)) timed out", underlying: "ETIMEDOUT") }
            throw posixError("poll while connecting to \(label)", errno: errno)
        }
        break
    }
    var soError: Int32 = 0
    var len = socklen_t(MemoryLayout<Int32>.size)
    _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
    if soError != 0 {
        Glibc.close(fd)
        throw posixError("cannot connect to \(label) (\(a.label))", errno: soError)
    }
    return fd
}

private func socketPort(_ s: sockaddr_storage) -> UInt16 {
    var s = s
    return withUnsafeBytes(of: &s) { raw -> UInt16 in
        // sin_port and sin6_port are both at offset 2, in network byte order.
        UInt16(raw[2]) << 8 | UInt16(raw[3])
    }
}

func socketLabel(_ s: sockaddr_storage) -> String {
    var s = s
    var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
    let rc = withUnsafePointer(to: &s) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            getnameinfo($0, socklen_t(MemoryLayout<sockaddr_storage>.size), &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST)
        }
    }
    let h = rc == 0 ? String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
    let port = socketPort(s)
    return Int32(s.ss_family) == AF_INET6 ? "[\(h)]:\(port)" : "\(h):\(port)"
}
