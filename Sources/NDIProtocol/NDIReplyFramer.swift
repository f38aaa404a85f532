/// One reply cut out of the tracker's byte stream, with its CRCs checked.
public struct NDIReplyFrame: Hashable, Sendable {
    /// How the reply is encoded.
    public enum Kind: Hashable, Sendable {
        /// Text ending with 4 hex CRC digits and a CR (`OKAYA896\r`, TX, PHSR, VER, `ERRORxx`, …).
        case ascii
        /// A BX binary reply: `C4 A5`, length N, header CRC, N body bytes, body CRC.
        case binary
    }

    /// How the reply is encoded.
    public var kind: Kind
    /// The whole reply as received: for ASCII through the CR, for binary all N + 8 bytes.
    public var bytes: [UInt8]
    /// Stream offset of the reply's first byte (counted from the first byte fed to the framer).
    public var streamOffset: Int

    public init(kind: Kind, bytes: [UInt8], streamOffset: Int) {
        self.kind = kind
        self.bytes = bytes
        self.streamOffset = streamOffset
    }

    /// Offset within `bytes` where `payload` starts: 0 for ASCII, 6 for binary.
    public var payloadOffset: Int {
        self.kind == .ascii ? 0 : 6
    }

    /// What the reply says, without framing: for ASCII the text before the CRC digits, for binary
    /// the N body bytes (handle count through system status).
    public var payload: ArraySlice<UInt8> {
        switch self.kind {
        case .ascii: self.bytes[0..<max(0, self.bytes.count - 5)]
        case .binary: self.bytes.count >= 8 ? self.bytes[6..<(self.bytes.count - 2)] : []
        }
    }

    /// The ASCII payload as a String (binary frames give their bytes decoded as UTF-8, which is
    /// rarely useful).
    public var text: String {
        String(decoding: self.payload, as: UTF8.self)
    }
}

/// Cuts the tracker's byte stream into replies and checks their CRCs (host side).
///
/// A pure state machine, like a NIO `ByteToMessageDecoder`: `feed(_:)` bytes in whatever chunks
/// the transport delivers, then call `next()` until it returns nil. Results depend only on the
/// bytes, never on how they were chunked: feeding one byte at a time and all at once give the
/// same sequence.
///
/// ### Telling ASCII from binary
/// The first byte decides. A BX reply starts `C4 A5`; an ASCII reply is 7-bit text and so never
/// starts with 0xC4. The framer therefore needs no hint about which command was sent, and an
/// `ERRORxx` text reply to a BX command is framed like any ASCII reply. Whether the reply fits
/// the command is for the parsers (`NDIReply.parse(_:command:)`).
///
/// ### Checks
/// - ASCII: bytes must be printable ASCII, LF or TAB up to the CR; the last 4 characters before
///   the CR are the CRC (hex, either case) of everything before them. At most
///   `maximumASCIILength` bytes before the CR.
/// - Binary: header CRC (bytes 4–5, little-endian) over bytes 0–3; length N (bytes 2–3) at least
///   3 (handle count and system status); body CRC (last 2 bytes) over the N body bytes.
///
/// ### Errors and resynchronisation
/// A fault produces one `NDIReplyError` naming the reply's stream offset and the fault's offset
/// within it, then the framer carries on:
/// - an ASCII line with a bad CRC is dropped through its CR, and the next byte starts a reply;
/// - a BX reply with a good header but a bad body CRC is dropped whole (its length is trusted),
///   unless a complete BX header with a valid CRC starts inside it (the reply was truncated and a
///   new one began), in which case reading resumes there;
/// - any other fault (bad header CRC, impossible length, a non-ASCII byte, an over-long line)
///   makes the framer skip bytes, without further errors, to the next plausible start: `C4 A5`,
///   or a printable byte right after a CR.
///
/// `finish()` reports a reply left incomplete when the stream ends or the caller stops waiting.
public struct NDIReplyFramer: Sendable {
    /// Longest ASCII reply accepted, CR excluded. VER and TX replies are a few hundred bytes;
    /// PHSR at most about 1300.
    public let maximumASCIILength: Int

    private var buffer: [UInt8] = []
    /// Index in `buffer` of the first byte not yet consumed.
    private var head = 0
    /// Stream offset of `buffer[0]`.
    private var bufferStart = 0
    /// While true, bytes are skipped until a plausible reply start.
    private var resynchronising = false
    /// Whether the byte before `head` (already consumed) was a CR.
    private var previousWasCR = false
    /// For an ASCII candidate at `head`: how many of its bytes have been checked (no CR among
    /// them).
    private var asciiChecked = 0

    /// A framer at the start of a stream. `maximumASCIILength` below 5 is raised to 5 (the
    /// shortest valid reply, a 1-character payload and its CRC).
    public init(maximumASCIILength: Int = 16384) {
        self.maximumASCIILength = max(5, maximumASCIILength)
    }

    /// Number of bytes fed so far (the stream offset of the next byte fed).
    public var streamOffset: Int { self.bufferStart + self.buffer.count }

