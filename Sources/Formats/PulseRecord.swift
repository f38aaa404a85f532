import Foundation
import Geometry

/// One TMS pulse as the server records it: when it happened, where the coil was (interpolated
/// between two tracker frames) and how far that was from the target.
///
/// Poses are in the plan's MRI space (RAS millimetres) with the SimNIBS coil axes (origin at the
/// centre of the coil's bottom face, z into the head, handle along −y). The metrics are those of
/// `CoilError` (`docs/navigation-metrics.md`). Nothing here reads a clock: both time stamps are
/// supplied by the caller.
///
/// Rules every record obeys (checked when it is written and when it is read, so a log that was
/// written can always be read back):
/// - `index` ≥ 1; `wallClock` is `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds);
/// - a valid pulse has a `coilToMRI` pose and no `invalidReasons`; an invalid pulse has at least
///   one reason. A reason is non-empty text without `;` or control characters (CSV joins them
///   with `;`);
/// - `interpolationFraction` ∈ [0, 1], `distanceMM` ≥ 0, `tiltDegrees` ∈ [0, 180],
///   `twistDegrees` ∈ [−180, 180], `intensityPercentMSO` ∈ [0, 100]; every number is finite.
public struct PulseRecord: Sendable, Equatable {
    /// 1-based order of the pulse in the session.
    public var index: Int
    /// The pulse time on the server's clock (the base of `TrackerFrame.hostReceiveNanoseconds`).
    public var timeNanoseconds: UInt64
    /// ISO 8601 UTC with milliseconds, e.g. `2026-11-22T03:10:00.123Z`.
    public var wallClock: String
    /// The target navigated to when the pulse came, if any.
    public var targetName: String?
    /// False when no trustworthy pose exists for the pulse (see `invalidReasons`).
    public var isValid: Bool
    /// Why the pulse is invalid, e.g. `["coil missing"]`; empty for a valid pulse.
    public var invalidReasons: [String]
    /// Device frame number of the frame before the pulse (the pose is interpolated from it).
    public var frameBefore: UInt32?
    /// Device frame number of the frame after the pulse.
    public var frameAfter: UInt32?
    /// Where the pulse lies between the two frames: 0 at `frameBefore`, 1 at `frameAfter`.
    public var interpolationFraction: Double?
    /// Coil → MRI (RAS mm, SimNIBS coil axes).
    public var coilToMRI: RigidTransform?
    /// Coil → target frame (`targetToMRI⁻¹ · coilToMRI`).
    public var coilToTarget: RigidTransform?
    public var distanceMM: Double?
    public var inPlaneAtCoilMM: Double?
    public var inPlaneAtCortexMM: Double?
    public var depthMM: Double?
    public var tiltDegrees: Double?
    public var twistDegrees: Double?
    public var onTarget: Bool
    /// Stimulator output, percent of the maximum (%MSO), when known.
    public var intensityPercentMSO: Double?
    /// Free text attached to the pulse.
    public var label: String?

    public init(
        index: Int, timeNanoseconds: UInt64, wallClock: String, targetName: String? = nil, isValid: Bool,
        invalidReasons: [String] = [], frameBefore: UInt32? = nil, frameAfter: UInt32? = nil,
        interpolationFraction: Double? = nil, coilToMRI: RigidTransform? = nil, coilToTarget: RigidTransform? = nil,
        distanceMM: Double? = nil, inPlaneAtCoilMM: Double? = nil, inPlaneAtCortexMM: Double? = nil,
        depthMM: Double? = nil, tiltDegrees: Double? = nil, twistDegrees: Double? = nil, onTarget: Bool = false,
        intensityPercentMSO: Double? = nil, label: String? = nil
    ) {
        self.index = index
        self.timeNanoseconds = timeNanoseconds
        self.wallClock = wallClock
        self.targetName = targetName
        self.isValid = isValid
        self.invalidReasons = invalidReasons
        self.frameBefore = frameBefore
        self.frameAfter = frameAfter
        self.interpolationFraction = interpolationFraction
        self.coilToMRI = coilToMRI
        self.coilToTarget = coilToTarget
        self.distanceMM = distanceMM
        self.inPlaneAtCoilMM = inPlaneAtCoilMM
        self.inPlaneAtCortexMM = inPlaneAtCortexMM
        self.depthMM = depthMM
        self.tiltDegrees = tiltDegrees
        self.twistDegrees = twistDegrees
        self.onTarget = onTarget
        self.intensityPercentMSO = intensityPercentMSO
        self.label = label
    }

