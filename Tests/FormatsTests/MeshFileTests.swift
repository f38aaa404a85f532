import Foundation
import Geometry
import Testing

@testable import Formats

/// Format dispatch, file I/O and the checks every mesh writer makes.
@Suite struct MeshFileTests {
    @Test func formatIsDetectedByExtensionThenContent() {
        let empty = Data()
        #expect(MeshFile.detectFormat(source: "/data/Scalp.PLY", data: empty) == .ply)
        #expect(MeshFile.detectFormat(source: "head.Stl", data: empty) == .stl)
        #expect(MeshFile.detectFormat(source: "head.obj", data: empty) == .obj)
        #expect(MeshFile.detectFormat(source: "surf/lh.seghead", data: Data([0xFF, 0xFF, 0xFE, 0x63])) == .freeSurfer)
        #expect(MeshFile.detectFormat(source: "scalp.surf", data: Data([0xFF, 0xFF, 0xFF])) == .freeSurfer)
        #expect(MeshFile.detectFormat(source: "mesh.bin", data: Data("ply\nformat ascii 1.0\n".utf8)) == .ply)
        #expect(MeshFile.detectFormat(source: "mesh.vtk", data: Data("# vtk DataFile".utf8)) == nil)
        #expect(formatError { () throws(FileFormatError) in try MeshFile.parse(data: Data("# vtk DataFile".utf8), source: "mesh.vtk") }?.description
            == "mesh.vtk: cannot tell the mesh format: expected a .ply, .stl or .obj file or a FreeSurfer triangle surface")
    }

    @Test(arguments: [
        ("scalp.ply", MeshFile.WriteFormat.plyBinaryLittleEndian),
        ("scalp_ascii.ply", .plyASCII),
        ("scalp_be.ply", .plyBinaryBigEndian),
        ("scalp.STL", .stlBinary),
        ("scalp_ascii.stl", .stlASCII),
        ("scalp.obj", .obj),
        ("lh.seghead", .freeSurfer),
    ])
    func writeThenReadByPath(name: String, format: MeshFile.WriteFormat) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("coilnav-mesh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(name).path
        let mesh = awkwardMesh()
        try MeshFile.write(mesh, path: path, format: format)
        let back = try MeshFile.read(path: path)
        #expect(MeshFile.detectFormat(source: path, data: try Data(contentsOf: URL(fileURLWithPath: path))) == format.readFormat)
        #expect(sameTriangles(back, mesh))
        #expect(back.vertices.count == mesh.vertices.count)
        #expect(Swift.abs(back.area - mesh.area) <= 1e-6 * mesh.area)
    }

    @Test func missingFileIsReportedWithItsPath() {
        let e = formatError { () throws(FileFormatError) in try MeshFile.read(path: "/nonexistent/dir/scalp.ply") }
        #expect(e?.file == "/nonexistent/dir/scalp.ply")
        #expect(e?.location == FileFormatError.Location.none)
        #expect(e?.message == "cannot read the file: no such file or directory")
    }

    @Test func writersRefuseUnwritableMeshes() {
        var bad = cube()
        bad.vertices[3].y = .nan
        for format in MeshFile.WriteFormat.allCases {
            #expect(formatError { () throws(FileFormatError) in try MeshFile.serialize(bad, format: format, destination: "out") }
                == FileFormatError(file: "out", field: "vertex 3", message: "cannot write a coordinate that is not a finite number"))
        }
        var outOfRange = cube()
        outOfRange.triangles[4] = SIMD3(0, 1, 8)
        #expect(formatError { () throws(FileFormatError) in try MeshFile.serialize(outOfRange, format: .obj, destination: "out") }?.description
            == "out: triangle 4: refers to vertex 8, but the mesh has 8 vertices")
        #expect(formatError { () throws(FileFormatError) in try MeshFile.serialize(TriangleMesh(vertices: [], triangles: []), format: .plyASCII) }?.description
            == "mesh: cannot write a mesh without triangles")
        var huge = cube()
        huge.vertices[1].x = 1e39
        #expect(formatError { () throws(FileFormatError) in try MeshFile.serialize(huge, format: .stlBinary, destination: "out") }?.description
            == "out: vertex 1: the coordinate 1e+39 does not fit in a 32-bit float")
        // Double-precision formats can hold it.
        #expect(formatError { () throws(FileFormatError) in try MeshFile.serialize(huge, format: .plyBinaryLittleEndian) } == nil)
    }
}