    /// Number of bytes fed but not yet consumed by a reply or skipped.
    public var pendingByteCount: Int { self.buffer.count - self.head }

    /// Appends received bytes.
    public mutating func feed(_ bytes: some Collection<UInt8>) {
        if self.head > 4096 && self.head * 2 > self.buffer.count {
            self.buffer.removeFirst(self.head)
            self.bufferStart += self.head
            self.head = 0
        }
        self.buffer.append(contentsOf: bytes)
    }

    /// The next reply, an error for a malformed one, or nil when more bytes are needed.
    public mutating func next() -> Result<NDIReplyFrame, NDIReplyError>? {
        if self.resynchronising {
            guard self.skipToPlausibleStart() else { return nil }
        }
        let available = self.buffer.count - self.head
        guard available > 0 else { return nil }
        if self.buffer[self.head] == 0xC4 {
            guard available >= 2 else { return nil }
            if self.buffer[self.head + 1] == 0xA5 {
                return self.nextBinary()
            }
        }
        return self.nextASCII()
    }

    /// Ends the stream (or gives up waiting): returns the results still pending, then an error
    /// for a reply left incomplete, if any, and resets to a fresh reply boundary. Stream offsets
    /// continue from where they were.
    public mutating func finish() -> [Result<NDIReplyFrame, NDIReplyError>] {
        var results: [Result<NDIReplyFrame, NDIReplyError>] = []
        while let r = self.next() {
            results.append(r)
        }
        let available = self.buffer.count - self.head
        if !self.resynchronising && available > 0 {
            let start = self.bufferStart + self.head
            let isBinary = self.buffer[self.head] == 0xC4 && (available < 2 || self.buffer[self.head + 1] == 0xA5)
            let message: String
            if isBinary && available >= 6 {
                let total = Int(self.readLE16(self.head + 2)) + 8
                message = "truncated: \(available) of \(total) bytes received"
            } else if isBinary {
                message = "truncated: \(available) bytes received, inside the 6-byte header"
            } else {
                message = "truncated: \(available) bytes received without a CR"
            }
            results.append(
                .failure(
                    NDIReplyError(
                        .truncated,
                        replyName: isBinary ? "BX" : "ASCII",
                        replyStreamOffset: start,
                        offsetInReply: available,
                        message
                    )
                )
            )
        }
        self.consume(available)
        self.resynchronising = false
        self.previousWasCR = false
        return results
    }

    /// Frames every reply in `bytes`, as if fed to a new framer and finished.
    public static func frames(in bytes: some Collection<UInt8>) -> [Result<NDIReplyFrame, NDIReplyError>] {
        var framer = NDIReplyFramer()
        framer.feed(bytes)
        return framer.finish()
    }

    // MARK: - Binary

    private mutating func nextBinary() -> Result<NDIReplyFrame, NDIReplyError>? {
        let available = self.buffer.count - self.head
        guard available >= 6 else { return nil }
        let start = self.bufferStart + self.head
        let receivedHeaderCRC = self.readLE16(self.head + 4)
        let computedHeaderCRC = NDICRC16.checksum(self.buffer[self.head..<(self.head + 4)])
        guard receivedHeaderCRC == computedHeaderCRC else {
            self.consume(1)
            self.resynchronising = true
            return .failure(
                NDIReplyError(
                    .headerCRC,
                    replyName: "BX",
                    replyStreamOffset: start,
                    offsetInReply: 4,
                    "header CRC \(Hex.display(UInt64(receivedHeaderCRC), digits: 4)) does not match computed \(Hex.display(UInt64(computedHeaderCRC), digits: 4))"
                )
            )
        }
        let bodyLength = Int(self.readLE16(self.head + 2))
        guard bodyLength >= 3 else {
            self.consume(1)
            self.resynchronising = true
            return .failure(
                NDIReplyError(
                    .badLength,
                    replyName: "BX",
                    replyStreamOffset: start,
                    offsetInReply: 2,
                    "reply length \(bodyLength) is less than 3 (handle count and system status)"
                )
            )
        }
        let total = bodyLength + 8
        guard available >= total else { return nil }
        let bodyRange = (self.head + 6)..<(self.head + 6 + bodyLength)
        let receivedBodyCRC = self.readLE16(self.head + 6 + bodyLength)
        let computedBodyCRC = NDICRC16.checksum(self.buffer[bodyRange])
        guard receivedBodyCRC == computedBodyCRC else {
            let error = NDIReplyError(
                .bodyCRC,
                replyName: "BX",
                replyStreamOffset: start,
                offsetInReply: 6 + bodyLength,
                "body CRC \(Hex.display(UInt64(receivedBodyCRC), digits: 4)) does not match computed \(Hex.display(UInt64(computedBodyCRC), digits: 4))"
            )
            self.consume(self.embeddedHeader(after: self.head, before: self.head + total) ?? total)
            return .failure(error)
        }
        let frame = NDIReplyFrame(
            kind: .binary,
            bytes: Array(self.buffer[self.head..<(self.head + total)]),
            streamOffset: start
        )
        self.consume(total)
        return .success(frame)
    }

