/// What `JSONLLineSplitter.feed` finds in the bytes it is given, in stream order.
public enum JSONLSplitterItem: Sendable, Equatable {
    /// A complete line without its `\n` (and without a `\r` just before it); `offset` is the
    /// stream offset of its first byte.
    case line([UInt8], offset: UInt64)
    /// A line grew past the limit before its `\n` (code `line-too-long`; `byteOffset` is where the
    /// line began in the stream). Its bytes up to and including the next `\n` are dropped.
    case tooLong(JSONLRequestError)
}

/// Cuts a byte stream into `\n`-terminated lines, whatever the chunking: feeding the bytes one at a
/// time gives the same items as feeding them all at once. Pure: no I/O, no clock.
///
/// - A `\r` right before the `\n` is removed (`\r\n` clients); a `\r` elsewhere stays.
/// - Lines that are empty or hold only spaces and tabs are skipped.
/// - A line may have at most `maxLineBytes` bytes before its `\n` (a `\r` counts). When a line
///   passes the limit, `.tooLong` is reported once, at that moment, and the splitter drops bytes
///   until the next `\n`, then carries on with the following line. The bytes kept pending never
///   exceed `maxLineBytes`.
/// - Bytes after the last `\n` wait for more input (`pendingByteCount`).
public struct JSONLLineSplitter: Sendable {
    public let maxLineBytes: Int
    /// How many bytes have been fed so far.
    public private(set) var streamOffset: UInt64 = 0
    private var buffer: [UInt8] = []
    private var lineStart: UInt64 = 0
    private var discarding = false

    public init(maxLineBytes: Int = JSONLRequest.maxLineBytes) {
        precondition(maxLineBytes > 0, "the line limit must be positive")
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes of an unterminated line waiting for its `\n` (0 while dropping an over-long line).
    public var pendingByteCount: Int { self.buffer.count }

    /// Whether the splitter is dropping the rest of an over-long line.
    public var isSkippingOverlongLine: Bool { self.discarding }

    /// Feeds the next bytes of the stream; returns the lines completed and the limit violations, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [JSONLSplitterItem] {
        var items: [JSONLSplitterItem] = []
        for b in bytes {
            if b == 0x0A {
                if self.discarding {
                    self.discarding = false
                } else {
                    if self.buffer.last == 0x0D { self.buffer.removeLast() }
                    if !self.buffer.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                        items.append(.line(self.buffer, offset: self.lineStart))
                    }
                    self.buffer.removeAll(keepingCapacity: true)
                }
                self.lineStart = self.streamOffset + 1
            } else if !self.discarding {
                if self.buffer.count == self.maxLineBytes {
                    items.append(
                        .tooLong(
                            JSONLRequestError(
                                code: .lineTooLong,
                                message:
                                    "the line starting at stream byte \(self.lineStart) exceeds \(self.maxLineBytes) bytes without a newline; it is skipped up to the next newline",
                                byteOffset: self.lineStart)))
                    self.buffer.removeAll(keepingCapacity: true)
                    self.discarding = true
                } else {
                    self.buffer.append(b)
                }
            }
            self.streamOffset += 1
        }
        return items
    }
}
