import Formats
import Foundation
import Geometry

/// A fiducial captured with the tracked pointer: its position in head-reference space, averaged
/// over `sampleCount` frames numbered `firstFrame…lastFrame` (the tracker's frame numbers).
public struct CapturedFiducial: Equatable, Sendable {
    /// The fiducial's label, matching a plan fiducial (`"NAS"`, `"LPA"`, …).
    public var name: String
    /// Head-reference coordinates, mm.
    public var headPositionMM: Vector3
    /// How many frames were averaged (≥ 1).
    public var sampleCount: Int
    /// The tracker frame numbers of the first and last frame averaged.
    public var firstFrame: UInt32
    public var lastFrame: UInt32

    public init(name: String, headPositionMM: Vector3, sampleCount: Int, firstFrame: UInt32, lastFrame: UInt32) {
        self.name = name
        self.headPositionMM = headPositionMM
        self.sampleCount = sampleCount
        self.firstFrame = firstFrame
        self.lastFrame = lastFrame
    }
}

/// What a session has recorded (`session.json`, `"format": "coilnav-session"`, `"version": 1`):
/// enough for a restarted server to resume where it stopped.
public struct SessionState: Equatable, Sendable {
    /// The value of the `format` field.
    public static let format = "coilnav-session"
    /// The newest version this code reads, and the version it writes.
    public static let currentVersion = 1

    /// When the session was created: ISO 8601 date-time with a time zone.
    public var createdAt: String
    /// The plan file the session navigates with.
    public var planPath: String?
    /// The plan target navigated to; nil: none.
    public var activeTarget: String?
    /// The accepted registration, kept in the session's `registration.json`; nil: not registered.
    public var registration: RegistrationRecord?
    /// The coil calibration file in use; nil: the identity.
    public var coilCalibrationPath: String?
    /// Fiducials captured with the pointer, in capture order; names are unique.
    public var capturedFiducials: [CapturedFiducial]
    /// Scalp points captured with the pointer, head-reference space, mm.
    public var scalpPoints: [Vector3]

    public init(
        createdAt: String, planPath: String? = nil, activeTarget: String? = nil, registration: RegistrationRecord? = nil,
        coilCalibrationPath: String? = nil, capturedFiducials: [CapturedFiducial] = [], scalpPoints: [Vector3] = []
    ) {
        self.createdAt = createdAt
        self.planPath = planPath
        self.activeTarget = activeTarget
        self.registration = registration
        self.coilCalibrationPath = coilCalibrationPath
        self.capturedFiducials = capturedFiducials
        self.scalpPoints = scalpPoints
    }

    /// The captured fiducial with this name.
    public func capturedFiducial(named name: String) -> CapturedFiducial? {
        self.capturedFiducials.first { $0.name == name }
    }
}

extension SessionState {
    static let keys: Set<String> = [
        "format", "version", "createdAt", "plan", "activeTarget", "registration", "coilCalibration", "fiducials",
        "scalpPoints",
    ]

    /// Reads `session.json`. `registered` says whether it names the session's registration file,
    /// which the caller loads; `state.registration` is nil.
    static func parse(_ data: Data, source: String) throws(FileFormatError) -> (state: SessionState, registered: Bool) {
        let document = try JSONDocument.parse(data, source: source)
        let root = try document.rootField.object()
        try VersionedFile.checkHeader(root, format: Self.format, supportedVersion: Self.currentVersion, kind: "session")
        try root.rejectUnknownKeys(Self.keys)

        var fiducials: [CapturedFiducial] = []
        var nameFields: [JSONField] = []
        for field in try root.required("fiducials").array() {
            let o = try field.object()
            try o.rejectUnknownKeys(["name", "headPositionMM", "sampleCount", "firstFrame", "lastFrame"])
            let nameField = try o.required("name")
            let countField = try o.required("sampleCount")
            let count = try countField.integer()
            guard count >= 1 else { throw countField.error("must be at least 1, got \(count)") }
            let first = try Self.frameNumber(o.required("firstFrame"))
            let lastField = try o.required("lastFrame")
            let last = try Self.frameNumber(lastField)
            fiducials.append(
                CapturedFiducial(
                    name: try nonEmptyString(nameField), headPositionMM: try o.required("headPositionMM").vector3(),
                    sampleCount: count, firstFrame: first, lastFrame: last))
            nameFields.append(nameField)
        }
        try VersionedFile.rejectDuplicates(fiducials.map(\.name), fields: nameFields, what: "fiducial name", list: "fiducials")

        var points: [Vector3] = []
        for field in try root.required("scalpPoints").array() { points.append(try field.vector3()) }

        var registered = false
        if let f = root.optional("registration") {
            let name = try nonEmptyString(f)
            guard name == SessionStore.registrationFileName else {
                throw f.error("expected \(quoted(SessionStore.registrationFileName)) (the registration inside the session folder), got \(quoted(name))")
            }
            registered = true
        }

        let state = SessionState(
            createdAt: try VersionedFile.timestamp(root.required("createdAt")),
            planPath: try root.optional("plan").map { f throws(FileFormatError) in try nonEmptyString(f) },
            activeTarget: try root.optional("activeTarget").map { f throws(FileFormatError) in try nonEmptyString(f) },
            registration: nil,
            coilCalibrationPath: try root.optional("coilCalibration").map { f throws(FileFormatError) in try nonEmptyString(f) },
            capturedFiducials: fiducials, scalpPoints: points)
        return (state, registered)
    }

    private static func frameNumber(_ field: JSONField) throws(FileFormatError) -> UInt32 {
        let n = try field.integer()
        guard n >= 0, n <= Int(UInt32.max) else { throw field.error("expected a frame number 0…\(UInt32.max), got \(n)") }
        return UInt32(n)
    }

    /// `session.json`'s bytes: deterministic, keys in the documented order.
    func serialized(destination: String) throws(FileFormatError) -> Data {
        let root = JSONValue.object([
            "format": .string(Self.format),
            "version": .number(Self.currentVersion),
            "createdAt": .string(self.createdAt),
            "plan": self.planPath.map { .string($0) },
            "activeTarget": self.activeTarget.map { .string($0) },
            "registration": self.registration.map { _ in .string(SessionStore.registrationFileName) },
            "coilCalibration": self.coilCalibrationPath.map { .string($0) },
            "fiducials": .array(
                self.capturedFiducials.map {
                    .object([
                        "name": .string($0.name),
                        "headPositionMM": .vector($0.headPositionMM),
                        "sampleCount": .number($0.sampleCount),
                        "firstFrame": .number(Int($0.firstFrame)),
                        "lastFrame": .number(Int($0.lastFrame)),
                    ])
                }),
            "scalpPoints": .array(self.scalpPoints.map { .vector($0) }),
        ])
        return try JSONWriter.serialize(root, destination: destination)
    }
}
