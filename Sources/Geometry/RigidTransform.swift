/// A rigid-body transform (rotation then translation), in millimetres.
///
/// CoilNav names transforms as PLUS, OpenIGTLink and 3D Slicer do: `coilToHead` maps a point given
/// in coil coordinates to head coordinates. Composition reads right to left, so
/// `coilToMRI = headToMRI * trackerToHead * coilToTracker`. `apply(to:)` maps points,
/// `rotate(_:)` maps directions.
///
/// The rotation is stored as an orthonormal matrix (so composing many transforms keeps full
/// precision) and is exposed as a quaternion for the wire formats that use one.
public struct RigidTransform: Equatable, Sendable, CustomStringConvertible {
    /// Rotation part, a proper orthonormal matrix.
    public var rotation: Matrix3
    /// Translation part, in millimetres.
    public var translation: Vector3

    @inlinable public init(rotation: Matrix3, translation: Vector3) {
        self.rotation = rotation
        self.translation = translation
    }

    public init(rotation: Quaternion, translation: Vector3) {
        self.init(rotation: rotation.normalized.rotationMatrix, translation: translation)
    }

    public static let identity = RigidTransform(rotation: Matrix3.identity, translation: .zero)

    /// A pure translation.
    public static func translation(_ t: Vector3) -> RigidTransform {
        RigidTransform(rotation: Matrix3.identity, translation: t)
    }

    /// The rotation as a unit quaternion (NDI order, `q0 ≥ 0`).
    public var quaternion: Quaternion { Quaternion(rotationMatrix: self.rotation) }

    /// Maps a point.
    @inlinable public func apply(to point: Vector3) -> Vector3 {
        self.rotation * point + self.translation
    }

    /// Maps a direction (rotation only).
    @inlinable public func rotate(_ direction: Vector3) -> Vector3 {
        self.rotation * direction
    }

    /// The inverse transform: if `self` is `aToB`, the result is `bToA`.
    @inlinable public var inverse: RigidTransform {
        let rt = self.rotation.transposed
        return RigidTransform(rotation: rt, translation: -(rt * self.translation))
    }

    /// Composition: `(bToC * aToB).apply(p) == bToC.apply(aToB.apply(p))`.
    @inlinable public static func * (lhs: RigidTransform, rhs: RigidTransform) -> RigidTransform {
        RigidTransform(rotation: lhs.rotation * rhs.rotation, translation: lhs.rotation * rhs.translation + lhs.translation)
    }

    /// The 4×4 homogeneous matrix, row-major, as nested arrays (`[[r00, r01, r02, tx], …, [0, 0, 0, 1]]`).
    public var matrix4x4: [[Double]] {
        let r = self.rotation, t = self.translation
        return [
            [r[0, 0], r[0, 1], r[0, 2], t.x],
            [r[1, 0], r[1, 1], r[1, 2], t.y],
            [r[2, 0], r[2, 1], r[2, 2], t.z],
            [0, 0, 0, 1],
        ]
    }

    /// Why a 4×4 matrix is not a rigid transform.
    public enum MatrixError: Error, Equatable, Sendable, CustomStringConvertible {
        case wrongShape(rows: Int, columns: [Int])
        case nonFinite(row: Int, column: Int)
        case badLastRow([Double])
        case notOrthonormal(maxError: Double, tolerance: Double)
        case reflection(determinant: Double)

        public var description: String {
            switch self {
            case .wrongShape(let rows, let columns):
                return "a 4×4 matrix needs 4 rows of 4 values; got \(rows) rows of \(columns.map(String.init).joined(separator: ", ")) values"
            case .nonFinite(let row, let column):
                return "matrix entry [\(row)][\(column)] is not a finite number"
            case .badLastRow(let r):
                return "the last row of a rigid transform must be [0, 0, 0, 1]; got \(r)"
            case .notOrthonormal(let e, let tol):
                return "the rotation part is not orthonormal (max |RᵀR − I| = \(e), tolerance \(tol)); scaling or shear is not a rigid transform"
            case .reflection(let d):
                return "the rotation part has determinant \(d): it is a reflection, not a rotation"
            }
        }
    }

    /// Reads a 4×4 homogeneous matrix (row-major nested arrays). The rotation part must be
    /// orthonormal to within `tolerance` (max |RᵀR − I|) and have determinant +1; it is then
    /// re-orthonormalised so that round-off in a file does not accumulate.
    public init(matrix4x4 m: [[Double]], tolerance: Double = 1e-6) throws(MatrixError) {
        guard m.count == 4, m.allSatisfy({ $0.count == 4 }) else {
            throw .wrongShape(rows: m.count, columns: m.map(\.count))
        }
        for i in 0..<4 {
            for j in 0..<4 where !m[i][j].isFinite {
                throw .nonFinite(row: i, column: j)
            }
        }
        let last = m[3]
        guard Swift.abs(last[0]) <= tolerance, Swift.abs(last[1]) <= tolerance, Swift.abs(last[2]) <= tolerance,
            Swift.abs(last[3] - 1) <= tolerance
        else { throw .badLastRow(last) }
        let r = Matrix3(rows: Vector3(m[0][0], m[0][1], m[0][2]), Vector3(m[1][0], m[1][1], m[1][2]), Vector3(m[2][0], m[2][1], m[2][2]))
        let e = r.orthogonalityError
        guard e <= tolerance else { throw .notOrthonormal(maxError: e, tolerance: tolerance) }
        let d = r.determinant
        guard d > 0 else { throw .reflection(determinant: d) }
        self.init(rotation: Quaternion(rotationMatrix: r).rotationMatrix, translation: Vector3(m[0][3], m[1][3], m[2][3]))
    }

    /// The angle of the rotation part, in radians.
    public var rotationAngleRadians: Double { self.quaternion.angleRadians }

    /// Interpolates between two poses: slerp for the rotation, lerp for the translation.
    /// `fraction` 0 gives `self`, 1 gives `other`; values outside [0, 1] extrapolate.
    public func interpolated(to other: RigidTransform, fraction: Double) -> RigidTransform {
        let q = self.quaternion.slerp(to: other.quaternion, fraction: fraction)
        let t = self.translation + (other.translation - self.translation) * fraction
        return RigidTransform(rotation: q, translation: t)
    }

    /// True when rotation and translation are finite.
    public var isFinite: Bool { self.rotation.isFinite && self.translation.isFinite }

    /// Largest difference in translation (mm) and rotation angle (radians) between two transforms.
    public func difference(to other: RigidTransform) -> (translationMM: Double, rotationRadians: Double) {
        let d = self.inverse * other
        return ((other.translation - self.translation).length, d.rotationAngleRadians)
    }

    public var description: String {
        "RigidTransform(q: \(self.quaternion), t: (\(self.translation.x), \(self.translation.y), \(self.translation.z)))"
    }
}
