/// One metadata entry of a header-version-2 (protocol v3) message: a key and a value with the
/// value's character encoding as an IANA MIBenum (`protocols.md` §3.2).
public struct IGTLMetadataEntry: Hashable, Sendable {
    /// IANA MIBenum of US-ASCII.
    public static let usASCII: UInt16 = 3
    /// IANA MIBenum of UTF-8.
    public static let utf8: UInt16 = 106

    /// The key (its UTF-8 bytes go on the wire, at most 65535).
    public var key: String
    /// The value's character encoding (MIBenum).
    public var encoding: UInt16
    /// The value's bytes, in `encoding`.
    public var value: [UInt8]

    public init(key: String, encoding: UInt16, value: [UInt8]) {
        self.key = key
        self.encoding = encoding
        self.value = value
    }

    /// A text value, tagged US-ASCII when it is ASCII and UTF-8 otherwise.
    public init(key: String, value: String) {
        let bytes = Array(value.utf8)
        self.init(key: key, encoding: bytes.allSatisfy { $0 < 0x80 } ? Self.usASCII : Self.utf8, value: bytes)
    }

    /// The value as text when its encoding is US-ASCII or UTF-8 and the bytes are valid.
    public var text: String? {
        guard self.encoding == Self.usASCII || self.encoding == Self.utf8 else { return nil }
        return String(validating: self.value, as: UTF8.self)
    }
}

/// The 12-byte extended header that starts a header-version-2 body (`protocols.md` §3.2):
/// EXT_HEADER_SIZE u16 (12), META_HEADER_SIZE u16 (2 + 8 × entries, counting the entry-count
/// field), META_SIZE u32 (keys and values only), MSG_ID u32.
public struct IGTLExtendedHeader: Hashable, Sendable {
    /// Size this codec writes.
    public static let size = 12

    public var extendedHeaderSize: UInt16
    public var metadataHeaderSize: UInt16
    public var metadataSize: UInt32
    public var messageID: UInt32

    public init(extendedHeaderSize: UInt16 = 12, metadataHeaderSize: UInt16, metadataSize: UInt32, messageID: UInt32) {
        self.extendedHeaderSize = extendedHeaderSize
        self.metadataHeaderSize = metadataHeaderSize
        self.metadataSize = metadataSize
        self.messageID = messageID
    }
}

enum MetadataCodec {
    /// The metadata header (count and per-entry sizes) and body (keys then values, interleaved).
    static func encode(_ entries: [IGTLMetadataEntry]) throws(IGTLError) -> (header: [UInt8], body: [UInt8]) {
        guard entries.count <= (Int(UInt16.max) - 2) / 8 else {
            throw IGTLError(
                .unencodable,
                field: "metadata",
                offset: IGTLHeader.size,
                "\(entries.count) metadata entries do not fit the metadata header size field"
            )
        }
        var header: [UInt8] = []
        var body: [UInt8] = []
        header.reserveCapacity(2 + 8 * entries.count)
        header.appendBigEndian(UInt16(entries.count))
        for entry in entries {
            let key = Array(entry.key.utf8)
            guard key.count <= Int(UInt16.max) else {
                throw IGTLError(
                    .unencodable,
                    field: "metadata key",
                    offset: IGTLHeader.size,
                    "a key of \(key.count) bytes does not fit KEY_SIZE (u16)"
                )
            }
            guard entry.value.count <= Int(UInt32.max) else {
                throw IGTLError(
                    .unencodable,
                    field: "metadata value",
                    offset: IGTLHeader.size,
                    "a value of \(entry.value.count) bytes does not fit VALUE_SIZE (u32)"
                )
            }
            header.appendBigEndian(UInt16(key.count))
            header.appendBigEndian(entry.encoding)
            header.appendBigEndian(UInt32(entry.value.count))
            body.append(contentsOf: key)
            body.append(contentsOf: entry.value)
        }
        guard body.count <= Int(UInt32.max) else {
            throw IGTLError(
                .unencodable,
                field: "metadata",
                offset: IGTLHeader.size,
                "metadata of \(body.count) bytes does not fit META_SIZE (u32)"
            )
        }
        return (header, body)
    }

    /// Decodes the metadata header at `headerStart` (`headerSize` bytes) and the body after it
    /// (`bodySize` bytes) from `bytes`, a whole message.
    static func decode(_ bytes: [UInt8], headerStart: Int, headerSize: Int, bodySize: Int) throws(IGTLError)
        -> [IGTLMetadataEntry]
    {
        if headerSize == 0 {
            guard bodySize == 0 else {
                throw IGTLError(
                    .invalidMetadata,
                    field: "metadata size",
                    offset: IGTLHeader.size + 4,
                    "no metadata header but \(bodySize) bytes of metadata"
                )
            }
            return []
        }
        var reader = ByteReader(bytes, from: headerStart, to: headerStart + headerSize, base: 0)
        guard headerSize >= 2 else {
            throw IGTLError(
                .invalidMetadata,
                field: "metadata header size",
                offset: IGTLHeader.size + 2,
                "metadata header of \(headerSize) bytes cannot hold its entry count"
            )
        }
        let count = Int(reader.read(UInt16.self))
        guard headerSize == 2 + 8 * count else {
            throw IGTLError(
                .invalidMetadata,
                field: "metadata header size",
                offset: IGTLHeader.size + 2,
                "metadata header of \(headerSize) bytes but \(count) entries need \(2 + 8 * count)"
            )
        }
        var sizes: [(key: Int, encoding: UInt16, value: Int, offset: Int)] = []
        var total = 0
        for _ in 0..<count {
            let offset = reader.offset
            let key = Int(reader.read(UInt16.self))
            let encoding = reader.read(UInt16.self)
            let value = Int(reader.read(UInt32.self))
            sizes.append((key, encoding, value, offset))
            total += key + value
        }
        guard total == bodySize else {
            throw IGTLError(
                .invalidMetadata,
                field: "metadata size",
                offset: IGTLHeader.size + 4,
                "entries add up to \(total) bytes of keys and values, the extended header says \(bodySize)"
            )
        }
        var body = ByteReader(bytes, from: headerStart + headerSize, to: headerStart + headerSize + bodySize, base: 0)
        var entries: [IGTLMetadataEntry] = []
        entries.reserveCapacity(count)
        for size in sizes {
            let keyOffset = body.offset
            let keyBytes = body.readBytes(size.key)
            guard let key = String(validating: keyBytes, as: UTF8.self) else {
                throw IGTLError(.invalidMetadata, field: "metadata key", offset: keyOffset, "key is not UTF-8")
            }
            entries.append(IGTLMetadataEntry(key: key, encoding: size.encoding, value: body.readBytes(size.value)))
        }
        return entries
    }
}
