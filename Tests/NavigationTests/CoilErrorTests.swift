import Geometry
import Navigation
import Testing

/// The decomposition computed a second, independent way: every quantity from the MRI-space axes of
/// the two coil frames (no composed `coilToTarget`), with explicit line-plane intersection.
private struct IndependentError {
    var distance: Double, depth: Double
    var inPlane: (x: Double, y: Double)?
    var inCortex: (x: Double, y: Double)?
    var tilt: Double, tiltX: Double, tiltY: Double, twist: Double

    init(coilToMRI c: RigidTransform, target: NavigationTarget) {
        let t = target.targetToMRI
        let xT = t.rotate(xAxis), yT = t.rotate(yAxis), zT = t.rotate(zAxis)
        let zC = c.rotate(zAxis)
        let offset = c.translation - t.translation
        self.distance = offset.length
        self.depth = offset.dot(zT)
        func hit(_ h: Double) -> (Double, Double)? {
            // Plane through t.translation + h·zT with normal zT; line c.translation + s·zC.
            let denom = zC.dot(zT)
            if Swift.abs(denom) < 1e-9 { return nil }
            let s = (t.translation + zT * h - c.translation).dot(zT) / denom
            let p = c.translation + zC * s - t.translation
            return (p.dot(xT), p.dot(yT))
        }
        self.inPlane = hit(0)
        self.inCortex = hit(target.coilToCortexMM)
        self.tilt = degrees(fromRadians: zT.angle(to: zC))
        self.tiltX = degrees(fromRadians: atan2Double(-zC.dot(yT), zC.dot(zT)))
        self.tiltY = degrees(fromRadians: atan2Double(zC.dot(xT), zC.dot(zT)))
        let a = -yT
        let hC = -c.rotate(yAxis)
        let b = hC - zT * hC.dot(zT)
        self.twist = degrees(fromRadians: atan2Double(zT.dot(a.cross(b)), a.dot(b)))
    }
}

@Suite struct CoilErrorKnownAnswerTests {
    @Test func atTheTargetEverythingIsZero() {
        let target = NavigationTarget(name: "M1", targetToMRI: sampleTargetToMRI, coilToCortexMM: 20)
        let e = CoilError(coilToMRI: sampleTargetToMRI, target: target)
        expectClose(e.distanceMM, 0, 1e-12)
        expectClose(e.depthMM, 0, 1e-12)
        expectClose(e.tiltDegrees, 0, 1e-9)
        expectClose(e.twistDegrees, 0, 1e-9)
        #expect(e.inPlaneAtCoilMM.isDefined && e.inPlaneAtCortexMM.isDefined && e.isTwistDefined)
        expectClose(e.inPlaneAtCortexMM.magnitude, 0, 1e-12)
    }

    @Test func identityTargetTranslationIsExact() {
        let target = NavigationTarget(name: "t", targetToMRI: .identity, coilToCortexMM: 20)
        let e = CoilError(coilToMRI: .translation(Vector3(3, -4, 12)), target: target)
        #expect(e.coilToTarget == .translation(Vector3(3, -4, 12)))
        #expect(e.offsetMM == Vector3(3, -4, 12))
        #expect(e.distanceMM == 13)
        #expect(e.depthMM == 12)
        #expect(e.inPlaneAtCoilMM == InPlaneError(x: 3, y: -4, magnitude: 5, isDefined: true))
        #expect(e.inPlaneAtCortexMM == InPlaneError(x: 3, y: -4, magnitude: 5, isDefined: true))
        #expect(e.tiltDegrees == 0 && e.tiltAboutTargetXDegrees == 0 && e.tiltAboutTargetYDegrees == 0)
        #expect(e.twistDegrees == 0 && e.isTwistDefined)
    }

