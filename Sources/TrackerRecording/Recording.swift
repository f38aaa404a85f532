import Foundation
import Formats
import Geometry
import NDITracker
import TrackerCore

/// A recording read back whole (`coilnav-recording` v1): the header, every record in file order,
/// the end summary when the recorder finished, and what the reader tolerated.
///
/// Strict: every line must be one of the record types with exactly its fields; times
/// (`atNanoseconds`) never go back; the end record, if any, is last and counts the frames in the
/// file. Errors name the file, the line (and column) and the field. Tolerated, with a warning: a
/// last line without its `\n` (the recorder was killed while writing it; the line is not read),
/// and a missing end record (the recorder did not finish). An empty file, a file with only a
/// header, or one whose header is not a `coilnav-recording` header is an error.
public struct Recording: Sendable {
    /// The file name used in messages.
    public var source: String
    public var header: RecordingHeader
    /// Events and losses in file order (the end record is `summary`).
    public var records: [RecordingRecord]
    /// The end record; nil when the recorder did not finish.
    public var summary: RecordingSummary?
    /// What the reader tolerated, as messages naming the file and line.
    public var warnings: [String]
    /// Frames in the file.
    public var frameCount: Int

    /// The frames in file order.
    public var frames: [TrackerFrame] {
        self.records.compactMap { if case .event(.frame(let f), _) = $0 { f } else { nil } }
    }

    /// Reads and checks a whole recording.
    public static func read(path: String) throws(FileFormatError) -> Recording {
        try Self.parse(try FileAccess.read(path: path), source: path)
    }

    /// Parses a whole recording; `source` names it in messages.
    public static func parse(_ data: Data, source: String) throws(FileFormatError) -> Recording {
        let bytes = [UInt8](data)
        guard !bytes.isEmpty else {
            throw FileFormatError(file: source, message: "the recording is empty (no header line): the recorder did not start writing")
        }
        var lines: [Range<Int>] = []
        var start = 0
        var k = 0
        while k < bytes.count {
            if bytes[k] == 0x0A {
                lines.append(start..<k)
                start = k + 1
            }
            k += 1
        }
        var warnings: [String] = []
        if start < bytes.count {
            let torn = FileFormatError(
                file: source, location: .line(lines.count + 1, column: nil),
                message: "the last line is incomplete (\(bytes.count - start) bytes without a final newline; the recorder was stopped while writing it?); it was not read")
            guard !lines.isEmpty else {
                throw FileFormatError(
                    file: source, location: .line(1, column: nil),
                    message: "the header line is incomplete (\(bytes.count - start) bytes without a final newline): the recorder was stopped while writing it")
            }
            warnings.append(torn.description)
        }
        let header = try RecordingDecoder.header(Data(bytes[lines[0]]), source: source)
        guard lines.count > 1 else {
            throw FileFormatError(
                file: source, location: .line(2, column: nil),
                message: "the recording has a header but no events: nothing was recorded (did the tracker ever answer?)")
        }
        var records: [RecordingRecord] = []
        records.reserveCapacity(lines.count - 1)
        var summary: RecordingSummary?
        var frames = 0
        var lastAt: UInt64 = 0
        for i in 1..<lines.count {
            let lineNumber = i + 1
            if summary != nil {
                throw FileFormatError(
                    file: source, location: .line(lineNumber, column: nil),
                    message: "a line after the end record (the end record must be the last line)")
            }
            if lines[i].isEmpty {
                throw FileFormatError(
                    file: source, location: .line(lineNumber, column: nil), message: "an empty line (every line holds one record)")
            }
            let line = Data(bytes[lines[i]])
            let record = try RecordingDecoder.record(line, source: source, line: lineNumber)
            let at = record.atNanoseconds
            if at < lastAt {
                throw FileFormatError(
                    file: source, location: .line(lineNumber, column: RecordingDecoder.atColumn(line, source: source)),
                    field: "atNanoseconds", message: "time goes back: \(at) follows \(lastAt)")
            }
            lastAt = at
            switch record {
            case .end(let s):
                if s.frames != frames {
                    throw FileFormatError(
                        file: source, location: .line(lineNumber, column: nil), field: "frames",
                        message: "the end record counts \(s.frames) frames, but the file holds \(frames)")
                }
                summary = s
            case .event(.frame, _):
                frames += 1
                records.append(record)
            default:
                records.append(record)
            }
        }
        if summary == nil {
            warnings.append(
                "\(source): no end record: the recording was not finished (the recorder was killed?); its \(frames) frames are read")
        }
        return Recording(source: source, header: header, records: records, summary: summary, warnings: warnings, frameCount: frames)
    }
}

