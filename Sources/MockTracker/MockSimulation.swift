import Geometry

/// What the tracker reports for a tool in one frame.
public enum MockToolStatus: String, Equatable, Sendable, CaseIterable {
    /// Seen: a pose is reported.
    case ok
    /// Not seen (occluded, or a random dropout): no pose.
    case missing
    /// Seen, partly outside the measurement volume: a pose is reported with the NDI
    /// "partially out of volume" port-status flag.
    case partlyOutOfVolume = "partly-out-of-volume"
    /// The tool's port is disabled: no pose.
    case disabled
}

/// A measured pose exactly as the NDI BX reply carries it: every component is a value of a
/// 32-bit float (so `Float(x)` is exact for each, and a codec writes them bit for bit).
public struct MockMeasurement: Equatable, Sendable {
    /// Unit quaternion (NDI order, `q0 ≥ 0`), rotating tool coordinates into tracker
    /// coordinates; each component rounded to a 32-bit float.
    public var rotation: Quaternion
    /// The tool origin in tracker coordinates, mm, each component rounded to a 32-bit float.
    public var translationMM: Vector3

    public init(rotation: Quaternion, translationMM: Vector3) {
        self.rotation = rotation
        self.translationMM = translationMM
    }

    /// The measured `toolToTracker` (the quaternion re-normalised in double precision).
    public var transform: RigidTransform { RigidTransform(rotation: self.rotation, translation: self.translationMM) }
}

/// One tool in one frame.
public struct MockToolState: Equatable, Sendable {
    /// The scenario's tool name.
    public var name: String
    /// The NDI port handle.
    public var handle: UInt8
    /// Seen, hidden, partly out of volume or disabled.
    public var status: MockToolStatus
    /// The noise-free `toolToTracker`, always defined (also while the tool is not seen).
    public var truth: RigidTransform
    /// The noisy pose the tracker reports, rounded to 32-bit floats; `nil` when the status is
    /// `missing` or `disabled`.
    public var measured: MockMeasurement?
    /// The RMS marker fit error reported with the pose, mm (a 32-bit float value); 0 when no
    /// pose is reported.
    public var rmsErrorMM: Double

    /// A tool state (the simulation makes these; tests of the protocol side may build their own).
    public init(name: String, handle: UInt8, status: MockToolStatus, truth: RigidTransform, measured: MockMeasurement?, rmsErrorMM: Double) {
        self.name = name
        self.handle = handle
        self.status = status
        self.truth = truth
        self.measured = measured
        self.rmsErrorMM = rmsErrorMM
    }
}

/// Everything the mock tracker knows about one frame.
public struct MockFrame: Equatable, Sendable {
    /// The frame's index in the run, from 0.
    public var index: Int
    /// The device frame number: `startFrameNumber + index`, wrapping at 2³².
    public var frameNumber: UInt32
    /// When the frame happens, from the start of the run: `index / frameRateHz`.
    public var timeSinceStart: Duration
    /// One state per scenario tool, in scenario order.
    public var tools: [MockToolState]
    /// The fault the protocol side injects into the reply carrying this frame, if any.
    public var fault: MockFault?

    /// A frame (the simulation makes these; tests of the protocol side may build their own).
    public init(index: Int, frameNumber: UInt32, timeSinceStart: Duration, tools: [MockToolState], fault: MockFault?) {
        self.index = index
        self.frameNumber = frameNumber
        self.timeSinceStart = timeSinceStart
        self.tools = tools
        self.fault = fault
    }
}

