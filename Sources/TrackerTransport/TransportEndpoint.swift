import Foundation

import TrackerCore

/// Where a tracker's byte stream is: the transport part of a `TrackerURL` (the one parser of
/// tracker URLs, in TrackerCore):
///
/// - `ndi-usb://` or `ndi-usb://VID:PID` (hex, default 0403:da70), optional `?serial=S`
/// - `ndi-serial:///dev/ttyUSB0`, optional `?baud=N`: the port is opened at N (default 9600); the
///   NDI driver then sets 9600 for INIT and uses N as the cap of the rate it negotiates with COMM
/// - `ndi-tcp://HOST:PORT` (port default 8765; IPv6 as `[::1]:8765`)
///
/// `mock://` and `replay://` URLs are not transports and are left to the caller (`init` throws
/// `.unsupported`).
public enum TransportEndpoint: Sendable, Hashable, CustomStringConvertible {
    case ftdiUSB(vendorId: UInt16, productId: UInt16, serialNumber: String?)
    case serial(path: String, baud: Int)
    case tcp(host: String, port: Int)

    /// The transport of a parsed tracker URL. Throws `.unsupported` for `mock://` and `replay://`.
    public init(_ url: TrackerURL) throws(TransportError) {
        switch url {
        case .ndiUSB(let v, let p, let serial):
            self = .ftdiUSB(vendorId: v, productId: p, serialNumber: serial)
        case .ndiSerial(let path, let baud):
            self = .serial(path: path, baud: baud ?? 9600)
        case .ndiTCP(let host, let port):
            self = .tcp(host: host, port: port)
        case .mock, .replay:
            throw TransportError(
                .unsupported, "tracker URL \"\(url)\" is not a transport (ndi-usb, ndi-serial, ndi-tcp)")
        }
    }

    /// Parses a tracker URL with `TrackerURL(parsing:)`. Throws `.invalidArgument` with the
    /// parser's message naming the bad part, `.unsupported` for `mock://` and `replay://`.
    public init(url: String) throws(TransportError) {
        let parsed: TrackerURL
        do {
            parsed = try TrackerURL(parsing: url)
        } catch {
            throw TransportError(.invalidArgument, error.description)
        }
        try self.init(parsed)
    }

    /// Opens the stream: FTDI over libusb set up at 9600 8N1, a serial port at the URL's rate
    /// 8N1, or a TCP connection (5 s connect timeout).
    public func open() throws(TransportError) -> any ByteStream {
        switch self {
        case .ftdiUSB(let v, let p, let s):
            return try FTDIUSBStream.open(FTDIUSBStream.Options(vendorId: v, productId: p, serialNumber: s))
        case .serial(let path, let baud):
            return try SerialStream(path: path, parameters: LineParameters(baud: baud))
        case .tcp(let host, let port):
            return try TCPStream.connect(host: host, port: port)
        }
    }

    /// The canonical URL.
    public var description: String {
        switch self {
        case .ftdiUSB(let v, let p, let s):
            return String(format: "ndi-usb://%04x:%04x", v, p) + (s.map { "?serial=\($0)" } ?? "")
        case .serial(let path, let baud): return "ndi-serial://\(path)" + (baud == 9600 ? "" : "?baud=\(baud)")
        case .tcp(let host, let port): return host.contains(":") ? "ndi-tcp://[\(host)]:\(port)" : "ndi-tcp://\(host):\(port)"
        }
    }
}
