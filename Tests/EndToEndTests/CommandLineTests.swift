import Foundation
import Geometry
import Testing

/// The fixed command-line interfaces of issue 2, run through the built `coilnav` binary.
@Suite struct RegisterCommandTests {
    let headToMRI = RigidTransform(rotation: Quaternion(axis: Vector3(0.3, -0.5, 0.8), angleRadians: 0.35), translation: Vector3(12, -35, 48))

    func exactPair(_ mri: [LabeledPoint]) -> [LabeledPoint] {
        mri.map { LabeledPoint(label: $0.label, position: self.headToMRI.inverse.apply(to: $0.position)) }
    }

    @Test func exactFiducialsGiveTheKnownTransformAndZeroFRE() throws {
        let dir = try Paths.temporaryDirectory()
        let mri = fsaverageFiducials + [LabeledPoint(label: "Cz", position: Vector3(-0.10, -22.36, 104.81))]
        try writeMarkups(mri, to: dir.appendingPathComponent("mri.mrk.json"))
        // Head points written in LPS: the reader must convert them to RAS.
        try writeMarkups(self.exactPair(mri), to: dir.appendingPathComponent("head.mrk.json"), coordinateSystem: "LPS")
        let r = try coilnav(["register", "--mri", dir.appendingPathComponent("mri.mrk.json").path, "--head", dir.appendingPathComponent("head.mrk.json").path, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try r.json()
        let t = try matrix(j["headToMRI"])
        let (dt, dr) = t.difference(to: self.headToMRI)
        #expect(dt < 1e-9)
        #expect(dr < 1e-9)
        let fre = try #require(j["freMM"] as? Double)
        #expect(fre < 1e-9)
        let fiducials = try #require(j["fiducials"] as? [[String: Any]])
        #expect(fiducials.compactMap { $0["name"] as? String } == ["NAS", "LPA", "RPA", "Cz"])
        #expect(j["targets"] == nil)
        #expect(j["surface"] == nil)
    }

    @Test func predictedTREMatchesTheClosedFormReferenceValues() throws {
        // algorithms.md §1: NAS/LPA/RPA with FLE 2 mm → 1.70 mm at MNI (−38, 44, 26), 1.15 mm at the centroid.
        let dir = try Paths.temporaryDirectory()
        try writeMarkups(fsaverageFiducials, to: dir.appendingPathComponent("mri.mrk.json"))
        try writeMarkups(self.exactPair(fsaverageFiducials), to: dir.appendingPathComponent("head.mrk.json"))
        let c = centroid(of: fsaverageFiducials.map(\.position))
        try writeMarkups(
            [LabeledPoint(label: "DLPFC", position: Vector3(-38, 44, 26)), LabeledPoint(label: "centroid", position: c)],
            to: dir.appendingPathComponent("targets.mrk.json"))
        let r = try coilnav([
            "register", "--mri", dir.appendingPathComponent("mri.mrk.json").path, "--head", dir.appendingPathComponent("head.mrk.json").path,
            "--targets", dir.appendingPathComponent("targets.mrk.json").path, "--fle-mm", "2", "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let targets = try #require(try r.json()["targets"] as? [[String: Any]])
        #expect(targets.count == 2)
        #expect(targets[0]["name"] as? String == "DLPFC")
        let dlpfc = try #require(targets[0]["predictedTREMM"] as? Double)
        let centre = try #require(targets[1]["predictedTREMM"] as? Double)
        #expect(Swift.abs(dlpfc - 1.70) < 0.01, "\(dlpfc)")
        #expect(Swift.abs(centre - 1.15) < 0.01, "\(centre)")
    }

    @Test func demoPatientWithSurfaceRefinementLandsOnTheGroundTruth() throws {
        let r = try coilnav([
            "register", "--mri", Paths.demo("mri-fiducials.mrk.json"), "--head", Paths.demo("head-fiducials.mrk.json"),
            "--targets", Paths.demo("targets.mrk.json"), "--fle-mm", "1",
            "--scalp", Paths.demo("scalp.ply"), "--head-surface", Paths.demo("head-surface.mrk.json"), "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try r.json()
        let surface = try #require(j["surface"] as? [String: Any])
        let before = try #require(surface["rmsBeforeMM"] as? Double)
        let after = try #require(surface["rmsAfterMM"] as? Double)
        let inliers = try #require(surface["inliers"] as? Int)
        let iterations = try #require(surface["iterations"] as? Int)
        #expect(after < before)
        // 0.5 mm noise per axis on the points: the distance to the surface is about 0.5 mm RMS.
        #expect(after > 0.3 && after < 0.8, "\(after)")
        #expect(inliers >= 280 && inliers <= 300)
        #expect(iterations >= 1 && iterations <= 50)
        let fiducialShifts = try #require(surface["fiducialShifts"] as? [[String: Any]])
        #expect(fiducialShifts.compactMap { $0["name"] as? String } == ["NAS", "LPA", "RPA", "Cz", "Iz"])
        let targetShifts = try #require(surface["targetShifts"] as? [[String: Any]])
        #expect(targetShifts.compactMap { $0["name"] as? String } == ["DLPFC-Fox2012", "F3", "5cm-rule"])
        // The fiducial solution was already within about a millimetre: the refinement moves little.
        for s in fiducialShifts + targetShifts { #expect(try #require(s["shiftMM"] as? Double) < 2.5) }
        // The simulation's truth (Mock/demo/ground-truth.json).
        let truthData = try Data(contentsOf: URL(fileURLWithPath: Paths.demo("ground-truth.json")))
        let truth = try matrix((try JSONSerialization.jsonObject(with: truthData) as? [String: Any])?["headToMRI"])
        let result = try matrix(j["headToMRI"])
        let target = Vector3(-38, 44, 26)
        let errorAtTarget = result.apply(to: truth.inverse.apply(to: target)).distance(to: target)
        #expect(errorAtTarget < 1.0, "\(errorAtTarget)")
        #expect((j["targets"] as? [[String: Any]])?.count == 3)
    }

    @Test func mirroredFiducialsAreRefusedAndSaySo() throws {
        let dir = try Paths.temporaryDirectory()
        let mri = fsaverageFiducials + [
            LabeledPoint(label: "Cz", position: Vector3(-0.10, -22.36, 104.81)),
            LabeledPoint(label: "Iz", position: Vector3(3.47, -117.42, -39.86)),
        ]
        var head = self.exactPair(mri)
        head.swapAt(1, 2)  // positions of LPA and RPA exchanged, labels kept
        (head[1].label, head[2].label) = ("LPA", "RPA")
        try writeMarkups(mri, to: dir.appendingPathComponent("mri.mrk.json"))
        try writeMarkups(head, to: dir.appendingPathComponent("head.mrk.json"))
        let r = try coilnav(["register", "--mri", dir.appendingPathComponent("mri.mrk.json").path, "--head", dir.appendingPathComponent("head.mrk.json").path, "--json"])
        #expect(r.status != 0)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("mirrored"), "\(r.stderr)")
    }

    @Test func unmatchedLabelsAreNamed() throws {
        let dir = try Paths.temporaryDirectory()
        try writeMarkups(fsaverageFiducials, to: dir.appendingPathComponent("mri.mrk.json"))
        var head = self.exactPair(fsaverageFiducials)
        head[0].label = "Nasion2"
        try writeMarkups(head, to: dir.appendingPathComponent("head.mrk.json"))
        let r = try coilnav(["register", "--mri", dir.appendingPathComponent("mri.mrk.json").path, "--head", dir.appendingPathComponent("head.mrk.json").path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("NAS"), "\(r.stderr)")
        #expect(r.stderr.contains("Nasion2"), "\(r.stderr)")
    }

    @Test func malformedMarkupsNameTheFileAndLine() throws {
        let dir = try Paths.temporaryDirectory()
        let bad = dir.appendingPathComponent("bad.mrk.json")
        try Data("{\n  \"markups\": [\n    {\"controlPoints\": [1, 2,]}\n  ]\n}\n".utf8).write(to: bad)
        let r = try coilnav(["register", "--mri", bad.path, "--head", bad.path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("bad.mrk.json: line 3"), "\(r.stderr)")
    }

    @Test func missingFileIsNamed() throws {
        let r = try coilnav(["register", "--mri", "/nonexistent/mri.mrk.json", "--head", "/nonexistent/head.mrk.json"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("/nonexistent/mri.mrk.json"), "\(r.stderr)")
    }

    @Test func scalpWithoutHeadSurfaceIsAUsageError() throws {
        let r = try coilnav(["register", "--mri", "a", "--head", "b", "--scalp", "c"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--scalp and --head-surface go together"), "\(r.stderr)")
    }
}

@Suite struct PivotCommandTests {
    let tip = Vector3(1.5, -2.0, 148.0)
    let pivot = Vector3(-20, 35, -1200)

    func poses(count: Int, seed: UInt64) -> [RigidTransform] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let q = Quaternion(rotationVector: Vector3(rng.nextGaussian(), rng.nextGaussian(), rng.nextGaussian() * 2) * radians(fromDegrees: 12))
            let r = RigidTransform(rotation: q, translation: .zero)
            return RigidTransform(rotation: q, translation: self.pivot - r.rotate(self.tip))
        }
    }

    func csv(_ poses: [RigidTransform]) -> String {
        "q0,qx,qy,qz,tx,ty,tz\n" + poses.map { p in
            let q = p.quaternion, t = p.translation
            return [q.q0, q.qx, q.qy, q.qz, t.x, t.y, t.z].map { "\($0)" }.joined(separator: ",")
        }.joined(separator: "\n") + "\n"
    }

    @Test func exactPosesRecoverTipAndPivot() throws {
        let dir = try Paths.temporaryDirectory()
        let file = dir.appendingPathComponent("poses.csv")
        try Data(self.csv(self.poses(count: 60, seed: 3)).utf8).write(to: file)
        let r = try coilnav(["calibrate", "pivot", "--poses", file.path, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try r.json()
        let t = try #require(j["tipInMarkerMM"] as? [Double])
        let p = try #require(j["pivotInTrackerMM"] as? [Double])
        #expect(Vector3(t[0], t[1], t[2]).distance(to: self.tip) < 1e-6)
        #expect(Vector3(p[0], p[1], p[2]).distance(to: self.pivot) < 1e-6)
        #expect(try #require(j["rmsMM"] as? Double) < 1e-6)
        #expect(j["poses"] as? Int == 60)
    }

    @Test func malformedRowNamesLineAndField() throws {
        let dir = try Paths.temporaryDirectory()
        let file = dir.appendingPathComponent("poses.csv")
        try Data("q0,qx,qy,qz,tx,ty,tz\n1,0,0,0,1,2,3\n1,0,0,0,1,2,abc\n".utf8).write(to: file)
        let r = try coilnav(["calibrate", "pivot", "--poses", file.path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("poses.csv: line 3: tz: expected a number, got \"abc\""), "\(r.stderr)")
    }

    @Test func rotationAboutOneAxisIsRefused() throws {
        let dir = try Paths.temporaryDirectory()
        let file = dir.appendingPathComponent("poses.csv")
        let poses = (0..<40).map { i -> RigidTransform in
            let q = Quaternion(axis: Vector3(0, 0, 1), angleRadians: Double(i) * 0.05)
            return RigidTransform(rotation: q, translation: self.pivot - q.rotate(self.tip))
        }
        try Data(self.csv(poses).utf8).write(to: file)
        let r = try coilnav(["calibrate", "pivot", "--poses", file.path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("pivot calibration refused"), "\(r.stderr)")
    }
}

@Suite struct PlaceCoilCommandTests {
    @Test func foxTargetOnTheDemoScalp() throws {
        let r = try coilnav(["plan", "place-coil", "--scalp", Paths.demo("scalp.ply"), "--target", "-38,44,26", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try r.json()
        let coilToMRI = try matrix(j["coilToMRI"])
        let s = try #require(j["scalpPointMM"] as? [Double])
        let scalpPoint = Vector3(s[0], s[1], s[2])
        let target = Vector3(-38, 44, 26)
        // The coil sits on the scalp point, z points from it towards the target (into the head).
        #expect(coilToMRI.translation.distance(to: scalpPoint) < 1e-9)
        let z = coilToMRI.rotate(Vector3(0, 0, 1))
        #expect(z.dot((target - scalpPoint).normalized) > 0.9)
        // Left frontal scalp, above and lateral to the target.
        #expect(scalpPoint.x < -45 && scalpPoint.y > 40)
        let d = try #require(j["coilToCortexMM"] as? Double)
        #expect(Swift.abs(d - target.distance(to: scalpPoint)) < 1e-9)
        #expect(d > 10 && d < 35, "\(d)")
        // Handle (−y) points backwards for the default 45°.
        let handle = coilToMRI.rotate(Vector3(0, -1, 0))
        #expect(handle.y < -0.3, "\(handle)")
    }

    @Test func handleAngleZeroPointsStraightBack() throws {
        let r = try coilnav(["plan", "place-coil", "--scalp", Paths.demo("scalp.ply"), "--target", "0,-20,70", "--handle-angle-deg", "0", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let handle = try matrix(try r.json()["coilToMRI"]).rotate(Vector3(0, -1, 0))
        // At the vertex the tangent plane is nearly horizontal: the handle is close to −y.
        #expect(handle.y < -0.95, "\(handle)")
        #expect(Swift.abs(handle.x) < 0.05, "\(handle)")
    }

    @Test func aPlacementDeeperThanTMSReachesIsWarnedAbout() throws {
        // Straight down from the DLPFC target: the ray leaves the head at the neck.
        let r = try coilnav(["plan", "place-coil", "--scalp", Paths.demo("scalp.ply"), "--target", "-38,44,26", "--direction", "0,0,-1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("warning: the coil is 146.7 mm from the target, deeper than TMS reaches (> 40 mm)"), "\(r.stderr)")
        let normal = try coilnav(["plan", "place-coil", "--scalp", Paths.demo("scalp.ply"), "--target", "-38,44,26"])
        #expect(!normal.stderr.contains("warning"))
    }

    @Test func targetOutsideTheHeadIsRefusedWithItsCoordinates() throws {
        let r = try coilnav(["plan", "place-coil", "--scalp", Paths.demo("scalp.ply"), "--target", "0,0,500"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("the target (0.0, 0.0, 500.0) mm is not inside the scalp surface"), "\(r.stderr)")
    }

    @Test func badTargetIsAUsageError() throws {
        let r = try coilnav(["plan", "place-coil", "--scalp", Paths.demo("scalp.ply"), "--target", "1,2"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--target"), "\(r.stderr)")
    }
}

@Suite struct DemoPlanTests {
    @Test func demoRunsAndShowsEveryTarget() throws {
        let r = try coilnav(["demo", "--offline"], currentDirectory: Paths.root)
        #expect(r.status == 0, "\(r.stderr)")
        for name in ["DLPFC-Fox2012", "F3", "5cm-rule"] { #expect(r.stdout.contains(name)) }
        #expect(r.stdout.contains("FRE"))
    }
}
