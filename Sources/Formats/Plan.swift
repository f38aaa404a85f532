import Foundation
import Geometry

/// A CoilNav stimulation plan (`"format": "coilnav-plan"`, `"version": 1`): who the subject
/// is, which MRI the coordinates refer to, the MRI fiducials, the scalp mesh and the targets
/// with their planned coil poses.
///
/// Every coordinate in a plan is in the MRI space named by `coordinateSystem`: RAS axes,
/// millimetres. Coil poses follow the SimNIBS convention (see `PlanTarget.coilToMRI`).
///
/// Reading is strict: unknown fields, duplicate target or fiducial names, non-rigid coil
/// matrices and versions newer than 1 are errors naming the field, line and column. Writing is
/// deterministic (fixed key order, 4-space indentation, shortest round-tripping numbers) so
/// plans diff well under version control.
public struct Plan: Equatable, Sendable {
    /// The value of the `format` field.
    public static let format = "coilnav-plan"
    /// The newest plan version this code reads, and the version it writes.
    public static let currentVersion = 1

    /// Who the plan is for.
    public struct Subject: Equatable, Sendable {
        /// Subject identifier, e.g. a BIDS label `sub-01` (no personal data).
        public var id: String
        /// Free text.
        public var description: String?

        public init(id: String, description: String? = nil) {
            self.id = id
            self.description = description
        }
    }

    /// Which RAS convention the MRI coordinates use.
    public enum MRISpace: String, Equatable, Sendable, CaseIterable {
        /// The scanner RAS of the image header (NIfTI qform/sform, DICOM patient space
        /// converted to RAS): what 3D Slicer, SimNIBS, FSL and ANTs show.
        case scanner
        /// FreeSurfer's "tkregister" surface RAS (`lh.pial`, `lh.seghead`, …), which differs
        /// from scanner RAS by the volume's `c_ras` offset.
        case tkregister
    }

    /// The space all of the plan's coordinates are in: RAS axes, millimetres, in one MRI.
    public struct CoordinateSystem: Equatable, Sendable {
        /// Which MRI: a file name or series description, e.g. `sub-01_T1w.nii.gz`.
        public var mri: String
        /// Scanner or FreeSurfer tkregister RAS.
        public var space: MRISpace

        public init(mri: String, space: MRISpace = .scanner) {
            self.mri = mri
            self.space = space
        }
    }

    /// Who or what made the plan.
    public struct Provenance: Equatable, Sendable {
        /// Program and version, e.g. `coilnav 0.3.0` or `simnibs 4.1`.
        public var generator: String
        /// ISO 8601 date-time with time zone; supplied by the caller (no clock is read here).
        public var created: String?

        public init(generator: String, created: String? = nil) {
            self.generator = generator
            self.created = created
        }
    }

    public var subject: Subject
    public var coordinateSystem: CoordinateSystem
    /// Anatomical landmarks picked on the MRI (NAS, LPA, RPA …), RAS mm; labels are unique.
    public var fiducials: [LabeledPoint]
    /// Stimulation targets; names are unique.
    public var targets: [PlanTarget]
    /// The scalp surface, as written in the file: relative to the plan file's directory unless
    /// absolute. Use `resolvedScalpMeshPath(planPath:)` to open it.
    public var scalpMeshPath: String?
    /// Free text.
    public var notes: String?
    public var provenance: Provenance?

    public init(
        subject: Subject, coordinateSystem: CoordinateSystem, fiducials: [LabeledPoint], targets: [PlanTarget],
        scalpMeshPath: String? = nil, notes: String? = nil, provenance: Provenance? = nil
    ) {
        self.subject = subject
        self.coordinateSystem = coordinateSystem
        self.fiducials = fiducials
        self.targets = targets
        self.scalpMeshPath = scalpMeshPath
        self.notes = notes
        self.provenance = provenance
    }

    /// The scalp mesh path to open: `scalpMeshPath` itself when absolute, otherwise joined to
    /// the directory of `planPath` (textually; `..` components are kept).
    public func resolvedScalpMeshPath(planPath: String) -> String? {
        guard let mesh = self.scalpMeshPath else { return nil }
        if mesh.hasPrefix("/") { return mesh }
        let directory = (planPath as NSString).deletingLastPathComponent
        return directory.isEmpty ? mesh : (directory as NSString).appendingPathComponent(mesh)
    }

    /// The target with the given name.
    public func target(named name: String) -> PlanTarget? {
        self.targets.first { $0.name == name }
    }
}