    /// The keys of a pulse line, in the order they are written.
    public static let keys = [
        "index", "timeNanoseconds", "wallClock", "targetName", "isValid", "invalidReasons", "frameBefore", "frameAfter",
        "interpolationFraction", "coilToMRI", "coilToTarget", "distanceMM", "inPlaneAtCoilMM", "inPlaneAtCortexMM",
        "depthMM", "tiltDegrees", "twistDegrees", "onTarget", "intensityPercentMSO", "label",
    ]

    /// The first rule the record breaks, as (field, message), or nil when it keeps them all.
    public func problem() -> (field: String, message: String)? {
        if self.index < 1 { return ("index", "must be at least 1, got \(self.index)") }
        if !Self.isWallClock(self.wallClock) {
            return ("wallClock", "expected an ISO 8601 UTC time with milliseconds such as \"2026-11-22T03:10:00.123Z\", got \(quoted(self.wallClock))")
        }
        for (i, r) in self.invalidReasons.enumerated() {
            if r.trimmingCharacters(in: .whitespaces).isEmpty { return ("invalidReasons[\(i)]", "must not be empty") }
            if r.unicodeScalars.contains(where: { $0 == ";" || $0.value < 0x20 || $0.value == 0x7F }) {
                return ("invalidReasons[\(i)]", "must not contain ';' or control characters, got \(quoted(r))")
            }
        }
        if self.isValid {
            if self.coilToMRI == nil { return ("coilToMRI", "a valid pulse needs a coil pose") }
            if !self.invalidReasons.isEmpty { return ("invalidReasons", "a valid pulse has no invalid reasons") }
        } else if self.invalidReasons.isEmpty {
            return ("invalidReasons", "an invalid pulse needs at least one reason")
        }
        if let t = self.coilToMRI, !t.isFinite { return ("coilToMRI", "not a finite transform") }
        if let t = self.coilToTarget, !t.isFinite { return ("coilToTarget", "not a finite transform") }
        let ranges: [(String, Double?, ClosedRange<Double>)] = [
            ("interpolationFraction", self.interpolationFraction, 0...1),
            ("distanceMM", self.distanceMM, 0...Double.greatestFiniteMagnitude),
            ("inPlaneAtCoilMM", self.inPlaneAtCoilMM, 0...Double.greatestFiniteMagnitude),
            ("inPlaneAtCortexMM", self.inPlaneAtCortexMM, 0...Double.greatestFiniteMagnitude),
            ("depthMM", self.depthMM, -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude),
            ("tiltDegrees", self.tiltDegrees, 0...180),
            ("twistDegrees", self.twistDegrees, -180...180),
            ("intensityPercentMSO", self.intensityPercentMSO, 0...100),
        ]
        for (name, value, range) in ranges {
            guard let x = value else { continue }
            if !x.isFinite { return (name, "must be a finite number, got \(x)") }
            if !range.contains(x) {
                return (name, "must be in [\(shortestDecimal(range.lowerBound)), \(shortestDecimal(range.upperBound))], got \(shortestDecimal(x))")
            }
        }
        return nil
    }

