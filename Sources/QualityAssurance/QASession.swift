import Formats
import Geometry
import Navigation
import TrackerCore

/// What kind of step a phase is.
public enum QAPhaseKind: String, Sendable, Equatable {
    case pause, still, pivot, landmarks
}

/// What the QA run tells the operator (and records), in order.
public enum QAEvent: Sendable, Equatable {
    /// Phase `number` of `count` (from 1) begins; `instruction` says what to do.
    case phaseStarted(number: Int, count: Int, kind: QAPhaseKind, instruction: String)
    /// Landmark `number` of `count` (from 1) should be touched now.
    case landmarkRequested(number: Int, count: Int, name: String, role: QAPhantom.LandmarkRole)
    case landmarkCaptured(QALandmarkCapture)
    /// The landmark was not captured within the phase's timeout; the run goes on without it.
    case landmarkTimedOut(name: String, timeoutSeconds: Double)
    /// Every phase is over.
    case finished
}

/// A landmark as captured: the pointer tip in phantom-reference coordinates, averaged over the
/// capture's frames.
public struct QALandmarkCapture: Sendable, Equatable {
    public var name: String
    public var role: QAPhantom.LandmarkRole
    public var measuredMM: Vector3
    public var sampleCount: Int
    public var firstFrame: UInt32
    public var lastFrame: UInt32
    /// The largest distance of one frame's tip from the average, mm.
    public var spreadMM: Double

    public init(
        name: String, role: QAPhantom.LandmarkRole, measuredMM: Vector3, sampleCount: Int, firstFrame: UInt32,
        lastFrame: UInt32,
        spreadMM: Double
    ) {
        self.name = name
        self.role = role
        self.measuredMM = measuredMM
        self.sampleCount = sampleCount
        self.firstFrame = firstFrame
        self.lastFrame = lastFrame
        self.spreadMM = spreadMM
    }
}

/// A pointer pose of the pivot phase: `pointerToPhantom`, and the frame's position in the phase.
public struct QAPivotPose: Sendable, Equatable {
    /// Frames since the pivot phase began (device frame numbers), from 0.
    public var frameInPhase: Int
    public var pointerToPhantom: RigidTransform

    public init(frameInPhase: Int, pointerToPhantom: RigidTransform) {
        self.frameInPhase = frameInPhase
        self.pointerToPhantom = pointerToPhantom
    }
}

/// Everything a QA run collects, phase by phase; the input of `QAAnalysis`.
public struct QARecording: Sendable, Equatable {
    /// The first and the latest device frame number received.
    public var firstFrameNumber: UInt32?
    public var lastFrameNumber: UInt32?
    /// Distinct frames received.
    public var framesReceived = 0
    /// Device frame numbers skipped between consecutive received frames (never received).
    public var framesDropped = 0
    /// Times the device frame counter went backwards (a tracker restart); not counted as drops.
    public var counterRestarts = 0

    /// The still tool's point, in tracker coordinates, in every still-phase frame that saw it.
    public var jitterPointsMM: [Vector3] = []
    /// Still-phase frames in which the still tool had no pose.
    public var jitterFramesWithoutTool = 0
    /// Frames the still phase lasts at the nominal rate.
    public var stillPhaseFrames = 0

    /// Pivot-phase frames with both the pointer and the phantom visible.
    public var pivotPoses: [QAPivotPose] = []
    /// Frames the pivot phase lasts at the nominal rate (its windows split this).
    public var pivotPhaseFrames = 0

    /// The landmarks in the phantom's order; nil where a landmark timed out or was never reached.
    public var captures: [QALandmarkCapture?] = []

    public init() {}
}

/// The QA protocol as a pure state machine: feed it the tracker's frames in order; it says when
/// each phase starts and which landmark to touch, collects each phase's data and finishes after
/// the last landmark.
///
/// Time is the tracker's: a frame's place in the run is its device frame number minus the first
/// one, at the nominal frame rate, so phases line up with the tracker's own clock whatever the host
/// does (and a mock scenario can play the protocol frame by frame). Fixed-length phases (`pause`,
/// `still`, `pivot`) end after `round(seconds × rate)` frames; the landmark phase lasts until every
/// landmark is captured or timed out.
///
/// A landmark is captured by the server's capture rule (`PointerCapture`) applied twice in a row:
/// `captureFrames` distinct frames that all show the pointer and the phantom, with the tip (pointer
/// calibration applied, in phantom-reference coordinates) within `stillnessMM` of its mean, and
/// that mean within `captureRadiusMM` of the landmark's definition. The first such window says the
/// tip has come to rest (it may still hold the slow end of the approach); the window of frames
/// right after it, if it passes too, is the capture. Anything else (a hidden tool, a moving or
/// distant tip) starts the landmark over. Landmarks are requested in the phantom file's order.
public struct QASession: Sendable {
    public let phantom: QAPhantom
    public let nominalFrameRateHz: Double
    public let pointerTipMM: Vector3
    public private(set) var recording = QARecording()
    public private(set) var isFinished = false

