import Foundation
import Geometry

/// A pointer's calibration (`"format": "coilnav-pointer-calibration"`, `"version": 1`): where its tip
/// lies in the pointer marker's coordinates, as pivot calibration measures it.
///
/// ```json
/// {"format": "coilnav-pointer-calibration", "version": 1, "tool": "pointer",
///  "tipMM": [-1.2, 0.4, -158.3], "method": "pivot", "rmsMM": 0.12,
///  "date": "2026-11-22T09:00:00Z", "toolSerial": "3A1B2C"}
/// ```
public struct PointerCalibration: Equatable, Sendable {
    public static let format = "coilnav-pointer-calibration"
    public static let currentVersion = 1

    /// The pointer's tool name (as in the tool set).
    public var tool: String
    /// The tip in pointer-marker coordinates, mm.
    public var tipMM: Vector3
    /// How it was measured: "pivot", or "specification" (the tool's drawing), "simulation" (mock).
    public var method: String
    /// The calibration's residual (pivot: RMS of the per-pose 3-D tip distances), mm.
    public var rmsMM: Double?
    public var date: String
    public var toolSerial: String?

    public init(tool: String, tipMM: Vector3, method: String, rmsMM: Double? = nil, date: String, toolSerial: String? = nil) {
        self.tool = tool
        self.tipMM = tipMM
        self.method = method
        self.rmsMM = rmsMM
        self.date = date
        self.toolSerial = toolSerial
    }

    public static func parse(_ data: Data, source: String) throws(FileFormatError) -> PointerCalibration {
        let document = try JSONDocument.parse(data, source: source)
        let root = try document.rootField.object()
        try VersionedFile.checkHeader(root, format: Self.format, supportedVersion: Self.currentVersion, kind: "pointer calibration")
        try root.rejectUnknownKeys(["format", "version", "tool", "tipMM", "method", "rmsMM", "date", "toolSerial"])
        let tipField = try root.required("tipMM")
        let tip = try tipField.vector3()
        guard tip.length > 0 else { throw tipField.error("the tip cannot be at the marker's origin (0, 0, 0): is this a pivot result?") }
        return PointerCalibration(
            tool: try Plan.nonEmptyString(root.required("tool")), tipMM: tip, method: try Plan.nonEmptyString(root.required("method")),
            rmsMM: try root.optional("rmsMM")?.nonNegativeNumber(), date: try VersionedFile.timestamp(root.required("date")),
            toolSerial: try root.optional("toolSerial")?.string())
    }

    public static func load(path: String) throws(FileFormatError) -> PointerCalibration {
        try Self.parse(try FileAccess.read(path: path), source: path)
    }

    public func serialized(destination: String = "pointer calibration") throws(FileFormatError) -> Data {
        guard VersionedFile.isTimestamp(self.date) else {
            throw FileFormatError(file: destination, field: "date", message: "expected an ISO 8601 date-time with a time zone, got \(quoted(self.date))")
        }
        let root = JSONValue.object([
            "format": .string(Self.format),
            "version": .number(Self.currentVersion),
            "tool": .string(self.tool),
            "tipMM": .numbers([self.tipMM.x, self.tipMM.y, self.tipMM.z]),
            "method": .string(self.method),
            "rmsMM": self.rmsMM.map { .number($0) },
            "date": .string(self.date),
            "toolSerial": self.toolSerial.map { .string($0) },
        ])
        return try JSONWriter.serialize(root, destination: destination)
    }

    public func write(path: String) throws(FileFormatError) {
        try FileAccess.write(try self.serialized(destination: path), path: path)
    }
}