    @Test(arguments: [Vector3(2.5, 0, 0), Vector3(0, -1.75, 0), Vector3(0, 0, 4), Vector3(0, 0, -3), Vector3(1, 2, -2)])
    func pureTranslationAlongTargetAxes(offset: Vector3) {
        // The coil moved by `offset` in the target frame, with the target at an arbitrary MRI pose.
        let target = NavigationTarget(name: "t", targetToMRI: sampleTargetToMRI, coilToCortexMM: 18)
        let coil = sampleTargetToMRI * .translation(offset)
        let e = CoilError(coilToMRI: coil, target: target)
        expectClose(e.offsetMM, offset, 1e-12, "offset")
        expectClose(e.distanceMM, offset.length, 1e-12, "distance")
        expectClose(e.depthMM, offset.z, 1e-12, "depth")
        let lateral = (offset.x * offset.x + offset.y * offset.y).squareRoot()
        for p in [e.inPlaneAtCoilMM, e.inPlaneAtCortexMM] {
            #expect(p.isDefined)
            expectClose(p.x, offset.x, 1e-12, "x")
            expectClose(p.y, offset.y, 1e-12, "y")
            expectClose(p.magnitude, lateral, 1e-12, "|xy|")
        }
        expectClose(e.tiltDegrees, 0, 1e-9, "tilt")
        expectClose(e.twistDegrees, 0, 1e-9, "twist")
    }

    @Test func depthIsPositiveWhenTheCoilIsDeeperIntoTheHead() {
        // The SimNIBS z axis points into the head: moving the coil 3 mm towards the cortex is +3.
        let target = NavigationTarget(name: "t", targetToMRI: sampleTargetToMRI, coilToCortexMM: 20)
        let intoHead = sampleTargetToMRI.rotate(zAxis)
        let deeper = RigidTransform(rotation: sampleTargetToMRI.rotation, translation: sampleTargetToMRI.translation + intoHead * 3)
        expectClose(CoilError(coilToMRI: deeper, target: target).depthMM, 3, 1e-12)
        let lifted = RigidTransform(rotation: sampleTargetToMRI.rotation, translation: sampleTargetToMRI.translation - intoHead * 2)
        expectClose(CoilError(coilToMRI: lifted, target: target).depthMM, -2, 1e-12)
    }

    @Test(arguments: [0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 85.0, -3.0, -45.0])
    func pureTiltAboutTargetX(theta: Double) {
        let h = 21.0
        let target = NavigationTarget(name: "t", targetToMRI: sampleTargetToMRI, coilToCortexMM: h)
        let e = CoilError(coilToMRI: sampleTargetToMRI * rotation(xAxis, degrees: theta), target: target)
        let tanT = (radians(fromDegrees: theta)).tanForTest
        expectClose(e.tiltDegrees, Swift.abs(theta), 1e-9, "tilt")
        expectClose(e.tiltAboutTargetXDegrees, theta, 1e-9, "tilt about x")
        expectClose(e.tiltAboutTargetYDegrees, 0, 1e-9, "tilt about y")
        expectClose(e.distanceMM, 0, 1e-12, "distance")
        expectClose(e.depthMM, 0, 1e-12, "depth")
        // The coil pivots about its centre: no error at the coil plane…
        #expect(e.inPlaneAtCoilMM.isDefined)
        expectClose(e.inPlaneAtCoilMM.magnitude, 0, 1e-12, "at coil")
        // …but depth·tan θ at the cortex: z turns towards −y under a positive rotation about x.
        #expect(e.inPlaneAtCortexMM.isDefined)
        expectClose(e.inPlaneAtCortexMM.x, 0, 1e-9, "cortex x")
        expectClose(e.inPlaneAtCortexMM.y, -h * tanT, 1e-9, "cortex y")
        expectClose(e.inPlaneAtCortexMM.magnitude, h * Swift.abs(tanT), 1e-9, "cortex |xy|")
        // Tilting about x keeps the handle in the y-z plane: no twist.
        expectClose(e.twistDegrees, 0, 1e-9, "twist")
    }

