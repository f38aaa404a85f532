import ArgumentParser
import Foundation
import Formats
import Geometry
import NDITracker
import Navigation
import NavigationServer
import ServerSession
import TrackerCore

/// `coilnav serve`: the navigation server.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the navigation server: tracker → coil error every frame → OpenIGTLink and JSON-lines clients.",
        discussion: """
            Every tracker frame: coil and head reference from that frame → coilToHead → coilToMRI \
            (through the registration) → the error against the active target, streamed to OpenIGTLink \
            clients (TRANSFORM CoilToMRI, CoilToTarget, TargetToMRI, PointerToMRI, HeadToTracker, \
            CoilToTracker; STATUS on validity changes; STRING CoilNavMetrics) and to JSON-lines \
            subscribers (docs/json-lines-protocol.md). No frame for three frame periods (at most \
            100 ms) announces "tracking lost" to every client.

            The first two lines of standard output name the ports: \
            "OpenIGTLink: listening on HOST:PORT" and "JSON-lines: listening on HOST:PORT" (port 0 \
            picks a free one). A configuration file (--config, docs/file-formats.md) gives every \
            setting; flags override it. The session directory keeps the registration, captures, \
            active target and the pulse log (pulses.jsonl); a restarted server resumes it. Commands \
            that change the session need the token in DIR/token (mode 0600) unless --insecure.
            """
    )

    @Option(help: ArgumentHelp("Configuration file (coilnav-serve v1).", valueName: "FILE"))
    var config: String?
    @Option(help: ArgumentHelp("The tracker URL (ndi-usb://, ndi-serial://, ndi-tcp://, mock://, replay://).", valueName: "URL"))
    var tracker: String?
    @Option(help: ArgumentHelp("The plan (targets, MRI fiducials, scalp).", valueName: "PLAN"))
    var plan: String?
    @Option(help: ArgumentHelp("A registration file (coilnav-registration) to start registered.", valueName: "FILE"))
    var registration: String?
    @Option(help: ArgumentHelp("Session directory (default: ./coilnav-session).", valueName: "DIR"))
    var session: String?
    @Option(name: .customLong("igtl-port"), help: ArgumentHelp("OpenIGTLink port (default 18944; 0 picks one).", valueName: "PORT"))
    var igtlPort: Int?
    @Option(name: .customLong("json-port"), help: ArgumentHelp("JSON-lines port (default 18945; 0 picks one).", valueName: "PORT"))
    var jsonPort: Int?
    @Option(help: ArgumentHelp("Address to listen on (default 127.0.0.1).", valueName: "ADDRESS"))
    var bind: String?
    @Flag(help: "Let every client change the session without the token.")
    var insecure = false
    @Option(help: ArgumentHelp("Tool set (default Calibration/tools/toolset-mock.json).", valueName: "TOOLSET.json"))
    var tools: String?
    @Option(name: .customLong("coil-calibration"), help: ArgumentHelp("Coil calibration (coilnav-coil-calibration).", valueName: "FILE"))
    var coilCalibration: String?
    @Option(name: .customLong("pointer-calibration"), help: ArgumentHelp("Pointer calibration (coilnav-pointer-calibration).", valueName: "FILE"))
    var pointerCalibration: String?
    @Option(help: ArgumentHelp("The target to make active at start (default: the session's, else the plan's first).", valueName: "NAME"))
    var target: String?
    @Option(help: ArgumentHelp("Folder of device profiles (default: Devices/).", valueName: "DIR"))
    var profiles: String?
    @Option(
        help: ArgumentHelp(
            "Record the tracker's frames and events to a new file (coilnav-recording); replay://FILE reproduces the outputs.",
            valueName: "FILE"))
    var record: String?

    func run() throws {
        var configuration: ServeConfiguration
        var overrides = ServeConfiguration.Overrides(
            plan: self.plan, registration: self.registration, toolSet: self.tools, coilCalibration: self.coilCalibration,
            pointerCalibration: self.pointerCalibration,
            igtlPort: self.igtlPort, jsonPort: self.jsonPort, bind: self.bind, session: self.session,
            insecure: self.insecure ? true : nil)
        if let t = self.tracker {
            do { overrides.tracker = try TrackerURL(parsing: t) } catch { throw CLIError("--tracker: \(error)") }
        }
        do {
            if let path = self.config {
                configuration = try ServeConfiguration.load(path: path)
            } else {
                guard let url = overrides.tracker else { throw CLIError("--tracker URL is required (or --config FILE)") }
                guard let plan = self.plan else { throw CLIError("--plan PLAN is required (or --config FILE)") }
                configuration = ServeConfiguration(tracker: url, plan: plan)
            }
            try configuration.apply(overrides)
        } catch let e as FileFormatError {
            throw CLIError("\(e)")
        }
        var setup = try ServerSetup.prepare(
            configuration, profilesPath: self.profiles, explicitTarget: self.target)
        setup.recordPath = self.record
        try setup.run()
    }
}
