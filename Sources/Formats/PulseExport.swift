import Foundation
import Geometry

/// Pulse logs turned into files other tools read: CSV (every field), Localite TriggerMarkers XML
/// and Brainsight "Samples" text (both as SimNIBS `simnibs/utils/nnav.py` reads them). Pure
/// functions: pulses in, text out.
///
/// Conventions (details in `docs/file-formats.md`):
/// - CoilNav poses are `coilToMRI` in the plan's MRI space (RAS mm) with SimNIBS coil axes.
/// - **Localite** coil axes are x = SimNIBS z, y = −SimNIBS y, z = SimNIBS x, so the matrix written
///   is `coilToMRI · F` with F = [[0,0,1],[0,−1,0],[1,0,0]]. `coordinateSpace` is RAS (as is), or
///   LPS (rows x and y negated).
/// - **Brainsight** coil axes are SimNIBS x and z negated: `coilToMRI · diag(−1, 1, −1)`; written
///   as NIfTI:Aligned (the RAS of the image header), no axis flip of the space.
/// - Pulses without a valid pose are **never written as a pose** in the vendor formats: they are
///   left out and listed in comments (CSV keeps every pulse, with `isValid` and empty pose cells).
public enum PulseExport {
    /// What the vendor formats need besides the pulses.
    public struct Metadata: Sendable, Equatable {
        /// Written as "Created by" (Brainsight) and in the Localite comment.
        public var generator: String
        /// Brainsight "Session Name".
        public var sessionName: String
        /// Localite `coordinateSpace`.
        public var localiteSpace: LocaliteSpace
        /// Brainsight "# Coordinate system:"; SimNIBS reads version-12 files only as "NIfTI:Aligned".
        public var brainsightCoordinateSystem: String

        public init(
            generator: String = "CoilNav", sessionName: String = "Session 1", localiteSpace: LocaliteSpace = .ras,
            brainsightCoordinateSystem: String = "NIfTI:Aligned"
        ) {
            self.generator = generator
            self.sessionName = sessionName
            self.localiteSpace = localiteSpace
            self.brainsightCoordinateSystem = brainsightCoordinateSystem
        }
    }

    public enum LocaliteSpace: String, Sendable, Equatable, CaseIterable {
        case ras = "RAS"
        case lps = "LPS"
    }

    // MARK: CSV

    /// The CSV columns: every `PulseRecord` field; each transform as 16 columns `<name>_m<row><col>`
    /// of its 4×4 row-major matrix.
    public static let csvColumns: [String] = {
        func matrix(_ name: String) -> [String] { (0..<4).flatMap { r in (0..<4).map { c in "\(name)_m\(r)\(c)" } } }
        return ["index", "timeNanoseconds", "wallClock", "targetName", "isValid", "invalidReasons", "frameBefore", "frameAfter",
            "interpolationFraction"] + matrix("coilToMRI") + matrix("coilToTarget")
            + ["distanceMM", "inPlaneAtCoilMM", "inPlaneAtCortexMM", "depthMM", "tiltDegrees", "twistDegrees", "onTarget",
                "intensityPercentMSO", "label"]
    }()

    /// CSV (RFC 4180 quoting, `\n` line ends): a header row, then one row per pulse in order.
    /// Empty cell = absent value; numbers in the shortest text that reads back exactly;
    /// booleans `true`/`false`; `invalidReasons` joined with `;`.
    public static func csv(_ pulses: [PulseRecord]) -> String {
        var out = Self.csvColumns.joined(separator: ",") + "\n"
        for p in pulses {
            var cells: [String] = [
                String(p.index), String(p.timeNanoseconds), csvQuoted(p.wallClock), p.targetName.map(csvQuoted) ?? "",
                p.isValid ? "true" : "false", csvQuoted(p.invalidReasons.joined(separator: ";")),
                p.frameBefore.map { String($0) } ?? "", p.frameAfter.map { String($0) } ?? "",
                p.interpolationFraction.map(shortestDecimal) ?? "",
            ]
            for t in [p.coilToMRI, p.coilToTarget] {
                if let t {
                    cells += t.matrix4x4.flatMap { $0.map(shortestDecimal) }
                } else {
                    cells += Array(repeating: "", count: 16)
                }
            }
            cells += [p.distanceMM, p.inPlaneAtCoilMM, p.inPlaneAtCortexMM, p.depthMM, p.tiltDegrees, p.twistDegrees].map {
                $0.map(shortestDecimal) ?? ""
            }
            cells += [p.onTarget ? "true" : "false", p.intensityPercentMSO.map(shortestDecimal) ?? "", p.label.map(csvQuoted) ?? ""]
            out += cells.joined(separator: ",") + "\n"
        }
        return out
    }

