import Formats
import Geometry
import Registration

/// One reported figure and its pass/fail limit.
public struct QAFigure: Sendable, Equatable {
    public enum Limit: Sendable, Equatable {
        case atMost(Double)
        case atLeast(Double)

        public var value: Double {
            switch self {
            case .atMost(let x), .atLeast(let x): return x
            }
        }

        /// `"max"` or `"min"`: which side of the threshold passes.
        public var kind: String {
            switch self {
            case .atMost: return "max"
            case .atLeast: return "min"
            }
        }

        public func admits(_ x: Double) -> Bool {
            switch self {
            case .atMost(let t): return x <= t
            case .atLeast(let t): return x >= t
            }
        }
    }

    /// Stable identifier: `jitter-rms`, `jitter-max`, `frame-rate`, `dropouts`, `pivot-rms`,
    /// `pivot-tip-spread`, `pivot-point-spread`, `tip-calibration`, `fre`, `tre-<landmark>`, `latency-p99`.
    public var id: String
    /// What it is, for people: "TRE at check point C1".
    public var name: String
    public var unit: String
    /// nil when it could not be measured (`note` says why).
    public var value: Double?
    public var limit: Limit
    public var note: String?

    public init(id: String, name: String, unit: String, value: Double?, limit: Limit, note: String? = nil) {
        self.id = id
        self.name = name
        self.unit = unit
        self.value = value
        self.limit = limit
        self.note = note
    }

    /// Pass or fail; nil when not measured.
    public var passed: Bool? { self.value.map { self.limit.admits($0) } }
}

/// The outcome of a QA run.
public enum QAVerdict: String, Sendable, Equatable {
    /// Every figure was measured and is within its threshold.
    case pass
    /// At least one figure is outside its threshold.
    case fail
    /// Nothing failed, but at least one figure could not be measured.
    case incomplete
}

/// The still tool's jitter.
public struct QAJitterResult: Sendable, Equatable {
    public var tool: String
    public var pointMM: Vector3
    public var samples: Int
    public var framesWithoutTool: Int
    /// The mean position, tracker coordinates, mm.
    public var meanMM: Vector3
    /// Each sample's deviation from the mean, tracker axes, mm (for the scatter plot).
    public var deviationsMM: [Vector3]
    /// √(mean |dᵢ|²), mm.
    public var rmsMM: Double
    /// max |dᵢ|, mm.
    public var maxMM: Double
    /// The standard deviation along each tracker axis, √(mean dᵢₓ²) …, mm.
    public var perAxisSDMM: Vector3
}

/// Frames received against the tracker's frame counter.
public struct QAFrameResult: Sendable, Equatable {
    public var nominalFrameRateHz: Double
    public var firstFrameNumber: UInt32?
    public var lastFrameNumber: UInt32?
    public var received: Int
    public var dropped: Int
    public var counterRestarts: Int
    /// Device frames the run spanned: received + dropped.
    public var span: Int
    /// nominal × received / span, Hz.
    public var frameRateHz: Double?
    /// 100 × dropped / span.
    public var dropoutPercent: Double?
}

/// One pivot calibration (a window of the pivot phase, or all of it).
public struct QAPivotCalibration: Sendable, Equatable {
    /// Frames of the phase it covers: [fromFrame, toFrame).
    public var fromFrame: Int
    public var toFrame: Int
    public var poses: Int
    /// The tip in pointer-marker coordinates, mm.
    public var tipMM: Vector3
    /// The pivot point in phantom-reference coordinates, mm.
    public var pivotMM: Vector3
    public var rmsMM: Double
    public var rotationSpanDegrees: Double
}

