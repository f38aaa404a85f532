import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A POSIX serial port: `/dev/ttyUSB*` (an FTDI converter bound to the kernel's ftdi_sio driver),
/// `/dev/ttyS*`, or the slave side of a pseudo-terminal.
///
/// The port is opened non-blocking, exclusive (TIOCEXCL) and without becoming the controlling
/// terminal, and set to raw mode: no echo, no line editing, no CR/LF translation, no software flow
/// control, receiver on, modem lines ignored (CLOCAL).
///
/// ### Baud rates
/// Rates with a termios constant (9600 … 921600, 1000000, …) go through `cfsetspeed`. Others —
/// NDI's 14400 and 1228739 — use Linux's `termios2` with `BOTHER`, which lets the driver choose the
/// nearest divisor (ftdi_sio does; a pseudo-terminal stores the number as is). `actualBaud()`
/// reads back what the driver accepted.
///
/// Note: for NDI's own product ids, ftdi_sio maps a requested 19200 baud to 1 200 000 baud (a
/// kernel quirk for systems without a 1.2 Mbaud constant), so over `/dev/ttyUSB*` "19200" is really
/// 1.2 Mbaud. Prefer `FTDIUSBStream`, which programs the divisor directly.
///
/// ### Break
/// `sendBreak(duration:)` sets the break condition (TIOCSBRK), sleeps, and clears it (TIOCCBRK),
/// falling back to `tcsendbreak(fd, 0)` (0.25–0.5 s) when the driver lacks those ioctls. On a
/// Linux pseudo-terminal the call succeeds but nothing reaches the master side: the pty driver has
/// no break operation, so a mock on a pty cannot observe a break.
///
/// Threading: see `ByteStream`.
public final class SerialStream: ByteStream {
    private let core: FDStream
    /// The device path.
    public let path: String
    /// How long `write` may wait for the output buffer to drain before throwing `.timeout`.
    public let writeTimeout: Duration
    private let state = Locked<LineParameters>(.ndiDefault)

    /// Opens `path` and sets `parameters` (default 9600 8N1, the NDI power-up setting), then
    /// discards anything already buffered.
    ///
    /// Throws `.notFound` (no such device), `.permissionDenied` (add the user to the `dialout`
    /// group), `.busy` (another program has it open exclusively), `.unsupported` (not a terminal).
    public init(
        path: String, parameters: LineParameters = .ndiDefault, writeTimeout: Duration = .seconds(2)
    ) throws(TransportError) {
        try parameters.validate()
        let fd = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            var err = posixError("cannot open serial port \(path)", errno: e)
            if e == EACCES { err.message += " — add the user to the 'dialout' group or install the udev rule in Devices/udev" }
            throw err
        }
        guard isatty(fd) != 0 else {
            Glibc.close(fd)
            throw TransportError(.unsupported, "\(path) is not a serial port or terminal", underlying: "ENOTTY")
        }
        if ioctl(fd, UInt(TIOCEXCL)) != 0 {
            // Not fatal: some drivers do not support exclusive mode.
        }
        var saved = termios()
        let haveSaved = tcgetattr(fd, &saved) == 0
        let savedCopy = saved
        self.core = try FDStream(fd: fd, name: "serial:\(path)", isSocket: false) { fd in
            _ = ioctl(fd, UInt(TIOCNXCL))
            if haveSaved {
                var t = savedCopy
                _ = tcsetattr(fd, TCSANOW, &t)
            }
        }
        self.path = path
        self.writeTimeout = writeTimeout
        do {
            try self.applyLine(parameters, fd: fd)
            _ = tcflush(fd, TCIOFLUSH)
        } catch {
            self.core.close()
            throw error
        }
    }

    public func write(_ bytes: [UInt8]) throws(TransportError) {
        try self.core.write(bytes, timeout: self.writeTimeout)
    }

    public func read(maxBytes: Int, timeout: Duration) throws(TransportError) -> [UInt8] {
        try self.core.read(maxBytes: maxBytes, timeout: timeout)
    }

    public func setLineParameters(_ parameters: LineParameters) throws(TransportError) {
        try parameters.validate()
        try self.core.withDescriptor { fd throws(TransportError) in try self.applyLine(parameters, fd: fd) }
    }

    /// The line parameters last set.
    public var lineParameters: LineParameters { self.state.value }

    /// The output baud rate the driver reports now (via termios2 on Linux), or `nil` when it
    /// cannot be read.
    public func actualBaud() throws(TransportError) -> Int? {
        try self.core.withDescriptor { fd in Termios2.outputSpeed(fd: fd) }
    }

    public func sendBreak(duration: Duration) throws(TransportError) {
        try self.core.withDescriptor { fd throws(TransportError) in
            if ioctl(fd, UInt(TIOCSBRK)) == 0 {
                Thread.sleep(forTimeInterval: max(0, duration.inSeconds))
                if ioctl(fd, UInt(TIOCCBRK)) != 0 { throw posixError("cannot clear the break on \(self.path)", errno: errno) }
                return
            }
            if tcsendbreak(fd, 0) != 0 { throw posixError("cannot send a break on \(self.path)", errno: errno) }
        }
    }

    public func purge() throws(TransportError) {
        try self.core.withDescriptor { fd throws(TransportError) in
            if tcflush(fd, TCIOFLUSH) != 0 { throw posixError("cannot flush \(self.path)", errno: errno) }
        }
    }

    public func close() { self.core.close() }

    public var hasSerialLine: Bool { true }

    public var description: String { "serial:\(self.path)" }

    private func applyLine(_ p: LineParameters, fd: Int32) throws(TransportError) {
        try configureRawTerminal(fd: fd, parameters: p, name: self.path)
        self.state.value = p
    }
}

