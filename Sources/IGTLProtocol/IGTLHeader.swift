/// The 58-byte OpenIGTLink header, big-endian (`protocols.md` §3.1):
///
/// | Offset | Size | Field |
/// |---|---|---|
/// | 0 | 2 | header version: 1 for protocol v1/v2, 2 for protocol v3 (extended header and metadata) |
/// | 2 | 12 | type name, ASCII, NUL-padded |
/// | 14 | 20 | device name, ASCII, NUL-padded (no NUL when exactly 20 characters) |
/// | 34 | 8 | timestamp: seconds, then binary fraction (`IGTLTimestamp`) |
/// | 42 | 8 | body size: every byte after the header |
/// | 50 | 8 | CRC-64 of the whole body (`IGTLCRC64`) |
public struct IGTLHeader: Hashable, Sendable {
    /// Header size in bytes.
    public static let size = 58
    /// Width of the type-name field.
    public static let typeNameWidth = 12
    /// Width of the device-name field.
    public static let deviceNameWidth = 20

    /// Offsets of the fields, for error messages.
    public enum Offset {
        public static let version = 0
        public static let typeName = 2
        public static let deviceName = 14
        public static let timestamp = 34
        public static let bodySize = 42
        public static let crc = 50
    }

    /// Header version: 1 (protocol v1/v2, the body is the content) or 2 (protocol v3: the body is an
    /// extended header, the content and metadata).
    public var version: UInt16
    public var typeName: String
    public var deviceName: String
    public var timestamp: IGTLTimestamp
    /// Bytes after the header.
    public var bodySize: UInt64
    /// CRC-64 of the body.
    public var crc: UInt64

    public init(
        version: UInt16,
        typeName: String,
        deviceName: String,
        timestamp: IGTLTimestamp,
        bodySize: UInt64,
        crc: UInt64
    ) {
        self.version = version
        self.typeName = typeName
        self.deviceName = deviceName
        self.timestamp = timestamp
        self.bodySize = bodySize
        self.crc = crc
    }

    /// The header versions this codec reads and writes.
    public static let supportedVersions: ClosedRange<UInt16> = 1...2

    /// The 58 header bytes. Throws when a name is longer than its field, not printable ASCII, or
    /// (for the type name) empty, or the version is not 1 or 2.
    public func encoded() throws(IGTLError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.size)
        try self.encode(into: &out)
        return out
    }

    /// Appends the 58 header bytes to `out`.
    public func encode(into out: inout [UInt8]) throws(IGTLError) {
        guard Self.supportedVersions.contains(self.version) else {
            throw IGTLError(
                .unsupportedVersion,
                field: "version",
                offset: Offset.version,
                "header version \(self.version) is not 1 or 2"
            )
        }
        let type = try TextField.encode(
            self.typeName,
            width: Self.typeNameWidth,
            field: "type name",
            offset: Offset.typeName,
            allowEmpty: false
        )
        let device = try TextField.encode(
            self.deviceName,
            width: Self.deviceNameWidth,
            field: "device name",
            offset: Offset.deviceName
        )
        out.appendBigEndian(self.version)
        out.appendPadded(type, width: Self.typeNameWidth)
        out.appendPadded(device, width: Self.deviceNameWidth)
        out.appendBigEndian(self.timestamp.rawValue)
        out.appendBigEndian(self.bodySize)
        out.appendBigEndian(self.crc)
    }

    /// Reads a header from the first 58 bytes of `bytes`. Checks the version (1 or 2) and that
    /// both names are ASCII and the type name is not empty; the body size and CRC are only read.
    public static func decode(_ bytes: [UInt8]) throws(IGTLError) -> IGTLHeader {
        guard bytes.count >= Self.size else {
            throw IGTLError(
                .truncated,
                field: "header",
                offset: bytes.count,
                "\(bytes.count) bytes, a header has \(Self.size)"
            )
        }
        var reader = ByteReader(bytes, to: Self.size, base: 0)
        let version = reader.read(UInt16.self)
        guard Self.supportedVersions.contains(version) else {
            throw IGTLError(
                .unsupportedVersion,
                field: "version",
                offset: Offset.version,
                "header version \(version) is not 1 or 2"
            )
        }
        let type = try TextField.decode(
            bytes[Offset.typeName..<Offset.deviceName],
            field: "type name",
            offset: Offset.typeName
        )
        if type.isEmpty {
            throw IGTLError(.invalidName, field: "type name", offset: Offset.typeName, "type name is empty")
        }
        let device = try TextField.decode(
            bytes[Offset.deviceName..<Offset.timestamp],
            field: "device name",
            offset: Offset.deviceName
        )
        reader.index = Offset.timestamp
        let timestamp = IGTLTimestamp(rawValue: reader.read(UInt64.self))
        let bodySize = reader.read(UInt64.self)
        let crc = reader.read(UInt64.self)
        return IGTLHeader(
            version: version,
            typeName: type,
            deviceName: device,
            timestamp: timestamp,
            bodySize: bodySize,
            crc: crc
        )
    }
}
