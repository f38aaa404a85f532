import Geometry

/// The content of an OpenIGTLink message, typed by its type name.
public enum IGTLBody: Equatable, Sendable {
    /// `TRANSFORM`: a rigid transform (float32 on the wire).
    case transform(RigidTransform)
    /// `POSITION` (or its alias `QTRANS`, kept in `typeName`).
    case position(IGTLPosition, typeName: String = "POSITION")
    /// `TDATA`: several tools' transforms in one message.
    case trackingData([IGTLTrackingDataElement])
    /// `STATUS`.
    case status(IGTLStatus)
    /// `STRING`.
    case string(IGTLString)
    /// `GET_<dataType>`: empty body. `dataType` is the suffix as sent (`TRANS`, `TRANSFOR`, `STATUS`, …).
    case get(dataType: String)
    /// `STT_<dataType>`: start streaming.
    case startStreaming(dataType: String, IGTLStartStreaming)
    /// `STP_<dataType>`: stop streaming; empty body.
    case stopStreaming(dataType: String)
    /// `RTS_<dataType>`: the reply to STT_/STP_, one byte: 0 success, 1 error.
    case startStopReply(dataType: String, status: UInt8)
    /// Any other type (or a known type this codec does not interpret): the content bytes as received.
    case raw(typeName: String, content: [UInt8])

    /// The header's type name.
    public var typeName: String {
        switch self {
        case .transform: "TRANSFORM"
        case .position(_, let typeName): typeName
        case .trackingData: "TDATA"
        case .status: "STATUS"
        case .string: "STRING"
        case .get(let t): "GET_" + t
        case .startStreaming(let t, _): "STT_" + t
        case .stopStreaming(let t): "STP_" + t
        case .startStopReply(let t, _): "RTS_" + t
        case .raw(let typeName, _): typeName
        }
    }

    /// The canonical data type a query suffix asks for: `TRANS` and `TRANSFOR` (the reference's two
    /// truncated spellings, both accepted) are `TRANSFORM`; other suffixes are returned unchanged.
    public static func canonicalDataType(_ suffix: String) -> String {
        switch suffix {
        case "TRANS", "TRANSFOR", "TRANSFORM": "TRANSFORM"
        default: suffix
        }
    }
}

/// One OpenIGTLink message: the header's fields, the version-2 extended header's message ID and
/// metadata, and the typed content.
///
/// `encoded()` gives the whole message (header and body) as one contiguous array, to be sent with
/// one write. `decode(_:)` reads one whole message; `IGTLStreamDecoder` cuts a byte stream into
/// messages.
public struct IGTLMessage: Equatable, Sendable {
    /// 1 (protocol v1/v2) or 2 (protocol v3: extended header and metadata).
    public var headerVersion: UInt16
    public var deviceName: String
    public var timestamp: IGTLTimestamp
    public var body: IGTLBody
    /// MSG_ID of the extended header (header version 2 only).
    public var messageID: UInt32
    /// Metadata (header version 2 only), in wire order.
    public var metadata: [IGTLMetadataEntry]

    public init(
        headerVersion: UInt16 = 1,
        deviceName: String,
        timestamp: IGTLTimestamp = .none,
        body: IGTLBody,
        messageID: UInt32 = 0,
        metadata: [IGTLMetadataEntry] = []
    ) {
        self.headerVersion = headerVersion
        self.deviceName = deviceName
        self.timestamp = timestamp
        self.body = body
        self.messageID = messageID
        self.metadata = metadata
    }

    /// The header's type name.
    public var typeName: String { self.body.typeName }

    /// The first metadata value for `key`, as text.
    public func metadataValue(_ key: String) -> String? {
        self.metadata.first { $0.key == key }?.text
    }

    // MARK: Encoding

    /// The whole message, header then body, in one array. Throws when a name does not fit or is
    /// not ASCII, a field overflows, or metadata is set on a header-version-1 message.
    public func encoded() throws(IGTLError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(IGTLHeader.size + IGTLExtendedHeader.size + 64)
        try self.encode(into: &out)
        return out
    }

