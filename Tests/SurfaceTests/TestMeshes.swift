import Geometry

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Synthetic meshes, point samplers and brute-force references shared by the surface tests.
enum TestMeshes {
    /// A unit icosphere: the icosahedron, midpoint-subdivided `subdivisions` times with every new
    /// vertex pushed back onto the unit sphere. Wound outwards. 20·4ⁿ triangles.
    static func icosphere(subdivisions: Int) -> TriangleMesh {
        let phi = (1 + 5.0.squareRoot()) / 2
        let raw: [Vector3] = [
            Vector3(-1, phi, 0), Vector3(1, phi, 0), Vector3(-1, -phi, 0), Vector3(1, -phi, 0),
            Vector3(0, -1, phi), Vector3(0, 1, phi), Vector3(0, -1, -phi), Vector3(0, 1, -phi),
            Vector3(phi, 0, -1), Vector3(phi, 0, 1), Vector3(-phi, 0, -1), Vector3(-phi, 0, 1),
        ]
        let faces: [SIMD3<UInt32>] = [
            SIMD3(0, 11, 5), SIMD3(0, 5, 1), SIMD3(0, 1, 7), SIMD3(0, 7, 10), SIMD3(0, 10, 11),
            SIMD3(1, 5, 9), SIMD3(5, 11, 4), SIMD3(11, 10, 2), SIMD3(10, 7, 6), SIMD3(7, 1, 8),
            SIMD3(3, 9, 4), SIMD3(3, 4, 2), SIMD3(3, 2, 6), SIMD3(3, 6, 8), SIMD3(3, 8, 9),
            SIMD3(4, 9, 5), SIMD3(2, 4, 11), SIMD3(6, 2, 10), SIMD3(8, 6, 7), SIMD3(9, 8, 1),
        ]
        var mesh = TriangleMesh(vertices: raw.map(\.normalized), triangles: faces)
        // Wind every face outwards (the face list above is not trusted for orientation).
        mesh.triangles = mesh.triangles.map { t in
            let a = mesh.vertices[Int(t.x)], b = mesh.vertices[Int(t.y)], c = mesh.vertices[Int(t.z)]
            return (b - a).cross(c - a).dot(a + b + c) >= 0 ? t : SIMD3(t.x, t.z, t.y)
        }
        for _ in 0..<subdivisions {
            mesh = mesh.subdivided()
            mesh.vertices = mesh.vertices.map(\.normalized)
        }
        return mesh
    }

    /// An ellipsoid centred at `centre` with the given semi-axes (mm), optionally with a smooth
    /// radial bump `bump(u)` (a relative change of radius for the unit direction `u`).
    static func ellipsoid(
        semiAxes: Vector3, subdivisions: Int, centre: Vector3 = .zero, bump: ((Vector3) -> Double)? = nil
    ) -> TriangleMesh {
        var mesh = self.icosphere(subdivisions: subdivisions)
        mesh.vertices = mesh.vertices.map { u in
            centre + u * semiAxes * (1 + (bump?(u) ?? 0))
        }
        return mesh
    }

    /// The head-like surface of the ICP tests: an ellipsoid with semi-axes 75 (left–right), 95
    /// (anterior–posterior) and 85 (inferior–superior) mm, 5120 triangles, with a few smooth
    /// Gaussian features (radius changes relative to the ellipsoid) — a nose (+20 %), ears (+15 %),
    /// a brow (+8 %) and an occipital bulge (+8 %) — and a gentle asymmetric warp (≤ 3 %).
    ///
    /// The features matter: on a bare ellipsoid the upper head's rotations are weakly constrained
    /// (eigenvalue ratio ≈ 0.003), and with 1000 points at σ = 0.5 mm per axis the fit's rotation
    /// error is noise-limited at ≈ 0.35° RMS. With the features the ratio is ≈ 0.013, about that of
    /// the real fsaverage scalp (0.011–0.012 for points above z = −20 mm), and the RMS rotation
    /// error ≈ 0.17° (fsaverage: 0.18°).
    static func headLikeEllipsoid(subdivisions: Int = 4) -> TriangleMesh {
        func feature(_ u: Vector3, _ centre: Vector3, height: Double, width: Double) -> Double {
            height * exp(-(u - centre.normalized).lengthSquared / (2 * width * width))
        }
        return self.ellipsoid(semiAxes: Vector3(75, 95, 85), subdivisions: subdivisions) { u in
            0.02 * u.x * u.y + 0.03 * u.y * u.z * u.z - 0.015 * u.x * u.x * u.z
                + feature(u, Vector3(0, 0.99, -0.05), height: 0.20, width: 0.10)  // nose
                + feature(u, Vector3(0, 0.9, 0.3), height: 0.08, width: 0.25)  // brow
                + feature(u, Vector3(0.97, -0.05, -0.1), height: 0.15, width: 0.10)  // right ear
                + feature(u, Vector3(-0.97, -0.05, -0.1), height: 0.15, width: 0.10)  // left ear
                + feature(u, Vector3(0, -0.9, 0.2), height: 0.08, width: 0.15)  // occiput
        }
    }

