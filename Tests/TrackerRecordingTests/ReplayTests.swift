import Formats
import Foundation
import Geometry
import NDITracker
import Navigation
import NavigationServer
import Testing
import TrackerCore
import TrackerRecording

@Suite struct ReplayTests {
    static let target = NavigationTarget(name: "T1", targetToMRI: .identity, coilToCortexMM: 20)

    /// A recording written line by line: frames every 10 ms, handled 50 µs after receipt, except
    /// that the consumer was held up 105 ms on frame 4 (stale) and so took frame 5 late too; frame
    /// 5 again (a repeated frame number: stale); a warning, a loss mark and a 250 ms silence before
    /// frame 9; states; the recorded stop and the end.
    static let syntheticFrames: [(number: UInt32, received: UInt64, at: UInt64)] = [
        (1, 1_000_000_000, 1_000_050_000), (2, 1_010_000_000, 1_010_050_000), (3, 1_020_000_000, 1_020_050_000),
        (4, 1_030_000_000, 1_135_000_000), (5, 1_130_000_000, 1_136_000_000), (5, 1_140_000_000, 1_140_050_000),
        (6, 1_150_000_000, 1_150_050_000),
    ]

    static func syntheticRecording() throws -> Recording {
        var text = RecordingLines.header(testHeader(clockAtStart: 900_000_000))
        func add(_ r: RecordingRecord) { RecordingLines.append(r, to: &text) }
        add(.event(.state(.connecting), atNanoseconds: 950_000_000))
        add(.event(.state(.settingUp), atNanoseconds: 960_000_000))
        add(.event(.state(.tracking), atNanoseconds: 990_000_000))
        for f in Self.syntheticFrames {
            add(.event(.frame(testFrame(f.number, receivedAt: f.received, coil: .identity)), atNanoseconds: f.at))
        }
        add(.event(.warning("a warning"), atNanoseconds: 1_160_000_000))
        add(.lost(RecordingLoss(fromNanoseconds: 1_170_000_000, untilNanoseconds: 1_180_000_000, frames: 2, otherEvents: 0)))
        add(.event(.frame(testFrame(9, receivedAt: 1_400_000_000, coil: .identity)), atNanoseconds: 1_400_050_000))
        add(.event(.state(.stopped), atNanoseconds: 1_450_000_000))
        add(.end(RecordingSummary(atNanoseconds: 1_500_000_000, frames: 8, lostFrames: 2, lostOtherEvents: 0, skippedDeviceFrames: 0)))
        return try Recording.parse(Data(text.utf8), source: "synthetic.jsonl")
    }

    /// While each event is delivered the replay clock reads the instant it was delivered live; the
    /// recorded `stopped` gives way to the end of the recording; the loss is a warning.
    @Test func theClockReadsEachEventsRecordedInstant() throws {
        let recording = try Self.syntheticRecording()
        for speed in [0.0, 50.0] {
            let clock = ReplayClock(start: recording.header.clockAtStartNanoseconds, speed: speed)
            #expect(clock.nowNanoseconds() == 900_000_000)
            let sink = EventSink(clock: clock)
            let source = ReplayTrackerSource(recording: recording, clock: clock, onEvent: sink.push)
            source.start()
            #expect(eventually { sink.stopped })
            let expectedTimes: [UInt64] =
                [950_000_000, 960_000_000, 990_000_000] + Self.syntheticFrames.map(\.at) + [1_160_000_000, 1_180_000_000, 1_400_050_000, 1_500_000_000]
            #expect(Array(sink.times.dropLast()) == expectedTimes, "speed \(speed)")
            let events = sink.events
            #expect(events.count == 15)
            #expect(events[10] == .warning("a warning"))
            #expect(events[11] == .warning("the recording is missing 2 frames and 0 other events here (its disk did not keep up)"))
            #expect(events[13] == .state(.disconnected(reason: "end of the recording synthetic.jsonl")))
            #expect(events[14] == .state(.stopped))
            #expect(source.framesDelivered == 8)
            // Speed 0: the clock stays at the end; otherwise it runs on past it.
            if speed == 0 { #expect(clock.nowNanoseconds() == 1_500_000_000) } else { #expect(clock.nowNanoseconds() >= 1_500_000_000) }
        }
    }

    /// The engine, fed by the replay, judges staleness and silences on the recorded timeline: the
    /// frame handled 105 ms after receipt and the repeated frame number are stale, and the 100 ms
    /// silence before frame 5 and the 250 ms one before frame 9 are tracking losses (the dwell
    /// restarts) even at full speed, where no periodic watchdog check could have seen them.
    @Test func theEngineSeesTheRecordedAgesAndSilences() throws {
        let recording = try Self.syntheticRecording()
        let clock = ReplayClock(start: recording.header.clockAtStartNanoseconds, speed: 0)
        let engine = NavigationEngine(
            configuration: NavigationEngineConfiguration(
                navigation: NavigationConfiguration(onTarget: OnTargetThresholds(dwellNanoseconds: 15_000_000)), frameRateHz: 60,
                unixNanosecondsAtClockZero: recording.header.unixNanosecondsAtClockZero),
            clock: clock, targets: [Self.target], activeTargetName: "T1", headToMRI: .identity)
        final class Outputs: @unchecked Sendable {
            let lock = NSLock()
            var list: [NavigationOutput] = []
        }
        let outputs = Outputs()
        let source = ReplayTrackerSource(recording: recording, clock: clock) { event in
            engine.handle(event)
            if case .frame = event, let o = engine.currentSnapshot.output {
                outputs.lock.withLock { outputs.list.append(o) }
            }
        }
        source.start()
        #expect(eventually { engine.currentSnapshot.trackerState == .stopped })
        let list = outputs.lock.withLock { outputs.list }
        #expect(list.map(\.deviceFrameNumber) == [1, 2, 3, 4, 5, 5, 6, 9])
        #expect(list.map(\.ageNanoseconds) == [50_000, 50_000, 50_000, 105_000_000, 6_000_000, 50_000, 50_000, 50_000])
        #expect(list.map { $0.invalidity.contains(.stale) } == [false, false, false, true, false, true, false, false])
        // On target after 15 ms of valid frames: frames 1–3 acquire (on at frame 3, 20 ms), the stale
        // frame sends it off, 5 acquires, the repeated 5 is stale (off), 6 acquires; the silence
        // restarts the dwell, so 9 acquires again rather than being on (250 ms after 6).
        #expect(list.map(\.onTarget.isOnTarget) == [false, false, true, false, false, false, false, false])
        #expect(list.map(\.onTarget.dwellNanoseconds) == [0, 10_000_000, 20_000_000, 0, 0, 0, 0, 0])
        #expect(engine.currentSnapshot.trackingLost == false)
        #expect(engine.currentSnapshot.trackerState == .stopped)
    }
}
