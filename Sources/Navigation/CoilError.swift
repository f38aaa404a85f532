import Geometry

/// A planned coil placement: where the coil should be, in MRI space.
///
/// The server builds one from a plan target (`PlanTarget.coilToMRI`, `coilToCortexMM`). The target
/// frame uses the SimNIBS coil axes: origin at the centre of the coil's bottom face, z into the head,
/// the handle along −y, x = y × z.
public struct NavigationTarget: Sendable, Equatable {
    public var name: String
    /// The planned `coilToMRI`: maps target-frame coordinates to MRI coordinates.
    public var targetToMRI: RigidTransform
    /// Distance from the coil's bottom face to the cortical target along the target z axis, mm (≥ 0).
    public var coilToCortexMM: Double

    public init(name: String, targetToMRI: RigidTransform, coilToCortexMM: Double) {
        self.name = name
        self.targetToMRI = targetToMRI
        self.coilToCortexMM = coilToCortexMM
    }
}

/// Where the actual coil's z axis crosses a plane parallel to the target's xy-plane, in target
/// coordinates (mm). `isDefined` is false when the coil axis is (numerically) parallel to the plane;
/// then `x`, `y` and `magnitude` are 0 and must not be read as a small error.
public struct InPlaneError: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var magnitude: Double
    public var isDefined: Bool

    public init(x: Double, y: Double, magnitude: Double, isDefined: Bool) {
        self.x = x
        self.y = y
        self.magnitude = magnitude
        self.isDefined = isDefined
    }

    /// The undefined value (axis parallel to the plane).
    public static let undefined = InPlaneError(x: 0, y: 0, magnitude: 0, isDefined: false)
}

/// The coil's error against a target, decomposed in the target's frame (SimNIBS axes).
///
/// Let Δ = `coilToTarget` = `targetToMRI⁻¹ · coilToMRI`, with translation δ and rotation D; the actual
/// coil's axes expressed in the target frame are the columns of D.
///
/// Sign conventions (all in the target frame, right-handed, z into the head):
/// - `offsetMM` = δ: where the actual coil centre lies relative to the planned one.
/// - `depthMM` = δz. **Positive: the coil centre is deeper (further into the head, along +z) than
///   planned**, e.g. pressed into the scalp; negative: lifted off / farther from the head. (NaviNIBS's
///   z points out of the head, so its depth error has the opposite sign.)
/// - `inPlaneAtCoilMM` / `inPlaneAtCortexMM`: the point where the actual coil z axis (the line
///   δ + s·Dẑ) meets the plane z = 0 / z = `coilToCortexMM`, as (x, y) in the target frame, and its
///   distance from the target axis. Undefined when |Dẑ · ẑ| < `parallelTolerance`.
/// - `tiltDegrees` ∈ [0, 180]: the unsigned angle between the target and actual z axes.
/// - `tiltAboutTargetXDegrees` = atan2(−(Dẑ)y, (Dẑ)z), `tiltAboutTargetYDegrees` = atan2((Dẑ)x, (Dẑ)z):
///   the tilt projected on the target y-z and x-z planes, signed by the right-hand rule about the
///   target x and y axes (a pure rotation by θ about target x gives +θ about x and 0 about y).
/// - `twistDegrees` ∈ (−180, 180]: the signed angle about target +z from the target handle direction
///   (−ŷ) to the actual handle direction (−Dŷ) projected on the target xy-plane. **Positive = right-hand
///   rotation about +z (into the head), which appears clockwise to someone outside the head looking
///   down on the coil.** A pure rotation by θ about target z gives twist θ. Undefined
///   (`isTwistDefined` false, value 0) when the handle is perpendicular to the target plane.
public struct CoilError: Sendable, Equatable {
    /// Below this |cos| of the angle between the actual coil z axis and the target z axis, the axis is
    /// treated as parallel to the target planes (no in-plane intersection). 1e-9 ↔ 90° ± 2e-7°.
    public static let parallelTolerance: Double = 1e-9

    public var coilToTarget: RigidTransform
    public var offsetMM: Vector3
    public var distanceMM: Double
    public var depthMM: Double
    public var inPlaneAtCoilMM: InPlaneError
    public var inPlaneAtCortexMM: InPlaneError
    public var tiltDegrees: Double
    public var tiltAboutTargetXDegrees: Double
    public var tiltAboutTargetYDegrees: Double
    public var twistDegrees: Double
    public var isTwistDefined: Bool

    /// The error of a coil at `coilToMRI` against `target`.
    @inlinable
    public init(coilToMRI: RigidTransform, target: NavigationTarget) {
        self.init(coilToTarget: target.targetToMRI.inverse * coilToMRI, coilToCortexMM: target.coilToCortexMM)
    }

    /// The decomposition of an error transform already expressed in the target frame.
    @inlinable
    public init(coilToTarget delta: RigidTransform, coilToCortexMM: Double) {
        self.coilToTarget = delta
        let d = delta.translation
        self.offsetMM = d
        self.distanceMM = d.length
        self.depthMM = d.z

        let zc = delta.rotation.column(2)  // actual coil z axis in target coordinates
        self.inPlaneAtCoilMM = CoilError.intersect(origin: d, axis: zc, planeZ: 0)
        self.inPlaneAtCortexMM = CoilError.intersect(origin: d, axis: zc, planeZ: coilToCortexMM)

        let lateral = (zc.x * zc.x + zc.y * zc.y).squareRoot()
        self.tiltDegrees = degrees(fromRadians: atan2Double(lateral, zc.z))
        self.tiltAboutTargetXDegrees = degrees(fromRadians: atan2Double(-zc.y, zc.z))
        self.tiltAboutTargetYDegrees = degrees(fromRadians: atan2Double(zc.x, zc.z))

        // Handle direction −y, mapped and projected on the target xy-plane: h = (hx, hy).
        // Signed angle about +z from a = (0, −1) to h: atan2(a × h, a · h) = atan2(hx, −hy).
        let handle = -delta.rotation.column(1)
        let hx = handle.x, hy = handle.y
        if hx * hx + hy * hy > CoilError.parallelTolerance * CoilError.parallelTolerance {
            var twist = degrees(fromRadians: atan2Double(hx, -hy))
            if twist <= -180 { twist += 360 }
            self.twistDegrees = twist
            self.isTwistDefined = true
        } else {
            self.twistDegrees = 0
            self.isTwistDefined = false
        }
    }

    @inlinable
    static func intersect(origin d: Vector3, axis zc: Vector3, planeZ h: Double) -> InPlaneError {
        guard Swift.abs(zc.z) >= CoilError.parallelTolerance else { return .undefined }
        let s = (h - d.z) / zc.z
        let x = d.x + s * zc.x
        let y = d.y + s * zc.y
        let m = (x * x + y * y).squareRoot()
        guard x.isFinite, y.isFinite else { return .undefined }
        return InPlaneError(x: x, y: y, magnitude: m, isDefined: true)
    }
}
