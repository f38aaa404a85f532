/// An indexed triangle mesh (for example the MRI scalp surface), coordinates in millimetres.
///
/// Triangles are wound counter-clockwise seen from outside, so face normals point outwards; the
/// file readers keep the winding of the file, and `orientedOutward()` fixes a mesh that is wound
/// the other way.
public struct TriangleMesh: Equatable, Sendable {
    public var vertices: [Vector3]
    /// Vertex indices, three per triangle.
    public var triangles: [SIMD3<UInt32>]

    /// Why a mesh is unusable.
    public enum ValidationError: Error, Equatable, Sendable, CustomStringConvertible {
        case empty
        case nonFiniteVertex(index: Int)
        case indexOutOfRange(triangle: Int, index: UInt32, vertexCount: Int)

        public var description: String {
            switch self {
            case .empty: return "the mesh has no triangles"
            case .nonFiniteVertex(let i): return "vertex \(i) has a coordinate that is not a finite number"
            case .indexOutOfRange(let t, let i, let n):
                return "triangle \(t) refers to vertex \(i), but the mesh has \(n) vertices"
            }
        }
    }

    public init(vertices: [Vector3], triangles: [SIMD3<UInt32>]) {
        self.vertices = vertices
        self.triangles = triangles
    }

    /// Checks indices and coordinates.
    public func validate() throws(ValidationError) {
        if self.triangles.isEmpty { throw .empty }
        for (i, v) in self.vertices.enumerated() where !v.isFinite { throw .nonFiniteVertex(index: i) }
        let n = self.vertices.count
        for (t, tri) in self.triangles.enumerated() {
            for k in 0..<3 where Int(tri[k]) >= n {
                throw .indexOutOfRange(triangle: t, index: tri[k], vertexCount: n)
            }
        }
    }

    /// The three corners of triangle `t`.
    @inlinable public func corners(_ t: Int) -> (Vector3, Vector3, Vector3) {
        let tri = self.triangles[t]
        return (self.vertices[Int(tri.x)], self.vertices[Int(tri.y)], self.vertices[Int(tri.z)])
    }

    /// Unit normal of triangle `t` (zero for a degenerate triangle).
    public func faceNormal(_ t: Int) -> Vector3 {
        let (a, b, c) = self.corners(t)
        return (b - a).cross(c - a).normalized
    }

    /// Area-weighted unit vertex normals.
    public func vertexNormals() -> [Vector3] {
        var n = [Vector3](repeating: .zero, count: self.vertices.count)
        for t in self.triangles.indices {
            let (a, b, c) = self.corners(t)
            let w = (b - a).cross(c - a)  // length = 2 × area
            let tri = self.triangles[t]
            n[Int(tri.x)] += w
            n[Int(tri.y)] += w
            n[Int(tri.z)] += w
        }
        return n.map(\.normalized)
    }

    /// Total surface area in mm².
    public var area: Double {
        var s = 0.0
        for t in self.triangles.indices {
            let (a, b, c) = self.corners(t)
            s += (b - a).cross(c - a).length / 2
        }
        return s
    }

    /// Axis-aligned bounding box (min, max). The mesh must have vertices.
    public var bounds: (min: Vector3, max: Vector3) {
        var lo = Vector3(repeating: .infinity), hi = Vector3(repeating: -.infinity)
        for v in self.vertices {
            lo = pointwiseMin(lo, v)
            hi = pointwiseMax(hi, v)
        }
        return (lo, hi)
    }

    /// Signed volume (positive when the faces are wound so that normals point outwards of a
    /// closed surface).
    public var signedVolume: Double {
        var s = 0.0
        for t in self.triangles.indices {
            let (a, b, c) = self.corners(t)
            s += a.dot(b.cross(c)) / 6
        }
        return s
    }

    /// The same mesh with the winding of every triangle reversed (normals flip).
    public var flipped: TriangleMesh {
        TriangleMesh(vertices: self.vertices, triangles: self.triangles.map { SIMD3($0.x, $0.z, $0.y) })
    }

    /// The same mesh wound so that normals point away from the mesh's centroid on average (for a
    /// closed or nearly closed head surface, outwards).
    public func orientedOutward() -> TriangleMesh {
        let c = centroid(of: self.vertices)
        var s = 0.0
        for t in self.triangles.indices {
            let (a, b, cc) = self.corners(t)
            let w = (b - a).cross(cc - a)
            s += w.dot((a + b + cc) / 3 - c)
        }
        return s >= 0 ? self : self.flipped
    }

    /// Loop-free midpoint subdivision: every triangle becomes four, and the new vertices are the
    /// edge midpoints (shared between neighbours). The surface is unchanged; the triangle count
    /// grows fourfold. Used to build large meshes for benchmarks.
    public func subdivided() -> TriangleMesh {
        var verts = self.vertices
        var midpoint: [UInt64: UInt32] = [:]
        midpoint.reserveCapacity(self.triangles.count * 3 / 2)
        func mid(_ a: UInt32, _ b: UInt32) -> UInt32 {
            let key = a < b ? (UInt64(a) << 32 | UInt64(b)) : (UInt64(b) << 32 | UInt64(a))
            if let m = midpoint[key] { return m }
            let m = UInt32(verts.count)
            verts.append((verts[Int(a)] + verts[Int(b)]) / 2)
            midpoint[key] = m
            return m
        }
        var tris: [SIMD3<UInt32>] = []
        tris.reserveCapacity(self.triangles.count * 4)
        for t in self.triangles {
            let ab = mid(t.x, t.y), bc = mid(t.y, t.z), ca = mid(t.z, t.x)
            tris.append(SIMD3(t.x, ab, ca))
            tris.append(SIMD3(ab, t.y, bc))
            tris.append(SIMD3(ca, bc, t.z))
            tris.append(SIMD3(ab, bc, ca))
        }
        return TriangleMesh(vertices: verts, triangles: tris)
    }

    /// Applies a rigid transform to every vertex.
    public func transformed(by t: RigidTransform) -> TriangleMesh {
        TriangleMesh(vertices: self.vertices.map { t.apply(to: $0) }, triangles: self.triangles)
    }
}
