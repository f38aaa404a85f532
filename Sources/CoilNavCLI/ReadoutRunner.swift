import Foundation
import Readout

#if canImport(Glibc)
import Glibc
#endif

/// Runs the readout against a server until the user quits (q, Ctrl-C, SIGTERM), `seconds` pass, or
/// `finished` says so: the full screen or the plain lines. Shared by `coilnav watch` and
/// `coilnav demo`.
struct ReadoutRunner {
    var host: String
    var port: Int
    var label: String
    var output: ReadoutPolicy.Output
    /// Plain lines a second (the screen redraws at `ReadoutPolicy.screenRateHz`).
    var plainRateHz: Double
    var seconds: Double?
    var headerNote: String?
    /// Checked on every update: true ends the run (the demo stops when its scenario is over).
    var finished: (ReadoutState) -> Bool = { _ in false }

    func run() throws {
        let signals = try ReadoutSignals()
        let rate = self.output == .plain ? self.plainRateHz : ReadoutPolicy.screenRateHz
        let feed = ReadoutFeed(
            host: self.host, port: self.port, label: self.label, maxRateHz: rate, headerNote: self.headerNote,
            wake: { [signals] in signals.wake() })
        feed.start()
        defer { feed.stop() }
        switch self.output {
        case .plain: self.runPlain(feed, signals: signals)
        case .screen(let colour): self.runScreen(feed, signals: signals, colour: colour)
        }
    }

    private func timeIsUp(_ feed: ReadoutFeed) -> Bool {
        guard let s = self.seconds else { return false }
        return Double(feed.now()) / 1e9 >= s
    }

    private func runScreen(_ feed: ReadoutFeed, signals: ReadoutSignals, colour: Bool) {
        let terminal = FullScreenTerminal()
        terminal.enter()
        defer { terminal.restore() }
        let frameInterval = Int64(1e9 / ReadoutPolicy.screenRateHz)
        var lastDraw: Int64 = -frameInterval
        var size = terminal.size()
        while !signals.shouldQuit {
            let now = feed.now()
            let untilNext = Swift.max(0, lastDraw + frameInterval - now)
            if signals.wait(milliseconds: Int32(untilNext / 1_000_000), inputFD: terminal.keyboardFD) {
                let keys = terminal.readKeys()
                // q or Q; Ctrl-C arrives as SIGINT, or as its byte when the terminal sends no signals.
                if keys.contains(where: { $0 == UInt8(ascii: "q") || $0 == UInt8(ascii: "Q") || $0 == 3 }) { break }
            }
            if signals.takeResized() { size = terminal.size() }
            let t = feed.now()
            if t - lastDraw >= frameInterval {
                let state = feed.snapshot()
                if self.finished(state) || self.timeIsUp(feed) { break }
                terminal.draw(
                    ReadoutRenderer.render(state, at: t, columns: size.columns, rows: size.rows, colour: colour),
                    columns: size.columns, rows: size.rows)
                lastDraw = t
            }
        }
    }

    /// A line for every frame the (rate-capped) subscription delivers, at once when the state
    /// changes without a frame (tracking lost, server gone), and at least once a second.
    private func runPlain(_ feed: ReadoutFeed, signals: ReadoutSignals) {
        // A reader that goes away ends the run rather than the process.
        signal(SIGPIPE, SIG_IGN)
        var printedFrames = -1
        var printedPhase = ""
        var lastLine: Int64 = -2_000_000_000
        while !signals.shouldQuit {
            _ = signals.wait(milliseconds: 100, inputFD: -1)
            let now = feed.now()
            let state = feed.snapshot()
            let phase = state.phase(at: now).token
            if state.framesSeen != printedFrames || phase != printedPhase || now - lastLine >= 1_000_000_000 {
                let line = PlainLine.line(state, at: now) + "\n"
                let ok = line.utf8CString.withUnsafeBufferPointer { p in
                    Glibc.write(STDOUT_FILENO, p.baseAddress, p.count - 1) == p.count - 1
                }
                if !ok { break }
                printedFrames = state.framesSeen
                printedPhase = phase
                lastLine = now
            }
            if self.finished(state) || self.timeIsUp(feed) { break }
        }
    }
}
