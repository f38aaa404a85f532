import ArgumentParser
import Foundation
import MockTracker
import MockTrackerServer
import NDITracker
import TrackerCore
import TrackerRecording
import TrackerTransport

/// `coilnav track`: connect to a tracker, set it up and print its frames.
struct TrackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "track",
        abstract: "Connect to a tracker and print one JSON object per tool per frame.",
        discussion: """
            --tracker takes ndi-usb://[VID:PID][?serial=…], ndi-serial:///dev/ttyUSB0[?baud=…] or \
            ndi-tcp://HOST:PORT. The driver runs INIT (with a break and RESET on a serial line if \
            needed), COMM to the fastest rate of the device profile (capped by ?baud=), loads the \
            passive tools' definition files (PHRQ, PVWR), initialises and enables every handle \
            (PINIT, PENA), then polls BX:0801 at the device rate. A lost tracker is reported on \
            standard error and reconnected with backoff.

            Output (--format jsonl), one line per tool per frame: {"frame", "tool", "status", "q", \
            "t", "rmsMM"}; status is ok, missing, partly-out-of-volume or disabled; q = [q0,qx,qy,qz] \
            (toolToTracker), t = [x,y,z] in mm and rmsMM are present only when a pose exists. \
            States and warnings go to standard error. Stops after --frames N frames, or on \
            SIGINT/SIGTERM (sending TSTOP).

            mock://SCENARIO[?seed=N] runs CoilNav's mock tracker in-process: the same driver talks \
            the Combined API to it over an in-memory serial line, in real time at the scenario's \
            frame rate. replay://FILE[?speed=S] plays a recording (coilnav record, or --record here) \
            on its recorded timeline, S times real time (0: as fast as possible): the same lines as \
            the live run; it exits at the end of the recording. --record FILE records the frames \
            printed, with the tracker's states and warnings (coilnav-recording).
            """
    )

    @Option(help: ArgumentHelp("The tracker URL.", valueName: "URL"))
    var tracker: String

    @Option(help: ArgumentHelp("Stop after this many frames.", valueName: "N"))
    var frames: Int?

    @Option(
        help: ArgumentHelp(
            "Tool set (coilnav-toolset v1; default Calibration/tools/toolset-mock.json).",
            valueName: "TOOLSET.json"
        )
    )
    var tools: String?

    @Option(help: ArgumentHelp("Output format; only jsonl.", valueName: "FORMAT"))
    var format: String = "jsonl"

    @Option(
        help: ArgumentHelp(
            "Folder of device profiles (default: Devices/ of the CoilNav data folder).",
            valueName: "DIR"
        )
    )
    var profiles: String?

    @Option(
        help: ArgumentHelp(
            "Also record the tracker's frames and events (coilnav-recording, as coilnav record writes it).",
            valueName: "FILE"
        )
    )
    var record: String?

    @Flag(help: "Overwrite the --record file if it exists.")
    var force = false

    func validate() throws {
        guard self.format == "jsonl" else { throw ValidationError("--format must be jsonl, got \"\(self.format)\"") }
        if let n = self.frames, n < 1 { throw ValidationError("--frames must be at least 1, got \(n)") }
    }

    func run() throws {
        let tracker = try TrackerConnection.open(
            text: self.tracker, toolSetPath: self.tools, profilesPath: self.profiles)
        let mockServer = tracker.mockServer
        defer { mockServer?.stop() }
        for w in tracker.warnings { printError("coilnav: warning: \(w)") }

        // The device thread hands events to this queue and never blocks; the main thread prints. A
        // replay waits for the printing instead (it never drops frames).
        let queue = EventQueue(capacity: 4096, blocking: tracker.recording != nil)
        var recorder: TrackerRecorder?
        var onEvent: @Sendable (TrackerEvent) -> Void = queue.push
        if let path = self.record {
            let r = try RecordCommand.makeRecorder(
                tracker: tracker, text: self.tracker, path: path, overwrite: self.force, frameLimit: self.frames)
            recorder = r
            let clock = tracker.clock
            onEvent = { event in
                r.record(event, atNanoseconds: clock.nowNanoseconds())
                queue.push(event)
            }
        }
        let driver = tracker.makeSource(onEvent: onEvent)
        let signals = TerminationSignals { _ in queue.requestStop() }
        defer { signals.cancel() }
        driver.start()
        var printed = 0
        var stopping = false
        var stopIssued = false
        while true {
            let (events, stopRequested, dropped) = queue.take()
            if dropped > 0 { printError("coilnav: track: output too slow, \(dropped) events dropped") }
            for event in events {
                switch event {
                case .frame(let frame):
                    guard !stopping else { continue }
                    var text = ""
                    for line in TrackJSONL.lines(for: frame) { text += line + "\n" }
                    FileHandle.standardOutput.write(Data(text.utf8))
                    printed += 1
                    if let n = self.frames, printed >= n { stopping = true }
                case .state(let state):
                    printError("coilnav: tracker \(self.tracker): \(Self.describe(state))")
                    if state == .stopped {
                        if let recorder, let path = self.record {
                            try RecordCommand.finish(recorder, path: path, at: tracker.clock.nowNanoseconds())
                        }
                        return
                    }
                case .warning(let text):
                    printError("coilnav: warning: \(text)")
                }
            }
            if stopRequested { stopping = true }
            if stopping, !stopIssued {
                stopIssued = true
                DispatchQueue.global().async { driver.stop(timeout: .seconds(3)) }
            }
        }
    }

    static func describe(_ s: TrackerState) -> String { TrackerConnection.describe(s) }
}