public struct QAPivotResult: Sendable, Equatable {
    /// The whole phase.
    public var all: QAPivotCalibration
    public var windows: [QAPivotCalibration]
    /// max over windows of |tipₖ − mean tip|, mm.
    public var tipSpreadMM: Double
    /// max over windows of |pivotₖ − mean pivot|, mm.
    public var pivotSpreadMM: Double
    /// The calibration the landmarks were measured with.
    public var calibrationTipMM: Vector3
    /// |all.tip − calibration tip|, mm.
    public var tipDeviationMM: Double
}

/// A landmark's outcome.
public struct QALandmarkResult: Sendable, Equatable {
    public var name: String
    public var role: QAPhantom.LandmarkRole
    public var definitionMM: Vector3
    public var capture: QALandmarkCapture?
    /// The measured point mapped onto the phantom by the registration, mm.
    public var registeredMM: Vector3?
    /// Registration landmarks: the residual; check points: the TRE, mm.
    public var errorMM: Double?
}

public struct QAAccuracyResult: Sendable, Equatable {
    /// Maps the measured points (phantom-reference coordinates through the pointer) onto the
    /// phantom's definition.
    public var measuredToPhantom: RigidTransform
    public var freMM: Double
}

/// The frame-to-client latency, measured with an HdrHistogram by the caller.
public struct QALatency: Sendable, Equatable {
    public struct Bin: Sendable, Equatable {
        public var fromMS: Double
        public var toMS: Double
        public var count: Int
        public init(fromMS: Double, toMS: Double, count: Int) {
            self.fromMS = fromMS
            self.toMS = toMS
            self.count = count
        }
    }

    /// What was timed: "frame received by the host → HeadToTracker decoded by a loopback OpenIGTLink client".
    public var path: String
    public var samples: Int
    public var p50MS: Double
    public var p99MS: Double
    public var maxMS: Double
    /// The distribution, for the plot.
    public var bins: [Bin]

    public init(path: String, samples: Int, p50MS: Double, p99MS: Double, maxMS: Double, bins: [Bin]) {
        self.path = path
        self.samples = samples
        self.p50MS = p50MS
        self.p99MS = p99MS
        self.maxMS = maxMS
        self.bins = bins
    }
}

/// Every figure of a QA run, with the details behind them.
public struct QAResult: Sendable, Equatable {
    public var figures: [QAFigure]
    public var jitter: QAJitterResult?
    public var frames: QAFrameResult
    public var pivot: QAPivotResult?
    public var accuracy: QAAccuracyResult?
    public var landmarks: [QALandmarkResult]
    public var latency: QALatency?
    /// Why figures could not be measured.
    public var problems: [String]

    public var verdict: QAVerdict {
        if self.figures.contains(where: { $0.passed == false }) { return .fail }
        if self.figures.contains(where: { $0.passed == nil }) { return .incomplete }
        return .pass
    }

    public var failures: [QAFigure] { self.figures.filter { $0.passed == false } }
}

