import ArgumentParser
import Foundation
import MockTracker
import MockTrackerServer

/// `coilnav mock-tracker`: a mock NDI tracker serving a scenario over TCP or a pseudo-terminal.
struct MockTrackerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-tracker",
        abstract: "Run a mock NDI tracker (Combined API) that plays a scenario, over TCP or a pseudo-terminal.",
        discussion: """
            --listen HOST:PORT: a Vega-like tracker on TCP (port 0 picks a free port); the first \
            line printed is "listening on HOST:PORT" with the actual port. --pty: a serial-like \
            tracker on a new pseudo-terminal; the first line printed is the slave path (open it \
            like /dev/ttyUSB0). Runs until SIGINT or SIGTERM, then exits with status 0.

            The host drives it as it would a real tracker: INIT, (COMM on the pseudo-terminal), \
            PHSR, PHRQ + 16 PVWR with the tool-definition file the scenario names (from \
            Calibration/), PINIT, PENA, TSTART, BX or TX, TSTOP. See Mock/scenarios/README.md.

            Frames advance at the scenario's frame rate from the first TSTART; with \
            --as-fast-as-possible each BX/TX reply carries the next frame instead (deterministic). \
            --dump-truth FILE writes the noise-free pose of every tool for every frame from 0 up \
            to the latest frame a reply carried, as JSON lines \
            {"frame","tool","q":[q0,qx,qy,qz],"t":[x,y,z]}.
            """
    )

    @Option(help: ArgumentHelp("The scenario file (Mock/scenarios/*.json).", valueName: "FILE"))
    var scenario: String

    @Option(help: "Seed of the scenario's noise and dropouts.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Serve TCP on HOST:PORT (e.g. 127.0.0.1:8765; port 0 = any).", valueName: "HOST:PORT"))
    var listen: String?

    @Flag(help: "Serve on a new pseudo-terminal; its path is printed on the first line.")
    var pty = false

    @Option(help: ArgumentHelp("Write the noise-free poses as JSON lines to FILE.", valueName: "FILE"))
    var dumpTruth: String?

    @Flag(help: "Each BX/TX reply carries the next frame, regardless of time.")
    var asFastAsPossible = false

    @Option(help: ArgumentHelp("Folder the scenario's tool-definition names are relative to (default: Calibration/).", valueName: "DIR"))
    var calibration: String?

    mutating func validate() throws {
        guard (self.listen != nil) != self.pty else {
            throw ValidationError("give exactly one of --listen HOST:PORT and --pty")
        }
        if let listen {
            _ = try Self.hostPort(listen)
        }
    }

    static func hostPort(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port), colon != text.startIndex
        else {
            throw ValidationError("--listen must be HOST:PORT, e.g. 127.0.0.1:8765 (got \"\(text)\")")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    /// Writes a line to standard output at once (unbuffered: a parent process reads it while we run).
    static func printLine(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    func run() throws {
        let scenario: MockScenario
        do {
            scenario = try MockScenario.load(path: self.scenario)
        } catch {
            throw CLIError("\(error)")
        }
        var calibration = self.calibration
        if calibration == nil, (try? MockTrackerServer.loadToolDefinitions(for: scenario)) == nil {
            calibration = try DataLocator.path("Calibration")
        }
        var truthFile: FileHandle?
        if let dumpTruth {
            guard FileManager.default.createFile(atPath: dumpTruth, contents: nil) else {
                throw CLIError("cannot create \(dumpTruth)")
            }
            truthFile = FileHandle(forWritingAtPath: dumpTruth)
        }
        var sink: (@Sendable (String) -> Void)? = nil
        if let file = truthFile {
            sink = { text in file.write(Data(text.utf8)) }
        }
        let options = MockTrackerServer.Options(
            timing: self.asFastAsPossible ? .asFastAsPossible : .realTime,
            truthSink: sink,
            calibrationDirectory: calibration
        )

        // Block SIGINT and SIGTERM before the serving thread starts (it inherits the mask), then
        // wait for one of them here.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        let server: MockTrackerServer
        do {
            if let listen {
                let (host, port) = try Self.hostPort(listen)
                server = try MockTrackerServer.tcp(host: host, port: port, scenario: scenario, seed: self.seed, options: options)
                Self.printLine("listening on \(host):\(server.port!)")
            } else {
                server = try MockTrackerServer.pseudoTerminal(scenario: scenario, seed: self.seed, options: options)
                Self.printLine(server.slavePath!)
            }
        } catch {
            throw CLIError("mock-tracker: \(error)")
        }
        var received: Int32 = 0
        sigwait(&signals, &received)
        server.stop()
        try? truthFile?.synchronize()
        try? truthFile?.close()
        if let failure = server.failure {
            throw CLIError("mock-tracker: \(failure)")
        }
    }
}
