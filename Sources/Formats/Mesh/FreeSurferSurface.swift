import Geometry

/// FreeSurfer binary triangle surfaces (`lh.pial`, `lh.seghead`, `*.surf` …), big-endian:
///
///     3 bytes  magic 0xFF 0xFF 0xFE (triangle surface)
///     text     creation line ("created by … on …") ending in two '\n'
///     int32    vertex count, int32 face count
///     float32  x y z per vertex
///     int32    3 vertex indices (0-based) per face
///     …        optional tail (volume geometry, "created by" tags): ignored
///
/// The older quadrangle formats (magic 0xFFFFFF, 0xFFFFFD) are refused with a clear error.
/// Coordinates are FreeSurfer's "tkregister" surface RAS, which is offset from the scanner
/// RAS of the MRI by the volume's `c_ras`; the reader does not apply that offset.
enum FreeSurferSurface {
    static let triangleMagic: UInt32 = 0xFF_FFFE
    static let quadMagic: UInt32 = 0xFF_FFFF
    static let newQuadMagic: UInt32 = 0xFF_FFFD

    /// The 3-byte magic number at the start of `bytes`, if there are 3 bytes.
    static func magic(_ bytes: [UInt8]) -> UInt32? {
        guard bytes.count >= 3 else { return nil }
        return UInt32(bytes[0]) << 16 | UInt32(bytes[1]) << 8 | UInt32(bytes[2])
    }

    static func read(_ bytes: [UInt8], source: String) throws(FileFormatError) -> TriangleMesh {
        guard let magic = Self.magic(bytes) else {
            throw FileFormatError.at(source, byte: 0, "not a FreeSurfer surface: the file has \(bytes.count) bytes")
        }
        let hex = "0x" + String(magic, radix: 16, uppercase: true)
        if magic == Self.quadMagic || magic == Self.newQuadMagic {
            throw FileFormatError.at(
                source, byte: 0, field: "magic",
                "FreeSurfer quadrangle surfaces (magic \(hex)) are not supported; convert to a triangle surface first (mris_convert)")
        }
        guard magic == Self.triangleMagic else {
            throw FileFormatError.at(source, byte: 0, field: "magic", "not a FreeSurfer triangle surface (magic \(hex), expected 0xFFFFFE)")
        }
        // The creation line: text up to a '\n', followed by a second '\n'.
        guard let newline = bytes[3...].firstIndex(of: 0x0A), newline + 1 < bytes.count, bytes[newline + 1] == 0x0A else {
            throw FileFormatError.at(source, byte: 3, field: "creation line", "the creation line must end with two newline characters")
        }
        var r = ByteReader(bytes: bytes, offset: newline + 2, bigEndian: true)
        guard r.remaining >= 8 else {
            throw FileFormatError.at(
                source, byte: r.offset, field: "vertex and face counts", "file ends inside the counts (needs 8 bytes, \(r.remaining) left)")
        }
        let countsOffset = r.offset
        let vertexCount = Int(r.int32())
        let faceCount = Int(r.int32())
        guard vertexCount >= 0 else {
            throw FileFormatError.at(source, byte: countsOffset, field: "vertex count", "must not be negative, got \(vertexCount)")
        }
        guard faceCount >= 0 else {
            throw FileFormatError.at(source, byte: countsOffset + 4, field: "face count", "must not be negative, got \(faceCount)")
        }
        guard faceCount > 0 else { throw FileFormatError.at(source, byte: countsOffset + 4, field: "face count", "the surface has no faces") }
        let verticesOffset = r.offset
        let facesOffset = verticesOffset + 12 * vertexCount
        try Self.checkLength(bytes, start: verticesOffset, count: vertexCount, name: "vertex", plural: "vertices", source: source)
        try Self.checkLength(bytes, start: facesOffset, count: faceCount, name: "face", plural: "faces", source: source)

        var vertices: [Vector3] = []
        vertices.reserveCapacity(vertexCount)
        for i in 0..<vertexCount {
            let at = r.offset
            let v = Vector3(Double(r.float32()), Double(r.float32()), Double(r.float32()))
            guard v.isFinite else { throw FileFormatError.at(source, byte: at, field: "vertex \(i)", "a coordinate is not a finite number") }
            vertices.append(v)
        }
        var triangles: [SIMD3<UInt32>] = []
        triangles.reserveCapacity(faceCount)
        for f in 0..<faceCount {
            var tri = SIMD3<UInt32>()
            for k in 0..<3 {
                let at = r.offset
                let index = Int(r.int32())
                guard index >= 0, index < vertexCount else {
                    throw FileFormatError.at(
                        source, byte: at, field: "face \(f) index \(k)",
                        "vertex index \(index) is out of range (the surface has \(vertexCount) vertices)")
                }
                tri[k] = UInt32(index)
            }
            triangles.append(tri)
        }
        return TriangleMesh(vertices: vertices, triangles: triangles)
    }

    /// Reports a file too short for `count` 12-byte records starting at `start`.
    private static func checkLength(
        _ bytes: [UInt8], start: Int, count: Int, name: String, plural: String, source: String
    ) throws(FileFormatError) {
        let available = Swift.max(0, bytes.count - start) / 12
        guard available < count else { return }
        let offset = start + 12 * available
        let left = bytes.count - offset
        if left > 0 {
            throw FileFormatError.at(source, byte: offset, field: "\(name) \(available)", "file ends inside the \(name) (needs 12 bytes, \(left) left)")
        }
        throw FileFormatError.at(
            source, byte: offset, field: "\(name) \(available)",
            "file ends before the \(name) (the header declares \(count) \(plural), the file holds \(available))")
    }

    /// Writes a triangle surface (no tail). `comment` becomes the creation line; it must not
    /// contain a newline.
    static func write(_ mesh: TriangleMesh, comment: String, destination: String) throws(FileFormatError) -> [UInt8] {
        try validateForWriting(mesh, destination: destination)
        try checkFitsFloat32(mesh, destination: destination)
        guard !comment.utf8.contains(0x0A) else {
            throw FileFormatError(file: destination, field: "creation line", message: "must not contain a newline")
        }
        guard mesh.vertices.count <= Int(Int32.max), mesh.triangles.count <= Int(Int32.max) else {
            throw FileFormatError(file: destination, message: "a FreeSurfer surface holds at most 2³¹ − 1 vertices and faces")
        }
        var w = ByteWriter(bigEndian: true, capacity: 16 + comment.utf8.count + 12 * (mesh.vertices.count + mesh.triangles.count))
        w.bytes.append(contentsOf: [0xFF, 0xFF, 0xFE])
        w.append(comment + "\n\n")
        w.int32(Int32(mesh.vertices.count))
        w.int32(Int32(mesh.triangles.count))
        for v in mesh.vertices {
            w.float32(Float(v.x))
            w.float32(Float(v.y))
            w.float32(Float(v.z))
        }
        for t in mesh.triangles {
            w.int32(Int32(t.x))
            w.int32(Int32(t.y))
            w.int32(Int32(t.z))
        }
        return w.bytes
    }
}
