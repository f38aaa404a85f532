import Formats
import Foundation
import Navigation
import TrackerCore

/// The configuration file of `coilnav serve` (`"format": "coilnav-serve"`, `"version": 1`;
/// `docs/file-formats.md`, example `Mock/demo/serve.json`).
///
/// `tracker` and `plan` are required; every other key has a default. Relative paths in the file
/// (`plan`, `registration`, `toolSet`, `coilCalibration`, `session`, and the path of a `mock://`
/// or `replay://` tracker URL) are resolved against the folder of the configuration file when it
/// is loaded, so the values held here are ready to open. Reading is strict: unknown keys, wrong
/// types, ports outside 0…65535 and inconsistent thresholds are errors naming the file, line,
/// column and field. Command-line flags override the file through the public properties or
/// `apply(_:)`.
public struct ServeConfiguration: Equatable, Sendable {
    /// The value of the `format` field.
    public static let format = "coilnav-serve"
    /// The newest version this code reads.
    public static let currentVersion = 1
    /// The tool set used when the file names none, relative to CoilNav's data folder (the
    /// command locates it as `coilnav track` does).
    public static let defaultToolSet = "Calibration/tools/toolset-mock.json"
    public static let defaultIGTLPort = 18944
    public static let defaultJSONPort = 18945
    public static let defaultBind = "127.0.0.1"
    public static let defaultMaxFrameAgeMilliseconds = 100.0

    /// Where the tracker is (`ndi-usb://`, `ndi-tcp://HOST:PORT`, `mock://scenario.json?seed=N`, …).
    public var tracker: TrackerURL
    /// The plan file (`coilnav-plan`).
    public var plan: String
    /// A registration file (`coilnav-registration`) to start registered; nil: start unregistered
    /// (or with the session's registration).
    public var registration: String?
    /// The tool set file (`coilnav-toolset`); nil: `defaultToolSet`.
    public var toolSet: String?
    /// A coil calibration file (`coilnav-coil-calibration`); nil: the identity (coil frame = coil
    /// marker frame, as in the mock scenarios).
    public var coilCalibration: String?
    /// The pointer calibration (`coilnav-pointer-calibration`: the tip in the pointer marker's frame);
    /// without it pointer captures are refused.
    public var pointerCalibration: String?
    /// Tool names in tracker frames.
    public var coilTool: String
    public var headTool: String
    public var pointerTool: String
    /// OpenIGTLink port; 0 lets the system pick one.
    public var igtlPort: Int
    /// JSON (WebSocket/HTTP) port; 0 lets the system pick one.
    public var jsonPort: Int
    /// The address both servers listen on (an IPv4 or IPv6 literal).
    public var bind: String
    /// The session directory (`SessionStore`); nil: nothing persisted.
    public var session: String?
    /// Serve without the session token (for local experiments only).
    public var insecure: Bool
    /// On-target thresholds (same names and defaults as `OnTargetThresholds`).
    public var onTarget: OnTargetThresholds
    /// A frame older than this is stale, milliseconds (> 0).
    public var maxFrameAgeMilliseconds: Double
    /// The plan target to navigate to at start; nil: none (or the session's).
    public var activeTarget: String?

    public init(
        tracker: TrackerURL, plan: String, registration: String? = nil, toolSet: String? = nil,
        coilCalibration: String? = nil, pointerCalibration: String? = nil, coilTool: String = "coil", headTool: String = "head",
        pointerTool: String = "pointer", igtlPort: Int = ServeConfiguration.defaultIGTLPort,
        jsonPort: Int = ServeConfiguration.defaultJSONPort, bind: String = ServeConfiguration.defaultBind,
        session: String? = nil, insecure: Bool = false, onTarget: OnTargetThresholds = .standard,
        maxFrameAgeMilliseconds: Double = ServeConfiguration.defaultMaxFrameAgeMilliseconds, activeTarget: String? = nil
    ) {
        self.tracker = tracker
        self.plan = plan
        self.registration = registration
        self.toolSet = toolSet
        self.coilCalibration = coilCalibration
        self.pointerCalibration = pointerCalibration
        self.coilTool = coilTool
        self.headTool = headTool
        self.pointerTool = pointerTool
        self.igtlPort = igtlPort
        self.jsonPort = jsonPort
        self.bind = bind
        self.session = session
        self.insecure = insecure
        self.onTarget = onTarget
        self.maxFrameAgeMilliseconds = maxFrameAgeMilliseconds
        self.activeTarget = activeTarget
    }

