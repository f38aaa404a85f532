/// What the readout knows: the newest frame, the server's status, the tracker's state, the
/// connection, and when each arrived (nanoseconds of the caller's monotonic clock, injected so
/// tests are exact). Pure: the terminal side feeds it lines and asks for `phase(at:)`.
public struct ReadoutState: Sendable {
    /// The connection to the server.
    public enum Connection: Equatable, Sendable {
        /// Trying to connect (attempt 1 is the first).
        case connecting(attempt: Int)
        case connected(sinceNanoseconds: Int64)
        /// The last attempt failed or the connection broke; the next attempt is on its way.
        case unreachable(reason: String, attempt: Int, sinceNanoseconds: Int64)
    }

    /// The server, as the user named it (`127.0.0.1:18945`).
    public var serverLabel: String
    /// Shown at the right of the header instead of the server label (the demo's ports and log).
    public var headerNote: String?
    /// No frame for this long while connected (and no tracking-lost event) counts as tracking lost:
    /// the readout does not rely on the server's event alone.
    public var silenceLimitNanoseconds: Int64

    public private(set) var connection: Connection = .connecting(attempt: 1)
    public private(set) var frame: ReadoutFrame?
    /// When the newest frame arrived.
    public private(set) var frameArrivedNanoseconds: Int64?
    /// Frame lines received on this and earlier connections.
    public private(set) var framesSeen = 0
    public private(set) var hello: ReadoutHello?
    public private(set) var status: ReadoutStatus?
    /// The tracker driver's state text, from `status` and `tracker-state` events.
    public private(set) var trackerState: String?
    /// The newest `tracking-lost` event not yet followed by a frame or `tracking-restored`.
    public private(set) var trackingLost: (lastFrame: Int?, silenceMs: Double, atNanoseconds: Int64)?
    /// The active target, from frames, `status` and `target-changed`.
    public private(set) var target: String?
    /// The newest notable event in words ("on target at frame 2123"), for the message row.
    public private(set) var lastEvent: String?
    /// The newest error the server answered one of the readout's requests with, or a line the
    /// readout could not read.
    public private(set) var lastError: String?

    public init(serverLabel: String, silenceLimitNanoseconds: Int64 = 500_000_000, headerNote: String? = nil) {
        self.serverLabel = serverLabel
        self.silenceLimitNanoseconds = silenceLimitNanoseconds
        self.headerNote = headerNote
    }

    // MARK: Updates

    public mutating func setConnection(_ c: Connection) {
        if case .connected = c, case .connected = self.connection { return }
        self.connection = c
        switch c {
        case .connected:
            // A fresh connection: what the old one said about tracking no longer holds until the
            // server says it again.
            self.trackingLost = nil
            self.frame = nil
            self.frameArrivedNanoseconds = nil
            self.status = nil
            self.hello = nil
            self.trackerState = nil
        case .unreachable:
            // What the server said about itself no longer holds; the last frame's number stays.
            self.trackingLost = nil
            self.status = nil
            self.hello = nil
            self.trackerState = nil
        case .connecting:
            break
        }
    }

    /// Applies one decoded server line that arrived at `now`.
    public mutating func apply(_ message: ReadoutMessage, at now: Int64) {
        switch message {
        case .frame(let f):
            self.frame = f
            self.frameArrivedNanoseconds = now
            self.framesSeen += 1
            self.trackingLost = nil
            if let t = f.target { self.target = t }
        case .event(let e):
            self.apply(e, at: now)
        case .hello(let h):
            self.hello = h
        case .status(let s):
            self.status = s
            self.trackerState = s.tracker
            self.target = s.target ?? self.target
        case .response(let id, let error):
            if let error { self.lastError = "the server refused \(id ?? "a request"): \(error)" }
        case .ignored:
            break
        }
    }

    /// Records a line that could not be read.
    public mutating func noteUnreadableLine(_ error: ReadoutDecodeError) {
        self.lastError = "unreadable line from the server: \(error.message)"
    }

    private mutating func apply(_ e: ReadoutEvent, at now: Int64) {
        switch e {
        case .trackingLost(let last, let silenceMs):
            self.trackingLost = (last, silenceMs, now)
            self.lastEvent = "tracking lost after frame \(last.map(String.init) ?? "none")"
        case .trackingRestored(let frame):
            self.trackingLost = nil
            self.lastEvent = "tracking restored at frame \(frame)"
        case .validityChanged(let frame, let valid, let reasons):
            self.lastEvent =
                valid
                ? "valid again at frame \(frame)"
                : "not valid from frame \(frame): \(reasons.map(Self.reasonText).joined(separator: ", "))"
        case .targetChanged(let t):
            self.target = t
            self.lastEvent = "target changed to \(t ?? "none")"
        case .registrationChanged(let registered):
            self.lastEvent = registered ? "registration accepted" : "registration cleared"
        case .onTarget(let frame, _):
            self.lastEvent = "on target at frame \(frame)"
        case .offTarget(let frame):
            self.lastEvent = "off target at frame \(frame)"
        case .pulseRecorded(let index):
            self.lastEvent = "pulse \(index) recorded"
        case .trackerState(let s):
            self.trackerState = s
            self.lastEvent = "tracker: \(s)"
        case .warning(let w):
            self.lastEvent = "warning: \(w)"
        case .other:
            break
        }
    }