    @Test(arguments: [2.0, 15.0, -20.0])
    func pureTiltAboutTargetY(theta: Double) {
        let h = 15.0
        let target = NavigationTarget(name: "t", targetToMRI: .identity, coilToCortexMM: h)
        let e = CoilError(coilToMRI: rotation(yAxis, degrees: theta), target: target)
        expectClose(e.tiltDegrees, Swift.abs(theta), 1e-12, "tilt")
        expectClose(e.tiltAboutTargetYDegrees, theta, 1e-12, "tilt about y")
        expectClose(e.tiltAboutTargetXDegrees, 0, 1e-12, "tilt about x")
        expectClose(e.inPlaneAtCortexMM.x, h * radians(fromDegrees: theta).tanForTest, 1e-12, "cortex x")
        expectClose(e.inPlaneAtCortexMM.y, 0, 1e-12, "cortex y")
        expectClose(e.twistDegrees, 0, 1e-12, "twist")
    }

    @Test func tiltWithDepthAndLateralOffset() {
        // Coil centre at (a, b, c) in the target frame, tilted by θ about target x.
        let a = 1.5, b = -0.5, c = 2.0, h = 20.0, theta = 10.0
        let target = NavigationTarget(name: "t", targetToMRI: sampleTargetToMRI, coilToCortexMM: h)
        let delta = rotation(xAxis, degrees: theta, translation: Vector3(a, b, c))
        let e = CoilError(coilToMRI: sampleTargetToMRI * delta, target: target)
        let tanT = radians(fromDegrees: theta).tanForTest
        // Along the axis from (a, b, c): y changes by −tan θ per mm of z.
        expectClose(e.inPlaneAtCoilMM.x, a, 1e-9)
        expectClose(e.inPlaneAtCoilMM.y, b + c * tanT, 1e-9)
        expectClose(e.inPlaneAtCortexMM.x, a, 1e-9)
        expectClose(e.inPlaneAtCortexMM.y, b - (h - c) * tanT, 1e-9)
        expectClose(e.depthMM, c, 1e-12)
        expectClose(e.distanceMM, (a * a + b * b + c * c).squareRoot(), 1e-12)
        expectClose(e.tiltDegrees, theta, 1e-9)
    }

    @Test(arguments: [(10.0, 10.0), (-30.0, -30.0), (90.0, 90.0), (-135.0, -135.0), (179.0, 179.0), (180.0, 180.0), (-180.0, 180.0), (181.0, -179.0)])
    func pureTwistAboutTargetZ(angle: Double, expected: Double) {
        let target = NavigationTarget(name: "t", targetToMRI: sampleTargetToMRI, coilToCortexMM: 20)
        let e = CoilError(coilToMRI: sampleTargetToMRI * rotation(zAxis, degrees: angle), target: target)
        #expect(e.isTwistDefined)
        expectClose(e.twistDegrees, expected, 1e-9, "twist")
        #expect(e.twistDegrees > -180 && e.twistDegrees <= 180)
        expectClose(e.tiltDegrees, 0, 1e-9, "tilt")
        expectClose(e.distanceMM, 0, 1e-12, "distance")
        expectClose(e.inPlaneAtCortexMM.magnitude, 0, 1e-9, "cortex")
    }

    @Test func positiveTwistTurnsTheHandleFromMinusYTowardsPlusX() {
        // The documented sign, stated geometrically: +90° puts the handle along target +x, i.e.
        // a right-hand turn about z (into the head), clockwise as seen from outside the head.
        let target = NavigationTarget(name: "t", targetToMRI: .identity, coilToCortexMM: 20)
        let coil = rotation(zAxis, degrees: 90)
        expectClose(-coil.rotate(yAxis), xAxis, 1e-15)
        expectClose(CoilError(coilToMRI: coil, target: target).twistDegrees, 90, 1e-12)
    }

    @Test func twistIsMeasuredInTheTargetPlaneUnderTilt() {
        // Twist φ about z, then tilt θ about the coil's own x: the handle's projection keeps angle φ.
        let target = NavigationTarget(name: "t", targetToMRI: sampleTargetToMRI, coilToCortexMM: 20)
        let delta = rotation(zAxis, degrees: 25) * rotation(xAxis, degrees: 12)
        let e = CoilError(coilToMRI: sampleTargetToMRI * delta, target: target)
        expectClose(e.twistDegrees, 25, 1e-9)
        expectClose(e.tiltDegrees, 12, 1e-9)
    }

