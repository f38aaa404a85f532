/// One entry of a PHSR reply: a port handle and its status.
public struct NDIPortHandleEntry: Hashable, Sendable {
    /// The port handle.
    public var handle: UInt8
    /// Its port status (12 bits on the wire: occupied, switches, initialized, enabled, and 0x80
    /// "tool sensed through current detection").
    public var status: NDIPortStatus

    public init(handle: UInt8, status: NDIPortStatus) {
        self.handle = handle
        self.status = status
    }
}

/// The reply to `PHSR`: `NN` (handle count, 2 hex) then per handle `hh` (2 hex) and `sss`
/// (port status, 3 hex). `020100102001` lists handles 0x01 and 0x02, both with status 0x001
/// (`protocols.md` §1.3).
public struct NDIPortHandleList: Hashable, Sendable {
    /// The handles in the order sent.
    public var entries: [NDIPortHandleEntry]

    public init(entries: [NDIPortHandleEntry]) {
        self.entries = entries
    }

    /// Just the handles.
    public var handles: [UInt8] { self.entries.map(\.handle) }

    /// Parses a PHSR reply payload.
    public static func parse(_ frame: NDIReplyFrame) throws(NDIReplyError) -> NDIPortHandleList {
        var reader = TextReader(frame: frame, replyName: "PHSR")
        let count = try reader.hex(2, "handle count")
        var entries: [NDIPortHandleEntry] = []
        for i in 0..<Int(count) {
            let handle = UInt8(try reader.hex(2, "handle \(i + 1) of \(count)"))
            let status = UInt32(try reader.hex(3, "port status of handle \(Hex.display(UInt64(handle), digits: 2))"))
            entries.append(NDIPortHandleEntry(handle: handle, status: NDIPortStatus(rawValue: status)))
        }
        try reader.expectEnd()
        return NDIPortHandleList(entries: entries)
    }

    /// The reply bytes, CRC and CR included. Throws for more than 255 entries or a status above
    /// 0xFFF.
    public func encoded() throws(NDIEncodingError) -> [UInt8] {
        guard self.entries.count <= 255 else {
            throw NDIEncodingError(replyName: "PHSR", "\(self.entries.count) handles, at most 255 fit")
        }
        var out: [UInt8] = []
        Hex.append(UInt64(self.entries.count), digits: 2, to: &out)
        for entry in self.entries {
            guard entry.status.rawValue <= 0xFFF else {
                throw NDIEncodingError(
                    replyName: "PHSR",
                    "handle \(Hex.display(UInt64(entry.handle), digits: 2)) status \(entry.status) does not fit 3 hex digits"
                )
            }
            Hex.append(UInt64(entry.handle), digits: 2, to: &out)
            Hex.append(UInt64(entry.status.rawValue), digits: 3, to: &out)
        }
        return NDIReply.asciiFrame(payload: out)
    }
}

/// The reply to `PHINF` (`ndiPHINFHelper` and the `ndiGetPHINF…` functions of ndicapi; the
/// split of the 31-character tool information follows PLUS's `vtkNDITracker`, which reads the
/// same fields).
///
/// The fields present are those of the reply option, in this order:
///
/// | option | field | characters |
/// |---|---|---|
/// | 0x0001 | tool type, manufacturer id, tool revision, serial number, port status (hex) | 8, 12, 3, 8, 2 |
/// | 0x0002 | current test (hex) | 8 |
/// | 0x0004 | part number | 20 |
/// | 0x0008 | accessories (hex) | 2 |
/// | 0x0010 | marker type (hex) | 2 |
/// | 0x0020 | port location | 14 |
/// | 0x0040 | GPIO status (hex) | 2 |
///
/// A port with nothing in it answers `UNOCCUPIED` (ndicapi tests the first character `U`).
/// Text fields are kept exactly as sent, padding included.
public struct NDIPortInfo: Hashable, Sendable {
    /// The 0x0001 fields.
    public struct Basic: Hashable, Sendable {
        /// Tool type, 8 characters. Its first two are hex: the main type (`ndicapi.h`: 01
        /// reference, 02 pointer, 03 button box, 04 software defined, 05 microscope, 08 docking
        /// station, 0A C-arm, 0B catheter); see `mainType`.
        public var toolType: String
        /// Manufacturer id, 12 characters.
        public var manufacturer: String
        /// Tool revision, 3 characters.
        public var revision: String
        /// Serial number, 8 characters.
        public var serialNumber: String
        /// Port status (2 hex digits on the wire).
        public var portStatus: NDIPortStatus

        public init(
            toolType: String,
            manufacturer: String,
            revision: String,
            serialNumber: String,
            portStatus: NDIPortStatus
        ) {
            self.toolType = toolType
            self.manufacturer = manufacturer
            self.revision = revision
            self.serialNumber = serialNumber
            self.portStatus = portStatus
        }

