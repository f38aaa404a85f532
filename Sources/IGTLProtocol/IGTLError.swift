/// A fault in an OpenIGTLink message: one found while decoding bytes (from a peer) or while
/// encoding a message (a name too long, a body too big for its length field, …).
///
/// It names the field and the byte offset of the fault within the message (0 = the first header
/// byte; the body starts at 58) and, when the streaming decoder found it, where the message
/// started in the stream. `description` reads:
///
///     OpenIGTLink message at stream byte 116 (message byte 42, body size): header announces a 4294967296-byte body, more than the maximum 1048576
///     OpenIGTLink message (message byte 50, CRC): CRC 0xF6DD2B8EB4DF6DD3 does not match the body's 0xF6DD2B8EB4DF6DD2
public struct IGTLError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of fault it is.
    public enum Kind: Hashable, Sendable {
        /// Header version other than 1 or 2.
        case unsupportedVersion
        /// A type or device name that is not ASCII, is empty where a name is required, or does not fit.
        case invalidName
        /// The header announces a body larger than the decoder accepts. Fatal for the stream: the
        /// decoder cannot skip it.
        case bodyTooLarge
        /// The CRC in the header does not match the body.
        case crcMismatch
        /// The version-2 extended header or the metadata sizes do not add up.
        case invalidExtendedHeader
        /// The metadata header or body is malformed.
        case invalidMetadata
        /// A body of a known type does not follow its layout (wrong size, bad length field, …).
        case malformedBody
        /// The stream ended inside a message.
        case truncated
        /// A value cannot be encoded (too long for its field, metadata on a version-1 message, …).
        case unencodable
    }

    /// What kind of fault it is.
    public var kind: Kind
    /// The field at fault, in the reference's words: "version", "type name", "body size", "CRC",
    /// "STATUS error name", …
    public var field: String
    /// Offset of the fault within the message (0 = first header byte).
    public var offset: Int
    /// Where the message started in the stream (counted from the first byte fed to the decoder),
    /// when the streaming decoder found the fault.
    public var messageStreamOffset: Int?
    /// What is wrong, in words.
    public var message: String

    public init(_ kind: Kind, field: String, offset: Int, messageStreamOffset: Int? = nil, _ message: String) {
        self.kind = kind
        self.field = field
        self.offset = offset
        self.messageStreamOffset = messageStreamOffset
        self.message = message
    }

    /// Stream offset of the faulty byte, when known.
    public var streamOffset: Int? {
        self.messageStreamOffset.map { $0 + self.offset }
    }

    public var description: String {
        let where_ = self.messageStreamOffset.map { " at stream byte \($0)" } ?? ""
        return "OpenIGTLink message\(where_) (message byte \(self.offset), \(self.field)): \(self.message)"
    }
}
