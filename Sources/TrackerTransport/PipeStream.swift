import Foundation

/// One end of an in-memory, bidirectional byte pipe: what one end writes, the other reads, in
/// order. Made in connected pairs by `PipeStream.pair()`; used to run the mock tracker and the
/// driver in one process, and in tests.
///
/// ### Semantics
/// - `write` never blocks (the buffer grows as needed).
/// - `read` returns as soon as any bytes are buffered, `[]` after `timeout` otherwise.
/// - `close()` on one end: that end's pending and later calls throw `.closed`; the other end first
///   reads whatever is still buffered, then its reads throw `.disconnected`, and its writes throw
///   `.disconnected` at once.
///
/// ### Serial line emulation
/// A pair made with `serialLine: true` behaves like a null-modem cable: `setLineParameters` on
/// either end sets the shared line (see `lineParameters`), and `sendBreak` is counted on the
/// other end (`takeBreaks()`), so a mock tracker can answer a break with a reset. Without it, line
/// parameters are ignored and `sendBreak` throws `.unsupported`, as on TCP.
///
/// Threading: every method may be called from any thread.
public final class PipeStream: ByteStream {
    private let inbound: PipeChannel
    private let outbound: PipeChannel
    private let line: Locked<LineParameters>?
    /// The name given at creation, e.g. `"pipe:host"`.
    public let description: String

    private init(inbound: PipeChannel, outbound: PipeChannel, line: Locked<LineParameters>?, name: String) {
        self.inbound = inbound
        self.outbound = outbound
        self.line = line
        self.description = name
    }

    /// Two connected ends (named `pipe:a` and `pipe:b` unless told otherwise).
    public static func pair(serialLine: Bool = false, names: (String, String) = ("pipe:a", "pipe:b")) -> (PipeStream, PipeStream) {
        let ab = PipeChannel(), ba = PipeChannel()
        let line = serialLine ? Locked(LineParameters.ndiDefault) : nil
        return (
            PipeStream(inbound: ba, outbound: ab, line: line, name: names.0),
            PipeStream(inbound: ab, outbound: ba, line: line, name: names.1)
        )
    }

    public func write(_ bytes: [UInt8]) throws(TransportError) {
        try self.outbound.write(bytes, name: self.description)
    }

    public func read(maxBytes: Int, timeout: Duration) throws(TransportError) -> [UInt8] {
        guard maxBytes > 0 else { throw TransportError(.invalidArgument, "maxBytes must be positive, got \(maxBytes)") }
        return try self.inbound.read(maxBytes: maxBytes, timeout: timeout, name: self.description)
    }

    public func setLineParameters(_ parameters: LineParameters) throws(TransportError) {
        try parameters.validate()
        try self.inbound.checkOpen(name: self.description)
        self.line?.value = parameters
    }

    /// The line parameters last set by either end (serial-line pairs only; `nil` otherwise).
    public var lineParameters: LineParameters? { self.line?.value }

    public func sendBreak(duration: Duration) throws(TransportError) {
        guard self.line != nil else {
            throw TransportError(.unsupported, "\(self.description) has no serial line: a break cannot be sent")
        }
        try self.outbound.addBreak(name: self.description)
    }

    /// Returns how many breaks the other end sent since the last call, and resets the count.
    public func takeBreaks() -> Int { self.inbound.takeBreaks() }

    /// Discards bytes buffered for this end to read.
    public func purge() throws(TransportError) {
        try self.inbound.purge(name: self.description)
    }

    public func close() {
        self.inbound.closeReader()
        self.outbound.closeWriter()
    }

    public var hasSerialLine: Bool { self.line != nil }
}

/// One direction of a pipe: a buffer, a condition, and who has closed.
final class PipeChannel: @unchecked Sendable {
    // @unchecked: all state is guarded by `condition`.
    private let condition = NSCondition()
    private var buffer: [UInt8] = []
    private var head = 0
    private var readerClosed = false
    private var writerClosed = false
    private var breaks = 0

    func write(_ bytes: [UInt8], name: String) throws(TransportError) {
        self.condition.lock()
        defer { self.condition.unlock() }
        if self.writerClosed { throw TransportError(.closed, "\(name) is closed") }
        if self.readerClosed { throw TransportError(.disconnected, "\(name): the other end closed the pipe") }
        self.buffer += bytes
        self.condition.broadcast()
    }

    func addBreak(name: String) throws(TransportError) {
        self.condition.lock()
        defer { self.condition.unlock() }
        if self.writerClosed { throw TransportError(.closed, "\(name) is closed") }
        if self.readerClosed { throw TransportError(.disconnected, "\(name): the other end closed the pipe") }
        self.breaks += 1
        self.condition.broadcast()
    }

    func takeBreaks() -> Int {
        self.condition.lock()
        defer { self.condition.unlock() }
        let n = self.breaks
        self.breaks = 0
        return n
    }

    func read(maxBytes: Int, timeout: Duration, name: String) throws(TransportError) -> [UInt8] {
        let deadline = Date().addingTimeInterval(seconds(timeout))
        self.condition.lock()
        defer { self.condition.unlock() }
        while true {
            if self.readerClosed { throw TransportError(.closed, "\(name) is closed") }
            let available = self.buffer.count - self.head
            if available > 0 {
                let n = min(available, maxBytes)
                let out = Array(self.buffer[self.head..<(self.head + n)])
                self.head += n
                if self.head == self.buffer.count {
                    self.buffer.removeAll(keepingCapacity: true)
                    self.head = 0
                } else if self.head > 65536 {
                    self.buffer.removeFirst(self.head)
                    self.head = 0
                }
                return out
            }
            if self.writerClosed { throw TransportError(.disconnected, "\(name): the other end closed the pipe") }
            if !self.condition.wait(until: deadline) {
                // Timed out: one last look (a write may have raced the deadline).
                if self.readerClosed { throw TransportError(.closed, "\(name) is closed") }
                if self.buffer.count - self.head > 0 { continue }
                if self.writerClosed { throw TransportError(.disconnected, "\(name): the other end closed the pipe") }
                return []
            }
        }
    }

    func checkOpen(name: String) throws(TransportError) {
        self.condition.lock()
        defer { self.condition.unlock() }
        if self.readerClosed { throw TransportError(.closed, "\(name) is closed") }
    }

    func purge(name: String) throws(TransportError) {
        self.condition.lock()
        defer { self.condition.unlock() }
        if self.readerClosed { throw TransportError(.closed, "\(name) is closed") }
        self.buffer.removeAll()
        self.head = 0
    }

    func closeReader() {
        self.condition.lock()
        self.readerClosed = true
        self.condition.broadcast()
        self.condition.unlock()
    }

    func closeWriter() {
        self.condition.lock()
        self.writerClosed = true
        self.condition.broadcast()
        self.condition.unlock()
    }
}

/// A duration in seconds, as a Double (for Foundation APIs).
func seconds(_ d: Duration) -> Double {
    let (s, a) = d.components
    return Double(s) + Double(a) / 1e18
}