/// Decodes single lines; errors are relocated to the line's number in the file.
enum RecordingDecoder {
    static func header(_ line: Data, source: String) throws(FileFormatError) -> RecordingHeader {
        try Self.relocated(line: 1) { () throws(FileFormatError) -> RecordingHeader in
            let document = try JSONDocument.parse(line, source: source)
            let root = try document.rootField.object()
            try VersionedFile.checkHeader(root, format: RecordingHeader.format, supportedVersion: RecordingHeader.currentVersion, kind: "recording")
            try root.rejectUnknownKeys([
                "format", "version", "tracker", "deviceProfile", "frameRateHz", "tools", "startedAt", "unixAtStartNanoseconds", "clock",
                "clockAtStartNanoseconds",
            ])
            let rateField = try root.required("frameRateHz")
            let rate = try rateField.number()
            guard rate > 0 else { throw rateField.error("must be above 0, got \(rate)") }
            var tools: [RecordedTool] = []
            let toolFields = try root.required("tools").array()
            for f in toolFields {
                let o = try f.object()
                try o.rejectUnknownKeys(["name", "kind", "setup", "toolDefinition", "priority"])
                let name = try Self.nonEmpty(o.required("name"))
                let setupField = try o.required("setup")
                let setup = try setupField.string()
                guard setup == "passive" || setup == "active" else {
                    throw setupField.error("expected \"passive\" or \"active\", got \(Self.quote(setup))")
                }
                let priorityField = try o.required("priority")
                let priority = try priorityField.string()
                guard ["D", "S", "B"].contains(priority) else {
                    throw priorityField.error("expected \"D\", \"S\" or \"B\", got \(Self.quote(priority))")
                }
                tools.append(
                    RecordedTool(
                        name: name, kind: try o.required("kind").string(), setup: setup,
                        toolDefinition: try o.optional("toolDefinition")?.string(), priority: priority))
            }
            try VersionedFile.rejectDuplicates(tools.map(\.name), fields: toolFields, what: "tool name", list: "tools")
            return RecordingHeader(
                tracker: try Self.nonEmpty(root.required("tracker")),
                deviceProfile: try root.optional("deviceProfile")?.string(),
                frameRateHz: rate, tools: tools,
                startedAt: try VersionedFile.timestamp(root.required("startedAt")),
                unixAtStartNanoseconds: try root.required("unixAtStartNanoseconds").exactSigned(),
                clock: try Self.nonEmpty(root.required("clock")),
                clockAtStartNanoseconds: try root.required("clockAtStartNanoseconds").exactUnsigned())
        }
    }

    /// The column of a (valid) record line's `atNanoseconds` value, for the time-order error.
    static func atColumn(_ line: Data, source: String) -> Int? {
        guard let document = try? JSONDocument.parse(line, source: source), let root = try? document.rootField.object(),
            let at = root.optional("atNanoseconds")
        else { return nil }
        return document.error(at: at.value, path: "", "").column
    }

