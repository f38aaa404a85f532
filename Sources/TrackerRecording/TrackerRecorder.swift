import Foundation
import Formats
import Glibc
import NDITracker
import TrackerCore

/// Where a recorder's bytes go. Called only from the recorder's writer thread, in order.
public protocol RecordingSink: AnyObject, Sendable {
    /// Writes all of `bytes` (one batch of whole lines) or throws.
    func write(_ bytes: [UInt8]) throws(FileFormatError)
    /// Makes what was written durable (fsync).
    func synchronize() throws(FileFormatError)
    func close()
}

/// A recording file: created new (mode 0644; an existing file is refused unless `overwrite`),
/// written with `write(2)`, made durable with `fsync(2)`.
public final class FileRecordingSink: RecordingSink, @unchecked Sendable {
    // @unchecked: `fd` is used by the writer thread only (and `close` after it has finished).
    public let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { self.close() }

    public static func create(path: String, overwrite: Bool) throws(FileFormatError) -> FileRecordingSink {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL)
        let fd = Glibc.open(path, flags, 0o644)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST {
                throw FileFormatError(file: path, message: "the file exists; choose another name or overwrite it with --force")
            }
            throw FileFormatError(file: path, message: "cannot create the recording: \(String(cString: strerror(code))) (errno \(code))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            _ = Glibc.close(fd)
            throw FileFormatError(file: path, message: "cannot create the recording: not a regular file")
        }
        return FileRecordingSink(path: path, fd: fd)
    }

    public func write(_ bytes: [UInt8]) throws(FileFormatError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(self.fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw self.systemError("cannot write the recording")
            }
            if n == 0 { throw FileFormatError(file: self.path, message: "cannot write the recording: no progress (disk full?)") }
            offset += n
        }
    }

    public func synchronize() throws(FileFormatError) {
        guard fsync(self.fd) == 0 else { throw self.systemError("cannot fsync the recording") }
    }

    public func close() {
        if self.fd >= 0 {
            _ = Glibc.close(self.fd)
            self.fd = -1
        }
    }

    private func systemError(_ what: String) -> FileFormatError {
        let code = errno
        return FileFormatError(file: self.path, message: "\(what): \(String(cString: strerror(code))) (errno \(code))")
    }
}

/// What a recorder has seen so far.
public struct RecorderStatistics: Sendable, Equatable {
    /// Frames accepted for writing.
    public var frames = 0
    /// Frames and other events dropped because the queue was full (the disk did not keep up), or
    /// after a write error.
    public var lostFrames = 0
    public var lostOtherEvents = 0
    /// Device frame numbers skipped between consecutive frames received (see `RecordingSummary`).
    public var skippedDeviceFrames = 0
    public var firstDeviceFrame: UInt32?
    public var lastDeviceFrame: UInt32?
    /// Host receive times of the first and last frame received.
    public var firstFrameNanoseconds: UInt64?
    public var lastFrameNanoseconds: UInt64?
    /// Bytes written so far, header included.
    public var bytesWritten = 0

    /// Seconds from the first to the last frame.
    public var durationSeconds: Double {
        guard let a = self.firstFrameNanoseconds, let b = self.lastFrameNanoseconds, b >= a else { return 0 }
        return Double(b - a) / 1e9
    }
}

