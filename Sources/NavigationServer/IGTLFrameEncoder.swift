import Geometry
import IGTLProtocol
import Navigation

/// The OpenIGTLink device names CoilNav streams, in sending order.
public enum IGTLDeviceName {
    public static let coilToMRI = "CoilToMRI"
    public static let coilToTarget = "CoilToTarget"
    public static let targetToMRI = "TargetToMRI"
    public static let pointerToMRI = "PointerToMRI"
    public static let headToTracker = "HeadToTracker"
    public static let coilToTracker = "CoilToTracker"
    /// STRING: the frame's metrics as JSON (the JSON-lines `frame` object).
    public static let metrics = "CoilNavMetrics"
    /// STATUS: navigation validity and tracking lost/restored.
    public static let status = "CoilNav"
    /// STRING from a client: a JSON command (the JSON-lines request object).
    public static let command = "CoilNavCommand"
    /// STRING to a client: the JSON response to a command.
    public static let reply = "CoilNavReply"

    public static let transforms = [coilToMRI, coilToTarget, targetToMRI, pointerToMRI, headToTracker, coilToTracker]
}

/// One frame's six transforms, each with whether it may be used.
public struct FrameTransforms: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        /// The transform, when the frame allows computing it.
        public var transform: RigidTransform?
        /// True when `transform` is present and may be used (not stale; see `FrameTransforms.init`).
        public var isValid: Bool
    }

    public var entries: [Entry]

    /// Derives the transforms of a pipeline output.
    ///
    /// - `CoilToTracker`, `HeadToTracker`: the tool's pose (coil: through the coil calibration).
    /// - `CoilToMRI`: `headToMRI · trackerToHead · coilToTracker`.
    /// - `PointerToMRI`: the pointer tool's frame in MRI space (pointer, head reference and registration needed).
    /// - `TargetToMRI`: the active target's planned pose (valid whenever a target is active).
    /// - `CoilToTarget`: the error transform; valid only when the whole output is valid.
    /// Every transform measured in this frame is invalid when the frame is stale.
    public init(output: NavigationOutput, target: NavigationTarget?, pointerToMRI: RigidTransform?) {
        let stale = output.invalidity.contains(.stale)
        func entry(_ name: String, _ t: RigidTransform?, valid: Bool) -> Entry {
            Entry(name: name, transform: t, isValid: t != nil && valid)
        }
        self.entries = [
            entry(IGTLDeviceName.coilToMRI, output.coilToMRI, valid: !stale),
            entry(IGTLDeviceName.coilToTarget, output.error?.coilToTarget, valid: output.isValid),
            entry(IGTLDeviceName.targetToMRI, target?.targetToMRI, valid: true),
            entry(IGTLDeviceName.pointerToMRI, pointerToMRI, valid: !stale),
            entry(IGTLDeviceName.headToTracker, output.headToTracker, valid: !stale),
            entry(IGTLDeviceName.coilToTracker, output.coilToTracker, valid: !stale),
        ]
    }

    public func entry(named name: String) -> Entry? { self.entries.first { $0.name == name } }
}

/// Builds the OpenIGTLink messages CoilNav sends, for header version 1 (protocol v1/v2 clients) and
/// header version 2 (protocol v3 clients, with metadata).
///
/// Header version 1: only the valid transforms are sent (a client that cannot read metadata must
/// never receive a pose it should not use); validity travels in STATUS messages and in the metrics.
/// Header version 2: all six transforms every frame, each with metadata `TransformValid`
/// ("true"/"false") and `TransformStatus` ("OK"; "INVALID" when the pose exists but may not be used,
/// e.g. stale or, for CoilToTarget, an invalid frame; "MISSING" when it cannot be computed: then the
/// matrix is the identity and must be ignored).
public enum IGTLFrameEncoder {
    /// Appends the frame's TRANSFORM messages.
    public static func appendTransforms(
        _ transforms: FrameTransforms, headerVersion: UInt16, timestamp: IGTLTimestamp, messageID: inout UInt32,
        into out: inout [UInt8]
    ) {
        for e in transforms.entries {
            if headerVersion == 1 {
                guard e.isValid, let t = e.transform else { continue }
                append(IGTLMessage(deviceName: e.name, timestamp: timestamp, body: .transform(t)), into: &out)
            } else {
                let status = e.isValid ? "OK" : (e.transform == nil ? "MISSING" : "INVALID")
                messageID &+= 1
                append(
                    IGTLMessage(
                        headerVersion: 2, deviceName: e.name, timestamp: timestamp,
                        body: .transform(e.transform ?? .identity), messageID: messageID,
                        metadata: [
                            IGTLMetadataEntry(key: "TransformValid", value: e.isValid ? "true" : "false"),
                            IGTLMetadataEntry(key: "TransformStatus", value: status),
                        ]), into: &out)
            }
        }
    }

