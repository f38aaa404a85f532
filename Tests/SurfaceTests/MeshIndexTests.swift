import Geometry
import Testing

/// Checks a hit for internal consistency: the point lies on the reported triangle, the distance is
/// the distance to it, the corner weights reproduce it and the normal is the face normal.
private func expectConsistent(_ hit: MeshHit, query p: Vector3, mesh: TriangleMesh, sourceLocation: SourceLocation = #_sourceLocation) {
    let (a, b, c) = mesh.corners(hit.triangle)
    let onTriangle = TestMeshes.referenceClosest(hit.point, a, b, c)
    #expect((onTriangle - hit.point).length <= 1e-9, "hit point is not on its triangle", sourceLocation: sourceLocation)
    #expect(abs((hit.point - p).length - hit.distanceMM) <= 1e-9, sourceLocation: sourceLocation)
    let w = hit.barycentric
    #expect(abs(w.x + w.y + w.z - 1) <= 1e-12, sourceLocation: sourceLocation)
    #expect(w.min() >= -1e-12 && w.max() <= 1 + 1e-12, sourceLocation: sourceLocation)
    #expect((a * w.x + b * w.y + c * w.z - hit.point).length <= 1e-9, sourceLocation: sourceLocation)
    if MeshIndex.isDegenerate(a, b, c) {
        #expect(hit.normal == .zero, sourceLocation: sourceLocation)
    } else {
        #expect((hit.normal - (b - a).cross(c - a).normalized).length <= 1e-12, sourceLocation: sourceLocation)
    }
}

@Suite("MeshIndex")
struct MeshIndexTests {
    @Test("closest point equals brute force on random triangle soups with degenerate triangles", arguments: [1, 2, 3] as [UInt64])
    func closestPointMatchesBruteForceOnSoups(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let mesh = TestMeshes.randomSoup(triangles: 300, rng: &rng)
        let index = try MeshIndex(mesh: mesh)
        for _ in 0..<200 {
            let p = Vector3(rng.nextUnitDouble(), rng.nextUnitDouble(), rng.nextUnitDouble()) * 160 - Vector3(80, 80, 80)
            let hit = try #require(index.closestPoint(to: p))
            let reference = TestMeshes.referenceDistance(p, mesh)
            #expect(abs(hit.distanceMM - reference) <= 1e-9, "query \(p): index \(hit.distanceMM), brute force \(reference)")
            expectConsistent(hit, query: p, mesh: mesh)
        }
    }

    @Test("closest point equals brute force near and far from a closed ellipsoid; hint and bound do not change it")
    func closestPointMatchesBruteForceOnEllipsoid() throws {
        var rng = SplitMix64(seed: 42)
        let mesh = TestMeshes.headLikeEllipsoid(subdivisions: 3)
        let index = try MeshIndex(mesh: mesh)
        let samples = TestMeshes.samplePoints(on: mesh, count: 150, rng: &rng)
        var previous: Int? = nil
        for (i, s) in samples.enumerated() {
            // Near the surface (±8 mm along the normal), or far away (up to 300 mm) for one in five.
            let p = i % 5 == 0 ? rng.nextGaussianVector(sigma: 150) : s.point + s.normal * (16 * rng.nextUnitDouble() - 8)
            let hit = try #require(index.closestPoint(to: p))
            let reference = TestMeshes.referenceDistance(p, mesh)
            #expect(abs(hit.distanceMM - reference) <= 1e-9)
            expectConsistent(hit, query: p, mesh: mesh)
            let hinted = try #require(index.closestPoint(to: p, hint: previous))
            #expect(abs(hinted.distanceMM - hit.distanceMM) <= 1e-12)
            let bounded = try #require(index.closestPoint(to: p, maxDistance: hit.distanceMM + 1e-6, hint: hit.triangle))
            #expect(abs(bounded.distanceMM - hit.distanceMM) <= 1e-12)
            #expect(index.closestPoint(to: p, maxDistance: hit.distanceMM * 0.999 - 1e-6) == nil)
            previous = hit.triangle
        }
    }

