import Geometry
import Planning
import Testing

/// Difference of two angles in degrees, wrapped to [−180, 180).
private func angleDifference(_ a: Double, _ b: Double) -> Double {
    var d = (a - b).truncatingRemainder(dividingBy: 360)
    if d >= 180 { d -= 360 }
    if d < -180 { d += 360 }
    return d
}

@Suite("Coil placement")
struct CoilPlacementTests {
    static let radius = 90.0
    /// A sphere of radius 90 mm centred at the MRI origin, 20480 triangles (facets within 0.03 mm of the sphere).
    static let sphere: TriangleMesh = {
        var mesh = TestMeshes.icosphere(subdivisions: 5)
        mesh.vertices = mesh.vertices.map { $0 * CoilPlacementTests.radius }
        return mesh
    }()
    static let sphereIndex = try! MeshIndex(mesh: sphere)

    /// Directions from the centre: vertex, left DLPFC-like, right hemisphere, occipital, frontal.
    static let directions: [Vector3] = [
        Vector3(0, 0, 1), Vector3(-0.5, 0.5, 0.7), Vector3(0.6, 0.3, 0.6), Vector3(0.1, -0.8, 0.5), Vector3(-0.2, 0.7, 0.4),
    ].map(\.normalized)

    @Test("a target at 60 mm under a 90 mm sphere lands at 90·dir with z = −dir and 30 mm coil-to-cortex")
    func landsAboveTheTarget() throws {
        for dir in Self.directions {
            let target = dir * 60
            let p = try CoilPlacement.place(target: target, scalp: Self.sphereIndex)
            // The closest point is the foot of the perpendicular on a flat facet, whose normal is up to
            // 1.2° off the radius here: from 30 mm deep that is up to 30·tan(1.2°) ≈ 0.65 mm sideways.
            #expect((p.scalpPointMM - dir * 90).length <= 0.75, "scalp point \(p.scalpPointMM) for \(dir)")
            #expect(abs(p.scalpPointMM.length - 90) <= 0.03)
            #expect(p.coilCentreMM == p.scalpPointMM)
            let z = p.coilToMRI.rotation.column(2)
            #expect(degrees(fromRadians: z.angle(to: -p.scalpPointMM.normalized)) <= 0.2, "z \(z) for \(dir)")
            #expect(degrees(fromRadians: z.angle(to: -dir)) <= 0.7, "z \(z) for \(dir)")
            #expect((p.scalpNormal + z).length <= 1e-12)
            #expect(abs(p.coilToCortexMM - 30) <= 0.05)
            #expect(abs(p.coilToCortexAlongZMM - 30) <= 0.05)
            #expect(p.targetMM == target)
            #expect(abs(p.handleAngleDegrees - 45) <= 1e-9)
        }
    }

    @Test("the coil frame is orthonormal and right-handed, with x = y × z")
    func frameIsRightHanded() throws {
        for dir in Self.directions {
            for angle in [-120.0, 0, 45, 170] {
                let p = try CoilPlacement.place(target: dir * 50, scalp: Self.sphereIndex, handleAngleDegrees: angle)
                let r = p.coilToMRI.rotation
                #expect(r.orthogonalityError <= 1e-12)
                #expect(abs(r.determinant - 1) <= 1e-12)
                let x = r.column(0), y = r.column(1), z = r.column(2)
                #expect((x - y.cross(z)).length <= 1e-12)
            }
        }
    }

    @Test("at 0° the handle points posterior along the midline direction")
    func zeroDegreesPointsBack() throws {
        for dir in Self.directions {
            let p = try CoilPlacement.place(target: dir * 60, scalp: Self.sphereIndex, handleAngleDegrees: 0)
            let z = p.coilToMRI.rotation.column(2)
            let handle = -p.coilToMRI.rotation.column(1)
            let posterior = Vector3(0, -1, 0)
            let expected = (posterior - z * posterior.dot(z)).normalized
            #expect((handle - expected).length <= 1e-9, "handle \(handle) expected \(expected)")
            #expect(handle.y < 0)
        }
        // On the vertex the handle is exactly MRI −y.
        let top = try CoilPlacement.place(target: Vector3(0, 0, 60), scalp: Self.sphereIndex, handleAngleDegrees: 0)
        #expect(degrees(fromRadians: (-top.coilToMRI.rotation.column(1)).angle(to: Vector3(0, -1, 0))) <= 0.7)
    }