/// Records tracker events to a sink without ever making the caller wait for the disk.
///
/// `record(_:atNanoseconds:)` is called on the tracker's thread: it takes a lock for a few
/// instructions and appends the event to a bounded queue. A writer thread encodes what is queued
/// (the encoding happens there, not on the tracker's thread), writes it in one `write` per batch,
/// and fsyncs every `syncInterval`. When the queue is full the event is dropped and counted; the
/// next event that fits is preceded in the file by a `lost` record saying how many frames and other
/// events are missing there, and the end record repeats the totals, so a loss is never silent.
/// A write error stops the writing (everything after it is counted as lost) and is reported by
/// `failure` and by `finish`.
public final class TrackerRecorder: @unchecked Sendable {
    // @unchecked: mutable state is guarded by `condition`; the sink is used by the writer thread.
    public let header: RecordingHeader
    public let capacity: Int
    /// Frames after this many are not recorded (states and warnings still are).
    public let frameLimit: Int?
    private let sink: any RecordingSink
    private let syncInterval: Duration
    private let condition = NSCondition()
    private var queue: [RecordingRecord] = []
    private var queuedEvents = 0
    private var pendingLoss: RecordingLoss?
    private var stats = RecorderStatistics()
    private var finishing: UInt64?
    private var writeFailure: FileFormatError?
    private var accepting = true
    private let done = DispatchSemaphore(value: 0)

    /// Starts the writer thread, which writes the header at once.
    /// - Parameters:
    ///   - capacity: events the queue holds before it drops (a minute at 60 Hz by default).
    ///   - syncInterval: how often what was written is fsync'd.
    ///   - frameLimit: record only the first frames (so a recording of `--frames N` holds exactly the
    ///     N frames a live consumer used, not those that arrived while the tracker was stopping).
    public init(
        header: RecordingHeader, sink: any RecordingSink, capacity: Int = 4096, syncInterval: Duration = .seconds(5),
        frameLimit: Int? = nil
    ) {
        self.header = header
        self.frameLimit = frameLimit
        self.sink = sink
        self.capacity = max(1, capacity)
        self.syncInterval = syncInterval
        let thread = Thread { [self] in
            self.run()
            self.done.signal()
        }
        thread.name = "coilnav.recorder"
        thread.start()
    }

    /// Queues one event (never blocks on the disk). Events after `finish` are ignored.
    public func record(_ event: TrackerEvent, atNanoseconds at: UInt64) {
        self.condition.lock()
        defer { self.condition.unlock() }
        guard self.accepting else { return }
        var isFrame = false
        if case .frame(let f) = event {
            isFrame = true
            if let limit = self.frameLimit, self.stats.frames + self.stats.lostFrames >= limit { return }
            if let last = self.stats.lastDeviceFrame {
                let step = f.deviceFrameNumber &- last
                if step > 1 && step < 1 << 31 { self.stats.skippedDeviceFrames += Int(step - 1) }
            }
            if self.stats.firstDeviceFrame == nil {
                self.stats.firstDeviceFrame = f.deviceFrameNumber
                self.stats.firstFrameNanoseconds = f.hostReceiveNanoseconds
            }
            self.stats.lastDeviceFrame = f.deviceFrameNumber
            self.stats.lastFrameNanoseconds = f.hostReceiveNanoseconds
        }
        if self.queuedEvents >= self.capacity || self.writeFailure != nil {
            var loss = self.pendingLoss ?? RecordingLoss(fromNanoseconds: at, untilNanoseconds: at, frames: 0, otherEvents: 0)
            loss.untilNanoseconds = at
            if isFrame { loss.frames += 1 } else { loss.otherEvents += 1 }
            self.pendingLoss = loss
            if isFrame { self.stats.lostFrames += 1 } else { self.stats.lostOtherEvents += 1 }
            return
        }
        if let loss = self.pendingLoss {
            self.queue.append(.lost(loss))
            self.pendingLoss = nil
        }
        self.queue.append(.event(event, atNanoseconds: at))
        self.queuedEvents += 1
        if isFrame { self.stats.frames += 1 }
        self.condition.signal()
    }

    /// An `onEvent` callback for a tracker source: each event is delivered under `clock`'s pinned
    /// instant, recorded with it, then handed to `consumer` (which reads the same instant from
    /// `clock`).
    public func tap(
        clock: DeliveryClock, then consumer: @escaping @Sendable (TrackerEvent) -> Void
    ) -> @Sendable (TrackerEvent) -> Void {
        { event in
            clock.deliver { at in
                self.record(event, atNanoseconds: at)
                consumer(event)
            }
        }
    }

