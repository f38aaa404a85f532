/// The `--plain` output: one line per update, for logs and screen readers, never with an escape
/// code. Every line has the same fields in the same order, `key=value` separated by one space;
/// a value that is unknown or does not apply is `-` (docs/readout.md lists them):
///
///     frame=2123 state=ON-TARGET dwell=0.8s target=DLPFC-Fox2012 valid=yes reasons=- dist=0.12mm inplane=0.10mm depth=+0.03mm tilt=0.4deg twist=-0.5deg coil=ok head=ok pointer=missing rate=60.0Hz dropped=0 fre=0.72mm tre=1.93mm lost=-
public enum PlainLine {
    /// The field names, in order.
    public static let fields = [
        "frame", "state", "dwell", "target", "valid", "reasons", "dist", "inplane", "depth", "tilt", "twist", "coil", "head",
        "pointer", "rate", "dropped", "fre", "tre", "lost",
    ]

    /// The line for `state` at `now` (no newline).
    public static func line(_ state: ReadoutState, at now: Int64) -> String {
        let phase = state.phase(at: now)
        let current = state.currentFrame(at: now)
        var tools: ReadoutFrame?
        var valid = "-"
        var reasons = "-"
        var dwell = "-"
        var lost = "-"
        switch phase {
        case .onTarget(let d, _), .acquiring(let d):
            dwell = NumberText.fixed(d, 1) + "s"
            tools = state.frame
            valid = "yes"
        case .offTarget:
            tools = state.frame
            valid = "yes"
        case .invalid(let r):
            tools = state.frame
            valid = "no"
            reasons = r.joined(separator: ",")
        case .trackingLost(let silence, _, _):
            valid = "no"
            reasons = "tracking-lost"
            lost = silence.map { NumberText.fixed($0, 1) + "s" } ?? "-"
        case .unreachable(_, _, let seconds):
            valid = "no"
            reasons = "server-unreachable"
            lost = seconds.map { NumberText.fixed($0, 1) + "s" } ?? "-"
        case .connecting:
            reasons = "connecting"
        case .waiting:
            reasons = "no-frame-yet"
        }
        let m = current?.metrics
        func mm(_ x: Double?, signed: Bool = false) -> String {
            guard let x, x.isFinite else { return "-" }
            return (signed ? NumberText.signed(x, 2) : NumberText.fixed(x, 2)) + "mm"
        }
        func deg(_ x: Double?, signed: Bool = false) -> String {
            guard let x, x.isFinite else { return "-" }
            return (signed ? NumberText.signed(x, 1) : NumberText.fixed(x, 1)) + "deg"
        }
        let status = state.status
        let values: [String] = [
            state.frame.map { String($0.frame) } ?? status?.lastFrame.map(String.init) ?? "-",
            phase.token,
            dwell,
            Self.quoted(state.target),
            valid,
            reasons,
            mm(m?.distanceMM),
            mm(m?.inPlaneAtCoil?.mm),
            mm(m?.depthMM, signed: true),
            deg(m?.tiltDegrees),
            deg(m?.twistDegrees, signed: true),
            Self.tool(tools?.coilStatus, known: tools != nil),
            Self.tool(tools?.headStatus, known: tools != nil),
            Self.tool(tools?.pointerStatus, known: tools != nil),
            status?.frameRateHz.map { NumberText.fixed($0, 1) + "Hz" } ?? "-",
            status.map { String($0.framesDropped) } ?? "-",
            mm(status?.freMM),
            mm(status?.predictedTREMM),
            lost,
        ]
        var out = ""
        for (k, v) in zip(Self.fields, values) {
            if !out.isEmpty { out += " " }
            out += k + "=" + v
        }
        return out
    }

    static func tool(_ status: String?, known: Bool) -> String {
        guard known else { return "-" }
        return status ?? "none"
    }

    /// A target name as a value: as it is when it has no space, `"`, `\` or `=`, else in double
    /// quotes with `"` and `\` escaped by a backslash; `-` for none.
    public static func quoted(_ name: String?) -> String {
        guard let name else { return "-" }
        if !name.isEmpty, !name.contains(where: { $0 == " " || $0 == "\"" || $0 == "\\" || $0 == "=" || $0 == "\t" }) {
            return name
        }
        var out = "\""
        for ch in name {
            if ch == "\"" || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        return out + "\""
    }
}
