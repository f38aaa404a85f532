import Formats
import Foundation
import Geometry
import NDITracker
import TrackerCore
import TrackerRecording

enum Paths {
    /// The repository root (this file is Tests/TrackerRecordingTests/Support.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func repo(_ path: String) -> String { root.appendingPathComponent(path).path }

    /// The record/replay scenario: every fault in 2 s at 200 Hz.
    static let faultsScenario = repo("Tests/TrackerRecordingTests/Fixtures/faults-200hz.json")

    static func temporaryDirectory() throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("coilnav-recording-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}

/// A header with fixed values.
func testHeader(tools: [RecordedTool] = [], clockAtStart: UInt64 = 1_000_000_000) -> RecordingHeader {
    RecordingHeader(
        tracker: "mock://scenario.json?seed=3", deviceProfile: nil, frameRateHz: 60, tools: tools,
        startedAt: "2025-03-14T09:26:53.000Z", unixAtStartNanoseconds: 1_741_944_413_000_000_000, clock: "test",
        clockAtStartNanoseconds: clockAtStart)
}

/// A frame with a coil and a head pose (optional), as a driver would deliver it.
func testFrame(_ number: UInt32, receivedAt t: UInt64, coil: RigidTransform?, head: RigidTransform? = .identity) -> TrackerFrame {
    func sample(_ name: String, _ handle: UInt8, _ pose: RigidTransform?) -> ToolSample {
        ToolSample(
            name: name, handle: handle, status: pose == nil ? .missing : .ok, toolToTracker: pose,
            rmsErrorMM: pose == nil ? nil : 0.15000000596046448, portStatus: 0x31)
    }
    return TrackerFrame(deviceFrameNumber: number, hostReceiveNanoseconds: t, tools: [sample("head", 1, head), sample("coil", 2, coil)])
}

/// An in-memory sink that can be held shut (a stalled disk) and made to fail.
final class MemorySink: RecordingSink, @unchecked Sendable {
    private let condition = NSCondition()
    private var stored: [UInt8] = []
    private var held = false
    private(set) var writes = 0
    private var failWith: String?
    private(set) var synchronized = 0
    private(set) var closed = false
    /// True while a write is waiting behind `hold()`.
    private(set) var blockedWriters = 0

    func hold() { self.condition.withLock { self.held = true } }

    func release() {
        self.condition.withLock {
            self.held = false
            self.condition.broadcast()
        }
    }

    func failNextWrites(_ message: String) { self.condition.withLock { self.failWith = message } }

    var text: String { self.condition.withLock { String(decoding: self.stored, as: UTF8.self) } }
    var isBlocked: Bool { self.condition.withLock { self.blockedWriters > 0 } }

    func write(_ bytes: [UInt8]) throws(FileFormatError) {
        self.condition.lock()
        defer { self.condition.unlock() }
        self.blockedWriters += 1
        while self.held { self.condition.wait() }
        self.blockedWriters -= 1
        if let m = self.failWith { throw FileFormatError(file: "memory", message: m) }
        self.stored += bytes
        self.writes += 1
    }

    func synchronize() throws(FileFormatError) { self.condition.withLock { self.synchronized += 1 } }
    func close() { self.condition.withLock { self.closed = true } }
}

/// Polls until `condition` holds; false after `guardTime` (a hang guard, never a timing assertion).
@discardableResult
func eventually(guardTime: Duration = .seconds(30), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + guardTime
    while ContinuousClock.now < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.002)
    }
    return condition()
}

/// Collects events (thread-safe).
final class EventSink: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [TrackerEvent] = []
    private var stamps: [UInt64] = []
    let clock: (any TrackerClock)?
    init(clock: (any TrackerClock)? = nil) { self.clock = clock }
    func push(_ e: TrackerEvent) {
        let t = self.clock?.nowNanoseconds() ?? 0
        self.lock.withLock {
            self.stored.append(e)
            self.stamps.append(t)
        }
    }
    var events: [TrackerEvent] { self.lock.withLock { self.stored } }
    /// The clock's reading at each event, read while the event was delivered.
    var times: [UInt64] { self.lock.withLock { self.stamps } }
    var stopped: Bool { self.events.last == .state(.stopped) }
}
