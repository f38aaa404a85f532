import Geometry

/// STATUS content (`protocols.md` §3.3): code u16, subcode i64, error name char[20], then the
/// status message. The C library writes the message NUL-terminated and so does this codec; on
/// decoding the message ends at the first NUL (or the end of the body).
public struct IGTLStatus: Hashable, Sendable {
    /// Status codes of the reference (1 OK … 19 shutting down).
    public enum Code {
        public static let ok: UInt16 = 1
        public static let unknownError: UInt16 = 2
        public static let panic: UInt16 = 3
        public static let notFound: UInt16 = 4
        public static let accessDenied: UInt16 = 5
        public static let busy: UInt16 = 6
        public static let timeOut: UInt16 = 7
        public static let overflow: UInt16 = 8
        public static let checksumError: UInt16 = 9
        public static let configurationError: UInt16 = 10
        public static let resourceError: UInt16 = 11
        public static let illegalInstruction: UInt16 = 12
        public static let notReady: UInt16 = 13
        public static let manualMode: UInt16 = 14
        public static let disabled: UInt16 = 15
        public static let notPresent: UInt16 = 16
        public static let unknownVersion: UInt16 = 17
        public static let hardwareFailure: UInt16 = 18
        public static let shuttingDown: UInt16 = 19
    }

    /// Size of the fixed part (code, subcode, error name).
    public static let fixedSize = 30
    /// Width of the error-name field.
    public static let errorNameWidth = 20

    public var code: UInt16
    public var subcode: Int64
    /// At most 20 ASCII characters.
    public var errorName: String
    /// Free text (ASCII).
    public var message: String

    public init(code: UInt16, subcode: Int64 = 0, errorName: String = "", message: String = "") {
        self.code = code
        self.subcode = subcode
        self.errorName = errorName
        self.message = message
    }
}

/// STRING content (`protocols.md` §3.3): ENCODING u16 (IANA MIBenum), LENGTH u16, then the bytes
/// with no terminator. At most 65535 bytes. On decoding, bytes after LENGTH are ignored (a LENGTH
/// beyond the body is an error).
public struct IGTLString: Hashable, Sendable {
    public var encoding: UInt16
    public var bytes: [UInt8]

    public init(encoding: UInt16, bytes: [UInt8]) {
        self.encoding = encoding
        self.bytes = bytes
    }

    /// Text, tagged US-ASCII (3) when it is ASCII and UTF-8 (106) otherwise.
    public init(_ text: String) {
        let bytes = Array(text.utf8)
        self.init(
            encoding: bytes.allSatisfy { $0 < 0x80 } ? IGTLMetadataEntry.usASCII : IGTLMetadataEntry.utf8,
            bytes: bytes
        )
    }

    /// The text when the encoding is US-ASCII or UTF-8 and the bytes are valid.
    public var text: String? {
        guard self.encoding == IGTLMetadataEntry.usASCII || self.encoding == IGTLMetadataEntry.utf8 else { return nil }
        return String(validating: self.bytes, as: UTF8.self)
    }
}

/// POSITION (alias QTRANS) content (`protocols.md` §3.3): X Y Z in mm, then optionally the
/// quaternion OX OY OZ W (scalar last) or only OX OY OZ. Bodies of 12, 24 or 28 bytes. Values are
/// the float32 on the wire.
public struct IGTLPosition: Hashable, Sendable {
    public var x: Float
    public var y: Float
    public var z: Float
    /// `[ox, oy, oz, w]` (28-byte body), `[ox, oy, oz]` (24), or empty (12).
    public var quaternion: [Float]

    public init(x: Float, y: Float, z: Float, quaternion: [Float]) {
        self.x = x
        self.y = y
        self.z = z
        self.quaternion = quaternion
    }

    /// The position and rotation of a rigid transform, in float32 (28-byte form).
    public init(_ transform: RigidTransform) {
        let q = transform.quaternion
        self.init(
            x: Float(transform.translation.x),
            y: Float(transform.translation.y),
            z: Float(transform.translation.z),
            quaternion: [Float(q.qx), Float(q.qy), Float(q.qz), Float(q.q0)]
        )
    }
}

/// The body of `STT_<type>`: for TDATA, RESOL u32 (ms between messages, 0 = as fast as possible)
/// then COORD_NAME char[32] (`protocols.md` §3.4). Other types are sent with an empty body, a bare
/// resolution is accepted as well.
public struct IGTLStartStreaming: Hashable, Sendable {
    public static let coordinateNameWidth = 32

    /// Milliseconds between messages; nil for an empty body.
    public var resolutionMS: UInt32?
    /// Coordinate system name; nil when the body stops after the resolution.
    public var coordinateName: String?

    public init(resolutionMS: UInt32? = nil, coordinateName: String? = nil) {
        self.resolutionMS = resolutionMS
        self.coordinateName = coordinateName
    }
}

/// TRANSFORM content: the 12 float32 `R11 R21 R31 R12 R22 R32 R13 R23 R33 TX TY TZ`, the rotation
/// column by column, then the translation in mm (`protocols.md` §3.3).
public enum IGTLTransformContent {
    public static let size = 48

    /// The 12 values in wire order, rounded to float32.
    public static func values(_ transform: RigidTransform) -> [Float] {
        let r = transform.rotation
        let t = transform.translation
        return [
            r[0, 0], r[1, 0], r[2, 0], r[0, 1], r[1, 1], r[2, 1], r[0, 2], r[1, 2], r[2, 2], t.x, t.y, t.z,
        ].map { Float($0) }
    }

    /// The transform of 12 values in wire order. The rotation is taken as sent (not
    /// re-orthonormalised).
    public static func transform(_ v: [Float]) -> RigidTransform {
        precondition(v.count == 12)
        let d = v.map { Double($0) }
        return RigidTransform(
            rotation: Matrix3(columns: Vector3(d[0], d[1], d[2]), Vector3(d[3], d[4], d[5]), Vector3(d[6], d[7], d[8])),
            translation: Vector3(d[9], d[10], d[11])
        )
    }
}

/// One tool of a TDATA message (`protocols.md` §3.3): NAME char[20], TYPE u8 (1 tracker, 2 6D,
/// 3 3D, 4 5D), a reserved byte (written 0), then the 12 float32 of the TRANSFORM layout: 70 bytes.
public struct IGTLTrackingDataElement: Equatable, Sendable {
    public static let size = 70
    public static let nameWidth = 20

    /// Instrument types.
    public enum InstrumentType {
        public static let tracker: UInt8 = 1
        public static let sixDOF: UInt8 = 2
        public static let threeDOF: UInt8 = 3
        public static let fiveDOF: UInt8 = 4
    }

    /// At most 20 ASCII characters.
    public var name: String
    public var type: UInt8
    public var transform: RigidTransform

    public init(name: String, type: UInt8 = InstrumentType.sixDOF, transform: RigidTransform) {
        self.name = name
        self.type = type
        self.transform = transform
    }
}
