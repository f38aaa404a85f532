import Foundation

/// `coilnav register --server HOST:PORT`: the technician's guided registration against a running
/// `coilnav serve`, one line of input at a time (works on any terminal, a pseudo-terminal or a pipe).
///
/// Each plan fiducial in turn: touch it, hold still, press Enter. The server captures the next N
/// distinct tracker frames and refuses — saying why — when the pointer or the head reference is not
/// visible in any of them or the tip moved. Then an optional scalp sweep (one point per Enter) for
/// surface refinement, the result (FRE, each fiducial's residual, predicted TRE at each target,
/// warnings), and the choice: accept, redo one fiducial, or quit without accepting.
struct GuidedRegistration {
    let server: ServerConnection
    let token: String?
    let frames: Int
    let input: () -> String?
    let output: (String) -> Void

    enum Outcome { case accepted, quit }

    func run() throws -> Outcome {
        let hello = try self.checked(self.server.request("hello"))
        let fiducials = hello["fiducials"] as? [String] ?? []
        guard fiducials.count >= 3 else {
            throw CLIError("the server's plan has \(fiducials.count) fiducials; a registration needs at least 3")
        }
        if hello["tokenRequired"] as? Bool == true, self.token == nil {
            throw CLIError("the server needs its session token to register: pass --token-file SESSION/token")
        }
        self.output("Guided registration with coilnav serve at \(self.server.label).")
        self.output("Fiducials in the plan: \(fiducials.joined(separator: ", ")). Each capture averages \(self.frames) tracker frames;")
        self.output("the pointer and the head reference must both be visible and the tip still.")
        _ = try self.checked(self.server.request("clear-captures", ["what": "all"], token: self.token))
        for (i, name) in fiducials.enumerated() {
            guard try self.capture(name, number: i + 1, of: fiducials.count) else { return .quit }
        }
        var scalpPoints = 0
        self.output("Scalp points for surface refinement: touch the scalp and press Enter for each point; d when done, n for none.")
        while true {
            guard let line = self.input()?.trimmingCharacters(in: .whitespaces) else { return .quit }
            if line == "n" || line == "d" { break }
            if line == "q" { return .quit }
            let r = try self.server.request("capture-scalp-point", token: self.token)
            if let why = ServerConnection.failure(r) {
                self.output("  point refused: \(why)")
            } else {
                scalpPoints = r["scalpPoints"] as? Int ?? scalpPoints + 1
                self.output("  scalp point \(scalpPoints) captured")
            }
        }
        while true {
            let refine = scalpPoints >= 10
            if scalpPoints > 0 && !refine { self.output("(\(scalpPoints) scalp points: at least 10 are needed to refine; fiducials only)") }
            let r = try self.server.request("register", ["refine": refine], token: self.token)
            if let why = ServerConnection.failure(r) {
                self.output("Registration refused: \(why)")
                self.output("r NAME: redo that fiducial; q: quit.")
            } else {
                self.report(r, order: fiducials)
                self.output("Enter: accept; r NAME: redo that fiducial; q: quit without accepting.")
            }
            guard let line = self.input()?.trimmingCharacters(in: .whitespaces) else { return .quit }
            if line == "q" { return .quit }
            if line.hasPrefix("r ") {
                let name = String(line.dropFirst(2)).trimmingCharacters(in: .whitespaces)
                guard let index = fiducials.firstIndex(where: { $0.lowercased() == name.lowercased() }) else {
                    self.output("no fiducial \"\(name)\" (fiducials: \(fiducials.joined(separator: ", ")))")
                    continue
                }
                guard try self.capture(fiducials[index], number: index + 1, of: fiducials.count) else { return .quit }
                continue
            }
            if line.isEmpty, ServerConnection.failure(r) == nil {
                let a = try self.checked(self.server.request("accept-registration", token: self.token))
                self.output("Registration accepted: FRE \(fixed(a["freMM"] as? Double ?? .nan)) mm. The session keeps it.")
                return .accepted
            }
        }
    }

    /// Captures one fiducial, repeating on refusals; false when the user quits.
    private func capture(_ name: String, number: Int, of count: Int) throws -> Bool {
        self.output("[\(number)/\(count)] Touch \(name) with the pointer tip, hold still, and press Enter (q: quit).")
        while true {
            guard let line = self.input()?.trimmingCharacters(in: .whitespaces) else { return false }
            if line == "q" { return false }
            let r = try self.server.request("capture-fiducial", ["name": name, "frames": self.frames], token: self.token)
            if let why = ServerConnection.failure(r) {
                self.output("  \(name) refused — \(why). Press Enter to try again.")
                continue
            }
            let first = r["firstFrame"] as? Int ?? 0, last = r["lastFrame"] as? Int ?? 0
            self.output(
                "  \(name) captured: \(r["frames"] as? Int ?? 0) frames (\(first)–\(last)), tip spread \(fixed(r["spreadMM"] as? Double ?? .nan)) mm")
            return true
        }
    }

    private func report(_ r: [String: Any], order: [String]) {
        let residuals = r["residualsMM"] as? [String: Double] ?? [:]
        var head = "Registration: FRE \(fixed(r["freMM"] as? Double ?? .nan)) mm over \(residuals.count) fiducials"
        if r["refined"] as? Bool == true, let rms = r["surfaceRMSMM"] as? Double { head += ", refined on the scalp (RMS \(fixed(rms)) mm)" }
        self.output(head)
        let width = max(8, order.map(\.count).max() ?? 0)
        for name in order { if let mm = residuals[name] { self.output("  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(fixed(mm)) mm") } }
        if let tre = r["predictedTREMM"] as? [String: Double], !tre.isEmpty {
            self.output("Predicted TRE (FLE \(fixed(r["fleMM"] as? Double ?? 1)) mm):")
            for (name, mm) in tre.sorted(by: { $0.key < $1.key }) {
                self.output("  " + name.padding(toLength: max(8, name.count), withPad: " ", startingAt: 0) + "  \(fixed(mm)) mm")
            }
        }
        for w in r["warnings"] as? [String] ?? [] { self.output("warning: \(w)") }
    }

    private func checked(_ r: [String: Any]) throws -> [String: Any] {
        if let why = ServerConnection.failure(r) { throw CLIError(why) }
        return r
    }
}
