import Foundation
import Geometry

/// Tracked poses as CSV: one `markerToTracker` pose per row, `q0,qx,qy,qz,tx,ty,tz`.
///
/// - The quaternion is in NDI order (scalar first) and must be of unit length to within 1e-3
///   (trackers report float32 values); it is renormalised. Translations are millimetres.
/// - An optional header line (a first row in which no field is a number, e.g.
///   `q0,qx,qy,qz,tx,ty,tz`) is skipped; so are blank lines and lines starting with `#`.
/// - Fields may be surrounded by spaces. Exactly seven fields per row.
///
/// Errors name the line and the field: `poses.csv: line 7: tz: expected a number, got "abc"`.
public enum PoseCSV {
    public static let columns = ["q0", "qx", "qy", "qz", "tx", "ty", "tz"]

    /// Tolerance on the quaternion norm before renormalisation.
    public static let unitTolerance = 1e-3

    public static func parse(_ data: Data, source: String) throws(FileFormatError) -> [RigidTransform] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw FileFormatError(file: source, message: "the file is not UTF-8 text")
        }
        var poses: [RigidTransform] = []
        var sawData = false
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            if !sawData && fields.allSatisfy({ Double($0) == nil }) {
                // A header line (every field a name): accepted once, before any data.
                sawData = true
                continue
            }
            sawData = true
            guard fields.count == 7 else {
                throw FileFormatError(
                    file: source, location: .line(lineNumber, column: nil), field: "row",
                    message: "expected 7 fields (\(Self.columns.joined(separator: ","))), got \(fields.count)")
            }
            var v = [Double](repeating: 0, count: 7)
            for (i, f) in fields.enumerated() {
                guard let x = Double(f) else {
                    throw FileFormatError(
                        file: source, location: .line(lineNumber, column: nil), field: Self.columns[i],
                        message: "expected a number, got \"\(f)\"")
                }
                guard x.isFinite else {
                    throw FileFormatError(
                        file: source, location: .line(lineNumber, column: nil), field: Self.columns[i],
                        message: "expected a finite number, got \(f)")
                }
                v[i] = x
            }
            let q = Quaternion(q0: v[0], qx: v[1], qy: v[2], qz: v[3])
            guard Swift.abs(q.norm - 1) <= Self.unitTolerance else {
                throw FileFormatError(
                    file: source, location: .line(lineNumber, column: nil), field: "q0,qx,qy,qz",
                    message: "the quaternion has norm \(q.norm), not 1 (tolerance \(Self.unitTolerance))")
            }
            poses.append(RigidTransform(rotation: q, translation: Vector3(v[4], v[5], v[6])))
        }
        return poses
    }

    public static func load(path: String) throws(FileFormatError) -> [RigidTransform] {
        try Self.parse(FileAccess.read(path: path), source: path)
    }

    /// Writes poses with a header line, full double precision.
    public static func serialize(_ poses: [RigidTransform]) -> Data {
        var s = Self.columns.joined(separator: ",") + "\n"
        for p in poses {
            let q = p.quaternion, t = p.translation
            s += [q.q0, q.qx, q.qy, q.qz, t.x, t.y, t.z].map { "\($0)" }.joined(separator: ",") + "\n"
        }
        return Data(s.utf8)
    }
}
