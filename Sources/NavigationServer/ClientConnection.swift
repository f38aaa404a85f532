import Foundation
import Geometry
import IGTLProtocol
import JSONLinesProtocol
import Navigation
import Synchronization
import TrackerCore
import TrackerTransport

/// What the pipeline hands every client for one frame: the frame's navigation output and
/// transforms. The messages are encoded **lazily and once**: the first client writer that needs a
/// form (OpenIGTLink header version 1 or 2, the JSON line) encodes it and every other client
/// reuses the bytes, so encoding never runs on the tracking thread.
public final class FramePayload: Sendable {
    public let frameNumber: UInt32
    public let hostNanoseconds: UInt64
    public let output: NavigationOutput
    public let transforms: FrameTransforms
    public let targetName: String?
    public let pointerTipMRI: Vector3?
    public let pointerStatus: ToolStatus?
    public let timestamp: IGTLTimestamp
    /// The first of the `messageIDsPerFrame` header-version-2 message IDs reserved for this frame.
    public let firstMessageID: UInt32
    /// Six transforms and the metrics STRING.
    public static let messageIDsPerFrame: UInt32 = 7

    private struct Encoded {
        var json: [UInt8]?
        var transformsV1: [UInt8]?
        var transformsV2: [UInt8]?
        var metricsV1: [UInt8]?
        var metricsV2: [UInt8]?
    }
    private let encoded = Mutex(Encoded())

    public init(
        output: NavigationOutput, transforms: FrameTransforms, targetName: String?, pointerTipMRI: Vector3?,
        pointerStatus: ToolStatus?, timestamp: IGTLTimestamp, firstMessageID: UInt32
    ) {
        self.frameNumber = output.deviceFrameNumber
        self.hostNanoseconds = output.hostReceiveNanoseconds
        self.output = output
        self.transforms = transforms
        self.targetName = targetName
        self.pointerTipMRI = pointerTipMRI
        self.pointerStatus = pointerStatus
        self.timestamp = timestamp
        self.firstMessageID = firstMessageID
    }

    /// The JSON-lines `frame` line, with its newline.
    public var jsonLine: [UInt8] {
        self.encoded.withLock { e in Self.json(&e, self) }
    }

    private static func json(_ e: inout Encoded, _ p: FramePayload) -> [UInt8] {
        if let j = e.json { return j }
        var out: [UInt8] = []
        out.reserveCapacity(1200)
        JSONLEncoder.appendFrame(p.output, targetName: p.targetName, pointerTipMRI: p.pointerTipMRI, pointerStatus: p.pointerStatus, into: &out)
        e.json = out
        return out
    }

    /// The frame's TRANSFORM messages for a client of this header version.
    public func igtlTransforms(headerVersion: UInt16) -> [UInt8] {
        self.encoded.withLock { e in
            if headerVersion == 1, let t = e.transformsV1 { return t }
            if headerVersion == 2, let t = e.transformsV2 { return t }
            var out: [UInt8] = []
            out.reserveCapacity(headerVersion == 1 ? 640 : 1100)
            var id = self.firstMessageID
            IGTLFrameEncoder.appendTransforms(self.transforms, headerVersion: headerVersion, timestamp: self.timestamp, messageID: &id, into: &out)
            if headerVersion == 1 { e.transformsV1 = out } else { e.transformsV2 = out }
            return out
        }
    }

    /// The metrics STRING (the JSON `frame` object) for a client of this header version.
    public func igtlMetrics(headerVersion: UInt16) -> [UInt8] {
        self.encoded.withLock { e in
            if headerVersion == 1, let m = e.metricsV1 { return m }
            if headerVersion == 2, let m = e.metricsV2 { return m }
            var text = Self.json(&e, self)
            if text.last == 0x0A { text.removeLast() }
            var out: [UInt8] = []
            var id = self.firstMessageID &+ 6
            IGTLFrameEncoder.appendString(
                device: IGTLDeviceName.metrics, text: text, headerVersion: headerVersion, timestamp: self.timestamp, messageID: &id,
                into: &out)
            if headerVersion == 1 { e.metricsV1 = out } else { e.metricsV2 = out }
            return out
        }
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
    /// Someone is writing to the socket: the writer thread (between `take` and `writeFinished`) or
    /// the fan-out's direct send (between `claimForDirectSend` and `endDirectSend`).
    private var busy = false
    /// What a direct send could not hand to the socket: it goes out first, by the writer.
    private var unsent: [UInt8] = []
    /// Set by `finish`: deliver the queued messages, then close with this reason.
    private var finishingReason: String?

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
        if self.closedReason != nil || self.finishingReason != nil { return false }
        self.frame = frame
        self.condition.signal()
        return true
    }

