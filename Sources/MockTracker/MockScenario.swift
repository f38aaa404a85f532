import Formats
import Geometry

/// A validated mock-tracker scenario (`"format": "coilnav-mock-scenario"`, `"version": 1`):
/// the frame rate and length of a run, the tools the mock tracker reports with their motion,
/// noise and visibility, and the faults its protocol side injects. The file format is
/// documented in `Mock/scenarios/README.md`; `MockScenario.load(path:)` reads one.
///
/// A scenario holds everything a run needs — referenced plans, registrations and meshes are
/// read once when the scenario is parsed — so a `MockSimulation` over it never does I/O.
///
/// Units: millimetres, degrees in files (radians never appear in a file), seconds, hertz.
public struct MockScenario: Sendable {
    /// The value of the `format` field.
    public static let format = "coilnav-mock-scenario"
    /// The newest scenario version this code reads.
    public static let currentVersion = 1

    /// The path or name the scenario was read from (used in messages).
    public let source: String
    /// Free text from the file.
    public let description: String?
    /// Tracker frames per second. Frame `i` (counting from 0) happens at `i / frameRateHz`
    /// seconds after the start.
    public let frameRateHz: Double
    /// How many frames the scenario lasts. `MockSimulation.frame(_:)` is defined past the end
    /// too (motions hold or keep oscillating); the server decides whether to stop there.
    public let frameCount: Int
    /// The device frame number reported for frame index 0; later frames count up from it,
    /// wrapping at 2³² like the NDI frame counter.
    public let startFrameNumber: UInt32
    /// The tools, in file order. `MockFrame.tools` lists their states in this order.
    public let tools: [MockTool]
    /// Protocol faults, sorted by frame index, at most one per frame.
    public let faults: [MockScheduledFault]
    /// The head-reference-to-MRI registration the scenario poses MRI-space motions through,
    /// when it has one.
    public let headToMRI: RigidTransform?

    /// The tool with the given name.
    public func tool(named name: String) -> MockTool? {
        self.tools.first { $0.name == name }
    }

    /// The tool with the given NDI port handle.
    public func tool(handle: UInt8) -> MockTool? {
        self.tools.first { $0.handle == handle }
    }

    /// The duration of `frameCount` frames.
    public var duration: Duration {
        MockSimulation.time(ofFrame: self.frameCount, rateHz: self.frameRateHz)
    }
}

/// What a tracked tool is for. The mock uses it only to find the head reference that
/// MRI-space motions are posed through; the server and the readout use it to label tools.
public enum MockToolKind: String, Equatable, Sendable, CaseIterable {
    /// The marker fixed to the subject's head (`head-reference`); MRI-space poses go through it.
    case headReference = "head-reference"
    /// The marker on the TMS coil.
    case coil
    /// A tracked pointer (stylus) for digitising landmarks and the scalp.
    case pointer
    /// A QA phantom.
    case phantom
    /// Anything else.
    case other
}

/// How a tool is made known to the tracker, which decides how the NDI protocol side answers
/// the port-handle commands.
public enum MockToolSetup: Equatable, Sendable {
    /// A passive (or active wireless) tool: the host requests a handle (PHRQ) and writes the
    /// tool-definition (ROM) file to it (PVWR). The path is relative to `Calibration/`.
    case passive(toolDefinition: String)
    /// An active, wired tool: its port handle appears by itself in PHSR once the tool is
    /// plugged in, no ROM needs to be written.
    case active

    /// The tool-definition file (relative to `Calibration/`) of a passive tool.
    public var toolDefinition: String? {
        if case .passive(let file) = self { return file }
        return nil
    }
}

/// Which coordinates a tool's motion is written in.
public enum MockPoseSpace: Equatable, Sendable {
    /// Tracker (camera) coordinates: the motion gives `toolToTracker` directly.
    case tracker
    /// Another tool's coordinates: the motion gives `toolToOther`, and
    /// `toolToTracker = otherToTracker * toolToOther`, so the tool follows the other tool.
    case tool(String)
    /// MRI coordinates of the scenario's registration, through the (single) head-reference
    /// tool: `toolToTracker = headToTracker * inverse(headToMRI) * toolToMRI`.
    case mri

    /// How the space is written in a scenario file (`"tracker"`, `"mri"` or a tool name).
    public var name: String {
        switch self {
        case .tracker: return "tracker"
        case .mri: return "mri"
        case .tool(let n): return n
        }
    }
}

