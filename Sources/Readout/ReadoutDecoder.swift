import Formats

/// A server line the readout could not read; the message names the field and column.
public struct ReadoutDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}

/// Decodes the navigation server's JSON-lines output into `ReadoutMessage`s, strictly for the keys
/// the readout uses (a frame without `valid`, or with a string where a number belongs, is an error
/// naming the field) and ignoring every other key.
public enum ReadoutDecoder {
    /// The ids the readout gives its own requests; the responses to them are decoded by id.
    public static let helloID = "hello"
    public static let statusID = "status"
    public static let subscribeID = "subscribe"

    /// Decodes one line (without its `\n`).
    public static func decode(_ line: [UInt8]) throws(ReadoutDecodeError) -> ReadoutMessage {
        do {
            let document = try JSONDocument.parse(bytes: line, source: "server line")
            return try Self.decode(document.rootField)
        } catch {
            throw ReadoutDecodeError(error.description)
        }
    }

    /// Decodes one line given as text.
    public static func decode(_ line: String) throws(ReadoutDecodeError) -> ReadoutMessage {
        try Self.decode(Array(line.utf8))
    }

    private static func decode(_ root: JSONField) throws(FileFormatError) -> ReadoutMessage {
        let o = try root.object()
        switch try o.required("type").string() {
        case "frame": return .frame(try Self.frame(o))
        case "event": return .event(try Self.event(o))
        case "response": return try Self.response(o)
        default: return .ignored
        }
    }

    private static func frame(_ o: JSONObjectFields) throws(FileFormatError) -> ReadoutFrame {
        var reasons: [String] = []
        for r in try o.required("reasons").array() { reasons.append(try r.string()) }
        let onTarget = try o.required("onTarget").object()
        return ReadoutFrame(
            frame: try o.required("frame").integer(),
            valid: try o.required("valid").bool(),
            reasons: reasons,
            target: try o.optional("target")?.string(),
            coilStatus: try o.optional("coilStatus")?.string(),
            headStatus: try o.optional("headStatus")?.string(),
            pointerStatus: try o.optional("pointerStatus")?.string(),
            metrics: try o.optional("metrics").map { (m) throws(FileFormatError) in try Self.metrics(m.object()) },
            onTarget: ReadoutOnTarget(
                state: try onTarget.required("state").string(), on: try onTarget.required("on").bool(),
                dwellMs: try onTarget.required("dwellMs").number()))
    }

    private static func metrics(_ m: JSONObjectFields) throws(FileFormatError) -> ReadoutMetrics {
        let offset = try m.required("offsetMM").numbers(count: 3)
        func point(_ key: String) throws(FileFormatError) -> ReadoutPlanePoint? {
            guard let f = m.optional(key) else { return nil }
            let p = try f.object()
            return ReadoutPlanePoint(x: try p.required("x").number(), y: try p.required("y").number(), mm: try p.required("mm").number())
        }
        // Not-finite values are written as null; the readout shows them as missing.
        return ReadoutMetrics(
            distanceMM: try m.optional("distanceMM")?.number() ?? .nan,
            offsetMM: (offset[0], offset[1], offset[2]),
            depthMM: try m.optional("depthMM")?.number() ?? .nan,
            inPlaneAtCoil: try point("inPlaneAtCoil"),
            inPlaneAtCortex: try point("inPlaneAtCortex"),
            tiltDegrees: try m.optional("tiltDegrees")?.number() ?? .nan,
            tiltAboutTargetXDegrees: try m.optional("tiltAboutTargetXDegrees")?.number() ?? .nan,
            tiltAboutTargetYDegrees: try m.optional("tiltAboutTargetYDegrees")?.number() ?? .nan,
            twistDegrees: try m.optional("twistDegrees")?.number())
    }

    private static func event(_ o: JSONObjectFields) throws(FileFormatError) -> ReadoutEvent {
        switch try o.required("event").string() {
        case "tracking-lost":
            return .trackingLost(lastFrame: try o.optional("lastFrame")?.integer(), silenceMs: try o.required("silenceMs").number())
        case "tracking-restored":
            return .trackingRestored(frame: try o.required("frame").integer())
        case "validity-changed":
            var reasons: [String] = []
            for r in try o.required("reasons").array() { reasons.append(try r.string()) }
            return .validityChanged(frame: try o.required("frame").integer(), valid: try o.required("valid").bool(), reasons: reasons)
        case "target-changed":
            return .targetChanged(try o.optional("target")?.string())
        case "registration-changed":
            return .registrationChanged(registered: try o.required("registered").bool())
        case "on-target":
            return .onTarget(frame: try o.required("frame").integer(), dwellMs: try o.required("dwellMs").number())
        case "off-target":
            return .offTarget(frame: try o.required("frame").integer())
        case "pulse-recorded":
            return .pulseRecorded(index: try o.required("index").integer())
        case "tracker-state":
            return .trackerState(try o.required("state").string())
        case "warning":
            return .warning(try o.required("text").string())
        case let name:
            return .other(name)
        }
    }

    private static func response(_ o: JSONObjectFields) throws(FileFormatError) -> ReadoutMessage {
        var id: String?
        if let f = o.optional("id") {
            if case .number(let x) = f.value.kind { id = x == x.rounded() ? String(Int(x)) : String(x) } else { id = try f.string() }
        }
        if try o.required("ok").bool() == false {
            let e = try o.required("error").object()
            if let message = e.optional("message") { return .response(id: id, error: try message.string()) }
            return .response(id: id, error: try e.required("code").string())
        }
        switch id {
        case Self.helloID?:
            var tools: [String] = []
            for t in try o.optional("tools")?.array() ?? [] { tools.append(try t.string()) }
            return .hello(
                ReadoutHello(
                    server: try o.optional("server")?.string() ?? "?", protocolVersion: try o.required("protocol").integer(),
                    frameRateHz: try o.optional("frameRateHz")?.number(), tools: tools,
                    registered: try o.optional("registered")?.bool() ?? false))
        case Self.statusID?:
            return .status(
                ReadoutStatus(
                    tracker: try o.required("tracker").string(), lastFrame: try o.optional("lastFrame")?.integer(),
                    registered: try o.required("registered").bool(), target: try o.optional("target")?.string(),
                    freMM: try o.optional("freMM")?.number(), predictedTREMM: try o.optional("predictedTREMM")?.number(),
                    fleMM: try o.optional("fleMM")?.number(), frameRateHz: try o.optional("frameRateHz")?.number(),
                    framesReceived: try o.optional("framesReceived")?.integer() ?? 0,
                    framesDropped: try o.optional("framesDropped")?.integer() ?? 0))
        default:
            return .response(id: id, error: nil)
        }
    }
}

/// The request lines the readout sends (each with its `\n`). None of them needs the session token:
/// reading and streaming are open to any client.
public enum ReadoutRequests {
    public static let hello = #"{"id":"hello","cmd":"hello"}"# + "\n"
    public static let status = #"{"id":"status","cmd":"status"}"# + "\n"

    /// Frames and events, at most `maxRateHz` frames a second (0: every frame).
    public static func subscribe(maxRateHz: Double) -> String {
        let rate = maxRateHz == maxRateHz.rounded() && Swift.abs(maxRateHz) < 1e15 ? String(Int(maxRateHz)) : String(maxRateHz)
        return #"{"id":"subscribe","cmd":"subscribe","frames":true,"events":true,"maxRateHz":"# + rate + "}\n"
    }
}
