import Geometry
import Testing

private func expectClose(_ a: Vector3, _ b: Vector3, _ tol: Double, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect((a - b).length <= tol, "\(a) vs \(b)", sourceLocation: sourceLocation)
}

private func expectClose(_ a: Double, _ b: Double, _ tol: Double, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(Swift.abs(a - b) <= tol, "\(a) vs \(b)", sourceLocation: sourceLocation)
}

@Suite struct QuaternionTests {
    @Test func rotationAboutZByNinetyDegreesMapsXToY() {
        let q = Quaternion(axis: Vector3(0, 0, 1), angleRadians: Double.pi / 2)
        expectClose(q.rotate(Vector3(1, 0, 0)), Vector3(0, 1, 0), 1e-15)
        expectClose(q.rotationMatrix * Vector3(1, 0, 0), Vector3(0, 1, 0), 1e-15)
        // NDI order: scalar first.
        expectClose(q.q0, 0.5.squareRoot(), 1e-15)
        expectClose(q.qz, 0.5.squareRoot(), 1e-15)
    }

    @Test func matrixRoundTripCoversEveryShepperdBranch() {
        // Angles near 0, π/2 and π about each axis exercise all four branches of the conversion.
        for axis in [Vector3(1, 0, 0), Vector3(0, 1, 0), Vector3(0, 0, 1), Vector3(1, 2, 3)] {
            for angle in [0.0, 1e-9, 0.3, Double.pi / 2, 3.0, Double.pi - 1e-9, Double.pi] {
                let q = Quaternion(axis: axis, angleRadians: angle).canonical
                let back = Quaternion(rotationMatrix: q.rotationMatrix)
                #expect(Swift.abs(Swift.abs(back.dot(q)) - 1) < 1e-12, "axis \(axis) angle \(angle): \(back) vs \(q)")
            }
        }
    }

    @Test func hamiltonProductComposesRotations() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let a = rng.nextRotation(), b = rng.nextRotation()
            let v = rng.nextGaussianVector(sigma: 50)
            expectClose((a * b).rotate(v), a.rotate(b.rotate(v)), 1e-11)
            expectClose((a * b).rotationMatrix * v, a.rotationMatrix * (b.rotationMatrix * v), 1e-11)
        }
    }

    @Test func rotationVectorIsTheLogarithm() {
        let w = Vector3(0.1, -0.2, 0.3)
        let q = Quaternion(rotationVector: w)
        expectClose(q.rotationVector, w, 1e-15)
        expectClose(q.angleRadians, w.length, 1e-15)
        // Tiny angles keep full relative precision.
        let tiny = Vector3(1e-14, 0, 0)
        expectClose(Quaternion(rotationVector: tiny).rotationVector, tiny, 1e-28)
    }

    @Test func slerpHalfwayIsHalfTheAngleAndTakesTheShortArc() {
        let a = Quaternion.identity
        let b = Quaternion(axis: Vector3(0, 1, 0), angleRadians: 1.2)
        let mid = a.slerp(to: b, fraction: 0.5)
        expectClose(mid.angleRadians, 0.6, 1e-14)
        expectClose(a.angle(to: mid), 0.6, 1e-14)
        // −b is the same rotation: slerp must still go the short way.
        let negB = Quaternion(q0: -b.q0, qx: -b.qx, qy: -b.qy, qz: -b.qz)
        expectClose(a.slerp(to: negB, fraction: 0.5).angleRadians, 0.6, 1e-14)
        // End points.
        #expect(Swift.abs(Swift.abs(a.slerp(to: b, fraction: 1).dot(b)) - 1) < 1e-14)
        #expect(Swift.abs(a.slerp(to: b, fraction: 0).dot(a) - 1) < 1e-14)
    }

    @Test func uniformRandomRotationsAreUnitAndDeterministic() {
        var r1 = SplitMix64(seed: 42), r2 = SplitMix64(seed: 42)
        for _ in 0..<100 {
            let q1 = r1.nextRotation(), q2 = r2.nextRotation()
            #expect(q1 == q2)
            expectClose(q1.norm, 1, 1e-15)
        }
    }
}

@Suite struct RigidTransformTests {
    let coilToHead = RigidTransform(rotation: Quaternion(axis: Vector3(1, 1, 0), angleRadians: 0.7), translation: Vector3(10, -20, 30))
    let headToMRI = RigidTransform(rotation: Quaternion(axis: Vector3(0, 0, 1), angleRadians: -2.0), translation: Vector3(-5, 4, 100))

    @Test func compositionReadsRightToLeft() {
        let coilToMRI = self.headToMRI * self.coilToHead
        let p = Vector3(1, 2, 3)
        expectClose(coilToMRI.apply(to: p), self.headToMRI.apply(to: self.coilToHead.apply(to: p)), 1e-12)
    }

