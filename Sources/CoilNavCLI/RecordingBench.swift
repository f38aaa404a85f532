import Foundation
import Formats
import Geometry
import NDITracker
import Navigation
import NavigationServer
import TrackerCore
import TrackerRecording

extension BenchCommand {
    /// Recording and replay: encoding a frame's line (the recorder's writer thread), reading it back
    /// (strict parse), and a whole recording replayed at speed 0 into the navigation engine.
    static func recordingMeasurements(
        frames: [TrackerFrame], target: NavigationTarget, headToMRI: RigidTransform, scale: (Int) -> Int
    ) throws -> [Measurement] {
        var results: [Measurement] = []
        // Three tools per frame, as a session has them (head, coil, pointer).
        let recorded: [TrackerFrame] = frames.enumerated().map { i, f in
            var f = f
            f.deviceFrameNumber = UInt32(i)
            f.hostReceiveNanoseconds = 1_000_000_000 + UInt64(i) * 2_500_000
            f.tools.append(ToolSample(name: "pointer", handle: 3, status: .missing, portStatus: 0x31))
            return f
        }
        var index = 0
        results.append(
            Stopwatch.measure("recording: encode one frame line (3 tools)", iterations: scale(2000), callsPerSample: 20) {
                index += 1
                var line = ""
                line.reserveCapacity(1024)
                let f = recorded[index % recorded.count]
                RecordingLines.append(.event(.frame(f), atNanoseconds: f.hostReceiveNanoseconds + 100_000), to: &line)
                return line.utf8.count
            })
        let header = RecordingHeader(
            tracker: "mock://bench", deviceProfile: nil, frameRateHz: 400, tools: [], startedAt: "2026-01-01T00:00:00.000Z",
            unixAtStartNanoseconds: 1_767_225_600_000_000_000, clock: "bench", clockAtStartNanoseconds: 1_000_000_000)
        var text = RecordingLines.header(header)
        RecordingLines.append(.event(.state(.tracking), atNanoseconds: 1_000_000_000), to: &text)
        for f in recorded { RecordingLines.append(.event(.frame(f), atNanoseconds: f.hostReceiveNanoseconds + 100_000), to: &text) }
        RecordingLines.append(
            .end(RecordingSummary(atNanoseconds: 4_000_000_000, frames: recorded.count, lostFrames: 0, lostOtherEvents: 0, skippedDeviceFrames: 0)),
            to: &text)
        let data = Data(text.utf8)
        results.append(
            try Stopwatch.measure("recording: read a frame line (parse, check)", iterations: scale(20)) {
                try Recording.parse(data, source: "bench").frameCount
            }.perCall(recorded.count))
        let recording = try Recording.parse(data, source: "bench")
        results.append(
            Stopwatch.measure("replay at speed 0 into the engine, per frame", iterations: scale(20)) {
                let clock = ReplayClock(start: header.clockAtStartNanoseconds, speed: 0)
                let engine = NavigationEngine(
                    configuration: NavigationEngineConfiguration(frameRateHz: 400, unixNanosecondsAtClockZero: header.unixNanosecondsAtClockZero),
                    clock: clock, targets: [target], activeTargetName: target.name, headToMRI: headToMRI)
                let done = DispatchSemaphore(value: 0)
                let source = ReplayTrackerSource(recording: recording, clock: clock) { event in
                    engine.handle(event)
                    if event == .state(.stopped) { done.signal() }
                }
                source.start()
                done.wait()
                return engine.currentSnapshot.framesProcessed
            }.perCall(recorded.count))
        return results
    }
}

extension Measurement {
    /// The figures divided by `count` (a sample that timed `count` units of work).
    func perCall(_ count: Int) -> Measurement {
        var m = self
        let k = Double(max(count, 1))
        m.minMicroseconds /= k
        m.medianMicroseconds /= k
        m.p99Microseconds /= k
        m.maxMicroseconds /= k
        return m
    }
}
