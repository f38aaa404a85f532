import ArgumentParser
import Formats
import Foundation
import QualityAssurance
import TrackerCore

/// `coilnav qa`: the QA run on a phantom, its report and its verdict.
struct QACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qa",
        abstract:
            "Run the QA protocol on a phantom: jitter, frame rate, dropouts, pivot repeatability, FRE/TRE, latency.",
        discussion: """
            The run follows the phases of the phantom file (coilnav-qa-phantom, Calibration/phantoms/), \
            each announced on standard error with what to do: leave the phantom still (jitter), \
            swivel the pointer in the pivot divot (pivot repeatability, tip against the pointer \
            calibration), touch each landmark and hold still (captured automatically when the tip \
            rests near it: registration landmarks → FRE, check points → TRE). Phases are timed by the \
            tracker's frame numbers at its nominal rate. Every frame also goes through an in-process \
            navigation server to a loopback OpenIGTLink client, which times frame received → transform \
            decoded (p50/p99/max).

            Writes DIR/report.json (every figure, its threshold, pass/fail, the phantom, the tracker, \
            the date), DIR/report.md and the plots DIR/jitter.svg, DIR/errors.svg, DIR/latency.svg, \
            and prints each figure with its threshold and PASS/FAIL. Exit status: 0 pass, 1 fail, \
            2 could not run or could not measure every figure (bad file or option, no tracker, a \
            landmark not captured, interrupted); the argument parser's own usage errors exit 64. \
            See docs/qa.md.

            mock://SCENARIO[?seed=N] plays a scenario in-process; with --mock-speed S the mock hands \
            out its frames one per poll (deterministic: the same scenario and seed give the same \
            frames) and is polled S times faster than its frame rate.
            """
    )

    @Option(help: ArgumentHelp("The tracker URL (ndi-usb://, ndi-serial://, ndi-tcp://, mock://).", valueName: "URL"))
    var tracker: String

    @Option(help: ArgumentHelp("The phantom and its protocol (coilnav-qa-phantom v1).", valueName: "FILE"))
    var phantom: String

    @Option(help: ArgumentHelp("Where the report goes (created if missing).", valueName: "DIR"))
    var out: String

    @Option(
        name: .customLong("pointer-calibration"),
        help: ArgumentHelp(
            "The pointer's calibration (coilnav-pointer-calibration); required for a real tracker, default Calibration/pointers/mock-pointer.json for mock://.",
            valueName: "FILE"))
    var pointerCalibration: String?

    @Option(
        help: ArgumentHelp(
            "Tool set (coilnav-toolset v1; default Calibration/tools/toolset-mock.json).", valueName: "TOOLSET.json"))
    var tools: String?

    @Option(
        help: ArgumentHelp(
            "Folder of device profiles (default: Devices/ of the CoilNav data folder).", valueName: "DIR"))
    var profiles: String?

    @Option(
        name: .customLong("frame-rate-hz"),
        help: "The tracker's nominal frame rate (default: the device profile's, or the mock scenario's).")
    var frameRateHz: Double?

    @Option(
        name: .customLong("mock-speed"),
        help: "mock:// only: frames one per poll, polled this many times faster than real time.")
    var mockSpeed: Double?

    @Option(
        name: .customLong("stall-seconds"), help: "Give up when no tracker frame arrives for this long (real time).")
    var stallSeconds: Double = 30

    @Option(
        name: .customLong("report-date"),
        help: ArgumentHelp("The report's date (ISO 8601; default: now).", valueName: "DATE"))
    var reportDate: String?

    func run() throws {
        let verdict: QAVerdict
        do {
            verdict = try self.execute()
        } catch let e as ExitCode {
            throw e
        } catch {
            printError("coilnav qa: \(error)")
            throw ExitCode(2)
        }
        switch verdict {
        case .pass: return
        case .fail: throw ExitCode(1)
        case .incomplete: throw ExitCode(2)
        }
    }

    private func execute() throws -> QAVerdict {
        if let f = self.frameRateHz, !(f.isFinite && f > 0) {
            throw CLIError("--frame-rate-hz must be a positive number of hertz, got \(f)")
        }
        if let s = self.mockSpeed, !(s.isFinite && s >= 1 && s <= 1000) {
            throw CLIError("--mock-speed must be 1 to 1000, got \(s)")
        }
        if !(self.stallSeconds.isFinite && self.stallSeconds > 0) {
            throw CLIError("--stall-seconds must be more than 0, got \(self.stallSeconds)")
        }
        if let d = self.reportDate, !VersionedFile.isTimestamp(d) {
            throw CLIError(
                "--report-date must be an ISO 8601 date-time with a time zone such as 2026-05-01T09:00:00Z, got \"\(d)\""
            )
        }
        let url: TrackerURL
        do {
            url = try TrackerURL(parsing: self.tracker)
        } catch {
            throw CLIError("\(error)")
        }
        var isMock = false
        if case .mock = url { isMock = true }
        if self.mockSpeed != nil, !isMock { throw CLIError("--mock-speed is for mock:// trackers only") }

        let phantom: QAPhantom
        do {
            phantom = try QAPhantom.load(path: self.phantom)
        } catch {
            throw CLIError("phantom \(error)")
        }
        let calibrationPath: String
        if let p = self.pointerCalibration {
            calibrationPath = p
        } else if isMock {
            calibrationPath = try DataLocator.path("Calibration/pointers/mock-pointer.json")
        } else {
            throw CLIError(
                "give --pointer-calibration FILE: the landmarks are digitised with the pointer's calibration")
        }
        let calibration: PointerCalibration
        do {
            calibration = try PointerCalibration.load(path: calibrationPath)
        } catch {
            throw CLIError("pointer calibration \(error)")
        }
        guard calibration.tool == phantom.pointerTool else {
            throw CLIError(
                "pointer calibration \(calibrationPath) is for tool \"\(calibration.tool)\", but the phantom's pointer tool is \"\(phantom.pointerTool)\""
            )
        }
        if case .replay = url {
            // Latency and frame timing are properties of a live tracker and host; a recording has
            // neither (its frames would be timed on the recorded clock, the probe on this one).
            throw CLIError(
                "tracker URL \"\(self.tracker)\": coilnav qa measures a live tracker (frame timing, latency to a client); "
                    + "a replay:// recording cannot be used: give an ndi-usb, ndi-serial, ndi-tcp or mock URL")
        }
        let connection = try TrackerConnection.open(
            url: url, text: self.tracker, toolSetPath: self.tools, profilesPath: self.profiles,
            mockTiming: self.mockSpeed == nil ? .realTime : .asFastAsPossible, frameRateHz: self.frameRateHz)
        defer { connection.mockServer?.stop() }
        let toolNames = connection.configuration.session.tools.map(\.name)
        var needed = [phantom.phantomTool, phantom.pointerTool]
        for p in phantom.phases { if case .still(let s) = p { needed.append(s.tool) } }
        for name in needed where !toolNames.contains(name) {
            throw CLIError(
                "the tool set has no tool \"\(name)\" (it has \(toolNames.map { "\"\($0)\"" }.joined(separator: ", "))): give --tools"
            )
        }
        var serials: [String: String] = [:]
        if let s = calibration.toolSerial { serials[calibration.tool] = s }

        let runner = QARunner(
            phantom: phantom, pointerTipMM: calibration.tipMM, connection: connection, mockSpeed: self.mockSpeed,
            stallSeconds: self.stallSeconds, say: printError)
        printError(
            "coilnav qa: phantom \"\(phantom.name)\" (\(self.phantom)), tracker \(self.tracker) at \(fixed(connection.frameRateHz, 1)) Hz nominal"
                + (self.mockSpeed.map { ", mock played \(fixed($0, 1))× faster than real time" } ?? ""))
        let result = try runner.run()

        let context = QAReportContext(
            date: self.reportDate ?? GuidedCalibration.timestamp(Date()), trackerURL: self.tracker,
            phantomFile: self.phantom,
            pointerCalibrationFile: calibrationPath, pointerCalibration: calibration, toolSerials: serials,
            mockSpeed: self.mockSpeed)
        do {
            try FileManager.default.createDirectory(atPath: self.out, withIntermediateDirectories: true)
        } catch {
            throw CLIError("cannot create the report folder \(self.out): \(error.localizedDescription)")
        }
        for file in try QAReport.files(result: result, phantom: phantom, context: context) {
            let path = (self.out as NSString).appendingPathComponent(file.name)
            do {
                try file.data.write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw CLIError("cannot write \(path): \(error.localizedDescription)")
            }
        }
        print(QAReport.summary(result: result), terminator: "")
        print(
            "report: \((self.out as NSString).appendingPathComponent("report.json")), \((self.out as NSString).appendingPathComponent("report.md"))"
        )
        return result.verdict
    }
}
