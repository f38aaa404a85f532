import Geometry

/// Why a coil could not be placed.
public enum CoilPlacementError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An input (named) has a NaN or infinite value.
    case nonFiniteInput(String)
    /// The direction for a ray placement is the zero vector.
    case zeroDirection
    /// An option is out of range.
    case invalidOption(String)
    /// The ray from the target along the given direction does not meet the scalp.
    case rayMissesScalp(target: Vector3, direction: Vector3)
    /// The target is not inside the scalp surface (winding number below 0.5 in magnitude).
    case targetOutsideScalp(target: Vector3, windingNumber: Double)
    /// The scalp mesh's triangles are wound so that their normals point into the head.
    case scalpWoundInward
    /// The face normals around the scalp point cancel out, so the scalp has no usable normal there.
    case undefinedScalpNormal(point: Vector3)
    /// The fiducials do not define a head frame.
    case degenerateFiducials(String)
    /// The fiducials give a head frame whose superior axis points to MRI −z.
    case mirroredFiducials

    public var description: String {
        switch self {
        case .nonFiniteInput(let what): return "the \(what) is not a finite number"
        case .zeroDirection: return "the placement direction is the zero vector"
        case .invalidOption(let text): return "invalid coil placement option: \(text)"
        case .rayMissesScalp(let t, let d):
            return "the ray from the target \(mm(t)) along \(direction(d)) does not meet the scalp: point it outwards, towards the scalp"
        case .targetOutsideScalp(let t, let w):
            return "the target \(mm(t)) is not inside the scalp surface (winding number \(rounded(w, 2)), inside would be 1): is it in MRI coordinates (RAS, mm)?"
        case .scalpWoundInward:
            return "the scalp mesh is wound with its normals pointing into the head; use TriangleMesh.orientedOutward()"
        case .undefinedScalpNormal(let p): return "the scalp has no well-defined normal near \(mm(p))"
        case .degenerateFiducials(let why): return "the fiducials do not define a head frame: \(why)"
        case .mirroredFiducials:
            return "the fiducials give a head frame upside down in the MRI (are LPA and RPA swapped, or is the MRI not RAS?)"
        }
    }
}

/// A coil pose planned on the scalp above a cortical target.
///
/// ### Coil frame (SimNIBS convention; used throughout CoilNav)
/// The coil's own coordinates, in mm:
/// - origin at the centre of the coil's bottom face (the face that touches the head);
/// - **z** perpendicular to the coil, pointing **into the head**;
/// - **y** along the coil's long axis, **the handle along −y**;
/// - **x = y × z**, so (x, y, z) is right-handed.
///
/// `coilToMRI` maps coil coordinates to MRI (RAS, mm): its rotation's columns are the coil's x, y,
/// z axes in MRI space and its translation is the coil origin. The matrix is SimNIBS's `matsimnibs`.
///
/// ### Handle angle from the midline
/// Measured in the plane perpendicular to the coil's z axis (at placement: the plane tangent to the
/// scalp at the coil centre), from the **posterior reference direction** p to the **handle
/// direction** h = −y:
/// - p is the head frame's posterior direction (`HeadFrame.posterior`: from the nasion back
///   towards the LPA–RPA midpoint, or MRI −y with `HeadFrame.mriAxes`) projected onto that plane.
///   Where that projection vanishes (z along the anterior–posterior axis, i.e. a coil centred on
///   the nasion or inion line) the projection of `HeadFrame.superior` is used instead.
/// - The angle is the right-handed rotation about the inward z axis that takes p to h:
///   h = cos θ·p + sin θ·(z × p). Seen from outside the head, positive angles turn the handle
///   **clockwise**.
/// - z × p points towards the **patient's left** (on the vertex it is exactly the left axis), so a
///   **positive angle turns the handle towards the patient's left**: over the left hemisphere that
///   is away from the midline (laterally), over the right hemisphere towards it.
///
/// So the default 45° is the conventional orientation for left-hemisphere targets — left DLPFC for
/// depression and left M1 (right-hand motor hotspot) — where the handle points backwards and 45°
/// away from the midline (posterior-lateral), the coil's long axis roughly perpendicular to the
/// central sulcus/middle frontal gyrus. For the same posterior-lateral orientation on the right
/// hemisphere use −45°. 0° points the handle straight back along the midline direction; ±180°
/// points it forwards.
public struct CoilPlacement: Equatable, Sendable {
    /// Coil → MRI (SimNIBS coil frame, see above).
    public var coilToMRI: RigidTransform
    /// The cortical target, MRI mm.
    public var targetMM: Vector3
    /// The scalp point below the coil centre, MRI mm.
    public var scalpPointMM: Vector3
    /// Triangle of the scalp mesh containing `scalpPointMM`.
    public var scalpTriangle: Int
    /// Smoothed outward unit scalp normal at `scalpPointMM`; the coil z axis is its opposite.
    public var scalpNormal: Vector3
    /// Distance from the coil origin to the target, mm.
    public var coilToCortexMM: Double
    /// Depth of the target along the coil's z axis, (target − origin)·z, mm.
    public var coilToCortexAlongZMM: Double
    /// The handle's angle from the midline, degrees in (−180, 180] (see above).
    public var handleAngleDegrees: Double
    /// Distance from the scalp to the coil's bottom face along the outward normal (hair, cap), mm.
    public var offsetMM: Double