/// The deterministic simulation of a scenario: frame `i` of a run with seed `s` is a pure
/// function of the scenario, `s` and `i`.
///
/// ### Determinism contract
/// - **Random access.** `frame(_:)` may be called for any index ≥ 0, in any order, any number of
///   times, from any thread: the result depends only on `(scenario, seed, index)`.
/// - **Truth is seed-free.** The noise-free poses (`truth`) depend only on the scenario and the
///   frame time; the seed drives only measurement noise and random dropouts.
/// - **Random streams.** Tool `k` of frame `i` draws from its own generator,
///   `SplitMix64(seed: mix(mix(mix(seed) &+ i) &+ k))` where `mix` is the SplitMix64 output
///   function, always in the same order: one uniform for the dropout, three normal deviates
///   for the translation noise, three for the rotation noise — drawn whether or not they are
///   used, so editing one tool never changes another tool's noise.
/// - **Bit for bit.** Only IEEE double arithmetic and the platform's `sin`, `cos`, `atan2` and
///   `log` are used, so the same build on the same platform gives identical bits; measured
///   values are rounded to 32-bit floats, as the wire carries them.
public struct MockSimulation: Sendable {
    public let scenario: MockScenario
    public let seed: UInt64

    /// How each tool's motion pose is composed into tracker space.
    private enum Parent: Sendable {
        case tracker
        case tool(Int)
        /// Through the head reference at this index and `mriToHead`.
        case mri(Int)
    }

    private let parents: [Parent]
    /// Tool indices such that every tool comes after the tool it is posed relative to.
    private let order: [Int]
    private let mriToHead: RigidTransform
    private let faultsByFrame: [Int: MockFault]

    /// A simulation of `scenario` with the random seed `seed`.
    public init(scenario: MockScenario, seed: UInt64) {
        self.scenario = scenario
        self.seed = seed
        let tools = scenario.tools
        let head = tools.firstIndex { $0.kind == .headReference }
        self.parents = tools.map { t in
            switch t.space {
            case .tracker: return .tracker
            case .tool(let name): return .tool(tools.firstIndex { $0.name == name }!)
            case .mri: return .mri(head!)
            }
        }
        // The parser refuses cycles, so this terminates.
        var placed = [Bool](repeating: false, count: tools.count)
        var order: [Int] = []
        while order.count < tools.count {
            for i in tools.indices where !placed[i] {
                switch self.parents[i] {
                case .tracker: break
                case .tool(let j), .mri(let j): if !placed[j] { continue }
                }
                placed[i] = true
                order.append(i)
            }
        }
        self.order = order
        self.mriToHead = scenario.headToMRI?.inverse ?? .identity
        var faults: [Int: MockFault] = [:]
        for f in scenario.faults { faults[f.frameIndex] = f.fault }
        self.faultsByFrame = faults
    }

    // MARK: Time

    /// The time of frame `index` at `rateHz` frames per second, from the start of the run:
    /// exactly `index / rateHz` (rounded down to the attosecond) when the rate is a whole number,
    /// otherwise `Duration.seconds(Double(index) / rateHz)`.
    public static func time(ofFrame index: Int, rateHz: Double) -> Duration {
        if rateHz == rateHz.rounded(), rateHz >= 1, rateHz <= 1e9, index >= 0 {
            let r = Int64(rateHz)
            let i = Int64(index)
            let whole = i / r
            let rest = i % r
            // rest · 10¹⁸ / r without overflow.
            let wide = rest.multipliedFullWidth(by: 1_000_000_000_000_000_000)
            let (atto, _) = r.dividingFullWidth(wide)
            return Duration(secondsComponent: whole, attosecondsComponent: atto)
        }
        return .seconds(Double(index) / rateHz)
    }

    /// The time of frame `index` from the start of the run.
    public func timeSinceStart(ofFrame index: Int) -> Duration {
        Self.time(ofFrame: index, rateHz: self.scenario.frameRateHz)
    }

    /// The time of frame `index` in seconds, `Double(index) / frameRateHz`: the time every motion
    /// and window of the scenario is evaluated at.
    public func seconds(ofFrame index: Int) -> Double {
        Double(index) / self.scenario.frameRateHz
    }

    /// The device frame number of frame `index` (wrapping at 2³²).
    public func frameNumber(ofFrame index: Int) -> UInt32 {
        self.scenario.startFrameNumber &+ UInt32(truncatingIfNeeded: index)
    }

    // MARK: Truth

