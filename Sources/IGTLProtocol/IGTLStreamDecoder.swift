/// What `IGTLStreamDecoder.next()` found.
public enum IGTLDecodeResult: Equatable, Sendable {
    /// No complete message is buffered; feed more bytes.
    case needMoreData
    /// One complete, checked message. Call `next()` again: more may be buffered.
    case message(IGTLMessage)
}

/// Cuts an OpenIGTLink byte stream into messages: a pure state machine with no I/O. Feed it
/// whatever chunks arrive (`feed(_:)`), then call `next()` until it says `.needMoreData`.
///
/// The header is checked as soon as its 58 bytes are in: version 1 or 2, ASCII names, and a body
/// no larger than `maximumBodySize`, so a header announcing a 4 GiB body is refused before any
/// of that body is awaited. These header faults are **fatal**: the stream cannot be resynchronised,
/// so every later `next()` throws the same error and the connection should be dropped.
///
/// Faults inside a complete message (CRC mismatch, extended header, metadata, content layout)
/// are **not** fatal: the message's bytes are consumed before the error is thrown and the next
/// call continues with the following message. Errors carry the message's stream offset (counted
/// from the first byte fed) and the offset of the fault within the message.
public struct IGTLStreamDecoder: Sendable {
    /// Default limit on a message body: 1 MiB.
    public static let defaultMaximumBodySize: UInt64 = 1 << 20

    /// Largest body accepted.
    public let maximumBodySize: UInt64

    private var buffer: [UInt8] = []
    /// Index in `buffer` of the next unread byte.
    private var readIndex = 0
    /// Stream offset of `buffer[0]`.
    private var bufferStreamOffset = 0
    /// The checked header of the message being awaited.
    private var pendingHeader: IGTLHeader?
    private var failure: IGTLError?

    /// `maximumBodySize` is clamped to what an in-memory array can hold (`Int.max` minus the header).
    public init(maximumBodySize: UInt64 = IGTLStreamDecoder.defaultMaximumBodySize) {
        self.maximumBodySize = min(maximumBodySize, UInt64(Int.max - IGTLHeader.size))
    }

    /// Bytes fed but not yet returned as messages.
    public var bufferedByteCount: Int { self.buffer.count - self.readIndex }

    /// Stream offset of the next unread byte (the start of the next message).
    public var streamOffset: Int { self.bufferStreamOffset + self.readIndex }

    /// The fatal error, once one has occurred.
    public var fatalError: IGTLError? { self.failure }

    /// Appends bytes received from the peer.
    public mutating func feed<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        if self.readIndex > 0 && self.readIndex >= self.buffer.count / 2 {
            self.buffer.removeFirst(self.readIndex)
            self.bufferStreamOffset += self.readIndex
            self.readIndex = 0
        }
        self.buffer.append(contentsOf: bytes)
    }

    /// The next complete message, `.needMoreData`, or a typed error (see the type's notes on which
    /// errors are fatal).
    public mutating func next() throws(IGTLError) -> IGTLDecodeResult {
        if let failure = self.failure { throw failure }
        let messageStart = self.streamOffset
        let header: IGTLHeader
        if let pending = self.pendingHeader {
            header = pending
        } else {
            guard self.bufferedByteCount >= IGTLHeader.size else { return .needMoreData }
            do {
                header = try IGTLHeader.decode(Array(self.buffer[self.readIndex..<self.readIndex + IGTLHeader.size]))
            } catch {
                throw self.fail(error, at: messageStart)
            }
            if header.bodySize > self.maximumBodySize {
                throw self.fail(
                    IGTLError(
                        .bodyTooLarge,
                        field: "body size",
                        offset: IGTLHeader.Offset.bodySize,
                        "header announces a \(header.bodySize)-byte body, more than the maximum \(self.maximumBodySize)"
                    ),
                    at: messageStart
                )
            }
            self.pendingHeader = header
        }
        let total = IGTLHeader.size + Int(header.bodySize)
        guard self.bufferedByteCount >= total else { return .needMoreData }
        let bytes = Array(self.buffer[self.readIndex..<self.readIndex + total])
        self.readIndex += total
        self.pendingHeader = nil
        if self.readIndex == self.buffer.count {
            self.bufferStreamOffset += self.readIndex
            self.buffer.removeAll(keepingCapacity: true)
            self.readIndex = 0
        }
        do {
            return .message(try IGTLMessage.decode(header: header, message: bytes))
        } catch {
            var located = error
            located.messageStreamOffset = messageStart
            throw located
        }
    }

    /// Call when the stream has ended: throws `.truncated` if it ended inside a message (or the
    /// fatal error, if there was one).
    public func finish() throws(IGTLError) {
        if let failure = self.failure { throw failure }
        let left = self.bufferedByteCount
        guard left > 0 else { return }
        let field = left < IGTLHeader.size ? "header" : "body"
        let expected =
            self.pendingHeader.map { "a \(IGTLHeader.size + Int($0.bodySize))-byte message" }
            ?? "a \(IGTLHeader.size)-byte header"
        throw IGTLError(
            .truncated,
            field: field,
            offset: left,
            messageStreamOffset: self.streamOffset,
            "stream ended after \(left) bytes of \(expected)"
        )
    }

    private mutating func fail(_ error: IGTLError, at messageStart: Int) -> IGTLError {
        var located = error
        located.messageStreamOffset = messageStart
        self.failure = located
        return located
    }
}
