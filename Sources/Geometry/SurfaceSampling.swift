extension TriangleMesh {
    /// Points drawn uniformly by area on the triangles that `include` accepts (given the
    /// triangle's centroid), using the caller's seeded generator, so the same seed gives the same
    /// points. Used to simulate a digitised scalp sweep.
    public func randomSurfacePoints<G: RandomNumberGenerator>(
        count: Int, using rng: inout G, include: (Vector3) -> Bool = { _ in true }
    ) -> [Vector3] {
        var cumulative: [Double] = []
        var ids: [Int] = []
        var total = 0.0
        for t in self.triangles.indices {
            let (a, b, c) = self.corners(t)
            guard include((a + b + c) / 3) else { continue }
            total += (b - a).cross(c - a).length / 2
            cumulative.append(total)
            ids.append(t)
        }
        guard total > 0 else { return [] }
        var points: [Vector3] = []
        points.reserveCapacity(count)
        for _ in 0..<count {
            let r = rng.nextUnitDouble() * total
            // Binary search for the first cumulative area above r.
            var lo = 0, hi = cumulative.count - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if cumulative[mid] > r { hi = mid } else { lo = mid + 1 }
            }
            let (a, b, c) = self.corners(ids[lo])
            var u = rng.nextUnitDouble(), v = rng.nextUnitDouble()
            if u + v > 1 {
                u = 1 - u
                v = 1 - v
            }
            points.append(a + (b - a) * u + (c - a) * v)
        }
        return points
    }
}
