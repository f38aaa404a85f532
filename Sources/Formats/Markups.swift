import Foundation
import Geometry

/// A 3D Slicer markups file (`.mrk.json`, schema `markups-schema-v1.x`): one or more markups
/// (point lists, lines, curves …), each with its control points.
///
/// ### Coordinates
/// Slicer stores positions in the coordinate system named by each markup's
/// `coordinateSystem` field, `"LPS"` (Slicer 5's default) or `"RAS"`. CoilNav works in RAS, so
/// reading converts: in an LPS file the x and y of every position are negated, and the first two
/// rows of every orientation matrix (Slicer's own conversion). A markup without
/// `coordinateSystem` is read as LPS, the default of Slicer's markups schema (v1.0.0 to v1.0.4)
/// and of Slicer's reader. Units must be `"mm"` (or `"um"`, converted to mm); a missing
/// `coordinateUnits` means mm.
///
/// ### Control points
/// Every control point is kept, with its `positionStatus`. Only `"defined"` points are
/// measurements: `Markup.points` and `readPoints(from:source:)` return those and skip
/// `"preview"` (being placed, following the mouse) and `"undefined"` (not placed yet; Slicer
/// writes their position as `""`) points. A defined point without a position is an error.
public struct MarkupsFile: Equatable, Sendable {
    /// The markups, in file order.
    public var markups: [Markup]

    /// The schema identifier Slicer 5 writes (and accepts, with any v1 minor and patch version).
    public static let schemaIdentifier =
        "https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/Schema/markups-schema-v1.0.3.json#"

    public init(markups: [Markup]) {
        self.markups = markups
    }

    // MARK: Reading

    /// Parses a markups file. Positions and orientations come out in RAS millimetres.
    ///
    /// - Parameters:
    ///   - data: the file's bytes (UTF-8 JSON).
    ///   - source: the file name or path, used in error messages.
    public static func parse(_ data: Data, source: String) throws(FileFormatError) -> MarkupsFile {
        let document = try JSONDocument.parse(data, source: source)
        let root = try document.rootField.object()
        let schemaField = try root.required("@schema")
        let schema = try schemaField.string()
        guard Self.isAcceptedSchema(schema) else {
            throw schemaField.error("not a 3D Slicer markups schema (expected …/markups-schema-v1.x.y.json#), got \(quoted(schema, limit: 200))")
        }
        var markups: [Markup] = []
        for field in try root.required("markups").array() {
            markups.append(try Markup(json: field))
        }
        return MarkupsFile(markups: markups)
    }

    /// Reads a markups file from disk (see `parse(_:source:)`); errors name `path`.
    public static func load(path: String) throws(FileFormatError) -> MarkupsFile {
        try Self.parse(try FileAccess.read(path: path), source: path)
    }

    /// All defined control points of all markups, in file order, in RAS millimetres.
    public static func readPoints(from data: Data, source: String) throws(FileFormatError) -> [LabeledPoint] {
        try Self.parse(data, source: source).markups.flatMap(\.points)
    }

    /// Slicer accepts any `markups-schema-v1.<minor>.<patch>.json` identifier, case-insensitively.
    static func isAcceptedSchema(_ schema: String) -> Bool {
        var s = schema.lowercased()
        while s.hasSuffix("#") { s.removeLast() }
        guard s.hasSuffix(".json"), let range = s.range(of: "markups-schema-v1.", options: .backwards) else { return false }
        let version = s[range.upperBound..<s.index(s.endIndex, offsetBy: -5)].split(separator: ".", omittingEmptySubsequences: false)
        return version.count == 2 && version.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    // MARK: Writing

    /// The file as pretty-printed JSON, keys in Slicer's order, that Slicer 5 loads.
    ///
    /// - Parameters:
    ///   - coordinateSystem: the system to write every markup in; `nil` (the default) writes
    ///     each markup in its own `coordinateSystem` (as read, or `.lps` for new markups).
    ///   - destination: the name used in error messages.
    public func serialized(coordinateSystem: Markup.CoordinateSystem? = nil, destination: String = "markups") throws(FileFormatError) -> Data {
        let markups = try self.markups.enumerated().map { (i, m) throws(FileFormatError) in
            try m.json(coordinateSystem: coordinateSystem ?? m.coordinateSystem, path: "markups[\(i)]", destination: destination)
        }
        let root = JSONValue.object(["@schema": .string(Self.schemaIdentifier), "markups": .array(markups)])
        return try JSONWriter.serialize(root, destination: destination)
    }

    /// Writes the file atomically (see `serialized(coordinateSystem:destination:)`).
    public func write(path: String, coordinateSystem: Markup.CoordinateSystem? = nil) throws(FileFormatError) {
        try FileAccess.write(try self.serialized(coordinateSystem: coordinateSystem, destination: path), path: path)
    }
}

/// One markup of a Slicer markups file: a point list (`"Fiducial"`), line, curve, plane …
public struct Markup: Equatable, Sendable {
    /// The coordinate system a markup's positions are stored in, in the file.
    public enum CoordinateSystem: String, Equatable, Sendable, CaseIterable {
        /// Left, posterior, superior (DICOM, ITK; Slicer 5 writes this by default).
        case lps = "LPS"
        /// Right, anterior, superior (Slicer's internal world; CoilNav's MRI space).
        case ras = "RAS"
    }

