import Foundation
import Geometry

/// The result of registering a subject's head to their MRI, as CoilNav saves it
/// (`"format": "coilnav-registration"`, `"version": 1`), so a session can be resumed and
/// audited.
///
/// `headToMRI` maps head-reference coordinates (the tracked marker fixed to the head) to MRI
/// RAS millimetres. Quality figures are in millimetres. The time stamp is supplied by the
/// caller: nothing in `Formats` reads a clock.
public struct RegistrationRecord: Equatable, Sendable {
    /// The value of the `format` field.
    public static let format = "coilnav-registration"
    /// The newest registration version this code reads, and the version it writes.
    public static let currentVersion = 1

    /// The distance left between one fiducial's MRI position and its registered head position.
    public struct FiducialResidual: Equatable, Sendable {
        /// The fiducial's label (NAS, LPA, RPA …).
        public var name: String
        /// Millimetres, ≥ 0.
        public var residualMM: Double

        public init(name: String, residualMM: Double) {
            self.name = name
            self.residualMM = residualMM
        }
    }

    /// Summary of the surface (ICP) refinement, when one was run.
    public struct SurfaceSummary: Equatable, Sendable {
        /// RMS distance from the digitised scalp points to the MRI scalp before refinement, mm.
        public var rmsBeforeMM: Double
        /// The same after refinement, mm.
        public var rmsAfterMM: Double
        /// Iterations run.
        public var iterations: Int
        /// Scalp points kept as inliers in the final iteration.
        public var inliers: Int

        public init(rmsBeforeMM: Double, rmsAfterMM: Double, iterations: Int, inliers: Int) {
            self.rmsBeforeMM = rmsBeforeMM
            self.rmsAfterMM = rmsAfterMM
            self.iterations = iterations
            self.inliers = inliers
        }
    }

    /// When the registration was made: ISO 8601 date-time with time zone, e.g.
    /// `2025-03-14T09:26:53Z`.
    public var createdAt: String
    /// Head reference → MRI RAS (mm).
    public var headToMRI: RigidTransform
    /// Fiducial registration error (RMS of the fiducial residuals), mm.
    public var freMM: Double
    /// The fiducial localisation error assumed for TRE prediction, mm.
    public var fleMM: Double?
    /// Residual per fiducial, in the order they were registered.
    public var fiducialResiduals: [FiducialResidual]
    public var surface: SurfaceSummary?
    /// Free text.
    public var notes: String?

    public init(
        createdAt: String, headToMRI: RigidTransform, freMM: Double, fleMM: Double? = nil,
        fiducialResiduals: [FiducialResidual], surface: SurfaceSummary? = nil, notes: String? = nil
    ) {
        self.createdAt = createdAt
        self.headToMRI = headToMRI
        self.freMM = freMM
        self.fleMM = fleMM
        self.fiducialResiduals = fiducialResiduals
        self.surface = surface
        self.notes = notes
    }
}

extension RegistrationRecord {
    /// Parses and validates a registration file.
    ///
    /// - Parameters:
    ///   - data: the file's bytes (UTF-8 JSON).
    ///   - source: the file name or path, used in error messages.
    public static func parse(_ data: Data, source: String) throws(FileFormatError) -> RegistrationRecord {
        let document = try JSONDocument.parse(data, source: source)
        let root = try document.rootField.object()
        try VersionedFile.checkHeader(root, format: Self.format, supportedVersion: Self.currentVersion, kind: "registration")
        try root.rejectUnknownKeys([
            "format", "version", "createdAt", "headToMRI", "freMM", "fleMM", "fiducialResiduals", "surface", "notes",
        ])

        var residuals: [FiducialResidual] = []
        var nameFields: [JSONField] = []
        for field in try root.required("fiducialResiduals").array() {
            let o = try field.object()
            try o.rejectUnknownKeys(["name", "residualMM"])
            let nameField = try o.required("name")
            residuals.append(FiducialResidual(name: try Plan.nonEmptyString(nameField), residualMM: try o.required("residualMM").nonNegativeNumber()))
            nameFields.append(nameField)
        }
        try VersionedFile.rejectDuplicates(residuals.map(\.name), fields: nameFields, what: "fiducial name", list: "fiducialResiduals")

        var surface: SurfaceSummary? = nil
        if let s = root.optional("surface") {
            let o = try s.object()
            try o.rejectUnknownKeys(["rmsBeforeMM", "rmsAfterMM", "iterations", "inliers"])
            surface = SurfaceSummary(
                rmsBeforeMM: try o.required("rmsBeforeMM").nonNegativeNumber(),
                rmsAfterMM: try o.required("rmsAfterMM").nonNegativeNumber(),
                iterations: try Self.count(o.required("iterations")),
                inliers: try Self.count(o.required("inliers")))
        }

        return RegistrationRecord(
            createdAt: try VersionedFile.timestamp(root.required("createdAt")),
            headToMRI: try root.required("headToMRI").rigidTransform(),
            freMM: try root.required("freMM").nonNegativeNumber(),
            fleMM: try root.optional("fleMM")?.nonNegativeNumber(),
            fiducialResiduals: residuals,
            surface: surface,
            notes: try root.optional("notes")?.string())
    }

