import Foundation
import Formats
import Geometry
import Testing

@Suite struct PoseCSVTests {
    @Test func readsRowsWithHeaderCommentsAndSpaces() throws {
        let text = """
            q0,qx,qy,qz,tx,ty,tz
            # pivoting about the divot
            1, 0, 0, 0, 10, 20, 30

            0.7071067811865476,0,0,0.7071067811865476,-1.5,2.25,1e3
            """
        let poses = try PoseCSV.parse(Data(text.utf8), source: "poses.csv")
        #expect(poses.count == 2)
        #expect(poses[0] == RigidTransform(rotation: Matrix3.identity, translation: Vector3(10, 20, 30)))
        #expect((poses[1].apply(to: Vector3(1, 0, 0)) - Vector3(-1.5, 3.25, 1000)).length < 1e-12)
    }

    @Test func roundTripKeepsFullPrecision() throws {
        var rng = SplitMix64(seed: 17)
        let poses = (0..<20).map { _ in RigidTransform(rotation: rng.nextRotation(), translation: rng.nextGaussianVector(sigma: 300)) }
        let back = try PoseCSV.parse(PoseCSV.serialize(poses), source: "mem")
        for (a, b) in zip(poses, back) {
            let (dt, dr) = a.difference(to: b)
            #expect(dt < 1e-12 && dr < 1e-12)
        }
    }

    @Test func errorsNameLineAndField() {
        func message(_ s: String) -> String? {
            formatError { () throws(FileFormatError) in try PoseCSV.parse(Data(s.utf8), source: "p.csv") }?.description
        }
        #expect(message("q0,qx,qy,qz,tx,ty,tz\n1,0,0,0,1,2,3\n1,0,0,0,1,2,abc\n") == "p.csv: line 3: tz: expected a number, got \"abc\"")
        // A bad first data row is an error, not a header.
        #expect(message("1,0,0,0,1,2,abc\n") == "p.csv: line 1: tz: expected a number, got \"abc\"")
        #expect(message("1,0,0,0,1,2\n") == "p.csv: line 1: row: expected 7 fields (q0,qx,qy,qz,tx,ty,tz), got 6")
        #expect(message("0.5,0,0,0,1,2,3\n") == "p.csv: line 1: q0,qx,qy,qz: the quaternion has norm 0.5, not 1 (tolerance 0.001)")
        #expect(message("1,0,0,0,nan,2,3\n") == "p.csv: line 1: tx: expected a finite number, got nan")
    }
}