    @Test("+45° turns the handle towards the patient's left: posterior-lateral on the left hemisphere, medial on the right")
    func positiveAnglesTurnTowardsTheLeft() throws {
        // Vertex: exactly between posterior (−y) and left (−x).
        let top = try CoilPlacement.place(target: Vector3(0, 0, 60), scalp: Self.sphereIndex)
        let topHandle = -top.coilToMRI.rotation.column(1)
        #expect(degrees(fromRadians: topHandle.angle(to: Vector3(-1, -1, 0).normalized)) <= 0.7, "\(topHandle)")

        // Left DLPFC-like position (x < 0): the handle points backwards and away from the midline (−x, and down the side).
        let leftDir = Vector3(-0.5, 0.5, 0.7).normalized
        let left = try CoilPlacement.place(target: leftDir * 60, scalp: Self.sphereIndex)
        let lh = -left.coilToMRI.rotation.column(1)
        #expect(lh.y < 0 && lh.x < 0, "left-hemisphere handle \(lh)")
        let z = left.coilToMRI.rotation.column(2)
        let back = (Vector3(0, -1, 0) + z * z.y).normalized
        #expect(abs(lh.dot(back) - 0.5.squareRoot()) <= 1e-9)

        // Right hemisphere: +45° turns the handle towards the midline; −45° is the posterior-lateral orientation there.
        let rightDir = Vector3(0.6, 0.3, 0.6).normalized
        let plus = -(try CoilPlacement.place(target: rightDir * 60, scalp: Self.sphereIndex, handleAngleDegrees: 45)).coilToMRI.rotation.column(1)
        let minus = -(try CoilPlacement.place(target: rightDir * 60, scalp: Self.sphereIndex, handleAngleDegrees: -45)).coilToMRI.rotation.column(1)
        #expect(plus.y < 0 && minus.y < 0)
        // "Lateral" on the right side of the sphere is the tangent direction away from the midline plane x = 0.
        let zr = -rightDir
        var lateral = Vector3(1, 0, 0) - zr * zr.x
        lateral = lateral.normalized
        #expect(plus.dot(lateral) < -0.3, "right hemisphere +45°: \(plus) should point medially")
        #expect(minus.dot(lateral) > 0.3, "right hemisphere −45°: \(minus) should point laterally")
    }

    @Test("angleFromMidline inverts the placement angle everywhere")
    func angleRoundTrips() throws {
        for dir in Self.directions {
            for angle in [-179.5, -135, -90, -45, -1, 0, 1, 30, 45, 90, 135, 180] {
                let p = try CoilPlacement.place(target: dir * 55, scalp: Self.sphereIndex, handleAngleDegrees: angle)
                let measured = CoilPlacement.angleFromMidlineDegrees(coilToMRI: p.coilToMRI)
                #expect(abs(angleDifference(measured, angle)) <= 1e-9, "\(angle)° at \(dir) measured \(measured)°")
                #expect(measured > -180 && measured <= 180)
            }
        }
        // A coil on the nasion line (z along the anterior–posterior axis) falls back to the superior direction.
        let front = CoilPlacement.posteriorReference(inward: Vector3(0, -1, 0), headFrame: .mriAxes)
        #expect((front - Vector3(0, 0, 1)).length <= 1e-12)
    }

