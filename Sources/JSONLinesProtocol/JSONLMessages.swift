import Navigation

/// A server event, sent as `{"type":"event","event":"<name>", …}` to clients subscribed to events.
public enum JSONLEvent: Sendable, Equatable {
    /// No frame for `silenceMilliseconds`; `lastFrame` is the last frame number received (nil: none yet).
    case trackingLost(lastFrame: UInt32?, silenceMilliseconds: Double)
    /// Frames arrive again; `frame` is the first one.
    case trackingRestored(frame: UInt32)
    /// The output's validity or its set of reasons changed at `frame`.
    case validityChanged(frame: UInt32, invalidity: NavigationInvalidity)
    /// The active target changed (nil: none).
    case targetChanged(name: String?)
    /// A registration was accepted or cleared.
    case registrationChanged(registered: Bool)
    /// The on-target state became on at `frame`, after a qualifying run of `dwellMilliseconds`.
    case onTarget(frame: UInt32, dwellMilliseconds: Double)
    /// The on-target state became off at `frame`.
    case offTarget(frame: UInt32)
    /// A pulse was logged: its number in the session's pulse log (the server counts from 1), at this server time.
    case pulseRecorded(index: Int, timeNanoseconds: UInt64)
    /// The tracker driver's state, as text ("tracking", "reconnecting in 2 s", …).
    case trackerState(String)
    /// Something a person should see.
    case warning(String)

    /// The `event` text.
    public var name: StaticString {
        switch self {
        case .trackingLost: return "tracking-lost"
        case .trackingRestored: return "tracking-restored"
        case .validityChanged: return "validity-changed"
        case .targetChanged: return "target-changed"
        case .registrationChanged: return "registration-changed"
        case .onTarget: return "on-target"
        case .offTarget: return "off-target"
        case .pulseRecorded: return "pulse-recorded"
        case .trackerState: return "tracker-state"
        case .warning: return "warning"
        }
    }
}

/// A JSON value for response results the typed cases do not cover. Objects keep their order.
public indirect enum JSONLValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    /// For counters and clock readings (ns) beyond `Int64`.
    case unsigned(UInt64)
    case number(Double)
    case string(String)
    case array([JSONLValue])
    case object([JSONLMember])
}

/// One member of a `JSONLValue.object` or of a `JSONLResult.fields` result.
public struct JSONLMember: Sendable, Equatable {
    public var key: String
    public var value: JSONLValue
    public init(_ key: String, _ value: JSONLValue) {
        self.key = key
        self.value = value
    }
}

/// The `hello` result.
public struct JSONLHello: Sendable, Equatable {
    /// `JSONLEncoder.protocolVersion` unless a test says otherwise.
    public var protocolVersion: Int
    /// E.g. "coilnav 0.1.0".
    public var serverVersion: String
    /// The tracker's nominal frame rate, Hz (nil while unknown).
    public var frameRateHz: Double?
    /// The tool names of the tool set, in its order.
    public var toolNames: [String]
    /// Whether a registration is applied.
    public var registered: Bool
    /// Whether session-changing commands need a token (false with `--insecure`).
    public var tokenRequired: Bool
    /// The plan's MRI fiducial names, in plan order (what `capture-fiducial` accepts).
    public var fiducials: [String]

    public init(
        protocolVersion: Int = JSONLEncoder.protocolVersion, serverVersion: String, frameRateHz: Double?,
        toolNames: [String], registered: Bool, tokenRequired: Bool, fiducials: [String] = []
    ) {
        self.fiducials = fiducials
        self.protocolVersion = protocolVersion
        self.serverVersion = serverVersion
        self.frameRateHz = frameRateHz
        self.toolNames = toolNames
        self.registered = registered
        self.tokenRequired = tokenRequired
    }
}

