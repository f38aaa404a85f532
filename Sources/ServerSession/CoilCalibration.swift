import Formats
import Foundation
import Geometry

/// A coil calibration file (`"format": "coilnav-coil-calibration"`, `"version": 1`): where the
/// coil's SimNIBS frame sits in the frame of the marker tool fixed to the coil.
///
/// `coilToMarker` maps coil-frame coordinates (SimNIBS axes: origin at the centre of the coil's
/// bottom face, z into the head, y along the coil with the handle along −y) into the coil marker
/// tool's frame; the navigation pipeline composes it as
/// `coilToMRI = headToMRI · trackerToHead · coilMarkerToTracker · coilToMarker`.
///
/// Reading is strict (unknown keys, wrong types, non-rigid matrices, malformed dates are errors
/// naming the file, line, column and field); writing is deterministic.
public struct CoilCalibration: Equatable, Sendable {
    /// The value of the `format` field.
    public static let format = "coilnav-coil-calibration"
    /// The newest version this code reads, and the version it writes.
    public static let currentVersion = 1

    /// The tool name of the coil's marker in tracker frames (`"coil"`).
    public var tool: String
    /// Coil frame (SimNIBS axes) → the coil marker tool's frame, mm.
    public var coilToMarker: RigidTransform
    /// How the calibration was made: `"plate"`, `"three-point"`, `"identity-mock"`, … (free text,
    /// not empty).
    public var method: String
    /// The calibration's residual, mm (≥ 0), when the method yields one.
    public var residualMM: Double?
    /// When the calibration was made: ISO 8601 date-time with a time zone.
    public var date: String
    /// The serial number of the marker tool, when known.
    public var toolSerial: String?
    /// The coil's make and model, when known (`"MagVenture Cool-B65"`).
    public var coilModel: String?
    /// Free text.
    public var notes: String?

    public init(
        tool: String, coilToMarker: RigidTransform, method: String, residualMM: Double? = nil, date: String,
        toolSerial: String? = nil, coilModel: String? = nil, notes: String? = nil
    ) {
        self.tool = tool
        self.coilToMarker = coilToMarker
        self.method = method
        self.residualMM = residualMM
        self.date = date
        self.toolSerial = toolSerial
        self.coilModel = coilModel
        self.notes = notes
    }

    static let keys: Set<String> = [
        "format", "version", "tool", "coilModel", "toolSerial", "method", "date", "coilToMarker", "residualMM", "notes",
    ]

    /// Parses and validates a coil calibration file; `source` names it in error messages.
    public static func parse(_ data: Data, source: String) throws(FileFormatError) -> CoilCalibration {
        let document = try JSONDocument.parse(data, source: source)
        let root = try document.rootField.object()
        try VersionedFile.checkHeader(root, format: Self.format, supportedVersion: Self.currentVersion, kind: "coil calibration")
        try root.rejectUnknownKeys(Self.keys)
        return CoilCalibration(
            tool: try nonEmptyString(root.required("tool")),
            coilToMarker: try root.required("coilToMarker").rigidTransform(),
            method: try nonEmptyString(root.required("method")),
            residualMM: try root.optional("residualMM")?.nonNegativeNumber(),
            date: try VersionedFile.timestamp(root.required("date")),
            toolSerial: try root.optional("toolSerial").map { f throws(FileFormatError) in try nonEmptyString(f) },
            coilModel: try root.optional("coilModel").map { f throws(FileFormatError) in try nonEmptyString(f) },
            notes: try root.optional("notes")?.string())
    }

    /// Reads a coil calibration file from disk; errors name `path`.
    public static func load(path: String) throws(FileFormatError) -> CoilCalibration {
        try Self.parse(try FileAccess.read(path: path), source: path)
    }

    /// The calibration as deterministic JSON (keys in the documented order, 4-space indentation).
    /// The reader's checks apply, so a written file always reads back.
    public func serialized(destination: String = "coil calibration") throws(FileFormatError) -> Data {
        func fail(_ field: String, _ message: String) -> FileFormatError {
            FileFormatError(file: destination, field: field, message: message)
        }
        if isBlank(self.tool) { throw fail("tool", "must not be empty") }
        if isBlank(self.method) { throw fail("method", "must not be empty") }
        if let s = self.toolSerial, isBlank(s) { throw fail("toolSerial", "must not be empty") }
        if let m = self.coilModel, isBlank(m) { throw fail("coilModel", "must not be empty") }
        if let r = self.residualMM, r < 0 { throw fail("residualMM", "must not be negative, got \(r)") }
        guard VersionedFile.isTimestamp(self.date) else {
            throw fail("date", "expected an ISO 8601 date-time with a time zone, got \(quoted(self.date))")
        }
        let root = JSONValue.object([
            "format": .string(Self.format),
            "version": .number(Self.currentVersion),
            "tool": .string(self.tool),
            "coilModel": self.coilModel.map { .string($0) },
            "toolSerial": self.toolSerial.map { .string($0) },
            "method": .string(self.method),
            "date": .string(self.date),
            "coilToMarker": .array(self.coilToMarker.matrix4x4.map { .numbers($0) }),
            "residualMM": self.residualMM.map { .number($0) },
            "notes": self.notes.map { .string($0) },
        ])
        return try JSONWriter.serialize(root, destination: destination)
    }

    /// Writes the calibration atomically (see `serialized(destination:)`).
    public func write(path: String) throws(FileFormatError) {
        try FileAccess.write(try self.serialized(destination: path), path: path)
    }
}

func isBlank(_ s: String) -> Bool { s.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }

/// A string field that must not be empty or blank.
func nonEmptyString(_ field: JSONField) throws(FileFormatError) -> String {
    let s = try field.string()
    guard !isBlank(s) else { throw field.error("must not be empty") }
    return s
}
