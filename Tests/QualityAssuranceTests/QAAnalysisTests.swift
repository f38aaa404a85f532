import Formats
import Foundation
import Geometry
import Testing

@testable import QualityAssurance

/// Every figure from known inputs, with its exact value, and the verdict rules.
@Suite struct QAAnalysisTests {
    static let thresholds = QAPhantom.Thresholds(
        jitterRMSMM: 0.25, jitterMaxMM: 0.35, minFrameRateFraction: 0.95, maxDropoutPercent: 2, pivotRMSMM: 0.5,
        pivotTipSpreadMM: 0.3,
        pivotPointSpreadMM: 0.3, tipCalibrationDeviationMM: 1, freMM: 0.5, treMM: 1, latencyP99MS: 50)

    /// 97 of 100 frames; the session test's eight still-phase points; an exact pivot; A, B, C
    /// measured exactly and the check point D measured 3 mm off (along z).
    static func recording(dCaptured: Bool = true) -> QARecording {
        var r = QARecording()
        r.firstFrameNumber = 500
        r.lastFrameNumber = 599
        r.framesReceived = 97
        r.framesDropped = 3
        r.stillPhaseFrames = 10
        r.jitterFramesWithoutTool = 2
        r.jitterPointsMM = QASessionTests.deviations.map { phantomToTracker.translation + $0 }
        r.pivotPhaseFrames = 30
        r.pivotPoses = (0..<30).map { QAPivotPose(frameInPhase: $0, pointerToPhantom: pivotPose($0)) }
        func capture(_ name: String, _ role: QAPhantom.LandmarkRole, _ p: Vector3) -> QALandmarkCapture {
            QALandmarkCapture(
                name: name, role: role, measuredMM: p, sampleCount: 3, firstFrame: 1, lastFrame: 3, spreadMM: 0.1)
        }
        r.captures = [
            capture("A", .registration, Vector3(0, 0, 0)), capture("B", .registration, Vector3(100, 0, 0)),
            capture("C", .registration, Vector3(0, 100, 0)),
            dCaptured ? capture("D", .check, Vector3(50, 50, 43)) : nil,
        ]
        return r
    }

    static func evaluate(
        _ r: QARecording, thresholds: QAPhantom.Thresholds = Self.thresholds,
        calibrationTip: Vector3 = tipMM + Vector3(0, 0.3, 0.4)
    )
        -> QAResult
    {
        QAAnalysis.evaluate(
            r, phantom: smallPhantom(thresholds: thresholds), nominalFrameRateHz: 60, pointerTipMM: calibrationTip,
            latency: knownLatency)
    }

    @Test func everyFigureFromKnownInputs() throws {
        let result = Self.evaluate(Self.recording())
        #expect(
            result.figures.map(\.id) == [
                "jitter-rms", "jitter-max", "frame-rate", "dropouts", "pivot-rms", "pivot-tip-spread",
                "pivot-point-spread",
                "tip-calibration", "fre", "tre-D", "latency-p99",
            ])
        func value(_ id: String) throws -> Double { try #require(result.figures.first { $0.id == id }?.value) }

        // Jitter: Σ|d|² = 2(0.01 + 0.04 + 0.09 + 0.09) = 0.46 over 8 points → RMS √0.0575; the
        // largest deviation is 0.3 mm; per axis √(0.04/8), √(0.16/8), √(0.26/8).
        let j = try #require(result.jitter)
        #expect(j.samples == 8 && j.framesWithoutTool == 2)
        #expect(Swift.abs(try value("jitter-rms") - 0.0575.squareRoot()) < 1e-9)
        #expect(Swift.abs(try value("jitter-max") - 0.3) < 1e-9)
        #expect(j.meanMM.distance(to: phantomToTracker.translation) < 1e-9)
        #expect(j.perAxisSDMM.distance(to: Vector3(0.005.squareRoot(), 0.02.squareRoot(), 0.0325.squareRoot())) < 1e-9)
        #expect(j.deviationsMM.count == 8)

        // Frames: 60 Hz × 97/100 and 3 of 100.
        #expect(try value("frame-rate") == 60 * 97.0 / 100)
        #expect(try value("dropouts") == 3)
        #expect(result.frames.span == 100)
        let rate = try #require(result.figures.first { $0.id == "frame-rate" })
        #expect(rate.limit == .atLeast(57) && rate.passed == true)
        #expect(result.figures.first { $0.id == "dropouts" }?.passed == false)

        // Pivot: exact poses give the tip and pivot exactly, no residual, no spread between the
        // two windows of 15 frames; the calibration in use is (0, 0.3, 0.4) mm off: 0.5 mm.
        let p = try #require(result.pivot)
        #expect(p.all.tipMM.distance(to: tipMM) < 1e-9 && p.all.pivotMM.distance(to: Vector3(60, 0, 10)) < 1e-9)
        #expect(p.all.poses == 30 && p.all.fromFrame == 0 && p.all.toFrame == 30)
        #expect(
            p.windows.map(\.fromFrame) == [0, 15] && p.windows.map(\.toFrame) == [15, 30]
                && p.windows.map(\.poses) == [15, 15])
        #expect(try value("pivot-rms") < 1e-9)
        #expect(try value("pivot-tip-spread") < 1e-9)
        #expect(try value("pivot-point-spread") < 1e-9)
        #expect(Swift.abs(try value("tip-calibration") - 0.5) < 1e-9)