    /// The navigation pipeline's configuration: tool names, staleness limit, on-target thresholds.
    public var navigationConfiguration: NavigationConfiguration {
        NavigationConfiguration(
            coilToolName: self.coilTool, headToolName: self.headTool,
            maxFrameAgeNanoseconds: UInt64((self.maxFrameAgeMilliseconds * 1_000_000).rounded()), onTarget: self.onTarget)
    }

    /// Values given on the command line; nil leaves the file's value. Paths are used as given
    /// (relative to the working directory), not resolved against the configuration file.
    public struct Overrides: Equatable, Sendable {
        public var tracker: TrackerURL?
        public var plan: String?
        public var registration: String?
        public var toolSet: String?
        public var coilCalibration: String?
        public var pointerCalibration: String?
        public var coilTool: String?
        public var headTool: String?
        public var pointerTool: String?
        public var igtlPort: Int?
        public var jsonPort: Int?
        public var bind: String?
        public var session: String?
        public var insecure: Bool?
        public var maxFrameAgeMilliseconds: Double?
        public var activeTarget: String?

        public init(
            tracker: TrackerURL? = nil, plan: String? = nil, registration: String? = nil, toolSet: String? = nil,
            coilCalibration: String? = nil, pointerCalibration: String? = nil, coilTool: String? = nil, headTool: String? = nil,
            pointerTool: String? = nil,
            igtlPort: Int? = nil, jsonPort: Int? = nil, bind: String? = nil, session: String? = nil, insecure: Bool? = nil,
            maxFrameAgeMilliseconds: Double? = nil, activeTarget: String? = nil
        ) {
            self.tracker = tracker
            self.plan = plan
            self.registration = registration
            self.toolSet = toolSet
            self.coilCalibration = coilCalibration
            self.pointerCalibration = pointerCalibration
            self.coilTool = coilTool
            self.headTool = headTool
            self.pointerTool = pointerTool
            self.igtlPort = igtlPort
            self.jsonPort = jsonPort
            self.bind = bind
            self.session = session
            self.insecure = insecure
            self.maxFrameAgeMilliseconds = maxFrameAgeMilliseconds
            self.activeTarget = activeTarget
        }
    }

    /// Applies command-line overrides, then checks the result as a file is checked (ports,
    /// distinct tool names, bind address …); errors name `source` and the configuration key.
    public mutating func apply(_ overrides: Overrides, source: String = "command line") throws(FileFormatError) {
        if let v = overrides.tracker { self.tracker = v }
        if let v = overrides.plan { self.plan = v }
        if let v = overrides.registration { self.registration = v }
        if let v = overrides.toolSet { self.toolSet = v }
        if let v = overrides.coilCalibration { self.coilCalibration = v }
        if let v = overrides.pointerCalibration { self.pointerCalibration = v }
        if let v = overrides.coilTool { self.coilTool = v }
        if let v = overrides.headTool { self.headTool = v }
        if let v = overrides.pointerTool { self.pointerTool = v }
        if let v = overrides.igtlPort { self.igtlPort = v }
        if let v = overrides.jsonPort { self.jsonPort = v }
        if let v = overrides.bind { self.bind = v }
        if let v = overrides.session { self.session = v }
        if let v = overrides.insecure { self.insecure = v }
        if let v = overrides.maxFrameAgeMilliseconds { self.maxFrameAgeMilliseconds = v }
        if let v = overrides.activeTarget { self.activeTarget = v }
        try self.validate(source: source)
    }

    /// Checks a configuration built in code or changed after loading: ports in 0…65535 and not
    /// equal (unless 0), non-empty distinct tool names, an IP address literal to bind, a positive
    /// frame age, sane thresholds. Errors name `source` and the key.
    public func validate(source: String = "configuration") throws(FileFormatError) {
        func fail(_ field: String, _ message: String) -> FileFormatError {
            FileFormatError(file: source, field: field, message: message)
        }
        for (key, port) in [("igtlPort", self.igtlPort), ("jsonPort", self.jsonPort)] where !(0...65535).contains(port) {
            throw fail(key, Self.portMessage(port))
        }
        if self.igtlPort != 0 && self.igtlPort == self.jsonPort { throw fail("jsonPort", Self.samePortMessage(self.jsonPort)) }
        if isBlank(self.plan) { throw fail("plan", "must not be empty") }
        let tools = [("coilTool", self.coilTool), ("headTool", self.headTool), ("pointerTool", self.pointerTool)]
        for (key, name) in tools where isBlank(name) { throw fail(key, "must not be empty") }
        if let message = Self.duplicateToolMessage(tools) { throw fail(message.key, message.text) }
        if !Self.isIPAddress(self.bind) { throw fail("bind", Self.bindMessage(self.bind)) }
        if !(self.maxFrameAgeMilliseconds > 0) || !self.maxFrameAgeMilliseconds.isFinite {
            throw fail("maxFrameAgeMilliseconds", "must be a positive number of milliseconds, got \(self.maxFrameAgeMilliseconds)")
        }
        if let (key, message) = Self.thresholdProblem(self.onTarget) { throw fail("onTarget.\(key)", message) }
    }

