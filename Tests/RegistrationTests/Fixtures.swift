import Geometry
import Registration
import Testing

/// fsaverage (MNI305) fiducials and scalp points, mm, from algorithms.md §5 (MNE's
/// `fsaverage-fiducials.fif` and the 1005 montage).
enum FSAverage {
    static let nas = Vector3(1.47, 85.07, -34.84)
    static let lpa = Vector3(-80.62, -29.09, -41.31)
    static let rpa = Vector3(84.36, -28.50, -41.28)
    static let cz = Vector3(-0.10, -22.36, 104.81)
    static let iz = Vector3(3.47, -117.42, -39.86)
    static let c3 = Vector3(-67.0, -21.9, 71.2)
    static let f3 = Vector3(-49.38, 49.66, 50.78)
    /// Fox et al. 2012 sgACC-anticorrelated DLPFC target (MNI).
    static let dlpfcTarget = Vector3(-38, 44, 26)

    static let all: [String: Vector3] = [
        "NAS": nas, "LPA": lpa, "RPA": rpa, "Cz": cz, "Iz": iz, "C3": c3, "F3": f3,
    ]

    /// Labelled points in the given order.
    static func points(_ labels: [String]) -> [LabeledPoint] {
        labels.map { LabeledPoint(label: $0, position: all[$0]!) }
    }
}

/// A fixed, non-trivial head-to-MRI transform: 37° about (1, 2, −0.5), then a large shift.
let knownHeadToMRI = RigidTransform(
    rotation: Quaternion(axis: Vector3(1, 2, -0.5), angleRadians: radians(fromDegrees: 37)),
    translation: Vector3(12.5, -140, 310))

/// The head-space points that `headToMRI` maps exactly onto `mri` (same labels).
func headPoints(for mri: [LabeledPoint], headToMRI: RigidTransform) -> [LabeledPoint] {
    let mriToHead = headToMRI.inverse
    return mri.map { LabeledPoint(label: $0.label, position: mriToHead.apply(to: $0.position)) }
}

/// Largest absolute difference between the entries of two transforms (rotation and translation).
func maxEntryDifference(_ a: RigidTransform, _ b: RigidTransform) -> Double {
    var d = 0.0
    for i in 0..<3 {
        for j in 0..<3 { d = max(d, abs(a.rotation[i, j] - b.rotation[i, j])) }
        d = max(d, abs(a.translation[i] - b.translation[i]))
    }
    return d
}

/// A uniformly random rigid transform with translation components in ±`maxShift` mm.
func randomTransform(_ rng: inout SplitMix64, maxShift: Double = 500) -> RigidTransform {
    let t = Vector3(rng.nextUnitDouble() * 2 - 1, rng.nextUnitDouble() * 2 - 1, rng.nextUnitDouble() * 2 - 1) * maxShift
    return RigidTransform(rotation: rng.nextRotation(), translation: t)
}

/// Runs `body` and returns the `RegistrationError` it throws, or nil if it returns normally.
/// Any other error is recorded as a test failure.
func registrationError<T>(_ body: () throws -> T) -> RegistrationError? {
    do {
        _ = try body()
        return nil
    } catch let error as RegistrationError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}