/// Computes every figure of a QA run from what it recorded. Pure: no I/O, no clock.
///
/// - Jitter: the still tool's point pᵢ (tracker coordinates) in each still-phase frame that saw
///   it; dᵢ = pᵢ − mean; RMS = √(Σ|dᵢ|²/n), max = max |dᵢ|.
/// - Frame rate and dropouts: from device frame numbers: span = received + dropped (gaps between
///   consecutive numbers); rate = nominal × received / span; dropouts = 100 × dropped / span %.
/// - Pivot: `PivotCalibration` of `pointerToPhantom` over the whole pivot phase (RMS; the tip's
///   distance from the pointer calibration in use) and over each of its equal windows (the largest
///   distance of a window's tip, and of its pivot point, from the windows' mean).
/// - Accuracy: `PointRegistration` of the captured registration landmarks onto their definitions
///   (FRE); each check point's TRE = |measuredToPhantom(measured) − definition|.
/// - Latency: p99 of the caller's histogram.
public enum QAAnalysis {
    public static func evaluate(
        _ r: QARecording, phantom: QAPhantom, nominalFrameRateHz: Double, pointerTipMM: Vector3, latency: QALatency?
    ) -> QAResult {
        let t = phantom.thresholds
        var figures: [QAFigure] = []
        var problems: [String] = []

        // Jitter.
        var still: QAPhantom.StillPhase?
        var pivotPhase: QAPhantom.PivotPhase?
        for p in phantom.phases {
            if case .still(let s) = p { still = s }
            if case .pivot(let v) = p { pivotPhase = v }
        }
        let jitter = still.flatMap { Self.jitter(r, still: $0) }
        let toolName = still?.tool ?? phantom.phantomTool
        if jitter == nil {
            problems.append(
                "jitter: \(toolName) was seen in \(r.jitterPointsMM.count) frames of the still phase; at least 2 are needed"
            )
        }
        let jitterNote = jitter == nil ? "not measured: too few frames of \(toolName)" : nil
        figures.append(
            QAFigure(
                id: "jitter-rms", name: "jitter RMS of \(toolName) (3-D)", unit: "mm", value: jitter?.rmsMM,
                limit: .atMost(t.jitterRMSMM),
                note: jitterNote))
        figures.append(
            QAFigure(
                id: "jitter-max", name: "jitter max of \(toolName) (3-D)", unit: "mm", value: jitter?.maxMM,
                limit: .atMost(t.jitterMaxMM),
                note: jitterNote))

        // Frames.
        let span = r.framesReceived + r.framesDropped
        let frames = QAFrameResult(
            nominalFrameRateHz: nominalFrameRateHz, firstFrameNumber: r.firstFrameNumber,
            lastFrameNumber: r.lastFrameNumber,
            received: r.framesReceived, dropped: r.framesDropped, counterRestarts: r.counterRestarts, span: span,
            frameRateHz: span > 0 ? nominalFrameRateHz * Double(r.framesReceived) / Double(span) : nil,
            dropoutPercent: span > 0 ? 100 * Double(r.framesDropped) / Double(span) : nil)
        if span == 0 { problems.append("frames: no tracker frame was received") }
        figures.append(
            QAFigure(
                id: "frame-rate", name: "frame rate (received frames over the device frame counter's span)", unit: "Hz",
                value: frames.frameRateHz, limit: .atLeast(t.minFrameRateFraction * nominalFrameRateHz),
                note: "nominal \(QAText.decimal(nominalFrameRateHz)) Hz × \(QAText.decimal(t.minFrameRateFraction))"))
        figures.append(
            QAFigure(
                id: "dropouts", name: "dropped frames (gaps in device frame numbers)", unit: "%",
                value: frames.dropoutPercent,
                limit: .atMost(t.maxDropoutPercent), note: "\(r.framesDropped) of \(span) frames"))

        // Pivot.
        var pivot: QAPivotResult?
        if let phase = pivotPhase {
            switch Self.pivot(r, phase: phase, calibrationTipMM: pointerTipMM) {
            case .success(let p): pivot = p
            case .failure(let why): problems.append("pivot: \(why)")
            }
        }
        let pivotNote = pivot == nil ? "not measured: see problems" : nil
        figures.append(
            QAFigure(
                id: "pivot-rms", name: "pivot calibration RMS (whole pivot phase)", unit: "mm", value: pivot?.all.rmsMM,
                limit: .atMost(t.pivotRMSMM), note: pivotNote))
        figures.append(
            QAFigure(
                id: "pivot-tip-spread",
                name: "pivot repeatability: tip spread over \(pivotPhase?.windows ?? 0) windows", unit: "mm",
                value: pivot?.tipSpreadMM, limit: .atMost(t.pivotTipSpreadMM), note: pivotNote))
        figures.append(
            QAFigure(
                id: "pivot-point-spread",
                name: "pivot repeatability: pivot point spread over \(pivotPhase?.windows ?? 0) windows",
                unit: "mm", value: pivot?.pivotSpreadMM, limit: .atMost(t.pivotPointSpreadMM), note: pivotNote))
        figures.append(
            QAFigure(
                id: "tip-calibration", name: "pointer tip: pivot phase vs the pointer calibration in use", unit: "mm",
                value: pivot?.tipDeviationMM, limit: .atMost(t.tipCalibrationDeviationMM), note: pivotNote))

        // Accuracy.
        var landmarks = phantom.landmarks.enumerated().map { i, l in
            QALandmarkResult(
                name: l.name, role: l.role, definitionMM: l.positionMM,
                capture: i < r.captures.count ? r.captures[i] : nil, registeredMM: nil, errorMM: nil)
        }
        for l in landmarks where l.capture == nil {
            problems.append("landmark \(l.name) (\(l.role.rawValue)) was not captured")
        }
        var accuracy: QAAccuracyResult?
        let registration = landmarks.filter { $0.role == .registration && $0.capture != nil }
        if registration.count >= 3 {
            var options = PointRegistration.Options()
            options.mriAxes = nil
            do {
                let result = try PointRegistration.register(
                    head: registration.map { LabeledPoint(label: $0.name, position: $0.capture!.measuredMM) },
                    mri: registration.map { LabeledPoint(label: $0.name, position: $0.definitionMM) }, options: options)
                accuracy = QAAccuracyResult(measuredToPhantom: result.headToMRI, freMM: result.freMM)
                for k in landmarks.indices {
                    guard let c = landmarks[k].capture else { continue }
                    let p = result.headToMRI.apply(to: c.measuredMM)
                    landmarks[k].registeredMM = p
                    landmarks[k].errorMM = p.distance(to: landmarks[k].definitionMM)
                }
            } catch {
                problems.append("registration: \(error)")
            }
        } else {
            problems.append(
                "registration: only \(registration.count) registration landmarks were captured; 3 are needed")
        }
        figures.append(
            QAFigure(
                id: "fre", name: "FRE of the landmark registration (\(registration.count) landmarks)", unit: "mm",
                value: accuracy?.freMM,
                limit: .atMost(t.freMM), note: accuracy == nil ? "not measured: see problems" : nil))
        for l in landmarks where l.role == .check {
            figures.append(
                QAFigure(
                    id: "tre-\(l.name)", name: "TRE at check point \(l.name)", unit: "mm",
                    value: accuracy == nil ? nil : l.errorMM,
                    limit: .atMost(t.treMM),
                    note: l.errorMM == nil || accuracy == nil ? "not measured: see problems" : nil))
        }

        // Latency.
        let measuredLatency = latency.flatMap { $0.samples > 0 ? $0 : nil }
        if measuredLatency == nil { problems.append("latency: no frame reached the loopback client") }
        figures.append(
            QAFigure(
                id: "latency-p99", name: "latency p99 (frame received → transform at a loopback client)", unit: "ms",
                value: measuredLatency?.p99MS, limit: .atMost(t.latencyP99MS),
                note: measuredLatency.map { "\($0.samples) frames" } ?? "not measured"))

        return QAResult(
            figures: figures, jitter: jitter, frames: frames, pivot: pivot, accuracy: accuracy, landmarks: landmarks,
            latency: latency,
            problems: problems)
    }