    // MARK: What to show

    /// The readout's state at `now`, most urgent first: server unreachable, tracking lost (by the
    /// server's event, its status, or no frame for `silenceLimitNanoseconds`), waiting for the first
    /// frame, an invalid frame, then the on-target state.
    public func phase(at now: Int64) -> ReadoutPhase {
        switch self.connection {
        case .connecting(let attempt):
            return attempt <= 1 ? .connecting : .unreachable(reason: "connecting", attempt: attempt, seconds: nil)
        case .unreachable(let reason, let attempt, let since):
            return .unreachable(reason: reason, attempt: attempt, seconds: Self.seconds(now - since))
        case .connected:
            // Before the first frame the tracker has not been lost but not yet found (the server's
            // watchdog counts from its start, so it announces a loss while the tracker sets up):
            // "waiting", with what the tracker is doing.
            if self.frame == nil, self.trackingLost?.lastFrame == nil, self.status?.lastFrame == nil {
                return .waiting(tracker: self.trackerDetail)
            }
            if let lost = self.trackingLost {
                let silence = lost.silenceMs / 1000 + Self.seconds(now - lost.atNanoseconds)
                return .trackingLost(silenceSeconds: silence, lastFrame: lost.lastFrame ?? self.frame?.frame, tracker: self.trackerDetail)
            }
            guard let frame = self.frame, let arrived = self.frameArrivedNanoseconds else {
                // The server has seen frames (its status says so) that this client has not.
                if self.status?.tracker == "tracking lost" {
                    return .trackingLost(silenceSeconds: nil, lastFrame: self.status?.lastFrame, tracker: nil)
                }
                return .waiting(tracker: self.trackerState)
            }
            if now - arrived > self.silenceLimitNanoseconds {
                return .trackingLost(silenceSeconds: Self.seconds(now - arrived), lastFrame: frame.frame, tracker: self.trackerDetail)
            }
            if !frame.valid { return .invalid(reasons: frame.reasons) }
            let dwell = frame.onTarget.dwellMs / 1000
            switch frame.onTarget.state {
            case "on": return .onTarget(dwellSeconds: dwell, holding: false)
            case "holding": return .onTarget(dwellSeconds: dwell, holding: true)
            case "acquiring": return .acquiring(dwellSeconds: dwell)
            default: return frame.onTarget.on ? .onTarget(dwellSeconds: dwell, holding: false) : .offTarget
            }
        }
    }

    /// The tracker's state when it says more than "tracking" or "tracking lost".
    private var trackerDetail: String? {
        guard let s = self.trackerState, s != "tracking", s != "tracking lost" else { return nil }
        return s
    }

    /// The newest frame when its figures may be shown: connected, fresh and valid.
    public func currentFrame(at now: Int64) -> ReadoutFrame? {
        switch self.phase(at: now) {
        case .onTarget, .acquiring, .offTarget: return self.frame
        default: return nil
        }
    }

    static func seconds(_ nanoseconds: Int64) -> Double { Double(Swift.max(0, nanoseconds)) / 1e9 }

    /// A protocol reason code in words: `coil-missing` → "coil missing".
    public static func reasonText(_ code: String) -> String {
        switch code {
        case "stale": return "stale frame"
        case "coil-missing": return "coil missing"
        case "head-reference-missing": return "head reference missing"
        case "not-registered": return "not registered"
        case "no-target": return "no target"
        default: return code.replacingDashes()
        }
    }
}

extension String {
    fileprivate func replacingDashes() -> String { String(self.map { $0 == "-" ? " " : $0 }) }
}

/// The readout's state at one instant, most urgent first.
public enum ReadoutPhase: Equatable, Sendable {
    /// The server cannot be reached; `seconds` since it went away (nil while unknown).
    case unreachable(reason: String, attempt: Int, seconds: Double?)
    /// The first connection attempt is under way.
    case connecting
    /// Connected, no frame yet.
    case waiting(tracker: String?)
    /// No tracker frame: `silenceSeconds` since the last one (nil when unknown); the tracker's state
    /// when it says more (`reconnecting in 1 s (attempt 2)`).
    case trackingLost(silenceSeconds: Double?, lastFrame: Int?, tracker: String?)
    /// The newest frame is not valid, for these protocol reasons.
    case invalid(reasons: [String])
    case onTarget(dwellSeconds: Double, holding: Bool)
    case acquiring(dwellSeconds: Double)
    case offTarget

    /// The one-word state of the plain lines.
    public var token: String {
        switch self {
        case .unreachable: "UNREACHABLE"
        case .connecting: "CONNECTING"
        case .waiting: "WAITING"
        case .trackingLost: "TRACKING-LOST"
        case .invalid: "INVALID"
        case .onTarget: "ON-TARGET"
        case .acquiring: "ACQUIRING"
        case .offTarget: "OFF-TARGET"
        }
    }
}
