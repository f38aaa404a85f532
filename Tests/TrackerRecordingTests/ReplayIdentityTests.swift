import Formats
import Foundation
import Geometry
import JSONLinesProtocol
import MockTracker
import MockTrackerServer
import NDITracker
import Navigation
import NavigationServer
import Testing
import TrackerCore
import TrackerRecording

/// Issue 5's "must show": record → replay gives identical pipeline outputs.
///
/// The live run: the mock tracker (the faults scenario: occlusions, dropouts, partly out of volume,
/// a disabled port, a corrupt reply, a stall and a disconnect) → the NDI driver → a recording tap
/// that stamps each event with one instant (`DeliveryClock`) → the recorder (a real file) and the
/// navigation engine reading that instant as "now". The replay: the file → `ReplayTrackerSource` →
/// a second engine reading the `ReplayClock`. Every frame's `NavigationOutput` and JSON-lines
/// frame line, and every event, must be identical.
@Suite(.serialized) struct ReplayIdentityTests {
    /// The navigation pipeline with everything it computes per frame collected, on the source's thread.
    final class Pipeline: @unchecked Sendable {
        let engine: NavigationEngine
        let clock: any TrackerClock
        let pointerTip = Vector3(-1.2, 0.4, -158.3)
        /// A second pipeline whose frames go stale after 150 µs (about the median delay from receipt
        /// to handling in a debug build), so that staleness depends on the exact instant each frame
        /// was handled.
        private var strict: FrameProcessor
        private let lock = NSLock()
        private var outputsStore: [NavigationOutput] = []
        private var strictStore: [NavigationOutput] = []
        private var linesStore: [String] = []
        private var eventsStore: [TrackerEvent] = []

        init(clock: any TrackerClock, targets: [NavigationTarget], headToMRI: RigidTransform) {
            self.clock = clock
            // The watchdog's limit at its 100 ms maximum (as at ≤ 30 Hz), so that only the mock's
            // faults — a 120 ms stall, a disconnect — count as losses, not a busy test machine.
            self.engine = NavigationEngine(
                configuration: NavigationEngineConfiguration(frameRateHz: 20, unixNanosecondsAtClockZero: 1_700_000_000_000_000_000),
                clock: clock, targets: targets, activeTargetName: "DLPFC-Fox2012", headToMRI: headToMRI, pointerTipMM: self.pointerTip)
            self.strict = FrameProcessor(
                configuration: NavigationConfiguration(maxFrameAgeNanoseconds: 150_000), headToMRI: headToMRI,
                activeTarget: targets.first { $0.name == "DLPFC-Fox2012" })
        }

        func handle(_ event: TrackerEvent) {
            self.engine.handle(event)
            self.lock.lock()
            defer { self.lock.unlock() }
            self.eventsStore.append(event)
            switch event {
            case .frame(let frame):
                let snapshot = self.engine.currentSnapshot
                guard let output = snapshot.output else { return }
                self.outputsStore.append(output)
                var bytes: [UInt8] = []
                JSONLEncoder.appendFrame(
                    output, targetName: snapshot.activeTarget?.name, pointerTipMRI: snapshot.pointerToMRI.map { $0.apply(to: self.pointerTip) },
                    pointerStatus: snapshot.pointerStatus, into: &bytes)
                self.linesStore.append(String(decoding: bytes, as: UTF8.self))
                self.strictStore.append(self.strict.process(frame: frame, nowNanoseconds: self.clock.nowNanoseconds()))
            case .state(.tracking): self.strict.resetFrameSequence()
            default: break
            }
        }

        var outputs: [NavigationOutput] { self.lock.withLock { self.outputsStore } }
        var strictOutputs: [NavigationOutput] { self.lock.withLock { self.strictStore } }
        var lines: [String] { self.lock.withLock { self.linesStore } }
        var events: [TrackerEvent] { self.lock.withLock { self.eventsStore } }
        var frameCount: Int { self.lock.withLock { self.outputsStore.count } }
        var states: [TrackerState] { self.events.compactMap { if case .state(let s) = $0 { s } else { nil } } }
    }

    static func targets() throws -> [NavigationTarget] {
        try Plan.load(path: Paths.repo("Mock/demo/plan.json")).targets.map {
            NavigationTarget(name: $0.name, targetToMRI: $0.coilToMRI, coilToCortexMM: $0.coilToCortexMM ?? 0)
        }
    }

