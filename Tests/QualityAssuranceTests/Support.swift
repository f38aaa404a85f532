import Formats
import Foundation
import Geometry
import MockTracker
import TrackerCore

@testable import QualityAssurance

enum Paths {
    /// The repository root (this file is Tests/QualityAssuranceTests/Support.swift).
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func file(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

/// A small phantom at 10 Hz: 0.5 s pause, 1 s still, 3 s pivot (2 windows), landmarks captured
/// from 3 frames within 10 mm, 1 s timeout each. A, B, C register; D is the check point.
func smallPhantom(thresholds: QAPhantom.Thresholds = lenientThresholds) -> QAPhantom {
    QAPhantom(
        name: "small", phantomTool: "phantom", pointerTool: "pointer",
        landmarks: [
            .init(name: "A", positionMM: Vector3(0, 0, 0), role: .registration),
            .init(name: "B", positionMM: Vector3(100, 0, 0), role: .registration),
            .init(name: "C", positionMM: Vector3(0, 100, 0), role: .registration),
            .init(name: "D", positionMM: Vector3(50, 50, 40), role: .check),
        ],
        phases: [
            .pause(durationSeconds: 0.5, instruction: nil),
            .still(.init(durationSeconds: 1, tool: "phantom")),
            .pivot(.init(durationSeconds: 3, windows: 2)),
            .landmarks(.init(captureFrames: 3, stillnessMM: 0.5, captureRadiusMM: 10, timeoutSeconds: 1)),
        ],
        thresholds: thresholds)
}

let lenientThresholds = QAPhantom.Thresholds(
    jitterRMSMM: 1, jitterMaxMM: 1, minFrameRateFraction: 0.5, maxDropoutPercent: 10, pivotRMSMM: 1,
    pivotTipSpreadMM: 1,
    pivotPointSpreadMM: 1, tipCalibrationDeviationMM: 1, freMM: 1, treMM: 1, latencyP99MS: 50)

/// The phantom reference's pose in the small tests.
let phantomToTracker = RigidTransform(
    rotation: Quaternion(axis: Vector3(0, 0, 1), angleRadians: radians(fromDegrees: 30)),
    translation: Vector3(10, -20, -1400))
let tipMM = Vector3(0, 0, -150)

/// The pointer pose (in phantom coordinates) that puts its tip on `point`, shaft along −z.
func pointerAt(_ point: Vector3) -> RigidTransform { .translation(point - tipMM) }

/// A frame with the phantom and the pointer (nil: missing).
func frame(_ number: UInt32, phantom: RigidTransform? = phantomToTracker, pointerInPhantom: RigidTransform?)
    -> TrackerFrame
{
    var tools: [ToolSample] = []
    tools.append(
        ToolSample(
            name: "pointer", handle: 3, status: pointerInPhantom == nil || phantom == nil ? .missing : .ok,
            toolToTracker: pointerInPhantom.flatMap { p in phantom.map { $0 * p } }, rmsErrorMM: 0.1))
    tools.append(
        ToolSample(
            name: "phantom", handle: 4, status: phantom == nil ? .missing : .ok, toolToTracker: phantom, rmsErrorMM: 0.1
        ))
    if tools[0].status == .missing { tools[0].toolToTracker = nil }
    return TrackerFrame(deviceFrameNumber: number, hostReceiveNanoseconds: UInt64(number) * 100_000_000, tools: tools)
}

/// The pivot pose at frame k: the tip on `pivot`, swinging about x and y.
func pivotPose(_ k: Int, pivot: Vector3 = Vector3(60, 0, 10), tip: Vector3 = tipMM) -> RigidTransform {
    let ax = radians(fromDegrees: 25 * sin(2 * Double.pi * Double(k) / 10))
    let ay = radians(fromDegrees: 25 * cos(2 * Double.pi * Double(k) / 7))
    let r =
        Quaternion(axis: Vector3(0, 1, 0), angleRadians: ay).rotationMatrix
        * Quaternion(axis: Vector3(1, 0, 0), angleRadians: ax).rotationMatrix
    return RigidTransform(rotation: r, translation: pivot - r * tip)
}

/// A mock frame as the driver would hand it on: measured (float32) poses, statuses.
func trackerFrame(_ m: MockFrame) -> TrackerFrame {
    TrackerFrame(
        deviceFrameNumber: m.frameNumber, hostReceiveNanoseconds: UInt64(m.index) * 16_666_667,
        tools: m.tools.map { t in
            let status: ToolStatus
            switch t.status {
            case .ok: status = .ok
            case .missing: status = .missing
            case .partlyOutOfVolume: status = .partlyOutOfVolume
            case .disabled: status = .disabled
            }
            return ToolSample(
                name: t.name, handle: t.handle, status: status, toolToTracker: t.measured?.transform,
                rmsErrorMM: t.rmsErrorMM)
        })
}

/// A known latency summary (p50 0.25 ms, p99 0.75 ms, max 1.5 ms) as the analysis's input: the
/// analysis tests feed frames without a server, and check that this summary becomes the
/// `latency-p99` figure against its threshold; the measured path is tested end to end.
let knownLatency = QALatency(
    path: "known test input", samples: 100, p50MS: 0.25, p99MS: 0.75, maxMS: 1.5,
    bins: [
        .init(fromMS: 0, toMS: 0.5, count: 60), .init(fromMS: 0.5, toMS: 1, count: 39),
        .init(fromMS: 1, toMS: 1.5, count: 0), .init(fromMS: 1.5, toMS: 2, count: 1),
    ])