    /// Queues a message that must be delivered. Returns false when the queue overflows (the caller
    /// drops the client) or the outbox is closed.
    @discardableResult
    func enqueue(_ bytes: [UInt8]) -> Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        if self.closedReason != nil || self.finishingReason != nil { return false }
        if self.controlBytes + bytes.count > self.controlLimitBytes { return false }
        self.control.append(bytes)
        self.controlBytes += bytes.count
        self.condition.signal()
        return true
    }

    /// Claims the socket for a frame sent straight away by the fan-out thread: only when nothing
    /// else waits to go out and nobody is writing (so messages keep their order). The caller then
    /// sends without blocking and must call `endDirectSend`.
    func claimForDirectSend() -> Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        guard self.closedReason == nil, self.finishingReason == nil, !self.busy, self.frame == nil, self.control.isEmpty,
            self.unsent.isEmpty
        else { return false }
        self.busy = true
        return true
    }

    /// Ends a direct send; what the socket did not take goes out first, by the writer thread.
    func endDirectSend(unsent: ArraySlice<UInt8>) {
        self.condition.lock()
        defer { self.condition.unlock() }
        self.busy = false
        if !unsent.isEmpty { self.unsent = Array(unsent) }
        self.condition.signal()
    }

    /// Waits until something is queued (and nobody is writing) or the outbox is closed; returns
    /// the bytes a direct send left, the control messages in order and the latest frame, or nil
    /// once closed. The caller writes them and then calls `writeFinished`.
    func take() -> (control: [[UInt8]], frame: FramePayload?)? {
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.closedReason == nil
            && (self.busy
                || (self.finishingReason == nil && self.frame == nil && self.control.isEmpty && self.unsent.isEmpty))
        {
            self.condition.wait()
        }
        if self.closedReason != nil { return nil }
        var c = self.control
        if !self.unsent.isEmpty {
            c.insert(self.unsent, at: 0)
            self.unsent = []
        }
        if let reason = self.finishingReason {
            if c.isEmpty {
                self.closedReason = reason
                return nil
            }
            self.control.removeAll()
            self.controlBytes = 0
            self.busy = true
            return (c, nil)
        }
        let f = self.frame
        self.control.removeAll(keepingCapacity: true)
        self.controlBytes = 0
        self.frame = nil
        self.busy = true
        return (c, f)
    }

    /// The writer thread has written what `take` gave it.
    func writeFinished() {
        self.condition.lock()
        defer { self.condition.unlock() }
        self.busy = false
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

    /// Stops taking frames and messages; the writer delivers what is queued, then sees the outbox
    /// closed with `reason`.
    func finish(reason: String) {
        self.condition.lock()
        defer { self.condition.unlock() }
        if self.closedReason != nil || self.finishingReason != nil { return }
        self.finishingReason = reason
        self.frame = nil
        self.condition.broadcast()
    }

    /// Why the outbox closed (or is finishing).
    var reason: String? {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.closedReason ?? self.finishingReason
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

    /// Delivers the newest of `frames` (oldest first) that the client wants — every one is put to
    /// `wantsFrame` in order, as if each had been offered: sent at once, without blocking, when
    /// nothing else is waiting to go out to this client (no thread wakes up for it); otherwise — or
    /// for what the socket did not take — through the outbox and the writer thread, latest wins.
    /// Called by the one fan-out thread; `scratch` is its reusable buffer.
    func deliver(frames: ArraySlice<FramePayload>, scratch: inout [UInt8]) {
        var wanted: FramePayload?
        for f in frames where self.handler.wantsFrame(f) { wanted = f }
        guard let frame = wanted else { return }
        guard self.outbox.claimForDirectSend() else {
            self.outbox.offer(frame: frame)
            return
        }
        scratch.removeAll(keepingCapacity: true)
        self.handler.appendFrame(frame, into: &scratch)
        let sent: Int
        do {
            sent = try self.stream.writeAvailable(scratch)
        } catch {
            self.outbox.endDirectSend(unsent: [])
            self.close(reason: "send failed: \(error)")
            return
        }
        self.outbox.endDirectSend(unsent: scratch[sent...])
    }

    /// Queues a message that must arrive; a client that lets its queue overflow is dropped.
    func send(_ bytes: [UInt8]) {
        if !self.outbox.enqueue(bytes), self.outbox.reason == nil {
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
            if buffer.isEmpty {
                self.outbox.writeFinished()
                continue
            }
            do {
                try self.stream.write(buffer)
                self.outbox.writeFinished()
            } catch {
                if error.code == .timeout {
                    self.close(reason: "stalled: could not send for \(self.stream.writeTimeout) (\(error))")
                } else {
                    self.close(reason: "send failed: \(error)")
                }
                return
            }
        }
        // Finished (a protocol violation: the last messages, e.g. the error, were delivered first).
        self.close(reason: self.outbox.reason ?? "closed")
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
                // Deliver what is queued (the error response), then close: the writer does both.
                self.outbox.finish(reason: problem)
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
