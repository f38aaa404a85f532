import Geometry

/// STL, binary and ASCII. STL stores unconnected triangles; the reader indexes them by merging
/// vertices with bit-identical coordinates. Facet normals in the file are ignored (the
/// winding is kept).
///
/// A file is binary when its size is exactly 84 + 50·n bytes, n being the triangle count in
/// bytes 80–83: the `solid` prefix does not decide, since many binary writers start their
/// header with it.
enum STL {
    static func isBinary(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 84 else { return false }
        var r = ByteReader(bytes: bytes, offset: 80, bigEndian: false)
        return 84 + 50 * Int(r.uint32()) == bytes.count
    }

    static func read(_ bytes: [UInt8], source: String) throws(FileFormatError) -> TriangleMesh {
        if Self.isBinary(bytes) { return try Self.readBinary(bytes, source: source) }
        var start = 0
        while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
        let startsWithSolid = bytes[start...].starts(with: Array("solid".utf8))
        if startsWithSolid, !(bytes.count >= 84 && Self.looksBinary(bytes)) {
            return try Self.readASCII(bytes, source: source)
        }
        // Not ASCII, and the size disagrees with the binary header: report why.
        guard bytes.count >= 84 else {
            throw FileFormatError(
                file: source,
                message: "not an STL file: \(bytes.count) bytes is too short for a binary STL (84-byte header) and the file does not start with \"solid\"")
        }
        return try Self.readBinary(bytes, source: source)
    }

    /// A file starting with "solid" whose header region holds NUL or other control bytes is a
    /// binary file of the wrong size, not ASCII.
    private static func looksBinary(_ bytes: [UInt8]) -> Bool {
        bytes[0..<84].contains { $0 < 0x09 || ($0 > 0x0D && $0 < 0x20) || $0 == 0x7F }
    }

    private static func readBinary(_ bytes: [UInt8], source: String) throws(FileFormatError) -> TriangleMesh {
        var r = ByteReader(bytes: bytes, offset: 80, bigEndian: false)
        let declared = Int(r.uint32())
        let available = (bytes.count - 84) / 50
        if declared > available {
            let offset = 84 + 50 * available
            let left = bytes.count - offset
            if left > 0 {
                throw FileFormatError.at(
                    source, byte: offset, field: "triangle \(available)",
                    "file ends inside the triangle (needs 50 bytes, \(left) left)")
            }
            throw FileFormatError.at(
                source, byte: offset, field: "triangle \(available)",
                "file ends before the triangle (the header declares \(declared) triangles, the file holds \(available))")
        }
        if declared < available || bytes.count != 84 + 50 * declared {
            let offset = 84 + 50 * declared
            throw FileFormatError.at(
                source, byte: offset,
                "\(bytes.count - offset) bytes after the last triangle (the header declares \(declared) triangles, 84 + 50·\(declared) = \(offset) bytes)")
        }
        guard declared > 0 else { throw FileFormatError.at(source, byte: 80, field: "triangle count", "the file has no triangles") }
        var welder = VertexWelder()
        var triangles: [SIMD3<UInt32>] = []
        triangles.reserveCapacity(declared)
        for t in 0..<declared {
            r.offset = 84 + 50 * t + 12  // skip the normal
            var corner = SIMD3<UInt32>()
            for k in 0..<3 {
                let at = r.offset
                let v = Vector3(Double(r.float32()), Double(r.float32()), Double(r.float32()))
                guard v.isFinite else {
                    throw FileFormatError.at(source, byte: at, field: "triangle \(t) vertex \(k)", "a coordinate is not a finite number")
                }
                corner[k] = welder.add(v)
            }
            triangles.append(corner)
        }
        return TriangleMesh(vertices: welder.vertices, triangles: triangles)
    }