/// One stimulation target of a plan.
public struct PlanTarget: Equatable, Sendable {
    /// Unique within the plan, e.g. `"L-DLPFC (Fox 2012)"`.
    public var name: String
    public var description: String?
    /// The cortical point to stimulate, RAS mm.
    public var cortexMM: Vector3?
    /// The coil pose to reach, mapping coil coordinates to MRI RAS mm. The coil frame follows
    /// SimNIBS (`matsimnibs`): origin at the centre of the coil's bottom face (the face that
    /// touches the scalp), z axis pointing into the head, y axis along the coil's axis of
    /// symmetry with the handle pointing along −y. This pose is authoritative; the other
    /// fields are informative.
    public var coilToMRI: RigidTransform
    /// Where the coil touches the scalp, RAS mm.
    public var scalpPointMM: Vector3?
    /// Distance from the coil's bottom face to the cortical target, mm.
    public var coilToCortexMM: Double?
    /// The planned handle angle, degrees, as the planning tool defined it (commonly measured
    /// from the midline, 45° for DLPFC); informative only.
    public var handleAngleDegrees: Double?

    public init(
        name: String, description: String? = nil, cortexMM: Vector3? = nil, coilToMRI: RigidTransform,
        scalpPointMM: Vector3? = nil, coilToCortexMM: Double? = nil, handleAngleDegrees: Double? = nil
    ) {
        self.name = name
        self.description = description
        self.cortexMM = cortexMM
        self.coilToMRI = coilToMRI
        self.scalpPointMM = scalpPointMM
        self.coilToCortexMM = coilToCortexMM
        self.handleAngleDegrees = handleAngleDegrees
    }
}

// MARK: - Reading

extension Plan {
    /// Parses and validates a plan file.
    ///
    /// - Parameters:
    ///   - data: the file's bytes (UTF-8 JSON).
    ///   - source: the file name or path, used in error messages.
    public static func parse(_ data: Data, source: String) throws(FileFormatError) -> Plan {
        let document = try JSONDocument.parse(data, source: source)
        let root = try document.rootField.object()
        try VersionedFile.checkHeader(root, format: Self.format, supportedVersion: Self.currentVersion, kind: "plan")
        try root.rejectUnknownKeys([
            "format", "version", "subject", "coordinateSystem", "scalpMesh", "fiducials", "targets", "notes", "provenance",
        ])

        let subjectObject = try root.required("subject").object()
        try subjectObject.rejectUnknownKeys(["id", "description"])
        let subject = Subject(
            id: try Self.nonEmptyString(subjectObject.required("id")),
            description: try subjectObject.optional("description")?.string())

        let coordinateSystem = try Self.coordinateSystem(root.required("coordinateSystem"))

        let fiducialFields = try root.required("fiducials").array()
        var fiducials: [LabeledPoint] = []
        var fiducialLabelFields: [JSONField] = []
        for field in fiducialFields {
            let o = try field.object()
            try o.rejectUnknownKeys(["label", "positionMM"])
            let labelField = try o.required("label")
            fiducials.append(LabeledPoint(label: try Self.nonEmptyString(labelField), position: try o.required("positionMM").vector3()))
            fiducialLabelFields.append(labelField)
        }
        try VersionedFile.rejectDuplicates(fiducials.map(\.label), fields: fiducialLabelFields, what: "fiducial label", list: "fiducials")

        var targets: [PlanTarget] = []
        var nameFields: [JSONField] = []
        for field in try root.required("targets").array() {
            let (target, nameField) = try PlanTarget.parse(field)
            targets.append(target)
            nameFields.append(nameField)
        }
        try VersionedFile.rejectDuplicates(targets.map(\.name), fields: nameFields, what: "target name", list: "targets")

        var provenance: Provenance? = nil
        if let p = root.optional("provenance") {
            let o = try p.object()
            try o.rejectUnknownKeys(["generator", "created"])
            provenance = Provenance(
                generator: try o.required("generator").string(),
                created: try o.optional("created").map { f throws(FileFormatError) in try VersionedFile.timestamp(f) })
        }

        return Plan(
            subject: subject, coordinateSystem: coordinateSystem, fiducials: fiducials, targets: targets,
            scalpMeshPath: try root.optional("scalpMesh").map { f throws(FileFormatError) in try Self.nonEmptyString(f) },
            notes: try root.optional("notes")?.string(), provenance: provenance)
    }

    /// Reads a plan file from disk (see `parse(_:source:)`); errors name `path`.
    public static func load(path: String) throws(FileFormatError) -> Plan {
        try Self.parse(try FileAccess.read(path: path), source: path)
    }

    private static func coordinateSystem(_ field: JSONField) throws(FileFormatError) -> CoordinateSystem {
        let o = try field.object()
        try o.rejectUnknownKeys(["axes", "units", "space", "mri"])
        let axes = try o.required("axes")
        guard try axes.string() == "RAS" else {
            throw axes.error("plans are in RAS; expected \"RAS\", got \(quoted(try axes.string()))")
        }
        let units = try o.required("units")
        guard try units.string() == "mm" else {
            throw units.error("plans are in millimetres; expected \"mm\", got \(quoted(try units.string()))")
        }
        let spaceField = try o.required("space")
        let spaceText = try spaceField.string()
        guard let space = MRISpace(rawValue: spaceText) else {
            throw spaceField.error("expected \"scanner\" or \"tkregister\", got \(quoted(spaceText))")
        }
        return CoordinateSystem(mri: try o.required("mri").string(), space: space)
    }

