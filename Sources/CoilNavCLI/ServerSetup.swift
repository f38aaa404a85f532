import Foundation
import Formats
import Geometry
import NDITracker
import Navigation
import NavigationServer
import ServerSession
import TrackerCore
import TrackerRecording

/// Everything `coilnav serve` loads before it listens.
struct ServerSetup {
    var configuration: ServeConfiguration
    var plan: Plan
    var targets: [NavigationTarget]
    var activeTarget: String?
    var headToMRI: RigidTransform?
    var registrationRecord: RegistrationRecord?
    var registrationSource: String
    var coilCalibration: RigidTransform
    var pointerTipMM: Vector3?
    var scalp: MeshIndex?
    var session: SessionStore
    var resumed: Bool
    var pulseLog: PulseLog
    var token: String?
    var tracker: TrackerConnection
    var notes: [String]
    /// `--record FILE`: the tracker's events are recorded as the engine receives them.
    var recordPath: String? = nil

    /// Loads plan, calibrations, registration and the session; a failure names the file and field.
    static func prepare(
        _ c: ServeConfiguration, profilesPath: String?, explicitTarget: String? = nil
    ) throws -> ServerSetup {
        var notes: [String] = []
        func load<T>(_ what: String, _ body: () throws -> T) throws -> T {
            do { return try body() } catch { throw CLIError("\(what): \(error)") }
        }
        let plan = try load("plan") { try Plan.load(path: c.plan) }
        guard !plan.targets.isEmpty else { throw CLIError("plan \(c.plan) has no targets") }
        let targets = plan.targets.map {
            NavigationTarget(name: $0.name, targetToMRI: $0.coilToMRI, coilToCortexMM: $0.coilToCortexMM ?? 0)
        }
        var scalp: MeshIndex?
        if let meshPath = plan.resolvedScalpMeshPath(planPath: c.plan) {
            scalp = try load("scalp mesh") { try MeshIndex(mesh: try MeshFile.read(path: meshPath)) }
        }
        let coil: RigidTransform
        if let path = c.coilCalibration {
            let cal = try load("coil calibration") { try CoilCalibration.load(path: path) }
            if cal.tool != c.coilTool {
                throw CLIError("coil calibration \(path): it is for tool \"\(cal.tool)\", but the coil tool is \"\(c.coilTool)\"")
            }
            coil = cal.coilToMarker
        } else {
            coil = .identity
            notes.append("no coil calibration: the coil frame is taken to be the coil marker's frame")
        }
        var pointerTip: Vector3?
        if let path = c.pointerCalibration {
            let cal = try load("pointer calibration") { try PointerCalibration.load(path: path) }
            if cal.tool != c.pointerTool {
                throw CLIError("pointer calibration \(path): it is for tool \"\(cal.tool)\", but the pointer tool is \"\(c.pointerTool)\"")
            }
            pointerTip = cal.tipMM
        } else {
            notes.append("no pointer calibration: pointer captures will be refused")
        }
        let sessionDirectory = c.session ?? "coilnav-session"
        let session = try load("session") { try SessionStore.open(directory: sessionDirectory, createIfMissing: true) }
        let state = session.state
        var headToMRI: RigidTransform?
        var record: RegistrationRecord?
        var source = "none: the session is not registered (capture fiducials and register)"
        if let r = state.registration {
            headToMRI = r.headToMRI
            record = r
            source = "resumed from the session (\(r.createdAt), FRE \(formatMM(r.freMM)) mm)"
        } else if let path = c.registration {
            let r = try load("registration") { try RegistrationRecord.load(path: path) }
            headToMRI = r.headToMRI
            record = r
            source = "\(path) (FRE \(formatMM(r.freMM)) mm)"
            try load("session") { try session.setRegistration(r) }
        }
        let names = Set(targets.map(\.name))
        var active = explicitTarget ?? state.activeTarget ?? c.activeTarget ?? targets.first?.name
        if let a = active, !names.contains(a) {
            if explicitTarget != nil || c.activeTarget == a {
                throw CLIError("target \"\(a)\" is not in the plan (targets: \(targets.map(\.name).joined(separator: ", ")))")
            }
            notes.append("the session's target \"\(a)\" is not in this plan; using \(targets[0].name)")
            active = targets.first?.name
        }
        if state.planPath == nil { try load("session") { try session.setPlanPath(c.plan) } }
        let pulseLog = try load("pulse log") { try PulseLog.open(path: session.pulsesPath) }
        if let w = pulseLog.recoveredWarning { notes.append("pulse log: \(w)") }
        let token: String? = c.insecure ? nil : try load("token") { try session.ensureToken() }
        let tracker = try TrackerConnection.open(
            url: c.tracker, text: c.tracker.description, toolSetPath: c.toolSet, profilesPath: profilesPath)
        for w in tracker.warnings { notes.append("recording: \(w)") }
        return ServerSetup(
            configuration: c, plan: plan, targets: targets, activeTarget: active, headToMRI: headToMRI, registrationRecord: record, registrationSource: source,
            coilCalibration: coil, pointerTipMM: pointerTip, scalp: scalp, session: session, resumed: session.resumed, pulseLog: pulseLog,
            token: token, tracker: tracker, notes: notes)
    }