    /// Each phase's first frame (in frames since the first one); the landmark phase's end is open.
    private let phaseStarts: [Int]
    private var phaseIndex = -1
    /// Frames since the first frame, counted through drops and restarts.
    private var offset = 0
    private var landmarkIndex = 0
    private var landmarkRequestedAt = 0
    private var window: [PointerSample] = []
    /// The tip has rested near the requested landmark for one window: the next window is captured.
    private var settled = false

    public init(phantom: QAPhantom, nominalFrameRateHz: Double, pointerTipMM: Vector3) {
        precondition(nominalFrameRateHz > 0)
        self.phantom = phantom
        self.nominalFrameRateHz = nominalFrameRateHz
        self.pointerTipMM = pointerTipMM
        var starts: [Int] = []
        var seconds = 0.0
        for p in phantom.phases {
            starts.append(Int((seconds * nominalFrameRateHz).rounded()))
            seconds += p.durationSeconds ?? 0
        }
        self.phaseStarts = starts
        self.recording.captures = [QALandmarkCapture?](repeating: nil, count: phantom.landmarks.count)
    }

    /// Frames a duration lasts at the nominal rate.
    func frames(_ seconds: Double) -> Int { Int((seconds * self.nominalFrameRateHz).rounded()) }

    /// The phase a frame offset falls in (the last phase whose start is at or before it).
    private func phase(at offset: Int) -> Int {
        var k = self.phaseStarts.count - 1
        while k > 0 && offset < self.phaseStarts[k] { k -= 1 }
        return k
    }

    /// Takes the next tracker frame (repeated frame numbers are ignored) and returns what happened.
    public mutating func consume(_ frame: TrackerFrame) -> [QAEvent] {
        guard !self.isFinished else { return [] }
        var events: [QAEvent] = []
        if let last = self.recording.lastFrameNumber {
            let step = frame.deviceFrameNumber &- last
            if step == 0 { return [] }
            if step < 1 << 31 {
                self.offset += Int(step)
                self.recording.framesDropped += Int(step) - 1
            } else {
                self.offset += 1
                self.recording.counterRestarts += 1
            }
        } else {
            self.recording.firstFrameNumber = frame.deviceFrameNumber
        }
        self.recording.lastFrameNumber = frame.deviceFrameNumber
        self.recording.framesReceived += 1

        let target = self.phase(at: self.offset)
        while self.phaseIndex < target {
            self.phaseIndex += 1
            events += self.enterPhase(self.phaseIndex)
        }
        let phase = self.phantom.phases[self.phaseIndex]
        let inPhase = self.offset - self.phaseStarts[self.phaseIndex]
        switch phase {
        case .pause:
            break
        case .still(let s):
            if let sample = frame.tool(named: s.tool), sample.status.hasPose, let pose = sample.toolToTracker,
                pose.isFinite
            {
                self.recording.jitterPointsMM.append(pose.apply(to: s.pointMM))
            } else {
                self.recording.jitterFramesWithoutTool += 1
            }
        case .pivot:
            if let pointerToPhantom = self.pointerToPhantom(frame) {
                self.recording.pivotPoses.append(QAPivotPose(frameInPhase: inPhase, pointerToPhantom: pointerToPhantom))
            }
        case .landmarks(let settings):
            events += self.landmarkFrame(frame, settings: settings)
        }
        return events
    }

    private mutating func enterPhase(_ k: Int) -> [QAEvent] {
        let phase = self.phantom.phases[k]
        let kind: QAPhaseKind
        switch phase {
        case .pause: kind = .pause
        case .still: kind = .still
        case .pivot: kind = .pivot
        case .landmarks: kind = .landmarks
        }
        var events: [QAEvent] = [
            .phaseStarted(
                number: k + 1, count: self.phantom.phases.count, kind: kind, instruction: self.instruction(for: k))
        ]
        if case .still(let still) = phase { self.recording.stillPhaseFrames = self.frames(still.durationSeconds) }
        if case .pivot(let pivot) = phase { self.recording.pivotPhaseFrames = self.frames(pivot.durationSeconds) }
        if kind == .landmarks {
            self.landmarkIndex = 0
            self.landmarkRequestedAt = self.offset
            events.append(self.request(0))
        }
        return events
    }

    private func request(_ i: Int) -> QAEvent {
        let l = self.phantom.landmarks[i]
        return .landmarkRequested(number: i + 1, count: self.phantom.landmarks.count, name: l.name, role: l.role)
    }

    private func pointerToPhantom(_ frame: TrackerFrame) -> RigidTransform? {
        guard let p = frame.tool(named: self.phantom.pointerTool), p.status.hasPose, let pointer = p.toolToTracker,
            pointer.isFinite,
            let r = frame.tool(named: self.phantom.phantomTool), r.status.hasPose, let reference = r.toolToTracker,
            reference.isFinite
        else { return nil }
        return reference.inverse * pointer
    }

