import Foundation
import Geometry
import Testing

@testable import Formats

/// FreeSurfer binary triangle surfaces, built byte by byte.
@Suite struct FreeSurferSurfaceTests {
    static let comment = "created by tester on Fri Mar 14 09:26:53 2025"
    static let corners: [(Float, Float, Float)] = [(-80.5, -29.25, -41.125), (1.5, 85, -34.75), (84.25, -28.5, -41.25), (0, -20, 100.5)]
    static let faces: [(Int32, Int32, Int32)] = [(0, 1, 3), (1, 2, 3)]

    /// Offset of the vertex data: 3-byte magic, creation line and two '\n', two counts.
    static var verticesOffset: Int { 3 + comment.utf8.count + 2 + 8 }
    static var facesOffset: Int { verticesOffset + 12 * corners.count }

    static func surface(magic: [UInt8] = [0xFF, 0xFF, 0xFE], vertexCount: Int32? = nil, tail: [UInt8] = []) -> [UInt8] {
        var bytes = magic + Array((comment + "\n\n").utf8)
        bytes += beInt32(vertexCount ?? Int32(corners.count)) + beInt32(Int32(faces.count))
        for c in corners { bytes += beFloat(c.0) + beFloat(c.1) + beFloat(c.2) }
        for f in faces { bytes += beInt32(f.0) + beInt32(f.1) + beInt32(f.2) }
        return bytes + tail
    }

    private func read(_ bytes: [UInt8]) throws(FileFormatError) -> TriangleMesh {
        try MeshFile.parse(data: Data(bytes), source: "lh.seghead")
    }

    @Test func readsTriangleSurfaceAndIgnoresTail() throws {
        // A tail like FreeSurfer's: a tag, then volume geometry text.
        let tail = beInt32(2) + beInt32(0) + beInt32(20) + Array("valid = 1  # volume info valid\nfilename = T1.mgz\n".utf8)
        let mesh = try self.read(Self.surface(tail: tail))
        #expect(mesh.vertices == [Vector3(-80.5, -29.25, -41.125), Vector3(1.5, 85, -34.75), Vector3(84.25, -28.5, -41.25), Vector3(0, -20, 100.5)])
        #expect(mesh.triangles == [SIMD3(0, 1, 3), SIMD3(1, 2, 3)])
        #expect(MeshFile.detectFormat(source: "lh.seghead", data: Data(Self.surface())) == .freeSurfer)
    }

    @Test func quadrangleSurfacesAreRefused() {
        for (magic, hex) in [([UInt8]([0xFF, 0xFF, 0xFF]), "0xFFFFFF"), ([0xFF, 0xFF, 0xFD], "0xFFFFFD")] {
            #expect(formatError { () throws(FileFormatError) in try self.read(Self.surface(magic: magic)) }?.description
                == "lh.seghead: byte 0: magic: FreeSurfer quadrangle surfaces (magic \(hex)) are not supported; convert to a triangle surface first (mris_convert)")
        }
    }

    @Test func truncationIsReportedAtTheIncompleteRecord() {
        let full = Self.surface()
        let cut = Array(full[..<(Self.verticesOffset + 2 * 12 + 5)])
        #expect(formatError { () throws(FileFormatError) in try self.read(cut) }
            == FileFormatError(file: "lh.seghead", location: .byteOffset(Self.verticesOffset + 24), field: "vertex 2",
                               message: "file ends inside the vertex (needs 12 bytes, 5 left)"))
        let noFaces = Array(full[..<(Self.facesOffset + 12)])
        #expect(formatError { () throws(FileFormatError) in try self.read(noFaces) }?.description
            == "lh.seghead: byte \(Self.facesOffset + 12): face 1: file ends before the face (the header declares 2 faces, the file holds 1)")
        // A vertex count that claims more than the file holds.
        #expect(formatError { () throws(FileFormatError) in try self.read(Self.surface(vertexCount: 1_000_000)) }?.field == "vertex 6")
    }

    @Test func badIndicesAndHeaders() {
        var bytes = Self.surface()
        let at = Self.facesOffset + 12 + 8  // face 1, index 2
        bytes.replaceSubrange(at..<(at + 4), with: beInt32(4))
        #expect(formatError { () throws(FileFormatError) in try self.read(bytes) }?.description
            == "lh.seghead: byte \(at): face 1 index 2: vertex index 4 is out of range (the surface has 4 vertices)")
        bytes.replaceSubrange(at..<(at + 4), with: beInt32(-1))
        #expect(formatError { () throws(FileFormatError) in try self.read(bytes) }?.message
            == "vertex index -1 is out of range (the surface has 4 vertices)")

        let oneNewline = [0xFF, 0xFF, 0xFE] + Array("created by x\n".utf8) + beInt32(4) + beInt32(2)
        #expect(formatError { () throws(FileFormatError) in try self.read(oneNewline) }?.description
            == "lh.seghead: byte 3: creation line: the creation line must end with two newline characters")
        #expect(formatError { () throws(FileFormatError) in try self.read(Self.surface(vertexCount: -4)) }?.description
            == "lh.seghead: byte \(Self.verticesOffset - 8): vertex count: must not be negative, got -4")
        #expect(formatError { () throws(FileFormatError) in try MeshFile.parse(data: Data([0xFF, 0xFF, 0xFE, 1]), source: "x.surf", format: .freeSurfer) }?.message
            == "the creation line must end with two newline characters")
    }

    @Test func roundTripWithinFloatPrecision() throws {
        let mesh = awkwardMesh()
        let data = try MeshFile.serialize(mesh, format: .freeSurfer)
        #expect(data.prefix(3) == Data([0xFF, 0xFF, 0xFE]))
        #expect(String(decoding: data[3..<23], as: UTF8.self) == "created by CoilNav\n\n")
        let back = try MeshFile.parse(data: data, source: "rt.surf")
        #expect(back.triangles == mesh.triangles)
        #expect(back.vertices.count == mesh.vertices.count)
        #expect(zip(back.vertices, mesh.vertices).allSatisfy { nearlyEqual($0, $1) })
    }
}
