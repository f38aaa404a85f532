import Foundation
import Geometry
import Testing

@testable import Formats

/// STL: binary detection by size, vertex welding, ASCII grammar, size mismatches.
@Suite struct STLTests {
    static let a: (Float, Float, Float) = (0.5, 0.5, 0)
    static let b: (Float, Float, Float) = (10.25, 0.5, 0)
    static let c: (Float, Float, Float) = (10.25, -3.125, 0)
    static let d: (Float, Float, Float) = (0.5, -3.125, 0.001)

    /// A binary STL of two triangles whose 80-byte header starts with "solid" (as many
    /// exporters write), built byte by byte.
    static func binarySquare(declaredCount: UInt32 = 2, extra: [UInt8] = []) -> [UInt8] {
        let title = Array("solid square exported by a CAD tool".utf8)
        var bytes = title + [UInt8](repeating: 0x20, count: 80 - title.count)
        bytes += le32(declaredCount)
        for tri in [[a, b, c], [a, c, d]] {
            bytes += leFloat(0) + leFloat(0) + leFloat(-1)  // a wrong normal: ignored
            for v in tri { bytes += leFloat(v.0) + leFloat(v.1) + leFloat(v.2) }
            bytes += le16(0)
        }
        return bytes + extra
    }

    private func read(_ bytes: [UInt8], source: String = "head.stl") throws(FileFormatError) -> TriangleMesh {
        try MeshFile.parse(data: Data(bytes), source: source)
    }

    private func read(_ text: String) throws(FileFormatError) -> TriangleMesh { try self.read(Array(text.utf8)) }

    static let expectedSquare = TriangleMesh(
        vertices: [Vector3(0.5, 0.5, 0), Vector3(10.25, 0.5, 0), Vector3(10.25, -3.125, 0), Vector3(0.5, -3.125, Double(Float(0.001)))],
        triangles: [SIMD3(0, 1, 2), SIMD3(0, 2, 3)])

    @Test func binaryIsDetectedBySizeNotBySolidPrefix() throws {
        let bytes = Self.binarySquare()
        #expect(bytes.count == 184)
        #expect(STL.isBinary(bytes))
        #expect(try self.read(bytes) == Self.expectedSquare)
    }

    @Test func asciiIsReadAndWelded() throws {
        let text = """
            solid square
              facet normal 0 0 1
                outer loop
                  vertex 0.5 0.5 0
                  vertex 10.25 0.5 0
                  vertex 10.25 -3.125 0
                endloop
              endfacet
              FACET NORMAL 0 0 1
                OUTER LOOP
                  VERTEX 0.5 0.5 0
                  VERTEX 10.25 -3.125 0
                  VERTEX 0.5 -3.125 1e-3
                ENDLOOP
              ENDFACET
            endsolid square

            """
        let mesh = try self.read(text)
        #expect(mesh.vertices == [Vector3(0.5, 0.5, 0), Vector3(10.25, 0.5, 0), Vector3(10.25, -3.125, 0), Vector3(0.5, -3.125, 0.001)])
        #expect(mesh.triangles == [SIMD3(0, 1, 2), SIMD3(0, 2, 3)])
    }

    @Test func truncatedBinaryNamesTheTriangleAndOffset() {
        let bytes = Array(Self.binarySquare(declaredCount: 3, extra: [UInt8](repeating: 0, count: 28)))
        #expect(formatError { () throws(FileFormatError) in try self.read(bytes) }?.description
            == "head.stl: byte 184: triangle 2: file ends inside the triangle (needs 50 bytes, 28 left)")
        let exact = Self.binarySquare(declaredCount: 5)
        #expect(formatError { () throws(FileFormatError) in try self.read(exact) }?.description
            == "head.stl: byte 184: triangle 2: file ends before the triangle (the header declares 5 triangles, the file holds 2)")
    }

    @Test func sizeMismatchWithExtraBytes() {
        let bytes = Self.binarySquare(extra: [1, 2, 3, 4, 5, 6, 7])
        #expect(formatError { () throws(FileFormatError) in try self.read(bytes) }
            == FileFormatError(
                file: "head.stl", location: .byteOffset(184),
                message: "7 bytes after the last triangle (the header declares 2 triangles, 84 + 50·2 = 184 bytes)"))
        #expect(formatError { () throws(FileFormatError) in try self.read(Array("not a mesh".utf8)) }?.message
            == "not an STL file: 10 bytes is too short for a binary STL (84-byte header) and the file does not start with \"solid\"")
    }

    @Test func nonFiniteBinaryCoordinate() {
        var bytes = Self.binarySquare()
        // Triangle 1, vertex 2, y (normal 12 bytes, then 12 per vertex).
        let at = 84 + 50 + 12 + 24 + 4
        bytes.replaceSubrange(at..<(at + 4), with: leFloat(.infinity))
        #expect(formatError { () throws(FileFormatError) in try self.read(bytes) }?.description
            == "head.stl: byte \(at - 4): triangle 1 vertex 2: a coordinate is not a finite number")
    }

    @Test func asciiErrorsHaveLines() {
        let good = """
            solid s
            facet normal 0 0 1
            outer loop
            vertex 0 0 0
            vertex 1 0 0
            vertex 0 1 0
            endloop
            endfacet
            endsolid s
            """
        func error(_ text: String) -> String? { formatError { () throws(FileFormatError) in try self.read(text) }?.description }
        #expect(error(good.replacingOccurrences(of: "vertex 1 0 0", with: "vertex 1 abc 0"))
            == "head.stl: line 5: triangle 0 vertex 1: expected a number, got \"abc\"")
        #expect(error(good.replacingOccurrences(of: "vertex 0 1 0\n", with: ""))
            == "head.stl: line 6: triangle 0: a facet needs exactly 3 vertices, got 2")
        #expect(error(good.replacingOccurrences(of: "endloop\n", with: ""))
            == "head.stl: line 7: triangle 0: expected \"vertex\" or \"endloop\", got \"endfacet\"")
        #expect(error(good.replacingOccurrences(of: "\nendsolid s", with: "")) == "head.stl: line 9: the file ends before \"endsolid\"")
        #expect(error(good.replacingOccurrences(of: "vertex 0 0 0", with: "vertex 0 0")) == "head.stl: line 4: triangle 0 vertex 0: expected \"vertex x y z\" with 3 numbers, got 2")
    }

    @Test func binaryRoundTripWithinFloatPrecision() throws {
        let mesh = awkwardMesh()
        let data = try MeshFile.serialize(mesh, format: .stlBinary)
        #expect(data.count == 84 + 50 * mesh.triangles.count)
        #expect(!data.starts(with: Array("solid".utf8)))
        let back = try MeshFile.parse(data: data, source: "rt.stl")
        #expect(back.vertices.count == mesh.vertices.count)
        #expect(sameTriangles(back, mesh))
        // The stored normal of triangle 0 is its unit face normal.
        let bytes = [UInt8](data)
        var r = ByteReader(bytes: bytes, offset: 84, bigEndian: false)
        let n = Vector3(Double(r.float32()), Double(r.float32()), Double(r.float32()))
        #expect(nearlyEqual(n, mesh.faceNormal(0)))
    }

    @Test func asciiRoundTripIsExact() throws {
        let mesh = awkwardMesh()
        let back = try MeshFile.parse(data: try MeshFile.serialize(mesh, format: .stlASCII), source: "rt.stl")
        #expect(back.vertices.count == mesh.vertices.count)
        for t in mesh.triangles.indices {
            let (p, q, r) = mesh.corners(t)
            let (u, v, w) = back.corners(t)
            #expect(p == u && q == v && r == w)
        }
    }
}
