import Foundation
import Formats
import Geometry

extension MockScenario {
    /// Reads and validates a scenario file. Files it references (plan, registration, meshes)
    /// are resolved relative to the scenario's directory and read now.
    ///
    /// - Throws: `FileFormatError` naming the file, line, column and JSON path of the problem.
    public static func load(path: String) throws(FileFormatError) -> MockScenario {
        let data = try FileAccess.read(path: path)
        return try Self.parse(data: data, source: path, baseDirectory: (path as NSString).deletingLastPathComponent)
    }

    /// Parses and validates a scenario.
    ///
    /// - Parameters:
    ///   - data: the file's bytes (UTF-8 JSON).
    ///   - source: the file name or path, used in error messages.
    ///   - baseDirectory: where relative paths of referenced files start; by default the
    ///     directory part of `source` (the current directory when it has none).
    /// - Throws: `FileFormatError` for malformed JSON, unknown or missing fields, values out of
    ///   range, unknown tool, target or fiducial names, cyclic `relativeTo` chains, overlapping
    ///   windows and referenced files that cannot be read — each located at the offending field.
    public static func parse(data: Data, source: String, baseDirectory: String? = nil) throws(FileFormatError) -> MockScenario {
        var parser = ScenarioParser(source: source, baseDirectory: baseDirectory ?? (source as NSString).deletingLastPathComponent)
        return try parser.parse(data)
    }
}

/// Turns a scenario document into a `MockScenario`, reading the files it references.
struct ScenarioParser {
    let source: String
    let baseDirectory: String
    private var plan: Plan?
    private var planPath: String?
    private var headToMRI: RigidTransform?
    /// Meshes already read (by resolved path), with their closest-point index and vertex normals.
    private var meshes: [String: (MeshIndex, [Vector3])] = [:]

    /// Tool names that cannot be used because `relativeTo` gives them a meaning.
    static let reservedNames: Set<String> = ["tracker", "mri"]

    init(source: String, baseDirectory: String) {
        self.source = source
        self.baseDirectory = baseDirectory
    }

    private func resolve(_ path: String) -> String {
        if path.hasPrefix("/") || self.baseDirectory.isEmpty { return path }
        return (self.baseDirectory as NSString).appendingPathComponent(path)
    }

    mutating func parse(_ data: Data) throws(FileFormatError) -> MockScenario {
        let document = try JSONDocument.parse(data, source: self.source)
        let root = try document.rootField.object()
        try VersionedFile.checkHeader(root, format: MockScenario.format, supportedVersion: MockScenario.currentVersion, kind: "mock scenario")
        try root.rejectUnknownKeys([
            "format", "version", "description", "frameRateHz", "durationSeconds", "frameCount", "startFrameNumber",
            "plan", "registration", "headToMRI", "tools", "faults",
        ])
        let description = try root.optional("description")?.string()
        let rateField = try root.required("frameRateHz")
        let rate = try rateField.number()
        guard rate > 0, rate <= 100_000 else { throw rateField.error("must be more than 0 and at most 100000 Hz, got \(rate)") }

        let frameCount: Int
        switch (root.optional("durationSeconds"), root.optional("frameCount")) {
        case (let d?, nil):
            let seconds = try d.number()
            guard seconds > 0, seconds * rate <= 1e9 else { throw d.error("must be more than 0 s and at most 10⁹ frames long, got \(seconds)") }
            frameCount = Int((seconds * rate).rounded())
            guard frameCount >= 1 else { throw d.error("\(seconds) s at \(rate) Hz is less than one frame") }
        case (nil, let c?):
            frameCount = try c.integer()
            guard frameCount >= 1, frameCount <= 1_000_000_000 else { throw c.error("must be 1 to 10⁹ frames, got \(frameCount)") }
        case (.some, .some(let c)):
            throw c.error("give either \"durationSeconds\" or \"frameCount\", not both")
        case (nil, nil):
            throw root.field.error("required field is missing: \"durationSeconds\" or \"frameCount\"")
        }
        var startFrameNumber: UInt32 = 0
        if let f = root.optional("startFrameNumber") {
            let n = try f.integer()
            guard n >= 0, n <= Int(UInt32.max) else { throw f.error("must be 0 to 4294967295, got \(n)") }
            startFrameNumber = UInt32(n)
        }

        if let f = root.optional("plan") {
            let path = self.resolve(try Self.nonEmptyString(f))
            do {
                self.plan = try Plan.load(path: path)
            } catch {
                throw f.error("cannot use the referenced plan: \(error.description)")
            }
            self.planPath = path
        }
        switch (root.optional("registration"), root.optional("headToMRI")) {
        case (let r?, nil): self.headToMRI = try self.registration(r)
        case (nil, let h?): self.headToMRI = try self.pose(h, space: nil)
        case (.some, .some(let h)): throw h.error("give either \"registration\" (a file) or \"headToMRI\" (a pose), not both")
        case (nil, nil): break
        }

        let tools = try self.tools(root.required("tools"))
        let faults = try self.faults(root.optional("faults"), frameCount: frameCount)
        return MockScenario(
            source: self.source, description: description, frameRateHz: rate, frameCount: frameCount,
            startFrameNumber: startFrameNumber, tools: tools, faults: faults, headToMRI: self.headToMRI)
    }

