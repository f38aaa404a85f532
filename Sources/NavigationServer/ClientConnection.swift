import Foundation
import TrackerTransport

/// What the pipeline hands every client for one frame: the encoded messages, built once and shared.
public final class FramePayload: Sendable {
    public let frameNumber: UInt32
    public let hostNanoseconds: UInt64
    /// TRANSFORM messages for header-version-1 clients.
    public let igtlTransformsV1: [UInt8]
    /// TRANSFORM messages (with metadata) for header-version-2 clients.
    public let igtlTransformsV2: [UInt8]
    /// The metrics STRING for header version 1 / 2.
    public let igtlMetricsV1: [UInt8]
    public let igtlMetricsV2: [UInt8]
    /// The JSON-lines `frame` line (with its newline).
    public let jsonLine: [UInt8]

    public init(
        frameNumber: UInt32, hostNanoseconds: UInt64, igtlTransformsV1: [UInt8], igtlTransformsV2: [UInt8],
        igtlMetricsV1: [UInt8], igtlMetricsV2: [UInt8], jsonLine: [UInt8]
    ) {
        self.frameNumber = frameNumber
        self.hostNanoseconds = hostNanoseconds
        self.igtlTransformsV1 = igtlTransformsV1
        self.igtlTransformsV2 = igtlTransformsV2
        self.igtlMetricsV1 = igtlMetricsV1
        self.igtlMetricsV2 = igtlMetricsV2
        self.jsonLine = jsonLine
    }
}

/// A client's outgoing buffer: the latest frame only (a newer frame replaces one not yet sent) plus
/// a bounded queue of messages that must not be dropped (responses, events, STATUS). The pipeline
/// only ever takes this buffer's lock for a few instructions: it never waits for the client.
final class Outbox: @unchecked Sendable {
    // @unchecked: all state is guarded by `condition`.
    private let condition = NSCondition()
    private var frame: FramePayload?
    private var control: [[UInt8]] = []
    private var controlBytes = 0
    private var closedReason: String?
    /// Frames replaced before they were sent.
    private(set) var framesDropped = 0
    private(set) var framesQueued = 0

    /// Above this many bytes of queued control messages the client is not reading: it is dropped.
    let controlLimitBytes: Int

    init(controlLimitBytes: Int = 1 << 20) {
        self.controlLimitBytes = controlLimitBytes
    }

    /// Offers a frame (latest wins). Returns false when the outbox is closed.
    @discardableResult
    func offer(frame: FramePayload) -> Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        if self.closedReason != nil { return false }
        if self.frame != nil { self.framesDropped += 1 }
        self.frame = frame
        self.framesQueued += 1
        self.condition.signal()
        return true
    }

    /// Queues a message that must be delivered. Returns false when the queue overflows (the caller
    /// drops the client) or the outbox is closed.
    @discardableResult
    func enqueue(_ bytes: [UInt8]) -> Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        if self.closedReason != nil { return false }
        if self.controlBytes + bytes.count > self.controlLimitBytes { return false }
        self.control.append(bytes)
        self.controlBytes += bytes.count
        self.condition.signal()
        return true
    }

    /// Waits until something is queued or the outbox is closed; returns the control messages in
    /// order and the latest frame, or nil once closed.
    func take() -> (control: [[UInt8]], frame: FramePayload?)? {
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.closedReason == nil && self.frame == nil && self.control.isEmpty { self.condition.wait() }
        if self.closedReason != nil { return nil }
        let c = self.control
        let f = self.frame
        self.control.removeAll(keepingCapacity: true)
        self.controlBytes = 0
        self.frame = nil
        return (c, f)
    }

    /// Closes the outbox (wakes the writer). Returns true for the first caller.
    @discardableResult
    func close(reason: String) -> Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        if self.closedReason != nil { return false }
        self.closedReason = reason
        self.condition.broadcast()
        return true
    }

    var isClosed: Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.closedReason != nil
    }
}

/// Which protocol a client speaks.
public enum ClientProtocol: String, Sendable {
    case openIGTLink = "OpenIGTLink"
    case jsonLines = "JSON-lines"
}

