/// Serial baud rate for `COMM`, with its one-character code (`protocols.md` §1.3 step 4).
///
/// ndicapi formats the baud as a decimal number, which gives a wrong string for 230400; its
/// code is the letter `A`.
public enum NDIBaudRate: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case b9600, b14400, b19200, b38400, b57600, b115200, b921600, b1228739, b230400

    /// The rate in bits per second.
    public var bitsPerSecond: Int {
        switch self {
        case .b9600: 9600
        case .b14400: 14400
        case .b19200: 19200
        case .b38400: 38400
        case .b57600: 57600
        case .b115200: 115_200
        case .b921600: 921_600
        case .b1228739: 1_228_739
        case .b230400: 230_400
        }
    }

    /// The character sent in `COMM`: `0`…`7`, or `A` for 230400.
    public var code: Character {
        switch self {
        case .b9600: "0"
        case .b14400: "1"
        case .b19200: "2"
        case .b38400: "3"
        case .b57600: "4"
        case .b115200: "5"
        case .b921600: "6"
        case .b1228739: "7"
        case .b230400: "A"
        }
    }

    /// The rate for a `COMM` code character, or nil.
    public init?(code: Character) {
        guard let rate = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = rate
    }

    /// The rate with exactly this many bits per second, or nil.
    public init?(bitsPerSecond: Int) {
        guard let rate = Self.allCases.first(where: { $0.bitsPerSecond == bitsPerSecond }) else { return nil }
        self = rate
    }

    public var description: String { String(self.bitsPerSecond) }
}

/// Data bits for `COMM`: code `0` = 8, `1` = 7.
public enum NDIDataBits: Character, Hashable, Sendable, CaseIterable {
    case eight = "0"
    case seven = "1"
}

/// Parity for `COMM`: code `0` = none, `1` = odd, `2` = even.
public enum NDIParity: Character, Hashable, Sendable, CaseIterable {
    case none = "0"
    case odd = "1"
    case even = "2"
}

/// Stop bits for `COMM`: code `0` = 1, `1` = 2.
public enum NDIStopBits: Character, Hashable, Sendable, CaseIterable {
    case one = "0"
    case two = "1"
}

/// Tracking priority for `PENA` (`ndicapi.h`): static (a reference), dynamic, or button box.
public enum NDITrackingPriority: Character, Hashable, Sendable, CaseIterable {
    /// `S`: a static tool, such as a reference.
    case staticTool = "S"
    /// `D`: a dynamic tool (the usual choice).
    case dynamic = "D"
    /// `B`: a button box.
    case buttonBox = "B"
}

/// Which port handles a `PHSR` command lists (`ndicapi.h`, `protocols.md` §1.3 step 6).
///
/// Any two-hex-digit value can be sent; the named ones are those documented.
public struct NDIPortHandleFilter: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// `00`: all allocated handles.
    public static let all = NDIPortHandleFilter(rawValue: 0x00)
    /// `01`: handles waiting to be freed (`PHF`).
    public static let toBeFreed = NDIPortHandleFilter(rawValue: 0x01)
    /// `02`: handles that need initializing (`PINIT`).
    public static let notInitialized = NDIPortHandleFilter(rawValue: 0x02)
    /// `03`: handles that need enabling (`PENA`).
    public static let notEnabled = NDIPortHandleFilter(rawValue: 0x03)
    /// `04`: handles that are enabled.
    public static let enabled = NDIPortHandleFilter(rawValue: 0x04)

    /// `0xNN`.
    public var description: String { Hex.display(UInt64(self.rawValue), digits: 2) }
}

/// The reply option of a `PHINF` command: which fields the tracker returns (`ndicapi.h`).
public struct NDIPortInfoOption: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// 0x0001: tool type, manufacturer, revision, serial number and port status (33 characters).
    public static let basic = NDIPortInfoOption(rawValue: 0x0001)
    /// 0x0002: current test of an active tool's IREDs (8 hex digits).
    public static let testing = NDIPortInfoOption(rawValue: 0x0002)
    /// 0x0004: part number (20 characters).
    public static let partNumber = NDIPortInfoOption(rawValue: 0x0004)
    /// 0x0008: accessories (2 hex digits).
    public static let accessories = NDIPortInfoOption(rawValue: 0x0008)
    /// 0x0010: marker type (2 hex digits).
    public static let markerType = NDIPortInfoOption(rawValue: 0x0010)
    /// 0x0020: physical port location (14 characters).
    public static let portLocation = NDIPortInfoOption(rawValue: 0x0020)
    /// 0x0040: Aurora GPIO status (2 hex digits).
    public static let gpioStatus = NDIPortInfoOption(rawValue: 0x0040)

    /// `0xNNNN`.
    public var description: String { Hex.display(UInt64(self.rawValue), digits: 4) }
}

/// One 64-byte chunk of a tool definition (SROM image) for `PVWR`.
///
/// A tool definition is written to the tracker's virtual SROM as 16 chunks of 64 bytes at
/// addresses 0x0000, 0x0040, …, 0x03C0, a file shorter than 1024 bytes padded with zeros
/// (`ndiPVWRFromFile`, `protocols.md` §1.3).
public struct NDIROMChunk: Hashable, Sendable {
    /// Exactly 64 bytes.
    public let bytes: [UInt8]

    /// The chunk, or nil unless `bytes` has exactly 64 elements.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 64 else { return nil }
        self.bytes = bytes
    }

    /// The 16 `PVWR` commands that write `rom` to the virtual SROM of `handle`, zero-padded to
    /// 1024 bytes, in address order. Nil when `rom` is longer than 1024 bytes.
    public static func pvwrCommands(handle: UInt8, rom: [UInt8]) -> [NDICommand]? {
        guard rom.count <= 1024 else { return nil }
        let padded = rom + Array(repeating: 0, count: 1024 - rom.count)
        return (0..<16).map { i in
            let chunk = NDIROMChunk(Array(padded[(i * 64)..<(i * 64 + 64)]))!
            return .pvwr(handle: handle, address: UInt16(i * 64), data: chunk)
        }
    }
}
