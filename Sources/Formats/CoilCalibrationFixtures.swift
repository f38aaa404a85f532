import Foundation
import Geometry

/// A coil model's touchable marks in its SimNIBS frame (`"format": "coilnav-coil-model"`, version 1),
/// for the three-point (or more) pointer calibration of the coil.
///
/// ```json
/// {"format": "coilnav-coil-model", "version": 1, "model": "…",
///  "landmarks": [{"label": "LEFT", "positionMM": [-60, 0, -10]}, …]}
/// ```
public struct CoilModel: Equatable, Sendable {
    public static let format = "coilnav-coil-model"
    public var model: String
    public var description: String?
    /// At least three, not collinear (the registration refuses collinear marks).
    public var landmarks: [LabeledPoint]

    public init(model: String, description: String? = nil, landmarks: [LabeledPoint]) {
        self.model = model
        self.description = description
        self.landmarks = landmarks
    }

    public static func parse(_ data: Data, source: String) throws(FileFormatError) -> CoilModel {
        let root = try JSONDocument.parse(data, source: source).rootField.object()
        try VersionedFile.checkHeader(root, format: Self.format, supportedVersion: 1, kind: "coil model")
        try root.rejectUnknownKeys(["format", "version", "model", "description", "landmarks"])
        let list = root.required
        let landmarksField = try list("landmarks")
        var landmarks: [LabeledPoint] = []
        var fields: [JSONField] = []
        for f in try landmarksField.array() {
            let o = try f.object()
            try o.rejectUnknownKeys(["label", "positionMM"])
            let label = try o.required("label")
            landmarks.append(LabeledPoint(label: try Plan.nonEmptyString(label), position: try o.required("positionMM").vector3()))
            fields.append(label)
        }
        guard landmarks.count >= 3 else { throw landmarksField.error("a coil model needs at least 3 landmarks, got \(landmarks.count)") }
        try VersionedFile.rejectDuplicates(landmarks.map(\.label), fields: fields, what: "landmark label", list: "landmarks")
        return CoilModel(
            model: try Plan.nonEmptyString(root.required("model")), description: try root.optional("description")?.string(),
            landmarks: landmarks)
    }

    public static func load(path: String) throws(FileFormatError) -> CoilModel {
        try Self.parse(try FileAccess.read(path: path), source: path)
    }
}

/// A coil calibration plate (`"format": "coilnav-calibration-plate"`, version 1): the tracked plate
/// tool and where a coil seated in it has its SimNIBS frame, `coilToPlate` (coil frame → plate marker
/// frame), from the plate's drawing.
public struct CalibrationPlate: Equatable, Sendable {
    public static let format = "coilnav-calibration-plate"
    public var tool: String
    public var model: String?
    public var coilToPlate: RigidTransform

    public init(tool: String, model: String? = nil, coilToPlate: RigidTransform) {
        self.tool = tool
        self.model = model
        self.coilToPlate = coilToPlate
    }

    public static func parse(_ data: Data, source: String) throws(FileFormatError) -> CalibrationPlate {
        let root = try JSONDocument.parse(data, source: source).rootField.object()
        try VersionedFile.checkHeader(root, format: Self.format, supportedVersion: 1, kind: "calibration plate")
        try root.rejectUnknownKeys(["format", "version", "tool", "model", "description", "coilToPlate"])
        return CalibrationPlate(
            tool: try Plan.nonEmptyString(root.required("tool")), model: try root.optional("model")?.string(),
            coilToPlate: try root.required("coilToPlate").rigidTransform())
    }

    public static func load(path: String) throws(FileFormatError) -> CalibrationPlate {
        try Self.parse(try FileAccess.read(path: path), source: path)
    }
}