        /// The main tool type: the first two characters of `toolType` as hex, nil if they are not.
        public var mainType: UInt8? {
            let bytes = Array(self.toolType.utf8.prefix(2))
            guard bytes.count == 2, let v = Hex.parse(bytes) else { return nil }
            return UInt8(v)
        }
    }

    /// The port is unoccupied: no other field is present.
    public var isUnoccupied: Bool
    /// Option 0x0001.
    public var basic: Basic?
    /// Option 0x0002: IRED current test of an active tool.
    public var currentTest: UInt32?
    /// Option 0x0004: part number, 20 characters.
    public var partNumber: String?
    /// Option 0x0008: accessories bits (0x01 tool-in-port switch, 0x02/0x04/0x08 switches 1–3,
    /// 0x10 tracking LED, 0x20/0x40/0x80 LEDs 1–3).
    public var accessories: UInt8?
    /// Option 0x0010: marker type (low bits wavelength, high bits marker kind; `ndicapi.h`).
    public var markerType: UInt8?
    /// Option 0x0020: port location, 14 characters (8 device number, 1 system, 1 wired/wireless,
    /// 2 port, 2 channel).
    public var portLocation: String?
    /// Option 0x0040: Aurora GPIO status.
    public var gpioStatus: UInt8?

    public init(
        isUnoccupied: Bool = false,
        basic: Basic? = nil,
        currentTest: UInt32? = nil,
        partNumber: String? = nil,
        accessories: UInt8? = nil,
        markerType: UInt8? = nil,
        portLocation: String? = nil,
        gpioStatus: UInt8? = nil
    ) {
        self.isUnoccupied = isUnoccupied
        self.basic = basic
        self.currentTest = currentTest
        self.partNumber = partNumber
        self.accessories = accessories
        self.markerType = markerType
        self.portLocation = portLocation
        self.gpioStatus = gpioStatus
    }

    /// The reply of an unoccupied port.
    public static let unoccupied = NDIPortInfo(isUnoccupied: true)

    /// The option bits whose layout is documented.
    static let documentedOptions: NDIPortInfoOption = [
        .basic, .testing, .partNumber, .accessories, .markerType, .portLocation, .gpioStatus,
    ]

    /// Parses a PHINF reply for the option the command carried (`nil`: 0x0001).
    public static func parse(_ frame: NDIReplyFrame, option: NDIPortInfoOption?) throws(NDIReplyError) -> NDIPortInfo {
        let option = option ?? .basic
        var reader = TextReader(frame: frame, replyName: "PHINF")
        if reader.skip("UNOCCUPIED") {
            try reader.expectEnd()
            return .unoccupied
        }
        let undocumented = option.subtracting(Self.documentedOptions)
        guard undocumented.isEmpty else {
            throw reader.error(at: 0, "option bits \(undocumented) have no documented PHINF layout")
        }
        var info = NDIPortInfo()
        if option.contains(.basic) {
            let toolType = String(decoding: try reader.take(8, "tool type"), as: UTF8.self)
            let manufacturer = String(decoding: try reader.take(12, "manufacturer id"), as: UTF8.self)
            let revision = String(decoding: try reader.take(3, "tool revision"), as: UTF8.self)
            let serial = String(decoding: try reader.take(8, "serial number"), as: UTF8.self)
            let status = UInt32(try reader.hex(2, "port status"))
            info.basic = Basic(
                toolType: toolType,
                manufacturer: manufacturer,
                revision: revision,
                serialNumber: serial,
                portStatus: NDIPortStatus(rawValue: status)
            )
        }
        if option.contains(.testing) {
            info.currentTest = UInt32(try reader.hex(8, "current test"))
        }
        if option.contains(.partNumber) {
            info.partNumber = String(decoding: try reader.take(20, "part number"), as: UTF8.self)
        }
        if option.contains(.accessories) {
            info.accessories = UInt8(try reader.hex(2, "accessories"))
        }
        if option.contains(.markerType) {
            info.markerType = UInt8(try reader.hex(2, "marker type"))
        }
        if option.contains(.portLocation) {
            info.portLocation = String(decoding: try reader.take(14, "port location"), as: UTF8.self)
        }
        if option.contains(.gpioStatus) {
            info.gpioStatus = UInt8(try reader.hex(2, "GPIO status"))
        }
        try reader.expectEnd()
        return info
    }