    static func nonEmptyString(_ field: JSONField) throws(FileFormatError) -> String {
        let s = try field.string()
        guard !s.trimmingCharacters(in: .whitespaces).isEmpty else { throw field.error("must not be empty") }
        return s
    }
}

extension PlanTarget {
    /// Reads one target and returns it with its `name` field (for duplicate-name errors).
    static func parse(_ field: JSONField) throws(FileFormatError) -> (PlanTarget, JSONField) {
        let o = try field.object()
        try o.rejectUnknownKeys([
            "name", "description", "cortexMM", "coilToMRI", "scalpPointMM", "coilToCortexMM", "handleAngleDegrees",
        ])
        let nameField = try o.required("name")
        let target = PlanTarget(
            name: try Plan.nonEmptyString(nameField),
            description: try o.optional("description")?.string(),
            cortexMM: try o.optional("cortexMM")?.vector3(),
            coilToMRI: try o.required("coilToMRI").rigidTransform(),
            scalpPointMM: try o.optional("scalpPointMM")?.vector3(),
            coilToCortexMM: try o.optional("coilToCortexMM")?.nonNegativeNumber(),
            handleAngleDegrees: try o.optional("handleAngleDegrees")?.number())
        return (target, nameField)
    }
}

// MARK: - Writing

extension Plan {
    /// The plan as pretty-printed, deterministic JSON.
    ///
    /// The same checks as reading apply, so a written plan always reads back: duplicate or
    /// empty names, negative `coilToCortexMM`, malformed `provenance.created` and non-finite
    /// numbers are errors naming `destination` and the field.
    public func serialized(destination: String = "plan") throws(FileFormatError) -> Data {
        func fail(_ field: String, _ message: String) -> FileFormatError {
            FileFormatError(file: destination, field: field, message: message)
        }
        if self.subject.id.trimmingCharacters(in: .whitespaces).isEmpty { throw fail("subject.id", "must not be empty") }
        for (i, f) in self.fiducials.enumerated() where f.label.trimmingCharacters(in: .whitespaces).isEmpty {
            throw fail("fiducials[\(i)].label", "must not be empty")
        }
        try VersionedFile.rejectDuplicates(
            self.fiducials.map(\.label), what: "fiducial label", list: "fiducials", key: "label", destination: destination)
        for (i, t) in self.targets.enumerated() {
            if t.name.trimmingCharacters(in: .whitespaces).isEmpty { throw fail("targets[\(i)].name", "must not be empty") }
            if let d = t.coilToCortexMM, d < 0 { throw fail("targets[\(i)].coilToCortexMM", "must not be negative, got \(d)") }
        }
        try VersionedFile.rejectDuplicates(self.targets.map(\.name), what: "target name", list: "targets", key: "name", destination: destination)
        if let mesh = self.scalpMeshPath, mesh.trimmingCharacters(in: .whitespaces).isEmpty {
            throw fail("scalpMesh", "must not be empty")
        }
        if let created = self.provenance?.created, !VersionedFile.isTimestamp(created) {
            throw fail("provenance.created", "expected an ISO 8601 date-time with a time zone, got \(quoted(created))")
        }

        let root = JSONValue.object([
            "format": .string(Self.format),
            "version": .number(Self.currentVersion),
            "subject": .object(["id": .string(self.subject.id), "description": self.subject.description.map { .string($0) }]),
            "coordinateSystem": .object([
                "axes": .string("RAS"),
                "units": .string("mm"),
                "space": .string(self.coordinateSystem.space.rawValue),
                "mri": .string(self.coordinateSystem.mri),
            ]),
            "scalpMesh": self.scalpMeshPath.map { .string($0) },
            "fiducials": .array(self.fiducials.map { .object(["label": .string($0.label), "positionMM": .vector($0.position)]) }),
            "targets": .array(self.targets.map(\.json)),
            "notes": self.notes.map { .string($0) },
            "provenance": self.provenance.map {
                .object(["generator": .string($0.generator), "created": $0.created.map { .string($0) }])
            },
        ])
        return try JSONWriter.serialize(root, destination: destination)
    }

    /// Writes the plan atomically (see `serialized(destination:)`).
    public func write(path: String) throws(FileFormatError) {
        try FileAccess.write(try self.serialized(destination: path), path: path)
    }
}

extension PlanTarget {
    var json: JSONValue {
        .object([
            "name": .string(self.name),
            "description": self.description.map { .string($0) },
            "cortexMM": self.cortexMM.map { .vector($0) },
            "scalpPointMM": self.scalpPointMM.map { .vector($0) },
            "coilToCortexMM": self.coilToCortexMM.map { .number($0) },
            "handleAngleDegrees": self.handleAngleDegrees.map { .number($0) },
            "coilToMRI": .array(self.coilToMRI.matrix4x4.map { .numbers($0) }),
        ])
    }
}
