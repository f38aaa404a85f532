import Foundation
import Geometry

/// A QA phantom and the protocol `coilnav qa` runs on it (`"format": "coilnav-qa-phantom"`,
/// `"version": 1`): the phantom's reference tool, its landmark divots in phantom-reference
/// coordinates (registration landmarks and check points), the phases of the run (their order,
/// durations and capture settings) and the threshold of every figure the QA reports.
///
/// ```json
/// {"format": "coilnav-qa-phantom", "version": 1, "name": "Mock phantom",
///  "phantomTool": "phantom", "pointerTool": "pointer",
///  "landmarks": [{"name": "L1", "positionMM": [80, 50, 0], "role": "registration"}, …],
///  "phases": [{"type": "pause", "durationSeconds": 1}, {"type": "still", "durationSeconds": 5}, …],
///  "thresholds": {"jitterRMSMM": 0.25, …}}
/// ```
///
/// Documented in `docs/file-formats.md` and `docs/qa.md`.
public struct QAPhantom: Equatable, Sendable {
    public static let format = "coilnav-qa-phantom"
    public static let currentVersion = 1

    /// What a landmark divot is used for.
    public enum LandmarkRole: String, Equatable, Sendable, CaseIterable {
        /// Used in the paired-point registration of the measured points onto the phantom's
        /// definition (FRE, residuals).
        case registration
        /// Left out of the registration: its error after the registration is a TRE.
        case check
    }

    /// A divot of the phantom.
    public struct Landmark: Equatable, Sendable {
        public var name: String
        /// In phantom-reference (the phantom tool's marker) coordinates, mm.
        public var positionMM: Vector3
        public var role: LandmarkRole

        public init(name: String, positionMM: Vector3, role: LandmarkRole) {
            self.name = name
            self.positionMM = positionMM
            self.role = role
        }
    }

    /// The still phase: the static tool's jitter.
    public struct StillPhase: Equatable, Sendable {
        public var durationSeconds: Double
        /// The tool whose jitter is measured (default: the phantom tool).
        public var tool: String
        /// The point whose jitter is measured, in that tool's coordinates (default its origin), mm.
        public var pointMM: Vector3
        public var instruction: String?

        public init(durationSeconds: Double, tool: String, pointMM: Vector3 = .zero, instruction: String? = nil) {
            self.durationSeconds = durationSeconds
            self.tool = tool
            self.pointMM = pointMM
            self.instruction = instruction
        }
    }

    /// The pivot phase: the pointer swivelled in a divot of the phantom, calibrated in `windows`
    /// consecutive windows of equal length and once over the whole phase.
    public struct PivotPhase: Equatable, Sendable {
        public var durationSeconds: Double
        public var windows: Int
        public var instruction: String?

        public init(durationSeconds: Double, windows: Int, instruction: String? = nil) {
            self.durationSeconds = durationSeconds
            self.windows = windows
            self.instruction = instruction
        }
    }

    /// The landmark phase: every landmark touched in file order, each captured automatically when
    /// the tip has rested near it for `captureFrames` frames.
    public struct LandmarkPhase: Equatable, Sendable {
        /// Distinct tracker frames averaged per capture (the server's capture rule).
        public var captureFrames: Int
        /// No frame's tip further than this from the capture's mean, mm.
        public var stillnessMM: Double
        /// The captured tip must lie this close to the landmark's definition, mm.
        public var captureRadiusMM: Double
        /// Tracker time allowed per landmark before it is given up, seconds.
        public var timeoutSeconds: Double
        public var instruction: String?

        public init(
            captureFrames: Int, stillnessMM: Double, captureRadiusMM: Double, timeoutSeconds: Double,
            instruction: String? = nil
        ) {
            self.captureFrames = captureFrames
            self.stillnessMM = stillnessMM
            self.captureRadiusMM = captureRadiusMM
            self.timeoutSeconds = timeoutSeconds
            self.instruction = instruction
        }
    }