    /// The reply bytes for the option the command carried (`nil`: 0x0001), CRC and CR included.
    ///
    /// Text fields shorter than their width are padded with spaces on the right. Throws when a
    /// field the option asks for is nil, a text field is longer than its width or not printable
    /// ASCII, a port status exceeds 0xFF, or the option has undocumented bits.
    public func encoded(option: NDIPortInfoOption?) throws(NDIEncodingError) -> [UInt8] {
        let option = option ?? .basic
        if self.isUnoccupied {
            return NDIReply.asciiFrame(payload: Array("UNOCCUPIED".utf8))
        }
        let undocumented = option.subtracting(Self.documentedOptions)
        guard undocumented.isEmpty else {
            throw NDIEncodingError(replyName: "PHINF", "option bits \(undocumented) have no documented layout")
        }
        var out: [UInt8] = []
        func text(_ value: String?, _ width: Int, _ what: String) throws(NDIEncodingError) {
            guard let value else {
                throw NDIEncodingError(replyName: "PHINF", "option \(option) needs the \(what)")
            }
            let bytes = Array(value.utf8)
            guard bytes.count <= width, bytes.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) else {
                throw NDIEncodingError(
                    replyName: "PHINF",
                    "\(what) \(quotedASCII(bytes)) is not at most \(width) printable ASCII characters"
                )
            }
            out.append(contentsOf: bytes)
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: width - bytes.count))
        }
        func hex(_ value: UInt64?, _ digits: Int, _ what: String) throws(NDIEncodingError) {
            guard let value else {
                throw NDIEncodingError(replyName: "PHINF", "option \(option) needs the \(what)")
            }
            guard value >> UInt64(digits * 4) == 0 else {
                throw NDIEncodingError(replyName: "PHINF", "\(what) \(value) does not fit \(digits) hex digits")
            }
            Hex.append(value, digits: digits, to: &out)
        }
        if option.contains(.basic) {
            try text(self.basic?.toolType, 8, "tool type")
            try text(self.basic?.manufacturer, 12, "manufacturer id")
            try text(self.basic?.revision, 3, "tool revision")
            try text(self.basic?.serialNumber, 8, "serial number")
            try hex(self.basic.map { UInt64($0.portStatus.rawValue) }, 2, "port status")
        }
        if option.contains(.testing) {
            try hex(self.currentTest.map { UInt64($0) }, 8, "current test")
        }
        if option.contains(.partNumber) {
            try text(self.partNumber, 20, "part number")
        }
        if option.contains(.accessories) {
            try hex(self.accessories.map { UInt64($0) }, 2, "accessories")
        }
        if option.contains(.markerType) {
            try hex(self.markerType.map { UInt64($0) }, 2, "marker type")
        }
        if option.contains(.portLocation) {
            try text(self.portLocation, 14, "port location")
        }
        if option.contains(.gpioStatus) {
            try hex(self.gpioStatus.map { UInt64($0) }, 2, "GPIO status")
        }
        return NDIReply.asciiFrame(payload: out)
    }
}

/// Strips leading and trailing spaces.
func trimSpaces(_ field: String) -> String {
    var scalars = Substring(field)
    while scalars.first == " " { scalars.removeFirst() }
    while scalars.last == " " { scalars.removeLast() }
    return String(scalars)
}

/// The reply to `VER`: multi-line text (lines separated by LF), such as
///
///     Polaris Vega Control Firmware
///     Freeze Tag: Polaris Vega 008
///
/// scikit-surgerynditracker reads the `Freeze Tag:` line to tell BX-capable trackers from those
/// it drives with TX. The reference gives no full sample of the text, so this type keeps the
/// lines and looks up `Key: value` lines by key; it assumes nothing else about them.
public struct NDIVersionInfo: Hashable, Sendable {
    /// The whole text, as sent (without CRC and CR).
    public var text: String

    public init(text: String) {
        self.text = text
    }

    /// The lines, split at LF; a trailing empty line (text ending with LF) is dropped.
    public var lines: [String] {
        var parts = self.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    /// The value of the first line of the form `key: value` (or `key:value`), with spaces around
    /// the value removed; nil if there is no such line. `key` is matched exactly, case included.
    public func value(forKey key: String) -> String? {
        for line in self.lines {
            guard line.hasPrefix(key) else { continue }
            let rest = line.dropFirst(key.count)
            guard rest.first == ":" else { continue }
            return trimSpaces(String(rest.dropFirst()))
        }
        return nil
    }

    /// The `Freeze Tag:` value, e.g. `Polaris Vega 008`.
    public var freezeTag: String? { self.value(forKey: "Freeze Tag") }

    /// The reply bytes, CRC and CR included. Throws when the text has characters other than
    /// printable ASCII, LF and TAB.
    public func encoded() throws(NDIEncodingError) -> [UInt8] {
        let bytes = Array(self.text.utf8)
        if let bad = bytes.first(where: { !($0 == 0x0A || $0 == 0x09 || ($0 >= 0x20 && $0 <= 0x7E)) }) {
            throw NDIEncodingError(
                replyName: "VER",
                "byte \(Hex.display(UInt64(bad), digits: 2)) cannot be sent in an ASCII reply"
            )
        }
        return NDIReply.asciiFrame(payload: bytes)
    }
}