        // Accuracy: A, B, C exact → identity registration, FRE 0; D is 3 mm off → TRE 3.
        let a = try #require(result.accuracy)
        #expect(a.measuredToPhantom.difference(to: .identity).translationMM < 1e-9)
        #expect(try value("fre") < 1e-9)
        #expect(Swift.abs(try value("tre-D") - 3) < 1e-9)
        #expect(result.landmarks.map(\.name) == ["A", "B", "C", "D"])
        #expect(result.landmarks[3].registeredMM.map { $0.distance(to: Vector3(50, 50, 43)) < 1e-9 } == true)
        #expect(result.landmarks[0].errorMM.map { $0 < 1e-9 } == true)

        #expect(try value("latency-p99") == 0.75)
        #expect(result.problems.isEmpty)
        #expect(result.verdict == .fail)
        #expect(result.failures.map(\.id) == ["dropouts", "tre-D"])
    }

    @Test func limitsAreInclusive() {
        #expect(QAFigure.Limit.atMost(1).admits(1) && !QAFigure.Limit.atMost(1).admits(1.0000001))
        #expect(QAFigure.Limit.atLeast(57).admits(57) && !QAFigure.Limit.atLeast(57).admits(56.999))
        let f = QAFigure(id: "x", name: "x", unit: "mm", value: nil, limit: .atMost(1))
        #expect(f.passed == nil)
    }

    @Test func aLandmarkNotCapturedLeavesTheRunIncomplete() throws {
        var t = Self.thresholds
        t.maxDropoutPercent = 5
        let result = Self.evaluate(Self.recording(dCaptured: false), thresholds: t)
        let tre = try #require(result.figures.first { $0.id == "tre-D" })
        #expect(tre.value == nil && tre.passed == nil && tre.note == "not measured: see problems")
        #expect(result.problems == ["landmark D (check) was not captured"])
        #expect(result.failures.isEmpty)
        #expect(result.verdict == .incomplete)
        // A failure outweighs what is missing.
        #expect(Self.evaluate(Self.recording(dCaptured: false)).verdict == .fail)
    }

    @Test func aPivotWithoutEnoughRotationIsNotMeasured() throws {
        var r = Self.recording()
        // Swinging about x only: the tip is undetermined along x.
        r.pivotPoses = (0..<30).map { k in
            let rot = Quaternion(axis: Vector3(1, 0, 0), angleRadians: radians(fromDegrees: 25 * sin(Double(k))))
                .rotationMatrix
            return QAPivotPose(
                frameInPhase: k,
                pointerToPhantom: RigidTransform(rotation: rot, translation: Vector3(60, 0, 10) - rot * tipMM))
        }
        let result = Self.evaluate(r)
        for id in ["pivot-rms", "pivot-tip-spread", "pivot-point-spread", "tip-calibration"] {
            #expect(result.figures.first { $0.id == id }?.value == nil, "\(id)")
        }
        let problem = try #require(result.problems.first)
        #expect(
            problem.hasPrefix(
                "pivot: the whole phase (frames 0–29 of the phase, 30 poses with pointer and phantom seen): "),
            "\(problem)")
        #expect(result.pivot == nil)
    }

    @Test func tooFewRegistrationLandmarksAndNoFrames() throws {
        var r = QARecording()
        r.captures = [nil, nil, nil, nil]
        let result = QAAnalysis.evaluate(
            r, phantom: smallPhantom(), nominalFrameRateHz: 60, pointerTipMM: tipMM, latency: nil)
        #expect(result.verdict == .incomplete)
        #expect(result.figures.allSatisfy { $0.value == nil })
        #expect(result.problems.contains("registration: only 0 registration landmarks were captured; 3 are needed"))
        #expect(result.problems.contains("frames: no tracker frame was received"))
        #expect(result.problems.contains("latency: no frame reached the loopback client"))
        #expect(
            result.problems.contains("jitter: phantom was seen in 0 frames of the still phase; at least 2 are needed"))
    }

    @Test func latencyBinsAreRoundAndCoverTheLargestValue() {
        // Largest 1 ms: 1 ms / 30 = 33.3 µs → 50 µs bins, 0 … 1.05 ms.
        var asked: [ClosedRange<UInt64>] = []
        let bins = QALatencyBins.make(maxNanoseconds: 1_000_000) { r in
            asked.append(r)
            return Int(r.lowerBound / 50_000)
        }
        #expect(bins.count == 21)
        #expect(bins.first == QALatency.Bin(fromMS: 0, toMS: 0.05, count: 0))
        #expect(bins.last == QALatency.Bin(fromMS: 1, toMS: 1.05, count: 20))
        #expect(asked[1] == 50_000...99_999)
        #expect(
            QALatencyBins.make(maxNanoseconds: 0) { _ in 7 } == [QALatency.Bin(fromMS: 0, toMS: 0.000001, count: 7)])
        #expect(
            NiceScale.ceiling(0.3) == 0.5 && NiceScale.ceiling(33_333.3) == 50_000 && NiceScale.ceiling(2) == 2
                && NiceScale.ceiling(2.1) == 2.5)
    }

    @Test func numbersForPeople() {
        #expect(QAText.fixed(0.16449, 3) == "0.164" && QAText.fixed(0.16451, 3) == "0.165")
        #expect(QAText.fixed(-0.0001, 2) == "0.00")
        #expect(QAText.fixed(-1.5, 1) == "-1.5")
        #expect(QAText.fixed(59.871886, 2) == "59.87")
        #expect(QAText.fixed(0.032, 3) == "0.032")
        #expect(QAText.fixed(3, 0) == "3")
        #expect(QAText.decimal(0.5) == "0.5" && QAText.decimal(10) == "10" && QAText.decimal(0.125) == "0.125")
    }
}