    // MARK: Reading

    static let keys: Set<String> = [
        "format", "version", "tracker", "plan", "registration", "toolSet", "coilCalibration", "pointerCalibration", "coilTool",
        "headTool",
        "pointerTool", "igtlPort", "jsonPort", "bind", "session", "insecure", "onTarget", "maxFrameAgeMilliseconds",
        "activeTarget",
    ]
    static let onTargetKeys: Set<String> = [
        "onDistanceMM", "onTiltDegrees", "onTwistDegrees", "dwellNanoseconds", "offDistanceMM", "offTiltDegrees",
        "offTwistDegrees",
    ]

    /// Reads a configuration file; relative paths are resolved against its folder.
    public static func load(path: String) throws(FileFormatError) -> ServeConfiguration {
        let data = try FileAccess.read(path: path)
        return try Self.parse(data, source: path, baseDirectory: (path as NSString).deletingLastPathComponent)
    }

    /// Parses a configuration; relative paths are joined to `baseDirectory` (textually, `..` kept;
    /// an empty `baseDirectory` leaves them relative to the working directory).
    public static func parse(_ data: Data, source: String, baseDirectory: String) throws(FileFormatError) -> ServeConfiguration {
        let document = try JSONDocument.parse(data, source: source)
        let root = try document.rootField.object()
        try VersionedFile.checkHeader(root, format: Self.format, supportedVersion: Self.currentVersion, kind: "serve configuration")
        try root.rejectUnknownKeys(Self.keys)
        func path(_ field: JSONField) throws(FileFormatError) -> String {
            Self.resolve(try nonEmptyString(field), against: baseDirectory)
        }
        func optionalPath(_ key: String) throws(FileFormatError) -> String? {
            guard let f = root.optional(key) else { return nil }
            return try path(f)
        }
        func name(_ key: String, _ fallback: String) throws(FileFormatError) -> String {
            guard let f = root.optional(key) else { return fallback }
            return try nonEmptyString(f)
        }
        func port(_ key: String, _ fallback: Int) throws(FileFormatError) -> Int {
            guard let f = root.optional(key) else { return fallback }
            let p = try f.integer()
            guard (0...65535).contains(p) else { throw f.error(Self.portMessage(p)) }
            return p
        }

        let trackerField = try root.required("tracker")
        let trackerText = try trackerField.string()
        var tracker: TrackerURL
        do {
            tracker = try TrackerURL(parsing: trackerText)
        } catch {
            throw trackerField.error(error.description)
        }
        switch tracker {
        case .mock(let p, let seed): tracker = .mock(scenarioPath: Self.resolve(p, against: baseDirectory), seed: seed)
        case .replay(let p, let speed): tracker = .replay(path: Self.resolve(p, against: baseDirectory), speed: speed)
        default: break
        }

        let igtlPort = try port("igtlPort", Self.defaultIGTLPort)
        let jsonPort = try port("jsonPort", Self.defaultJSONPort)
        if igtlPort != 0 && igtlPort == jsonPort {
            throw (root.optional("jsonPort") ?? root.optional("igtlPort") ?? root.field).error(Self.samePortMessage(jsonPort))
        }

        var toolFields: [(String, String)] = []
        var toolName: [String: String] = [:]
        for (key, fallback) in [("coilTool", "coil"), ("headTool", "head"), ("pointerTool", "pointer")] {
            let n = try name(key, fallback)
            toolFields.append((key, n))
            toolName[key] = n
        }
        if let problem = Self.duplicateToolMessage(toolFields) {
            throw (root.optional(problem.key) ?? root.field).error(problem.text)
        }

        var bind = Self.defaultBind
        if let f = root.optional("bind") {
            bind = try f.string()
            guard Self.isIPAddress(bind) else { throw f.error(Self.bindMessage(bind)) }
        }

        var maxAge = Self.defaultMaxFrameAgeMilliseconds
        if let f = root.optional("maxFrameAgeMilliseconds") {
            maxAge = try f.number()
            guard maxAge > 0 else { throw f.error("must be a positive number of milliseconds, got \(maxAge)") }
        }

        var onTarget = OnTargetThresholds.standard
        if let f = root.optional("onTarget") {
            let o = try f.object()
            try o.rejectUnknownKeys(Self.onTargetKeys)
            func positive(_ key: String, _ fallback: Double) throws(FileFormatError) -> Double {
                guard let g = o.optional(key) else { return fallback }
                let x = try g.number()
                guard x > 0 else { throw g.error("must be positive, got \(x)") }
                return x
            }
            onTarget.onDistanceMM = try positive("onDistanceMM", onTarget.onDistanceMM)
            onTarget.onTiltDegrees = try positive("onTiltDegrees", onTarget.onTiltDegrees)
            onTarget.onTwistDegrees = try positive("onTwistDegrees", onTarget.onTwistDegrees)
            onTarget.offDistanceMM = try positive("offDistanceMM", onTarget.offDistanceMM)
            onTarget.offTiltDegrees = try positive("offTiltDegrees", onTarget.offTiltDegrees)
            onTarget.offTwistDegrees = try positive("offTwistDegrees", onTarget.offTwistDegrees)
            if let g = o.optional("dwellNanoseconds") {
                let n = try g.integer()
                guard n >= 0 else { throw g.error("must not be negative, got \(n)") }
                onTarget.dwellNanoseconds = UInt64(n)
            }
            if let (key, message) = Self.thresholdProblem(onTarget) {
                // Located at the key's value, or at the object when the key was left at its default.
                throw o.optional(key)?.error(message) ?? f.document.error(at: f.value, path: "onTarget.\(key)", message)
            }
        }

        return ServeConfiguration(
            tracker: tracker,
            plan: try path(root.required("plan")),
            registration: try optionalPath("registration"),
            toolSet: try optionalPath("toolSet"),
            coilCalibration: try optionalPath("coilCalibration"),
            pointerCalibration: try optionalPath("pointerCalibration"),
            coilTool: toolName["coilTool"]!, headTool: toolName["headTool"]!, pointerTool: toolName["pointerTool"]!,
            igtlPort: igtlPort, jsonPort: jsonPort, bind: bind,
            session: try optionalPath("session"),
            insecure: try root.optional("insecure")?.bool() ?? false,
            onTarget: onTarget,
            maxFrameAgeMilliseconds: maxAge,
            activeTarget: try root.optional("activeTarget").map { f throws(FileFormatError) in try nonEmptyString(f) })
    }