/// The `status` result.
public struct JSONLStatus: Sendable, Equatable {
    /// The tracker driver's state text.
    public var trackerState: String
    /// The newest frame number received (nil: none yet).
    public var lastFrame: UInt32?
    public var registered: Bool
    /// A registration has been computed by `register` and awaits `accept-registration`.
    public var registrationPending: Bool
    /// The active target's name.
    public var target: String?
    /// Names of the captured fiducials, in capture order.
    public var fiducials: [String]
    public var scalpPoints: Int
    public var pulses: Int
    /// This connection's subscription (nil: not subscribed).
    public var subscription: JSONLSubscription?
    /// The applied registration's fiducial registration error, mm (nil: not registered).
    public var freMM: Double?
    /// The predicted target registration error at the active target's cortical point, mm, for the
    /// registration's fiducial configuration and `fleMM` (nil when unknown).
    public var predictedTREMM: Double?
    /// The fiducial localisation error the prediction assumes, mm.
    public var fleMM: Double?
    /// Frames received over the last second.
    public var frameRateHz: Double?
    /// Frames received, and device frame numbers skipped (frames the host never saw), since the start.
    public var framesReceived: Int
    public var framesDropped: Int

    public init(
        trackerState: String, lastFrame: UInt32?, registered: Bool, registrationPending: Bool, target: String?,
        fiducials: [String], scalpPoints: Int, pulses: Int, subscription: JSONLSubscription?, freMM: Double? = nil,
        predictedTREMM: Double? = nil, fleMM: Double? = nil, frameRateHz: Double? = nil, framesReceived: Int = 0,
        framesDropped: Int = 0
    ) {
        self.freMM = freMM
        self.predictedTREMM = predictedTREMM
        self.fleMM = fleMM
        self.frameRateHz = frameRateHz
        self.framesReceived = framesReceived
        self.framesDropped = framesDropped
        self.trackerState = trackerState
        self.lastFrame = lastFrame
        self.registered = registered
        self.registrationPending = registrationPending
        self.target = target
        self.fiducials = fiducials
        self.scalpPoints = scalpPoints
        self.pulses = pulses
        self.subscription = subscription
    }
}

/// One entry of the `targets` result.
public struct JSONLTargetInfo: Sendable, Equatable {
    public var name: String
    public var active: Bool
    public var coilToCortexMM: Double

    public init(name: String, active: Bool, coilToCortexMM: Double) {
        self.name = name
        self.active = active
        self.coilToCortexMM = coilToCortexMM
    }
}

/// The `register` result: the registration computed (not applied).
public struct JSONLRegistrationSummary: Sendable, Equatable {
    /// Fiducial registration error (RMS of the residuals), mm.
    public var freMM: Double
    /// Each fiducial's residual after the fit, mm, in capture order.
    public var residualsMM: [(name: String, mm: Double)]
    /// Whether surface refinement ran, and its RMS point-to-surface distance after it, mm.
    public var refined: Bool
    public var surfaceRMSMM: Double?
    /// The predicted target registration error at each plan target's cortical point, mm, for this
    /// fiducial configuration and `fleMM`.
    public var predictedTREMM: [(name: String, mm: Double)]
    /// The fiducial localisation error the prediction assumes, mm.
    public var fleMM: Double?
    /// Warnings a person should read before accepting (e.g. FRE above 3 mm, large refinement shifts).
    public var warnings: [String]

    public init(
        freMM: Double, residualsMM: [(name: String, mm: Double)], refined: Bool, surfaceRMSMM: Double?,
        predictedTREMM: [(name: String, mm: Double)] = [], fleMM: Double? = nil, warnings: [String] = []
    ) {
        self.predictedTREMM = predictedTREMM
        self.fleMM = fleMM
        self.warnings = warnings
        self.freMM = freMM
        self.residualsMM = residualsMM
        self.refined = refined
        self.surfaceRMSMM = surfaceRMSMM
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.freMM == b.freMM && a.refined == b.refined && a.surfaceRMSMM == b.surfaceRMSMM
            && a.residualsMM.map(\.name) == b.residualsMM.map(\.name) && a.residualsMM.map(\.mm) == b.residualsMM.map(\.mm)
            && a.predictedTREMM.map(\.name) == b.predictedTREMM.map(\.name) && a.predictedTREMM.map(\.mm) == b.predictedTREMM.map(\.mm)
            && a.fleMM == b.fleMM && a.warnings == b.warnings
    }
}

/// What a successful response carries besides `"ok": true`.
public enum JSONLResult: Sendable, Equatable {
    /// Nothing more.
    case empty
    case hello(JSONLHello)
    case status(JSONLStatus)
    case targets([JSONLTargetInfo])
    case registration(JSONLRegistrationSummary)
    /// Any other members, in order (e.g. `capture-fiducial`'s `"positionHeadMM"`).
    case fields([JSONLMember])
}