    // MARK: Registration

    /// `headToMRI` from a CoilNav registration file, or from any JSON object with a
    /// `headToMRI` 4×4 matrix (such as `Mock/demo/ground-truth.json`).
    private func registration(_ field: JSONField) throws(FileFormatError) -> RigidTransform {
        let path = self.resolve(try Self.nonEmptyString(field))
        do {
            let data = try FileAccess.read(path: path)
            let document = try JSONDocument.parse(data, source: path)
            let root = try document.rootField.object()
            if root.optional("format") != nil {
                return try RegistrationRecord.parse(data, source: path).headToMRI
            }
            return try root.required("headToMRI").rigidTransform()
        } catch {
            throw field.error("cannot use the referenced registration: \(error.description)")
        }
    }

    // MARK: Tools

    private struct PendingTool {
        var tool: MockTool
        var spaceField: JSONField?
    }

    private mutating func tools(_ field: JSONField) throws(FileFormatError) -> [MockTool] {
        let fields = try field.array()
        guard !fields.isEmpty else { throw field.error("a scenario needs at least one tool") }
        // First the identities, so motions can refer to any tool.
        var names: [String] = [], nameFields: [JSONField] = []
        var handles: [Int: Int] = [:]
        var headIndex: Int? = nil
        var objects: [JSONObjectFields] = []
        for (i, f) in fields.enumerated() {
            let o = try f.object()
            try o.rejectUnknownKeys([
                "name", "kind", "portHandle", "setup", "relativeTo", "motion", "noise", "occlusions", "partlyOutOfVolume",
                "disabled", "dropoutProbability",
            ])
            let nameField = try o.required("name")
            let name = try Self.nonEmptyString(nameField)
            guard !Self.reservedNames.contains(name) else {
                throw nameField.error("\(quoted(name)) is reserved for \"relativeTo\"; choose another tool name")
            }
            names.append(name)
            nameFields.append(nameField)
            let handleField = try o.required("portHandle")
            let handle = try handleField.integer()
            guard handle >= 1, handle <= 255 else { throw handleField.error("NDI port handles are 1 to 255, got \(handle)") }
            if let j = handles[handle] { throw handleField.error("port handle \(handle) is already used by tools[\(j)]") }
            handles[handle] = i
            let kind = try self.kind(o.required("kind"))
            if kind == .headReference {
                if let j = headIndex { throw try o.required("kind").error("only one head-reference tool is allowed (tools[\(j)] is one)") }
                headIndex = i
            }
            objects.append(o)
        }
        try VersionedFile.rejectDuplicates(names, fields: nameFields, what: "tool name", list: "tools")

        var pending: [PendingTool] = []
        for (i, o) in objects.enumerated() {
            var space = MockPoseSpace.tracker
            let spaceField = o.optional("relativeTo")
            if let f = spaceField {
                let s = try f.string()
                switch s {
                case "tracker": space = .tracker
                case "mri":
                    guard self.headToMRI != nil else {
                        throw f.error("\"mri\" needs the head-to-MRI registration: add \"registration\" (a file) or \"headToMRI\" (a pose)")
                    }
                    guard headIndex != nil else {
                        throw f.error("\"mri\" poses go through the head reference, but no tool has kind \"head-reference\"")
                    }
                    space = .mri
                default:
                    guard names.contains(s) else {
                        throw f.error("unknown tool \(quoted(s)) (expected \"tracker\", \"mri\" or one of \(names.map { quoted($0) }.joined(separator: ", ")))")
                    }
                    space = .tool(s)
                }
            }
            let kind = try self.kind(o.required("kind"))
            let setup = try self.setup(o.required("setup"))
            let motion = try self.motion(o.required("motion"), space: space)
            var noise = MockNoise.none
            if let n = o.optional("noise") {
                let no = try n.object()
                try no.rejectUnknownKeys(["translationSigmaMM", "rotationSigmaDegrees", "rmsErrorMM"])
                noise = MockNoise(
                    translationSigmaMM: try no.optional("translationSigmaMM")?.nonNegativeNumber() ?? 0,
                    rotationSigmaDegrees: try no.optional("rotationSigmaDegrees")?.nonNegativeNumber() ?? 0,
                    rmsErrorMM: try no.optional("rmsErrorMM")?.nonNegativeNumber() ?? 0)
            }
            var all: [(MockWindow, JSONField, String)] = []
            func windows(_ key: String) throws(FileFormatError) -> [MockWindow] {
                guard let f = o.optional(key) else { return [] }
                var out: [MockWindow] = []
                for wf in try f.array() {
                    let w = try self.window(wf)
                    out.append(w)
                    all.append((w, wf, wf.path))
                }
                return out
            }
            let occlusions = try windows("occlusions")
            let partly = try windows("partlyOutOfVolume")
            let disabled = try windows("disabled")
            all.sort { $0.0.fromSeconds < $1.0.fromSeconds }
            for k in all.indices.dropFirst() where all[k].0.fromSeconds < all[k - 1].0.toSeconds {
                let p = all[k - 1].0
                throw all[k].1.error(
                    "overlaps \(all[k - 1].2) (\(p.fromSeconds)–\(p.toSeconds) s); a tool's occlusion, partly-out-of-volume and disabled windows must not overlap")
            }
            var dropout = 0.0
            if let d = o.optional("dropoutProbability") {
                dropout = try d.number()
                guard dropout >= 0, dropout <= 1 else { throw d.error("a probability is 0 to 1, got \(dropout)") }
            }
            let tool = MockTool(
                name: names[i], kind: kind, handle: UInt8(try o.required("portHandle").integer()), setup: setup, space: space,
                motion: motion, noise: noise, occlusions: occlusions, partlyOutOfVolume: partly, disabled: disabled,
                dropoutProbability: dropout)
            pending.append(PendingTool(tool: tool, spaceField: spaceField))
        }
        // No tool may (indirectly) be posed relative to itself.
        let tools = pending.map(\.tool)
        for (i, p) in pending.enumerated() {
            var seen: Set<Int> = [i]
            var current = i
            while let parent = Self.parentIndex(of: tools[current], in: tools, headIndex: headIndex) {
                if seen.contains(parent) {
                    let chain = tools[i].name
                    throw (p.spaceField ?? objects[i].field).error(
                        "\(quoted(chain)) is posed relative to itself through a cycle of \"relativeTo\" references")
                }
                seen.insert(parent)
                current = parent
            }
        }
        return tools
    }

