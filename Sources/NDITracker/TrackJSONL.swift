import Geometry
import TrackerCore

/// The output of `coilnav track --format jsonl`: one JSON object per tool per frame, keys in this
/// order:
///
/// `{"frame": N, "tool": "coil", "status": "ok", "q": [q0, qx, qy, qz], "t": [x, y, z], "rmsMM": r}`
///
/// - `frame`: the device frame number;
/// - `status`: `ok`, `missing`, `partly-out-of-volume` or `disabled`;
/// - `q`: `toolToTracker` rotation as a unit quaternion, scalar first (NDI order), with q0 ≥ 0,
///   rounded to 1e-7; `t`: translation in mm rounded to 1e-4; `rmsMM`: the device's RMS fit
///   error in mm, rounded to 1e-6. `q`, `t` and `rmsMM` are absent unless a pose exists.
public enum TrackJSONL {
    public static func lines(for frame: TrackerFrame) -> [String] {
        frame.tools.map { self.line(frame: frame.deviceFrameNumber, sample: $0) }
    }

    public static func line(frame: UInt32, sample: ToolSample) -> String {
        var s = "{\"frame\":\(frame),\"tool\":\(self.quoted(sample.name)),\"status\":\"\(sample.status.rawValue)\""
        if sample.status.hasPose, let pose = sample.toolToTracker {
            let q = Quaternion(rotationMatrix: pose.rotation).normalized.canonical
            s +=
                ",\"q\":[\(self.number(q.q0, 1e7)),\(self.number(q.qx, 1e7)),\(self.number(q.qy, 1e7)),\(self.number(q.qz, 1e7))]"
            let t = pose.translation
            s += ",\"t\":[\(self.number(t.x, 1e4)),\(self.number(t.y, 1e4)),\(self.number(t.z, 1e4))]"
            if let r = sample.rmsErrorMM { s += ",\"rmsMM\":\(self.number(r, 1e6))" }
        }
        return s + "}"
    }

    /// `x` rounded to 1/scale, as a JSON number (no "-0", no NaN: non-finite values print as 0).
    static func number(_ x: Double, _ scale: Double) -> String {
        guard x.isFinite else { return "0" }
        var r = (x * scale).rounded() / scale
        if r == 0 { r = 0 }
        if r == r.rounded(), abs(r) < 1e15 { return String(Int64(r)) }
        return "\(r)"
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
