import Foundation
import Geometry
import Testing

@testable import Formats

/// Stanford PLY: hand-written ASCII and binary files, round trips, and located errors.
@Suite struct PLYTests {
    private func read(_ bytes: [UInt8], source: String = "scalp.ply") throws(FileFormatError) -> TriangleMesh {
        try MeshFile.parse(data: Data(bytes), source: source)
    }

    private func read(_ text: String, source: String = "scalp.ply") throws(FileFormatError) -> TriangleMesh {
        try self.read(Array(text.utf8), source: source)
    }

    /// A cube as a PLY writer might save it: quads, per-vertex normals and colours, a
    /// comment, and an extra `edge` element to skip.
    static let asciiCube = """
        ply
        format ascii 1.0
        comment cube with normals and colours
        element vertex 8
        property float x
        property float y
        property float z
        property float nx
        property float ny
        property float nz
        property uchar red
        property uchar green
        property uchar blue
        element face 6
        property list uchar int vertex_indices
        element edge 2
        property int vertex1
        property int vertex2
        end_header
        0 0 0 -0.577 -0.577 -0.577 255 0 0
        2 0 0 0.577 -0.577 -0.577 0 255 0
        0 2 0 -0.577 0.577 -0.577 0 0 255
        2 2 0 0.577 0.577 -0.577 255 255 0
        0 0 2 -0.577 -0.577 0.577 0 255 255
        2 0 2 0.577 -0.577 0.577 255 0 255
        0 2 2 -0.577 0.577 0.577 10 20 30
        2 2 2 0.577 0.577 0.577 40 50 60
        4 0 2 3 1
        4 4 5 7 6
        4 0 1 5 4
        4 2 6 7 3
        4 0 4 6 2
        4 1 3 7 5
        0 1
        6 7

        """

    @Test func readsASCIICubeWithQuadsAndExtraProperties() throws {
        let mesh = try self.read(Self.asciiCube)
        #expect(mesh == cube(side: 2))
        #expect(mesh.area == 24)
        #expect(Swift.abs(mesh.signedVolume - 8) < 1e-12)
        // Quads are fan-triangulated keeping their winding: 0 2 3 1 → (0 2 3), (0 3 1).
        #expect(mesh.triangles[0] == SIMD3(0, 2, 3) && mesh.triangles[1] == SIMD3(0, 3, 1))
    }

    @Test func readsCRLFAndVertexIndexName() throws {
        let text = "ply\r\nformat ascii 1.0\r\nelement vertex 3\r\nproperty double x\r\nproperty double y\r\nproperty double z\r\n"
            + "element face 1\r\nproperty list uint short vertex_index\r\nend_header\r\n0.5 0 0\r\n0 1e1 0\r\n0 0 -2.25\r\n3 0 1 2\r\n"
        let mesh = try self.read(text)
        #expect(mesh.vertices == [Vector3(0.5, 0, 0), Vector3(0, 10, 0), Vector3(0, 0, -2.25)])
        #expect(mesh.triangles == [SIMD3(0, 1, 2)])
    }

    @Test func readsHandBuiltBigEndianBinaryWithOddTypes() throws {
        let header = """
            ply
            format binary_big_endian 1.0
            element vertex 4
            property uchar flags
            property float x
            property float y
            property float z
            property double confidence
            property list uchar float texcoord
            element face 1
            property uchar kind
            property list ushort uint vertex_indices
            end_header

            """
        var bytes = Array(header.utf8)
        let corners: [(Float, Float, Float)] = [(0, 0, 0), (1.5, 0, 0), (1.5, 2.25, 0), (-3, 2.25, 0.125)]
        for (i, c) in corners.enumerated() {
            bytes += [UInt8(i)] + beFloat(c.0) + beFloat(c.1) + beFloat(c.2) + beDouble(0.9)
            bytes += [2] + beFloat(0.25) + beFloat(0.75)  // a 2-item float list to skip
        }
        bytes += [7] + be16(4) + be32(0) + be32(1) + be32(2) + be32(3)
        let mesh = try self.read(bytes)
        #expect(mesh.vertices == [Vector3(0, 0, 0), Vector3(1.5, 0, 0), Vector3(1.5, 2.25, 0), Vector3(-3, 2.25, 0.125)])
        #expect(mesh.triangles == [SIMD3(0, 1, 2), SIMD3(0, 2, 3)])
    }