    /// Reads a registration file from disk (see `parse(_:source:)`); errors name `path`.
    public static func load(path: String) throws(FileFormatError) -> RegistrationRecord {
        try Self.parse(try FileAccess.read(path: path), source: path)
    }

    private static func count(_ field: JSONField) throws(FileFormatError) -> Int {
        let n = try field.integer()
        guard n >= 0 else { throw field.error("must not be negative, got \(n)") }
        return n
    }

    /// The record as pretty-printed, deterministic JSON. The reader's checks apply (time
    /// stamp form, non-negative distances and counts, unique fiducial names, finite numbers).
    public func serialized(destination: String = "registration") throws(FileFormatError) -> Data {
        func fail(_ field: String, _ message: String) -> FileFormatError {
            FileFormatError(file: destination, field: field, message: message)
        }
        guard VersionedFile.isTimestamp(self.createdAt) else {
            throw fail("createdAt", "expected an ISO 8601 date-time with a time zone, got \(quoted(self.createdAt))")
        }
        if self.freMM < 0 { throw fail("freMM", "must not be negative, got \(self.freMM)") }
        if let f = self.fleMM, f < 0 { throw fail("fleMM", "must not be negative, got \(f)") }
        for (i, r) in self.fiducialResiduals.enumerated() {
            if r.name.trimmingCharacters(in: .whitespaces).isEmpty { throw fail("fiducialResiduals[\(i)].name", "must not be empty") }
            if r.residualMM < 0 { throw fail("fiducialResiduals[\(i)].residualMM", "must not be negative, got \(r.residualMM)") }
        }
        try VersionedFile.rejectDuplicates(
            self.fiducialResiduals.map(\.name), what: "fiducial name", list: "fiducialResiduals", key: "name", destination: destination)
        if let s = self.surface {
            if s.rmsBeforeMM < 0 { throw fail("surface.rmsBeforeMM", "must not be negative, got \(s.rmsBeforeMM)") }
            if s.rmsAfterMM < 0 { throw fail("surface.rmsAfterMM", "must not be negative, got \(s.rmsAfterMM)") }
            if s.iterations < 0 { throw fail("surface.iterations", "must not be negative, got \(s.iterations)") }
            if s.inliers < 0 { throw fail("surface.inliers", "must not be negative, got \(s.inliers)") }
        }

        let root = JSONValue.object([
            "format": .string(Self.format),
            "version": .number(Self.currentVersion),
            "createdAt": .string(self.createdAt),
            "headToMRI": .array(self.headToMRI.matrix4x4.map { .numbers($0) }),
            "freMM": .number(self.freMM),
            "fleMM": self.fleMM.map { .number($0) },
            "fiducialResiduals": .array(
                self.fiducialResiduals.map { .object(["name": .string($0.name), "residualMM": .number($0.residualMM)]) }),
            "surface": self.surface.map {
                .object([
                    "rmsBeforeMM": .number($0.rmsBeforeMM),
                    "rmsAfterMM": .number($0.rmsAfterMM),
                    "iterations": .number($0.iterations),
                    "inliers": .number($0.inliers),
                ])
            },
            "notes": self.notes.map { .string($0) },
        ])
        return try JSONWriter.serialize(root, destination: destination)
    }

    /// Writes the record atomically (see `serialized(destination:)`).
    public func write(path: String) throws(FileFormatError) {
        try FileAccess.write(try self.serialized(destination: path), path: path)
    }
}
