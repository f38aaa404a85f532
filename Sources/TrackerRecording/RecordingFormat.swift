import Formats
import Foundation
import Geometry
import NDITracker
import TrackerCore

/// A tool of the recorded tool set, as the header lists it (what the recorder asked the tracker to
/// track; the frames name each tool and its handle).
public struct RecordedTool: Sendable, Equatable {
    public var name: String
    /// Free text (`coil`, `head-reference`, `pointer`, …).
    public var kind: String
    /// `passive` (its tool definition was uploaded) or `active` (found by PHSR).
    public var setup: String
    /// The tool-definition file uploaded for a passive tool, as resolved by the recorder.
    public var toolDefinition: String?
    /// `PENA` priority: `D`, `S` or `B`.
    public var priority: String

    public init(name: String, kind: String, setup: String, toolDefinition: String?, priority: String) {
        self.name = name
        self.kind = kind
        self.setup = setup
        self.toolDefinition = toolDefinition
        self.priority = priority
    }

    public init(_ tool: TrackerTool) {
        switch tool.setup {
        case .passive(let path, _):
            self.init(name: tool.name, kind: tool.kind, setup: "passive", toolDefinition: path, priority: String(tool.priority.rawValue))
        case .active:
            self.init(name: tool.name, kind: tool.kind, setup: "active", toolDefinition: nil, priority: String(tool.priority.rawValue))
        }
    }
}

/// The first line of a recording (`coilnav-recording` v1, see docs/file-formats.md).
public struct RecordingHeader: Sendable, Equatable {
    public static let format = "coilnav-recording"
    public static let currentVersion = 1

    /// The tracker URL recorded, as given.
    public var tracker: String
    /// The device profile the driver used (`Devices/`), when there was one.
    public var deviceProfile: String?
    /// The nominal frame rate the consumers were told (it sets the watchdog's limit).
    public var frameRateHz: Double
    public var tools: [RecordedTool]
    /// When the recording started, UTC, ISO 8601 with milliseconds (for people).
    public var startedAt: String
    /// Unix time in ns at the recording's start.
    public var unixAtStartNanoseconds: Int64
    /// What the recorded host times count: `monotonic` (the recording host's monotonic clock, as
    /// `coilnav record` uses) or another name for an injected clock.
    public var clock: String
    /// The clock's reading at the recording's start (the same instant as `unixAtStartNanoseconds`).
    public var clockAtStartNanoseconds: UInt64

    public init(
        tracker: String, deviceProfile: String?, frameRateHz: Double, tools: [RecordedTool], startedAt: String,
        unixAtStartNanoseconds: Int64, clock: String, clockAtStartNanoseconds: UInt64
    ) {
        self.tracker = tracker
        self.deviceProfile = deviceProfile
        self.frameRateHz = frameRateHz
        self.tools = tools
        self.startedAt = startedAt
        self.unixAtStartNanoseconds = unixAtStartNanoseconds
        self.clock = clock
        self.clockAtStartNanoseconds = clockAtStartNanoseconds
    }

    /// Unix time in ns at the clock's zero (what the navigation engine stamps OpenIGTLink messages
    /// with), so a replay carries the live run's timestamps.
    public var unixNanosecondsAtClockZero: Int64 {
        self.unixAtStartNanoseconds &- Int64(clamping: self.clockAtStartNanoseconds)
    }

    /// An ISO 8601 UTC time with milliseconds for a Unix time in ns.
    public static func isoTime(unixNanoseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(unixNanoseconds) / 1e9))
    }
}

/// What the recorder could not write: events it had to drop because its queue was full (the disk
/// did not keep up). Written where the events were lost, so a replay knows there is a hole.
public struct RecordingLoss: Sendable, Equatable {
    /// The times of the first and the last lost event.
    public var fromNanoseconds: UInt64
    public var untilNanoseconds: UInt64
    public var frames: Int
    /// States and warnings lost.
    public var otherEvents: Int

    public init(fromNanoseconds: UInt64, untilNanoseconds: UInt64, frames: Int, otherEvents: Int) {
        self.fromNanoseconds = fromNanoseconds
        self.untilNanoseconds = untilNanoseconds
        self.frames = frames
        self.otherEvents = otherEvents
    }
}

/// The last line of a recording that was finished cleanly.
public struct RecordingSummary: Sendable, Equatable {
    public var atNanoseconds: UInt64
    /// Frames written.
    public var frames: Int
    /// Frames and other events lost by the recorder (its queue was full).
    public var lostFrames: Int
    public var lostOtherEvents: Int
    /// Device frame numbers skipped between consecutive recorded frames: frames the tracker made
    /// that the host never received (polled too slowly, or lost while disconnected).
    public var skippedDeviceFrames: Int

    public init(atNanoseconds: UInt64, frames: Int, lostFrames: Int, lostOtherEvents: Int, skippedDeviceFrames: Int) {
        self.atNanoseconds = atNanoseconds
        self.frames = frames
        self.lostFrames = lostFrames
        self.lostOtherEvents = lostOtherEvents
        self.skippedDeviceFrames = skippedDeviceFrames
    }
}

/// One line after the header.
public enum RecordingRecord: Sendable, Equatable {
    /// A tracker event as the consumers received it, at `atNanoseconds` on the recorded clock (the
    /// instant it was handed over: the "now" of every consumer while it handled the event).
    case event(TrackerEvent, atNanoseconds: UInt64)
    case lost(RecordingLoss)
    case end(RecordingSummary)

