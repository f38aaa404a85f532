import Foundation

/// Where a tracker's byte stream is, parsed from the transport part of a tracker URL:
///
/// - `ndi-usb://` or `ndi-usb://VID:PID` (hex, default 0403:da70), optional `?serial=S`
/// - `ndi-serial:///dev/ttyUSB0`, optional `?baud=N` (the rate to open at; default 9600)
/// - `ndi-tcp://HOST:PORT` (port default 8765; IPv6 as `[::1]:8765`)
///
/// `mock://` URLs are not transports and are left to the caller (`init` throws `.unsupported`).
public enum TransportEndpoint: Sendable, Hashable, CustomStringConvertible {
    case ftdiUSB(vendorId: UInt16, productId: UInt16, serialNumber: String?)
    case serial(path: String, baud: Int)
    case tcp(host: String, port: Int)

    /// Parses a tracker URL. Throws `.invalidArgument` with a message naming the bad part.
    public init(url: String) throws(TransportError) {
        func bad(_ why: String) -> TransportError { TransportError(.invalidArgument, "tracker URL \"\(url)\": \(why)") }
        guard let schemeEnd = url.range(of: "://") else { throw bad("expected SCHEME://…") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = String(url[schemeEnd.upperBound...])
        var query: [String: String] = [:]
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2, !kv[0].isEmpty else { throw bad("malformed query item \"\(pair)\"") }
                query[kv[0]] = kv[1].removingPercentEncoding ?? kv[1]
            }
            rest = String(rest[..<q])
        }
        func only(_ allowed: Set<String>) throws(TransportError) {
            for k in query.keys.sorted() where !allowed.contains(k) { throw bad("unknown parameter \"\(k)\"") }
        }
        switch scheme {
        case "ndi-usb":
            try only(["serial"])
            if rest.isEmpty || rest == "/" {
                self = .ftdiUSB(vendorId: 0x0403, productId: 0xDA70, serialNumber: query["serial"])
                return
            }
            let ids = rest.trimmingCharacters(in: CharacterSet(charactersIn: "/")).split(separator: ":")
            guard ids.count == 2, ids.allSatisfy({ $0.count == 4 }), let v = UInt16(ids[0], radix: 16),
                let p = UInt16(ids[1], radix: 16)
            else { throw bad("expected VID:PID as 4 hex digits each, e.g. 0403:da70") }
            self = .ftdiUSB(vendorId: v, productId: p, serialNumber: query["serial"])
        case "ndi-serial":
            try only(["baud"])
            guard rest.hasPrefix("/"), rest.count > 1 else { throw bad("expected a device path, e.g. ndi-serial:///dev/ttyUSB0") }
            var baud = 9600
            if let b = query["baud"] {
                guard let n = Int(b), n > 0 else { throw bad("baud must be a positive integer, got \"\(b)\"") }
                baud = n
            }
            self = .serial(path: rest, baud: baud)
        case "ndi-tcp":
            try only([])
            var host = rest.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            var port = 8765
            if host.hasPrefix("[") {
                guard let close = host.firstIndex(of: "]") else { throw bad("unclosed [ in an IPv6 address") }
                let after = host[host.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw bad("port must be 1…65535") }
                    port = p
                } else if !after.isEmpty {
                    throw bad("unexpected \"\(after)\" after the address")
                }
                host = String(host[host.index(after: host.startIndex)..<close])
            } else if let colon = host.lastIndex(of: ":") {
                guard let p = Int(host[host.index(after: colon)...]), (1...65535).contains(p) else { throw bad("port must be 1…65535") }
                port = p
                host = String(host[..<colon])
            }
            guard !host.isEmpty else { throw bad("expected HOST:PORT, e.g. ndi-tcp://192.168.1.20:8765") }
            self = .tcp(host: host, port: port)
        default:
            throw TransportError(.unsupported, "tracker URL \"\(url)\": scheme \"\(scheme)\" is not a transport (ndi-usb, ndi-serial, ndi-tcp)")
        }
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