/// Puts the terminal `fd` in raw mode with `parameters` (see `SerialStream`).
func configureRawTerminal(fd: Int32, parameters p: LineParameters, name: String) throws(TransportError) {
    var t = termios()
    guard tcgetattr(fd, &t) == 0 else { throw posixError("cannot read the settings of \(name)", errno: errno) }
    cfmakeraw(&t)
    t.c_iflag &= ~(tcflag_t(IXON) | tcflag_t(IXOFF) | tcflag_t(IXANY) | tcflag_t(INPCK) | tcflag_t(ISTRIP))
    t.c_cflag &= ~(tcflag_t(CSIZE) | tcflag_t(PARENB) | tcflag_t(PARODD) | tcflag_t(CSTOPB) | tcflag_t(CRTSCTS))
    t.c_cflag |= tcflag_t(CLOCAL) | tcflag_t(CREAD)
    switch p.dataBits {
    case 5: t.c_cflag |= tcflag_t(CS5)
    case 6: t.c_cflag |= tcflag_t(CS6)
    case 7: t.c_cflag |= tcflag_t(CS7)
    default: t.c_cflag |= tcflag_t(CS8)
    }
    switch p.parity {
    case .none: break
    case .even: t.c_cflag |= tcflag_t(PARENB)
    case .odd: t.c_cflag |= tcflag_t(PARENB) | tcflag_t(PARODD)
    }
    if p.stopBits == 2 { t.c_cflag |= tcflag_t(CSTOPB) }
    if p.rtsCts { t.c_cflag |= tcflag_t(CRTSCTS) }
    // Non-blocking reads are driven by poll(2): return whatever is there.
    withUnsafeMutableBytes(of: &t.c_cc) { cc in
        cc[Int(VMIN)] = 0
        cc[Int(VTIME)] = 0
    }
    let standard = standardSpeed(p.baud)
    if let s = standard {
        cfsetispeed(&t, s)
        cfsetospeed(&t, s)
    } else {
        // Set a placeholder; the real rate goes in through termios2 below.
        cfsetispeed(&t, speed_t(B38400))
        cfsetospeed(&t, speed_t(B38400))
    }
    guard tcsetattr(fd, TCSANOW, &t) == 0 else { throw posixError("cannot configure \(name) as \(p)", errno: errno) }
    if standard == nil {
        try Termios2.setCustomSpeed(fd: fd, baud: p.baud, name: name)
    }
}