    /// One step of the protocol.
    public enum Phase: Equatable, Sendable {
        /// Nothing is measured: time for the operator to get ready.
        case pause(durationSeconds: Double, instruction: String?)
        case still(StillPhase)
        case pivot(PivotPhase)
        case landmarks(LandmarkPhase)

        /// The `type` as written in the file.
        public var typeName: String {
            switch self {
            case .pause: return "pause"
            case .still: return "still"
            case .pivot: return "pivot"
            case .landmarks: return "landmarks"
            }
        }

        /// How long the phase lasts in tracker time; nil for the landmark phase (until every
        /// landmark is captured or given up).
        public var durationSeconds: Double? {
            switch self {
            case .pause(let d, _): return d
            case .still(let s): return s.durationSeconds
            case .pivot(let p): return p.durationSeconds
            case .landmarks: return nil
            }
        }

        /// The operator instruction the file gives, if any.
        public var instruction: String? {
            switch self {
            case .pause(_, let i): return i
            case .still(let s): return s.instruction
            case .pivot(let p): return p.instruction
            case .landmarks(let l): return l.instruction
            }
        }
    }

    /// The pass/fail limit of every figure (all positive).
    public struct Thresholds: Equatable, Sendable {
        /// Largest RMS 3-D deviation of the still tool's point from its mean, mm.
        public var jitterRMSMM: Double
        /// Largest single 3-D deviation from the mean, mm.
        public var jitterMaxMM: Double
        /// Smallest frame rate as a fraction of the nominal rate (0 < f ≤ 1).
        public var minFrameRateFraction: Double
        /// Largest share of device frames the host never received, percent.
        public var maxDropoutPercent: Double
        /// Largest RMS residual of the pivot calibration over the whole pivot phase, mm.
        public var pivotRMSMM: Double
        /// Largest distance of one window's tip from the windows' mean tip, mm.
        public var pivotTipSpreadMM: Double
        /// Largest distance of one window's pivot point from the windows' mean pivot point, mm.
        public var pivotPointSpreadMM: Double
        /// Largest distance between the pivot phase's tip and the pointer calibration in use, mm.
        public var tipCalibrationDeviationMM: Double
        /// Largest FRE of the landmark registration, mm.
        public var freMM: Double
        /// Largest TRE at each check point, mm.
        public var treMM: Double
        /// Largest 99th percentile of the frame-to-client latency, milliseconds.
        public var latencyP99MS: Double

        public init(
            jitterRMSMM: Double, jitterMaxMM: Double, minFrameRateFraction: Double, maxDropoutPercent: Double,
            pivotRMSMM: Double,
            pivotTipSpreadMM: Double, pivotPointSpreadMM: Double, tipCalibrationDeviationMM: Double, freMM: Double,
            treMM: Double,
            latencyP99MS: Double
        ) {
            self.jitterRMSMM = jitterRMSMM
            self.jitterMaxMM = jitterMaxMM
            self.minFrameRateFraction = minFrameRateFraction
            self.maxDropoutPercent = maxDropoutPercent
            self.pivotRMSMM = pivotRMSMM
            self.pivotTipSpreadMM = pivotTipSpreadMM
            self.pivotPointSpreadMM = pivotPointSpreadMM
            self.tipCalibrationDeviationMM = tipCalibrationDeviationMM
            self.freMM = freMM
            self.treMM = treMM
            self.latencyP99MS = latencyP99MS
        }

        /// The file's keys, in the order they are documented.
        public static let keys = [
            "jitterRMSMM", "jitterMaxMM", "minFrameRateFraction", "maxDropoutPercent", "pivotRMSMM", "pivotTipSpreadMM",
            "pivotPointSpreadMM", "tipCalibrationDeviationMM", "freMM", "treMM", "latencyP99MS",
        ]
    }

    public var name: String
    public var description: String?
    /// The phantom's reference tool (tool-set name): landmarks are in its coordinates.
    public var phantomTool: String
    /// The pointer's tool name.
    public var pointerTool: String
    public var landmarks: [Landmark]
    /// The protocol, in order: `still`, `pivot` and `landmarks` exactly once each (landmarks last),
    /// `pause` anywhere before the landmarks.
    public var phases: [Phase]
    public var thresholds: Thresholds