    @Test("a head frame from fiducials sets the midline: a head turned 90° in the MRI turns the handle with it")
    func headFrameFromFiducials() throws {
        // Head facing MRI +x: nasion on +x, left ear on +y, right ear on −y.
        let frame = try HeadFrame(nasion: Vector3(85, 0, -30), lpa: Vector3(0, 80, -30), rpa: Vector3(0, -80, -30))
        #expect((frame.anterior - Vector3(1, 0, 0)).length <= 1e-12)
        #expect((frame.left - Vector3(0, 1, 0)).length <= 1e-12)
        #expect((frame.superior - Vector3(0, 0, 1)).length <= 1e-12)
        #expect((frame.origin - Vector3(0, 0, -30)).length <= 1e-12)
        let p = try CoilPlacement.place(target: Vector3(0, 0, 60), scalp: Self.sphereIndex, handleAngleDegrees: 0, headFrame: frame)
        let handle = -p.coilToMRI.rotation.column(1)
        #expect(degrees(fromRadians: handle.angle(to: Vector3(-1, 0, 0))) <= 0.7, "handle \(handle)")
        #expect(abs(CoilPlacement.angleFromMidlineDegrees(coilToMRI: p.coilToMRI, headFrame: frame)) <= 1e-9)
        // Measured against the MRI axes instead (a head facing MRI +y), that handle (MRI −x) points to the left: +90°.
        #expect(abs(angleDifference(CoilPlacement.angleFromMidlineDegrees(coilToMRI: p.coilToMRI), 90)) <= 0.5)
        // The nasion need not be level with the ears: anterior points at it, made perpendicular to left.
        let tilted = try HeadFrame(nasion: Vector3(0, 90, 10), lpa: Vector3(-80, 5, -30), rpa: Vector3(80, -5, -30))
        #expect(abs(tilted.anterior.dot(tilted.left)) <= 1e-12)
        #expect(abs(tilted.superior.dot(tilted.left)) <= 1e-12 && abs(tilted.superior.length - 1) <= 1e-12)
        #expect(abs(tilted.anterior.z - 40 / (90 * 90 + 40 * 40.0).squareRoot()) <= 0.01)
        #expect(tilted.superior.z > 0.9)
    }