    /// Appends one TRANSFORM (for GET_TRANSFORM replies); a transform that is not available gives an
    /// empty-bodied TRANSFORM, as the protocol specifies for data that is not available.
    public static func appendTransform(
        _ e: FrameTransforms.Entry, headerVersion: UInt16, timestamp: IGTLTimestamp, messageID: inout UInt32,
        into out: inout [UInt8]
    ) {
        if headerVersion == 1 {
            if e.isValid, let t = e.transform {
                append(IGTLMessage(deviceName: e.name, timestamp: timestamp, body: .transform(t)), into: &out)
            } else {
                append(IGTLMessage(deviceName: e.name, timestamp: timestamp, body: .raw(typeName: "TRANSFORM", content: [])), into: &out)
            }
            return
        }
        var single = FrameTransforms.empty
        single.entries = [e]
        appendTransforms(single, headerVersion: 2, timestamp: timestamp, messageID: &messageID, into: &out)
    }

    /// Appends a STRING message (ASCII/UTF-8 text as US-ASCII or UTF-8 encoding).
    public static func appendString(
        device: String, text: [UInt8], headerVersion: UInt16, timestamp: IGTLTimestamp, messageID: inout UInt32,
        into out: inout [UInt8]
    ) {
        let ascii = text.allSatisfy { $0 < 0x80 }
        let body = IGTLBody.string(IGTLString(encoding: ascii ? 3 : 106, bytes: text))
        if headerVersion == 2 { messageID &+= 1 }
        append(
            IGTLMessage(headerVersion: headerVersion, deviceName: device, timestamp: timestamp, body: body, messageID: headerVersion == 2 ? messageID : 0),
            into: &out)
    }

    /// Appends a STATUS message.
    public static func appendStatus(
        _ status: IGTLStatus, headerVersion: UInt16, timestamp: IGTLTimestamp, messageID: inout UInt32, into out: inout [UInt8]
    ) {
        if headerVersion == 2 { messageID &+= 1 }
        append(
            IGTLMessage(
                headerVersion: headerVersion, deviceName: IGTLDeviceName.status, timestamp: timestamp, body: .status(status),
                messageID: headerVersion == 2 ? messageID : 0), into: &out)
    }

    /// Appends any message (names are CoilNav's own constants, so encoding cannot fail).
    public static func append(_ message: IGTLMessage, into out: inout [UInt8]) {
        do {
            try message.encode(into: &out)
        } catch {
            preconditionFailure("CoilNav's own OpenIGTLink message \(message.deviceName) did not encode: \(error)")
        }
    }

    /// The STATUS for a navigation validity: OK when valid; otherwise code 13 (not ready), the
    /// validity bits as the sub-code, the first reason as the error name and every reason in the message.
    public static func status(for invalidity: NavigationInvalidity) -> IGTLStatus {
        if invalidity.isEmpty { return IGTLStatus(code: IGTLStatus.Code.ok, subcode: 0, errorName: "", message: "valid") }
        let short: String
        if invalidity.contains(.stale) { short = "stale" }
        else if invalidity.contains(.coilMissing) { short = "coil missing" }
        else if invalidity.contains(.headReferenceMissing) { short = "head missing" }
        else if invalidity.contains(.notRegistered) { short = "not registered" }
        else { short = "no target" }
        return IGTLStatus(
            code: IGTLStatus.Code.notReady, subcode: Int64(invalidity.rawValue), errorName: short,
            message: "invalid: \(invalidity.description)")
    }

    /// The STATUS for a tracking loss (code 7, time out).
    public static func trackingLostStatus(lastFrameNumber: UInt32?, silenceNanoseconds: UInt64) -> IGTLStatus {
        let ms = Double(silenceNanoseconds) / 1e6
        let last = lastFrameNumber.map { "last frame \($0)" } ?? "no frame yet"
        return IGTLStatus(
            code: IGTLStatus.Code.timeOut, subcode: 0, errorName: "tracking lost",
            message: "tracking lost: no tracker frame for \(formatMilliseconds(ms)) ms (\(last))")
    }
}

func formatMilliseconds(_ ms: Double) -> String {
    let r = (ms * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(r)
}

extension FrameTransforms {
    /// No transforms (for building single-entry sets).
    public static let empty = FrameTransforms()
    private init() { self.entries = [] }
}
