import Foundation

/// What CoilNav knows about one kind of tracker connection, read from a JSON file in `Devices/`
/// (format in `Devices/README.md`): how to reach it (transport, USB ids or TCP port), its serial
/// rates, its nominal frame rate and how its tools are set up.
public struct DeviceProfile: Sendable, Hashable, Codable {
    /// How the tracker is connected.
    public enum Transport: String, Sendable, Hashable, Codable, CaseIterable {
        /// An FTDI USB-serial chip driven through libusb (`FTDIUSBStream`).
        case ftdiUSB = "ftdi-usb"
        /// A serial port (`SerialStream`): /dev/ttyUSB*, /dev/ttyS*.
        case serial
        /// TCP (`TCPStream`), e.g. a Vega on port 8765.
        case tcp
    }

    /// How tool handles are obtained (NDI Combined API).
    public enum ToolSetup: String, Sendable, Hashable, Codable, CaseIterable {
        /// Passive (and active wireless) tools: the host requests a handle (PHRQ) and uploads the
        /// tool-definition ROM in 64-byte chunks (PVWR), then PINIT and PENA.
        case romUpload = "rom-upload-pvwr"
        /// Wired (active) tools: the tool carries its SROM; the host lists handles with PHSR, then
        /// PINIT and PENA.
        case wiredPHSR = "wired-phsr"
    }

    /// The file name without `.json`, e.g. `"ndi-host-usb-converter"`.
    public var id: String
    /// A name for people.
    public var name: String
    public var transport: Transport
    /// USB vendor and product id (ftdi-usb; optional for serial, where they identify the adapter).
    public var vendorId: UInt16?
    public var productId: UInt16?
    /// The rate at power-up and after a reset (serial and USB; NDI: 9600).
    public var defaultBaud: Int?
    /// The rate the driver switches to with COMM (serial and USB).
    public var fastestBaud: Int?
    /// TCP port (tcp).
    public var tcpPort: Int?
    /// Nominal frame rate in Hz (the device's BX frame counter gives the real one).
    public var frameRateHz: Double
    /// How tools are set up, in the order a driver should try them.
    public var toolSetup: [ToolSetup]
    /// Anything else worth knowing.
    public var notes: String
    /// The file the profile was read from.
    public var file: String

    /// `"0403:da70"`, or nil without USB ids.
    public var usbID: String? {
        guard let v = self.vendorId, let p = self.productId else { return nil }
        return String(format: "%04x:%04x", v, p)
    }

    /// The NDI COMM baud digit for `fastestBaud` (`"5"` for 115200, `"7"` for 1228739), or nil.
    public var fastestCommRateCode: Character? { self.fastestBaud.flatMap(DeviceProfile.ndiCommRateCode(baud:)) }

    /// The COMM rate digit for a baud rate (protocols.md §1.3): 0=9600, 1=14400, 2=19200,
    /// 3=38400, 4=57600, 5=115200, 6=921600, 7=1228739, A=230400.
    public static func ndiCommRateCode(baud: Int) -> Character? {
        switch baud {
        case 9600: return "0"
        case 14400: return "1"
        case 19200: return "2"
        case 38400: return "3"
        case 57600: return "4"
        case 115_200: return "5"
        case 921_600: return "6"
        case 1_228_739: return "7"
        case 230_400: return "A"
        default: return nil
        }
    }

    /// Whether this profile describes the USB device `vendorId:productId`.
    public func matches(vendorId: UInt16, productId: UInt16) -> Bool {
        self.vendorId == vendorId && self.productId == productId
    }
}

/// A profile file that could not be used: which file, which field, and why.
public struct DeviceProfileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file's path.
    public var file: String
    /// The offending field, if the problem is in one (e.g. `"vendorId"`, `"toolSetup[1]"`).
    public var field: String?
    public var message: String

    public init(file: String, field: String? = nil, message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    /// `"<file>: field \"<field>\": <message>"`.
    public var description: String {
        if let field { return "\(self.file): field \"\(field)\": \(self.message)" }
        return "\(self.file): \(self.message)"
    }
}

