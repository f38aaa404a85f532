/// A bidirectional byte stream to a tracker: FTDI over libusb, a serial port, a TCP socket, a
/// pseudo-terminal or an in-memory pipe. It moves bytes and sets line parameters; it knows
/// nothing about the protocol spoken over it.
///
/// ### Threading
/// Every call blocks the calling thread (bounded by its timeout), so a driver owns a dedicated
/// thread for `read`/`write`. All implementations are safe to use from several threads:
/// - one thread may `read` while another `write`s;
/// - `close()` may be called from any thread at any time. It wakes a pending `read` promptly
///   (the pending call throws `.closed`), waits for calls in flight to return, then releases the
///   device. Every call after `close()` throws `.closed`; `close()` itself is idempotent.
///
/// ### Errors
/// `read` returns `[]` when nothing arrived before the timeout. A device or peer that went away
/// (USB unplug, peer closed the socket, the other end of a pipe or pseudo-terminal closed) throws
/// `TransportError` with code `.disconnected`: the stream is then dead and a driver reconnects.
public protocol ByteStream: AnyObject, Sendable {
    /// Writes all of `bytes`, or throws. Returns once the bytes are handed to the operating system
    /// or device (not necessarily on the wire).
    func write(_ bytes: [UInt8]) throws(TransportError)

    /// Returns between 1 and `maxBytes` bytes as soon as any are available, or `[]` if none
    /// arrived within `timeout`. Throws `.disconnected` when the device or peer is gone and
    /// `.closed` after (or during) `close()`.
    func read(maxBytes: Int, timeout: Duration) throws(TransportError) -> [UInt8]

    /// Sets the serial line: baud rate, data bits (5…8), parity, stop bits (1 or 2), RTS/CTS
    /// hardware flow control. Streams without a serial line (TCP, in-memory pipes) accept and
    /// ignore the call, so a driver can run the same start-up on every transport; they report this
    /// through `hasSerialLine`.
    func setLineParameters(_ parameters: LineParameters) throws(TransportError)

    /// Holds the line in the break state for about `duration` (the NDI "reset"). Throws
    /// `.unsupported` on streams that have no serial line.
    func sendBreak(duration: Duration) throws(TransportError)

    /// Discards bytes received but not yet read and bytes written but not yet sent.
    func purge() throws(TransportError)

    /// Closes the stream; see "Threading". Idempotent.
    func close()

    /// `true` when the stream has a real serial line (baud rate and break matter).
    var hasSerialLine: Bool { get }

    /// Says what the stream is connected to, e.g. `"tcp://127.0.0.1:8765"`, `"serial:/dev/ttyUSB0"`.
    var description: String { get }
}

extension ByteStream {
    /// Sets the serial line parameters (see `setLineParameters(_:)`).
    public func setLineParameters(
        baud: Int, dataBits: Int = 8, parity: Parity = .none, stopBits: Int = 1, rtsCts: Bool = false
    ) throws(TransportError) {
        try self.setLineParameters(
            LineParameters(baud: baud, dataBits: dataBits, parity: parity, stopBits: stopBits, rtsCts: rtsCts))
    }

    /// Reads until `count` bytes have arrived or `timeout` has passed; returns what arrived (fewer
    /// than `count` bytes only on timeout).
    public func read(exactly count: Int, timeout: Duration) throws(TransportError) -> [UInt8] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            let left = clock.now.duration(to: deadline)
            if left <= .zero { break }
            out += try self.read(maxBytes: count - out.count, timeout: left)
        }
        return out
    }
}

/// Serial parity.
public enum Parity: String, Sendable, Hashable, CaseIterable {
    case none, odd, even
}

/// The parameters of a serial line. The NDI power-up default is 9600 8N1 without handshake
/// (`LineParameters.ndiDefault`).
public struct LineParameters: Sendable, Hashable, CustomStringConvertible {
    /// Bits per second.
    public var baud: Int
    /// 5, 6, 7 or 8.
    public var dataBits: Int
    /// None, odd or even.
    public var parity: Parity
    /// 1 or 2.
    public var stopBits: Int
    /// RTS/CTS hardware handshake.
    public var rtsCts: Bool

    /// Creates line parameters (8N1, no handshake unless told otherwise).
    public init(baud: Int, dataBits: Int = 8, parity: Parity = .none, stopBits: Int = 1, rtsCts: Bool = false) {
        self.baud = baud
        self.dataBits = dataBits
        self.parity = parity
        self.stopBits = stopBits
        self.rtsCts = rtsCts
    }

    /// 9600 8N1, no handshake: NDI trackers at power-up and after a reset.
    public static let ndiDefault = LineParameters(baud: 9600)

    /// Throws `.invalidArgument` unless every field is in range.
    public func validate() throws(TransportError) {
        guard self.baud > 0 else { throw TransportError(.invalidArgument, "baud rate must be positive, got \(self.baud)") }
        guard (5...8).contains(self.dataBits) else {
            throw TransportError(.invalidArgument, "data bits must be 5…8, got \(self.dataBits)")
        }
        guard self.stopBits == 1 || self.stopBits == 2 else {
            throw TransportError(.invalidArgument, "stop bits must be 1 or 2, got \(self.stopBits)")
        }
    }

    /// E.g. `"115200 8N1"`, `"9600 7E2 RTS/CTS"`.
    public var description: String {
        let p: String
        switch self.parity {
        case .none: p = "N"
        case .odd: p = "O"
        case .even: p = "E"
        }
        return "\(self.baud) \(self.dataBits)\(p)\(self.stopBits)\(self.rtsCts ? " RTS/CTS" : "")"
    }
}
