import Formats
import Foundation
import Geometry
import NDITracker
import Testing
import TrackerCore
import TrackerRecording

@Suite struct RecorderTests {
    static let pose = RigidTransform.translation(Vector3(1, 2, -1450))

    /// The disk stalls (the sink holds the header write): the tracker's thread keeps going — every
    /// `record` returns while the disk is still stalled — the queue keeps the first 4 frames, the
    /// 6 after them are counted as lost, and the file says so where they were lost and at the end.
    @Test func aStalledDiskLosesCountedFramesAndNeverStallsTheTracker() throws {
        let sink = MemorySink()
        sink.hold()
        let recorder = TrackerRecorder(header: testHeader(), sink: sink, capacity: 4)
        #expect(eventually { sink.isBlocked })
        let pushed = DispatchSemaphore(value: 0)
        let tracker = Thread {
            for i in 0..<10 {
                let t = 1_000_000_000 + UInt64(i) * 5_000_000
                recorder.record(.frame(testFrame(UInt32(100 + i), receivedAt: t, coil: Self.pose)), atNanoseconds: t + 1000)
            }
            pushed.signal()
        }
        tracker.start()
        // Hang guard only: the pushes finish while the disk is still held.
        #expect(pushed.wait(timeout: .now() + 30) == .success)
        #expect(sink.isBlocked)
        var stats = recorder.statistics
        #expect(stats.frames == 4)
        #expect(stats.lostFrames == 6)
        #expect(stats.skippedDeviceFrames == 0)
        sink.release()
        #expect(eventually { sink.writes == 2 })  // the header, then the 4 queued frames
        // After the stall: one more frame (which marks the loss), a state, then the end.
        recorder.record(.frame(testFrame(110, receivedAt: 1_050_000_000, coil: nil)), atNanoseconds: 1_050_001_000)
        recorder.record(.state(.stopped), atNanoseconds: 1_060_000_000)
        let summary = try recorder.finish(atNanoseconds: 1_070_000_000)
        #expect(summary == RecordingSummary(atNanoseconds: 1_070_000_000, frames: 5, lostFrames: 6, lostOtherEvents: 0, skippedDeviceFrames: 0))
        let r = try Recording.parse(Data(sink.text.utf8), source: "mem")
        #expect(r.frames.map(\.deviceFrameNumber) == [100, 101, 102, 103, 110])
        #expect(r.records[4] == .lost(RecordingLoss(fromNanoseconds: 1_020_001_000, untilNanoseconds: 1_045_001_000, frames: 6, otherEvents: 0)))
        #expect(r.summary == summary)
        #expect(r.warnings == [])
        #expect(sink.synchronized >= 1)
        #expect(sink.closed)
        stats = recorder.statistics
        #expect(stats.bytesWritten == sink.text.utf8.count)
    }

    /// Frames the device made but the host never received (frame numbers that jump) are counted.
    @Test func skippedDeviceFramesAreCounted() throws {
        let sink = MemorySink()
        let recorder = TrackerRecorder(header: testHeader(), sink: sink)
        for (i, n) in [UInt32(10), 11, 14, 15, 20].enumerated() {
            let t = 1_000_000_000 + UInt64(i) * 5_000_000
            recorder.record(.frame(testFrame(n, receivedAt: t, coil: Self.pose)), atNanoseconds: t)
        }
        let summary = try recorder.finish(atNanoseconds: 2_000_000_000)
        #expect(summary.skippedDeviceFrames == 6)
        #expect(summary.frames == 5)
        #expect(recorder.statistics.firstDeviceFrame == 10)
        #expect(recorder.statistics.lastDeviceFrame == 20)
        #expect(recorder.statistics.durationSeconds == 0.02)
    }

    /// With a frame limit only the first frames are written; states after them still are.
    @Test func aFrameLimitKeepsTheFirstFrames() throws {
        let sink = MemorySink()
        let recorder = TrackerRecorder(header: testHeader(), sink: sink, frameLimit: 3)
        recorder.record(.state(.tracking), atNanoseconds: 999_000_000)
        for i in 0..<5 {
            let t = 1_000_000_000 + UInt64(i) * 5_000_000
            recorder.record(.frame(testFrame(UInt32(i), receivedAt: t, coil: Self.pose)), atNanoseconds: t)
            #expect(recorder.reachedFrameLimit == (i >= 2))
        }
        recorder.record(.state(.stopped), atNanoseconds: 1_100_000_000)
        try recorder.finish(atNanoseconds: 1_200_000_000)
        let r = try Recording.parse(Data(sink.text.utf8), source: "mem")
        #expect(r.frames.map(\.deviceFrameNumber) == [0, 1, 2])
        #expect(r.records.first == .event(.state(.tracking), atNanoseconds: 999_000_000))
        #expect(r.records.last == .event(.state(.stopped), atNanoseconds: 1_100_000_000))
        #expect(r.summary?.lostFrames == 0)
    }

    /// A write error stops the recording: it is reported, later events are counted as lost, and
    /// `finish` throws it.
    @Test func aWriteErrorIsReportedNeverSwallowed() throws {
        let sink = MemorySink()
        let recorder = TrackerRecorder(header: testHeader(), sink: sink)
        #expect(eventually { sink.writes == 1 })
        sink.failNextWrites("cannot write the recording: No space left on device (errno 28)")
        recorder.record(.frame(testFrame(1, receivedAt: 1_000_000_000, coil: Self.pose)), atNanoseconds: 1_000_000_000)
        #expect(eventually { recorder.failure != nil })
        recorder.record(.frame(testFrame(2, receivedAt: 1_005_000_000, coil: Self.pose)), atNanoseconds: 1_005_000_000)
        #expect(recorder.statistics.lostFrames == 1)
        #expect(throws: FileFormatError(file: "memory", message: "cannot write the recording: No space left on device (errno 28)")) {
            try recorder.finish(atNanoseconds: 1_010_000_000)
        }
    }

    /// A real file: created new, refused when it exists, overwritten with force; fsync'd.
    @Test func aFileSinkRefusesToOverwrite() throws {
        let dir = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.jsonl").path
        let recorder = TrackerRecorder(header: testHeader(), sink: try FileRecordingSink.create(path: path, overwrite: false))
        recorder.record(.frame(testFrame(1, receivedAt: 1_000_000_000, coil: Self.pose)), atNanoseconds: 1_000_000_000)
        try recorder.finish(atNanoseconds: 1_000_000_001)
        #expect(try Recording.read(path: path).frameCount == 1)
        #expect(throws: FileFormatError(file: path, message: "the file exists; choose another name or overwrite it with --force")) {
            _ = try FileRecordingSink.create(path: path, overwrite: false)
        }
        let again = TrackerRecorder(header: testHeader(), sink: try FileRecordingSink.create(path: path, overwrite: true))
        again.record(.state(.connecting), atNanoseconds: 1)
        try again.finish(atNanoseconds: 2)
        #expect(try Recording.read(path: path).frameCount == 0)
    }
}