    /// Appends the whole message to `out`, so a sender can reuse one buffer
    /// (`removeAll(keepingCapacity: true)` between messages) and write several messages at once.
    /// On error `out` is left as it was.
    public func encode(into out: inout [UInt8]) throws(IGTLError) {
        let start = out.count
        let metadata: (header: [UInt8], body: [UInt8])?
        switch self.headerVersion {
        case 1:
            guard self.metadata.isEmpty && self.messageID == 0 else {
                throw IGTLError(
                    .unencodable,
                    field: "metadata",
                    offset: IGTLHeader.size,
                    "header version 1 carries no metadata or message ID"
                )
            }
            metadata = nil
        case 2:
            metadata = try MetadataCodec.encode(self.metadata)
        default:
            throw IGTLError(
                .unsupportedVersion,
                field: "version",
                offset: IGTLHeader.Offset.version,
                "header version \(self.headerVersion) is not 1 or 2"
            )
        }
        // Body size and CRC are filled in once the body is written.
        let header = IGTLHeader(
            version: self.headerVersion,
            typeName: self.typeName,
            deviceName: self.deviceName,
            timestamp: self.timestamp,
            bodySize: 0,
            crc: 0
        )
        try header.encode(into: &out)
        do {
            if let metadata {
                out.appendBigEndian(UInt16(IGTLExtendedHeader.size))
                out.appendBigEndian(UInt16(metadata.header.count))
                out.appendBigEndian(UInt32(metadata.body.count))
                out.appendBigEndian(self.messageID)
                try Self.appendContent(self.body, into: &out, offset: IGTLHeader.size + IGTLExtendedHeader.size)
                out.append(contentsOf: metadata.header)
                out.append(contentsOf: metadata.body)
            } else {
                try Self.appendContent(self.body, into: &out, offset: IGTLHeader.size)
            }
        } catch {
            out.removeSubrange(start...)
            throw error
        }
        let bodyStart = start + IGTLHeader.size
        out.storeBigEndian(UInt64(out.count - bodyStart), at: start + IGTLHeader.Offset.bodySize)
        out.storeBigEndian(IGTLCRC64.checksum(out[bodyStart...]), at: start + IGTLHeader.Offset.crc)
    }

    /// The content bytes of a body (for version 2, what goes between the extended header and the metadata).
    public static func encodeContent(_ body: IGTLBody) throws(IGTLError) -> [UInt8] {
        var out: [UInt8] = []
        try self.appendContent(body, into: &out, offset: IGTLHeader.size)
        return out
    }

    /// Appends the content of `body` to `out`; `offset` is the content's offset in the message, for errors.
    static func appendContent(_ body: IGTLBody, into out: inout [UInt8], offset start: Int) throws(IGTLError) {
        switch body {
        case .transform(let transform):
            let r = transform.rotation
            let t = transform.translation
            for j in 0..<3 {
                for i in 0..<3 { out.appendBigEndian(Float(r[i, j])) }
            }
            out.appendBigEndian(Float(t.x))
            out.appendBigEndian(Float(t.y))
            out.appendBigEndian(Float(t.z))
        case .trackingData(let elements):
            for (k, element) in elements.enumerated() {
                let name = try TextField.encode(
                    element.name,
                    width: IGTLTrackingDataElement.nameWidth,
                    field: "TDATA name",
                    offset: start + k * IGTLTrackingDataElement.size
                )
                out.appendPadded(name, width: IGTLTrackingDataElement.nameWidth)
                out.append(element.type)
                out.append(0)
                try self.appendContent(.transform(element.transform), into: &out, offset: start)
            }
        case .position(let p, _):
            guard [0, 3, 4].contains(p.quaternion.count) else {
                throw IGTLError(
                    .unencodable,
                    field: "POSITION quaternion",
                    offset: start + 12,
                    "\(p.quaternion.count) quaternion elements; 0, 3 or 4 fit a POSITION body"
                )
            }
            for v in [p.x, p.y, p.z] + p.quaternion { out.appendBigEndian(v) }
        case .status(let s):
            let name = try TextField.encode(
                s.errorName,
                width: IGTLStatus.errorNameWidth,
                field: "STATUS error name",
                offset: start + 10
            )
            let message = Array(s.message.utf8)
            if let i = message.firstIndex(where: { $0 == 0 || $0 > 0x7F }) {
                throw IGTLError(
                    .unencodable,
                    field: "STATUS message",
                    offset: start + 30 + i,
                    "byte 0x\(hex2(message[i])) is not allowed (ASCII without NUL)"
                )
            }
            out.appendBigEndian(s.code)
            out.appendBigEndian(s.subcode)
            out.appendPadded(name, width: IGTLStatus.errorNameWidth)
            out.append(contentsOf: message)
            out.append(0)
        case .string(let s):
            guard s.bytes.count <= Int(UInt16.max) else {
                throw IGTLError(
                    .unencodable,
                    field: "STRING length",
                    offset: start + 2,
                    "\(s.bytes.count) bytes do not fit LENGTH (u16, at most 65535)"
                )
            }
            out.appendBigEndian(s.encoding)
            out.appendBigEndian(UInt16(s.bytes.count))
            out.append(contentsOf: s.bytes)
        case .get, .stopStreaming:
            break
        case .startStreaming(_, let request):
            if let resolution = request.resolutionMS {
                out.appendBigEndian(resolution)
                if let coordinate = request.coordinateName {
                    let name = try TextField.encode(
                        coordinate,
                        width: IGTLStartStreaming.coordinateNameWidth,
                        field: "STT_ coordinate name",
                        offset: start + 4
                    )
                    out.appendPadded(name, width: IGTLStartStreaming.coordinateNameWidth)
                }
            } else if request.coordinateName != nil {
                throw IGTLError(
                    .unencodable,
                    field: "STT_ resolution",
                    offset: start,
                    "a coordinate name needs a resolution before it"
                )
            }
        case .startStopReply(_, let status):
            out.append(status)
        case .raw(_, let content):
            out.append(contentsOf: content)
        }
    }