    @Test func coilAxisParallelToTheTargetPlaneHasNoInPlaneIntersection() {
        let target = NavigationTarget(name: "t", targetToMRI: sampleTargetToMRI, coilToCortexMM: 20)
        // 90° about y: z lies along target x, the handle stays along −y.
        let e = CoilError(coilToMRI: sampleTargetToMRI * rotation(yAxis, degrees: 90, translation: Vector3(1, 2, 3)), target: target)
        #expect(!e.inPlaneAtCoilMM.isDefined)
        #expect(!e.inPlaneAtCortexMM.isDefined)
        #expect(e.inPlaneAtCoilMM == .undefined)
        #expect(e.inPlaneAtCoilMM.x == 0 && e.inPlaneAtCoilMM.magnitude == 0)
        expectClose(e.tiltDegrees, 90, 1e-9)
        #expect(e.isTwistDefined)
        expectClose(e.twistDegrees, 0, 1e-9)
        expectClose(e.distanceMM, Vector3(1, 2, 3).length, 1e-12)
        #expect(!e.tiltDegrees.isNaN && !e.twistDegrees.isNaN)
        // 90° about x: the axis lies along −y and the handle along −z: no twist either.
        let f = CoilError(coilToMRI: sampleTargetToMRI * rotation(xAxis, degrees: 90), target: target)
        #expect(!f.inPlaneAtCortexMM.isDefined)
        #expect(!f.isTwistDefined)
        #expect(f.twistDegrees == 0)
        expectClose(f.tiltDegrees, 90, 1e-9)
        // Just short of parallel the intersection is defined (and far away).
        let g = CoilError(coilToMRI: rotation(xAxis, degrees: 89.9), target: NavigationTarget(name: "t", targetToMRI: .identity, coilToCortexMM: 20))
        #expect(g.inPlaneAtCortexMM.isDefined)
        expectClose(g.inPlaneAtCortexMM.y, -20 * radians(fromDegrees: 89.9).tanForTest, 1e-6)
    }

    @Test func flippedCoilHasTiltOneEightyAndTwistOneEighty() {
        let target = NavigationTarget(name: "t", targetToMRI: .identity, coilToCortexMM: 20)
        let e = CoilError(coilToMRI: rotation(xAxis, degrees: 180), target: target)
        expectClose(e.tiltDegrees, 180, 1e-9)
        #expect(e.inPlaneAtCortexMM.isDefined)
        expectClose(e.inPlaneAtCortexMM.magnitude, 0, 1e-9)
        expectClose(e.twistDegrees, 180, 1e-9)
    }

    @Test func decompositionMatchesAnIndependentComputationOnRandomPoses() {
        var rng = SplitMix64(seed: 0xC011_0001)
        for i in 0..<500 {
            let targetToMRI = randomTransform(&rng)
            let target = NavigationTarget(name: "t", targetToMRI: targetToMRI, coilToCortexMM: 10 + 20 * rng.nextUnitDouble())
            // Half near the target (the regime that matters), half anywhere.
            let delta: RigidTransform =
                i % 2 == 0
                ? RigidTransform(
                    rotation: rng.nextRotation(angleRadians: radians(fromDegrees: 30 * rng.nextUnitDouble())),
                    translation: rng.nextGaussianVector(sigma: 5))
                : randomTransform(&rng, sigmaMM: 50)
            let coil = targetToMRI * delta
            let e = CoilError(coilToMRI: coil, target: target)
            let ref = IndependentError(coilToMRI: coil, target: target)
            expectClose(e.distanceMM, ref.distance, 1e-9, "distance \(i)")
            expectClose(e.depthMM, ref.depth, 1e-9, "depth \(i)")
            expectClose(e.tiltDegrees, ref.tilt, 1e-7, "tilt \(i)")
            expectClose(e.tiltAboutTargetXDegrees, ref.tiltX, 1e-7, "tilt x \(i)")
            expectClose(e.tiltAboutTargetYDegrees, ref.tiltY, 1e-7, "tilt y \(i)")
            var dTwist = e.twistDegrees - ref.twist
            if dTwist > 180 { dTwist -= 360 } else if dTwist < -180 { dTwist += 360 }
            expectClose(dTwist, 0, 1e-7, "twist \(i)")
            for (got, want) in [(e.inPlaneAtCoilMM, ref.inPlane), (e.inPlaneAtCortexMM, ref.inCortex)] {
                #expect(got.isDefined == (want != nil))
                if let w = want, got.isDefined {
                    let scale = Swift.max(1, Swift.abs(w.x) + Swift.abs(w.y))
                    expectClose(got.x, w.x, 1e-8 * scale, "in-plane x \(i)")
                    expectClose(got.y, w.y, 1e-8 * scale, "in-plane y \(i)")
                }
            }
        }
    }