    @Test func inverseUndoes() {
        let p = Vector3(-7, 8, 9.5)
        expectClose(self.coilToHead.inverse.apply(to: self.coilToHead.apply(to: p)), p, 1e-12)
        let i = self.coilToHead * self.coilToHead.inverse
        let (dt, dr) = RigidTransform.identity.difference(to: i)
        #expect(dt < 1e-12 && dr < 1e-12)
    }

    @Test func knownMatrix() {
        // 90° about z then translate (1, 2, 3): x ↦ y.
        let t = RigidTransform(rotation: Quaternion(axis: Vector3(0, 0, 1), angleRadians: Double.pi / 2), translation: Vector3(1, 2, 3))
        let m = t.matrix4x4
        let expected: [[Double]] = [[0, -1, 0, 1], [1, 0, 0, 2], [0, 0, 1, 3], [0, 0, 0, 1]]
        for i in 0..<4 {
            for j in 0..<4 { expectClose(m[i][j], expected[i][j], 1e-15) }
        }
        expectClose(t.apply(to: Vector3(1, 0, 0)), Vector3(1, 3, 3), 1e-15)
    }

    @Test func matrixRoundTrip() throws {
        let back = try RigidTransform(matrix4x4: self.coilToHead.matrix4x4)
        let (dt, dr) = back.difference(to: self.coilToHead)
        #expect(dt < 1e-12 && dr < 1e-12)
    }

    @Test func matrixErrorsSayWhatIsWrong() {
        #expect(throws: RigidTransform.MatrixError.wrongShape(rows: 3, columns: [4, 4, 4])) {
            try RigidTransform(matrix4x4: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]])
        }
        #expect(throws: RigidTransform.MatrixError.nonFinite(row: 1, column: 3)) {
            try RigidTransform(matrix4x4: [[1, 0, 0, 0], [0, 1, 0, .nan], [0, 0, 1, 0], [0, 0, 0, 1]])
        }
        #expect(throws: RigidTransform.MatrixError.reflection(determinant: -1)) {
            try RigidTransform(matrix4x4: [[-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
        }
        do {
            _ = try RigidTransform(matrix4x4: [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
            Issue.record("a scaled matrix was accepted")
        } catch {
            #expect(error.description.contains("not orthonormal (max |RᵀR − I| = 3.0"))
        }
        #expect(throws: RigidTransform.MatrixError.badLastRow([0, 0, 1, 1])) {
            try RigidTransform(matrix4x4: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]])
        }
    }

    @Test func interpolationIsSlerpPlusLerp() {
        let a = RigidTransform(rotation: Quaternion.identity, translation: Vector3(0, 0, 0))
        let b = RigidTransform(rotation: Quaternion(axis: Vector3(0, 0, 1), angleRadians: 0.5), translation: Vector3(10, 20, -30))
        let m = a.interpolated(to: b, fraction: 0.25)
        expectClose(m.translation, Vector3(2.5, 5, -7.5), 1e-14)
        expectClose(m.rotationAngleRadians, 0.125, 1e-14)
        let (dt, dr) = a.interpolated(to: b, fraction: 1).difference(to: b)
        #expect(dt < 1e-12 && dr < 1e-12)
    }

    @Test func seededPropertyInverseAndCompositionAssociativity() {
        var rng = SplitMix64(seed: 2026)
        for _ in 0..<300 {
            let a = RigidTransform(rotation: rng.nextRotation(), translation: rng.nextGaussianVector(sigma: 100))
            let b = RigidTransform(rotation: rng.nextRotation(), translation: rng.nextGaussianVector(sigma: 100))
            let c = RigidTransform(rotation: rng.nextRotation(), translation: rng.nextGaussianVector(sigma: 100))
            let p = rng.nextGaussianVector(sigma: 100)
            expectClose(((a * b) * c).apply(to: p), (a * (b * c)).apply(to: p), 1e-9)
            expectClose((a * b).inverse.apply(to: p), (b.inverse * a.inverse).apply(to: p), 1e-9)
            #expect(a.rotation.orthogonalityError < 1e-14)
            expectClose(a.rotation.determinant, 1, 1e-14)
        }
    }
}

@Suite struct LinearAlgebraTests {
    @Test func jacobiEigenOfKnownMatrix() {
        // [[2,1],[1,2]] has eigenvalues 3 and 1 with eigenvectors (1,1)/√2 and (1,−1)/√2.
        let e = SymmetricEigen(symmetric: [2, 1, 1, 2], n: 2)
        expectClose(e.values[0], 3, 1e-15)
        expectClose(e.values[1], 1, 1e-15)
        expectClose(Swift.abs(e.vectors[0][0]), 0.5.squareRoot(), 1e-15)
        expectClose(e.vectors[0][0] * e.vectors[0][1], 0.5, 1e-15)
    }