    /// The record's time on the recorded timeline.
    public var atNanoseconds: UInt64 {
        switch self {
        case .event(_, let at): at
        case .lost(let l): l.untilNanoseconds
        case .end(let s): s.atNanoseconds
        }
    }
}

/// The text of a recording's lines: one JSON object per line, keys in a fixed order, no spaces.
/// Integers are written as integers (nanoseconds exact to 64 bits); every other number is the
/// shortest text that reads back to the same `Double` (Swift's `description`: `0.1`, `-0.0`,
/// `1e-05`), so poses read back bit for bit; a non-finite value (a device's garbage) is written as
/// the string `"NaN"`, `"Infinity"` or `"-Infinity"`.
public enum RecordingLines {
    /// The header line, with its `\n`.
    public static func header(_ h: RecordingHeader) -> String {
        var s = "{\"format\":\"\(RecordingHeader.format)\",\"version\":\(RecordingHeader.currentVersion)"
        s += ",\"tracker\":" + quoted(h.tracker)
        s += ",\"deviceProfile\":" + (h.deviceProfile.map(quoted) ?? "null")
        s += ",\"frameRateHz\":" + number(h.frameRateHz)
        s += ",\"tools\":["
        for (i, t) in h.tools.enumerated() {
            if i > 0 { s += "," }
            s += "{\"name\":" + quoted(t.name) + ",\"kind\":" + quoted(t.kind) + ",\"setup\":" + quoted(t.setup)
            s += ",\"toolDefinition\":" + (t.toolDefinition.map(quoted) ?? "null")
            s += ",\"priority\":" + quoted(t.priority) + "}"
        }
        s += "],\"startedAt\":" + quoted(h.startedAt)
        s += ",\"unixAtStartNanoseconds\":\(h.unixAtStartNanoseconds)"
        s += ",\"clock\":" + quoted(h.clock)
        s += ",\"clockAtStartNanoseconds\":\(h.clockAtStartNanoseconds)}\n"
        return s
    }

    /// A record's line, with its `\n`, appended to `out`.
    public static func append(_ record: RecordingRecord, to out: inout String) {
        switch record {
        case .event(let event, let at):
            switch event {
            case .frame(let f): self.appendFrame(f, at: at, to: &out)
            case .state(let state):
                out += "{\"type\":\"state\",\"atNanoseconds\":\(at),\"state\":"
                switch state {
                case .connecting: out += "\"connecting\""
                case .settingUp: out += "\"setting-up\""
                case .tracking: out += "\"tracking\""
                case .disconnected(let reason): out += "\"disconnected\",\"reason\":" + quoted(reason)
                case .reconnecting(let attempt, let delay):
                    out += "\"reconnecting\",\"attempt\":\(attempt),\"delayNanoseconds\":\(delay.wholeNanoseconds)"
                case .stopped: out += "\"stopped\""
                }
                out += "}\n"
            case .warning(let text):
                out += "{\"type\":\"warning\",\"atNanoseconds\":\(at),\"message\":" + quoted(text) + "}\n"
            }
        case .lost(let l):
            out += "{\"type\":\"lost\",\"atNanoseconds\":\(l.fromNanoseconds),\"untilNanoseconds\":\(l.untilNanoseconds)"
            out += ",\"frames\":\(l.frames),\"otherEvents\":\(l.otherEvents)}\n"
        case .end(let s):
            out += "{\"type\":\"end\",\"atNanoseconds\":\(s.atNanoseconds),\"frames\":\(s.frames),\"lostFrames\":\(s.lostFrames)"
            out += ",\"lostOtherEvents\":\(s.lostOtherEvents),\"skippedDeviceFrames\":\(s.skippedDeviceFrames)}\n"
        }
    }

    static func appendFrame(_ f: TrackerFrame, at: UInt64, to out: inout String) {
        out += "{\"type\":\"frame\",\"atNanoseconds\":\(at),\"frame\":\(f.deviceFrameNumber)"
        out += ",\"hostReceiveNanoseconds\":\(f.hostReceiveNanoseconds),\"systemStatus\":\(f.systemStatus),\"tools\":["
        for (i, t) in f.tools.enumerated() {
            if i > 0 { out += "," }
            out += "{\"name\":" + quoted(t.name) + ",\"handle\":\(t.handle),\"status\":\"\(t.status.rawValue)\""
            out += ",\"portStatus\":\(t.portStatus)"
            if let p = t.toolToTracker {
                let r = p.rotation
                out += ",\"rotation\":["
                out += number(r[0, 0]) + "," + number(r[0, 1]) + "," + number(r[0, 2]) + ","
                out += number(r[1, 0]) + "," + number(r[1, 1]) + "," + number(r[1, 2]) + ","
                out += number(r[2, 0]) + "," + number(r[2, 1]) + "," + number(r[2, 2])
                out += "],\"translationMM\":[" + number(p.translation.x) + "," + number(p.translation.y) + ","
                out += number(p.translation.z) + "]"
            }
            if let e = t.rmsErrorMM { out += ",\"rmsMM\":" + number(e) }
            out += "}"
        }
        out += "]}\n"
    }

    /// Shortest round-trip text; non-finite values as strings.
    static func number(_ x: Double) -> String {
        if x.isNaN { return "\"NaN\"" }
        if x.isInfinite { return x > 0 ? "\"Infinity\"" : "\"-Infinity\"" }
        return x.description
    }

    /// `s` as a JSON string literal (Formats' escaping).
    static func quoted(_ s: String) -> String { "\"" + jsonEscaped(s) + "\"" }
}
