import Geometry
import Navigation
import TrackerCore

/// Writes the server's lines (frames, events, responses) as UTF-8 bytes appended to a caller's
/// buffer, each a single JSON object followed by `\n`. Keys come in a fixed order; numbers with a
/// fraction are Swift's shortest round-trip text (`0.1`, `-0.0`, `1e-05`), whole counters and
/// nanoseconds are integers, and a NaN or infinity is written as `null` (never emitted as a number).
///
/// The server encodes each frame once and hands the same bytes to every subscriber. Nothing here
/// builds intermediate strings; reserve capacity in the buffer to avoid regrowth.
public enum JSONLEncoder {
    /// The protocol version `hello` reports.
    public static let protocolVersion = 1

    /// A comfortable capacity for one frame line.
    public static let typicalFrameLineBytes = 1024

    // MARK: Frames

    /// Appends a `frame` line for `output`.
    ///
    /// `targetName` is the active target's name; `pointerTipMRI` the pointer's tip in MRI
    /// coordinates and `pointerStatus` its tool status, when the session tracks a pointer. Poses are
    /// `{"q":[q0,qx,qy,qz],"t":[x,y,z]}` (unit quaternion, scalar first as NDI writes it, q0 ≥ 0;
    /// translation mm). Absent values are `null`; every key is always present.
    public static func appendFrame(
        _ output: NavigationOutput, targetName: String?, pointerTipMRI: Vector3?, pointerStatus: ToolStatus?,
        into out: inout [UInt8]
    ) {
        JSONLBytes.raw("{\"type\":\"frame\",\"frame\":", into: &out)
        JSONLBytes.unsigned(UInt64(output.deviceFrameNumber), into: &out)
        JSONLBytes.raw(",\"hostTimeNanoseconds\":", into: &out)
        JSONLBytes.unsigned(output.hostReceiveNanoseconds, into: &out)
        JSONLBytes.raw(",\"ageNanoseconds\":", into: &out)
        JSONLBytes.unsigned(output.ageNanoseconds, into: &out)
        JSONLBytes.raw(",\"valid\":", into: &out)
        JSONLBytes.bool(output.isValid, into: &out)
        JSONLBytes.raw(",\"reasons\":", into: &out)
        Self.appendReasons(output.invalidity, into: &out)
        JSONLBytes.raw(",\"target\":", into: &out)
        JSONLBytes.string(targetName, into: &out)
        JSONLBytes.raw(",\"coilStatus\":", into: &out)
        Self.appendStatus(output.coilStatus, into: &out)
        JSONLBytes.raw(",\"headStatus\":", into: &out)
        Self.appendStatus(output.headStatus, into: &out)
        JSONLBytes.raw(",\"pointerStatus\":", into: &out)
        Self.appendStatus(pointerStatus, into: &out)
        JSONLBytes.raw(",\"coilToMRI\":", into: &out)
        Self.appendPose(output.coilToMRI, into: &out)
        JSONLBytes.raw(",\"coilToTarget\":", into: &out)
        Self.appendPose(output.error?.coilToTarget, into: &out)
        JSONLBytes.raw(",\"pointerTipMRI\":", into: &out)
        if let p = pointerTipMRI { JSONLBytes.vector(p, into: &out) } else { JSONLBytes.raw("null", into: &out) }
        JSONLBytes.raw(",\"metrics\":", into: &out)
        if let e = output.error { Self.appendMetrics(e, into: &out) } else { JSONLBytes.raw("null", into: &out) }
        JSONLBytes.raw(",\"onTarget\":{\"state\":", into: &out)
        switch output.onTarget.state {
        case .off: JSONLBytes.raw("\"off\"", into: &out)
        case .acquiring: JSONLBytes.raw("\"acquiring\"", into: &out)
        case .on: JSONLBytes.raw("\"on\"", into: &out)
        case .holding: JSONLBytes.raw("\"holding\"", into: &out)
        }
        JSONLBytes.raw(",\"on\":", into: &out)
        JSONLBytes.bool(output.onTarget.isOnTarget, into: &out)
        JSONLBytes.raw(",\"dwellMs\":", into: &out)
        JSONLBytes.double(Double(output.onTarget.dwellNanoseconds) / 1e6, into: &out)
        JSONLBytes.raw("}}\n", into: &out)
    }

