import Geometry

/// Wavefront OBJ geometry: `v x y z [w]` vertices and `f` faces whose corners are `v`,
/// `v/vt`, `v//vn` or `v/vt/vn`, with 1-based or negative (relative: −1 is the last vertex
/// so far) indices. Polygons are fan-triangulated; `#` starts a comment; every other
/// statement (`vt`, `vn`, `g`, `o`, `s`, `usemtl`, `mtllib`, `l`, `p` …) is ignored. Line
/// continuation with a trailing backslash is not supported.
enum OBJ {
    static func read(_ bytes: [UInt8], source: String) throws(FileFormatError) -> TriangleMesh {
        var lines = TextLines(bytes: bytes)
        var vertices: [Vector3] = []
        var triangles: [SIMD3<UInt32>] = []
        var polygon: [UInt32] = []
        var faceCount = 0
        /// Positive indices beyond the vertices read so far, checked once the file is read.
        var forward: [(line: Int, face: Int, corner: Int, index: Int)] = []
        while let line = lines.next() {
            let tokens = lines.tokens(line, stopAt: UInt8(ascii: "#"))
            guard let first = tokens.first else { continue }
            switch lines.text(first) {
            case "v":
                let field = "vertex \(vertices.count)"
                guard tokens.count >= 4 else {
                    throw FileFormatError.at(source, line: line.number, field: field, "expected \"v x y z\", got \(tokens.count - 1) numbers")
                }
                var v = Vector3.zero
                for k in 0..<3 {
                    let text = lines.text(tokens[k + 1])
                    guard let x = Double(text) else {
                        throw FileFormatError.at(source, line: line.number, field: "\(field), field \(["x", "y", "z"][k])", "expected a number, got \(quoted(text))")
                    }
                    guard x.isFinite else {
                        throw FileFormatError.at(source, line: line.number, field: "\(field), field \(["x", "y", "z"][k])", "not a finite number (\(text))")
                    }
                    v[k] = x
                }
                vertices.append(v)
            case "f":
                let face = faceCount
                faceCount += 1
                guard tokens.count >= 4 else {
                    throw FileFormatError.at(source, line: line.number, field: "face \(face)", "a face needs at least 3 vertices, got \(tokens.count - 1)")
                }
                polygon.removeAll(keepingCapacity: true)
                for (corner, token) in tokens.dropFirst().enumerated() {
                    let text = lines.text(token)
                    let field = "face \(face) index \(corner)"
                    let indexText = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]
                    guard let index = Int(indexText) else {
                        throw FileFormatError.at(source, line: line.number, field: field, "expected a vertex index, got \(quoted(text))")
                    }
                    if index == 0 {
                        throw FileFormatError.at(source, line: line.number, field: field, "vertex index 0 is not valid (OBJ indices start at 1)")
                    }
                    let resolved = index > 0 ? index - 1 : vertices.count + index
                    if index < 0, resolved < 0 {
                        throw FileFormatError.at(
                            source, line: line.number, field: field,
                            "relative vertex index \(index) reaches before the first vertex (\(vertices.count) read so far)")
                    }
                    if resolved >= vertices.count { forward.append((line.number, face, corner, index)) }
                    guard resolved <= Int(UInt32.max) else {
                        throw FileFormatError.at(source, line: line.number, field: field, "vertex index \(index) is out of range")
                    }
                    polygon.append(UInt32(resolved))
                }
                appendFan(polygon, to: &triangles)
            default:
                continue
            }
        }
        if let bad = forward.first(where: { $0.index > vertices.count }) {
            throw FileFormatError.at(
                source, line: bad.line, field: "face \(bad.face) index \(bad.corner)",
                "vertex index \(bad.index) is out of range (the file has \(vertices.count) vertices)")
        }
        guard !triangles.isEmpty else { throw FileFormatError(file: source, message: "the file has no faces") }
        return TriangleMesh(vertices: vertices, triangles: triangles)
    }

    /// `v x y z` lines at full double precision, then `f a b c` with 1-based indices.
    static func write(_ mesh: TriangleMesh, destination: String) throws(FileFormatError) -> [UInt8] {
        try validateForWriting(mesh, destination: destination)
        var out = "# CoilNav mesh: RAS millimetres\n"
        out.reserveCapacity(mesh.vertices.count * 40 + mesh.triangles.count * 24)
        for v in mesh.vertices {
            out += "v \(shortestDecimal(v.x)) \(shortestDecimal(v.y)) \(shortestDecimal(v.z))\n"
        }
        for t in mesh.triangles {
            out += "f \(t.x + 1) \(t.y + 1) \(t.z + 1)\n"
        }
        return Array(out.utf8)
    }
}