    @Test func eigenReconstructsRandomSymmetricMatrices() {
        var rng = SplitMix64(seed: 11)
        for n in [3, 4, 6] {
            for _ in 0..<50 {
                var a = [Double](repeating: 0, count: n * n)
                for i in 0..<n {
                    for j in i..<n {
                        let x = rng.nextGaussian()
                        a[i * n + j] = x
                        a[j * n + i] = x
                    }
                }
                let e = SymmetricEigen(symmetric: a, n: n)
                for i in 0..<n {
                    for j in 0..<n {
                        var s = 0.0
                        for k in 0..<n { s += e.values[k] * e.vectors[k][i] * e.vectors[k][j] }
                        expectClose(s, a[i * n + j], 1e-12)
                    }
                }
                for k in 1..<n { #expect(e.values[k - 1] >= e.values[k]) }
            }
        }
    }
}

@Suite struct TriangleMeshTests {
    /// A unit cube centred at the origin, wound outwards.
    static func cube() -> TriangleMesh {
        let v: [Vector3] = [
            Vector3(-1, -1, -1), Vector3(1, -1, -1), Vector3(1, 1, -1), Vector3(-1, 1, -1),
            Vector3(-1, -1, 1), Vector3(1, -1, 1), Vector3(1, 1, 1), Vector3(-1, 1, 1),
        ].map { $0 / 2 }
        let f: [SIMD3<UInt32>] = [
            SIMD3(0, 2, 1), SIMD3(0, 3, 2), SIMD3(4, 5, 6), SIMD3(4, 6, 7),
            SIMD3(0, 1, 5), SIMD3(0, 5, 4), SIMD3(2, 3, 7), SIMD3(2, 7, 6),
            SIMD3(1, 2, 6), SIMD3(1, 6, 5), SIMD3(0, 4, 7), SIMD3(0, 7, 3),
        ]
        return TriangleMesh(vertices: v, triangles: f)
    }

    @Test func cubeAreaVolumeAndNormals() throws {
        let c = Self.cube()
        try c.validate()
        expectClose(c.area, 6, 1e-15)
        expectClose(c.signedVolume, 1, 1e-15)
        expectClose(c.faceNormal(2), Vector3(0, 0, 1), 1e-15)
        expectClose(c.flipped.signedVolume, -1, 1e-15)
        expectClose(c.flipped.orientedOutward().signedVolume, 1, 1e-15)
        let n = c.vertexNormals()
        // Corner (½, ½, ½) touches two +x triangles, one +y and two +z: area weights 2 : 1 : 2.
        expectClose(n[6], Vector3(2, 1, 2) / 3, 1e-15)
    }

    @Test func subdivisionKeepsTheSurface() {
        let c = Self.cube().subdivided()
        #expect(c.triangles.count == 48)
        #expect(c.vertices.count == 8 + 18)  // 12 edges + 6 face diagonals become shared midpoints
        expectClose(c.area, 6, 1e-14)
        expectClose(c.signedVolume, 1, 1e-14)
    }

    @Test func validationNamesTheProblem() {
        var m = Self.cube()
        m.triangles[5] = SIMD3(0, 1, 99)
        #expect(throws: TriangleMesh.ValidationError.indexOutOfRange(triangle: 5, index: 99, vertexCount: 8)) { try m.validate() }
        #expect(TriangleMesh.ValidationError.indexOutOfRange(triangle: 5, index: 99, vertexCount: 8).description
            == "triangle 5 refers to vertex 99, but the mesh has 8 vertices")
        var n = Self.cube()
        n.vertices[3].y = .infinity
        #expect(throws: TriangleMesh.ValidationError.nonFiniteVertex(index: 3)) { try n.validate() }
    }
}

@Suite struct RandomTests {
    @Test func splitMix64KnownSequence() {
        // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        var r = SplitMix64(seed: 0)
        #expect(r.next() == 0xE220_A839_7B1D_CDAF)
        #expect(r.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(r.next() == 0x06C4_5D18_8009_454F)
    }

    @Test func gaussianMomentsAreRight() {
        var r = SplitMix64(seed: 99)
        var s = 0.0, s2 = 0.0
        let n = 20000
        for _ in 0..<n {
            let g = r.nextGaussian()
            s += g
            s2 += g * g
        }
        expectClose(s / Double(n), 0, 0.03)
        expectClose(s2 / Double(n), 1, 0.03)
    }
}
