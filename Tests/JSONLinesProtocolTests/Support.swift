import Geometry
import JSONLinesProtocol
import Navigation
import TrackerCore

/// The text of the bytes an encoder appended.
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// A rotation by +90° about z, written with exact entries (no sin/cos rounding).
let rotationZ90 = Matrix3(rows: Vector3(0, -1, 0), Vector3(1, 0, 0), Vector3(0, 0, 1))

/// The known scene of the frame tests: every number below is a binary fraction, so the chain is exact.
///
/// headToTracker = translation (10, 20, 30); coilMarkerToTracker = Rz(90°) with translation
/// (11.5, 22, 31); coil calibration identity → coilToHead = (Rz90, (1.5, 2, 1)).
/// headToMRI = translation (-10, 0, 5) → coilToMRI = (Rz90, (-8.5, 2, 6)).
/// Target: targetToMRI = translation (-9, 1, 5), 20 mm to the cortex → coilToTarget = (Rz90, (0.5, 1, 1)).
enum Scene {
    static let headToTracker = RigidTransform.translation(Vector3(10, 20, 30))
    static let coilToTracker = RigidTransform(rotation: rotationZ90, translation: Vector3(11.5, 22, 31))
    static let headToMRI = RigidTransform.translation(Vector3(-10, 0, 5))
    static let target = NavigationTarget(
        name: "M1 hand", targetToMRI: .translation(Vector3(-9, 1, 5)), coilToCortexMM: 20)

    static func frame(number: UInt32, at t: UInt64, coil: RigidTransform? = coilToTracker) -> TrackerFrame {
        var tools = [ToolSample(name: "head", handle: 1, status: .ok, toolToTracker: headToTracker, rmsErrorMM: 0.1)]
        if let coil {
            tools.append(ToolSample(name: "coil", handle: 2, status: .ok, toolToTracker: coil, rmsErrorMM: 0.2))
        }
        return TrackerFrame(deviceFrameNumber: number, hostReceiveNanoseconds: t, tools: tools)
    }

    static func processor() -> FrameProcessor {
        FrameProcessor(headToMRI: headToMRI, activeTarget: target)
    }
}