    @Test(arguments: [MeshFile.WriteFormat.plyASCII, .plyBinaryLittleEndian, .plyBinaryBigEndian])
    func roundTripIsExact(format: MeshFile.WriteFormat) throws {
        let mesh = awkwardMesh()
        let back = try MeshFile.parse(data: try MeshFile.serialize(mesh, format: format), source: "rt.ply")
        #expect(back == mesh)
    }

    @Test func binaryLittleEndianLayoutIsAsDocumented() throws {
        let data = try MeshFile.serialize(cube(), format: .plyBinaryLittleEndian)
        let bytes = [UInt8](data)
        let header = String(decoding: bytes.prefix(100), as: UTF8.self)
        #expect(header.hasPrefix("ply\nformat binary_little_endian 1.0\ncomment CoilNav mesh: RAS millimetres\nelement vertex 8\n"))
        let body = bytes.count - 8 * 24 - 12 * 13
        #expect(String(decoding: bytes[..<body], as: UTF8.self).hasSuffix("property list uchar int vertex_indices\nend_header\n"))
        // Vertex 1 is (1, 0, 0) as little-endian doubles; the first face is 3, 0, 2, 3.
        #expect(Array(bytes[(body + 24)..<(body + 32)]) == leDouble(1))
        #expect(Array(bytes[(body + 192)..<(body + 205)]) == [3] + le32(0) + le32(2) + le32(3))
    }

