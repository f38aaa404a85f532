import Geometry
import Formats

/// The error a throwing call fails with, or `nil` when it succeeds.
func formatError<T>(_ body: () throws(FileFormatError) -> T) -> FileFormatError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

// Byte builders for hand-made binary fixtures, written independently of the module's own
// `ByteWriter` (they go through the standard library's byte-order conversions).

func le16(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
func be32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }
func be16(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }
func leFloat(_ v: Float) -> [UInt8] { le32(v.bitPattern) }
func beFloat(_ v: Float) -> [UInt8] { be32(v.bitPattern) }
func leDouble(_ v: Double) -> [UInt8] { withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }
func beDouble(_ v: Double) -> [UInt8] { withUnsafeBytes(of: v.bitPattern.bigEndian, Array.init) }
func beInt32(_ v: Int32) -> [UInt8] { be32(UInt32(bitPattern: v)) }

/// A unit-free test surface: a closed cube of side `side`, 8 vertices and 12 outward-wound
/// triangles, vertices in the order (x, y, z) ∈ {0, side}³ with x fastest.
func cube(side: Double = 1) -> TriangleMesh {
    var vertices: [Vector3] = []
    for z in [0.0, side] {
        for y in [0.0, side] {
            for x in [0.0, side] { vertices.append(Vector3(x, y, z)) }
        }
    }
    let quads: [[UInt32]] = [[0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5]]
    var triangles: [SIMD3<UInt32>] = []
    for q in quads {
        triangles.append(SIMD3(q[0], q[1], q[2]))
        triangles.append(SIMD3(q[0], q[2], q[3]))
    }
    return TriangleMesh(vertices: vertices, triangles: triangles)
}

/// A mesh with coordinates that are not round numbers: a subdivided cube, rotated and moved
/// to head-like coordinates (26 vertices, 48 triangles).
func awkwardMesh() -> TriangleMesh {
    let pose = RigidTransform(rotation: Quaternion(axis: Vector3(1, -2, 0.5).normalized, angleRadians: 0.7), translation: Vector3(12.3, -45.6, 78.9))
    return cube(side: 61.7).subdivided().transformed(by: pose)
}

/// True when every coordinate agrees to 1e-6 relative (absolute below 1): the precision of a
/// round trip through 32-bit floats.
func nearlyEqual(_ a: Vector3, _ b: Vector3) -> Bool {
    (0..<3).allSatisfy { Swift.abs(a[$0] - b[$0]) <= 1e-6 * Swift.max(1, Swift.abs(a[$0])) }
}

/// True when both meshes have the same triangles with the same corner coordinates (to 1e-6
/// relative), whatever the vertex numbering: how an STL round trip is compared.
func sameTriangles(_ a: TriangleMesh, _ b: TriangleMesh) -> Bool {
    guard a.triangles.count == b.triangles.count else { return false }
    return a.triangles.indices.allSatisfy { t in
        let (p, q, r) = a.corners(t)
        let (u, v, w) = b.corners(t)
        return nearlyEqual(p, u) && nearlyEqual(q, v) && nearlyEqual(r, w)
    }
}