    /// Slicer's markup type (`"Fiducial"`, `"Line"`, `"Angle"`, `"Curve"`, `"ClosedCurve"`,
    /// `"Plane"`, `"ROI"`); kept as text so types CoilNav does not know still round-trip.
    public var type: String
    /// The markup's display name, when the file has one.
    public var name: String?
    /// The system the positions were stored in (reading) or will be stored in (writing,
    /// unless overridden). Positions in memory are always RAS.
    public var coordinateSystem: CoordinateSystem
    /// Whether Slicer locks the markup against editing.
    public var locked: Bool
    /// Slicer's format for new point labels (`%N` node name, `%d` number).
    public var labelFormat: String
    /// All control points, in file order, including ones that are not defined.
    public var controlPoints: [ControlPoint]

    public init(
        type: String = "Fiducial", name: String? = nil, coordinateSystem: CoordinateSystem = .lps, locked: Bool = false,
        labelFormat: String = "%N-%d", controlPoints: [ControlPoint]
    ) {
        self.type = type
        self.name = name
        self.coordinateSystem = coordinateSystem
        self.locked = locked
        self.labelFormat = labelFormat
        self.controlPoints = controlPoints
    }

    /// A point list from labelled RAS points; the control points get ids `"1"`, `"2"`, … and
    /// Slicer's defaults for everything else.
    public init(type: String = "Fiducial", name: String? = nil, coordinateSystem: CoordinateSystem = .lps, points: [LabeledPoint]) {
        self.init(
            type: type, name: name, coordinateSystem: coordinateSystem,
            controlPoints: points.enumerated().map { ControlPoint(id: String($0.offset + 1), label: $0.element.label, position: $0.element.position) })
    }

    /// The defined control points as labelled points, RAS millimetres.
    public var points: [LabeledPoint] {
        self.controlPoints.compactMap { cp in
            guard cp.positionStatus == .defined, let p = cp.position else { return nil }
            return LabeledPoint(label: cp.label, position: p)
        }
    }

    /// One control point. `position` and `orientation` are in RAS (converted on reading and
    /// writing as the markup's coordinate system requires).
    public struct ControlPoint: Equatable, Sendable {
        /// Slicer's `positionStatus`.
        public enum PositionStatus: String, Equatable, Sendable, CaseIterable {
            /// Placed: a real measurement.
            case defined
            /// Being placed (follows the mouse in Slicer); not a confirmed position.
            case preview
            /// Not placed yet.
            case undefined
        }

        public var id: String
        public var label: String
        public var description: String
        public var associatedNodeID: String
        /// RAS millimetres; `nil` when the file gives no position (allowed only for points
        /// that are not defined).
        public var position: Vector3?
        /// Orientation of the point (columns are the point's axes), in RAS.
        public var orientation: Matrix3
        public var selected: Bool
        public var locked: Bool
        public var visibility: Bool
        public var positionStatus: PositionStatus

        public init(
            id: String, label: String, description: String = "", associatedNodeID: String = "", position: Vector3?,
            orientation: Matrix3 = .identity, selected: Bool = true, locked: Bool = false, visibility: Bool = true,
            positionStatus: PositionStatus = .defined
        ) {
            self.id = id
            self.label = label
            self.description = description
            self.associatedNodeID = associatedNodeID
            self.position = position
            self.orientation = orientation
            self.selected = selected
            self.locked = locked
            self.visibility = visibility
            self.positionStatus = positionStatus
        }
    }
}

// MARK: - LPS ↔ RAS

extension Markup.CoordinateSystem {
    /// Converts a position between this system and RAS (the conversion is its own inverse).
    func convert(_ p: Vector3) -> Vector3 {
        self == .ras ? p : Vector3(-p.x, -p.y, p.z)
    }

    /// Converts an orientation matrix between this system and RAS: the axes are directions in
    /// world space, so LPS↔RAS negates their x and y components (the first two rows).
    func convert(_ m: Matrix3) -> Matrix3 {
        self == .ras ? m : Matrix3.diagonal(Vector3(-1, -1, 1)) * m
    }
}

// MARK: - JSON

extension Markup {
    init(json field: JSONField) throws(FileFormatError) {
        let object = try field.object()
        let typeField = try object.required("type")
        let type = try typeField.string()
        guard !type.isEmpty else { throw typeField.error("the markup type must not be empty") }
        let name = try object.optional("name")?.string()

        var system = CoordinateSystem.lps
        if let f = object.optional("coordinateSystem") {
            let s = try f.string()
            guard let c = CoordinateSystem(rawValue: s) else {
                throw f.error("expected \"LPS\" or \"RAS\", got \(quoted(s))")
            }
            system = c
        }
        let scale = try Self.millimetresPerUnit(object.optional("coordinateUnits"))
        let locked = try object.optional("locked")?.bool() ?? false
        let labelFormat = try object.optional("labelFormat")?.string() ?? "%N-%d"

        var points: [ControlPoint] = []
        if let list = object.optional("controlPoints") {
            for cp in try list.array() {
                points.append(try ControlPoint(json: cp, system: system, scale: scale))
            }
        }
        self.init(type: type, name: name, coordinateSystem: system, locked: locked, labelFormat: labelFormat, controlPoints: points)
    }