/// Loading and looking up device profiles.
public enum DeviceProfiles {
    /// Reads every `*.json` file in `directory` (not recursive), sorted by name. Throws for the first
    /// file that is not a valid profile, for two profiles with the same USB ids, and for a folder
    /// with no profile at all.
    public static func load(directory: String) throws(DeviceProfileError) -> [DeviceProfile] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw DeviceProfileError(file: directory, message: "cannot list the profiles folder: \(error.localizedDescription)")
        }
        var profiles: [DeviceProfile] = []
        for name in names.sorted() where name.hasSuffix(".json") {
            let path = (directory as NSString).appendingPathComponent(name)
            profiles.append(try self.load(file: path))
        }
        guard !profiles.isEmpty else { throw DeviceProfileError(file: directory, message: "no device profile (*.json) in this folder") }
        var seen: [String: String] = [:]
        for p in profiles {
            guard let id = p.usbID, p.transport == .ftdiUSB else { continue }
            if let other = seen[id] {
                throw DeviceProfileError(file: p.file, field: "productId", message: "USB id \(id) is already used by \(other)")
            }
            seen[id] = p.file
        }
        return profiles
    }

    /// Reads one profile file.
    public static func load(file: String) throws(DeviceProfileError) -> DeviceProfile {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw DeviceProfileError(file: file, message: "cannot read the file")
        }
        let id = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        return try self.parse(data, id: id, file: file)
    }

    /// Parses a profile from JSON bytes. `id` is normally the file name without `.json`.
    public static func parse(_ data: Data, id: String, file: String) throws(DeviceProfileError) -> DeviceProfile {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw DeviceProfileError(file: file, message: "not valid JSON (\(describe(error)))")
        }
        guard case .object(let o) = root else { throw DeviceProfileError(file: file, message: "expected a JSON object at the top level") }
        let known: Set<String> = [
            "name", "transport", "vendorId", "productId", "defaultBaud", "fastestBaud", "tcpPort", "frameRateHz", "toolSetup",
            "notes",
        ]
        for key in o.keys.sorted() where !known.contains(key) {
            throw DeviceProfileError(file: file, field: key, message: "unknown field (known: \(known.sorted().joined(separator: ", ")))")
        }
        func fail(_ field: String, _ message: String) -> DeviceProfileError { DeviceProfileError(file: file, field: field, message: message) }
        func string(_ k: String, required: Bool) throws(DeviceProfileError) -> String? {
            guard let v = o[k], v != .null else {
                if required { throw fail(k, "missing (a string is required)") }
                return nil
            }
            guard case .string(let s) = v else { throw fail(k, "expected a string, got \(v.kind)") }
            return s
        }
        func integer(_ k: String, required: Bool, range: ClosedRange<Int>) throws(DeviceProfileError) -> Int? {
            guard let v = o[k], v != .null else {
                if required { throw fail(k, "missing (an integer is required)") }
                return nil
            }
            guard case .number(let d) = v, d.rounded() == d, abs(d) < 1e12 else { throw fail(k, "expected an integer, got \(v.kind)") }
            let i = Int(d)
            guard range.contains(i) else { throw fail(k, "\(i) is out of range \(range.lowerBound)…\(range.upperBound)") }
            return i
        }
        func usbID(_ k: String, required: Bool) throws(DeviceProfileError) -> UInt16? {
            guard let s = try string(k, required: required) else { return nil }
            let hex = s.lowercased().hasPrefix("0x") ? String(s.dropFirst(2)) : s
            guard hex.count == 4, let v = UInt16(hex, radix: 16) else {
                throw fail(k, "expected 4 hexadecimal digits such as \"0403\", got \"\(s)\"")
            }
            return v
        }

        let name = try string("name", required: true)!
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail("name", "must not be empty") }
        let tName = try string("transport", required: true)!
        guard let transport = DeviceProfile.Transport(rawValue: tName) else {
            throw fail("transport", "\"\(tName)\" is not one of \(DeviceProfile.Transport.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let isLine = transport != .tcp
        let vendorId = try usbID("vendorId", required: transport == .ftdiUSB)
        let productId = try usbID("productId", required: transport == .ftdiUSB)
        if (vendorId == nil) != (productId == nil) {
            throw fail(vendorId == nil ? "vendorId" : "productId", "vendorId and productId go together")
        }
        let defaultBaud = try integer("defaultBaud", required: isLine, range: 300...12_000_000)
        let fastestBaud = try integer("fastestBaud", required: isLine, range: 300...12_000_000)
        if let d = defaultBaud, let f = fastestBaud, f < d {
            throw fail("fastestBaud", "\(f) is below defaultBaud \(d)")
        }
        if let f = fastestBaud, DeviceProfile.ndiCommRateCode(baud: f) == nil {
            throw fail("fastestBaud", "\(f) is not an NDI COMM rate (9600, 14400, 19200, 38400, 57600, 115200, 230400, 921600, 1228739)")
        }
        if !isLine, o["defaultBaud"] != nil || o["fastestBaud"] != nil {
            throw fail(o["defaultBaud"] != nil ? "defaultBaud" : "fastestBaud", "a tcp profile has no baud rate")
        }
        let tcpPort = try integer("tcpPort", required: transport == .tcp, range: 1...65535)
        if transport != .tcp, tcpPort != nil { throw fail("tcpPort", "only a tcp profile has a TCP port") }
        guard let fr = o["frameRateHz"] else { throw fail("frameRateHz", "missing (a number of frames per second is required)") }
        guard case .number(let frameRate) = fr, frameRate > 0, frameRate <= 10_000 else {
            throw fail("frameRateHz", "expected a positive number of frames per second, got \(fr.kind)")
        }
        guard let ts = o["toolSetup"] else { throw fail("toolSetup", "missing (a list such as [\"rom-upload-pvwr\"] is required)") }
        guard case .array(let items) = ts, !items.isEmpty else { throw fail("toolSetup", "expected a non-empty list, got \(ts.kind)") }
        var toolSetup: [DeviceProfile.ToolSetup] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item, let t = DeviceProfile.ToolSetup(rawValue: s) else {
                throw fail(
                    "toolSetup[\(i)]",
                    "expected one of \(DeviceProfile.ToolSetup.allCases.map(\.rawValue).joined(separator: ", ")), got \(item.kind)")
            }
            toolSetup.append(t)
        }
        let notes = try string("notes", required: false) ?? ""
        return DeviceProfile(
            id: id, name: name, transport: transport, vendorId: vendorId, productId: productId, defaultBaud: defaultBaud,
            fastestBaud: fastestBaud, tcpPort: tcpPort, frameRateHz: frameRate, toolSetup: toolSetup, notes: notes, file: file)
    }

    /// The profiles for USB device `vendorId:productId`.
    public static func matching(_ profiles: [DeviceProfile], vendorId: UInt16, productId: UInt16) -> [DeviceProfile] {
        profiles.filter { $0.matches(vendorId: vendorId, productId: productId) }
    }

    private static func describe(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let c) = error {
            if let u = c.underlyingError { return "\(c.debugDescription) \(u.localizedDescription)" }
            return c.debugDescription
        }
        return "\(error)"
    }
}

/// A JSON value, for precise validation messages.
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    /// E.g. `"the string \"x\""`, `"the number 3.5"`, `"a list"`.
    var kind: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number(let d): return d.rounded() == d && abs(d) < 1e15 ? "the number \(Int(d))" : "the number \(d)"
        case .string(let s): return "the string \"\(s)\""
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}