/// The termios speed constant for `baud`, or nil when there is none.
func standardSpeed(_ baud: Int) -> speed_t? {
    let table: [Int: Int32] = [
        50: B50, 75: B75, 110: B110, 134: B134, 150: B150, 200: B200, 300: B300, 600: B600, 1200: B1200,
        1800: B1800, 2400: B2400, 4800: B4800, 9600: B9600, 19200: B19200, 38400: B38400, 57600: B57600,
        115200: B115200, 230400: B230400, 460800: B460800, 500000: B500000, 576000: B576000, 921600: B921600,
        1_000_000: B1000000, 1_152_000: B1152000, 1_500_000: B1500000, 2_000_000: B2000000,
        2_500_000: B2500000, 3_000_000: B3000000, 3_500_000: B3500000, 4_000_000: B4000000,
    ]
    return table[baud].map { speed_t($0) }
}

/// Linux `struct termios2` (asm-generic layout: x86, x86-64, ARM, AArch64, RISC-V), which glibc's
/// <termios.h> does not expose. Handled as 44 raw bytes: four 32-bit flag words, c_line, 19 c_cc
/// bytes, then c_ispeed and c_ospeed at offsets 36 and 40.
enum Termios2 {
    #if os(Linux) && (arch(x86_64) || arch(arm64) || arch(i386) || arch(arm))
    static let supported = true
    #else
    static let supported = false
    #endif
    static let size = 44
    /// _IOR('T', 0x2A, struct termios2) and _IOW('T', 0x2B, struct termios2).
    static let TCGETS2: UInt = 0x802C_542A
    static let TCSETS2: UInt = 0x402C_542B
    static let CBAUD: UInt32 = 0o010017
    static let BOTHER: UInt32 = 0o010000
    static let IBSHIFT: UInt32 = 16
    static let cflagOffset = 8
    static let ispeedOffset = 36
    static let ospeedOffset = 40

    static func get(fd: Int32) -> [UInt8]? {
        guard supported else { return nil }
        var raw = [UInt8](repeating: 0, count: size)
        let rc = raw.withUnsafeMutableBytes { ioctl(fd, TCGETS2, $0.baseAddress!) }
        return rc == 0 ? raw : nil
    }

    static func outputSpeed(fd: Int32) -> Int? {
        guard let raw = get(fd: fd) else { return nil }
        return Int(word(raw, ospeedOffset))
    }

    static func setCustomSpeed(fd: Int32, baud: Int, name: String) throws(TransportError) {
        guard supported, var raw = get(fd: fd) else {
            throw TransportError(
                .unsupported, "\(name): \(baud) baud has no termios constant and termios2 is not available on this platform")
        }
        var cflag = word(raw, cflagOffset)
        cflag &= ~(CBAUD | (CBAUD << IBSHIFT))
        cflag |= BOTHER | (BOTHER << IBSHIFT)
        setWord(&raw, cflagOffset, cflag)
        setWord(&raw, ispeedOffset, UInt32(baud))
        setWord(&raw, ospeedOffset, UInt32(baud))
        let rc = raw.withUnsafeMutableBytes { ioctl(fd, TCSETS2, $0.baseAddress!) }
        if rc != 0 { throw posixError("\(name): the driver refused \(baud) baud", errno: errno) }
    }

    private static func word(_ raw: [UInt8], _ at: Int) -> UInt32 {
        UInt32(raw[at]) | UInt32(raw[at + 1]) << 8 | UInt32(raw[at + 2]) << 16 | UInt32(raw[at + 3]) << 24
    }

    private static func setWord(_ raw: inout [UInt8], _ at: Int, _ v: UInt32) {
        for i in 0..<4 { raw[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }
}

/// A value behind a lock.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: Value
    init(_ value: Value) { self._value = value }
    var value: Value {
        get { self.lock.withLock { self._value } }
        set { self.lock.withLock { self._value = newValue } }
    }
    func withLock<T, E: Error>(_ body: (inout Value) throws(E) -> T) throws(E) -> T {
        self.lock.lock()
        defer { self.lock.unlock() }
        return try body(&self._value)
    }
}