    /// The coil origin (centre of its bottom face), MRI mm.
    public var coilCentreMM: Vector3 { self.coilToMRI.translation }

    public init(
        coilToMRI: RigidTransform, targetMM: Vector3, scalpPointMM: Vector3, scalpTriangle: Int, scalpNormal: Vector3,
        coilToCortexMM: Double, coilToCortexAlongZMM: Double, handleAngleDegrees: Double, offsetMM: Double
    ) {
        self.coilToMRI = coilToMRI
        self.targetMM = targetMM
        self.scalpPointMM = scalpPointMM
        self.scalpTriangle = scalpTriangle
        self.scalpNormal = scalpNormal
        self.coilToCortexMM = coilToCortexMM
        self.coilToCortexAlongZMM = coilToCortexAlongZMM
        self.handleAngleDegrees = handleAngleDegrees
        self.offsetMM = offsetMM
    }

    /// Plans a coil pose over a cortical target.
    ///
    /// 1. The target must lie inside the scalp surface (winding number ≥ 0.5, computed over all
    ///    triangles, see `MeshIndex.windingNumber(at:)`).
    /// 2. Scalp point: without `direction`, the closest scalp point to the target; with it, the
    ///    first point where the ray from the target along `direction` (outwards) meets the scalp.
    /// 3. Scalp normal: the area-weighted average of the face normals of all triangles within
    ///    `normalSmoothingRadiusMM` (default 10 mm) of the scalp point, each further weighted by
    ///    1 − d/radius (d its distance to the scalp point), so the direction is stable on a noisy
    ///    or finely faceted mesh and changes continuously as the point moves. 10 mm is small
    ///    against the scalp's radius of curvature (≈ 80–100 mm; on a sphere the average is exactly
    ///    radial by symmetry) and about the size of a figure-of-eight coil's central segment; on a
    ///    sphere of radius 90 mm with 0.4 mm vertex noise, where single faces tilt by 2–20°, it
    ///    keeps the normal within ≈ 1°. Radius 0 averages the triangles that touch the point. The
    ///    coil z axis is the opposite (inward) direction.
    /// 4. Handle at `handleAngleDegrees` from the midline (see `CoilPlacement`), in the plane
    ///    perpendicular to z; y = −handle; x = y × z.
    /// 5. Coil origin = scalp point + `offsetMM` along the outward normal (i.e. along −z).
    ///
    /// - Parameters:
    ///   - target: cortical target, MRI mm.
    ///   - scalp: index over the scalp mesh in MRI mm (closed, wound outwards).
    ///   - handleAngleDegrees: handle angle from the midline (default 45°: posterior, turned
    ///     towards the patient's left).
    ///   - direction: optional placement direction from the target (need not be unit length).
    ///   - headFrame: anatomical axes for the midline; `HeadFrame.mriAxes` (RAS) when nil.
    ///   - offsetMM: scalp-to-coil distance (≥ 0, default 0).
    ///   - normalSmoothingRadiusMM: radius of the normal averaging (≥ 0, default 10 mm).
    public static func place(
        target: Vector3, scalp: MeshIndex, handleAngleDegrees: Double = 45, direction: Vector3? = nil,
        headFrame: HeadFrame? = nil, offsetMM: Double = 0, normalSmoothingRadiusMM: Double = 10
    ) throws(CoilPlacementError) -> CoilPlacement {
        guard target.isFinite else { throw .nonFiniteInput("target") }
        guard handleAngleDegrees.isFinite else { throw .nonFiniteInput("handle angle") }
        guard offsetMM.isFinite else { throw .nonFiniteInput("offset") }
        guard offsetMM >= 0 else { throw .invalidOption("offsetMM must be ≥ 0 (got \(offsetMM))") }
        guard normalSmoothingRadiusMM >= 0, normalSmoothingRadiusMM.isFinite else {
            throw .invalidOption("normalSmoothingRadiusMM must be a finite number ≥ 0 (got \(normalSmoothingRadiusMM))")
        }
        if let direction {
            guard direction.isFinite else { throw .nonFiniteInput("direction") }
            guard direction.length > 0 else { throw .zeroDirection }
        }
        let frame = headFrame ?? .mriAxes

        let winding = scalp.windingNumber(at: target)
        if winding <= -0.5 { throw .scalpWoundInward }
        guard winding >= 0.5 else { throw .targetOutsideScalp(target: target, windingNumber: winding) }

        let scalpPoint: Vector3
        let triangle: Int
        if let direction {
            guard let hit = scalp.rayIntersection(origin: target, direction: direction) else {
                throw .rayMissesScalp(target: target, direction: direction)
            }
            scalpPoint = hit.point
            triangle = hit.triangle
        } else {
            guard let hit = scalp.closestPoint(to: target) else { throw .nonFiniteInput("target") }
            scalpPoint = hit.point
            triangle = hit.triangle
        }

        guard let outward = Self.smoothedNormal(at: scalpPoint, scalp: scalp, radiusMM: normalSmoothingRadiusMM) else {
            throw .undefinedScalpNormal(point: scalpPoint)
        }
        let z = -outward
        let p = Self.posteriorReference(inward: z, headFrame: frame)
        let theta = radians(fromDegrees: handleAngleDegrees)
        let handle = p * cosDouble(theta) + z.cross(p) * sinDouble(theta)
        let y = -handle
        let x = y.cross(z)
        let origin = scalpPoint + outward * offsetMM
        let coilToMRI = RigidTransform(rotation: Matrix3(columns: x, y, z), translation: origin)
        return CoilPlacement(
            coilToMRI: coilToMRI, targetMM: target, scalpPointMM: scalpPoint, scalpTriangle: triangle, scalpNormal: outward,
            coilToCortexMM: (target - origin).length, coilToCortexAlongZMM: (target - origin).dot(z),
            handleAngleDegrees: Self.angleFromMidlineDegrees(coilToMRI: coilToMRI, headFrame: frame), offsetMM: offsetMM)
    }