    @Test("known answers in every Voronoi region of a single triangle")
    func singleTriangleRegions() throws {
        let mesh = TriangleMesh(
            vertices: [Vector3(0, 0, 0), Vector3(10, 0, 0), Vector3(0, 10, 0)], triangles: [SIMD3(0, 1, 2)])
        let index = try MeshIndex(mesh: mesh)
        let cases: [(query: Vector3, point: Vector3, weights: Vector3)] = [
            (Vector3(-1, -1, 5), Vector3(0, 0, 0), Vector3(1, 0, 0)),  // corner A
            (Vector3(12, -1, 0), Vector3(10, 0, 0), Vector3(0, 1, 0)),  // corner B
            (Vector3(-1, 12, 3), Vector3(0, 10, 0), Vector3(0, 0, 1)),  // corner C
            (Vector3(4, -3, 2), Vector3(4, 0, 0), Vector3(0.6, 0.4, 0)),  // edge AB
            (Vector3(-2, 7, -1), Vector3(0, 7, 0), Vector3(0.3, 0, 0.7)),  // edge AC
            (Vector3(8, 6, 1), Vector3(6, 4, 0), Vector3(0, 0.6, 0.4)),  // edge BC
            (Vector3(2, 3, 4), Vector3(2, 3, 0), Vector3(0.5, 0.2, 0.3)),  // face, above
            (Vector3(2, 3, -4), Vector3(2, 3, 0), Vector3(0.5, 0.2, 0.3)),  // face, below
        ]
        for c in cases {
            let hit = try #require(index.closestPoint(to: c.query))
            #expect((hit.point - c.point).length <= 1e-12, "query \(c.query) gave \(hit.point)")
            #expect((hit.barycentric - c.weights).length <= 1e-12, "query \(c.query) gave weights \(hit.barycentric)")
            #expect(abs(hit.distanceMM - (c.query - c.point).length) <= 1e-12)
            #expect(hit.normal == Vector3(0, 0, 1))
        }
    }

    @Test("points on vertices, edges and faces are at distance zero; offsets along the normal are recovered")
    func pointsOnTheSurface() throws {
        let mesh = TestMeshes.headLikeEllipsoid(subdivisions: 3)
        let index = try MeshIndex(mesh: mesh)
        for t in stride(from: 0, to: mesh.triangles.count, by: 37) {
            let (a, b, c) = mesh.corners(t)
            for p in [a, b, c, (a + b) / 2, (b + c) / 2, (c + a) / 2] {
                let hit = try #require(index.closestPoint(to: p))
                #expect(hit.distanceMM <= 1e-12)
                #expect((hit.point - p).length <= 1e-12)
            }
            let centre = (a + b + c) / 3
            let onFace = try #require(index.closestPoint(to: centre))
            #expect(onFace.triangle == t)
            #expect((onFace.barycentric - Vector3(1, 1, 1) / 3).length <= 1e-9)
            let n = mesh.faceNormal(t)
            // The mesh is convex, so a point just outside a face's centre projects onto that face.
            let above = try #require(index.closestPoint(to: centre + n * 0.5))
            #expect(above.triangle == t)
            #expect(abs(above.distanceMM - 0.5) <= 1e-9)
            #expect((above.normal - n).length <= 1e-12)
        }
    }

