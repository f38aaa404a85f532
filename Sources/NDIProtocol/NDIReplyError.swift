/// A malformed reply from the tracker (host side): a framing fault found by `NDIReplyFramer`,
/// or a content fault found by a reply parser.
///
/// It names where the reply started in the byte stream (`replyStreamOffset`, counted from the
/// first byte the framer was fed) and where in the reply the fault is (`offsetInReply`, 0 = the reply's first byte; for
/// BX replies the header counts, so the body starts at 6). `description` reads:
///
///     BX reply at stream byte 1234 (reply byte 61): body CRC 0xB7E1 does not match computed 0xB7E0
///     ASCII reply at stream byte 0 (reply byte 3): byte 0x00 is not ASCII text
///     TX reply at stream byte 9 (reply byte 10): handle 0x01 qx "+05A00" is not a sign and 5 digits
public struct NDIReplyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of fault it is.
    public enum Kind: Hashable, Sendable {
        /// BX header CRC (bytes 4–5) does not match bytes 0–3.
        case headerCRC
        /// BX body CRC (the last 2 bytes) does not match the body.
        case bodyCRC
        /// ASCII reply CRC (the 4 hex digits before the CR) is missing, not hex, or wrong.
        case crc
        /// BX reply length field too small to hold a reply.
        case badLength
        /// A byte that cannot be in an ASCII reply (not printable ASCII, LF or TAB).
        case unexpectedByte
        /// An ASCII reply longer than the framer's limit without a CR.
        case tooLong
        /// The stream ended (or the caller gave up waiting) inside a reply.
        case truncated
        /// The reply is well framed but its content does not follow the layout.
        case malformed
        /// A well-formed reply that is not a possible answer to the command sent.
        case unexpectedReply
    }

    /// What kind of fault it is.
    public var kind: Kind
    /// The kind of reply: `BX` for binary frames, `ASCII` for text frames the framer has not
    /// interpreted, or the command name (`TX`, `PHSR`, …) when a parser knew what it expected.
    public var replyName: String
    /// Stream offset of the reply's first byte.
    public var replyStreamOffset: Int
    /// Offset of the fault within the reply.
    public var offsetInReply: Int
    /// What is wrong, in words.
    public var message: String

    public init(_ kind: Kind, replyName: String, replyStreamOffset: Int, offsetInReply: Int, _ message: String) {
        self.kind = kind
        self.replyName = replyName
        self.replyStreamOffset = replyStreamOffset
        self.offsetInReply = offsetInReply
        self.message = message
    }

    /// Stream offset of the faulty byte itself.
    public var streamOffset: Int {
        self.replyStreamOffset + self.offsetInReply
    }

    public var description: String {
        "\(self.replyName) reply at stream byte \(self.replyStreamOffset) (reply byte \(self.offsetInReply)): \(self.message)"
    }
}
