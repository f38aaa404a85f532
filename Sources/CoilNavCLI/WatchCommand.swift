import ArgumentParser
import Foundation
import Readout

/// `coilnav watch`: the technician's live readout of a running `coilnav serve`.
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Live terminal readout of a running coilnav serve: bullseye, big figures, ON TARGET, tracking state.",
        discussion: """
            Full screen (docs/readout.md): the coil centre on a bullseye in the target plane (seen \
            from outside the head, coil front up; rings 1, 2, 5, 10 mm on a fixed square-root scale; \
            an arrow on the rim beyond 10 mm), the tilt and twist indicator, distance, in-plane, depth, \
            tilt and twist in large digits, the ON TARGET banner with its dwell (ACQUIRING while the \
            dwell runs), the reasons when a frame is not valid, TRACKING LOST, coil / head / pointer \
            visibility, the tracker's frame rate and dropped frames, and the registration's FRE and \
            predicted TRE at the active target. Redraws up to 30 times a second, only the rows that \
            changed; follows terminal resizes. Keys: q (or Ctrl-C) quits and restores the terminal.

            When the server cannot be reached or goes away, the screen says so and watch reconnects \
            until it is back. It only reads (hello, status, subscribe): no session token is needed.

            Colour is off with --no-color, when NO_COLOR is set (any value), or when TERM is unset. \
            With --plain — and whenever standard output is not a terminal, or TERM is dumb — watch \
            prints one line per update instead, with fixed key=value fields and no escape codes, \
            at most --rate lines a second (plus one when the state changes, and one a second while \
            no frames arrive).
            """
    )

    @Option(help: ArgumentHelp("The server's JSON-lines address.", valueName: "HOST:PORT"))
    var server = "127.0.0.1:18945"
    @Flag(help: "One line per update instead of the full screen (also when standard output is not a terminal).")
    var plain = false
    @Option(help: ArgumentHelp("Plain lines a second (the server sends frames at this rate; default 10).", valueName: "HZ"))
    var rate: Double = ReadoutPolicy.defaultPlainRateHz
    @Flag(name: .customLong("no-color"), help: "No colour (also when NO_COLOR is set).")
    var noColor = false
    @Option(help: ArgumentHelp("Stop after this many seconds (default: until q or Ctrl-C).", valueName: "N"))
    var seconds: Double?

    func validate() throws {
        guard self.rate > 0, self.rate <= 1000 else { throw ValidationError("--rate must be between 0 and 1000 lines a second, got \(self.rate)") }
        if let s = self.seconds, !(s > 0) { throw ValidationError("--seconds must be positive, got \(s)") }
    }

    func run() throws {
        let (host, port) = try ServerConnection.parse(self.server)
        let output = ReadoutPolicy.output(
            plainFlag: self.plain, noColorFlag: self.noColor, standardOutputIsTerminal: isatty(STDOUT_FILENO) != 0,
            environment: ProcessInfo.processInfo.environment)
        try ReadoutRunner(host: host, port: port, label: self.server, output: output, plainRateHz: self.rate, seconds: self.seconds).run()
    }
}