    @Test("degenerate triangles count as their edges, have a zero normal, and lose ties to proper neighbours")
    func degenerateTriangles() throws {
        // T0: a proper triangle; T1: collinear corners along T0's edge AB; T2: all corners equal.
        let mesh = TriangleMesh(
            vertices: [
                Vector3(0, 0, 0), Vector3(10, 0, 0), Vector3(0, 10, 0), Vector3(5, 0, 0),
                Vector3(30, 30, 30), Vector3(-40, 0, 0), Vector3(-20, 0, 0),
            ],
            triangles: [SIMD3(0, 1, 2), SIMD3(0, 3, 1), SIMD3(4, 4, 4), SIMD3(5, 6, 5)])
        let index = try MeshIndex(mesh: mesh)
        #expect(index.faceNormal(0) == Vector3(0, 0, 1))
        #expect(index.faceNormal(1) == .zero && index.faceNormal(2) == .zero && index.faceNormal(3) == .zero)
        // Below edge AB (y < 0): T0 and T1 are equally close; the proper triangle wins.
        let tie = try #require(index.closestPoint(to: Vector3(4, -3, 0)))
        #expect(tie.triangle == 0)
        #expect(abs(tie.distanceMM - 3) <= 1e-12)
        // Near the isolated point triangle.
        let point = try #require(index.closestPoint(to: Vector3(31, 30, 30)))
        #expect(point.triangle == 2 && abs(point.distanceMM - 1) <= 1e-12 && point.normal == .zero)
        // Near the isolated segment triangle (T3 spans x ∈ [−40, −20] on the x axis).
        let seg = try #require(index.closestPoint(to: Vector3(-30, 4, 3)))
        #expect(seg.triangle == 3 && abs(seg.distanceMM - 5) <= 1e-12)
        #expect((seg.point - Vector3(-30, 0, 0)).length <= 1e-12)
        // Rays pass through degenerate triangles.
        #expect(index.rayIntersection(origin: Vector3(-30, 0, 10), direction: Vector3(0, 0, -1)) == nil)
    }

    @Test("a pile of identical triangles (no split separates their centroids) still gives a shallow, exact index")
    func identicalTriangles() throws {
        let corners = [Vector3(0, 0, 0), Vector3(10, 0, 0), Vector3(0, 10, 0)]
        let copies = 3000
        var vertices: [Vector3] = []
        var triangles: [SIMD3<UInt32>] = []
        for i in 0..<copies {
            vertices.append(contentsOf: corners)
            let base = UInt32(3 * i)
            triangles.append(SIMD3(base, base + 1, base + 2))
        }
        let mesh = TriangleMesh(vertices: vertices, triangles: triangles)
        let index = try MeshIndex(mesh: mesh)
        #expect(index.nodeCount < 2 * copies)
        let hit = try #require(index.closestPoint(to: Vector3(2, 3, 4)))
        #expect(abs(hit.distanceMM - 4) <= 1e-12 && hit.normal == Vector3(0, 0, 1))
        let ray = try #require(index.rayIntersection(origin: Vector3(1, 1, 5), direction: Vector3(0, 0, -1)))
        #expect(abs(ray.distanceMM - 5) <= 1e-12 && ray.entering)
    }

    @Test("maxDistance is an inclusive bound; non-finite queries give nil")
    func boundsAndNonFiniteQueries() throws {
        let mesh = TriangleMesh(
            vertices: [Vector3(0, 0, 0), Vector3(10, 0, 0), Vector3(0, 10, 0)], triangles: [SIMD3(0, 1, 2)])
        let index = try MeshIndex(mesh: mesh)
        let p = Vector3(2, 2, 5)
        #expect(index.closestPoint(to: p, maxDistance: 4.999) == nil)
        #expect(index.closestPoint(to: p, maxDistance: 5.0)?.distanceMM == 5)
        #expect(index.closestPoint(to: Vector3(.nan, 0, 0)) == nil)
        #expect(index.closestPoint(to: Vector3(0, .infinity, 0)) == nil)
        #expect(index.rayIntersection(origin: p, direction: .zero) == nil)
        #expect(index.rayIntersection(origin: p, direction: Vector3(0, .nan, 1)) == nil)
    }