    /// Distance from `start` to the first complete BX header (start sequence and valid header
    /// CRC) that begins after `start` and ends by `end`; nil if there is none.
    private func embeddedHeader(after start: Int, before end: Int) -> Int? {
        var i = start + 1
        while i + 6 <= end {
            if self.buffer[i] == 0xC4 && self.buffer[i + 1] == 0xA5
                && NDICRC16.checksum(self.buffer[i..<(i + 4)]) == self.readLE16(i + 4)
            {
                return i - start
            }
            i += 1
        }
        return nil
    }

    // MARK: - ASCII

    private mutating func nextASCII() -> Result<NDIReplyFrame, NDIReplyError>? {
        let start = self.bufferStart + self.head
        var i = self.head + self.asciiChecked
        while i < self.buffer.count {
            let byte = self.buffer[i]
            let offset = i - self.head
            if byte == 0x0D {
                return self.completeASCII(lineEnd: i)
            }
            if offset >= self.maximumASCIILength {
                self.consume(offset)
                self.resynchronising = true
                return .failure(
                    NDIReplyError(
                        .tooLong,
                        replyName: "ASCII",
                        replyStreamOffset: start,
                        offsetInReply: offset,
                        "no CR within \(self.maximumASCIILength) bytes"
                    )
                )
            }
            guard byte == 0x0A || byte == 0x09 || (byte >= 0x20 && byte <= 0x7E) else {
                self.consume(offset)
                self.resynchronising = true
                return .failure(
                    NDIReplyError(
                        .unexpectedByte,
                        replyName: "ASCII",
                        replyStreamOffset: start,
                        offsetInReply: offset,
                        "byte \(Hex.display(UInt64(byte), digits: 2)) is not ASCII text"
                    )
                )
            }
            i += 1
        }
        self.asciiChecked = i - self.head
        return nil
    }

    private mutating func completeASCII(lineEnd: Int) -> Result<NDIReplyFrame, NDIReplyError> {
        let start = self.bufferStart + self.head
        let length = lineEnd - self.head
        let total = length + 1
        guard length >= 4 else {
            self.consume(total)
            return .failure(
                NDIReplyError(
                    .crc,
                    replyName: "ASCII",
                    replyStreamOffset: start,
                    offsetInReply: 0,
                    "\(length) characters before the CR, too few for a 4-digit CRC"
                )
            )
        }
        let crcStart = lineEnd - 4
        let computed = NDICRC16.checksum(self.buffer[self.head..<crcStart])
        guard let received = Hex.parse(self.buffer[crcStart..<lineEnd]) else {
            let digits = quotedASCII(self.buffer[crcStart..<lineEnd])
            self.consume(total)
            return .failure(
                NDIReplyError(
                    .crc,
                    replyName: "ASCII",
                    replyStreamOffset: start,
                    offsetInReply: length - 4,
                    "CRC \(digits) is not 4 hex digits (computed \(Hex.display(UInt64(computed), digits: 4)))"
                )
            )
        }
        guard received == UInt64(computed) else {
            self.consume(total)
            return .failure(
                NDIReplyError(
                    .crc,
                    replyName: "ASCII",
                    replyStreamOffset: start,
                    offsetInReply: length - 4,
                    "CRC \(Hex.display(received, digits: 4)) does not match computed \(Hex.display(UInt64(computed), digits: 4))"
                )
            )
        }
        let frame = NDIReplyFrame(
            kind: .ascii,
            bytes: Array(self.buffer[self.head..<(self.head + total)]),
            streamOffset: start
        )
        self.consume(total)
        return .success(frame)
    }

    // MARK: - Resynchronisation

    /// Skips bytes to the next plausible reply start. Returns true when `head` is at one, false
    /// when more bytes are needed to decide (all bytes that can be ruled out are consumed).
    private mutating func skipToPlausibleStart() -> Bool {
        while self.head < self.buffer.count {
            let byte = self.buffer[self.head]
            if byte == 0xC4 {
                guard self.head + 1 < self.buffer.count else { return false }
                if self.buffer[self.head + 1] == 0xA5 {
                    self.resynchronising = false
                    return true
                }
            } else if self.previousWasCR && byte >= 0x20 && byte <= 0x7E {
                self.resynchronising = false
                return true
            }
            self.consume(1)
        }
        return false
    }

    // MARK: - Buffer

    private mutating func consume(_ count: Int) {
        guard count > 0 else { return }
        self.previousWasCR = self.buffer[self.head + count - 1] == 0x0D
        self.head += count
        self.asciiChecked = 0
        if self.head == self.buffer.count {
            self.bufferStart += self.head
            self.buffer.removeAll(keepingCapacity: true)
            self.head = 0
        }
    }

    private func readLE16(_ index: Int) -> UInt16 {
        UInt16(self.buffer[index]) | UInt16(self.buffer[index + 1]) << 8
    }
}
