import CoilNavTestSupport
import Foundation
import Formats
import Geometry
import MockTracker
import Navigation
import Readout
import Testing
import TrackerTransport

#if canImport(Glibc)
import Glibc
#endif

/// The readout walkthrough scenario (Mock/scenarios/readout-walkthrough.json), 60 Hz from frame 0:
/// the approach, ON TARGET at ≈ 3.1 s, the stall at frame 300, the coil hidden in frames 480..<522.
enum Walkthrough {
    static let path = Paths.root.appendingPathComponent("Mock/scenarios/readout-walkthrough.json").path
    static let coilHidden = 480..<522

    /// What the server computes for device frame `n`, from the float32 poses the mock sends.
    static func metrics(ofFrame n: Int, simulation: MockSimulation, headToMRI: RigidTransform, target: NavigationTarget) throws -> CoilError {
        let tools = simulation.frame(n).tools
        let head = try #require(tools.first { $0.name == "head" }?.measured?.transform)
        let coil = try #require(tools.first { $0.name == "coil" }?.measured?.transform)
        return CoilError(coilToMRI: headToMRI * (head.inverse * coil), target: target)
    }

    static func load() throws -> (MockSimulation, RigidTransform, NavigationTarget) {
        let sim = MockSimulation(scenario: try MockScenario.load(path: Self.path), seed: 1)
        let headToMRI = try RegistrationRecord.load(path: Paths.demo("registration.json")).headToMRI
        let planTarget = try #require(try Plan.load(path: Paths.demo("plan.json")).target(named: "DLPFC-Fox2012"))
        let target = NavigationTarget(name: planTarget.name, targetToMRI: planTarget.coilToMRI, coilToCortexMM: planTarget.coilToCortexMM ?? 0)
        return (sim, headToMRI, target)
    }
}

/// A child process whose standard output is collected while it runs.
final class CollectingProcess: @unchecked Sendable {
    let process = Process()
    private let out = Pipe()
    private let err = Pipe()
    private let lock = NSLock()
    private var outData = Data()
    private var errData = Data()
    private let done = DispatchGroup()

    init(_ arguments: [String]) throws {
        self.process.executableURL = Paths.executable
        self.process.arguments = arguments
        self.process.standardOutput = self.out
        self.process.standardError = self.err
        try self.process.run()
        for (pipe, isOut) in [(self.out, true), (self.err, false)] {
            self.done.enter()
            DispatchQueue.global().async { [self] in
                while true {
                    let chunk = pipe.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    self.lock.lock()
                    if isOut { self.outData += chunk } else { self.errData += chunk }
                    self.lock.unlock()
                }
                self.done.leave()
            }
        }
    }

    var stdout: String { self.lock.lock(); defer { self.lock.unlock() }; return String(decoding: self.outData, as: UTF8.self) }