    /// The protocol's name of each invalidity reason, in reporting order (`NavigationInvalidity`'s
    /// names with hyphens: `stale`, `coil-missing`, `head-reference-missing`, `not-registered`,
    /// `no-target`).
    public static let reasonNames: [(NavigationInvalidity, StaticString)] = [
        (.stale, "stale"), (.coilMissing, "coil-missing"), (.headReferenceMissing, "head-reference-missing"),
        (.notRegistered, "not-registered"), (.noTarget, "no-target"),
    ]

    static func appendReasons(_ invalidity: NavigationInvalidity, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        var first = true
        for (reason, name) in Self.reasonNames where invalidity.contains(reason) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            JSONLBytes.raw(name, into: &out)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "]"))
    }

    static func appendStatus(_ status: ToolStatus?, into out: inout [UInt8]) {
        switch status {
        case nil: JSONLBytes.raw("null", into: &out)
        case .ok?: JSONLBytes.raw("\"ok\"", into: &out)
        case .missing?: JSONLBytes.raw("\"missing\"", into: &out)
        case .partlyOutOfVolume?: JSONLBytes.raw("\"partly-out-of-volume\"", into: &out)
        case .disabled?: JSONLBytes.raw("\"disabled\"", into: &out)
        }
    }

    /// `{"q":[q0,qx,qy,qz],"t":[x,y,z]}` or `null`.
    static func appendPose(_ pose: RigidTransform?, into out: inout [UInt8]) {
        guard let pose else {
            JSONLBytes.raw("null", into: &out)
            return
        }
        let q = Quaternion(rotationMatrix: pose.rotation)
        JSONLBytes.raw("{\"q\":[", into: &out)
        JSONLBytes.double(q.q0, into: &out)
        out.append(UInt8(ascii: ","))
        JSONLBytes.double(q.qx, into: &out)
        out.append(UInt8(ascii: ","))
        JSONLBytes.double(q.qy, into: &out)
        out.append(UInt8(ascii: ","))
        JSONLBytes.double(q.qz, into: &out)
        JSONLBytes.raw("],\"t\":", into: &out)
        JSONLBytes.vector(pose.translation, into: &out)
        out.append(UInt8(ascii: "}"))
    }

    static func appendMetrics(_ e: CoilError, into out: inout [UInt8]) {
        JSONLBytes.raw("{\"distanceMM\":", into: &out)
        JSONLBytes.double(e.distanceMM, into: &out)
        JSONLBytes.raw(",\"offsetMM\":", into: &out)
        JSONLBytes.vector(e.offsetMM, into: &out)
        JSONLBytes.raw(",\"depthMM\":", into: &out)
        JSONLBytes.double(e.depthMM, into: &out)
        JSONLBytes.raw(",\"inPlaneAtCoil\":", into: &out)
        Self.appendInPlane(e.inPlaneAtCoilMM, into: &out)
        JSONLBytes.raw(",\"inPlaneAtCortex\":", into: &out)
        Self.appendInPlane(e.inPlaneAtCortexMM, into: &out)
        JSONLBytes.raw(",\"tiltDegrees\":", into: &out)
        JSONLBytes.double(e.tiltDegrees, into: &out)
        JSONLBytes.raw(",\"tiltAboutTargetXDegrees\":", into: &out)
        JSONLBytes.double(e.tiltAboutTargetXDegrees, into: &out)
        JSONLBytes.raw(",\"tiltAboutTargetYDegrees\":", into: &out)
        JSONLBytes.double(e.tiltAboutTargetYDegrees, into: &out)
        JSONLBytes.raw(",\"twistDegrees\":", into: &out)
        JSONLBytes.double(e.isTwistDefined ? e.twistDegrees : nil, into: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// `{"x":…,"y":…,"mm":…}`, or `null` when undefined.
    static func appendInPlane(_ p: InPlaneError, into out: inout [UInt8]) {
        guard p.isDefined else {
            JSONLBytes.raw("null", into: &out)
            return
        }
        JSONLBytes.raw("{\"x\":", into: &out)
        JSONLBytes.double(p.x, into: &out)
        JSONLBytes.raw(",\"y\":", into: &out)
        JSONLBytes.double(p.y, into: &out)
        JSONLBytes.raw(",\"mm\":", into: &out)
        JSONLBytes.double(p.magnitude, into: &out)
        out.append(UInt8(ascii: "}"))
    }

    // MARK: Events

    /// Appends an `event` line: `{"type":"event","event":"<name>", …fields}`.
    public static func appendEvent(_ event: JSONLEvent, into out: inout [UInt8]) {
        JSONLBytes.raw("{\"type\":\"event\",\"event\":\"", into: &out)
        JSONLBytes.raw(event.name, into: &out)
        out.append(UInt8(ascii: "\""))
        switch event {
        case .trackingLost(let lastFrame, let silence):
            JSONLBytes.raw(",\"lastFrame\":", into: &out)
            if let f = lastFrame { JSONLBytes.unsigned(UInt64(f), into: &out) } else { JSONLBytes.raw("null", into: &out) }
            JSONLBytes.raw(",\"silenceMs\":", into: &out)
            JSONLBytes.double(silence, into: &out)
        case .trackingRestored(let frame):
            JSONLBytes.raw(",\"frame\":", into: &out)
            JSONLBytes.unsigned(UInt64(frame), into: &out)
        case .validityChanged(let frame, let invalidity):
            JSONLBytes.raw(",\"frame\":", into: &out)
            JSONLBytes.unsigned(UInt64(frame), into: &out)
            JSONLBytes.raw(",\"valid\":", into: &out)
            JSONLBytes.bool(invalidity.isEmpty, into: &out)
            JSONLBytes.raw(",\"reasons\":", into: &out)
            Self.appendReasons(invalidity, into: &out)
        case .targetChanged(let name):
            JSONLBytes.raw(",\"target\":", into: &out)
            JSONLBytes.string(name, into: &out)
        case .registrationChanged(let registered):
            JSONLBytes.raw(",\"registered\":", into: &out)
            JSONLBytes.bool(registered, into: &out)
        case .onTarget(let frame, let dwell):
            JSONLBytes.raw(",\"frame\":", into: &out)
            JSONLBytes.unsigned(UInt64(frame), into: &out)
            JSONLBytes.raw(",\"dwellMs\":", into: &out)
            JSONLBytes.double(dwell, into: &out)
        case .offTarget(let frame):
            JSONLBytes.raw(",\"frame\":", into: &out)
            JSONLBytes.unsigned(UInt64(frame), into: &out)
        case .pulseRecorded(let index, let time):
            JSONLBytes.raw(",\"index\":", into: &out)
            JSONLBytes.integer(Int64(index), into: &out)
            JSONLBytes.raw(",\"timeNanoseconds\":", into: &out)
            JSONLBytes.unsigned(time, into: &out)
        case .trackerState(let text):
            JSONLBytes.raw(",\"state\":", into: &out)
            JSONLBytes.string(text, into: &out)
        case .warning(let text):
            JSONLBytes.raw(",\"text\":", into: &out)
            JSONLBytes.string(text, into: &out)
        }
        JSONLBytes.raw("}\n", into: &out)
    }

    // MARK: Responses

    /// Appends a success response: `{"type":"response","id":…,"ok":true, …result}`. `id` is the
    /// request's (`null` when it had none).
    public static func appendResponse(id: JSONLRequestID?, result: JSONLResult, into out: inout [UInt8]) {
        JSONLBytes.raw("{\"type\":\"response\",\"id\":", into: &out)
        Self.appendID(id, into: &out)
        JSONLBytes.raw(",\"ok\":true", into: &out)
        switch result {
        case .empty:
            break
        case .hello(let h):
            JSONLBytes.raw(",\"protocol\":", into: &out)
            JSONLBytes.integer(Int64(h.protocolVersion), into: &out)
            JSONLBytes.raw(",\"server\":", into: &out)
            JSONLBytes.string(h.serverVersion, into: &out)
            JSONLBytes.raw(",\"frameRateHz\":", into: &out)
            JSONLBytes.double(h.frameRateHz, into: &out)
            JSONLBytes.raw(",\"tools\":", into: &out)
            Self.appendStrings(h.toolNames, into: &out)
            JSONLBytes.raw(",\"registered\":", into: &out)
            JSONLBytes.bool(h.registered, into: &out)
            JSONLBytes.raw(",\"tokenRequired\":", into: &out)
            JSONLBytes.bool(h.tokenRequired, into: &out)
            JSONLBytes.raw(",\"fiducials\":", into: &out)
            Self.appendStrings(h.fiducials, into: &out)
        case .status(let s):
            JSONLBytes.raw(",\"tracker\":", into: &out)
            JSONLBytes.string(s.trackerState, into: &out)
            JSONLBytes.raw(",\"lastFrame\":", into: &out)
            if let f = s.lastFrame { JSONLBytes.unsigned(UInt64(f), into: &out) } else { JSONLBytes.raw("null", into: &out) }
            JSONLBytes.raw(",\"registered\":", into: &out)
            JSONLBytes.bool(s.registered, into: &out)
            JSONLBytes.raw(",\"registrationPending\":", into: &out)
            JSONLBytes.bool(s.registrationPending, into: &out)
            JSONLBytes.raw(",\"target\":", into: &out)
            JSONLBytes.string(s.target, into: &out)
            JSONLBytes.raw(",\"fiducials\":", into: &out)
            Self.appendStrings(s.fiducials, into: &out)
            JSONLBytes.raw(",\"scalpPoints\":", into: &out)
            JSONLBytes.integer(Int64(s.scalpPoints), into: &out)
            JSONLBytes.raw(",\"pulses\":", into: &out)
            JSONLBytes.integer(Int64(s.pulses), into: &out)
            JSONLBytes.raw(",\"subscription\":", into: &out)
            if let sub = s.subscription {
                JSONLBytes.raw("{\"frames\":", into: &out)
                JSONLBytes.bool(sub.frames, into: &out)
                JSONLBytes.raw(",\"events\":", into: &out)
                JSONLBytes.bool(sub.events, into: &out)
                JSONLBytes.raw(",\"maxRateHz\":", into: &out)
                JSONLBytes.double(sub.maxRateHz, into: &out)
                out.append(UInt8(ascii: "}"))
            } else {
                JSONLBytes.raw("null", into: &out)
            }
            JSONLBytes.raw(",\"freMM\":", into: &out)
            JSONLBytes.double(s.freMM, into: &out)
            JSONLBytes.raw(",\"predictedTREMM\":", into: &out)
            JSONLBytes.double(s.predictedTREMM, into: &out)
            JSONLBytes.raw(",\"fleMM\":", into: &out)
            JSONLBytes.double(s.fleMM, into: &out)
            JSONLBytes.raw(",\"frameRateHz\":", into: &out)
            JSONLBytes.double(s.frameRateHz, into: &out)
            JSONLBytes.raw(",\"framesReceived\":", into: &out)
            JSONLBytes.integer(Int64(s.framesReceived), into: &out)
            JSONLBytes.raw(",\"framesDropped\":", into: &out)
            JSONLBytes.integer(Int64(s.framesDropped), into: &out)
        case .targets(let targets):
            JSONLBytes.raw(",\"targets\":[", into: &out)
            for (i, t) in targets.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONLBytes.raw("{\"name\":", into: &out)
                JSONLBytes.string(t.name, into: &out)
                JSONLBytes.raw(",\"active\":", into: &out)
                JSONLBytes.bool(t.active, into: &out)
                JSONLBytes.raw(",\"coilToCortexMM\":", into: &out)
                JSONLBytes.double(t.coilToCortexMM, into: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        case .registration(let r):
            JSONLBytes.raw(",\"freMM\":", into: &out)
            JSONLBytes.double(r.freMM, into: &out)
            JSONLBytes.raw(",\"residualsMM\":{", into: &out)
            for (i, f) in r.residualsMM.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONLBytes.string(f.name, into: &out)
                out.append(UInt8(ascii: ":"))
                JSONLBytes.double(f.mm, into: &out)
            }
            JSONLBytes.raw("},\"refined\":", into: &out)
            JSONLBytes.bool(r.refined, into: &out)
            JSONLBytes.raw(",\"surfaceRMSMM\":", into: &out)
            JSONLBytes.double(r.surfaceRMSMM, into: &out)
            JSONLBytes.raw(",\"predictedTREMM\":{", into: &out)
            for (i, t) in r.predictedTREMM.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONLBytes.string(t.name, into: &out)
                out.append(UInt8(ascii: ":"))
                JSONLBytes.double(t.mm, into: &out)
            }
            JSONLBytes.raw("},\"fleMM\":", into: &out)
            JSONLBytes.double(r.fleMM, into: &out)
            JSONLBytes.raw(",\"warnings\":", into: &out)
            Self.appendStrings(r.warnings, into: &out)
            JSONLBytes.raw(",\"applied\":false", into: &out)
        case .fields(let members):
            for m in members {
                out.append(UInt8(ascii: ","))
                JSONLBytes.string(m.key, into: &out)
                out.append(UInt8(ascii: ":"))
                Self.appendValue(m.value, into: &out)
            }
        }
        JSONLBytes.raw("}\n", into: &out)
    }

    /// Appends an error response: `{"type":"response","id":…,"ok":false,"error":{"code":…,"message":…}}`.
    public static func appendErrorResponse(id: JSONLRequestID?, code: JSONLErrorCode, message: String, into out: inout [UInt8]) {
        JSONLBytes.raw("{\"type\":\"response\",\"id\":", into: &out)
        Self.appendID(id, into: &out)
        JSONLBytes.raw(",\"ok\":false,\"error\":{\"code\":", into: &out)
        JSONLBytes.string(code.rawValue, into: &out)
        JSONLBytes.raw(",\"message\":", into: &out)
        JSONLBytes.string(message, into: &out)
        JSONLBytes.raw("}}\n", into: &out)
    }

    /// Appends the error response for a refused request line (echoing its `id` when it was read).
    public static func appendErrorResponse(_ error: JSONLRequestError, into out: inout [UInt8]) {
        Self.appendErrorResponse(id: error.id, code: error.code, message: error.message, into: &out)
    }

    /// The `id` as the request gave it: a string, or a number (whole numbers up to 2⁵³ without a
    /// fraction), or `null`.
    static func appendID(_ id: JSONLRequestID?, into out: inout [UInt8]) {
        switch id {
        case nil: JSONLBytes.raw("null", into: &out)
        case .string(let s)?: JSONLBytes.string(s, into: &out)
        case .number(let x)?: Self.appendNumber(x, into: &out)
        }
    }

    /// A whole number up to 2⁵³ in magnitude as an integer, anything else as `JSONLBytes.double`.
    static func appendNumber(_ x: Double, into out: inout [UInt8]) {
        if x == x.rounded(), Swift.abs(x) <= 9_007_199_254_740_992, !(x == 0 && x.sign == .minus) {
            JSONLBytes.integer(Int64(x), into: &out)
        } else {
            JSONLBytes.double(x, into: &out)
        }
    }

    static func appendStrings(_ strings: [String], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (i, s) in strings.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONLBytes.string(s, into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    static func appendValue(_ v: JSONLValue, into out: inout [UInt8]) {
        switch v {
        case .null: JSONLBytes.raw("null", into: &out)
        case .bool(let b): JSONLBytes.bool(b, into: &out)
        case .integer(let i): JSONLBytes.integer(i, into: &out)
        case .unsigned(let u): JSONLBytes.unsigned(u, into: &out)
        case .number(let x): JSONLBytes.double(x, into: &out)
        case .string(let s): JSONLBytes.string(s, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, e) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.appendValue(e, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, m) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONLBytes.string(m.key, into: &out)
                out.append(UInt8(ascii: ":"))
                Self.appendValue(m.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}
