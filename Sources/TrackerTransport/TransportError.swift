/// The one error of the transport layer: what went wrong (`code`), a sentence a person can act on
/// (`message`), and the operating system's or libusb's own name for it when there is one
/// (`underlying`, e.g. `"ENOENT"` or `"LIBUSB_ERROR_NO_DEVICE"`).
///
/// `Code` is a struct with static members rather than an enum, so new codes can be added without
/// breaking callers that `switch` on it.
public struct TransportError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What kind of failure this is. Compare with `==` (`error.code == .disconnected`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Sendable {
            case notFound = "not-found"
            case permissionDenied = "permission-denied"
            case busy
            case timeout
            case disconnected
            case closed
            case unsupported
            case invalidArgument = "invalid-argument"
            case io
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The device, file, host or profile does not exist (no such USB device, no such tty, host
        /// unknown, connection refused).
        public static let notFound = Code(.notFound)
        /// The operating system refused access (a USB device without the udev rule, a tty not in
        /// the `dialout` group).
        public static let permissionDenied = Code(.permissionDenied)
        /// Another program or driver holds the device (e.g. the interface is claimed).
        public static let busy = Code(.busy)
        /// An operation that has no "nothing yet" result ran out of time (connect, write).
        /// `read` returns `[]` on timeout instead of throwing this.
        public static let timeout = Code(.timeout)
        /// The device or peer went away: USB unplugged, socket closed by the peer, the other end
        /// of a pipe or pseudo-terminal closed. Reconnect to continue.
        public static let disconnected = Code(.disconnected)
        /// The stream was closed locally with `close()`; it cannot be used again.
        public static let closed = Code(.closed)
        /// The transport cannot do this (a serial break over TCP, a baud rate the platform lacks).
        public static let unsupported = Code(.unsupported)
        /// A parameter is out of range (baud ≤ 0, 9 data bits, a malformed address).
        public static let invalidArgument = Code(.invalidArgument)
        /// Any other input/output failure.
        public static let io = Code(.io)

        /// A short, stable name: `not-found`, `permission-denied`, `busy`, `timeout`,
        /// `disconnected`, `closed`, `unsupported`, `invalid-argument`, `io`.
        public var description: String { self.value.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A sentence saying what failed and, where possible, what to do about it.
    public var message: String
    /// The platform's name for the failure (`"ECONNREFUSED"`, `"LIBUSB_ERROR_ACCESS"`), if any.
    public var underlying: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, underlying: String? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// `"<code>: <message> (<underlying>)"`.
    public var description: String {
        if let underlying { return "\(self.code): \(self.message) (\(underlying))" }
        return "\(self.code): \(self.message)"
    }
}