    @Test("unusable fiducials are rejected")
    func badFiducials() {
        #expect(throws: CoilPlacementError.mirroredFiducials) {
            try HeadFrame(nasion: Vector3(0, 85, -30), lpa: Vector3(80, -20, -40), rpa: Vector3(-80, -20, -40))
        }
        #expect(throws: CoilPlacementError.self) {
            try HeadFrame(nasion: Vector3(0, 85, -30), lpa: Vector3(1, -20, -40), rpa: Vector3(-1, -20, -40))
        }
        #expect(throws: CoilPlacementError.self) {
            try HeadFrame(nasion: Vector3(0, -20, -40), lpa: Vector3(-80, -20, -40), rpa: Vector3(80, -20, -40))
        }
        #expect(throws: CoilPlacementError.nonFiniteInput("fiducial")) {
            try HeadFrame(nasion: Vector3(0, .nan, -30), lpa: Vector3(-80, -20, -40), rpa: Vector3(80, -20, -40))
        }
    }

    @Test("placement along a direction uses the ray from the target; an offset lifts the coil along the normal")
    func directionAndOffset() throws {
        let target = Vector3(10, 20, 30)
        let d = Vector3(0.3, -0.2, 1).normalized
        // |target + s·d| = 90 → s² + 2 s (target·d) + |target|² − 90² = 0.
        let b = target.dot(d), c = target.lengthSquared - 90 * 90
        let s = -b + (b * b - c).squareRoot()
        let p = try CoilPlacement.place(target: target, scalp: Self.sphereIndex, direction: d * 7)
        #expect((p.scalpPointMM - (target + d * s)).length <= 0.05, "scalp point \(p.scalpPointMM)")
        #expect(abs(p.coilToCortexMM - s) <= 0.05)
        // z is still the scalp normal there, not the ray: the depth along z is shorter than the distance.
        #expect(p.coilToCortexAlongZMM < p.coilToCortexMM)
        let radial = p.scalpPointMM.normalized
        #expect(degrees(fromRadians: p.scalpNormal.angle(to: radial)) <= 0.3)

        let lifted = try CoilPlacement.place(target: Vector3(0, 0, 60), scalp: Self.sphereIndex, offsetMM: 4)
        #expect(abs(lifted.coilCentreMM.length - 94) <= 0.05 && (lifted.coilCentreMM - Vector3(0, 0, 94)).length <= 1)
        #expect(abs((lifted.coilCentreMM - lifted.scalpPointMM).length - 4) <= 1e-12)
        #expect(((lifted.coilCentreMM - lifted.scalpPointMM).normalized - lifted.scalpNormal).length <= 1e-12)
        #expect(abs(lifted.coilToCortexMM - 34) <= 0.05 && abs(lifted.coilToCortexAlongZMM - 34) <= 0.05)
        #expect(lifted.offsetMM == 4)
    }

    @Test("targets outside the scalp, bad inputs, rays that miss and inward-wound meshes are errors")
    func errors() throws {
        #expect(throws: CoilPlacementError.self) {
            try CoilPlacement.place(target: Vector3(0, 0, 120), scalp: Self.sphereIndex)
        }
        do {
            _ = try CoilPlacement.place(target: Vector3(0, 0, 120), scalp: Self.sphereIndex)
        } catch {
            guard case .targetOutsideScalp(_, let w) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(abs(w) < 1e-6)
            #expect(error.description.contains("not inside the scalp"))
        }
        #expect(throws: CoilPlacementError.nonFiniteInput("target")) {
            try CoilPlacement.place(target: Vector3(.nan, 0, 0), scalp: Self.sphereIndex)
        }
        #expect(throws: CoilPlacementError.nonFiniteInput("handle angle")) {
            try CoilPlacement.place(target: Vector3(0, 0, 50), scalp: Self.sphereIndex, handleAngleDegrees: .infinity)
        }
        #expect(throws: CoilPlacementError.zeroDirection) {
            try CoilPlacement.place(target: Vector3(0, 0, 50), scalp: Self.sphereIndex, direction: .zero)
        }
        #expect(throws: CoilPlacementError.self) {
            try CoilPlacement.place(target: Vector3(0, 0, 50), scalp: Self.sphereIndex, offsetMM: -1)
        }
        // An open cap (the sphere above z = 20 mm): a target under it is inside, but a ray downwards misses.
        let capTriangles = Self.sphere.triangles.filter { t in
            [t.x, t.y, t.z].allSatisfy { Self.sphere.vertices[Int($0)].z > 20 }
        }
        let cap = try MeshIndex(mesh: TriangleMesh(vertices: Self.sphere.vertices, triangles: capTriangles))
        #expect(try CoilPlacement.place(target: Vector3(0, 0, 50), scalp: cap).scalpPointMM.z > 89)
        #expect(throws: CoilPlacementError.rayMissesScalp(target: Vector3(0, 0, 50), direction: Vector3(0, 0.1, -1))) {
            try CoilPlacement.place(target: Vector3(0, 0, 50), scalp: cap, direction: Vector3(0, 0.1, -1))
        }
        let inward = try MeshIndex(mesh: Self.sphere.flipped)
        #expect(throws: CoilPlacementError.scalpWoundInward) {
            try CoilPlacement.place(target: Vector3(0, 0, 50), scalp: inward)
        }
    }

    @Test("on a noisy mesh the smoothed normal is stable where single face normals are not")
    func smoothingStabilisesTheNormal() throws {
        var rng = SplitMix64(seed: 8)
        var noisy = Self.sphere
        noisy.vertices = noisy.vertices.map { $0 * (1 + rng.nextGaussian() * 0.4 / Self.radius) }  // σ 0.4 mm radially
        let index = try MeshIndex(mesh: noisy)
        var rawErrors: [Double] = [], smoothErrors: [Double] = []
        for dir in Self.directions + [Vector3(0.3, 0.3, 0.9).normalized, Vector3(-0.7, -0.2, 0.68).normalized] {
            let p = try CoilPlacement.place(target: dir * 60, scalp: index)
            let radial = p.scalpPointMM.normalized
            smoothErrors.append(degrees(fromRadians: p.scalpNormal.angle(to: radial)))
            rawErrors.append(degrees(fromRadians: index.faceNormal(p.scalpTriangle).angle(to: radial)))
            let unsmoothed = try #require(CoilPlacement.smoothedNormal(at: p.scalpPointMM, scalp: index, radiusMM: 0))
            #expect(unsmoothed.length > 0.999)
        }
        let meanRaw = rawErrors.reduce(0, +) / Double(rawErrors.count)
        let meanSmooth = smoothErrors.reduce(0, +) / Double(smoothErrors.count)
        #expect(meanRaw > 2, "the noise should tilt single faces by degrees (\(rawErrors))")
        #expect(meanSmooth < 0.2 * meanRaw && smoothErrors.max()! < 1.5, "smoothed \(smoothErrors), raw \(rawErrors)")
    }
}