    /// Uniform random points on the mesh surface (area-weighted triangle choice, uniform
    /// barycentric), with their face normals, keeping only those that pass `keep`.
    static func samplePoints(
        on mesh: TriangleMesh, count: Int, rng: inout SplitMix64, keep: (Vector3) -> Bool = { _ in true }
    ) -> [(point: Vector3, normal: Vector3)] {
        var cumulative: [Double] = []
        cumulative.reserveCapacity(mesh.triangles.count)
        var total = 0.0
        for t in mesh.triangles.indices {
            let (a, b, c) = mesh.corners(t)
            total += (b - a).cross(c - a).length / 2
            cumulative.append(total)
        }
        var out: [(Vector3, Vector3)] = []
        var guardCount = 0
        while out.count < count && guardCount < count * 1000 {
            guardCount += 1
            let x = rng.nextUnitDouble() * total
            var lo = 0, hi = cumulative.count - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if cumulative[mid] < x { lo = mid + 1 } else { hi = mid }
            }
            var r1 = rng.nextUnitDouble(), r2 = rng.nextUnitDouble()
            if r1 + r2 > 1 {
                r1 = 1 - r1
                r2 = 1 - r2
            }
            let (a, b, c) = mesh.corners(lo)
            let p = a + (b - a) * r1 + (c - a) * r2
            if keep(p) { out.append((p, mesh.faceNormal(lo))) }
        }
        return out
    }

    /// A random triangle soup in a 100 mm box, with about one triangle in eight degenerate
    /// (collinear corners, a repeated corner, or all three corners equal).
    static func randomSoup(triangles: Int, rng: inout SplitMix64) -> TriangleMesh {
        var vertices: [Vector3] = []
        var tris: [SIMD3<UInt32>] = []
        func randomPoint() -> Vector3 {
            Vector3(rng.nextUnitDouble(), rng.nextUnitDouble(), rng.nextUnitDouble()) * 100 - Vector3(50, 50, 50)
        }
        for i in 0..<triangles {
            let a = randomPoint()
            let size = 2 + 18 * rng.nextUnitDouble()
            var b = a + rng.nextGaussianVector(sigma: size)
            var c = a + rng.nextGaussianVector(sigma: size)
            switch i % 24 {
            case 5: c = a + (b - a) * (0.3 + rng.nextUnitDouble())  // collinear
            case 11: b = a  // repeated corner
            case 17:
                b = a
                c = a  // a point
            default: break
            }
            let base = UInt32(vertices.count)
            vertices.append(contentsOf: [a, b, c])
            tris.append(SIMD3(base, base + 1, base + 2))
        }
        return TriangleMesh(vertices: vertices, triangles: tris)
    }

    // MARK: - Brute-force references (deliberately a different method from MeshIndex's)

    /// Closest point on segment xy.
    static func closestOnSegment(_ p: Vector3, _ x: Vector3, _ y: Vector3) -> Vector3 {
        let e = y - x
        let l2 = e.lengthSquared
        if l2 == 0 { return x }
        let s = min(max((p - x).dot(e) / l2, 0), 1)
        return x + e * s
    }

    /// Closest point on triangle abc by projection onto the plane, an inside test by solved
    /// barycentric coordinates, and otherwise the nearest of the three edges. Degenerate
    /// triangles (|AB × AC| tiny) use the edges only.
    static func referenceClosest(_ p: Vector3, _ a: Vector3, _ b: Vector3, _ c: Vector3) -> Vector3 {
        let n = (b - a).cross(c - a)
        let longest = max((b - a).lengthSquared, (c - a).lengthSquared, (c - b).lengthSquared)
        if n.length > 1e-12 * longest {
            let nh = n.normalized
            let q = p - nh * (p - a).dot(nh)
            let v0 = b - a, v1 = c - a, v2 = q - a
            let d00 = v0.dot(v0), d01 = v0.dot(v1), d11 = v1.dot(v1), d20 = v2.dot(v0), d21 = v2.dot(v1)
            let den = d00 * d11 - d01 * d01
            let v = (d11 * d20 - d01 * d21) / den
            let w = (d00 * d21 - d01 * d20) / den
            if v >= 0 && w >= 0 && v + w <= 1 { return q }
        }
        let candidates = [
            self.closestOnSegment(p, a, b), self.closestOnSegment(p, b, c), self.closestOnSegment(p, c, a),
        ]
        return candidates.min { ($0 - p).lengthSquared < ($1 - p).lengthSquared }!
    }

    /// Brute-force distance from `p` to the mesh.
    static func referenceDistance(_ p: Vector3, _ mesh: TriangleMesh) -> Double {
        var best = Double.infinity
        for t in mesh.triangles.indices {
            let (a, b, c) = mesh.corners(t)
            best = min(best, (self.referenceClosest(p, a, b, c) - p).length)
        }
        return best
    }

    /// Brute-force first ray hit: plane intersection then an inside test by barycentric coordinates
    /// (non-degenerate triangles only). Returns the distance along the unit direction.
    static func referenceRay(_ o: Vector3, _ direction: Vector3, _ mesh: TriangleMesh) -> (t: Double, triangle: Int)? {
        let d = direction.normalized
        var best: (Double, Int)? = nil
        for tIndex in mesh.triangles.indices {
            let (a, b, c) = mesh.corners(tIndex)
            let n = (b - a).cross(c - a)
            let longest = max((b - a).lengthSquared, (c - a).lengthSquared, (c - b).lengthSquared)
            if n.length <= 1e-12 * longest { continue }
            let denom = n.dot(d)
            if abs(denom) < 1e-12 * n.length { continue }
            let t = n.dot(a - o) / denom
            if t < 0 { continue }
            let q = o + d * t
            // Inside test: q is on the inner side of all three edges.
            let s1 = (b - a).cross(q - a).dot(n), s2 = (c - b).cross(q - b).dot(n), s3 = (a - c).cross(q - c).dot(n)
            if s1 >= 0 && s2 >= 0 && s3 >= 0 {
                if best == nil || t < best!.0 { best = (t, tIndex) }
            }
        }
        return best
    }
}