    public init(
        name: String, description: String? = nil, phantomTool: String, pointerTool: String, landmarks: [Landmark],
        phases: [Phase],
        thresholds: Thresholds
    ) {
        self.name = name
        self.description = description
        self.phantomTool = phantomTool
        self.pointerTool = pointerTool
        self.landmarks = landmarks
        self.phases = phases
        self.thresholds = thresholds
    }

    public var registrationLandmarks: [Landmark] { self.landmarks.filter { $0.role == .registration } }
    public var checkPoints: [Landmark] { self.landmarks.filter { $0.role == .check } }

    /// The phases used when the file has none: 3 s to get ready, 10 s still, 5 s to pick up the
    /// pointer, 20 s of pivoting in 4 windows, then the landmarks (10 frames, 0.5 mm, 10 mm, 60 s).
    public static func defaultPhases(phantomTool: String) -> [Phase] {
        [
            .pause(durationSeconds: 3, instruction: nil),
            .still(StillPhase(durationSeconds: 10, tool: phantomTool)),
            .pause(durationSeconds: 5, instruction: nil),
            .pivot(PivotPhase(durationSeconds: 20, windows: 4)),
            .landmarks(LandmarkPhase(captureFrames: 10, stillnessMM: 0.5, captureRadiusMM: 10, timeoutSeconds: 60)),
        ]
    }

    /// The landmark phase's settings (every valid phantom has exactly one).
    public var landmarkPhase: LandmarkPhase {
        for p in self.phases { if case .landmarks(let l) = p { return l } }
        preconditionFailure("a QA phantom always has a landmark phase")
    }

    // MARK: Reading

    public static func load(path: String) throws(FileFormatError) -> QAPhantom {
        try Self.parse(try FileAccess.read(path: path), source: path)
    }

    public static func parse(_ data: Data, source: String) throws(FileFormatError) -> QAPhantom {
        let document = try JSONDocument.parse(data, source: source)
        let root = try document.rootField.object()
        try VersionedFile.checkHeader(
            root, format: Self.format, supportedVersion: Self.currentVersion, kind: "QA phantom")
        try root.rejectUnknownKeys([
            "format", "version", "name", "description", "phantomTool", "pointerTool", "landmarks", "phases",
            "thresholds",
        ])
        let phantomTool = try Plan.nonEmptyString(root.required("phantomTool"))
        let pointerField = try root.required("pointerTool")
        let pointerTool = try Plan.nonEmptyString(pointerField)
        guard pointerTool != phantomTool else {
            throw pointerField.error(
                "the pointer and the phantom must be different tools (both are \(quoted(phantomTool)))")
        }

        // Landmarks.
        let landmarksField = try root.required("landmarks")
        let landmarkFields = try landmarksField.array()
        var landmarks: [Landmark] = []
        var nameFields: [JSONField] = []
        for f in landmarkFields {
            let o = try f.object()
            try o.rejectUnknownKeys(["name", "positionMM", "role"])
            let nameField = try o.required("name")
            nameFields.append(nameField)
            let roleField = try o.required("role")
            let roleText = try roleField.string()
            guard let role = LandmarkRole(rawValue: roleText) else {
                throw roleField.error("unknown role \(quoted(roleText)) (expected \"registration\" or \"check\")")
            }
            landmarks.append(
                Landmark(
                    name: try Plan.nonEmptyString(nameField), positionMM: try o.required("positionMM").vector3(),
                    role: role))
        }
        try VersionedFile.rejectDuplicates(
            landmarks.map(\.name), fields: nameFields, what: "landmark name", list: "landmarks")
        let registration = landmarks.filter { $0.role == .registration }
        guard registration.count >= 3 else {
            throw landmarksField.error(
                "needs at least 3 landmarks with role \"registration\" (a rigid registration needs 3 points), got \(registration.count)"
            )
        }
        guard landmarks.contains(where: { $0.role == .check }) else {
            throw landmarksField.error(
                "needs at least one landmark with role \"check\": the TRE is measured at check points left out of the registration"
            )
        }
        if let offLine = Self.largestDistanceFromLine(registration.map(\.positionMM)), offLine < 5 {
            throw landmarksField.error(
                "the registration landmarks lie on a line (the farthest is \(Self.decimal(offLine)) mm off it; at least 5 mm is needed): the registration would be undetermined"
            )
        }

        // Phases.
        var phases: [Phase]
        if let phasesField = root.optional("phases") {
            phases = try Self.phases(phasesField, phantomTool: phantomTool)
        } else {
            phases = Self.defaultPhases(phantomTool: phantomTool)
        }
        // Landmarks must be told apart by where the tip rests.
        var landmarkPhase: LandmarkPhase?
        for p in phases { if case .landmarks(let l) = p { landmarkPhase = l } }
        if let radius = landmarkPhase?.captureRadiusMM {
            for i in landmarks.indices {
                for j in landmarks.indices where j > i {
                    let d = landmarks[i].positionMM.distance(to: landmarks[j].positionMM)
                    if d <= 2 * radius {
                        throw nameFields[j].error(
                            "landmarks \(quoted(landmarks[i].name)) and \(quoted(landmarks[j].name)) are \(Self.decimal(d)) mm apart: with captureRadiusMM \(Self.decimal(radius)) a touch could not tell them apart (they must be more than \(Self.decimal(2 * radius)) mm apart)"
                        )
                    }
                }
            }
        }

        return QAPhantom(
            name: try Plan.nonEmptyString(root.required("name")),
            description: try root.optional("description")?.string(),
            phantomTool: phantomTool, pointerTool: pointerTool, landmarks: landmarks, phases: phases,
            thresholds: try Self.thresholds(root.required("thresholds")))
    }