    /// Reads CSV written by `csv(_:)` back. The header must be exactly `csvColumns`; every row has
    /// every column; the record rules of `PulseRecord` apply. Errors name the line and the column.
    public static func parseCSV(_ data: Data, source: String) throws(FileFormatError) -> [PulseRecord] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw FileFormatError(file: source, message: "the file is not UTF-8 text")
        }
        let rows = try CSVReader.rows(text, source: source)
        guard let header = rows.first else { throw FileFormatError(file: source, message: "the file is empty (expected a header row)") }
        guard header.cells == Self.csvColumns else {
            let i = Array(zip(header.cells, Self.csvColumns)).firstIndex { $0.0 != $0.1 } ?? Swift.min(header.cells.count, Self.csvColumns.count)
            let got = i < header.cells.count ? quoted(header.cells[i]) : "nothing"
            let expected = i < Self.csvColumns.count ? quoted(Self.csvColumns[i]) : "the end of the row"
            throw FileFormatError(file: source, location: .line(header.line, column: nil), field: "header column \(i + 1)", message: "expected \(expected), got \(got)")
        }
        var out: [PulseRecord] = []
        for row in rows.dropFirst() {
            guard row.cells.count == Self.csvColumns.count else {
                throw FileFormatError(
                    file: source, location: .line(row.line, column: nil), field: "row",
                    message: "expected \(Self.csvColumns.count) fields, got \(row.cells.count)")
            }
            var cell: [String: String] = [:]
            for (k, v) in zip(Self.csvColumns, row.cells) { cell[k] = v }
            func fail(_ column: String, _ message: String) -> FileFormatError {
                FileFormatError(file: source, location: .line(row.line, column: nil), field: column, message: message)
            }
            func text(_ k: String) -> String? { cell[k]!.isEmpty ? nil : cell[k]! }
            func number(_ k: String) throws(FileFormatError) -> Double? {
                guard let s = text(k) else { return nil }
                guard let x = Double(s), x.isFinite else { throw fail(k, "expected a finite number, got \(quoted(s))") }
                return x
            }
            func integer<T: FixedWidthInteger>(_ k: String, _: T.Type) throws(FileFormatError) -> T? {
                guard let s = text(k) else { return nil }
                guard let x = T(s) else { throw fail(k, "expected a whole number in \(T.min)…\(T.max), got \(quoted(s))") }
                return x
            }
            func bool(_ k: String) throws(FileFormatError) -> Bool {
                switch cell[k]! {
                case "true": return true
                case "false": return false
                case let s: throw fail(k, "expected true or false, got \(quoted(s))")
                }
            }
            func required<T>(_ k: String, _ v: T?) throws(FileFormatError) -> T {
                guard let v else { throw fail(k, "required field is empty") }
                return v
            }
            func transform(_ name: String) throws(FileFormatError) -> RigidTransform? {
                var m: [[Double]] = []
                var present = 0
                for r in 0..<4 {
                    var rowValues: [Double] = []
                    for c in 0..<4 {
                        let v = try number("\(name)_m\(r)\(c)")
                        if v != nil { present += 1 }
                        rowValues.append(v ?? 0)
                    }
                    m.append(rowValues)
                }
                if present == 0 { return nil }
                guard present == 16 else { throw fail(name, "expected all 16 matrix cells or none, got \(present)") }
                do {
                    _ = try RigidTransform(matrix4x4: m)
                } catch {
                    throw fail(name, error.description)
                }
                return PulseRecord.transform(rowMajor: m)
            }
            let reasons = cell["invalidReasons"]!
            let record = PulseRecord(
                index: try required("index", try integer("index", Int.self)),
                timeNanoseconds: try required("timeNanoseconds", try integer("timeNanoseconds", UInt64.self)),
                wallClock: cell["wallClock"]!,
                targetName: text("targetName"),
                isValid: try bool("isValid"),
                invalidReasons: reasons.isEmpty ? [] : reasons.split(separator: ";", omittingEmptySubsequences: false).map(String.init),
                frameBefore: try integer("frameBefore", UInt32.self),
                frameAfter: try integer("frameAfter", UInt32.self),
                interpolationFraction: try number("interpolationFraction"),
                coilToMRI: try transform("coilToMRI"),
                coilToTarget: try transform("coilToTarget"),
                distanceMM: try number("distanceMM"),
                inPlaneAtCoilMM: try number("inPlaneAtCoilMM"),
                inPlaneAtCortexMM: try number("inPlaneAtCortexMM"),
                depthMM: try number("depthMM"),
                tiltDegrees: try number("tiltDegrees"),
                twistDegrees: try number("twistDegrees"),
                onTarget: try bool("onTarget"),
                intensityPercentMSO: try number("intensityPercentMSO"),
                label: text("label"))
            if let (field, message) = record.problem() { throw fail(field, message) }
            out.append(record)
        }
        return out
    }

    // MARK: Localite

    /// The Localite flip: Localite coil axes from SimNIBS ones (its own inverse).
    public static let localiteAxes = Matrix3(rows: Vector3(0, 0, 1), Vector3(0, -1, 0), Vector3(1, 0, 0))
    /// The Brainsight flip: diag(−1, 1, −1) (its own inverse).
    public static let brainsightAxes = Matrix3.diagonal(Vector3(-1, 1, -1))

    /// The 4×4 row-major matrix Localite stores for a SimNIBS-axes `coilToMRI`.
    public static func localiteMatrix(_ coilToMRI: RigidTransform, space: LocaliteSpace) -> [[Double]] {
        var t = RigidTransform(rotation: coilToMRI.rotation * Self.localiteAxes, translation: coilToMRI.translation)
        if space == .lps {
            let flip = Matrix3.diagonal(Vector3(-1, -1, 1))
            t = RigidTransform(rotation: flip * t.rotation, translation: flip * t.translation)
        }
        return t.matrix4x4
    }

    /// The same as a Brainsight matrix (Brainsight coil axes, same space).
    public static func brainsightMatrix(_ coilToMRI: RigidTransform) -> [[Double]] {
        RigidTransform(rotation: coilToMRI.rotation * Self.brainsightAxes, translation: coilToMRI.translation).matrix4x4
    }

    /// Localite TriggerMarkers XML (`TriggerMarkerList`), one `TriggerMarker` per valid pulse, in
    /// the layout SimNIBS's `localite().read` parses: `Matrix4D` (Localite coil axes, in
    /// `metadata.localiteSpace`), `recordingTime` (whole milliseconds since the first pulse of the
    /// list), `ResponseValues` with `amplitudeA` = %MSO (`NaN` when unknown) and `valueA` (di/dt,
    /// not measured: `NaN`). `description` is the pulse's label, or `pulse <index>`. Invalid pulses
    /// appear only as comments.
    public static func localiteTriggerMarkers(_ pulses: [PulseRecord], metadata: Metadata = Metadata()) -> String {
        let startNanoseconds = pulses.first?.timeNanoseconds ?? 0
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<TriggerMarkerList coordinateSpace=\"\(metadata.localiteSpace.rawValue)\" isOnlineReading=\"false\""
        if let first = pulses.first { out += " startTime=\"\(Self.timeOfDay(first.wallClock))\"" }
        out += ">\n"
        out += "    <!--" + xmlComment(
            "Written by \(metadata.generator) from a pulse log. Positions: the MRI's \(metadata.localiteSpace.rawValue) coordinates in millimetres; "
                + "coil axes: Localite's (x = SimNIBS z, y = -SimNIBS y, z = SimNIBS x). recordingTime: milliseconds since the first pulse; startTime: its UTC time of day.")
            + "-->\n"
        out += """
                <ResponseParameters selectedResponseChannel="0">
                    <responseDescription id="response" maxValue="51200.0"
                        minValue="-51200.0" name="Response" unit="uV"/>
                    <responseDescription id="valueA" maxValue="200.0" minValue="0.0"
                        name="Value A (di/dt)" unit="A/us"/>
                    <responseDescription id="amplitudeA" maxValue="100.0"
                        minValue="0.0" name="Amplitude A" unit="%"/>
                </ResponseParameters>

            """
        for p in pulses {
            guard p.isValid, let pose = p.coilToMRI else {
                out += "    <!--" + xmlComment(Self.skipNote(p)) + "-->\n"
                continue
            }
            let ms = (Int64(bitPattern: p.timeNanoseconds &- startNanoseconds)) / 1_000_000
            let m = Self.localiteMatrix(pose, space: metadata.localiteSpace)
            out += "    <TriggerMarker color=\"#ffafaf\" description=\"\(xmlAttribute(p.label ?? "pulse \(p.index)"))\" recordingTime=\"\(ms)\"\n"
            out += "        selected=\"false\" set=\"true\" visibility=\"true\">\n"
            out += "        <ResponseValues>\n"
            out += "            <Value key=\"valueA\" response=\"NaN\"/>\n"
            out += "            <Value key=\"response\" response=\"NaN\"/>\n"
            out += "            <Value key=\"amplitudeA\" response=\"\(p.intensityPercentMSO.map(javaDouble) ?? "NaN")\"/>\n"
            out += "        </ResponseValues>\n"
            for r in 0..<4 {
                out += r == 0 ? "        <Matrix4D " : "            "
                out += (0..<4).map { c in "data\(r)\(c)=\"\(javaDouble(m[r][c]))\"" }.joined(separator: " ")
                out += r == 3 ? "/>\n" : "\n"
            }
            out += "    </TriggerMarker>\n"
        }
        out += "</TriggerMarkerList>\n"
        return out
    }

    // MARK: Brainsight

    /// The Brainsight Samples columns, as Brainsight writes them.
    public static let brainsightSampleColumns = [
        "Sample Name", "Session Name", "Index", "Assoc. Target", "Loc. X", "Loc. Y", "Loc. Z", "m0n0", "m0n1", "m0n2", "m1n0",
        "m1n1", "m1n2", "m2n0", "m2n1", "m2n2", "Dist. to Target", "Target Error", "Angular Error", "Twist Error",
        "Stim. Power", "Date", "Time", "Creation Cause", "Crosshairs Driver", "Offset", "Comment", "EMG Start", "EMG End",
        "EMG Res.", "EMG Channels",
    ]

    /// Brainsight's text export (version 12 header) with one Samples row per valid pulse.
    ///
    /// `Loc.` and `m<axis>n<component>` (axis vectors in Brainsight coil axes: m0 = x, m1 = y,
    /// m2 = z) with 4 decimals; `Dist. to Target` = `distanceMM`, `Target Error` =
    /// `inPlaneAtCortexMM`, `Angular Error` = `tiltDegrees`, `Twist Error` = `twistDegrees` (CoilNav's
    /// definitions, 3 decimals); `Stim. Power` = %MSO; `Date`/`Time` from `wallClock` (UTC);
    /// `Comment` = label (tabs and line breaks become spaces); absent values `(null)`. After the
    /// rows a `#` line counts the pulses left out for lack of a valid pose (always written: it also
    /// ends the Samples section for SimNIBS's reader), followed by one `#` line per such pulse.
    public static func brainsightSamples(_ pulses: [PulseRecord], metadata: Metadata = Metadata()) -> String {
        var out = "# Version: 12\n"
        out += "# Coordinate system: \(oneLine(metadata.brainsightCoordinateSystem))\n"
        out += "# Created by: \(oneLine(metadata.generator))\n"
        out += "# Units: millimetres, degrees, milliseconds, and microvolts\n"
        out += "# Encoding: UTF-8\n"
        out += "# Notes: Each column is delimited by a tab. Each value within a column is delimited by a semicolon.\n"
        out += "# " + Self.brainsightSampleColumns.joined(separator: "\t") + "\n"
        var skipped: [PulseRecord] = []
        for p in pulses {
            guard p.isValid, let pose = p.coilToMRI else {
                skipped.append(p)
                continue
            }
            let m = Self.brainsightMatrix(pose)
            let null = "(null)"
            var cells = ["Sample \(p.index)", oneLine(metadata.sessionName), String(p.index), p.targetName.map(oneLine) ?? null]
            cells += (0..<3).map { fixed(m[$0][3], 4) }
            for axis in 0..<3 { cells += (0..<3).map { fixed(m[$0][axis], 4) } }
            cells += [p.distanceMM, p.inPlaneAtCortexMM, p.tiltDegrees, p.twistDegrees].map { $0.map { fixed($0, 3) } ?? null }
            cells.append(p.intensityPercentMSO.map { fixed($0, 3) } ?? null)
            let (date, time) = Self.dateAndTime(p.wallClock)
            cells += [date, time, "CoilNav pulse", "Coil 1", "0.000", p.label.map(oneLine) ?? null, null, null, null, null]
            out += cells.joined(separator: "\t") + "\n"
        }
        out += "# Pulses left out (no valid coil pose): \(skipped.count)\n"
        for p in skipped { out += "# " + oneLine(Self.skipNote(p)) + "\n" }
        return out
    }

    // MARK: Helpers

    static func skipNote(_ p: PulseRecord) -> String {
        "pulse \(p.index) at \(p.wallClock) not exported: no valid coil pose (\(p.invalidReasons.joined(separator: "; ")))"
    }

    /// `HH:MM:SS.mmm` of a checked wall clock.
    static func timeOfDay(_ wallClock: String) -> String { Self.dateAndTime(wallClock).time }

    static func dateAndTime(_ wallClock: String) -> (date: String, time: String) {
        let parts = wallClock.split(separator: "T", maxSplits: 1)
        guard parts.count == 2 else { return (wallClock, "") }
        return (String(parts[0]), String(parts[1].dropLast()))  // drop the "Z"
    }
}