/// Per-frame measurement noise of a tool. Zero everywhere means the measured pose is the
/// true pose (rounded to 32-bit floats, as the wire carries it).
public struct MockNoise: Equatable, Sendable {
    /// Standard deviation of each tracker-space coordinate of the tool origin, mm.
    public var translationSigmaMM: Double
    /// Standard deviation of each component of a small rotation vector applied in the tool's
    /// own frame, degrees.
    public var rotationSigmaDegrees: Double
    /// The RMS marker fit error the tracker reports with each pose, mm (a constant).
    public var rmsErrorMM: Double

    /// Noise with the given spreads (all default to 0).
    public init(translationSigmaMM: Double = 0, rotationSigmaDegrees: Double = 0, rmsErrorMM: Double = 0) {
        self.translationSigmaMM = translationSigmaMM
        self.rotationSigmaDegrees = rotationSigmaDegrees
        self.rmsErrorMM = rmsErrorMM
    }

    /// No noise, zero RMS error.
    public static let none = MockNoise()
}

/// A half-open time interval `[fromSeconds, toSeconds)` of the run; frame `i` is inside when
/// `fromSeconds ≤ i / frameRateHz < toSeconds`.
public struct MockWindow: Equatable, Sendable {
    /// Start (inclusive), seconds from the start of the run.
    public var fromSeconds: Double
    /// End (exclusive), seconds from the start of the run.
    public var toSeconds: Double

    /// The window `[fromSeconds, toSeconds)`.
    public init(fromSeconds: Double, toSeconds: Double) {
        self.fromSeconds = fromSeconds
        self.toSeconds = toSeconds
    }

    /// True when the time (seconds from the start) lies inside.
    public func contains(_ seconds: Double) -> Bool {
        seconds >= self.fromSeconds && seconds < self.toSeconds
    }
}

/// One tool of a scenario.
public struct MockTool: Sendable {
    /// Unique within the scenario; never `tracker` or `mri`.
    public let name: String
    /// What the tool is for.
    public let kind: MockToolKind
    /// The NDI port handle the mock reports for the tool (1–255, unique).
    public let handle: UInt8
    /// Passive with a tool-definition file, or active wired.
    public let setup: MockToolSetup
    /// The coordinates the motion is written in.
    public let space: MockPoseSpace
    /// How the tool moves (noise-free).
    public let motion: MockMotion
    /// Measurement noise and reported RMS error.
    public let noise: MockNoise
    /// Times the tool is hidden from the camera (reported missing).
    public let occlusions: [MockWindow]
    /// Times the tool is partly out of the measurement volume (reported with a pose and the
    /// partly-out-of-volume flag).
    public let partlyOutOfVolume: [MockWindow]
    /// Times the tool's port is disabled (reported disabled, no pose).
    public let disabled: [MockWindow]
    /// Probability, per frame, that the tool is missing in a frame where it would otherwise be
    /// seen (random, from the run's seed).
    public let dropoutProbability: Double

    /// Where the pointer tip is on each landmark of a `landmarks` motion, and when; empty for
    /// other motions. Positions are in the motion's space (`space`).
    public var landmarkVisits: [MockLandmarkVisit] { self.motion.landmarkVisits }
}

/// One dwell of a `landmarks` motion: the tip rests on `positionMM` (in the motion's space)
/// for every frame time in `[fromSeconds, toSeconds)`.
public struct MockLandmarkVisit: Equatable, Sendable {
    /// The point's label (a plan fiducial's label, or the scenario's).
    public var label: String
    /// Where the tip rests, mm, in the motion's space.
    public var positionMM: Vector3
    /// First instant of the dwell, seconds from the start (inclusive).
    public var fromSeconds: Double
    /// End of the dwell, seconds from the start (exclusive).
    public var toSeconds: Double

    /// A dwell on `positionMM` during `[fromSeconds, toSeconds)`.
    public init(label: String, positionMM: Vector3, fromSeconds: Double, toSeconds: Double) {
        self.label = label
        self.positionMM = positionMM
        self.fromSeconds = fromSeconds
        self.toSeconds = toSeconds
    }
}

/// A fault the protocol side injects into the reply that carries one frame.
public enum MockFault: Equatable, Sendable {
    /// The reply's CRC is wrong (the host must reject that reply and resynchronise).
    case corruptCRC
    /// The tracker answers nothing for this long, then carries on.
    case stall(Duration)
    /// The tracker drops the connection (closes the socket, hangs up the pseudo-terminal) and
    /// comes back after this long.
    case disconnect(Duration)
}

/// A fault and the frame index (counting from 0) whose reply it affects.
public struct MockScheduledFault: Equatable, Sendable {
    /// The frame index (from 0, not the device frame number).
    public var frameIndex: Int
    public var fault: MockFault

    /// `fault` on the reply carrying frame `frameIndex`.
    public init(frameIndex: Int, fault: MockFault) {
        self.frameIndex = frameIndex
        self.fault = fault
    }
}