    /// The noise-free `toolToTracker` of every tool at `seconds` after the start, in scenario
    /// order.
    public func truth(atSeconds seconds: Double) -> [RigidTransform] {
        var poses = [RigidTransform](repeating: .identity, count: self.scenario.tools.count)
        for i in self.order {
            let local = self.scenario.tools[i].motion.pose(atSeconds: seconds)
            switch self.parents[i] {
            case .tracker: poses[i] = local
            case .tool(let j): poses[i] = poses[j] * local
            case .mri(let head): poses[i] = poses[head] * self.mriToHead * local
            }
        }
        return poses
    }

    /// The noise-free `toolToTracker` of every tool in frame `index`, in scenario order.
    public func truth(ofFrame index: Int) -> [RigidTransform] {
        self.truth(atSeconds: self.seconds(ofFrame: index))
    }

    // MARK: Frames

    /// Frame `index` (≥ 0): statuses, true and measured poses, and the fault, if any.
    public func frame(_ index: Int) -> MockFrame {
        precondition(index >= 0, "frame indices start at 0")
        let t = self.seconds(ofFrame: index)
        let truths = self.truth(atSeconds: t)
        var states: [MockToolState] = []
        states.reserveCapacity(truths.count)
        for (k, tool) in self.scenario.tools.enumerated() {
            var rng = Self.generator(seed: self.seed, frameIndex: index, toolIndex: k)
            let u = rng.nextUnitDouble()
            let translationNoise = rng.nextGaussianVector(sigma: tool.noise.translationSigmaMM)
            let rotationNoise = rng.nextGaussianVector(sigma: radians(fromDegrees: tool.noise.rotationSigmaDegrees))

            let status: MockToolStatus
            if tool.disabled.contains(where: { $0.contains(t) }) {
                status = .disabled
            } else if tool.occlusions.contains(where: { $0.contains(t) }) || u < tool.dropoutProbability {
                status = .missing
            } else if tool.partlyOutOfVolume.contains(where: { $0.contains(t) }) {
                status = .partlyOutOfVolume
            } else {
                status = .ok
            }
            var measured: MockMeasurement? = nil
            var rms = 0.0
            if status == .ok || status == .partlyOutOfVolume {
                let truth = truths[k]
                var q = truth.quaternion
                var translation = truth.translation
                if tool.noise.rotationSigmaDegrees > 0 { q = (q * Quaternion(rotationVector: rotationNoise)).normalized.canonical }
                if tool.noise.translationSigmaMM > 0 { translation += translationNoise }
                measured = MockMeasurement(
                    rotation: Quaternion(q0: Self.float32(q.q0), qx: Self.float32(q.qx), qy: Self.float32(q.qy), qz: Self.float32(q.qz)),
                    translationMM: Vector3(Self.float32(translation.x), Self.float32(translation.y), Self.float32(translation.z)))
                rms = Self.float32(tool.noise.rmsErrorMM)
            }
            states.append(
                MockToolState(name: tool.name, handle: tool.handle, status: status, truth: truths[k], measured: measured, rmsErrorMM: rms))
        }
        return MockFrame(
            index: index, frameNumber: self.frameNumber(ofFrame: index), timeSinceStart: self.timeSinceStart(ofFrame: index),
            tools: states, fault: self.faultsByFrame[index])
    }

    /// The fault of frame `index`, if any (without computing the frame).
    public func fault(ofFrame index: Int) -> MockFault? {
        self.faultsByFrame[index]
    }

    /// The generator tool `toolIndex` of frame `frameIndex` draws from (see the determinism
    /// contract).
    static func generator(seed: UInt64, frameIndex: Int, toolIndex: Int) -> SplitMix64 {
        SplitMix64(seed: mix(mix(mix(seed) &+ UInt64(truncatingIfNeeded: frameIndex)) &+ UInt64(truncatingIfNeeded: toolIndex)))
    }

    /// The SplitMix64 output function (a bijection on 64-bit words).
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `x` rounded to the nearest 32-bit float.
    static func float32(_ x: Double) -> Double { Double(Float(x)) }
}