    @Test func truncatedBinaryReportsByteOffset() throws {
        let full = [UInt8](try MeshFile.serialize(cube(), format: .plyBinaryLittleEndian))
        let body = full.count - 8 * 24 - 12 * 13
        // Cut in the middle of vertex 5 (24 bytes each).
        let cut = Array(full[..<(body + 5 * 24 + 10)])
        let e = formatError { () throws(FileFormatError) in try self.read(cut) }
        #expect(e == FileFormatError(
            file: "scalp.ply", location: .byteOffset(body + 120), field: "vertex 5",
            message: "file ends inside the vertex (needs 24 bytes, 10 left)"))
        // Cut in the middle of the index list of face 7 (13 bytes each: count + 3 ints).
        let faceStart = body + 8 * 24 + 7 * 13
        let e2 = formatError { () throws(FileFormatError) in try self.read(Array(full[..<(faceStart + 6)])) }
        #expect(e2?.description == "scalp.ply: byte \(faceStart): face 7: file ends inside the face (needs 13 bytes, 6 left)")
        // Cut exactly between elements: the face element is missing.
        let e3 = formatError { () throws(FileFormatError) in try self.read(Array(full[..<(body + 8 * 24)])) }
        #expect(e3?.description == "scalp.ply: byte \(body + 192): face 0: file ends before the face (the header declares 12 face elements, the file holds 0)")
    }

    @Test func badNumberIsReportedWithItsLine() {
        var lines = Self.asciiCube.components(separatedBy: "\n")
        // Line 22 holds vertex 2 (the header has 19 lines).
        #expect(lines[21].hasPrefix("0 2 0 "))
        lines[21] = "0 2 abc -0.577 0.577 -0.577 0 0 255"
        let e = formatError { () throws(FileFormatError) in try self.read(lines.joined(separator: "\n")) }
        #expect(e?.description == "scalp.ply: line 22: vertex 2, field z: expected a number, got \"abc\"")
    }

    @Test func asciiShapeErrors() {
        var lines = Self.asciiCube.components(separatedBy: "\n")
        lines[21] = "0 2 0 -0.577 0.577"
        #expect(formatError { () throws(FileFormatError) in try self.read(lines.joined(separator: "\n")) }?.description
            == "scalp.ply: line 22: vertex 2, field nz: the line ends before this value")
        lines = Self.asciiCube.components(separatedBy: "\n")
        lines[21] += " 99"
        #expect(formatError { () throws(FileFormatError) in try self.read(lines.joined(separator: "\n")) }?.description
            == "scalp.ply: line 22: vertex 2: unexpected extra value \"99\" at the end of the line")
        lines = Self.asciiCube.components(separatedBy: "\n")
        lines[28] = "2 0 2"
        #expect(formatError { () throws(FileFormatError) in try self.read(lines.joined(separator: "\n")) }?.description
            == "scalp.ply: line 29: face 1: a face needs at least 3 vertices, got 2")
        // The file stops after the faces: the edge element is missing.
        let short = Self.asciiCube.components(separatedBy: "\n").prefix(33).joined(separator: "\n")
        #expect(formatError { () throws(FileFormatError) in try self.read(short) }?.description
            == "scalp.ply: line 34: edge 0: the file ends early: the header declares 2 edge elements but the file has 0")
        #expect(formatError { () throws(FileFormatError) in try self.read(Self.asciiCube + "1 2\n") }?.description
            == "scalp.ply: line 36: unexpected content after the last element declared in the header")
    }

    @Test func faceIndexOutOfRange() throws {
        var lines = Self.asciiCube.components(separatedBy: "\n")
        lines[31] = "4 0 4 8 2"
        #expect(formatError { () throws(FileFormatError) in try self.read(lines.joined(separator: "\n")) }?.description
            == "scalp.ply: line 32: face 4 index 2: vertex index 8 is out of range (the file has 8 vertices)")
        lines[31] = "4 0 4 -1 2"
        #expect(formatError { () throws(FileFormatError) in try self.read(lines.joined(separator: "\n")) }?.message
            == "vertex index -1 is out of range (the file has 8 vertices)")

        // Binary: the offending index's own byte offset.
        var bytes = [UInt8](try MeshFile.serialize(cube(), format: .plyBinaryLittleEndian))
        let body = bytes.count - 8 * 24 - 12 * 13
        let at = body + 8 * 24 + 5 * 13 + 1 + 4  // face 5, index 1
        bytes.replaceSubrange(at..<(at + 4), with: le32(1000))
        #expect(formatError { () throws(FileFormatError) in try self.read(bytes) }
            == FileFormatError(file: "scalp.ply", location: .byteOffset(at), field: "face 5 index 1",
                               message: "vertex index 1000 is out of range (the file has 8 vertices)"))
    }

    @Test func nonFiniteCoordinatesAreRejected() throws {
        var bytes = [UInt8](try MeshFile.serialize(cube(), format: .plyBinaryLittleEndian))
        let body = bytes.count - 8 * 24 - 12 * 13
        bytes.replaceSubrange((body + 3 * 24 + 8)..<(body + 3 * 24 + 16), with: leDouble(.nan))
        #expect(formatError { () throws(FileFormatError) in try self.read(bytes) }?.description
            == "scalp.ply: byte \(body + 80): vertex 3, field y: not a finite number (nan)")
        var lines = Self.asciiCube.components(separatedBy: "\n")
        lines[19] = "0 0 inf 0 0 0 0 0 0"
        #expect(formatError { () throws(FileFormatError) in try self.read(lines.joined(separator: "\n")) }?.description
            == "scalp.ply: line 20: vertex 0, field z: not a finite number (inf)")
    }

    @Test func trailingBytesAreReported() throws {
        let bytes = [UInt8](try MeshFile.serialize(cube(), format: .plyBinaryLittleEndian)) + [0, 0, 0]
        #expect(formatError { () throws(FileFormatError) in try self.read(bytes) }?.description
            == "scalp.ply: byte \(bytes.count - 3): 3 bytes after the last element (the header declares 8 vertex, 12 face)")
    }

    @Test func headerErrors() {
        func headerError(_ header: String) -> String? {
            formatError { () throws(FileFormatError) in try self.read(header + "\n") }?.description
        }
        #expect(headerError("solid x") == "scalp.ply: line 1: not a PLY file (the first line must be \"ply\")")
        #expect(headerError("ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nend_header")
            == "scalp.ply: the header declares no \"element face\": the file holds points, not a surface")
        #expect(headerError("ply\nformat ascii 1.0\nelement vertex 3\nproperty float32 x\nproperty quad y")
            == "scalp.ply: line 5: unknown type \"quad\"")
        #expect(headerError("ply\nformat binary_middle_endian 1.0") == "scalp.ply: line 2: unknown PLY format \"binary_middle_endian\" (expected ascii, binary_little_endian or binary_big_endian)")
        #expect(headerError("ply\nformat ascii 1.0\nelement vertex -3") == "scalp.ply: line 3: element vertex count: expected a non-negative whole number, got \"-3\"")
        #expect(headerError("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x") == "scalp.ply: line 5: the header has no \"end_header\" line")
        #expect(headerError("ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nproperty float y\nelement face 0\nproperty list uchar int vertex_indices\nend_header")
            == "scalp.ply: line 3: element vertex: no property z")
        #expect(headerError("ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nproperty float y\nproperty float z\nelement face 0\nproperty list float int vertex_indices\nend_header")
            == "scalp.ply: line 8: the count type of a list must be an integer type, got \"float\"")
        #expect(headerError("ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nproperty float y\nproperty float z\nelement face 0\nproperty list uchar int vertex_indices\nend_header")
            == "scalp.ply: the file has no faces with 3 or more vertices")
    }
}
