import Geometry
import Navigation
import Testing

func expectClose(_ a: Double, _ b: Double, _ tol: Double, _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(Swift.abs(a - b) <= tol, "\(what): \(a) vs \(b)", sourceLocation: sourceLocation)
}

func expectClose(_ a: Vector3, _ b: Vector3, _ tol: Double, _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect((a - b).length <= tol, "\(what): \(a) vs \(b)", sourceLocation: sourceLocation)
}

func expectClose(_ a: RigidTransform, _ b: RigidTransform, _ tol: Double, sourceLocation: SourceLocation = #_sourceLocation) {
    let d = a.difference(to: b)
    #expect(d.translationMM <= tol && d.rotationRadians <= tol, "\(a) vs \(b)", sourceLocation: sourceLocation)
}

/// A rotation by `degrees` about `axis` as a transform with translation `t`.
func rotation(_ axis: Vector3, degrees d: Double, translation t: Vector3 = .zero) -> RigidTransform {
    RigidTransform(rotation: Quaternion(axis: axis, angleRadians: radians(fromDegrees: d)), translation: t)
}

func randomTransform(_ rng: inout SplitMix64, sigmaMM: Double = 100) -> RigidTransform {
    RigidTransform(rotation: rng.nextRotation(), translation: rng.nextGaussianVector(sigma: sigmaMM))
}

let xAxis = Vector3(1, 0, 0)
let yAxis = Vector3(0, 1, 0)
let zAxis = Vector3(0, 0, 1)

/// An arbitrary but fixed planned pose in MRI space (not axis-aligned) used by known-answer tests.
let sampleTargetToMRI = RigidTransform(
    rotation: Quaternion(axis: Vector3(0.3, -0.5, 0.8), angleRadians: 2.1), translation: Vector3(-41.5, 12.25, 63.0))