    /// A record line.
    static func record(_ line: Data, source: String, line number: Int) throws(FileFormatError) -> RecordingRecord {
        try Self.relocated(line: number) { () throws(FileFormatError) -> RecordingRecord in
            let document = try JSONDocument.parse(line, source: source)
            let root = try document.rootField.object()
            let typeField = try root.required("type")
            let type = try typeField.string()
            let atField = try root.required("atNanoseconds")
            let at = try atField.exactUnsigned()
            switch type {
            case "frame":
                try root.rejectUnknownKeys(["type", "atNanoseconds", "frame", "hostReceiveNanoseconds", "systemStatus", "tools"])
                var samples: [ToolSample] = []
                for f in try root.required("tools").array() { samples.append(try Self.sample(f)) }
                let frame = TrackerFrame(
                    deviceFrameNumber: UInt32(try root.required("frame").exactUnsigned(max: UInt64(UInt32.max))),
                    hostReceiveNanoseconds: try root.required("hostReceiveNanoseconds").exactUnsigned(),
                    tools: samples,
                    systemStatus: UInt16(try root.required("systemStatus").exactUnsigned(max: UInt64(UInt16.max))))
                return .event(.frame(frame), atNanoseconds: at)
            case "state":
                let stateField = try root.required("state")
                let name = try stateField.string()
                let state: TrackerState
                switch name {
                case "connecting", "setting-up", "tracking", "stopped":
                    try root.rejectUnknownKeys(["type", "atNanoseconds", "state"])
                    state = name == "connecting" ? .connecting : name == "setting-up" ? .settingUp : name == "tracking" ? .tracking : .stopped
                case "disconnected":
                    try root.rejectUnknownKeys(["type", "atNanoseconds", "state", "reason"])
                    state = .disconnected(reason: try root.required("reason").string())
                case "reconnecting":
                    try root.rejectUnknownKeys(["type", "atNanoseconds", "state", "attempt", "delayNanoseconds"])
                    let attemptField = try root.required("attempt")
                    let attempt = try attemptField.integer()
                    guard attempt >= 1 else { throw attemptField.error("must be at least 1, got \(attempt)") }
                    let delay = try root.required("delayNanoseconds").exactUnsigned(max: UInt64(Int64.max))
                    state = .reconnecting(attempt: attempt, delay: .nanoseconds(Int64(delay)))
                default:
                    throw stateField.error(
                        "expected one of \"connecting\", \"setting-up\", \"tracking\", \"disconnected\", \"reconnecting\", \"stopped\", got \(Self.quote(name))")
                }
                return .event(.state(state), atNanoseconds: at)
            case "warning":
                try root.rejectUnknownKeys(["type", "atNanoseconds", "message"])
                return .event(.warning(try root.required("message").string()), atNanoseconds: at)
            case "lost":
                try root.rejectUnknownKeys(["type", "atNanoseconds", "untilNanoseconds", "frames", "otherEvents"])
                let untilField = try root.required("untilNanoseconds")
                let until = try untilField.exactUnsigned()
                guard until >= at else { throw untilField.error("must not be before atNanoseconds (\(at)), got \(until)") }
                let loss = RecordingLoss(
                    fromNanoseconds: at, untilNanoseconds: until, frames: try Self.count(root.required("frames")),
                    otherEvents: try Self.count(root.required("otherEvents")))
                return .lost(loss)
            case "end":
                try root.rejectUnknownKeys(["type", "atNanoseconds", "frames", "lostFrames", "lostOtherEvents", "skippedDeviceFrames"])
                let summary = RecordingSummary(
                    atNanoseconds: at, frames: try Self.count(root.required("frames")),
                    lostFrames: try Self.count(root.required("lostFrames")),
                    lostOtherEvents: try Self.count(root.required("lostOtherEvents")),
                    skippedDeviceFrames: try Self.count(root.required("skippedDeviceFrames")))
                return .end(summary)
            default:
                throw typeField.error(
                    "unknown record type \(Self.quote(type)) (expected \"frame\", \"state\", \"warning\", \"lost\" or \"end\")")
            }
        }
    }