    @Test func seededProperties() {
        var rng = SplitMix64(seed: 42)
        for i in 0..<500 {
            let delta = randomTransform(&rng, sigmaMM: 20)
            let h = 5 + 25 * rng.nextUnitDouble()
            let e = CoilError(coilToTarget: delta, coilToCortexMM: h)
            let zc = delta.rotation.column(2)
            // The in-plane points lie on the coil's axis, in their planes.
            for (p, planeZ) in [(e.inPlaneAtCoilMM, 0.0), (e.inPlaneAtCortexMM, h)] where p.isDefined {
                let point = Vector3(p.x, p.y, planeZ)
                let scale = Swift.max(1, (point - delta.translation).length)
                #expect((point - delta.translation).cross(zc).length <= 1e-9 * scale, "on axis \(i)")
                expectClose(p.magnitude, (p.x * p.x + p.y * p.y).squareRoot(), 1e-12)
            }
            // tan² tilt = tan² tiltX + tan² tiltY for a coil facing the head.
            if zc.z > 0.2 {
                let t = radians(fromDegrees: e.tiltDegrees).tanForTest
                let tx = radians(fromDegrees: e.tiltAboutTargetXDegrees).tanForTest
                let ty = radians(fromDegrees: e.tiltAboutTargetYDegrees).tanForTest
                expectClose(t * t, tx * tx + ty * ty, 1e-9 * Swift.max(1, t * t), "tilt components \(i)")
            }
            // Turning the whole coil about the target z axis by φ adds φ to the twist (mod 360)
            // and changes neither tilt nor depth nor distance.
            let phi = 360 * rng.nextUnitDouble() - 180
            let f = CoilError(coilToTarget: rotation(zAxis, degrees: phi) * delta, coilToCortexMM: h)
            if e.isTwistDefined {
                var d = f.twistDegrees - e.twistDegrees - phi
                d -= 360 * (d / 360).rounded()
                expectClose(d, 0, 1e-7, "twist shift \(i)")
            }
            expectClose(f.tiltDegrees, e.tiltDegrees, 1e-9, "tilt \(i)")
            expectClose(f.depthMM, e.depthMM, 1e-9, "depth \(i)")
            expectClose(f.distanceMM, e.distanceMM, 1e-9, "distance \(i)")
            #expect(e.twistDegrees > -180 && e.twistDegrees <= 180)
            #expect(e.tiltDegrees >= 0 && e.tiltDegrees <= 180)
            // The MRI-space entry point agrees with the target-frame one for any target pose.
            let targetToMRI = randomTransform(&rng)
            let g = CoilError(coilToMRI: targetToMRI * delta, target: NavigationTarget(name: "t", targetToMRI: targetToMRI, coilToCortexMM: h))
            expectClose(g.coilToTarget, delta, 1e-9)
            expectClose(g.distanceMM, e.distanceMM, 1e-9)
        }
    }
}

extension Double {
    /// tan via sin/cos from Geometry's libm wrappers (the tests avoid Foundation too).
    var tanForTest: Double { sinDouble(self) / cosDouble(self) }
}