/// A double as Java (Localite) prints it: `1.0`, `-0.5`, `44.0`; −0 as `0.0`; shortest round trip.
func javaDouble(_ x: Double) -> String {
    let v = x == 0 ? 0 : x
    return v.description
}

/// Fixed decimals, with a rounded negative zero written without its sign.
func fixed(_ x: Double, _ decimals: Int) -> String {
    let s = String(format: "%.\(decimals)f", x)
    if s.hasPrefix("-"), s.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { return String(s.dropFirst()) }
    return s
}

/// RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes doubled.
func csvQuoted(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// Text safe inside an XML attribute value.
package func xmlAttribute(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "\t", "\n", "\r": out += "&#\(c.value);"
        default: if c.value >= 0x20 { out.unicodeScalars.append(c) }
        }
    }
    return out
}

/// Text safe inside an XML comment (no `--`, no control characters).
func xmlComment(_ s: String) -> String {
    var out = oneLine(s)
    while out.contains("--") { out = out.replacingOccurrences(of: "--", with: "- -") }
    if out.hasSuffix("-") { out += " " }
    return out
}

/// Tabs, line breaks and other control characters replaced by spaces.
package func oneLine(_ s: String) -> String {
    String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
}

/// RFC 4180 rows with the line each starts on (quoted fields may span lines).
enum CSVReader {
    struct Row {
        var line: Int
        var cells: [String]
    }

