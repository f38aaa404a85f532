import Formats
import Geometry

/// The `--dump-truth` output of `coilnav mock-tracker`: the noise-free pose of each tool at
/// each frame as JSON lines, one line per tool per frame, tools in scenario order:
///
///     {"frame":1000,"tool":"coil","q":[0.5,0.5,0.5,0.5],"t":[12.5,-34.25,-1500.0]}
///
/// `frame` is the device frame number, `q` the rotation of `toolToTracker` as a unit quaternion
/// in NDI order with `q0 ≥ 0`, `t` its translation in mm. There are no spaces; numbers are
/// Swift's shortest representation that reads back to the same `Double` (`1500.0`, `0.1`,
/// `1e-05`, `-0.0`), so the text is the same bit for bit on every run and parsing it gives back
/// the exact doubles.
public enum TruthDump {
    /// One line (with its final newline).
    public static func line(frameNumber: UInt32, tool: String, pose: RigidTransform) -> String {
        let q = pose.quaternion
        let t = pose.translation
        return "{\"frame\":\(frameNumber),\"tool\":\"\(jsonEscaped(tool))\",\"q\":[\(Self.number(q.q0)),\(Self.number(q.qx)),"
            + "\(Self.number(q.qy)),\(Self.number(q.qz))],\"t\":[\(Self.number(t.x)),\(Self.number(t.y)),\(Self.number(t.z))]}\n"
    }

    /// The lines of one frame, tools in scenario order.
    public static func lines(of simulation: MockSimulation, frame index: Int) -> String {
        let truths = simulation.truth(ofFrame: index)
        let number = simulation.frameNumber(ofFrame: index)
        var out = ""
        for (tool, pose) in zip(simulation.scenario.tools, truths) {
            out += Self.line(frameNumber: number, tool: tool.name, pose: pose)
        }
        return out
    }

    /// A finite double as its shortest round-trip text (valid JSON for every finite value).
    static func number(_ x: Double) -> String {
        precondition(x.isFinite, "poses are finite")
        return x.description
    }
}
