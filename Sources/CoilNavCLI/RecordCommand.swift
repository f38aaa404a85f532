import ArgumentParser
import Foundation
import Formats
import NDITracker
import TrackerCore
import TrackerRecording

/// `coilnav record`: the tracker's frames and events to a recording file.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record a tracker's raw frames and events, with their host times, for replay://.",
        discussion: """
            Connects like coilnav track (the same URLs, tool set and device profiles), then writes \
            FILE (coilnav-recording, docs/file-formats.md): a header (tracker URL, device profile, \
            frame rate, tool set, start time and clock), then one JSON line per tracker frame — \
            device frame number, host receive time, system status and, per tool, name, handle, \
            status, port status bits, the pose exactly as the driver delivered it and the RMS \
            error — and per state change (connecting, tracking, disconnected, reconnecting) and \
            warning, each with the instant it was delivered; an end line with the totals.

            The tracker's thread never waits for the disk: a writer thread writes behind a bounded \
            queue; if the disk stalls and the queue fills, the frames lost are counted, marked in \
            the file and reported. Progress goes to standard error every second. Stops after \
            --frames N frames, --seconds S seconds of frames, or on SIGINT/SIGTERM (TSTOP), then \
            fsyncs the file and prints a summary (frames, duration, device frames skipped, frames \
            lost). Play it with --tracker replay://FILE[?speed=S] (speed 0: as fast as possible) \
            in coilnav track or coilnav serve.
            """
    )

    @Option(help: ArgumentHelp("The tracker URL (ndi-usb://, ndi-serial://, ndi-tcp://, mock://).", valueName: "URL"))
    var tracker: String

    @Option(help: ArgumentHelp("The recording to write (refused if it exists, unless --force).", valueName: "FILE"))
    var out: String

    @Option(help: ArgumentHelp("Stop after this many frames.", valueName: "N"))
    var frames: Int?

    @Option(help: ArgumentHelp("Stop after this many seconds from the first frame.", valueName: "S"))
    var seconds: Double?

    @Option(
        help: ArgumentHelp(
            "Tool set (coilnav-toolset v1; default Calibration/tools/toolset-mock.json).", valueName: "TOOLSET.json"))
    var tools: String?

    @Option(help: ArgumentHelp("Folder of device profiles (default: Devices/).", valueName: "DIR"))
    var profiles: String?

    @Option(help: ArgumentHelp("Events the writer's queue holds before frames are lost.", valueName: "N"))
    var queue: Int = 4096

    @Flag(help: "Overwrite FILE if it exists.")
    var force = false

    func validate() throws {
        if let n = self.frames, n < 1 { throw ValidationError("--frames must be at least 1, got \(n)") }
        if let s = self.seconds, !(s > 0 && s.isFinite) { throw ValidationError("--seconds must be a positive number, got \(s)") }
        guard self.queue >= 1 else { throw ValidationError("--queue must be at least 1, got \(self.queue)") }
    }

    func run() throws {
        let url: TrackerURL
        do { url = try TrackerURL(parsing: self.tracker) } catch { throw CLIError("--tracker: \(error)") }
        if case .replay = url {
            throw CLIError("--tracker \(self.tracker): this is already a recording; copy the file to keep it")
        }
        let tracker = try TrackerConnection.open(
            url: url, text: self.tracker, toolSetPath: self.tools, profilesPath: self.profiles)
        let mockServer = tracker.mockServer
        defer { mockServer?.stop() }
        let recorder = try Self.makeRecorder(
            tracker: tracker, text: self.tracker, path: self.out, overwrite: self.force, frameLimit: self.frames, capacity: self.queue)
        let clock = tracker.clock
        let monitor = EventQueue()  // states and warnings (frames are only counted)
        let source = tracker.makeSource { event in
            recorder.record(event, atNanoseconds: clock.nowNanoseconds())
            if case .frame = event { return }
            monitor.push(event)
        }
        let signals = TerminationSignals { _ in monitor.requestStop() }
        defer { signals.cancel() }
        printError("coilnav: record: \(self.tracker) → \(self.out)")
        source.start()
        var nextProgress = Date().addingTimeInterval(1)
        var stopReason = ""
        while true {
            let (events, stopRequested, _) = monitor.take(until: min(nextProgress, Date().addingTimeInterval(0.05)))
            var sourceStopped = false
            for event in events {
                switch event {
                case .state(let state):
                    printError("coilnav: tracker \(self.tracker): \(TrackerConnection.describe(state))")
                    if state == .stopped { sourceStopped = true }
                case .warning(let text): printError("coilnav: warning: \(text)")
                case .frame: break
                }
            }
            let stats = recorder.statistics
            if Date() >= nextProgress {
                nextProgress = Date().addingTimeInterval(1)
                printError("coilnav: record: \(Self.progress(stats))")
            }
            if sourceStopped {
                stopReason = "the tracker stopped"
                break
            }
            if stopRequested {
                stopReason = "stopped by a signal"
                break
            }
            if recorder.reachedFrameLimit {
                stopReason = "\(self.frames ?? 0) frames recorded"
                break
            }
            if let s = self.seconds, let first = stats.firstFrameNanoseconds,
                clock.nowNanoseconds() >= first &+ UInt64(s * 1e9)
            {
                stopReason = "\(s) seconds recorded"
                break
            }
            if let failure = recorder.failure {
                stopReason = "the recording failed: \(failure)"
                break
            }
        }
        // TSTOP; the events of stopping are recorded too.
        if !source.stop(timeout: .seconds(3)) { printError("coilnav: record: the tracker did not stop in time") }
        for event in monitor.take(until: Date()).events {
            if case .state(let state) = event { printError("coilnav: tracker \(self.tracker): \(TrackerConnection.describe(state))") }
        }
        printError("coilnav: record: \(stopReason)")
        try Self.finish(recorder, path: self.out, at: clock.nowNanoseconds())
    }

    /// A recorder writing to `path`, its header describing `tracker`.
    static func makeRecorder(
        tracker: TrackerConnection, text: String, path: String, overwrite: Bool, frameLimit: Int?, capacity: Int = 4096
    ) throws -> TrackerRecorder {
        let unixNow = Int64(Date().timeIntervalSince1970 * 1e9)
        let clockNow = tracker.clock.nowNanoseconds()
        let header = RecordingHeader(
            tracker: text, deviceProfile: tracker.deviceProfile?.id, frameRateHz: tracker.frameRateHz,
            tools: (tracker.toolSet?.tools ?? []).map(RecordedTool.init), startedAt: RecordingHeader.isoTime(unixNanoseconds: unixNow),
            unixAtStartNanoseconds: unixNow, clock: "monotonic", clockAtStartNanoseconds: clockNow)
        let sink: FileRecordingSink
        do {
            sink = try FileRecordingSink.create(path: path, overwrite: overwrite)
        } catch {
            throw CLIError("\(error)")
        }
        return TrackerRecorder(header: header, sink: sink, capacity: capacity, frameLimit: frameLimit)
    }

    /// Finishes the file (end record, fsync) and prints the summary on standard error.
    static func finish(_ recorder: TrackerRecorder, path: String, at: UInt64) throws {
        let summary: RecordingSummary
        do {
            summary = try recorder.finish(atNanoseconds: at)
        } catch {
            throw CLIError("\(error) (\(Self.progress(recorder.statistics)))")
        }
        printError("coilnav: record: \(Self.summaryText(summary, recorder.statistics, path: path))")
        if summary.lostFrames > 0 || summary.lostOtherEvents > 0 {
            printError(
                "coilnav: warning: the disk did not keep up: \(summary.lostFrames) frames and \(summary.lostOtherEvents) other events are missing from \(path) (marked where they were lost)"
            )
        }
    }

    static func progress(_ s: RecorderStatistics) -> String {
        "\(s.frames) frames, \(Self.seconds(s.durationSeconds)) s, \(s.lostFrames) lost"
    }

    /// `700 frames in 11.65 s (device frames 5000–5720, 21 skipped: never received by the host), 0 lost by the recorder; FILE (1234567 bytes)`
    static func summaryText(_ summary: RecordingSummary, _ s: RecorderStatistics, path: String) -> String {
        var text = "\(summary.frames) frame\(summary.frames == 1 ? "" : "s") in \(Self.seconds(s.durationSeconds)) s"
        if let a = s.firstDeviceFrame, let b = s.lastDeviceFrame {
            text += " (device frames \(a)–\(b), \(summary.skippedDeviceFrames) skipped: never received by the host)"
        }
        text += ", \(summary.lostFrames) lost by the recorder; \(path) (\(s.bytesWritten) bytes)"
        return text
    }

    static func seconds(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        return String(format: "%.2f", r)
    }
}