    /// `path` itself when absolute, otherwise joined to `directory` (textually).
    public static func resolve(_ path: String, against directory: String) -> String {
        if path.hasPrefix("/") || directory.isEmpty { return path }
        return (directory as NSString).appendingPathComponent(path)
    }

    // MARK: Shared checks

    static func portMessage(_ port: Int) -> String {
        "port \(port) is out of range 0…65535 (0 lets the system pick one)"
    }

    static func samePortMessage(_ port: Int) -> String {
        "igtlPort and jsonPort are both \(port); the two servers need different ports"
    }

    static func bindMessage(_ bind: String) -> String {
        "expected an IPv4 or IPv6 address such as \"127.0.0.1\", \"0.0.0.0\" or \"::1\", got \(quoted(bind))"
    }

    /// The second of two tool keys naming the same tool, with the message.
    static func duplicateToolMessage(_ tools: [(String, String)]) -> (key: String, text: String)? {
        for i in tools.indices {
            for j in 0..<i where tools[j].1 == tools[i].1 {
                return (tools[i].0, "\(tools[i].0) and \(tools[j].0) are both \(quoted(tools[i].1)); each tool needs its own name")
            }
        }
        return nil
    }

    /// The first off-threshold below its on-threshold (the hysteresis band would be inverted).
    static func thresholdProblem(_ t: OnTargetThresholds) -> (key: String, message: String)? {
        let pairs: [(String, Double, String, Double)] = [
            ("onDistanceMM", t.onDistanceMM, "offDistanceMM", t.offDistanceMM),
            ("onTiltDegrees", t.onTiltDegrees, "offTiltDegrees", t.offTiltDegrees),
            ("onTwistDegrees", t.onTwistDegrees, "offTwistDegrees", t.offTwistDegrees),
        ]
        for (onKey, on, offKey, off) in pairs {
            if !(on > 0) { return (onKey, "must be positive, got \(on)") }
            if !(off >= on) { return (offKey, "must be at least \(onKey) (\(on)), got \(off)") }
        }
        return nil
    }

    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}
