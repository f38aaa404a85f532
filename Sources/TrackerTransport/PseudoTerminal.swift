import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A pseudo-terminal pair for a serial-like mock: the mock tracker reads and writes `master`, and
/// the program under test opens `slavePath` with `SerialStream` as if it were `/dev/ttyUSB0`.
///
/// The slave side is put in raw mode at creation (no echo, no line editing), and this object keeps
/// its own slave descriptor open until `close()`. That way the master does not see a hang-up
/// before a client has opened the slave, nor between two clients (a client may close and reopen
/// the port, as a driver does when it reconnects). The consequence: the master never sees
/// `.disconnected` when a client closes; closing the master (`close()`), on the other hand, makes
/// the client's reads throw `.disconnected` (Linux returns EIO on the slave).
///
/// Whatever the client sets with `setLineParameters` is visible through `clientBaud()`. A break sent
/// by the client is not: Linux pseudo-terminals have no break operation.
public final class PseudoTerminal: Sendable {
    /// The master side, for the mock tracker. It has no serial line of its own.
    public let master: any ByteStream
    /// The path of the slave side, e.g. `/dev/pts/7`.
    public let slavePath: String
    private let slaveFD: Int32
    private let closedFlag = Locked(false)

    /// Opens a new pseudo-terminal (posix_openpt, grantpt, unlockpt).
    public init() throws(TransportError) {
        // posix_openpt/unlockpt/ptsname are hidden by glibc's headers without _XOPEN_SOURCE; on
        // Linux they are exactly: open /dev/ptmx, TIOCSPTLCK(0), TIOCGPTN -> /dev/pts/N (grantpt
        // is a no-op with devpts).
        let m = Glibc.open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard m >= 0 else { throw posixError("cannot open a pseudo-terminal (/dev/ptmx)", errno: errno) }
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard ioctl(m, PTY.TIOCSPTLCK, &unlock) == 0, ioctl(m, PTY.TIOCGPTN, &number) == 0 else {
            let e = errno
            Glibc.close(m)
            throw posixError("cannot unlock the pseudo-terminal", errno: e)
        }
        let path = "/dev/pts/\(number)"
        let s = Glibc.open(path, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK)
        guard s >= 0 else {
            let e = errno
            Glibc.close(m)
            throw posixError("cannot open the pseudo-terminal slave \(path)", errno: e)
        }
        do {
            try configureRawTerminal(fd: s, parameters: .ndiDefault, name: path)
        } catch {
            Glibc.close(s)
            Glibc.close(m)
            throw error
        }
        self.slavePath = path
        self.slaveFD = s
        self.master = try PseudoTerminalMaster(core: FDStream(fd: m, name: "pty-master:\(path)", isSocket: false), slavePath: path)
    }

    deinit {
        self.close()
    }

    /// The baud rate the client last set on the slave side (termios2 on Linux), or `nil` when it
    /// cannot be read.
    public func clientBaud() -> Int? {
        self.closedFlag.withLock { closed -> Int? in
            if closed { return nil }
            return Termios2.outputSpeed(fd: self.slaveFD)
        }
    }

    /// Closes the master (a client's reads on the slave then throw `.disconnected`) and this
    /// object's slave descriptor. Idempotent.
    public func close() {
        let first = self.closedFlag.withLock { closed -> Bool in
            if closed { return false }
            closed = true
            return true
        }
        guard first else { return }
        self.master.close()
        Glibc.close(self.slaveFD)
    }
}

/// The master side of a `PseudoTerminal`.
final class PseudoTerminalMaster: ByteStream {
    private let core: FDStream
    private let slavePath: String

    init(core: FDStream, slavePath: String) {
        self.core = core
        self.slavePath = slavePath
    }

    func write(_ bytes: [UInt8]) throws(TransportError) { try self.core.write(bytes, timeout: .seconds(2)) }

    func read(maxBytes: Int, timeout: Duration) throws(TransportError) -> [UInt8] {
        try self.core.read(maxBytes: maxBytes, timeout: timeout)
    }

    /// Accepted and ignored: the master side has no line of its own (the client sets the slave's).
    func setLineParameters(_ parameters: LineParameters) throws(TransportError) {
        try parameters.validate()
        _ = try self.core.withDescriptor { _ in () }
    }

    func sendBreak(duration: Duration) throws(TransportError) {
        throw TransportError(.unsupported, "the master side of a pseudo-terminal cannot send a break")
    }

    func purge() throws(TransportError) {
        try self.core.withDescriptor { fd throws(TransportError) in
            if tcflush(fd, TCIOFLUSH) != 0 { throw posixError("cannot flush \(self.description)", errno: errno) }
        }
    }

    func close() { self.core.close() }

    var hasSerialLine: Bool { false }

    var description: String { "pty-master:\(self.slavePath)" }
}

/// Pseudo-terminal ioctls (asm-generic values: x86, x86-64, ARM, AArch64, RISC-V).
enum PTY {
    /// _IOW('T', 0x31, int): lock (1) or unlock (0) the slave.
    static let TIOCSPTLCK: UInt = 0x4004_5431
    /// _IOR('T', 0x30, unsigned int): the slave's number N in /dev/pts/N.
    static let TIOCGPTN: UInt = 0x8004_5430
}