    private static func phases(_ field: JSONField, phantomTool: String) throws(FileFormatError) -> [Phase] {
        let fields = try field.array()
        var phases: [Phase] = []
        var seen: [String: Int] = [:]
        for (i, f) in fields.enumerated() {
            let o = try f.object()
            let typeField = try o.required("type")
            let type = try typeField.string()
            if let previous = seen[type], type != "pause" {
                throw typeField.error(
                    "a second \(quoted(type)) phase (also phases[\(previous)]): the protocol has one of each")
            }
            if let l = seen["landmarks"] {
                throw typeField.error(
                    "the \"landmarks\" phase (phases[\(l)]) must be the last: it lasts until every landmark is captured"
                )
            }
            seen[type] = i
            let instruction = try o.optional("instruction").map { (f) throws(FileFormatError) in
                try Plan.nonEmptyString(f)
            }
            switch type {
            case "pause":
                try o.rejectUnknownKeys(["type", "durationSeconds", "instruction"])
                phases.append(
                    .pause(durationSeconds: try Self.seconds(o.required("durationSeconds")), instruction: instruction))
            case "still":
                try o.rejectUnknownKeys(["type", "durationSeconds", "tool", "pointMM", "instruction"])
                phases.append(
                    .still(
                        StillPhase(
                            durationSeconds: try Self.seconds(o.required("durationSeconds")),
                            tool: try o.optional("tool").map { (f) throws(FileFormatError) in try Plan.nonEmptyString(f)
                            } ?? phantomTool,
                            pointMM: try o.optional("pointMM")?.vector3() ?? .zero, instruction: instruction)))
            case "pivot":
                try o.rejectUnknownKeys(["type", "durationSeconds", "windows", "instruction"])
                let windowsField = try o.required("windows")
                let windows = try windowsField.integer()
                guard (2...20).contains(windows) else {
                    throw windowsField.error(
                        "must be 2 to 20 (the repeatability is the spread between windows), got \(windows)")
                }
                phases.append(
                    .pivot(
                        PivotPhase(
                            durationSeconds: try Self.seconds(o.required("durationSeconds")), windows: windows,
                            instruction: instruction)))
            case "landmarks":
                try o.rejectUnknownKeys([
                    "type", "captureFrames", "stillnessMM", "captureRadiusMM", "timeoutSeconds", "instruction",
                ])
                let framesField = try o.required("captureFrames")
                let frames = try framesField.integer()
                guard (2...1000).contains(frames) else {
                    throw framesField.error("must be 2 to 1000 frames, got \(frames)")
                }
                phases.append(
                    .landmarks(
                        LandmarkPhase(
                            captureFrames: frames, stillnessMM: try Self.positive(o.required("stillnessMM")),
                            captureRadiusMM: try Self.positive(o.required("captureRadiusMM")),
                            timeoutSeconds: try Self.seconds(o.required("timeoutSeconds")), instruction: instruction)))
            default:
                throw typeField.error(
                    "unknown phase type \(quoted(type)) (expected \"pause\", \"still\", \"pivot\" or \"landmarks\")")
            }
        }
        for needed in ["still", "pivot", "landmarks"] where seen[needed] == nil {
            throw field.error(
                "the protocol needs a \(quoted(needed)) phase (phases must include \"still\", \"pivot\" and \"landmarks\", the last one last)"
            )
        }
        return phases
    }

