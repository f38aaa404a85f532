/// Where the tracker is, as accepted by every command that takes `--tracker`:
///
/// - `ndi-usb://[VID:PID][?serial=…]` — an NDI tracker behind an FTDI USB converter, driven
///   through libusb (default 0403:DA70, the NDI Host USB Converter);
/// - `ndi-serial:///dev/ttyUSB0[?baud=…]` — a serial port (or a converter bound to the kernel's
///   ftdi_sio driver); `baud` caps the rate negotiated with COMM;
/// - `ndi-tcp://HOST:PORT` — a networked tracker such as a Polaris Vega (port 8765 by default);
/// - `mock://PATH/TO/scenario[?seed=N]` — CoilNav's mock tracker in-process, through the same
///   codec and driver;
/// - `replay://FILE[?speed=1]` — a recording (`coilnav record`) played back on its recorded
///   timeline, `speed` times real time (0: as fast as possible).
public enum TrackerURL: Sendable, Equatable, CustomStringConvertible {
    case ndiUSB(vendorID: UInt16, productID: UInt16, serial: String?)
    case ndiSerial(path: String, baud: Int?)
    case ndiTCP(host: String, port: Int)
    case mock(scenarioPath: String, seed: UInt64)
    case replay(path: String, speed: Double)

    public static let ndiHostUSBConverter: (vendorID: UInt16, productID: UInt16) = (0x0403, 0xDA70)
    public static let vegaDefaultPort = 8765

    /// Why a tracker URL was refused.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var url: String
        public var message: String
        public var description: String { "tracker URL \"\(self.url)\": \(self.message)" }
    }

    public init(parsing text: String) throws(ParseError) {
        func fail(_ m: String) -> ParseError { ParseError(url: text, message: m) }
        guard let schemeEnd = text.firstRange(of: "://") else {
            throw fail("expected SCHEME://…, one of ndi-usb, ndi-serial, ndi-tcp, mock, replay")
        }
        let scheme = String(text[..<schemeEnd.lowerBound]).lowercased()
        var rest = String(text[schemeEnd.upperBound...])
        var query: [(String, String)] = []
        if let q = rest.firstIndex(of: "?") {
            for item in rest[rest.index(after: q)...].split(separator: "&") where !item.isEmpty {
                let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard kv.count == 2 else { throw fail("query item \"\(item)\" is not NAME=VALUE") }
                query.append((String(kv[0]), String(kv[1])))
            }
            rest = String(rest[..<q])
        }
        func take(_ allowed: [String]) throws(ParseError) -> [String: String] {
            var d: [String: String] = [:]
            for (k, v) in query {
                guard allowed.contains(k) else {
                    throw fail(
                        "unknown parameter \"\(k)\"" + (allowed.isEmpty ? " (this scheme takes none)" : " (accepted: \(allowed.joined(separator: ", ")))"))
                }
                guard d[k] == nil else { throw fail("parameter \"\(k)\" given twice") }
                d[k] = v
            }
            return d
        }
        switch scheme {
        case "ndi-usb":
            let params = try take(["serial"])
            var vid = Self.ndiHostUSBConverter.vendorID, pid = Self.ndiHostUSBConverter.productID
            if !rest.isEmpty {
                let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2, let v = UInt16(parts[0], radix: 16), let p = UInt16(parts[1], radix: 16), parts[0].count == 4,
                    parts[1].count == 4
                else { throw fail("expected ndi-usb://VID:PID with 4 hex digits each (e.g. 0403:DA70), got \"\(rest)\"") }
                (vid, pid) = (v, p)
            }
            if let s = params["serial"], s.isEmpty { throw fail("serial= is empty") }
            self = .ndiUSB(vendorID: vid, productID: pid, serial: params["serial"])
        case "ndi-serial":
            let params = try take(["baud"])
            guard rest.hasPrefix("/"), rest.count > 1 else {
                throw fail("expected an absolute device path, e.g. ndi-serial:///dev/ttyUSB0")
            }
            var baud: Int?
            if let b = params["baud"] {
                guard let v = Int(b), v > 0 else { throw fail("baud must be a positive integer, got \"\(b)\"") }
                baud = v
            }
            self = .ndiSerial(path: rest, baud: baud)
        case "ndi-tcp":
            _ = try take([])
            var host = rest, port = Self.vegaDefaultPort
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else { throw fail("unterminated IPv6 address") }
                host = String(rest[rest.index(after: rest.startIndex)..<close])
                let after = rest[rest.index(after: close)...]
                if !after.isEmpty {
                    guard after.first == ":", let p = Int(after.dropFirst()) else { throw fail("expected [ADDRESS]:PORT") }
                    port = p
                }
            } else if let colon = rest.lastIndex(of: ":") {
                host = String(rest[..<colon])
                guard let p = Int(rest[rest.index(after: colon)...]) else {
                    throw fail("port must be a number, got \"\(rest[rest.index(after: colon)...])\"")
                }
                port = p
            }
            guard !host.isEmpty else { throw fail("missing host") }
            guard (1...65535).contains(port) else { throw fail("port \(port) is out of range 1–65535") }
            self = .ndiTCP(host: host, port: port)
        case "mock":
            let params = try take(["seed"])
            guard !rest.isEmpty else { throw fail("missing scenario path, e.g. mock://Mock/scenarios/demo-approach.json") }
            var seed: UInt64 = 0
            if let s = params["seed"] {
                guard let v = UInt64(s) else { throw fail("seed must be a non-negative integer, got \"\(s)\"") }
                seed = v
            }
            self = .mock(scenarioPath: rest, seed: seed)
        case "replay":
            let params = try take(["speed"])
            guard !rest.isEmpty else { throw fail("missing recording path") }
            var speed = 1.0
            if let s = params["speed"] {
                guard let v = Double(s), v.isFinite, v >= 0 else { throw fail("speed must be a number ≥ 0 (0 = as fast as possible), got \"\(s)\"") }
                speed = v
            }
            self = .replay(path: rest, speed: speed)
        default:
            throw fail("unknown scheme \"\(scheme)\"; expected ndi-usb, ndi-serial, ndi-tcp, mock or replay")
        }
    }

    public var description: String {
        func hex(_ v: UInt16) -> String {
            let s = String(v, radix: 16, uppercase: true)
            return String(repeating: "0", count: 4 - s.count) + s
        }
        switch self {
        case .ndiUSB(let v, let p, let serial): return "ndi-usb://\(hex(v)):\(hex(p))" + (serial.map { "?serial=\($0)" } ?? "")
        case .ndiSerial(let path, let baud): return "ndi-serial://\(path)" + (baud.map { "?baud=\($0)" } ?? "")
        case .ndiTCP(let host, let port): return "ndi-tcp://" + (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
        case .mock(let path, let seed): return "mock://\(path)?seed=\(seed)"
        case .replay(let path, let speed): return "replay://\(path)?speed=\(speed)"
        }
    }
}