    private mutating func landmarkFrame(_ frame: TrackerFrame, settings: QAPhantom.LandmarkPhase) -> [QAEvent] {
        var events: [QAEvent] = []
        let landmark = self.phantom.landmarks[self.landmarkIndex]
        let pointer = frame.tool(named: self.phantom.pointerTool)
        let reference = frame.tool(named: self.phantom.phantomTool)
        self.window.append(
            PointerSample(
                frameNumber: frame.deviceFrameNumber, pointerStatus: pointer?.status, headStatus: reference?.status,
                pointerToHead: self.pointerToPhantom(frame)))
        if self.window.count > settings.captureFrames {
            self.window.removeFirst(self.window.count - settings.captureFrames)
        }
        var captured = false
        if self.window.count == settings.captureFrames,
            case .success(let point) = PointerCapture.evaluate(
                samples: self.window, tipInPointerMM: self.pointerTipMM, framesNeeded: settings.captureFrames,
                stillnessLimitMM: settings.stillnessMM),
            point.positionInHeadMM.distance(to: landmark.positionMM) <= settings.captureRadiusMM
        {
            if !self.settled {
                // At rest near the landmark: the frames that follow are the capture (the ones
                // just taken may still hold the last of the approach).
                self.settled = true
                self.window.removeAll()
            } else {
                let capture = QALandmarkCapture(
                    name: landmark.name, role: landmark.role, measuredMM: point.positionInHeadMM,
                    sampleCount: point.sampleCount,
                    firstFrame: point.firstFrame, lastFrame: point.lastFrame, spreadMM: point.spreadMM)
                self.recording.captures[self.landmarkIndex] = capture
                events.append(.landmarkCaptured(capture))
                captured = true
            }
        } else if self.window.count == settings.captureFrames {
            // Moved, hidden or away from the landmark: start over from this window.
            self.settled = false
        }
        if !captured, self.offset - self.landmarkRequestedAt >= self.frames(settings.timeoutSeconds) {
            events.append(.landmarkTimedOut(name: landmark.name, timeoutSeconds: settings.timeoutSeconds))
            captured = true
        }
        if captured {
            self.window.removeAll()
            self.settled = false
            self.landmarkIndex += 1
            self.landmarkRequestedAt = self.offset
            if self.landmarkIndex == self.phantom.landmarks.count {
                self.isFinished = true
                events.append(.finished)
            } else {
                events.append(self.request(self.landmarkIndex))
            }
        }
        return events
    }

    // MARK: Instructions

    /// What the operator is told at the start of phase `k`: the file's instruction, or one made
    /// from the phase and the one after it.
    public func instruction(for k: Int) -> String {
        let phase = self.phantom.phases[k]
        if let text = phase.instruction { return text }
        let s = { (x: Double) in QAText.seconds(x) }
        switch phase {
        case .pause(let d, _):
            let next = k + 1 < self.phantom.phases.count ? self.phantom.phases[k + 1] : nil
            switch next {
            case .still?:
                return "Get ready (\(s(d)) s): put the phantom in the middle of the tracker's view and let go of it."
            case .pivot?:
                return "Pick up the pointer and put its tip in the phantom's pivot divot (\(s(d)) s)."
            case .landmarks?:
                return "Get ready to touch the phantom's landmarks with the pointer (\(s(d)) s)."
            default:
                return "Pause for \(s(d)) s."
            }
        case .still(let still):
            return
                "Leave \(QAText.quoted(still.tool)) still for \(s(still.durationSeconds)) s: touch neither it nor the table."
        case .pivot(let p):
            return
                "Swivel the pointer with its tip seated in the pivot divot for \(s(p.durationSeconds)) s: tilt it ±20° or more about two axes, without lifting the tip."
        case .landmarks(let l):
            return
                "Touch each landmark with the pointer tip when asked and hold still until it is captured (\(l.captureFrames) frames, tip within \(QAText.decimal(l.stillnessMM)) mm)."
        }
    }
}

/// Small text helpers shared by the QA messages and reports.
enum QAText {
    /// A number of seconds as people write it: 5, 1.5.
    static func seconds(_ x: Double) -> String { Self.decimal(x) }

    /// A number with up to 3 decimals, trailing zeros removed: 10, 0.5, 0.125.
    static func decimal(_ x: Double) -> String {
        let r = (x * 1000).rounded() / 1000
        if r == r.rounded(), Swift.abs(r) < 1e15 { return String(Int(r)) }
        var t = QAText.fixed(r, 3)
        while t.hasSuffix("0") { t.removeLast() }
        return t
    }

    /// `x` with exactly `decimals` decimals (no "-0.00"), without Foundation.
    static func fixed(_ x: Double, _ decimals: Int) -> String {
        guard x.isFinite else { return "\(x)" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (Swift.abs(x) * scale).rounded()
        let negative = x < 0 && scaled != 0
        guard scaled < 9e15 else { return "\(x)" }
        let n = Int64(scaled)
        var digits = String(n)
        if decimals > 0 {
            if digits.count <= decimals { digits = String(repeating: "0", count: decimals - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
        }
        return (negative ? "-" : "") + digits
    }

    static func quoted(_ s: String) -> String { "\"\(s)\"" }
}