/// One connected client: a socket, its outbox, a writer thread (the only thread that writes to the
/// socket) and a reader thread (requests). Either thread failing drops the client with a reason.
final class ClientConnection: @unchecked Sendable {
    let id: Int
    let stream: TCPStream
    let kind: ClientProtocol
    let outbox: Outbox
    let label: String
    /// Per-protocol state and message handling.
    let handler: any ClientHandler
    private let onClose: @Sendable (ClientConnection, String) -> Void
    private let closeOnce = NSLock()
    private var closed = false

    init(
        id: Int, stream: TCPStream, kind: ClientProtocol, handler: any ClientHandler, controlLimitBytes: Int,
        onClose: @escaping @Sendable (ClientConnection, String) -> Void
    ) {
        self.id = id
        self.stream = stream
        self.kind = kind
        self.handler = handler
        self.outbox = Outbox(controlLimitBytes: controlLimitBytes)
        self.label = "\(kind.rawValue) client #\(id) (\(stream.remote))"
        self.onClose = onClose
    }

    func start() {
        let writer = Thread { [self] in self.writeLoop() }
        writer.name = "coilnav-client-\(self.id)-writer"
        writer.start()
        let reader = Thread { [self] in self.readLoop() }
        reader.name = "coilnav-client-\(self.id)-reader"
        reader.start()
    }

    /// Offers the frame if the client wants it.
    func offer(frame: FramePayload) {
        guard self.handler.wantsFrame(frame) else { return }
        self.outbox.offer(frame: frame)
    }

    /// Queues a message that must arrive; a client that lets its queue overflow is dropped.
    func send(_ bytes: [UInt8]) {
        if !self.outbox.enqueue(bytes), !self.outbox.isClosed {
            self.close(reason: "not reading: more than \(self.outbox.controlLimitBytes) bytes of messages queued")
        }
    }

    func close(reason: String) {
        self.closeOnce.lock()
        let first = !self.closed
        self.closed = true
        self.closeOnce.unlock()
        guard first else { return }
        self.outbox.close(reason: reason)
        self.stream.close()
        self.onClose(self, reason)
    }

    private func writeLoop() {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        while let (control, frame) = self.outbox.take() {
            buffer.removeAll(keepingCapacity: true)
            for c in control { buffer.append(contentsOf: c) }
            if let f = frame { self.handler.appendFrame(f, into: &buffer) }
            if buffer.isEmpty { continue }
            do {
                try self.stream.write(buffer)
            } catch {
                if error.code == .timeout {
                    self.close(reason: "stalled: could not send for \(self.stream.writeTimeout) (\(error))")
                } else {
                    self.close(reason: "send failed: \(error)")
                }
                return
            }
        }
    }

    private func readLoop() {
        while true {
            let bytes: [UInt8]
            do {
                bytes = try self.stream.read(maxBytes: 64 * 1024, timeout: .seconds(1))
            } catch {
                if error.code == .closed { return }
                self.close(reason: error.code == .disconnected ? "disconnected" : "receive failed: \(error)")
                return
            }
            if bytes.isEmpty { continue }
            if let problem = self.handler.received(bytes, from: self) {
                self.close(reason: problem)
                return
            }
        }
    }
}

/// A protocol's per-client logic.
protocol ClientHandler: AnyObject, Sendable {
    /// Whether to offer this frame (subscription, streaming switches, rate cap). Called on the
    /// pipeline thread: must be quick.
    func wantsFrame(_ frame: FramePayload) -> Bool
    /// Appends the frame's bytes for this client (writer thread).
    func appendFrame(_ frame: FramePayload, into buffer: inout [UInt8])
    /// Handles received bytes (reader thread); returns a reason to drop the client, or nil.
    func received(_ bytes: [UInt8], from client: ClientConnection) -> String?
    /// Queues an event for the client (any thread), if the client wants it.
    func deliver(_ event: RenderedEvent, to client: ClientConnection)
}