    private static func thresholds(_ field: JSONField) throws(FileFormatError) -> Thresholds {
        let o = try field.object()
        try o.rejectUnknownKeys(Set(Thresholds.keys))
        var v: [String: Double] = [:]
        for key in Thresholds.keys {
            let f = try o.required(key)
            v[key] = try Self.positive(f)
        }
        let fractionField = try o.required("minFrameRateFraction")
        guard v["minFrameRateFraction"]! <= 1 else {
            throw fractionField.error(
                "is a fraction of the nominal frame rate: more than 0 and at most 1, got \(v["minFrameRateFraction"]!)")
        }
        let dropoutField = try o.required("maxDropoutPercent")
        guard v["maxDropoutPercent"]! <= 100 else {
            throw dropoutField.error("is a percentage: at most 100, got \(v["maxDropoutPercent"]!)")
        }
        return Thresholds(
            jitterRMSMM: v["jitterRMSMM"]!, jitterMaxMM: v["jitterMaxMM"]!,
            minFrameRateFraction: v["minFrameRateFraction"]!,
            maxDropoutPercent: v["maxDropoutPercent"]!, pivotRMSMM: v["pivotRMSMM"]!,
            pivotTipSpreadMM: v["pivotTipSpreadMM"]!,
            pivotPointSpreadMM: v["pivotPointSpreadMM"]!, tipCalibrationDeviationMM: v["tipCalibrationDeviationMM"]!,
            freMM: v["freMM"]!,
            treMM: v["treMM"]!, latencyP99MS: v["latencyP99MS"]!)
    }

    private static func positive(_ field: JSONField) throws(FileFormatError) -> Double {
        let x = try field.number()
        guard x > 0 else { throw field.error("must be more than 0, got \(x)") }
        return x
    }

    private static func seconds(_ field: JSONField) throws(FileFormatError) -> Double {
        let x = try Self.positive(field)
        guard x <= 3600 else { throw field.error("must be at most 3600 s, got \(x)") }
        return x
    }

    /// The largest distance of a point from the line through the two points farthest apart; nil
    /// for fewer than 3 points.
    static func largestDistanceFromLine(_ points: [Vector3]) -> Double? {
        guard points.count >= 3 else { return nil }
        var a = points[0]
        var b = points[1]
        var longest = -1.0
        for i in points.indices {
            for j in points.indices where j > i {
                let d = points[i].distance(to: points[j])
                if d > longest { (a, b, longest) = (points[i], points[j], d) }
            }
        }
        guard longest > 0 else { return 0 }
        let u = (b - a) / longest
        var far = 0.0
        for p in points { far = Swift.max(far, (p - a).cross(u).length) }
        return far
    }

    private static func decimal(_ x: Double) -> String {
        let r = (x * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