    /// The handle's angle from the midline of a coil pose, in degrees in (−180, 180], with the
    /// convention of `CoilPlacement` (positive = handle turned towards the patient's left),
    /// measured in the plane perpendicular to the coil's own z axis. The inverse of the angle
    /// argument of `place`.
    ///
    /// - Parameter headFrame: anatomical axes; `HeadFrame.mriAxes` (RAS) when nil.
    public static func angleFromMidlineDegrees(coilToMRI: RigidTransform, headFrame: HeadFrame? = nil) -> Double {
        let frame = headFrame ?? .mriAxes
        let z = coilToMRI.rotation.column(2).normalized
        var handle = -coilToMRI.rotation.column(1)
        handle -= z * handle.dot(z)
        let p = Self.posteriorReference(inward: z, headFrame: frame)
        let angle = degrees(fromRadians: atan2Double(handle.dot(z.cross(p)), handle.dot(p)))
        return angle <= -180 ? angle + 360 : angle
    }

    /// The posterior reference direction for a coil whose z axis (into the head) is `z`: the head's
    /// posterior direction projected onto the plane perpendicular to z and normalised, or, where
    /// that projection is shorter than 1e-6 (z along the anterior–posterior axis), the superior
    /// direction projected instead. A unit vector perpendicular to z.
    public static func posteriorReference(inward z: Vector3, headFrame: HeadFrame) -> Vector3 {
        let zu = z.normalized
        var p = headFrame.posterior - zu * headFrame.posterior.dot(zu)
        if p.length < 1e-6 {
            p = headFrame.superior - zu * headFrame.superior.dot(zu)
        }
        return p.normalized
    }

    /// The smoothed outward scalp normal at a point on (or near) the scalp: the average of the face
    /// normals of the triangles within `radiusMM`, weighted by area × (1 − d/radiusMM), with d the
    /// triangle's distance to the point (weights by area alone when the radius is 0). Nil when no
    /// triangle is that close or the normals cancel out.
    public static func smoothedNormal(at point: Vector3, scalp: MeshIndex, radiusMM: Double) -> Vector3? {
        var hits = scalp.closestPoints(onTrianglesWithin: radiusMM, of: point)
        if hits.isEmpty, let nearest = scalp.closestPoint(to: point) { hits = [nearest] }
        var sum = Vector3.zero
        var areaScale = 0.0
        for hit in hits {
            let (a, b, c) = scalp.mesh.corners(hit.triangle)
            let area = (b - a).cross(c - a).length / 2
            let falloff = radiusMM > 0 ? Swift.max(1 - hit.distanceMM / radiusMM, 0) : 1
            sum += hit.normal * (area * falloff)
            areaScale += area * falloff
        }
        guard areaScale > 0, sum.length > 1e-6 * areaScale else { return nil }
        return sum.normalized
    }
}

/// `x` rounded to `digits` decimals (no Foundation in this module).
private func rounded(_ x: Double, _ digits: Int) -> Double {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (x * scale).rounded() / scale
    return r == 0 ? 0 : r
}

/// `(x, y, z) mm` rounded to 0.01 mm, for messages.
private func mm(_ v: Vector3) -> String {
    "(\(rounded(v.x, 2)), \(rounded(v.y, 2)), \(rounded(v.z, 2))) mm"
}

/// `(x, y, z)` rounded to 0.001, for directions in messages.
private func direction(_ v: Vector3) -> String {
    "(\(rounded(v.x, 3)), \(rounded(v.y, 3)), \(rounded(v.z, 3)))"
}