    /// The tool whose pose a tool's pose is composed with, if any.
    static func parentIndex(of tool: MockTool, in tools: [MockTool], headIndex: Int?) -> Int? {
        switch tool.space {
        case .tracker: return nil
        case .mri: return headIndex
        case .tool(let name): return tools.firstIndex { $0.name == name }
        }
    }

    private func kind(_ field: JSONField) throws(FileFormatError) -> MockToolKind {
        let s = try field.string()
        guard let k = MockToolKind(rawValue: s) else {
            throw field.error("unknown tool kind \(quoted(s)) (expected \(MockToolKind.allCases.map { quoted($0.rawValue) }.joined(separator: ", ")))")
        }
        return k
    }

    private func setup(_ field: JSONField) throws(FileFormatError) -> MockToolSetup {
        let o = try field.object()
        let typeField = try o.required("type")
        switch try typeField.string() {
        case "passive":
            try o.rejectUnknownKeys(["type", "toolDefinition"])
            let f = try o.required("toolDefinition")
            let path = try Self.nonEmptyString(f)
            guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                throw f.error("tool-definition files are named relative to Calibration/, without \"..\"; got \(quoted(path))")
            }
            return .passive(toolDefinition: path)
        case "active":
            try o.rejectUnknownKeys(["type"])
            return .active
        case let other:
            throw typeField.error("unknown setup type \(quoted(other)) (expected \"passive\" or \"active\")")
        }
    }

    private func window(_ field: JSONField) throws(FileFormatError) -> MockWindow {
        let o = try field.object()
        try o.rejectUnknownKeys(["fromSeconds", "toSeconds"])
        let from = try o.required("fromSeconds").nonNegativeNumber()
        let toField = try o.required("toSeconds")
        let to = try toField.number()
        guard to > from else { throw toField.error("must be after fromSeconds (\(from) s), got \(to) s") }
        return MockWindow(fromSeconds: from, toSeconds: to)
    }

    // MARK: Faults

    private func faults(_ field: JSONField?, frameCount: Int) throws(FileFormatError) -> [MockScheduledFault] {
        guard let field else { return [] }
        var out: [MockScheduledFault] = []
        var byFrame: [Int: Int] = [:]
        for (i, f) in try field.array().enumerated() {
            let o = try f.object()
            let frameField = try o.required("frameIndex")
            let k = try frameField.integer()
            guard k >= 0, k < frameCount else { throw frameField.error("must be a frame index of the scenario, 0 to \(frameCount - 1), got \(k)") }
            if let j = byFrame[k] { throw frameField.error("frame \(k) already has a fault (faults[\(j)]); one fault per frame") }
            byFrame[k] = i
            let typeField = try o.required("type")
            let fault: MockFault
            switch try typeField.string() {
            case "corrupt-crc":
                try o.rejectUnknownKeys(["frameIndex", "type"])
                fault = .corruptCRC
            case "stall":
                try o.rejectUnknownKeys(["frameIndex", "type", "durationMS"])
                fault = .stall(try Self.milliseconds(o.required("durationMS")))
            case "disconnect":
                try o.rejectUnknownKeys(["frameIndex", "type", "durationMS"])
                fault = .disconnect(try Self.milliseconds(o.required("durationMS")))
            case let other:
                throw typeField.error("unknown fault type \(quoted(other)) (expected \"corrupt-crc\", \"stall\" or \"disconnect\")")
            }
            out.append(MockScheduledFault(frameIndex: k, fault: fault))
        }
        return out.sorted { $0.frameIndex < $1.frameIndex }
    }

    private static func milliseconds(_ field: JSONField) throws(FileFormatError) -> Duration {
        let ms = try field.number()
        guard ms > 0, ms <= 3_600_000 else { throw field.error("must be more than 0 and at most 3600000 ms (an hour), got \(ms)") }
        return .nanoseconds(Int64((ms * 1_000_000).rounded()))
    }

    // MARK: Poses

    /// A pose: `{"matrix": 4×4}`, `{"q": […], "translationMM": […]}`,
    /// `{"axis": […], "angleDegrees": a, "translationMM": […]}`, or
    /// `{"planTarget": name, "offset": pose}` (MRI space only).
    private func pose(_ field: JSONField, space: MockPoseSpace?) throws(FileFormatError) -> RigidTransform {
        let o = try field.object()
        if let m = o.optional("matrix") {
            try o.rejectUnknownKeys(["matrix"])
            return try m.rigidTransform()
        }
        if let t = o.optional("planTarget") {
            try o.rejectUnknownKeys(["planTarget", "offset"])
            if let space, space != .mri {
                throw t.error("a plan target's coilToMRI is in MRI coordinates: the tool needs \"relativeTo\": \"mri\" (it has \(quoted(space.name)))")
            }
            guard let plan = self.plan else { throw t.error("refers to a plan target, but the scenario names no \"plan\"") }
            let name = try t.string()
            guard let target = plan.target(named: name) else {
                throw t.error("the plan has no target \(quoted(name)) (it has \(plan.targets.map { quoted($0.name) }.joined(separator: ", ")))")
            }
            guard let offsetField = o.optional("offset") else { return target.coilToMRI }
            return target.coilToMRI * (try self.pose(offsetField, space: nil))
        }
        try o.rejectUnknownKeys(["matrix", "q", "axis", "angleDegrees", "translationMM", "planTarget"])
        let rotation = try self.rotation(o)
        let translation = try o.optional("translationMM")?.vector3() ?? .zero
        return RigidTransform(rotation: rotation, translation: translation)
    }

    /// A rotation from `q` (unit quaternion, NDI order) or `axis` + `angleDegrees`; the identity
    /// when neither is given.
    private func rotation(_ o: JSONObjectFields) throws(FileFormatError) -> Matrix3 {
        switch (o.optional("q"), o.optional("axis"), o.optional("angleDegrees")) {
        case (nil, nil, nil):
            return .identity
        case (let qf?, nil, nil):
            let v = try qf.numbers(count: 4)
            let q = Quaternion(q0: v[0], qx: v[1], qy: v[2], qz: v[3])
            guard Swift.abs(q.norm - 1) <= 1e-6 else { throw qf.error("a rotation quaternion must have length 1 (within 1e-6), got \(q.norm)") }
            return q.normalized.rotationMatrix
        case (nil, let af?, let gf?):
            let axis = try af.vector3()
            guard axis.length > 0 else { throw af.error("a rotation axis must not be zero") }
            return rotationMatrix(axis: axis, radians: radians(fromDegrees: try gf.number()))
        case (.some, _, _):
            throw o.field.error("give the rotation either as \"q\" or as \"axis\" and \"angleDegrees\", not both")
        case (nil, nil, .some):
            throw o.field.error("\"angleDegrees\" needs an \"axis\"")
        case (nil, .some, nil):
            throw o.field.error("\"axis\" needs an \"angleDegrees\"")
        }
    }

    /// A rotation object (`q`, or `axis` + `angleDegrees`), without a translation.
    private func orientation(_ field: JSONField?) throws(FileFormatError) -> Matrix3 {
        guard let field else { return .identity }
        let o = try field.object()
        try o.rejectUnknownKeys(["q", "axis", "angleDegrees"])
        return try self.rotation(o)
    }

    // MARK: Motions

    private static let motionTypes = [
        "static", "keyframes", "approach", "pivot", "landmarks", "scalp-sweep", "head-motion", "sequence",
    ]

    private mutating func motion(_ field: JSONField, space: MockPoseSpace, inSequence: Bool = false) throws(FileFormatError) -> MockMotion {
        let o = try field.object()
        let typeField = try o.required("type")
        switch try typeField.string() {
        case "sequence":
            guard !inSequence else { throw typeField.error("a sequence segment cannot itself be a sequence") }
            try o.rejectUnknownKeys(["type", "segments"])
            return MockMotion(.sequence(try self.sequence(o.required("segments"), space: space)))
        case "static":
            try o.rejectUnknownKeys(["type", "pose"])
            return MockMotion(.fixed(try self.pose(o.required("pose"), space: space)))
        case "keyframes":
            try o.rejectUnknownKeys(["type", "keyframes", "easing"])
            return MockMotion(.keyframes(try self.keyframes(o, space: space)))
        case "approach":
            try o.rejectUnknownKeys(["type", "target", "startOffset", "startSeconds", "arrivalSeconds", "easing", "wobble"])
            return MockMotion(.approach(try self.approach(o, space: space)))
        case "pivot":
            try o.rejectUnknownKeys(["type", "pivotMM", "tipMM", "orientation", "swings"])
            return MockMotion(.pivot(try self.pivot(o)))
        case "landmarks":
            try o.rejectUnknownKeys([
                "type", "tipMM", "orientation", "aimAtMM", "points", "startSeconds", "travelSeconds", "dwellSeconds", "liftMM",
                "easing",
            ])
            return MockMotion(.landmarks(try self.landmarks(o, space: space)))
        case "scalp-sweep":
            try o.rejectUnknownKeys([
                "type", "mesh", "tipMM", "orientation", "pointCount", "sampleSeed", "boxMinMM", "boxMaxMM", "startSeconds",
                "travelSeconds", "dwellSeconds", "easing",
            ])
            return MockMotion(.scalpSweep(try self.scalpSweep(o)))
        case "head-motion":
            try o.rejectUnknownKeys(["type", "rest", "nod", "sway"])
            return MockMotion(.headMotion(try self.headMotion(o, space: space)))
        case let other:
            throw typeField.error("unknown motion type \(quoted(other)) (expected \(Self.motionTypes.map { quoted($0) }.joined(separator: ", ")))")
        }
    }

    private mutating func sequence(_ field: JSONField, space: MockPoseSpace) throws(FileFormatError) -> MotionSequence {
        let fields = try field.array()
        guard !fields.isEmpty else { throw field.error("needs at least one segment") }
        var starts: [Double] = [], motions: [MockMotion] = []
        for (k, f) in fields.enumerated() {
            let segment = try f.object()
            try segment.rejectUnknownKeys(["fromSeconds", "motion"])
            let fromField = try segment.required("fromSeconds")
            let from = try fromField.nonNegativeNumber()
            if k == 0, from != 0 { throw fromField.error("the first segment must start at 0 s, got \(from) s") }
            if let last = starts.last, from <= last {
                throw fromField.error("segment starts must increase strictly (previous: \(last) s), got \(from) s")
            }
            starts.append(from)
            motions.append(try self.motion(segment.required("motion"), space: space, inSequence: true))
        }
        return MotionSequence(starts: starts, motions: motions)
    }

    private func easing(_ o: JSONObjectFields, default value: Easing) throws(FileFormatError) -> Easing {
        guard let f = o.optional("easing") else { return value }
        let s = try f.string()
        guard let e = Easing(rawValue: s) else { throw f.error("unknown easing \(quoted(s)) (expected \"linear\" or \"smooth\")") }
        return e
    }

    private func keyframes(_ o: JSONObjectFields, space: MockPoseSpace) throws(FileFormatError) -> Keyframes {
        let list = try o.required("keyframes")
        let fields = try list.array()
        guard !fields.isEmpty else { throw list.error("needs at least one keyframe") }
        var times: [Double] = [], poses: [RigidTransform] = []
        for f in fields {
            let k = try f.object()
            try k.rejectUnknownKeys(["timeSeconds", "pose"])
            let tf = try k.required("timeSeconds")
            let t = try tf.nonNegativeNumber()
            if let last = times.last, t <= last { throw tf.error("keyframe times must increase strictly (previous: \(last) s), got \(t) s") }
            times.append(t)
            poses.append(try self.pose(k.required("pose"), space: space))
        }
        return Keyframes(times: times, poses: poses, easing: try self.easing(o, default: .linear))
    }

    private func approach(_ o: JSONObjectFields, space: MockPoseSpace) throws(FileFormatError) -> Approach {
        let target = try self.pose(o.required("target"), space: space)
        let offset = try self.pose(o.required("startOffset"), space: nil)
        let start = try o.optional("startSeconds")?.nonNegativeNumber() ?? 0
        let arrivalField = try o.required("arrivalSeconds")
        let arrival = try arrivalField.number()
        guard arrival > start else { throw arrivalField.error("must be after startSeconds (\(start) s), got \(arrival) s") }
        var wobble: Approach.Wobble? = nil
        if let wf = o.optional("wobble") {
            let w = try wf.object()
            try w.rejectUnknownKeys(["translationMM", "rotationDegrees", "periodSeconds"])
            wobble = Approach.Wobble(
                translationMM: try w.optional("translationMM")?.nonNegativeNumber() ?? 0,
                rotationRadians: radians(fromDegrees: try w.optional("rotationDegrees")?.nonNegativeNumber() ?? 0),
                periodSeconds: try Self.positive(w.required("periodSeconds")))
        }
        return Approach(
            target: target, startOffset: offset, start: start, arrival: arrival, easing: try self.easing(o, default: .smooth), wobble: wobble)
    }

    private func tip(_ o: JSONObjectFields) throws(FileFormatError) -> Vector3 {
        let f = try o.required("tipMM")
        let tip = try f.vector3()
        guard tip.length > 0 else { throw f.error("the tip must be away from the tool origin (a non-zero offset)") }
        return tip
    }

    private func oscillation(_ o: JSONObjectFields, amplitudeKey: String) throws(FileFormatError) -> Oscillation {
        Oscillation(
            amplitude: radians(fromDegrees: try o.required(amplitudeKey).number()),
            periodSeconds: try Self.positive(o.required("periodSeconds")),
            phaseRadians: radians(fromDegrees: try o.optional("phaseDegrees")?.number() ?? 0))
    }

    private func pivot(_ o: JSONObjectFields) throws(FileFormatError) -> Pivot {
        let swingsField = try o.required("swings")
        let swingFields = try swingsField.array()
        guard (1...3).contains(swingFields.count) else { throw swingsField.error("give 1 to 3 swings, got \(swingFields.count)") }
        var swings: [(axis: Vector3, oscillation: Oscillation)] = []
        for f in swingFields {
            let s = try f.object()
            try s.rejectUnknownKeys(["axis", "amplitudeDegrees", "periodSeconds", "phaseDegrees"])
            let af = try s.required("axis")
            let axis = try af.vector3()
            guard axis.length > 0 else { throw af.error("a rotation axis must not be zero") }
            swings.append((axis.normalized, try self.oscillation(s, amplitudeKey: "amplitudeDegrees")))
        }
        return Pivot(pivot: try o.required("pivotMM").vector3(), tip: try self.tip(o), base: try self.orientation(o.optional("orientation")), swings: swings)
    }

    private func landmarks(_ o: JSONObjectFields, space: MockPoseSpace) throws(FileFormatError) -> Landmarks {
        let tip = try self.tip(o)
        let base = try self.orientation(o.optional("orientation"))
        let pointsField = try o.required("points")
        let pointFields = try pointsField.array()
        guard !pointFields.isEmpty else { throw pointsField.error("needs at least one point") }
        var labels: [String] = [], points: [Vector3] = [], rotations: [Matrix3] = []
        let aim = try o.optional("aimAtMM")?.vector3()
        for f in pointFields {
            let p = try f.object()
            if let pf = p.optional("planFiducial") {
                try p.rejectUnknownKeys(["planFiducial"])
                guard space == .mri else {
                    throw pf.error("plan fiducials are in MRI coordinates: the tool needs \"relativeTo\": \"mri\" (it has \(quoted(space.name)))")
                }
                guard let plan = self.plan else { throw pf.error("refers to a plan fiducial, but the scenario names no \"plan\"") }
                let label = try pf.string()
                guard let fid = plan.fiducials.first(where: { $0.label == label }) else {
                    throw pf.error("the plan has no fiducial \(quoted(label)) (it has \(plan.fiducials.map { quoted($0.label) }.joined(separator: ", ")))")
                }
                labels.append(label)
                points.append(fid.position)
            } else {
                try p.rejectUnknownKeys(["label", "positionMM", "planFiducial"])
                labels.append(try Self.nonEmptyString(p.required("label")))
                points.append(try p.required("positionMM").vector3())
            }
            var r = base
            if let aim {
                let toward = aim - points[points.count - 1]
                guard toward.length > 0 else { throw f.error("the point is at aimAtMM, so the pointer has no direction to aim in") }
                r = minimalRotation(from: (base * tip).normalized, to: toward.normalized) * base
            }
            rotations.append(r)
        }
        return Landmarks(
            tip: tip, labels: labels, points: points, rotations: rotations,
            start: try o.optional("startSeconds")?.nonNegativeNumber() ?? 0,
            travel: try Self.positive(o.required("travelSeconds")),
            dwell: try Self.positive(o.required("dwellSeconds")),
            lift: try o.optional("liftMM")?.nonNegativeNumber() ?? 20,
            easing: try self.easing(o, default: .smooth))
    }

    private mutating func scalpSweep(_ o: JSONObjectFields) throws(FileFormatError) -> ScalpSweep {
        let tip = try self.tip(o)
        let base = try self.orientation(o.optional("orientation"))
        // The mesh: given here, or the plan's scalp.
        let meshPath: String
        let meshField: JSONField
        if let f = o.optional("mesh") {
            meshPath = self.resolve(try Self.nonEmptyString(f))
            meshField = f
        } else {
            guard let plan = self.plan, let planPath = self.planPath, let p = plan.resolvedScalpMeshPath(planPath: planPath) else {
                throw o.field.error("required field is missing: \"mesh\" (the scenario's plan names no scalp mesh to default to)")
            }
            meshPath = p
            meshField = o.field
        }
        let (index, normals) = try self.mesh(meshPath, field: meshField)
        let countField = try o.required("pointCount")
        let count = try countField.integer()
        guard count >= 1, count <= 100_000 else { throw countField.error("must be 1 to 100000, got \(count)") }
        var seed: UInt64 = 1
        if let sf = o.optional("sampleSeed") {
            let s = try sf.integer()
            guard s >= 0 else { throw sf.error("must not be negative, got \(s)") }
            seed = UInt64(s)
        }
        let lo = try o.optional("boxMinMM")?.vector3() ?? Vector3(repeating: -.infinity)
        let hi = try o.optional("boxMaxMM")?.vector3() ?? Vector3(repeating: .infinity)
        var rng = SplitMix64(seed: seed)
        let sampled = index.mesh.randomSurfacePoints(count: count, using: &rng) { c in
            c.x >= lo.x && c.y >= lo.y && c.z >= lo.z && c.x <= hi.x && c.y <= hi.y && c.z <= hi.z
        }
        guard !sampled.isEmpty else {
            throw (o.optional("boxMinMM") ?? o.optional("boxMaxMM") ?? o.field).error("no triangle of the mesh has its centre inside the box")
        }
        return ScalpSweep(
            tip: tip, base: base, index: index, vertexNormals: normals, points: Self.nearestNeighbourTour(sampled),
            start: try o.optional("startSeconds")?.nonNegativeNumber() ?? 0,
            travel: try Self.positive(o.required("travelSeconds")),
            dwell: try o.optional("dwellSeconds")?.nonNegativeNumber() ?? 0,
            easing: try self.easing(o, default: .smooth))
    }

    private mutating func mesh(_ path: String, field: JSONField) throws(FileFormatError) -> (MeshIndex, [Vector3]) {
        if let m = self.meshes[path] { return m }
        do throws(FileFormatError) {
            let mesh = try MeshFile.read(path: path)
            let index: MeshIndex
            do {
                index = try MeshIndex(mesh: mesh)
            } catch {
                throw FileFormatError(file: path, message: error.description)
            }
            let entry = (index, mesh.vertexNormals())
            self.meshes[path] = entry
            return entry
        } catch {
            throw field.error("cannot use the mesh: \(error.description)")
        }
    }

    /// Orders points into a short tour: start at the first, always go to the nearest point not
    /// yet visited (ties to the lower index).
    static func nearestNeighbourTour(_ points: [Vector3]) -> [Vector3] {
        guard points.count > 2 else { return points }
        var remaining = Array(points.indices.dropFirst())
        var tour = [points[0]]
        var current = points[0]
        while !remaining.isEmpty {
            var best = 0
            var bestD = Double.infinity
            for (k, i) in remaining.enumerated() {
                let d = (points[i] - current).lengthSquared
                if d < bestD {
                    bestD = d
                    best = k
                }
            }
            current = points[remaining.remove(at: best)]
            tour.append(current)
        }
        return tour
    }

    private func headMotion(_ o: JSONObjectFields, space: MockPoseSpace) throws(FileFormatError) -> HeadMotion {
        var motion = HeadMotion(
            rest: try self.pose(o.required("rest"), space: space), nodAxis: Vector3(1, 0, 0), nodPivot: .zero, nod: nil,
            swayAmplitude: .zero, sway: nil)
        if let nf = o.optional("nod") {
            let n = try nf.object()
            try n.rejectUnknownKeys(["axis", "pivotMM", "amplitudeDegrees", "periodSeconds", "phaseDegrees"])
            let af = try n.required("axis")
            let axis = try af.vector3()
            guard axis.length > 0 else { throw af.error("a rotation axis must not be zero") }
            motion.nodAxis = axis.normalized
            motion.nodPivot = try n.required("pivotMM").vector3()
            motion.nod = try self.oscillation(n, amplitudeKey: "amplitudeDegrees")
        }
        if let sf = o.optional("sway") {
            let s = try sf.object()
            try s.rejectUnknownKeys(["amplitudeMM", "periodSeconds", "phaseDegrees"])
            motion.swayAmplitude = try s.required("amplitudeMM").vector3()
            motion.sway = Oscillation(
                amplitude: 1, periodSeconds: try Self.positive(s.required("periodSeconds")),
                phaseRadians: radians(fromDegrees: try s.optional("phaseDegrees")?.number() ?? 0))
        }
        return motion
    }

    // MARK: Small checks

    private static func positive(_ field: JSONField) throws(FileFormatError) -> Double {
        let x = try field.number()
        guard x > 0 else { throw field.error("must be more than 0, got \(x)") }
        return x
    }

    private static func nonEmptyString(_ field: JSONField) throws(FileFormatError) -> String {
        let s = try field.string()
        guard !s.trimmingCharacters(in: .whitespaces).isEmpty else { throw field.error("must not be empty") }
        return s
    }
}