    /// Listens, prints the ports, runs until SIGINT/SIGTERM.
    func run() throws {
        let log = ServerLog.standardError()
        let running = try self.start(log: log)
        FileHandle.standardOutput.write(Data(self.banner(running.server).utf8))
        let stopSignal = DispatchSemaphore(value: 0)
        let signals = TerminationSignals { _ in stopSignal.signal() }
        defer { signals.cancel() }
        stopSignal.wait()
        log.write("coilnav: stopping")
        running.stop()
        log.flush()
    }

    /// Builds the engine and the server, starts listening and the tracker. The caller stops it.
    func start(log: ServerLog) throws -> RunningServer {
        // The tracker's clock: the host's, or a replay's recorded timeline (with the recorded run's Unix time).
        var clock = self.tracker.clock
        // Recording: every event is recorded with the instant it is handed to the engine, and the
        // engine reads that same instant as "now", so a replay of the file computes these very outputs.
        var recording: (recorder: TrackerRecorder, clock: DeliveryClock, path: String)?
        if let path = self.recordPath {
            if self.tracker.recording != nil { throw CLIError("--record \(path): the tracker is already a recording") }
            let recorder = try RecordCommand.makeRecorder(
                tracker: self.tracker, text: self.configuration.tracker.description, path: path, overwrite: false, frameLimit: nil)
            let delivery = DeliveryClock(base: clock)
            recording = (recorder, delivery, path)
            clock = delivery
        }
        let unixNow = Int64(Date().timeIntervalSince1970 * 1e9)
        let engineConfiguration = NavigationEngineConfiguration(
            navigation: self.configuration.navigationConfiguration, pointerToolName: self.configuration.pointerTool,
            frameRateHz: self.tracker.frameRateHz,
            unixNanosecondsAtClockZero: self.tracker.unixNanosecondsAtClockZero ?? unixNow - Int64(clock.nowNanoseconds()))
        let engine = NavigationEngine(
            configuration: engineConfiguration, clock: clock, targets: self.targets, activeTargetName: self.activeTarget,
            headToMRI: self.headToMRI, coilCalibration: self.coilCalibration, pointerTipMM: self.pointerTipMM, log: log.write)
        let executor = CommandExecutor(
            engine: engine, session: self.session, pulseLog: self.pulseLog, token: self.token,
            context: CommandContext(mriFiducials: self.plan.fiducials, scalp: self.scalp, pointerTipMM: self.pointerTipMM),
            appliedRegistration: self.registrationRecord)
        let server: NavigationServer
        do {
            server = try NavigationServer(
                engine: engine, commands: executor,
                options: .init(bind: self.configuration.bind, igtlPort: self.configuration.igtlPort, jsonPort: self.configuration.jsonPort))
        } catch {
            throw CLIError("cannot listen: \(error)")
        }
        server.start()
        let handle: @Sendable (TrackerEvent) -> Void = { event in
            engine.handle(event)
            switch event {
            case .state(let s): log.write("coilnav: tracker: \(TrackerConnection.describe(s))")
            case .warning(let w): log.write("coilnav: warning: \(w)")
            case .frame: break
            }
        }
        let source = self.tracker.makeSource(onEvent: recording.map { $0.recorder.tap(clock: $0.clock, then: handle) } ?? handle)
        source.start()
        return RunningServer(
            server: server, engine: engine,
            stopTracker: {
                _ = source.stop(timeout: .seconds(3))
                if let recording {
                    log.flush()
                    do {
                        try RecordCommand.finish(recording.recorder, path: recording.path, at: recording.clock.nowNanoseconds())
                    } catch {
                        log.write("coilnav: record: \(error)")
                    }
                }
            }, setup: self)
    }

