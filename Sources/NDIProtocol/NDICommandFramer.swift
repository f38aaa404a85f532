/// Splits the byte stream a tracker receives into commands (tracker side; used by the mock).
///
/// A pure state machine: `feed(_:)` bytes in whatever chunks the transport delivers, then call
/// `next()` until it returns nil. Each command ends at a CR; `next()` parses it with
/// `NDICommand.parseReceived(_:)` and returns the command or an `NDICommandError` carrying the
/// stream offset of the command's first byte. An error never stops the framer: the bytes up to
/// and including the CR are consumed and the next command follows.
///
/// A command longer than `maximumLength` bytes without a CR is reported once as `.tooLong`
/// (reply ERROR02) and its bytes are dropped up to and including the next CR.
///
/// A serial break (the reset of `protocols.md` §1.3) is not a byte; the transport reports it.
public struct NDICommandFramer: Sendable {
    /// The longest command accepted, CR excluded. The longest modelled command, `PVWR` with CRC,
    /// is 143 bytes.
    public let maximumLength: Int

    private var buffer: [UInt8] = []
    /// Stream offset of `buffer[0]`.
    private var bufferStart = 0
    /// Scan position in `buffer` (bytes before it contain no CR).
    private var scanned = 0
    /// True while dropping the rest of an over-long command.
    private var discarding = false

    public init(maximumLength: Int = 1024) {
        self.maximumLength = maximumLength
    }

    /// Number of bytes received so far (the stream offset of the next byte fed).
    public var streamOffset: Int { self.bufferStart + self.buffer.count }

    /// Appends received bytes.
    public mutating func feed(_ bytes: some Collection<UInt8>) {
        self.buffer.append(contentsOf: bytes)
    }

    /// The next complete command, an error for a malformed one, or nil when more bytes are
    /// needed.
    public mutating func next() -> Result<NDIReceivedCommand, NDICommandError>? {
        while true {
            guard let cr = self.buffer[self.scanned...].firstIndex(of: 0x0D) else {
                self.scanned = self.buffer.count
                if !self.discarding && self.buffer.count > self.maximumLength {
                    let start = self.bufferStart
                    self.discarding = true
                    self.consume(self.buffer.count)
                    return .failure(
                        NDICommandError(
                            .tooLong,
                            command: nil,
                            Self.tooLongMessage(self.maximumLength),
                            streamOffset: start
                        )
                    )
                }
                if self.discarding {
                    self.consume(self.buffer.count)
                }
                return nil
            }
            let start = self.bufferStart
            let line = self.buffer[0..<cr]
            let wasDiscarding = self.discarding
            self.discarding = false
            let tooLong = line.count > self.maximumLength
            let result: Result<NDIReceivedCommand, NDICommandError>
            if tooLong {
                result = .failure(
                    NDICommandError(
                        .tooLong,
                        command: nil,
                        Self.tooLongMessage(self.maximumLength),
                        streamOffset: start
                    )
                )
            } else {
                do {
                    result = .success(try NDICommand.parseReceived(line))
                } catch {
                    var e = error
                    e.streamOffset = start
                    result = .failure(e)
                }
            }
            self.consume(cr + 1)
            if wasDiscarding {
                continue
            }
            return result
        }
    }

    private static func tooLongMessage(_ limit: Int) -> String {
        "longer than \(limit) bytes (no CR within the limit)"
    }

    private mutating func consume(_ count: Int) {
        self.buffer.removeFirst(count)
        self.bufferStart += count
        self.scanned = 0
    }
}