    /// Waits until stdout holds `needle` (true) or `seconds` pass (false).
    func waitFor(_ needle: String, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if self.stdout.contains(needle) { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    /// Waits for the process to end by itself (killed after `seconds`).
    func finish(seconds: Double) -> (status: Int32, stdout: String, stderr: String) {
        let deadline = Date().addingTimeInterval(seconds)
        while self.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if self.process.isRunning { self.process.terminate() }
        self.process.waitUntilExit()
        self.done.wait()
        self.lock.lock()
        defer { self.lock.unlock() }
        return (self.process.terminationStatus, String(decoding: self.outData, as: UTF8.self), String(decoding: self.errData, as: UTF8.self))
    }
}

/// The fields of a plain line, in order.
func plainFields(_ line: Substring) -> [(String, String)] {
    line.split(separator: " ").map { pair in
        let parts = pair.split(separator: "=", maxSplits: 1)
        return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
    }
}

@Suite struct WatchPlainTests {
    /// `coilnav watch` with standard output a pipe prints plain lines. Started before the server
    /// exists it says UNREACHABLE and keeps trying; then the walkthrough scenario runs and every
    /// line's figures are the ones the server must compute for that frame (from the mock's float32
    /// poses, formatted independently here with printf), the states follow the scenario (OFF TARGET,
    /// ACQUIRING, ON TARGET 0.5 s after the on-target rule first holds, TRACKING LOST at the stall,
    /// INVALID coil-missing exactly in the hidden frames); when the server stops, UNREACHABLE again.
    @Test func plainLinesFollowTheWalkthroughExactly() throws {
        let listener = try TCPListener(port: 0)
        let port = listener.port
        listener.close()
        let session = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: session) }
        let watch = try CollectingProcess(["watch", "--server", "127.0.0.1:\(port)", "--rate", "10", "--seconds", "14"])
        #expect(watch.waitFor("state=UNREACHABLE", seconds: 10), "\(watch.stdout)")
        let server = try ServerProcess([
            "--tracker", "mock://\(Walkthrough.path)?seed=1", "--plan", Paths.demo("plan.json"),
            "--registration", Paths.demo("registration.json"), "--session", session.path,
            "--igtl-port", "0", "--json-port", "\(port)",
        ])
        #expect(watch.waitFor("state=INVALID", seconds: 12), "\(watch.stdout)")
        // On target again after the hidden coil, then the server goes away.
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, !watch.stdout.split(separator: "\n").contains(where: { (Int(plainFields($0)[0].1) ?? 0) >= 560 }) {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let stoppedAfter = watch.stdout.split(separator: "\n").compactMap { Int(plainFields($0)[0].1) }.max() ?? 0
        let stopped = server.stop()
        #expect(stopped.status == 0, "\(stopped.stderr)")
        let result = watch.finish(seconds: 20)
        #expect(result.status == 0, "\(result.stderr)")

        let lines = result.stdout.split(separator: "\n")
        let names = [
            "frame", "state", "dwell", "target", "valid", "reasons", "dist", "inplane", "depth", "tilt", "twist", "coil", "head",
            "pointer", "rate", "dropped", "fre", "tre", "lost",
        ]
        let (sim, headToMRI, target) = try Walkthrough.load()
        func printf(_ x: Double, _ format: String) -> String {
            let t = String(format: format, x)
            return ["+0.00", "-0.00", "+0.0", "-0.0"].contains(t) ? String(t.dropFirst()) : t
        }
        // The first frame whose every later frame (until the stall) meets the on-target rule.
        var heldFrom = 0
        for n in 0..<300 {
            let e = try Walkthrough.metrics(ofFrame: n, simulation: sim, headToMRI: headToMRI, target: target)
            if !(e.distanceMM < 1 && e.tiltDegrees < 2 && Swift.abs(e.twistDegrees) < 4) { heldFrom = n + 1 }
        }
        #expect(heldFrom > 120 && heldFrom < 175, "the rule holds from frame \(heldFrom)")

        var states: [String] = []
        var firstOnTarget: Int?
        var checkedFigures = 0
        var lostSeconds: [Double] = []
        for line in lines {
            let fields = plainFields(line)
            #expect(fields.map(\.0) == names, "\(line)")
            let f = Dictionary(uniqueKeysWithValues: fields)
            let state = f["state"] ?? "?"
            if states.last != state { states.append(state) }
            guard let frame = Int(f["frame"] ?? "") else { continue }
            switch state {
            case "OFF-TARGET", "ACQUIRING", "ON-TARGET":
                let e = try Walkthrough.metrics(ofFrame: frame, simulation: sim, headToMRI: headToMRI, target: target)
                #expect(f["valid"] == "yes" && f["reasons"] == "-", "\(line)")
                #expect(f["dist"] == printf(e.distanceMM, "%.2f") + "mm", "\(line)")
                #expect(f["inplane"] == printf(e.inPlaneAtCoilMM.magnitude, "%.2f") + "mm", "\(line)")
                #expect(f["depth"] == printf(e.depthMM, "%+.2f") + "mm", "\(line)")
                #expect(f["tilt"] == printf(e.tiltDegrees, "%.1f") + "deg", "\(line)")
                #expect(f["twist"] == printf(e.twistDegrees, "%+.1f") + "deg", "\(line)")
                #expect(f["coil"] == "ok" && f["head"] == "ok" && f["pointer"] == "partly-out-of-volume", "\(line)")
                #expect(f["target"] == "DLPFC-Fox2012" && f["fre"] == "0.72mm", "\(line)")
                #expect(!Walkthrough.coilHidden.contains(frame), "\(line)")
                if frame < heldFrom { #expect(state == "OFF-TARGET", "\(line)") }
                if state == "ON-TARGET", firstOnTarget == nil { firstOnTarget = frame }
                checkedFigures += 1
            case "INVALID":
                #expect(Walkthrough.coilHidden.contains(frame), "\(line)")
                #expect(f["reasons"] == "coil-missing" && f["coil"] == "missing" && f["dist"] == "-", "\(line)")
            case "TRACKING-LOST":
                // The stall, or the server stopping (its tracker goes first).
                #expect(frame < 300 || frame >= stoppedAfter, "\(line)")
                if frame < 300, let s = Double((f["lost"] ?? "").dropLast()) { lostSeconds.append(s) }
            default:
                break
            }
        }
        // At 10 lines a second (a line every 6th frame), on the server's clock: ON TARGET 0.5 s after
        // the rule first holds, give or take a line (and a little scheduling on a busy machine).
        let on = try #require(firstOnTarget, "\(result.stdout)")
        #expect(on >= heldFrom + 27 && on <= heldFrom + 30 + 6 + 12, "ON TARGET at frame \(on), rule from \(heldFrom)")
        // About 60 valid-frame lines at 10 a second; a busy machine (the suite runs tests in
        // parallel) prints fewer, and each one printed is checked exactly above.
        #expect(checkedFigures >= 30, "\(checkedFigures) lines with figures")
        // The stall: tracking lost for more than a second, said at least once a second.
        #expect(lostSeconds.count >= 2 && (lostSeconds.max() ?? 0) >= 1, "\(lostSeconds)")
        // The sequence of states, without repeats.
        #expect(Array(states.prefix(2)) == ["CONNECTING", "UNREACHABLE"] || states.first == "UNREACHABLE", "\(states)")
        let middle = states.drop { $0 != "OFF-TARGET" }
        #expect(Array(middle.prefix(4)) == ["OFF-TARGET", "ACQUIRING", "ON-TARGET", "TRACKING-LOST"], "\(states)")
        #expect(middle.contains("INVALID"))
        #expect(states.last == "UNREACHABLE", "\(states)")
        #expect(result.stdout.contains("\u{1B}") == false)
    }
}

/// tmux on a private socket: sessions, keys, screen captures.
struct Tmux {
    let socket = "coilnav-test-\(UUID().uuidString.prefix(8))"

    static var available: Bool { (try? Tmux().run(["-V"]))?.status == 0 }

    /// Runs a tmux command and waits for it, spawned (not through Foundation's `Process`) with every
    /// descriptor above 2 closed, signals unblocked, and its output in files: the server that `new-session` forks keeps whatever it inherits open
    /// for its lifetime, so an inherited pipe (or Foundation's `Process` bookkeeping socket) would
    /// never report the end of the command.
    @discardableResult
    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let dir = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outPath = dir.appendingPathComponent("out").path, errPath = dir.appendingPathComponent("err").path
        let argv = ["tmux", "-L", self.socket] + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // bash (dash cannot name descriptors above 9) closes every other descriptor it inherited, then becomes tmux.
        let script = #"for f in /proc/$$/fd/*; do n=${f##*/}; if [ "$n" -gt 2 ] && [ -e "$f" ]; then eval "exec $n>&-"; fi; done; exec "$@""#
        var cArgs: [UnsafeMutablePointer<CChar>?] = (["/bin/bash", "-c", script, "bash"] + argv).map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        // The calling thread (a test worker) blocks most signals and the mask is inherited: tmux and
        // the programs in its panes get an empty mask and default dispositions instead.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/bash", &actions, &attributes, &cArgs, environ)
        guard rc == 0 else { throw ServeTestError("cannot start tmux: \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let r = (
            status: exit, stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
        if r.status != 0 { throw ServeTestError("tmux \(arguments.joined(separator: " ")): \(r.stderr)") }
        return r
    }

    /// The pane's text (no attributes), or with `escapes` its colours and attributes as escape sequences.
    func capture(_ session: String, escapes: Bool = false) -> String {
        (try? self.run(["capture-pane", "-p", "-t", session] + (escapes ? ["-e"] : [])))?.stdout ?? ""
    }

    /// Waits until the captured pane satisfies `predicate`; returns that capture, or nil.
    func waitFor(_ session: String, seconds: Double, _ predicate: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let c = self.capture(session)
            if predicate(c) { return c }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    func display(_ session: String, _ format: String) -> String {
        ((try? self.run(["display-message", "-p", "-t", session, format]))?.stdout ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Ends the server and the programs in its panes.
    func killServer() { _ = try? self.run(["kill-server"]) }
}

@Suite(.serialized) struct WatchScreenTests {
    /// `coilnav watch` full screen in a 120 × 40 tmux pane on the walkthrough: the figures and the
    /// banner change as the scenario runs (OFF TARGET with the coil beyond the bullseye, ON TARGET
    /// with 0.0 in big digits, TRACKING LOST at the stall, NOT VALID — coil missing), colour on; the
    /// layout follows resizes (80 × 24: 3-row digits; 60 × 20: figures as text); q quits with
    /// status 0, the alternate screen left and the cursor shown again.
    @Test(.enabled(if: Tmux.available, "tmux is not installed (CI installs it: apt-get install tmux)"))
    func watchOnScreenFollowsTheScenarioResizesAndQuits() throws {
        let session = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: session) }
        let server = try ServerProcess([
            "--tracker", "mock://\(Walkthrough.path)?seed=1", "--plan", Paths.demo("plan.json"),
            "--registration", Paths.demo("registration.json"), "--session", session.path,
            "--igtl-port", "0", "--json-port", "0",
        ])
        defer { server.stop() }
        let tmux = Tmux()
        defer { tmux.killServer() }
        let command = "env -u NO_COLOR '\(Paths.executable.path)' watch --server 127.0.0.1:\(server.jsonPort); echo exit=$?; sleep 60"
        try tmux.run(["new-session", "-d", "-s", "w", "-x", "120", "-y", "40", command])

        // Early: off target, the coil 12 mm off in the plane — on the bullseye's rim, up and to the
        // right (target −x, +y) — and tilted 12°, past the tilt indicator's rim.
        let early = try #require(tmux.waitFor("w", seconds: 10) { $0.contains("OFF TARGET") }, "\(tmux.capture("w"))")
        #expect(!early.contains("ON TARGET"))
        for label in ["DISTANCE mm", "IN-PLANE mm", "DEPTH mm (+ deeper)", "TILT °", "TWIST ° (+ clockwise)", "front", "handle"] {
            #expect(early.contains(label), "\(label)\n\(early)")
        }
        #expect(early.contains("pointer partly out of volume"), "\(early)")
        #expect(early.contains("registration FRE 0.72 mm · predicted TRE at DLPFC-Fox2012"), "\(early)")
        #expect(tmux.display("w", "#{alternate_on} #{cursor_flag}") == "1 0")
        #expect(tmux.capture("w", escapes: true).contains("44m"), "a blue OFF TARGET banner in colour")

        // On target: the banner, and distance, in-plane, depth, tilt and twist all 0.0 in big digits.
        let on = try #require(tmux.waitFor("w", seconds: 8) { $0.contains("ON TARGET") }, "\(tmux.capture("w"))")
        let zero = BigFont.fiveRows.render("0.0")
        let rows = on.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var zeroRows: [Int] = []
        for i in 0..<Swift.max(0, rows.count - 4) {
            var all = true
            for k in 0..<5 where !rows[i + k].contains(zero[k]) { all = false }
            if all { zeroRows.append(i) }
        }
        #expect(zeroRows.count >= 3, "0.0 in big digits for the figures\n\(on)")
        #expect(on.contains("coil ok    head ok"), "\(on)")
        #expect(tmux.capture("w", escapes: true).contains("42m"), "a green banner")

        // The stall: TRACKING LOST, loud; then the hidden coil.
        let lost = try #require(tmux.waitFor("w", seconds: 8) { $0.contains("TRACKING LOST") }, "\(tmux.capture("w"))")
        #expect(lost.contains("TRACKING LOST — no tracker frame for"), "\(lost)")
        let missing = try #require(tmux.waitFor("w", seconds: 10) { $0.contains("NOT VALID — coil missing") }, "\(tmux.capture("w"))")
        #expect(missing.contains("coil MISSING"), "\(missing)")

        // Resizes re-lay the screen out.
        try tmux.run(["resize-window", "-t", "w", "-x", "80", "-y", "24"])
        let medium = try #require(
            tmux.waitFor("w", seconds: 5) { $0.contains("DEPTH mm") && !$0.contains("(+ deeper)") && $0.contains("q quit") }, "\(tmux.capture("w"))")
        #expect(medium.split(separator: "\n", omittingEmptySubsequences: false).allSatisfy { $0.count <= 80 })
        try tmux.run(["resize-window", "-t", "w", "-x", "60", "-y", "20"])
        let compact = try #require(tmux.waitFor("w", seconds: 5) { $0.contains(" distance  ") && $0.contains("at cortex") }, "\(tmux.capture("w"))")
        #expect(!compact.contains("DISTANCE mm"))

        // q: exit status 0, main screen back, cursor visible.
        try tmux.run(["send-keys", "-t", "w", "q"])
        let after = try #require(tmux.waitFor("w", seconds: 5) { $0.contains("exit=") }, "\(tmux.capture("w"))")
        #expect(after.contains("exit=0"), "\(after)")
        #expect(!after.contains("q quit"))
        #expect(tmux.display("w", "#{alternate_on} #{cursor_flag}") == "0 1")
    }

    /// `coilnav demo` in a pane with NO_COLOR: the readout of the in-process server (its header names
    /// the JSON-lines and OpenIGTLink ports), no colour at all, and Ctrl-C stops everything with
    /// status 0, restores the terminal and says where the session and log are.
    @Test(.enabled(if: Tmux.available, "tmux is not installed (CI installs it: apt-get install tmux)"))
    func demoOnScreenWithoutColourStopsOnControlC() throws {
        let session = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: session) }
        let tmux = Tmux()
        defer { tmux.killServer() }
        let command =
            "NO_COLOR=1 '\(Paths.executable.path)' demo --scenario '\(Walkthrough.path)' --session '\(session.path)'; echo exit=$?; sleep 60"
        try tmux.run(["new-session", "-d", "-s", "d", "-x", "100", "-y", "34", command])
        let on = try #require(tmux.waitFor("d", seconds: 15) { $0.contains("ON TARGET") }, "\(tmux.capture("d"))")
        #expect(on.contains("demo · JSON-lines 127.0.0.1:"), "\(on)")
        #expect(on.contains("████████████"), "the banner drawn with characters without colour\n\(on)")
        let escapes = tmux.capture("d", escapes: true)
        #expect(!escapes.contains("42m") && !escapes.contains("32m"), "no colour under NO_COLOR")
        try tmux.run(["send-keys", "-t", "d", "C-c"])
        let after = try #require(tmux.waitFor("d", seconds: 10) { $0.contains("exit=") }, "\(tmux.capture("d"))")
        #expect(after.contains("exit=0"), "\(after)")
        #expect(after.contains("JSON-lines: listening on 127.0.0.1:"), "\(after)")
        #expect(after.contains("demo stopped; session and server log kept in \(session.path)"), "\(after)")
        #expect(tmux.display("d", "#{alternate_on} #{cursor_flag}") == "0 1")
        let log = try String(contentsOf: session.appendingPathComponent("demo.log"), encoding: .utf8)
        #expect(log.contains("coilnav: tracker: tracking"), "\(log)")
    }
}

@Suite struct DemoLiveTests {
    /// Standard output a pipe: the demo prints where the server listens, then plain lines, and stops
    /// by itself at the end of the scenario (its last frame, 599).
    @Test func demoPrintsItsPortsThenPlainLinesAndEndsWithTheScenario() throws {
        let session = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: session) }
        let demo = try CollectingProcess(["demo", "--scenario", Walkthrough.path, "--session", session.path, "--rate", "5"])
        let result = demo.finish(seconds: 40)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("CoilNav demo: the demo patient (fsaverage), pre-registered; the mock tracker plays readout-walkthrough.json (10 s)") == true)
        #expect(lines.contains { $0.hasPrefix("JSON-lines: listening on 127.0.0.1:") && $0.contains("coilnav watch --server 127.0.0.1:") })
        #expect(lines.contains { $0.hasPrefix("OpenIGTLink: listening on 127.0.0.1:") })
        #expect(lines.contains { $0 == "session: \(session.path)   server log: \(session.path)/demo.log" })
        let plain = lines.filter { $0.hasPrefix("frame=") }
        #expect(plain.contains { $0.contains(" state=ON-TARGET ") })
        let last = try #require(plain.last.flatMap { Int(plainFields($0)[0].1) })
        #expect(last >= 599 && last < 700, "stopped at frame \(last)")
    }
}
