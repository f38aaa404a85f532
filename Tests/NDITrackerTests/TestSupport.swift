import Foundation
import Geometry
import NDIProtocol
import TrackerCore
import TrackerTransport

@testable import NDITracker

/// A manual clock: time moves only when a test advances it.
final class ManualClock: TrackerClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: UInt64
    init(start: UInt64 = 1_000_000_000) { self.now = start }
    func nowNanoseconds() -> UInt64 { self.lock.withLock { self.now } }
    func advance(by d: Duration) { self.lock.withLock { self.now += d.wholeNanoseconds } }
}

/// Collects driver events (thread-safe) and waits for conditions with a hang guard.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [TrackerEvent] = []
    private var stampList: [UInt64] = []
    /// Read at each event, on the driver thread, so each event carries the driver's clock.
    let clock: (any TrackerClock)?
    init(clock: (any TrackerClock)? = nil) { self.clock = clock }
    func append(_ e: TrackerEvent) {
        let t = self.clock?.nowNanoseconds() ?? 0
        self.lock.withLock {
            self.stored.append(e)
            self.stampList.append(t)
        }
    }
    /// The clock value at each event.
    var stamps: [UInt64] { self.lock.withLock { self.stampList } }
    var events: [TrackerEvent] { self.lock.withLock { self.stored } }
    var frames: [TrackerFrame] { self.events.compactMap { if case .frame(let f) = $0 { f } else { nil } } }
    var states: [TrackerState] { self.events.compactMap { if case .state(let s) = $0 { s } else { nil } } }
    var warnings: [String] { self.events.compactMap { if case .warning(let w) = $0 { w } else { nil } } }

    /// Polls until `condition` holds; false after `guardTime` (a hang guard, never a timing assertion).
    @discardableResult
    func wait(guardTime: Duration = .seconds(30), _ condition: (EventLog) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + guardTime
        while ContinuousClock.now < deadline {
            if condition(self) { return true }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return condition(self)
    }
}

/// A small scripted NDI tracker (tracker side) for tests: answers the set-up commands with
/// plausible replies, allocates handles for PHRQ, lists handles in PHSR, and answers BX/TX with a
/// frame whose number increases by one per reply. Handle 1 is seen (a fixed pose), others
/// missing, unless `visible` says otherwise. Not a mock tracker: no scenarios, no motion.
final class ScriptedTracker: @unchecked Sendable {
    struct Port {
        var initialized = false
        var enabled = false
        var active = false
    }
    private let lock = NSLock()
    private var ports: [UInt8: Port] = [:]
    private var stale: [UInt8]
    private var nextHandle: UInt8 = 1
    private(set) var frameNumber: UInt32 = 100
    /// Received commands as wire text without CR.
    private(set) var transcript: [String] = []
    var visible: Set<UInt8> = [1]
    /// Answer nothing at all.
    var stalled = false
    /// Corrupt the body CRC of the tracking reply with this frame number.
    var corruptFrame: UInt32?
    /// Ignore this many INIT commands (a tracker at another baud rate).
    var ignoreINIT = 0

    init(activeHandles: [UInt8] = [], stale: [UInt8] = []) {
        self.stale = stale
        for h in activeHandles { self.ports[h] = Port(active: true) }
        if let m = activeHandles.max() { self.nextHandle = m + 1 }
    }

    func set(_ body: (ScriptedTracker) -> Void) { self.lock.withLock { body(self) } }
    var commands: [String] { self.lock.withLock { self.transcript } }

    /// The bytes to send for a received command line, or nil for no answer.
    func answer(_ received: Result<NDIReceivedCommand, NDICommandError>, wire: String) -> [UInt8]? {
        self.lock.withLock {
            self.transcript.append(wire)
            if self.stalled { return nil }
            guard case .success(let rc) = received else {
                if case .failure(let e) = received { return try? NDIReply.error(e.replyCode).encoded(for: .initialize) }
                return nil
            }
            let cmd = rc.command
            let reply: NDIReply
            switch cmd {
            case .initialize:
                if self.ignoreINIT > 0 {
                    self.ignoreINIT -= 1
                    return nil
                }
                reply = .okay
            case .comm, .tstart, .tstop, .pvwr:
                reply = .okay
            case .phsr(let f):
                let handles: [UInt8]
                switch f {
                case .toBeFreed: handles = self.stale
                case .notInitialized: handles = self.ports.keys.sorted().filter { !self.ports[$0]!.initialized }
                case .notEnabled:
                    handles = self.ports.keys.sorted().filter {
                        self.ports[$0]!.initialized && !self.ports[$0]!.enabled
                    }
                default: handles = self.ports.keys.sorted()
                }
                reply = .portHandles(
                    NDIPortHandleList(
                        entries: handles.map { NDIPortHandleEntry(handle: $0, status: NDIPortStatus(rawValue: 0x01)) }
                    )
                )
            case .phf(let h):
                self.stale.removeAll { $0 == h }
                reply = .okay
            case .phrq:
                let h = self.nextHandle
                self.nextHandle += 1
                self.ports[h] = Port()
                reply = .portHandle(h)
            case .pinit(let h):
                self.ports[h]?.initialized = true
                reply = .okay
            case .pena(let h, _):
                self.ports[h]?.enabled = true
                reply = .okay
            case .bx, .tx:
                self.frameNumber += 1
                let n = self.frameNumber
                let handles = self.ports.keys.sorted().filter { self.ports[$0]!.enabled }.map { h -> NDIHandleReport in
                    if self.visible.contains(h) {
                        return .valid(
                            handle: h,
                            transform: NDITransform(
                                rotation: Quaternion(q0: 0.5, qx: 0.5, qy: 0.5, qz: 0.5),
                                translation: Vector3(12.5, -34.25, -1500),
                                rmsError: 0.125
                            ),
                            portStatus: NDIPortStatus(rawValue: 0x31),
                            frameNumber: n
                        )
                    }
                    return .missing(handle: h, portStatus: NDIPortStatus(rawValue: 0x31), frameNumber: n)
                }
                reply = .tracking(NDITrackingReply(handles: handles))
                if self.corruptFrame == n, var bytes = try? reply.encoded(for: cmd) {
                    bytes[bytes.count - 1] ^= 0xFF
                    return bytes
                }
            default:
                reply = .error(.invalidCommand)
            }
            return try? reply.encoded(for: cmd)
        }
    }
}