    /// True for `YYYY-MM-DDTHH:MM:SS.mmmZ` with plausible field values.
    static func isWallClock(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 24 else { return false }
        func digits(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        guard b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A, b[19] == 0x2E, b[23] == 0x5A,
            digits(0..<4) != nil, let month = digits(5..<7), let day = digits(8..<10), let hour = digits(11..<13),
            let minute = digits(14..<16), let second = digits(17..<19), digits(20..<23) != nil
        else { return false }
        return (1...12).contains(month) && (1...31).contains(day) && hour < 24 && minute < 60 && second < 61
    }
}

// MARK: - One JSON line

extension PulseRecord {
    /// The record as one line of compact JSON, ending in `\n`.
    ///
    /// Keys come in the order of `keys`; **fields that are nil are left out** (`invalidReasons`,
    /// `isValid` and `onTarget` are always written). Whole numbers below 10¹⁵ are written without a
    /// fraction, other numbers in the shortest form that reads back to the same `Double`;
    /// `timeNanoseconds` is written as an exact integer. Transforms are 4×4 row-major nested arrays,
    /// as in plans and registration records. Throws, naming `destination` and the field, when the
    /// record breaks a rule (see the type's documentation).
    public func jsonLine(destination: String = "pulses") throws(FileFormatError) -> String {
        if let (field, message) = self.problem() {
            throw FileFormatError(file: destination, field: "pulse \(self.index).\(field)", message: message)
        }
        var out = "{"
        var first = true
        func key(_ k: String) {
            if !first { out += "," }
            first = false
            out += "\"" + k + "\":"
        }
        func number(_ k: String, _ x: Double?) {
            guard let x else { return }
            key(k)
            out += shortestDecimal(x)
        }
        func string(_ k: String, _ s: String?) {
            guard let s else { return }
            key(k)
            out += "\"" + jsonEscaped(s) + "\""
        }
        func transform(_ k: String, _ t: RigidTransform?) {
            guard let t else { return }
            key(k)
            out += "[" + t.matrix4x4.map { "[" + $0.map(shortestDecimal).joined(separator: ",") + "]" }.joined(separator: ",") + "]"
        }
        key("index")
        out += String(self.index)
        key("timeNanoseconds")
        out += String(self.timeNanoseconds)
        string("wallClock", self.wallClock)
        string("targetName", self.targetName)
        key("isValid")
        out += self.isValid ? "true" : "false"
        key("invalidReasons")
        out += "[" + self.invalidReasons.map { "\"" + jsonEscaped($0) + "\"" }.joined(separator: ",") + "]"
        if let f = self.frameBefore {
            key("frameBefore")
            out += String(f)
        }
        if let f = self.frameAfter {
            key("frameAfter")
            out += String(f)
        }
        number("interpolationFraction", self.interpolationFraction)
        transform("coilToMRI", self.coilToMRI)
        transform("coilToTarget", self.coilToTarget)
        number("distanceMM", self.distanceMM)
        number("inPlaneAtCoilMM", self.inPlaneAtCoilMM)
        number("inPlaneAtCortexMM", self.inPlaneAtCortexMM)
        number("depthMM", self.depthMM)
        number("tiltDegrees", self.tiltDegrees)
        number("twistDegrees", self.twistDegrees)
        key("onTarget")
        out += self.onTarget ? "true" : "false"
        number("intensityPercentMSO", self.intensityPercentMSO)
        string("label", self.label)
        out += "}\n"
        return out
    }

    /// Parses one pulse line (without its `\n`) strictly: unknown keys, wrong types and broken
    /// rules are errors naming `source`, `line`, the column and the field. `null` is read as an
    /// absent optional field. Transforms must be rigid (as in plans) and are kept exactly as
    /// written, not re-orthonormalised, so a log reads back bit for bit.
    public static func parse(line: Data, source: String, lineNumber: Int) throws(FileFormatError) -> PulseRecord {
        do {
            return try Self.parseLine(line, source: source)
        } catch {
            var e = error
            if case .line(_, let column) = e.location { e.location = .line(lineNumber, column: column) }
            throw e
        }
    }

