/// A machine-readable error code of the JSON-lines protocol, sent as `"error": {"code": …}`.
///
/// The codec produces the request codes (`line-too-long` … `unknown-field`); the server uses the
/// others when a well-formed request cannot be carried out. The list is in
/// `docs/json-lines-protocol.md`; clients should treat an unknown code like `failed`.
public struct JSONLErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { self.rawValue }

    // Produced by the codec (`JSONLLineSplitter`, `JSONLRequest.parse`).
    /// A line longer than the limit (64 KiB before its `\n`).
    public static let lineTooLong = JSONLErrorCode(rawValue: "line-too-long")
    /// The line is not valid JSON (or not valid UTF-8).
    public static let badJSON = JSONLErrorCode(rawValue: "bad-json")
    /// Valid JSON, but not an object.
    public static let badRequest = JSONLErrorCode(rawValue: "bad-request")
    /// `cmd` names no command of this protocol version.
    public static let unknownCommand = JSONLErrorCode(rawValue: "unknown-command")
    /// A field the command requires is absent (or `null`).
    public static let missingField = JSONLErrorCode(rawValue: "missing-field")
    /// A field has the wrong type or an out-of-range value.
    public static let badField = JSONLErrorCode(rawValue: "bad-field")
    /// The request has a field its command does not take (catches misspellings).
    public static let unknownField = JSONLErrorCode(rawValue: "unknown-field")

    // Produced by the server.
    /// The command changes the session and the request's token is absent or wrong.
    public static let unauthorized = JSONLErrorCode(rawValue: "unauthorized")
    /// A named thing (target, fiducial) does not exist.
    public static let notFound = JSONLErrorCode(rawValue: "not-found")
    /// The command cannot run in the session's current state (e.g. `accept-registration` with no
    /// computed registration, `capture-*` without tracking).
    public static let badState = JSONLErrorCode(rawValue: "bad-state")
    /// The command was valid but failed (e.g. registration did not converge); the message says why.
    public static let failed = JSONLErrorCode(rawValue: "failed")
}

/// Why a request line was refused: a code for programs, a message for people, and what is known of
/// the request (its `id`, so the error response can echo it; the field at fault; where in the line).
public struct JSONLRequestError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: JSONLErrorCode
    /// What is wrong, naming the field (e.g. `field "frames": must be between 1 and 1000, got 0`).
    public var message: String
    /// The request's `id`, when it could be read before the error.
    public var id: JSONLRequestID?
    /// The field at fault (`"frames"`, `"cmd"`), when one is.
    public var field: String?
    /// For `bad-json`: the 1-based column (Unicode scalars) and 0-based byte offset in the line.
    /// For `line-too-long`: `byteOffset` is the offset in the stream where the line began.
    public var column: Int?
    public var byteOffset: UInt64?

    public init(
        code: JSONLErrorCode, message: String, id: JSONLRequestID? = nil, field: String? = nil, column: Int? = nil,
        byteOffset: UInt64? = nil
    ) {
        self.code = code
        self.message = message
        self.id = id
        self.field = field
        self.column = column
        self.byteOffset = byteOffset
    }

    /// `code: message`.
    public var description: String { "\(self.code.rawValue): \(self.message)" }
}
