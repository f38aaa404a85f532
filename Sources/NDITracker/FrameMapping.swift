import Geometry
import NDIProtocol
import TrackerCore

/// Turns BX/TX replies into `TrackerFrame`s. Pure.
///
/// Status mapping, per reported handle (the raw port status is kept in `ToolSample.portStatus`):
///
/// | handle status | port status | `ToolStatus` | pose |
/// |---|---|---|---|
/// | valid (BX 0x01) | neither 0x40 nor 0x80 | `ok` | yes |
/// | valid | 0x80 (partially in volume) or 0x40 (out of volume) | `partlyOutOfVolume` | yes |
/// | missing (BX 0x02, TX `MISSING`) | any | `missing` | no |
/// | disabled (BX 0x04, TX `DISABLED`) | – | `disabled` | no |
/// | unoccupied (TX `UNOCCUPIED`) | – | `disabled` | no |
///
/// A valid handle whose out-of-volume bit (0x40) is set is reported only because option 0x0800
/// asks for out-of-volume transforms; `ToolStatus` has no separate "out of volume" case, so it is
/// `partlyOutOfVolume` too: a pose that exists but lies (partly) outside the characterised
/// volume. A valid handle without a transform in the reply (option without 0x0001) is `missing`.
///
/// Every bound tool appears in every frame, in the order of `tools`: a bound handle the reply
/// does not list is `disabled`, a tool that got no handle at all is `disabled` with handle 0.
/// Reported handles that no tool names follow, named `port-0xHH`.
///
/// The device frame number is the first frame number any handle carries; a reply without one
/// (every handle disabled) keeps `fallbackFrameNumber`.
public enum NDIFrameMapper {
    public static func frame(
        from reply: NDITrackingReply,
        bindings: [NDIHandleBinding],
        toolOrder: [String],
        hostReceiveNanoseconds: UInt64,
        fallbackFrameNumber: UInt32 = 0
    ) -> TrackerFrame {
        var byHandle: [UInt8: NDIHandleReport] = [:]
        for r in reply.handles where byHandle[r.handle] == nil { byHandle[r.handle] = r }
        var samples: [ToolSample] = []
        var used: Set<UInt8> = []
        for name in toolOrder {
            guard let binding = bindings.first(where: { $0.toolName == name }) else {
                samples.append(ToolSample(name: name, handle: 0, status: .disabled))
                continue
            }
            used.insert(binding.handle)
            samples.append(self.sample(name: name, handle: binding.handle, report: byHandle[binding.handle]))
        }
        for b in bindings where !used.contains(b.handle) {
            used.insert(b.handle)
            samples.append(self.sample(name: b.toolName, handle: b.handle, report: byHandle[b.handle]))
        }
        for r in reply.handles where !used.contains(r.handle) {
            used.insert(r.handle)
            samples.append(self.sample(name: "port-0x\(hex2(r.handle))", handle: r.handle, report: r))
        }
        let frameNumber = reply.handles.lazy.compactMap(\.frameNumber).first ?? fallbackFrameNumber
        return TrackerFrame(
            deviceFrameNumber: frameNumber,
            hostReceiveNanoseconds: hostReceiveNanoseconds,
            tools: samples,
            systemStatus: reply.systemStatus.rawValue
        )
    }

    /// One handle's sample (see the table above).
    public static func sample(name: String, handle: UInt8, report: NDIHandleReport?) -> ToolSample {
        guard let report else { return ToolSample(name: name, handle: handle, status: .disabled) }
        let port = report.portStatus?.rawValue ?? 0
        switch report.status {
        case .valid:
            guard let t = report.transform else {
                return ToolSample(name: name, handle: handle, status: .missing, portStatus: port)
            }
            let outside = report.isPartiallyOutOfVolume || report.isOutOfVolume
            return ToolSample(
                name: name,
                handle: handle,
                status: outside ? .partlyOutOfVolume : .ok,
                toolToTracker: t.rigidTransform,
                rmsErrorMM: t.rmsError,
                portStatus: port
            )
        case .missing:
            return ToolSample(name: name, handle: handle, status: .missing, portStatus: port)
        case .disabled, .unoccupied:
            return ToolSample(name: name, handle: handle, status: .disabled, portStatus: port)
        }
    }
}

/// Notices tools that were loaded but have never been seen while other tools are: after
/// `patience` of tracking during which at least one other tool was seen, it warns once per tool
/// that its tool definition may be wrong ("wrong tool file" vs "not in view"). Pure; time comes
/// from the frames' host receive time.
public struct NeverSeenMonitor: Sendable {
    public let patienceNanoseconds: UInt64
    private var seen: Set<String> = []
    private var warned: Set<String> = []
    private var othersSeenSince: UInt64?

    public init(patience: Duration = .seconds(5)) {
        self.patienceNanoseconds = patience.wholeNanoseconds
    }

    /// Feeds one frame; returns the names of tools to warn about now (each name at most once in
    /// the monitor's life).
    public mutating func observe(_ frame: TrackerFrame) -> [String] {
        var anySeen = false
        for t in frame.tools where t.status.hasPose {
            self.seen.insert(t.name)
            anySeen = true
        }
        if anySeen, self.othersSeenSince == nil { self.othersSeenSince = frame.hostReceiveNanoseconds }
        guard let since = self.othersSeenSince, frame.hostReceiveNanoseconds >= since,
            frame.hostReceiveNanoseconds - since >= self.patienceNanoseconds
        else { return [] }
        var out: [String] = []
        for t in frame.tools where t.status == .missing && !self.seen.contains(t.name) && !self.warned.contains(t.name)
        {
            self.warned.insert(t.name)
            out.append(t.name)
        }
        return out
    }
}