    private static func readASCII(_ bytes: [UInt8], source: String) throws(FileFormatError) -> TriangleMesh {
        enum State { case outside, inSolid, inFacet, inLoop, afterLoop }
        var state = State.outside
        var lines = TextLines(bytes: bytes)
        var welder = VertexWelder()
        var triangles: [SIMD3<UInt32>] = []
        var corner = SIMD3<UInt32>()
        var cornerCount = 0
        var sawSolid = false
        while let line = lines.next() {
            let tokens = lines.tokens(line)
            guard let first = tokens.first else { continue }
            let keyword = lines.text(first).lowercased()
            let t = triangles.count
            func fail(_ field: String?, _ message: String) -> FileFormatError { .at(source, line: line.number, field: field, message) }
            func expect(_ what: String) -> FileFormatError {
                let context = state == .outside || state == .inSolid ? nil : "triangle \(t)"
                return fail(context, "expected \(what), got \(quoted(lines.text(first)))")
            }
            switch state {
            case .outside:
                guard keyword == "solid" else { throw expect("\"solid\"") }
                sawSolid = true
                state = .inSolid
            case .inSolid:
                if keyword == "endsolid" {
                    state = .outside
                } else if keyword == "facet" {
                    state = .inFacet
                } else {
                    throw expect("\"facet\" or \"endsolid\"")
                }
            case .inFacet:
                guard keyword == "outer", tokens.count == 2, lines.text(tokens[1]).lowercased() == "loop" else {
                    throw expect("\"outer loop\"")
                }
                cornerCount = 0
                state = .inLoop
            case .inLoop:
                if keyword == "endloop" {
                    guard cornerCount == 3 else {
                        throw fail("triangle \(t)", "a facet needs exactly 3 vertices, got \(cornerCount)")
                    }
                    triangles.append(corner)
                    state = .afterLoop
                    continue
                }
                guard keyword == "vertex" else { throw expect("\"vertex\" or \"endloop\"") }
                guard cornerCount < 3 else { throw fail("triangle \(t)", "a facet needs exactly 3 vertices, got more") }
                guard tokens.count == 4 else {
                    throw fail("triangle \(t) vertex \(cornerCount)", "expected \"vertex x y z\" with 3 numbers, got \(tokens.count - 1)")
                }
                var v = Vector3.zero
                for k in 0..<3 {
                    let text = lines.text(tokens[k + 1])
                    guard let x = Double(text) else {
                        throw fail("triangle \(t) vertex \(cornerCount)", "expected a number, got \(quoted(text))")
                    }
                    guard x.isFinite else { throw fail("triangle \(t) vertex \(cornerCount)", "not a finite number (\(text))") }
                    v[k] = x
                }
                corner[cornerCount] = welder.add(v)
                cornerCount += 1
            case .afterLoop:
                guard keyword == "endfacet" else { throw fail("triangle \(t - 1)", "expected \"endfacet\", got \(quoted(lines.text(first)))") }
                state = .inSolid
            }
        }
        guard state == .outside, sawSolid else {
            throw FileFormatError.at(source, line: lines.lineNumber + 1, "the file ends before \"endsolid\"")
        }
        guard !triangles.isEmpty else { throw FileFormatError(file: source, message: "the file has no triangles") }
        return TriangleMesh(vertices: welder.vertices, triangles: triangles)
    }

    // MARK: Writing

    /// Binary STL: an 80-byte header that does not start with "solid", the triangle count, and
    /// per triangle the unit normal, three corners (float32) and a zero attribute word.
    static func writeBinary(_ mesh: TriangleMesh, destination: String) throws(FileFormatError) -> [UInt8] {
        try validateForWriting(mesh, destination: destination)
        try checkFitsFloat32(mesh, destination: destination)
        guard mesh.triangles.count <= Int(UInt32.max) else {
            throw FileFormatError(file: destination, message: "a binary STL holds at most 2³² − 1 triangles")
        }
        var w = ByteWriter(bigEndian: false, capacity: 84 + 50 * mesh.triangles.count)
        let title = Array("CoilNav binary STL, RAS millimetres".utf8)
        w.bytes.append(contentsOf: title + [UInt8](repeating: 0x20, count: 80 - title.count))
        w.uint32(UInt32(mesh.triangles.count))
        for t in mesh.triangles.indices {
            let n = mesh.faceNormal(t)
            let (a, b, c) = mesh.corners(t)
            for v in [n, a, b, c] {
                w.float32(Float(v.x))
                w.float32(Float(v.y))
                w.float32(Float(v.z))
            }
            w.uint16(0)
        }
        return w.bytes
    }

    /// ASCII STL with coordinates printed to full double precision.
    static func writeASCII(_ mesh: TriangleMesh, destination: String) throws(FileFormatError) -> [UInt8] {
        try validateForWriting(mesh, destination: destination)
        var out = "solid coilnav\n"
        for t in mesh.triangles.indices {
            let n = mesh.faceNormal(t)
            let (a, b, c) = mesh.corners(t)
            out += "  facet normal \(shortestDecimal(n.x)) \(shortestDecimal(n.y)) \(shortestDecimal(n.z))\n    outer loop\n"
            for v in [a, b, c] {
                out += "      vertex \(shortestDecimal(v.x)) \(shortestDecimal(v.y)) \(shortestDecimal(v.z))\n"
            }
            out += "    endloop\n  endfacet\n"
        }
        out += "endsolid coilnav\n"
        return Array(out.utf8)
    }
}