    /// The first lines `coilnav serve` prints: the ports first.
    func banner(_ server: NavigationServer) -> String {
        let host = self.configuration.bind.contains(":") ? "[\(self.configuration.bind)]" : self.configuration.bind
        var head = "OpenIGTLink: listening on \(host):\(server.igtlPort)\n"
        head += "JSON-lines: listening on \(host):\(server.jsonPort)\n"
        head += "session: \(self.session.directory) (\(self.resumed ? "resumed" : "new")), \(self.pulseLog.records.count) pulses recorded\n"
        head += "registration: \(self.registrationSource)\n"
        head += "active target: \(self.activeTarget ?? "none") (plan targets: \(self.targets.map(\.name).joined(separator: ", ")))\n"
        head += self.token == nil
            ? "insecure: every client may change the session\n"
            : "token: \(self.session.tokenPath) (needed by commands that change the session)\n"
        head += "tracker: \(self.configuration.tracker) at \(formatMM(self.tracker.frameRateHz)) Hz\n"
        if let path = self.recordPath { head += "recording: \(path)\n" }
        for n in self.notes { head += "note: \(n)\n" }
        return head
    }
}

/// A started server: stop() stops the tracker (TSTOP), the server and the mock, and closes the log.
final class RunningServer {
    let server: NavigationServer
    let engine: NavigationEngine
    private let stopTracker: () -> Void
    private let setup: ServerSetup

    init(server: NavigationServer, engine: NavigationEngine, stopTracker: @escaping () -> Void, setup: ServerSetup) {
        self.server = server
        self.engine = engine
        self.stopTracker = stopTracker
        self.setup = setup
    }

    func stop() {
        self.stopTracker()
        self.server.stop()
        self.setup.tracker.mockServer?.stop()
        self.setup.pulseLog.close()
    }
}

private func formatMM(_ x: Double) -> String {
    let r = (x * 100).rounded() / 100
    return r == r.rounded() ? String(Int(r)) : String(r)
}

/// Log lines from any thread without blocking the caller (a serial queue writes): to standard error,
/// or to a file (the demo, whose screen belongs to the readout).
final class ServerLog: Sendable {
    private let queue = DispatchQueue(label: "coilnav-log")
    private let handle: FileHandle

    private init(handle: FileHandle) { self.handle = handle }

    static func standardError() -> ServerLog { ServerLog(handle: FileHandle.standardError) }

    static func file(_ path: String) throws -> ServerLog {
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw CLIError("cannot write the log \(path)")
        }
        return ServerLog(handle: h)
    }

    func write(_ line: String) {
        let h = self.handle
        self.queue.async { h.write(Data((line + "\n").utf8)) }
    }

    func flush() { self.queue.sync {} }
}