    // MARK: Decoding

    /// Decodes exactly one whole message (header and body). Checks the header, the body size
    /// against `bytes`, the CRC, the extended header and metadata, and the content layout of the
    /// known types.
    public static func decode(_ bytes: [UInt8]) throws(IGTLError) -> IGTLMessage {
        let header = try IGTLHeader.decode(bytes)
        let available = UInt64(bytes.count - IGTLHeader.size)
        if header.bodySize > available {
            throw IGTLError(
                .truncated,
                field: "body",
                offset: bytes.count,
                "header announces a \(header.bodySize)-byte body, \(available) bytes follow"
            )
        }
        if header.bodySize < available {
            throw IGTLError(
                .malformedBody,
                field: "body size",
                offset: IGTLHeader.Offset.bodySize,
                "header announces a \(header.bodySize)-byte body, \(available) bytes follow"
            )
        }
        return try self.decode(header: header, message: bytes)
    }

    /// Decodes the body of a message whose header has been read; `message` holds the header and
    /// exactly `header.bodySize` bytes after it.
    static func decode(header: IGTLHeader, message bytes: [UInt8]) throws(IGTLError) -> IGTLMessage {
        let crc = IGTLCRC64.checksum(bytes[IGTLHeader.size...])
        guard crc == header.crc else {
            throw IGTLError(
                .crcMismatch,
                field: "CRC",
                offset: IGTLHeader.Offset.crc,
                "CRC \(hex16(header.crc)) does not match the body's \(hex16(crc))"
            )
        }
        var contentStart = IGTLHeader.size
        var contentEnd = bytes.count
        var messageID: UInt32 = 0
        var metadata: [IGTLMetadataEntry] = []
        if header.version == 2 {
            let bodySize = bytes.count - IGTLHeader.size
            guard bodySize >= IGTLExtendedHeader.size else {
                throw IGTLError(
                    .invalidExtendedHeader,
                    field: "extended header",
                    offset: IGTLHeader.Offset.bodySize,
                    "a \(bodySize)-byte body cannot hold the 12-byte extended header"
                )
            }
            var reader = ByteReader(bytes, from: IGTLHeader.size, base: 0)
            let extSize = Int(reader.read(UInt16.self))
            let metaHeaderSize = Int(reader.read(UInt16.self))
            let metaSize = Int(reader.read(UInt32.self))
            messageID = reader.read(UInt32.self)
            guard extSize >= IGTLExtendedHeader.size else {
                throw IGTLError(
                    .invalidExtendedHeader,
                    field: "extended header size",
                    offset: IGTLHeader.size,
                    "EXT_HEADER_SIZE \(extSize) is less than 12"
                )
            }
            let contentSize = bodySize - extSize - metaHeaderSize - metaSize
            guard contentSize >= 0 else {
                throw IGTLError(
                    .invalidExtendedHeader,
                    field: "metadata size",
                    offset: IGTLHeader.size + 2,
                    "extended header \(extSize) + metadata header \(metaHeaderSize) + metadata \(metaSize) bytes exceed the \(bodySize)-byte body"
                )
            }
            contentStart = IGTLHeader.size + extSize
            contentEnd = contentStart + contentSize
            metadata = try MetadataCodec.decode(
                bytes,
                headerStart: contentEnd,
                headerSize: metaHeaderSize,
                bodySize: metaSize
            )
        }
        let body = try self.decodeContent(typeName: header.typeName, bytes, from: contentStart, to: contentEnd)
        return IGTLMessage(
            headerVersion: header.version,
            deviceName: header.deviceName,
            timestamp: header.timestamp,
            body: body,
            messageID: messageID,
            metadata: metadata
        )
    }