    static func sample(_ field: JSONField) throws(FileFormatError) -> ToolSample {
        let o = try field.object()
        try o.rejectUnknownKeys(["name", "handle", "status", "portStatus", "rotation", "translationMM", "rmsMM"])
        let statusField = try o.required("status")
        let statusText = try statusField.string()
        guard let status = ToolStatus(rawValue: statusText) else {
            throw statusField.error(
                "expected one of \"ok\", \"missing\", \"partly-out-of-volume\", \"disabled\", got \(Self.quote(statusText))")
        }
        var pose: RigidTransform?
        let rotationField = o.optional("rotation"), translationField = o.optional("translationMM")
        if status.hasPose {
            let rf = try o.required("rotation"), tf = try o.required("translationMM")
            let r = try Self.numbers(rf, count: 9)
            let t = try Self.numbers(tf, count: 3)
            let rotation = Matrix3(rowMajor: r)
            if rotation.isFinite {
                let e = rotation.orthogonalityError
                guard e <= 1e-6 else { throw rf.error("not a rotation: the rows are not orthonormal (error \(e))") }
                guard rotation.determinant > 0 else { throw rf.error("not a rotation: a reflection (determinant \(rotation.determinant))") }
            }
            pose = RigidTransform(rotation: rotation, translation: Vector3(t[0], t[1], t[2]))
        } else if let extra = rotationField ?? translationField {
            throw extra.error("a tool with status \(statusText) carries no pose")
        }
        let rms: Double? = try o.optional("rmsMM").map { f throws(FileFormatError) in try Self.double(f) }
        return ToolSample(
            name: try Self.nonEmpty(o.required("name")),
            handle: UInt8(try o.required("handle").exactUnsigned(max: 255)),
            status: status, toolToTracker: pose, rmsErrorMM: rms,
            portStatus: UInt32(try o.required("portStatus").exactUnsigned(max: UInt64(UInt32.max))))
    }

    /// A number, or one of the strings the writer uses for non-finite values.
    static func double(_ field: JSONField) throws(FileFormatError) -> Double {
        if case .string(let s) = field.value.kind {
            switch s {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default: throw field.error("expected a number (or \"NaN\", \"Infinity\", \"-Infinity\"), got \(field.value.summary)")
            }
        }
        guard case .number(let x) = field.value.kind else {
            throw field.error("expected a number (or \"NaN\", \"Infinity\", \"-Infinity\"), got \(field.value.summary)")
        }
        return x
    }

    static func numbers(_ field: JSONField, count: Int) throws(FileFormatError) -> [Double] {
        let elements = try field.array()
        guard elements.count == count else {
            throw field.error("expected an array of \(count) numbers, got \(elements.count) element\(elements.count == 1 ? "" : "s")")
        }
        var out: [Double] = []
        out.reserveCapacity(count)
        for e in elements { out.append(try Self.double(e)) }
        return out
    }

    static func count(_ field: JSONField) throws(FileFormatError) -> Int {
        Int(try field.exactUnsigned(max: UInt64(Int.max)))
    }

    static func nonEmpty(_ field: JSONField) throws(FileFormatError) -> String {
        let s = try field.string()
        guard !s.isEmpty else { throw field.error("must not be empty") }
        return s
    }

    static func quote(_ s: String) -> String { RecordingLines.quoted(s.count > 40 ? String(s.prefix(40)) + "…" : s) }

    /// Runs `body` (which parses one line as a document of its own) and moves its errors to `line`.
    static func relocated<T>(line: Int, _ body: () throws(FileFormatError) -> T) throws(FileFormatError) -> T {
        do {
            return try body()
        } catch {
            var e = error
            // Each line is parsed as a document of its own: its end is the line's end.
            if e.message.hasPrefix("the file ends") { e.message = "the line ends" + e.message.dropFirst("the file ends".count) }
            if e.message.hasPrefix("the file is empty") { e.message = "the line is empty" + e.message.dropFirst("the file is empty".count) }
            switch e.location {
            case .line(_, let column): e.location = .line(line, column: column)
            case .none, .byteOffset: e.location = .line(line, column: nil)
            }
            throw e
        }
    }
}
