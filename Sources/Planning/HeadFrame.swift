import Geometry

/// Anatomical directions of a head in MRI space (mm), used to measure the coil handle's angle from
/// the midline.
///
/// Built from the nasion and the pre-auricular points: the origin is the midpoint of LPA and RPA;
/// `left` points from RPA to LPA; `anterior` points from the origin towards the nasion, made
/// perpendicular to `left`; `superior = anterior × left`, so (−left, anterior, superior) is a
/// right-handed RAS-like frame. Without fiducials, `HeadFrame.mriAxes` takes the MRI's own RAS axes.
public struct HeadFrame: Equatable, Sendable, CustomStringConvertible {
    /// Midpoint of LPA and RPA (or the MRI origin for `mriAxes`), in MRI mm.
    public var origin: Vector3
    /// Unit vector towards the front of the head (towards the nasion).
    public var anterior: Vector3
    /// Unit vector towards the patient's left (from RPA to LPA).
    public var left: Vector3
    /// Unit vector towards the top of the head: `anterior × left`.
    public var superior: Vector3

    /// Unit vector towards the back of the head.
    public var posterior: Vector3 { -self.anterior }

    /// The MRI's own axes, assuming RAS world coordinates (x right, y anterior, z superior).
    public static let mriAxes = HeadFrame(
        origin: .zero, anterior: Vector3(0, 1, 0), left: Vector3(-1, 0, 0), superior: Vector3(0, 0, 1))

    private init(origin: Vector3, anterior: Vector3, left: Vector3, superior: Vector3) {
        self.origin = origin
        self.anterior = anterior
        self.left = left
        self.superior = superior
    }

    /// The head frame of three fiducials given in MRI space (RAS, mm).
    ///
    /// - Throws: `CoilPlacementError.nonFiniteInput` for a NaN/infinite coordinate;
    ///   `.degenerateFiducials` when LPA and RPA are less than 10 mm apart or the nasion lies
    ///   within 10 mm of the line through them; `.mirroredFiducials` when the resulting superior
    ///   axis points to MRI −z (LPA and RPA swapped, or the MRI is not in RAS).
    public init(nasion: Vector3, lpa: Vector3, rpa: Vector3) throws(CoilPlacementError) {
        guard nasion.isFinite, lpa.isFinite, rpa.isFinite else { throw .nonFiniteInput("fiducial") }
        let origin = (lpa + rpa) / 2
        let across = lpa - rpa
        guard across.length >= 10 else {
            throw .degenerateFiducials("LPA and RPA are only \(across.length) mm apart")
        }
        let left = across.normalized
        var forward = nasion - origin
        forward -= left * forward.dot(left)
        guard forward.length >= 10 else {
            throw .degenerateFiducials("the nasion is only \(forward.length) mm from the line through LPA and RPA")
        }
        let anterior = forward.normalized
        let superior = anterior.cross(left)
        guard superior.z > 0 else { throw .mirroredFiducials }
        self.init(origin: origin, anterior: anterior, left: left, superior: superior)
    }

    public var description: String {
        "HeadFrame(origin: \(self.origin), anterior: \(self.anterior), left: \(self.left), superior: \(self.superior))"
    }
}