    /// Whether `frameLimit` frames have been received.
    public var reachedFrameLimit: Bool {
        guard let limit = self.frameLimit else { return false }
        let s = self.statistics
        return s.frames + s.lostFrames >= limit
    }

    /// The counters so far.
    public var statistics: RecorderStatistics {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.stats
    }

    /// The write error that stopped the recording, if any.
    public var failure: FileFormatError? {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.writeFailure
    }

    /// Stops accepting events, writes what is queued, a `lost` record if events were dropped since
    /// the last one written, and the end record (at `atNanoseconds`), fsyncs and closes. Call it
    /// once, after the tracker has stopped; it waits for the disk.
    @discardableResult
    public func finish(atNanoseconds at: UInt64) throws(FileFormatError) -> RecordingSummary {
        self.condition.lock()
        self.accepting = false
        self.finishing = at
        self.condition.signal()
        self.condition.unlock()
        self.done.wait()
        self.done.signal()
        self.condition.lock()
        defer { self.condition.unlock() }
        if let e = self.writeFailure { throw e }
        return RecordingSummary(
            atNanoseconds: at, frames: self.stats.frames, lostFrames: self.stats.lostFrames,
            lostOtherEvents: self.stats.lostOtherEvents, skippedDeviceFrames: self.stats.skippedDeviceFrames)
    }

    // MARK: The writer thread

    private func run() {
        defer { self.sink.close() }
        guard self.write(Array(RecordingLines.header(self.header).utf8)) else { return }
        var lastSync = ContinuousClock.now
        var text = ""
        while true {
            self.condition.lock()
            while self.queue.isEmpty && self.finishing == nil {
                _ = self.condition.wait(until: Date().addingTimeInterval(0.5))
                if self.queue.isEmpty, ContinuousClock.now - lastSync >= self.syncInterval { break }
            }
            let batch = self.queue
            self.queue.removeAll(keepingCapacity: true)
            self.queuedEvents = 0
            let finishingAt = self.finishing
            var tail: [RecordingRecord] = []
            if let at = finishingAt {
                if let loss = self.pendingLoss {
                    tail.append(.lost(loss))
                    self.pendingLoss = nil
                }
                tail.append(
                    .end(
                        RecordingSummary(
                            atNanoseconds: max(at, batch.last?.atNanoseconds ?? 0), frames: self.stats.frames,
                            lostFrames: self.stats.lostFrames, lostOtherEvents: self.stats.lostOtherEvents,
                            skippedDeviceFrames: self.stats.skippedDeviceFrames)))
            }
            self.condition.unlock()

            text.removeAll(keepingCapacity: true)
            for r in batch { RecordingLines.append(r, to: &text) }
            for r in tail { RecordingLines.append(r, to: &text) }
            if !text.isEmpty, !self.write(Array(text.utf8)) { return }
            if finishingAt != nil || ContinuousClock.now - lastSync >= self.syncInterval {
                do {
                    try self.sink.synchronize()
                } catch {
                    self.fail(error)
                    return
                }
                lastSync = ContinuousClock.now
            }
            if finishingAt != nil { return }
        }
    }

    private func write(_ bytes: [UInt8]) -> Bool {
        do {
            try self.sink.write(bytes)
        } catch {
            self.fail(error)
            return false
        }
        self.condition.lock()
        self.stats.bytesWritten += bytes.count
        self.condition.unlock()
        return true
    }

    private func fail(_ error: FileFormatError) {
        self.condition.lock()
        if self.writeFailure == nil { self.writeFailure = error }
        // Everything still queued is lost.
        for r in self.queue {
            if case .event(let e, _) = r {
                if case .frame = e { self.stats.lostFrames += 1; self.stats.frames -= 1 } else { self.stats.lostOtherEvents += 1 }
            }
        }
        self.queue.removeAll()
        self.queuedEvents = 0
        self.condition.unlock()
    }
}