    /// `coordinateUnits` is `"mm"`, `"um"`, or a coded entry `["mm", "UCUM", "millimeter"]`.
    private static func millimetresPerUnit(_ field: JSONField?) throws(FileFormatError) -> Double {
        guard let field else { return 1 }
        let unit: String
        if case .array = field.value.kind {
            let parts = try field.array()
            guard parts.count == 3 else {
                throw field.error("expected a unit string or a coded entry [value, \"UCUM\", meaning], got \(parts.count) elements")
            }
            unit = try parts[0].string()
            let scheme = try parts[1].string()
            guard scheme == "UCUM" else { throw parts[1].error("only UCUM unit codes are supported, got \(quoted(scheme))") }
        } else {
            unit = try field.string()
        }
        switch unit {
        case "mm": return 1
        case "um": return 0.001
        default: throw field.error("unsupported coordinate unit \(quoted(unit)) (CoilNav reads \"mm\" and \"um\")")
        }
    }

    func json(coordinateSystem system: CoordinateSystem, path: String, destination: String) throws(FileFormatError) -> JSONValue {
        var cps: [JSONValue] = []
        for (i, cp) in self.controlPoints.enumerated() {
            cps.append(try cp.json(system: system, path: "\(path).controlPoints[\(i)]", destination: destination))
        }
        return .object([
            "type": .string(self.type),
            "name": self.name.map { JSONValue.string($0) },
            "coordinateSystem": .string(system.rawValue),
            "coordinateUnits": .string("mm"),
            "locked": .bool(self.locked),
            "fixedNumberOfControlPoints": .bool(false),
            "labelFormat": .string(self.labelFormat),
            "lastUsedControlPointNumber": .number(self.controlPoints.count),
            "controlPoints": .array(cps),
            "measurements": .array([]),
        ])
    }
}

extension Markup.ControlPoint {
    init(json field: JSONField, system: Markup.CoordinateSystem, scale: Double) throws(FileFormatError) {
        let object = try field.object()
        var status = PositionStatus.defined
        if let f = object.optional("positionStatus") {
            let s = try f.string()
            guard let st = PositionStatus(rawValue: s) else {
                throw f.error("expected \"defined\", \"preview\" or \"undefined\", got \(quoted(s))")
            }
            status = st
        }
        var position: Vector3? = nil
        if let f = object.optional("position") {
            if case .string("") = f.value.kind {
                // Slicer writes an empty string for points that are not defined.
                guard status != .defined else {
                    throw f.error("the position is empty but positionStatus is \"defined\"")
                }
            } else {
                position = system.convert(try f.vector3() * scale)
            }
        } else if status == .defined {
            _ = try object.required("position")
        }
        var orientation = Matrix3.identity
        if let f = object.optional("orientation") {
            orientation = system.convert(Matrix3(rowMajor: try f.numbers(count: 9)))
        }
        self.init(
            id: try object.optional("id")?.string() ?? "",
            label: try object.optional("label")?.string() ?? "",
            description: try object.optional("description")?.string() ?? "",
            associatedNodeID: try object.optional("associatedNodeID")?.string() ?? "",
            position: position,
            orientation: orientation,
            selected: try object.optional("selected")?.bool() ?? true,
            locked: try object.optional("locked")?.bool() ?? false,
            visibility: try object.optional("visibility")?.bool() ?? true,
            positionStatus: status)
    }

    func json(system: Markup.CoordinateSystem, path: String, destination: String) throws(FileFormatError) -> JSONValue {
        let positionValue: JSONValue
        if let p = self.position {
            positionValue = .vector(system.convert(p))
        } else if self.positionStatus == .defined {
            throw FileFormatError(file: destination, field: "\(path).position", message: "a defined control point needs a position")
        } else {
            positionValue = .string("")
        }
        return .object([
            "id": .string(self.id),
            "label": .string(self.label),
            "description": .string(self.description),
            "associatedNodeID": .string(self.associatedNodeID),
            "position": positionValue,
            "orientation": .numbers(system.convert(self.orientation).rowMajor),
            "selected": .bool(self.selected),
            "locked": .bool(self.locked),
            "visibility": .bool(self.visibility),
            "positionStatus": .string(self.positionStatus.rawValue),
        ])
    }
}