    static func rows(_ text: String, source: String) throws(FileFormatError) -> [Row] {
        var rows: [Row] = []
        var cells: [String] = []
        var cell = ""
        var line = 1
        var rowLine = 1
        var inQuotes = false
        var quotedCell = false
        var chars = Array(text.unicodeScalars)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }
        var i = 0
        func endRow() {
            cells.append(cell)
            if !(cells.count == 1 && cells[0].isEmpty && !quotedCell) { rows.append(Row(line: rowLine, cells: cells)) }
            cells = []
            cell = ""
            quotedCell = false
        }
        while i < chars.count {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < chars.count, chars[i + 1] == "\"" {
                        cell.unicodeScalars.append("\"")
                        i += 1
                    } else {
                        inQuotes = false
                        if i + 1 < chars.count, !["," as Unicode.Scalar, "\n", "\r"].contains(chars[i + 1]) {
                            throw FileFormatError(
                                file: source, location: .line(line, column: nil), field: "column \(cells.count + 1)",
                                message: "unexpected text after a closing quote")
                        }
                    }
                } else {
                    if c == "\n" { line += 1 }
                    cell.unicodeScalars.append(c)
                }
            } else {
                switch c {
                case "\"":
                    guard cell.isEmpty else {
                        throw FileFormatError(
                            file: source, location: .line(line, column: nil), field: "column \(cells.count + 1)",
                            message: "a quote inside an unquoted field")
                    }
                    inQuotes = true
                    quotedCell = true
                case ",":
                    cells.append(cell)
                    cell = ""
                case "\r":
                    break
                case "\n":
                    endRow()
                    line += 1
                    rowLine = line
                default:
                    cell.unicodeScalars.append(c)
                }
            }
            i += 1
        }
        if inQuotes {
            throw FileFormatError(file: source, location: .line(rowLine, column: nil), message: "the file ends inside a quoted field")
        }
        if !cell.isEmpty || !cells.isEmpty || quotedCell { endRow() }
        return rows
    }
}