/// Runs a `ScriptedTracker` on the tracker end of a byte stream, on its own thread, until the
/// stream closes or `stop()`. Answers a serial break (PipeStream) with RESET.
final class Responder: @unchecked Sendable {
    let tracker: ScriptedTracker
    let stream: any ByteStream
    private let lock = NSLock()
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    init(tracker: ScriptedTracker, stream: any ByteStream) {
        self.tracker = tracker
        self.stream = stream
        let t = Thread { [self] in self.loop() }
        t.start()
    }

    private func loop() {
        defer { self.finished.signal() }
        var framer = NDICommandFramer()
        while !self.lock.withLock({ self.stopping }) {
            if let pipe = self.stream as? PipeStream, pipe.takeBreaks() > 0 {
                framer = NDICommandFramer()
                _ = try? self.stream.write(NDIReply.asciiFrame(payload: Array("RESET".utf8)))
            }
            let bytes: [UInt8]
            do { bytes = try self.stream.read(maxBytes: 4096, timeout: .milliseconds(5)) } catch { return }
            guard !bytes.isEmpty else { continue }
            framer.feed(bytes)
            while let r = framer.next() {
                let wire: String
                switch r {
                case .success(let rc):
                    wire = String(
                        decoding: (try? rc.command.encoded(form: rc.form == .crc ? .crc : rc.form)) ?? [],
                        as: UTF8.self
                    ).replacingOccurrences(of: "\r", with: "")
                case .failure(let e): wire = "<\(e)>"
                }
                if let out = self.tracker.answer(r, wire: wire) {
                    do { try self.stream.write(out) } catch { return }
                }
            }
        }
    }

    /// Stops answering and closes the tracker end.
    func stop() {
        self.lock.withLock { self.stopping = true }
        if self.finished.wait(timeout: .now() + 5) == .success { self.finished.signal() }  // idempotent
        self.stream.close()
    }
}

/// Test tool sets.
enum Tools {
    static let rom: [UInt8] = (0..<100).map { UInt8($0) }
    static let coil = TrackerTool(
        name: "coil",
        kind: "coil",
        setup: .passive(path: "coil.rom", rom: rom),
        priority: .dynamic
    )
    static let head = TrackerTool(
        name: "head",
        kind: "head-reference",
        setup: .passive(path: "head.rom", rom: [0xAB]),
        priority: .staticTool
    )
    static let probe = TrackerTool(name: "probe", kind: "pointer", setup: .active, priority: .dynamic)
}

/// Wire text of a command with its CRC, computed here independently of `NDICommand.encoded`.
func wire(_ body: String) -> String {
    let crc = NDICRC16.bitwiseChecksum(Array(body.utf8))
    let hex = String(crc, radix: 16, uppercase: true)
    return body + String(repeating: "0", count: 4 - hex.count) + hex
}

/// The 16 PVWR lines writing `rom` (zero-padded to 1024 bytes) to `handle`, built by hand.
func pvwrLines(handle: String, rom: [UInt8]) -> [String] {
    let padded = rom + Array(repeating: 0, count: 1024 - rom.count)
    return (0..<16).map { i in
        let addr = String(i * 64, radix: 16, uppercase: true)
        let a = String(repeating: "0", count: 4 - addr.count) + addr
        let hex = padded[(i * 64)..<(i * 64 + 64)].map { String(format: "%02X", $0) }.joined()
        return wire("PVWR:\(handle)\(a)\(hex)")
    }
}

func durationNanos(_ d: Duration) -> UInt64 { d.wholeNanoseconds }