    @Test("an invalid mesh is rejected when the index is built")
    func invalidMeshes() {
        #expect(throws: TriangleMesh.ValidationError.empty) {
            try MeshIndex(mesh: TriangleMesh(vertices: [Vector3(0, 0, 0)], triangles: []))
        }
        #expect(throws: TriangleMesh.ValidationError.indexOutOfRange(triangle: 0, index: 3, vertexCount: 3)) {
            try MeshIndex(mesh: TriangleMesh(vertices: [.zero, Vector3(1, 0, 0), Vector3(0, 1, 0)], triangles: [SIMD3(0, 1, 3)]))
        }
    }

    @Test("ray intersection equals brute force on random soups", arguments: [7, 8] as [UInt64])
    func rayMatchesBruteForce(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let mesh = TestMeshes.randomSoup(triangles: 300, rng: &rng)
        let index = try MeshIndex(mesh: mesh)
        var hits = 0
        for _ in 0..<300 {
            let o = rng.nextGaussianVector(sigma: 40)
            let d = rng.nextGaussianVector(sigma: 1)
            let reference = TestMeshes.referenceRay(o, d, mesh)
            let hit = index.rayIntersection(origin: o, direction: d)
            #expect((reference == nil) == (hit == nil), "ray from \(o) along \(d)")
            if let r = reference, let h = hit {
                hits += 1
                #expect(abs(r.t - h.distanceMM) <= 1e-9)
                #expect((h.point - (o + d.normalized * h.distanceMM)).length <= 1e-9)
                #expect(h.entering == (h.normal.dot(d) < 0))
                let bounded = index.rayIntersection(origin: o, direction: d, maxDistance: h.distanceMM * 0.999)
                #expect(bounded == nil || bounded!.distanceMM < h.distanceMM)
            }
        }
        #expect(hits > 50, "too few rays hit anything for the test to mean much (\(hits))")
    }

    @Test("rays from inside a sphere leave it at its radius; rays from outside enter it")
    func raysOnASphere() throws {
        let radius = 90.0
        var mesh = TestMeshes.icosphere(subdivisions: 4)
        mesh.vertices = mesh.vertices.map { $0 * radius }
        let index = try MeshIndex(mesh: mesh)
        var rng = SplitMix64(seed: 3)
        // A flat facet of this icosphere lies at most 0.2 % inside the sphere.
        for _ in 0..<200 {
            let d = rng.nextGaussianVector(sigma: 1).normalized
            let out = try #require(index.rayIntersection(origin: .zero, direction: d))
            #expect(out.distanceMM <= radius && out.distanceMM >= radius * 0.998)
            #expect(!out.entering)
            let inward = try #require(index.rayIntersection(origin: d * 200, direction: -d))
            #expect(inward.entering)
            #expect(abs(inward.distanceMM - (200 - out.distanceMM)) <= 0.2)
        }
    }

    @Test("winding number is 1 inside and 0 outside a closed surface; signed distance is negative inside")
    func windingNumber() throws {
        let mesh = TestMeshes.headLikeEllipsoid(subdivisions: 3)
        let index = try MeshIndex(mesh: mesh)
        let flipped = try MeshIndex(mesh: mesh.flipped)
        for p in [Vector3(0, 0, 0), Vector3(40, -50, 30), Vector3(0, 0, 80)] {
            #expect(abs(index.windingNumber(at: p) - 1) <= 1e-9)
            #expect(abs(flipped.windingNumber(at: p) + 1) <= 1e-9)
            let sd = try #require(index.signedDistance(to: p))
            #expect(sd < 0)
            #expect(abs(sd + index.closestPoint(to: p)!.distanceMM) <= 1e-12)
        }
        for p in [Vector3(0, 0, 100), Vector3(200, 0, 0), Vector3(60, 60, 60)] {
            #expect(abs(index.windingNumber(at: p)) <= 1e-9)
            #expect(try #require(index.signedDistance(to: p)) > 0)
        }
    }

    @Test("triangles within a radius equal brute force")
    func neighbourhood() throws {
        let mesh = TestMeshes.headLikeEllipsoid(subdivisions: 3)
        let index = try MeshIndex(mesh: mesh)
        var rng = SplitMix64(seed: 5)
        for s in TestMeshes.samplePoints(on: mesh, count: 20, rng: &rng) {
            let p = s.point + s.normal * 2
            let hits = index.closestPoints(onTrianglesWithin: 12, of: p)
            var expected: Set<Int> = []
            for t in mesh.triangles.indices {
                let (a, b, c) = mesh.corners(t)
                if (TestMeshes.referenceClosest(p, a, b, c) - p).length <= 12 { expected.insert(t) }
            }
            #expect(Set(hits.map(\.triangle)) == expected)
            #expect(!hits.isEmpty)
            #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.distanceMM <= $1.distanceMM })
        }
    }
}