    private static func parseLine(_ data: Data, source: String) throws(FileFormatError) -> PulseRecord {
        let document = try JSONDocument.parse(data, source: source)
        let root = try document.rootField.object()
        try root.rejectUnknownKeys(Set(Self.keys))
        var reasons: [String] = []
        for f in try root.required("invalidReasons").array() { reasons.append(try f.string()) }
        func optionalNumber(_ k: String) throws(FileFormatError) -> Double? { try root.optional(k)?.number() }
        func frame(_ k: String) throws(FileFormatError) -> UInt32? {
            guard let f = root.optional(k) else { return nil }
            let n = try f.integer()
            guard n >= 0, n <= Int(UInt32.max) else { throw f.error("expected a frame number in 0…\(UInt32.max), got \(n)") }
            return UInt32(n)
        }
        let indexField = try root.required("index")
        let record = PulseRecord(
            index: try indexField.integer(),
            timeNanoseconds: try Self.exactUInt64(root.required("timeNanoseconds"), document: document),
            wallClock: try root.required("wallClock").string(),
            targetName: try root.optional("targetName")?.string(),
            isValid: try root.required("isValid").bool(),
            invalidReasons: reasons,
            frameBefore: try frame("frameBefore"),
            frameAfter: try frame("frameAfter"),
            interpolationFraction: try optionalNumber("interpolationFraction"),
            coilToMRI: try root.optional("coilToMRI").map { f throws(FileFormatError) in try Self.exactTransform(f) },
            coilToTarget: try root.optional("coilToTarget").map { f throws(FileFormatError) in try Self.exactTransform(f) },
            distanceMM: try optionalNumber("distanceMM"),
            inPlaneAtCoilMM: try optionalNumber("inPlaneAtCoilMM"),
            inPlaneAtCortexMM: try optionalNumber("inPlaneAtCortexMM"),
            depthMM: try optionalNumber("depthMM"),
            tiltDegrees: try optionalNumber("tiltDegrees"),
            twistDegrees: try optionalNumber("twistDegrees"),
            onTarget: try root.required("onTarget").bool(),
            intensityPercentMSO: try optionalNumber("intensityPercentMSO"),
            label: try root.optional("label")?.string())
        if let (field, message) = record.problem() {
            let name = field.split(separator: "[").first.map(String.init) ?? field
            let located = root.optional(name) ?? root.field
            throw document.error(at: located.value, path: field, message)
        }
        return record
    }

    /// A non-negative integer read from its literal text, so values above 2⁵³ stay exact.
    private static func exactUInt64(_ field: JSONField, document: JSONDocument) throws(FileFormatError) -> UInt64 {
        guard case .number = field.value.kind else { throw field.error("expected a whole number, got \(field.value.summary)") }
        var k = field.value.offset
        var text = ""
        while k < document.bytes.count, let c = Optional(document.bytes[k]),
            (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2B || c == 0x2E || c == 0x45 || c == 0x65
        {
            text.unicodeScalars.append(Unicode.Scalar(c))
            k += 1
        }
        guard let n = UInt64(text) else {
            throw field.error("expected a whole number of nanoseconds in 0…\(UInt64.max) written without fraction or exponent, got \(text)")
        }
        return n
    }

    /// A rigid 4×4 transform checked as in plans but kept exactly as written.
    static func exactTransform(_ field: JSONField) throws(FileFormatError) -> RigidTransform {
        _ = try field.rigidTransform()
        let rows = try field.array()
        var m: [[Double]] = []
        for r in rows { m.append(try r.numbers(count: 4)) }
        return Self.transform(rowMajor: m)
    }

    static func transform(rowMajor m: [[Double]]) -> RigidTransform {
        RigidTransform(
            rotation: Matrix3(
                rows: Vector3(m[0][0], m[0][1], m[0][2]), Vector3(m[1][0], m[1][1], m[1][2]), Vector3(m[2][0], m[2][1], m[2][2])),
            translation: Vector3(m[0][3], m[1][3], m[2][3]))
    }
}