    static func jitter(_ r: QARecording, still: QAPhantom.StillPhase) -> QAJitterResult? {
        let points = r.jitterPointsMM
        guard points.count >= 2 else { return nil }
        var sum = Vector3.zero
        for p in points { sum += p }
        let mean = sum / Double(points.count)
        var squares = 0.0
        var maxDistance = 0.0
        var axis = Vector3.zero
        var deviations: [Vector3] = []
        deviations.reserveCapacity(points.count)
        for p in points {
            let d = p - mean
            deviations.append(d)
            let d2 = d.dot(d)
            squares += d2
            maxDistance = Swift.max(maxDistance, d2.squareRoot())
            axis += Vector3(d.x * d.x, d.y * d.y, d.z * d.z)
        }
        let n = Double(points.count)
        axis = axis / n
        return QAJitterResult(
            tool: still.tool, pointMM: still.pointMM, samples: points.count,
            framesWithoutTool: r.jitterFramesWithoutTool, meanMM: mean,
            deviationsMM: deviations, rmsMM: (squares / n).squareRoot(), maxMM: maxDistance,
            perAxisSDMM: Vector3(axis.x.squareRoot(), axis.y.squareRoot(), axis.z.squareRoot()))
    }

    static func pivot(_ r: QARecording, phase: QAPhantom.PivotPhase, calibrationTipMM: Vector3) -> Result<
        QAPivotResult, PivotProblem
    > {
        let length = r.pivotPhaseFrames
        func calibrate(from: Int, to: Int, what: String) -> Result<QAPivotCalibration, PivotProblem> {
            let poses = r.pivotPoses.filter { $0.frameInPhase >= from && $0.frameInPhase < to }.map(\.pointerToPhantom)
            do {
                let c = try PivotCalibration.calibrate(markerToTracker: poses)
                return .success(
                    QAPivotCalibration(
                        fromFrame: from, toFrame: to, poses: poses.count, tipMM: c.tipInMarkerMM,
                        pivotMM: c.pivotInTrackerMM, rmsMM: c.rmsMM,
                        rotationSpanDegrees: c.rotationSpanDegrees))
            } catch {
                return .failure(
                    PivotProblem(
                        "\(what) (frames \(from)–\(to - 1) of the phase, \(poses.count) poses with pointer and phantom seen): \(error)"
                    ))
            }
        }
        let all: QAPivotCalibration
        switch calibrate(from: 0, to: length, what: "the whole phase") {
        case .success(let c): all = c
        case .failure(let e): return .failure(e)
        }
        var windows: [QAPivotCalibration] = []
        for w in 0..<phase.windows {
            let from = w * length / phase.windows
            let to = (w + 1) * length / phase.windows
            switch calibrate(from: from, to: to, what: "window \(w + 1) of \(phase.windows)") {
            case .success(let c): windows.append(c)
            case .failure(let e): return .failure(e)
            }
        }
        func spread(_ v: [Vector3]) -> Double {
            var sum = Vector3.zero
            for x in v { sum += x }
            let mean = sum / Double(v.count)
            return v.map { $0.distance(to: mean) }.max() ?? 0
        }
        return .success(
            QAPivotResult(
                all: all, windows: windows, tipSpreadMM: spread(windows.map(\.tipMM)),
                pivotSpreadMM: spread(windows.map(\.pivotMM)),
                calibrationTipMM: calibrationTipMM, tipDeviationMM: all.tipMM.distance(to: calibrationTipMM)))
    }

    struct PivotProblem: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { self.description = d }
    }
}

/// The latency histogram's bins for the plot: equal bins from 0 past the largest value, about 30
/// of them, their width a round number of nanoseconds (1, 2, 2.5 or 5 × 10ᵏ).
public enum QALatencyBins {
    /// - Parameters:
    ///   - maxNanoseconds: the largest value recorded.
    ///   - count: how many values lie in a closed range of nanoseconds (the histogram's).
    public static func make(maxNanoseconds: UInt64, count: (ClosedRange<UInt64>) -> Int) -> [QALatency.Bin] {
        let width = Swift.max(1, UInt64(NiceScale.ceiling(Swift.max(1, Double(maxNanoseconds) / 30)).rounded(.up)))
        var bins: [QALatency.Bin] = []
        var from: UInt64 = 0
        while from <= maxNanoseconds {
            let to = from + width
            bins.append(
                QALatency.Bin(fromMS: Double(from) / 1e6, toMS: Double(to) / 1e6, count: count(from...(to - 1))))
            from = to
        }
        return bins
    }
}
