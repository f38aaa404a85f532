import Foundation
import Geometry
import Testing

@testable import Formats

/// Wavefront OBJ: corner forms, relative indices, polygons, ignored statements, errors.
@Suite struct OBJTests {
    static let sample = """
        # a square, a relative triangle and a quad
        mtllib square.mtl
        o square
        v 0 0 0
        v 1 0 0
        v 1 1 0
        v 0 1 0   # trailing comment
        vt 0 0
        vt 1 0
        vt 1 1
        vn 0 0 1
        g face
        usemtl skin
        s off
        f 1/1/1 2/2/1 3/3/1
        f 1//1 3//1 4//1
        v 0 0 1.5 1.0
        f -5/1 -4/2 -1/3
        f 1 2 3 4
        l 1 2

        """

    private func read(_ text: String) throws(FileFormatError) -> TriangleMesh {
        try MeshFile.parse(data: Data(text.utf8), source: "scalp.obj")
    }

    @Test func readsAllCornerFormsAndRelativeIndices() throws {
        let mesh = try self.read(Self.sample)
        #expect(mesh.vertices == [Vector3(0, 0, 0), Vector3(1, 0, 0), Vector3(1, 1, 0), Vector3(0, 1, 0), Vector3(0, 0, 1.5)])
        #expect(mesh.triangles == [SIMD3(0, 1, 2), SIMD3(0, 2, 3), SIMD3(0, 1, 4), SIMD3(0, 1, 2), SIMD3(0, 2, 3)])
    }

    @Test func facesMayReferToVerticesDefinedLater() throws {
        let mesh = try self.read("f 1 2 3\nv 0 0 0\nv 1 0 0\nv 0 1 0\n")
        #expect(mesh.triangles == [SIMD3(0, 1, 2)])
        #expect(mesh.vertices.count == 3)
    }

    @Test func indexErrorsNameTheLineAndCorner() {
        func error(_ text: String) -> String? { formatError { () throws(FileFormatError) in try self.read(text) }?.description }
        #expect(error(Self.sample + "f 1 2 9\n") == "scalp.obj: line 21: face 4 index 2: vertex index 9 is out of range (the file has 5 vertices)")
        #expect(error(Self.sample + "f 0 1 2\n") == "scalp.obj: line 21: face 4 index 0: vertex index 0 is not valid (OBJ indices start at 1)")
        #expect(error("v 0 0 0\nv 1 0 0\nf -1 -2 -3\n")
            == "scalp.obj: line 3: face 0 index 2: relative vertex index -3 reaches before the first vertex (2 read so far)")
        #expect(error(Self.sample + "f 1/2/3 x/1 2\n") == "scalp.obj: line 21: face 4 index 1: expected a vertex index, got \"x/1\"")
        #expect(error(Self.sample + "f 1 2\n") == "scalp.obj: line 21: face 4: a face needs at least 3 vertices, got 2")
        #expect(error("v 1 2\n") == "scalp.obj: line 1: vertex 0: expected \"v x y z\", got 2 numbers")
        #expect(error("v 1 2 zz\n") == "scalp.obj: line 1: vertex 0, field z: expected a number, got \"zz\"")
        #expect(error("v 1 2 nan\n") == "scalp.obj: line 1: vertex 0, field z: not a finite number (nan)")
        #expect(error("v 1 2 3\n# no faces\n") == "scalp.obj: the file has no faces")
    }

    @Test func roundTripIsExact() throws {
        let mesh = awkwardMesh()
        let data = try MeshFile.serialize(mesh, format: .obj)
        #expect(String(decoding: data.prefix(40), as: UTF8.self).hasPrefix("# CoilNav mesh: RAS millimetres\nv "))
        #expect(try MeshFile.parse(data: data, source: "rt.obj") == mesh)
    }
}