    /// Interprets content bytes `bytes[start..<end]` (offsets within the message) by type name.
    static func decodeContent(typeName: String, _ bytes: [UInt8], from start: Int, to end: Int) throws(IGTLError)
        -> IGTLBody
    {
        var reader = ByteReader(bytes, from: start, to: end, base: 0)
        let size = end - start
        func wrongSize(_ expected: String) -> IGTLError {
            IGTLError(
                .malformedBody,
                field: "\(typeName) body",
                offset: start,
                "\(size) content bytes, \(typeName) has \(expected)"
            )
        }
        switch typeName {
        case "TRANSFORM":
            guard size == IGTLTransformContent.size else { throw wrongSize("48") }
            return .transform(IGTLTransformContent.transform((0..<12).map { _ in reader.readFloat() }))
        case "POSITION", "QTRANS":
            guard [12, 24, 28].contains(size) else { throw wrongSize("12, 24 or 28") }
            let values = (0..<size / 4).map { _ in reader.readFloat() }
            return .position(
                IGTLPosition(x: values[0], y: values[1], z: values[2], quaternion: Array(values[3...])),
                typeName: typeName
            )
        case "TDATA":
            guard size % IGTLTrackingDataElement.size == 0 else { throw wrongSize("a multiple of 70") }
            var elements: [IGTLTrackingDataElement] = []
            for k in 0..<size / IGTLTrackingDataElement.size {
                let at = start + k * IGTLTrackingDataElement.size
                let name = try TextField.decode(
                    bytes[at..<at + IGTLTrackingDataElement.nameWidth],
                    field: "TDATA name",
                    offset: at
                )
                reader.index = at + IGTLTrackingDataElement.nameWidth
                let type = reader.read(UInt8.self)
                _ = reader.read(UInt8.self)
                let transform = IGTLTransformContent.transform((0..<12).map { _ in reader.readFloat() })
                elements.append(IGTLTrackingDataElement(name: name, type: type, transform: transform))
            }
            return .trackingData(elements)
        case "STATUS":
            guard size >= IGTLStatus.fixedSize else { throw wrongSize("at least 30") }
            let code = reader.read(UInt16.self)
            let subcode = reader.read(Int64.self)
            let name = try TextField.decode(
                bytes[start + 10..<start + 30],
                field: "STATUS error name",
                offset: start + 10
            )
            let text = bytes[start + 30..<end]
            let message = try TextField.decode(text, field: "STATUS message", offset: start + 30)
            return .status(IGTLStatus(code: code, subcode: subcode, errorName: name, message: message))
        case "STRING":
            guard size >= 4 else { throw wrongSize("at least 4") }
            let encoding = reader.read(UInt16.self)
            let length = Int(reader.read(UInt16.self))
            guard length <= size - 4 else {
                throw IGTLError(
                    .malformedBody,
                    field: "STRING length",
                    offset: start + 2,
                    "LENGTH \(length) but \(size - 4) bytes follow"
                )
            }
            return .string(IGTLString(encoding: encoding, bytes: reader.readBytes(length)))
        default:
            break
        }
        let prefix = typeName.prefix(4)
        let suffix = String(typeName.dropFirst(4))
        guard !suffix.isEmpty else { return .raw(typeName: typeName, content: Array(bytes[start..<end])) }
        switch prefix {
        case "GET_":
            guard size == 0 else { throw wrongSize("an empty body") }
            return .get(dataType: suffix)
        case "STP_":
            guard size == 0 else { throw wrongSize("an empty body") }
            return .stopStreaming(dataType: suffix)
        case "STT_":
            switch size {
            case 0:
                return .startStreaming(dataType: suffix, IGTLStartStreaming())
            case 4:
                return .startStreaming(dataType: suffix, IGTLStartStreaming(resolutionMS: reader.read(UInt32.self)))
            case 4 + IGTLStartStreaming.coordinateNameWidth:
                let resolution = reader.read(UInt32.self)
                let name = try TextField.decode(
                    bytes[start + 4..<end],
                    field: "STT_ coordinate name",
                    offset: start + 4
                )
                return .startStreaming(
                    dataType: suffix,
                    IGTLStartStreaming(resolutionMS: resolution, coordinateName: name)
                )
            default:
                throw wrongSize("0, 4 or 36")
            }
        case "RTS_":
            guard size == 1 else { throw wrongSize("1") }
            return .startStopReply(dataType: suffix, status: bytes[start])
        default:
            return .raw(typeName: typeName, content: Array(bytes[start..<end]))
        }
    }
}
