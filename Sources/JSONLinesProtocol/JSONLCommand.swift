/// A request's `id`: a number or a string chosen by the client, echoed in the response.
public enum JSONLRequestID: Sendable, Equatable, Hashable {
    case number(Double)
    case string(String)
}

/// What `subscribe` asks for.
public struct JSONLSubscription: Sendable, Equatable {
    /// Send a `frame` line per tracker frame (subject to `maxRateHz`).
    public var frames: Bool
    /// Send `event` lines.
    public var events: Bool
    /// The most frame lines per second (> 0); nil: every tracker frame.
    public var maxRateHz: Double?

    public init(frames: Bool = true, events: Bool = true, maxRateHz: Double? = nil) {
        self.frames = frames
        self.events = events
        self.maxRateHz = maxRateHz
    }

    /// The least time between two frame lines, ns, for a rate cap (0 when uncapped).
    public var minimumFrameIntervalNanoseconds: UInt64 {
        guard let r = self.maxRateHz, r > 0 else { return 0 }
        let ns = (1e9 / r).rounded(.down)
        return ns >= 1.8e19 ? UInt64.max : UInt64(ns)
    }
}

/// Which captures `clear-captures` forgets.
public enum JSONLCaptureKind: String, Sendable, Equatable, CaseIterable {
    case fiducials
    case scalp
    case all
}

/// When a pulse happened.
public enum JSONLPulseTime: Sendable, Equatable {
    /// When the server handles the request.
    case now
    /// At this reading of the server's clock (the clock of frames' `hostTimeNanoseconds`), ns.
    case serverNanoseconds(UInt64)
    /// This many milliseconds before the server handles the request (≥ 0).
    case ageMilliseconds(Double)
}

/// A `pulse` request's parameters.
public struct JSONLPulse: Sendable, Equatable {
    public var time: JSONLPulseTime
    /// Stimulator output as a percentage of maximum (0…100).
    public var intensityPercentMSO: Double?
    public var label: String?

    public init(time: JSONLPulseTime = .now, intensityPercentMSO: Double? = nil, label: String? = nil) {
        self.time = time
        self.intensityPercentMSO = intensityPercentMSO
        self.label = label
    }
}

/// One client command with its parameters, as parsed from a request line.
public enum JSONLCommand: Sendable, Equatable {
    case hello
    case status
    case targets
    case selectTarget(name: String)
    case subscribe(JSONLSubscription)
    case unsubscribe
    /// Average `frames` frames of the pointer tip into the named fiducial (1…1000, default 10).
    case captureFiducial(name: String, frames: Int)
    case captureScalpPoint
    /// The poses (`toolToTracker`) of `tools` in each of the next `frames` distinct tracker frames, every
    /// tool visible in every frame (for calibrations; 1…1000 frames, 1…4 tools).
    case capturePoses(tools: [String], frames: Int)
    case clearCaptures(JSONLCaptureKind)
    /// Compute a registration from the captures (and refine it on the scalp when `refine`); not applied.
    case register(refine: Bool)
    case acceptRegistration
    case pulse(JSONLPulse)

    /// The `cmd` text.
    public var name: String {
        switch self {
        case .hello: return "hello"
        case .status: return "status"
        case .targets: return "targets"
        case .selectTarget: return "select-target"
        case .subscribe: return "subscribe"
        case .unsubscribe: return "unsubscribe"
        case .captureFiducial: return "capture-fiducial"
        case .captureScalpPoint: return "capture-scalp-point"
        case .capturePoses: return "capture-poses"
        case .clearCaptures: return "clear-captures"
        case .register: return "register"
        case .acceptRegistration: return "accept-registration"
        case .pulse: return "pulse"
        }
    }

    /// Whether the command changes the session (target, captures, registration, pulse log). Such
    /// commands need the session's token unless the server runs `--insecure`; the others (reading
    /// and streaming) never do.
    public var changesSession: Bool {
        switch self {
        case .hello, .status, .targets, .subscribe, .unsubscribe, .capturePoses: return false
        case .selectTarget, .captureFiducial, .captureScalpPoint, .clearCaptures, .register, .acceptRegistration, .pulse:
            return true
        }
    }

    /// Every `cmd` of protocol version 1, in documentation order.
    public static let names: [String] = [
        "hello", "status", "targets", "select-target", "subscribe", "unsubscribe", "capture-fiducial",
        "capture-scalp-point", "capture-poses", "clear-captures", "register", "accept-registration", "pulse",
    ]
}

/// A parsed request line.
public struct JSONLRequest: Sendable, Equatable {
    public var id: JSONLRequestID?
    public var token: String?
    public var command: JSONLCommand

    public init(id: JSONLRequestID? = nil, token: String? = nil, command: JSONLCommand) {
        self.id = id
        self.token = token
        self.command = command
    }

    /// Whether the request carries `expected` as its token. Compares every byte whatever the first
    /// difference (no early exit that would time the token out).
    public func tokenMatches(_ expected: String) -> Bool {
        guard let token = self.token else { return false }
        let a = Array(token.utf8), b = Array(expected.utf8)
        var diff: UInt8 = a.count == b.count ? 0 : 1
        for i in 0..<Swift.max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0 && !b.isEmpty
    }
}
