import ArgumentParser
import Foundation
import Formats
import Geometry
import MockTracker
import Planning
import Readout
import Registration
import ServerSession
import TrackerCore

#if canImport(Glibc)
import Glibc
#endif

/// `coilnav demo`: the demo patient live, with no hardware — the mock tracker playing the
/// demo-approach scenario, the navigation server with the demo patient registered, and the readout.
/// `--offline` prints the older offline report (registration of a simulated digitisation, coil
/// placement over the plan's targets).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the demo patient live: mock tracker, navigation server and the readout; no hardware needed.",
        discussion: """
            Starts, in this process, coilnav serve with Mock/demo/serve.json (the mock tracker plays \
            Mock/scenarios/demo-approach.json: the coil comes down onto the DLPFC-Fox2012 target and \
            turns ON TARGET at about 19 s of the 45 s scenario), the demo patient pre-registered, on \
            free ports (printed first, so another terminal can run `coilnav watch --server …` or a robot \
            client against it), a session in a new temporary folder (or --session) with the server's \
            log in demo.log there; then shows the readout (see coilnav watch --help). q or Ctrl-C stops \
            it all.

            When standard output is not a terminal (or with --plain) it prints the plain lines and \
            stops when the scenario is over, or after --seconds.
            """
    )

    @Flag(help: "Print the offline report instead: registration of the simulated digitisation and the coil placements.")
    var offline = false
    @Option(help: ArgumentHelp("The demo folder for --offline; default Mock/demo.", valueName: "DIR"))
    var dir: String?
    @Option(help: ArgumentHelp("The server configuration; default Mock/demo/serve.json.", valueName: "FILE"))
    var config: String?
    @Option(help: ArgumentHelp("Another mock scenario to play (e.g. Mock/scenarios/readout-walkthrough.json).", valueName: "FILE"))
    var scenario: String?
    @Option(help: ArgumentHelp("Session folder (kept); default: a new temporary folder.", valueName: "DIR"))
    var session: String?
    @Option(help: ArgumentHelp("Stop after this many seconds (default: the screen runs until q; plain lines until the scenario ends).", valueName: "N"))
    var seconds: Double?
    @Flag(help: "Plain lines instead of the full screen (also when standard output is not a terminal).")
    var plain = false
    @Option(help: ArgumentHelp("Plain lines a second (default 10).", valueName: "HZ"))
    var rate: Double = ReadoutPolicy.defaultPlainRateHz
    @Flag(name: .customLong("no-color"), help: "No colour (also when NO_COLOR is set).")
    var noColor = false

    func validate() throws {
        guard self.rate > 0, self.rate <= 1000 else { throw ValidationError("--rate must be between 0 and 1000 lines a second, got \(self.rate)") }
        if let s = self.seconds, !(s > 0) { throw ValidationError("--seconds must be positive, got \(s)") }
    }

    func run() throws {
        if self.offline {
            try self.runOffline()
        } else {
            try self.runLive()
        }
    }

    private func runLive() throws {
        let configPath = try self.config ?? DataLocator.path("Mock/demo/serve.json")
        var configuration: ServeConfiguration
        do {
            configuration = try ServeConfiguration.load(path: configPath)
        } catch {
            throw CLIError("\(error)")
        }
        let sessionDirectory: String
        if let s = self.session {
            sessionDirectory = s
        } else {
            let t = FileManager.default.temporaryDirectory.appendingPathComponent("coilnav-demo-\(UUID().uuidString.prefix(8))")
            sessionDirectory = t.path
        }
        var overrides = ServeConfiguration.Overrides(igtlPort: 0, jsonPort: 0, session: sessionDirectory)
        if let s = self.scenario {
            let absolute = URL(fileURLWithPath: s).standardizedFileURL.path
            guard FileManager.default.fileExists(atPath: absolute) else { throw CLIError("--scenario \(s): no such file") }
            var seed: UInt64 = 1
            if case .mock(_, let configured) = configuration.tracker { seed = configured }
            overrides.tracker = .mock(scenarioPath: absolute, seed: seed)
        }
        do {
            try configuration.apply(overrides)
        } catch {
            throw CLIError("\(error)")
        }
        var scenario: MockScenario?
        var scenarioName = configuration.tracker.description
        if case .mock(let path, _) = configuration.tracker {
            scenarioName = (path as NSString).lastPathComponent
            do {
                scenario = try MockScenario.load(path: path)
            } catch {
                throw CLIError("\(error)")
            }
        }
        let setup = try ServerSetup.prepare(configuration, profilesPath: nil)
        let logPath = (sessionDirectory as NSString).appendingPathComponent("demo.log")
        let log = try ServerLog.file(logPath)
        let running = try setup.start(log: log)
        defer {
            running.stop()
            log.flush()
        }
        let host = configuration.bind.contains(":") ? "[\(configuration.bind)]" : configuration.bind
        let json = "\(host):\(running.server.jsonPort)"
        let igtl = "\(host):\(running.server.igtlPort)"
        var intro = "CoilNav demo: the demo patient (fsaverage), pre-registered; the mock tracker plays "
        intro += scenarioName
        if let s = scenario { intro += " (\(NumberText.fixed(Double(s.frameCount) / s.frameRateHz, 0)) s)" }
        intro += "\nJSON-lines: listening on \(json)   (watch it from another terminal: coilnav watch --server \(json))"
        intro += "\nOpenIGTLink: listening on \(igtl)"
        intro += "\nsession: \(sessionDirectory)   server log: \(logPath)\n"
        FileHandle.standardOutput.write(Data(intro.utf8))

        let output = ReadoutPolicy.output(
            plainFlag: self.plain, noColorFlag: self.noColor, standardOutputIsTerminal: isatty(STDOUT_FILENO) != 0,
            environment: ProcessInfo.processInfo.environment)
        var runner = ReadoutRunner(
            host: configuration.bind, port: running.server.jsonPort, label: json, output: output, plainRateHz: self.rate,
            seconds: self.seconds, headerNote: "demo · JSON-lines \(json) · IGTL \(igtl)")
        if output == .plain, self.seconds == nil, let s = scenario {
            // Plain output ends with the scenario: at its last frame (frames keep coming after it).
            let last = Int(s.startFrameNumber) + s.frameCount - 1
            runner.finished = { state in (state.frame?.frame ?? 0) >= last }
            runner.seconds = Double(s.frameCount) / s.frameRateHz + 15
        }
        try runner.run()
        if output != .plain {
            FileHandle.standardOutput.write(Data("demo stopped; session and server log kept in \(sessionDirectory)\n".utf8))
        }
    }

    private func runOffline() throws {
        let dir = try self.dir ?? DataLocator.path("Mock/demo")
        func path(_ f: String) -> String { (dir as NSString).appendingPathComponent(f) }
        let plan = try Plan.load(path: path("plan.json"))
        print("CoilNav demo — subject \(plan.subject.id): \(plan.coordinateSystem.mri)")
        print("")
        let report = try RegistrationReport.compute(
            mriPath: path("mri-fiducials.mrk.json"), headPath: path("head-fiducials.mrk.json"),
            targetsPath: path("targets.mrk.json"), fleMM: 1.0, scalpPath: path("scalp.ply"),
            headSurfacePath: path("head-surface.mrk.json"), useCommonLabels: false)
        print(report.text)
        print("")
        let truthJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("ground-truth.json"))))
        if let obj = truthJSON as? [String: Any], let rows = obj["headToMRI"] as? [[Double]] {
            let truth = try RigidTransform(matrix4x4: rows)
            print("Against the simulation's ground truth:")
            for t in plan.targets {
                let p = t.cortexMM ?? t.coilToMRI.translation
                // Where a point the truth puts at p lands under the registration.
                let err = report.headToMRI.apply(to: truth.inverse.apply(to: p)).distance(to: p)
                print("  \(t.name): registration error at the target \(fixed(err)) mm")
            }
            print("")
        }
        let index = try PlanCommand.scalpIndex(path("scalp.ply"))
        let frame = try PlanCommand.headFrame(from: plan.fiducials)
        print("Coil placements (SimNIBS coil frame; handle from the posterior midline):")
        for t in plan.targets {
            guard let cortex = t.cortexMM else { continue }
            let p = try CoilPlacement.place(target: cortex, scalp: index, handleAngleDegrees: t.handleAngleDegrees ?? 45, headFrame: frame)
            print(PlanCommand.describe(p, name: t.name))
        }
        print("")
        print("Live: `coilnav demo` (without --offline) streams the mock coil through the server to the readout.")
    }
}
