import Foundation
import Formats
import Geometry
import Testing

@testable import MockTracker

enum Paths {
    /// The repository root (this file is Tests/MockTrackerTests/Support.swift).
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let scenarios: String = root.appendingPathComponent("Mock/scenarios").path

    static func scenario(_ file: String) -> String { root.appendingPathComponent("Mock/scenarios").appendingPathComponent(file).path }
    static func demo(_ file: String) -> String { root.appendingPathComponent("Mock/demo").appendingPathComponent(file).path }
}

/// Parses an inline scenario; relative paths start in `Mock/scenarios/` like the shipped ones.
func scenario(_ json: String, source: String = "inline.json") throws -> MockScenario {
    try MockScenario.parse(data: Data(json.utf8), source: source, baseDirectory: Paths.scenarios)
}

/// The error parsing an inline scenario fails with, or `nil` when it parses.
func scenarioError(_ json: String) -> FileFormatError? {
    do {
        _ = try MockScenario.parse(data: Data(json.utf8), source: "bad.json", baseDirectory: Paths.scenarios)
        return nil
    } catch {
        return error
    }
}

/// A scenario document with the usual header around `body` (which supplies `tools`, and
/// anything else).
func document(_ body: String, rate: Double = 100, duration: Double = 10) -> String {
    """
    {"format": "coilnav-mock-scenario", "version": 1, "frameRateHz": \(rate), "durationSeconds": \(duration),
     \(body)}
    """
}

/// One passive tool with the given motion and extra members.
func tool(_ name: String, kind: String = "other", handle: Int, motion: String, extra: String = "") -> String {
    """
    {"name": "\(name)", "kind": "\(kind)", "portHandle": \(handle), "setup": {"type": "passive", "toolDefinition": "tools/\(name).rom"},
     "motion": \(motion)\(extra.isEmpty ? "" : ", " + extra)}
    """
}

/// The demo's ground-truth head-to-MRI transform.
func demoHeadToMRI() throws -> RigidTransform {
    let o = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Paths.demo("ground-truth.json")))) as! [String: Any]
    return try RigidTransform(matrix4x4: o["headToMRI"] as! [[Double]])
}

func demoPlan() throws -> Plan { try Plan.load(path: Paths.demo("plan.json")) }

/// Largest translation difference (mm) and rotation difference (degrees) between two poses.
func poseDifference(_ a: RigidTransform, _ b: RigidTransform) -> (mm: Double, degrees: Double) {
    let d = a.difference(to: b)
    return (d.translationMM, degrees(fromRadians: d.rotationRadians))
}

/// True when two poses agree to `mm` in translation and `mm` per 1000 mm lever in rotation
/// (matrix entries), i.e. a strict "same pose up to rounding" check.
func same(_ a: RigidTransform, _ b: RigidTransform, tolerance: Double = 1e-9) -> Bool {
    let ra = a.rotation.rowMajor, rb = b.rotation.rowMajor
    for k in 0..<9 where Swift.abs(ra[k] - rb[k]) > tolerance { return false }
    return (a.translation - b.translation).length <= tolerance
}

/// The coil-to-target error as algorithms.md §4 defines it (SimNIBS axes).
struct CoilError {
    var distanceMM: Double
    var inPlaneMM: Double
    var depthMM: Double
    var tiltDegrees: Double
    var twistDegrees: Double

    init(coilToMRI: RigidTransform, targetToMRI: RigidTransform) {
        let delta = targetToMRI.inverse * coilToMRI
        let d = delta.translation
        self.distanceMM = d.length
        self.inPlaneMM = (d.x * d.x + d.y * d.y).squareRoot()
        self.depthMM = d.z
        self.tiltDegrees = degrees(fromRadians: Vector3(0, 0, 1).angle(to: delta.rotate(Vector3(0, 0, 1))))
        let h = delta.rotate(Vector3(0, -1, 0))
        // Signed angle about z from the target's handle direction (0, -1) to the projected
        // handle (h.x, h.y): atan2(cross, dot) with cross = 0·h.y − (−1)·h.x, dot = −h.y.
        self.twistDegrees = degrees(fromRadians: atan2Double(h.x, -h.y))
    }

    /// The on-target rule of issue 4 (entry thresholds), with the centre distance for "1 mm".
    var onTarget: Bool { self.distanceMM < 1 && self.tiltDegrees < 2 && Swift.abs(self.twistDegrees) < 4 }
}

/// FNV-1a over 64-bit words: a process-independent digest of frames.
struct Digest {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ x: UInt64) {
        for k in 0..<8 {
            self.value ^= (x >> (8 * UInt64(k))) & 0xFF
            self.value &*= 0x0000_0100_0000_01B3
        }
    }

    mutating func add(_ x: Double) { self.add(x.bitPattern) }

    mutating func add(_ t: RigidTransform) {
        for v in t.rotation.rowMajor { self.add(v) }
        self.add(t.translation.x)
        self.add(t.translation.y)
        self.add(t.translation.z)
    }

    mutating func add(_ frame: MockFrame) {
        self.add(UInt64(frame.index))
        self.add(UInt64(frame.frameNumber))
        let (s, a) = frame.timeSinceStart.components
        self.add(UInt64(bitPattern: s))
        self.add(UInt64(bitPattern: a))
        for tool in frame.tools {
            for b in tool.name.utf8 { self.add(UInt64(b)) }
            self.add(UInt64(tool.handle))
            self.add(UInt64(MockToolStatus.allCases.firstIndex(of: tool.status)!))
            self.add(tool.truth)
            if let m = tool.measured {
                for v in [m.rotation.q0, m.rotation.qx, m.rotation.qy, m.rotation.qz, m.translationMM.x, m.translationMM.y, m.translationMM.z] {
                    self.add(v)
                }
            } else {
                self.add(UInt64.max)
            }
            self.add(tool.rmsErrorMM)
        }
        switch frame.fault {
        case nil: self.add(UInt64(0))
        case .corruptCRC: self.add(UInt64(1))
        case .stall(let d):
            self.add(UInt64(2))
            self.add(UInt64(bitPattern: d.components.attoseconds))
        case .disconnect(let d):
            self.add(UInt64(3))
            self.add(UInt64(bitPattern: d.components.seconds))
        }
    }
}

/// The digest of every frame of a simulation.
func digest(of simulation: MockSimulation) -> UInt64 {
    var d = Digest()
    for i in 0..<simulation.scenario.frameCount { d.add(simulation.frame(i)) }
    return d.value
}