    static func groundTruthHeadToMRI() throws -> RigidTransform {
        let data = try Data(contentsOf: URL(fileURLWithPath: Paths.repo("Mock/demo/ground-truth.json")))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try RigidTransform(matrix4x4: try #require(object["headToMRI"] as? [[Double]]))
    }

    /// Runs the driver against the mock until `frames` frames arrived, with `onEvent` as its
    /// callback; returns when the driver has stopped.
    static func runLive(
        scenario: MockScenario, seed: UInt64, frames: Int, clock: any TrackerClock, onEvent: @escaping @Sendable (TrackerEvent) -> Void,
        pollAsFastAsPossible: Bool = false, count: @escaping () -> Int
    ) throws {
        let toolSet = try ToolSet.load(path: Paths.repo("Calibration/tools/toolset-mock.json"))
        let server = try MockTrackerServer.pipeServer(scenario: scenario, seed: seed, timing: .asFastAsPossible)
        defer { server.stop() }
        var config = NDITrackerConfiguration.forURL(
            .mock(scenarioPath: scenario.source, seed: seed), profiles: [], tools: toolSet.tools, frameRateHz: scenario.frameRateHz)
        if pollAsFastAsPossible {
            // Frames as fast as the mock answers, and a patient timeout, so that a busy machine
            // does not turn a slow reply into a disconnect (the stall fault stays a stall).
            config.pollInterval = .zero
            config.session.trackingTimeout = .seconds(2)
        }
        let driver = NDITrackerDriver(configuration: config, clock: clock, connect: { server.connect() }, onEvent: onEvent)
        driver.start()
        #expect(eventually(guardTime: .seconds(60)) { count() >= frames })
        #expect(driver.stop())
    }

    static func header(_ scenario: MockScenario, seed: UInt64, clock: any TrackerClock) throws -> RecordingHeader {
        let toolSet = try ToolSet.load(path: Paths.repo("Calibration/tools/toolset-mock.json"))
        return RecordingHeader(
            tracker: "mock://\(scenario.source)?seed=\(seed)", deviceProfile: nil, frameRateHz: scenario.frameRateHz,
            tools: toolSet.tools.map(RecordedTool.init), startedAt: RecordingHeader.isoTime(unixNanoseconds: 1_700_000_000_000_000_000),
            unixAtStartNanoseconds: 1_700_000_000_000_000_000, clock: "monotonic", clockAtStartNanoseconds: clock.nowNanoseconds())
    }

    @Test func aRecordedRunReplaysToIdenticalOutputsFrameForFrame() throws {
        let scenario = try MockScenario.load(path: Paths.faultsScenario)
        let targets = try Self.targets()
        let headToMRI = try Self.groundTruthHeadToMRI()
        let dir = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("live.jsonl").path

        // Live: driver → tap (one instant per event) → recorder + engine.
        let base = SystemTrackerClock()
        let delivery = DeliveryClock(base: base)
        let live = Pipeline(clock: delivery, targets: targets, headToMRI: headToMRI)
        let recorder = TrackerRecorder(
            header: try Self.header(scenario, seed: 7, clock: delivery), sink: try FileRecordingSink.create(path: path, overwrite: false))
        try Self.runLive(
            scenario: scenario, seed: 7, frames: 380, clock: base, onEvent: recorder.tap(clock: delivery, then: live.handle),
            count: { live.frameCount })
        let summary = try recorder.finish(atNanoseconds: delivery.nowNanoseconds())

        // Replay, as fast as possible.
        let recording = try Recording.read(path: path)
        #expect(recording.warnings == [])
        #expect(recording.summary == summary)
        let replayClock = ReplayClock(start: recording.header.clockAtStartNanoseconds, speed: 0)
        let replayed = Pipeline(clock: replayClock, targets: targets, headToMRI: headToMRI)
        let source = ReplayTrackerSource(recording: recording, clock: replayClock, onEvent: replayed.handle)
        source.start()
        #expect(eventually { replayed.events.last == .state(.stopped) })

        // The run exercised what it should: every status, tracking lost and back, on target.
        let liveOutputs = live.outputs
        #expect(liveOutputs.count >= 380)
        #expect(liveOutputs.count == summary.frames)
        #expect(liveOutputs.contains { $0.isValid })
        #expect(liveOutputs.contains { $0.invalidity == .coilMissing })
        #expect(liveOutputs.contains { $0.invalidity == .headReferenceMissing })
        #expect(liveOutputs.contains { $0.coilStatus == .partlyOutOfVolume && $0.isValid })
        #expect(liveOutputs.contains { $0.onTarget.isOnTarget })
        #expect(liveOutputs.contains { if case .acquiring = $0.onTarget.state { true } else { false } })
        #expect(live.states.filter { $0 == .tracking }.count >= 3, "\(live.states)")
        #expect(live.states.contains { if case .disconnected = $0 { true } else { false } })
        let strict = live.strictOutputs
        let staleCount = strict.filter { $0.invalidity.contains(.stale) }.count
        print("live run: \(liveOutputs.count) frames; with a 150 µs age limit \(staleCount) stale; ages (µs) \(Self.percentiles(liveOutputs.map(\.ageNanoseconds)))")

        // Identical, frame for frame and bit for bit.
        let replayedOutputs = replayed.outputs
        #expect(replayedOutputs.count == liveOutputs.count)
        var firstDifference: Int?
        for (i, (a, b)) in zip(liveOutputs, replayedOutputs).enumerated() where a != b {
            firstDifference = i
            break
        }
        #expect(firstDifference == nil, "first differing output: \(firstDifference.map { "\(liveOutputs[$0]) vs \(replayedOutputs[$0])" } ?? "")")
        #expect(replayed.lines == live.lines)
        #expect(replayed.strictOutputs == strict)
        // The same events, then the end of the recording instead of the driver's stop.
        #expect(Array(replayed.events.dropLast(2)) == Array(live.events.dropLast()))
        #expect(live.events.last == .state(.stopped))
        #expect(Array(replayed.events.suffix(2)) == [.state(.disconnected(reason: "end of the recording \(path)")), .state(.stopped)])
    }

    /// The same scenario and seed recorded twice gives the same frame records: frame numbers,
    /// statuses, port bits, poses and RMS errors, bit for bit (host times aside: real clock) —
    /// through the corrupt reply, the stall and the disconnect.
    @Test func recordingTheSameScenarioTwiceGivesTheSameFrames() throws {
        let scenario = try MockScenario.load(path: Paths.faultsScenario)
        var runs: [[TrackerFrame]] = []
        for _ in 0..<2 {
            let sink = MemorySink()
            let clock = SystemTrackerClock()
            let recorder = TrackerRecorder(header: try Self.header(scenario, seed: 9, clock: clock), sink: sink, frameLimit: 380)
            try Self.runLive(
                scenario: scenario, seed: 9, frames: 380, clock: clock,
                onEvent: { recorder.record($0, atNanoseconds: clock.nowNanoseconds()) }, pollAsFastAsPossible: true,
                count: { recorder.statistics.frames })
            try recorder.finish(atNanoseconds: clock.nowNanoseconds())
            runs.append(
                try Recording.parse(Data(sink.text.utf8), source: "run").frames.map {
                    var f = $0
                    f.hostReceiveNanoseconds = 0
                    return f
                })
        }
        #expect(runs[0].count == 380)
        #expect(runs[1].count == 380)
        let firstDifference = runs[0].indices.first { $0 < runs[1].count && runs[0][$0] != runs[1][$0] }
        #expect(firstDifference == nil, "first different frame: \(firstDifference.map { "\(runs[0][$0].deviceFrameNumber) vs \(runs[1][$0].deviceFrameNumber)" } ?? "")")
        // The corrupt reply of frame 60 is missing from both; the occlusions are in both.
        let numbers = runs[0].map { $0.deviceFrameNumber - 7000 }
        #expect(!numbers.contains(60) && numbers.contains(61))
        #expect(runs[0].contains { $0.tool(named: "coil")?.status == .missing })
    }

    static func percentiles(_ xs: [UInt64]) -> String {
        let s = xs.sorted()
        guard !s.isEmpty else { return "-" }
        return [0.1, 0.5, 0.9, 0.99].map { "p\(Int($0 * 100))=\(Double(s[min(s.count - 1, Int(Double(s.count) * $0))]) / 1000)" }.joined(separator: " ")
    }
}
