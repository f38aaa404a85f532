import Geometry

/// Stanford PLY (polygon file format), ASCII and binary, little- and big-endian.
///
/// Reading takes `x`, `y`, `z` from `element vertex` (any scalar type; other vertex properties
/// such as normals or colours are skipped) and the list property `vertex_indices` (or
/// `vertex_index`) from `element face`, with any list count and integer index types. Polygons
/// are fan-triangulated; other elements are skipped.
enum PLY {
    enum Encoding: Equatable {
        case ascii, binaryLittleEndian, binaryBigEndian
    }

    enum ScalarType: Equatable {
        case int8, uint8, int16, uint16, int32, uint32, float32, float64

        init?(name: String) {
            switch name {
            case "char", "int8": self = .int8
            case "uchar", "uint8": self = .uint8
            case "short", "int16": self = .int16
            case "ushort", "uint16": self = .uint16
            case "int", "int32": self = .int32
            case "uint", "uint32": self = .uint32
            case "float", "float32": self = .float32
            case "double", "float64": self = .float64
            default: return nil
            }
        }

        var size: Int {
            switch self {
            case .int8, .uint8: return 1
            case .int16, .uint16: return 2
            case .int32, .uint32, .float32: return 4
            case .float64: return 8
            }
        }

        var isInteger: Bool { self != .float32 && self != .float64 }
    }

    struct Property {
        enum Kind {
            case scalar(ScalarType)
            case list(count: ScalarType, item: ScalarType)
        }
        let name: String
        let kind: Kind
    }

    struct Element {
        let name: String
        let count: Int
        var properties: [Property]
        /// The header line declaring the element, for errors about it.
        let line: Int

        /// Size in bytes of one instance in a binary file, when it has no list properties.
        var fixedSize: Int? {
            var s = 0
            for p in self.properties {
                guard case .scalar(let t) = p.kind else { return nil }
                s += t.size
            }
            return s
        }
    }

    struct Header {
        var encoding: Encoding
        var elements: [Element]
        /// Byte offset of the first byte after `end_header` and its line break.
        var bodyOffset: Int
        /// Line number of the first body line (ASCII).
        var bodyLine: Int
    }

    // MARK: Header

    static func parseHeader(_ bytes: [UInt8], source: String) throws(FileFormatError) -> Header {
        var lines = TextLines(bytes: bytes)
        guard let first = lines.next(), lines.text(first.start..<first.end) == "ply" else {
            throw FileFormatError.at(source, line: 1, "not a PLY file (the first line must be \"ply\")")
        }
        var encoding: Encoding? = nil
        var elements: [Element] = []
        while true {
            guard let line = lines.next() else {
                throw FileFormatError.at(source, line: lines.lineNumber + 1, "the header has no \"end_header\" line")
            }
            let tokens = lines.tokens(line).map { lines.text($0) }
            guard let keyword = tokens.first else { continue }
            func fail(_ message: String) -> FileFormatError { .at(source, line: line.number, message) }
            switch keyword {
            case "comment", "obj_info":
                continue
            case "format":
                guard encoding == nil else { throw fail("a second \"format\" line") }
                guard tokens.count == 3 else { throw fail("expected \"format <ascii|binary_little_endian|binary_big_endian> 1.0\"") }
                switch tokens[1] {
                case "ascii": encoding = .ascii
                case "binary_little_endian": encoding = .binaryLittleEndian
                case "binary_big_endian": encoding = .binaryBigEndian
                default: throw fail("unknown PLY format \(quoted(tokens[1])) (expected ascii, binary_little_endian or binary_big_endian)")
                }
                guard tokens[2] == "1.0" else { throw fail("unsupported PLY version \(quoted(tokens[2])) (expected 1.0)") }
            case "element":
                guard tokens.count == 3 else { throw fail("expected \"element <name> <count>\"") }
                guard let count = Int(tokens[2]), count >= 0 else {
                    throw FileFormatError.at(
                        source, line: line.number, field: "element \(tokens[1]) count",
                        "expected a non-negative whole number, got \(quoted(tokens[2]))")
                }
                elements.append(Element(name: tokens[1], count: count, properties: [], line: line.number))
            case "property":
                guard !elements.isEmpty else { throw fail("a property before any element") }
                let property: Property
                if tokens.count >= 2, tokens[1] == "list" {
                    guard tokens.count == 5 else { throw fail("expected \"property list <count type> <item type> <name>\"") }
                    guard let countType = ScalarType(name: tokens[2]), countType.isInteger else {
                        throw fail("the count type of a list must be an integer type, got \(quoted(tokens[2]))")
                    }
                    guard let itemType = ScalarType(name: tokens[3]) else { throw fail("unknown type \(quoted(tokens[3]))") }
                    property = Property(name: tokens[4], kind: .list(count: countType, item: itemType))
                } else {
                    guard tokens.count == 3 else { throw fail("expected \"property <type> <name>\"") }
                    guard let type = ScalarType(name: tokens[1]) else { throw fail("unknown type \(quoted(tokens[1]))") }
                    property = Property(name: tokens[2], kind: .scalar(type))
                }
                elements[elements.count - 1].properties.append(property)
            case "end_header":
                guard let encoding else { throw fail("the header has no \"format\" line") }
                return Header(encoding: encoding, elements: elements, bodyOffset: lines.position, bodyLine: line.number + 1)
            default:
                throw fail("unknown header keyword \(quoted(keyword))")
            }
        }
    }

    // MARK: Reading

    /// What the reader extracts from the vertex and face elements.
    private struct Roles {
        let vertexElement: Int
        let faceElement: Int
        /// Property indices of x, y, z in the vertex element.
        let xyz: [Int]
        /// Property index of the face index list.
        let indices: Int
    }

    private static func roles(_ header: Header, source: String) throws(FileFormatError) -> Roles {
        guard let v = header.elements.firstIndex(where: { $0.name == "vertex" }) else {
            throw FileFormatError(file: source, message: "the header declares no \"element vertex\"")
        }
        guard let f = header.elements.firstIndex(where: { $0.name == "face" }) else {
            throw FileFormatError(file: source, message: "the header declares no \"element face\": the file holds points, not a surface")
        }
        var xyz: [Int] = []
        for axis in ["x", "y", "z"] {
            guard let p = header.elements[v].properties.firstIndex(where: { $0.name == axis }) else {
                throw FileFormatError.at(source, line: header.elements[v].line, field: "element vertex", "no property \(axis)")
            }
            guard case .scalar = header.elements[v].properties[p].kind else {
                throw FileFormatError.at(source, line: header.elements[v].line, field: "element vertex", "property \(axis) must be a number, not a list")
            }
            xyz.append(p)
        }
        guard
            let i = header.elements[f].properties.firstIndex(where: { $0.name == "vertex_indices" || $0.name == "vertex_index" })
        else {
            throw FileFormatError.at(source, line: header.elements[f].line, field: "element face", "no list property vertex_indices (or vertex_index)")
        }
        guard case .list(_, let item) = header.elements[f].properties[i].kind, item.isInteger else {
            throw FileFormatError.at(
                source, line: header.elements[f].line, field: "element face", "\(header.elements[f].properties[i].name) must be a list of integers")
        }
        guard header.elements[v].count <= Int(UInt32.max) else {
            throw FileFormatError.at(source, line: header.elements[v].line, field: "element vertex count", "more vertices than CoilNav can index (2³² − 1)")
        }
        return Roles(vertexElement: v, faceElement: f, xyz: xyz, indices: i)
    }

    static func read(_ bytes: [UInt8], source: String) throws(FileFormatError) -> TriangleMesh {
        let header = try Self.parseHeader(bytes, source: source)
        let roles = try Self.roles(header, source: source)
        let vertexCount = header.elements[roles.vertexElement].count
        var vertices: [Vector3] = []
        vertices.reserveCapacity(Swift.min(vertexCount, bytes.count))
        var triangles: [SIMD3<UInt32>] = []
        triangles.reserveCapacity(Swift.min(header.elements[roles.faceElement].count, bytes.count))
        if header.encoding == .ascii {
            try Self.readASCII(bytes, header: header, roles: roles, source: source, vertices: &vertices, triangles: &triangles)
        } else {
            try Self.readBinary(bytes, header: header, roles: roles, source: source, vertices: &vertices, triangles: &triangles)
        }
        guard !triangles.isEmpty else {
            throw FileFormatError(file: source, message: "the file has no faces with 3 or more vertices")
        }
        return TriangleMesh(vertices: vertices, triangles: triangles)
    }

    private static func readASCII(
        _ bytes: [UInt8], header: Header, roles: Roles, source: String, vertices: inout [Vector3], triangles: inout [SIMD3<UInt32>]
    ) throws(FileFormatError) {
        var lines = TextLines(bytes: bytes, from: header.bodyOffset, firstLineNumber: header.bodyLine)
        let vertexCount = header.elements[roles.vertexElement].count
        var polygon: [UInt32] = []
        for (e, element) in header.elements.enumerated() {
            for instance in 0..<element.count {
                var line: TextLine
                var tokens: [Range<Int>]
                repeat {
                    guard let l = lines.next() else {
                        throw FileFormatError.at(
                            source, line: lines.lineNumber + 1, field: "\(element.name) \(instance)",
                            "the file ends early: the header declares \(element.count) \(element.name) elements but the file has \(instance)")
                    }
                    line = l
                    tokens = lines.tokens(l)
                } while tokens.isEmpty
                var t = 0
                var xyz = Vector3.zero
                for (p, property) in element.properties.enumerated() {
                    func field(_ suffix: String = "") -> String { "\(element.name) \(instance), field \(property.name)\(suffix)" }
                    func nextToken(_ fieldName: String) throws(FileFormatError) -> String {
                        guard t < tokens.count else {
                            throw FileFormatError.at(source, line: line.number, field: fieldName, "the line ends before this value")
                        }
                        defer { t += 1 }
                        return lines.text(tokens[t])
                    }
                    switch property.kind {
                    case .scalar(let type):
                        let text = try nextToken(field())
                        let isCoordinate = e == roles.vertexElement && roles.xyz.contains(p)
                        let value: Double
                        if type.isInteger {
                            guard let i = Int(text) else {
                                throw FileFormatError.at(source, line: line.number, field: field(), "expected a whole number, got \(quoted(text))")
                            }
                            value = Double(i)
                        } else {
                            guard let v = Double(text) else {
                                throw FileFormatError.at(source, line: line.number, field: field(), "expected a number, got \(quoted(text))")
                            }
                            value = v
                        }
                        if isCoordinate {
                            guard value.isFinite else {
                                throw FileFormatError.at(source, line: line.number, field: field(), "not a finite number (\(text))")
                            }
                            xyz[roles.xyz.firstIndex(of: p)!] = value
                        }
                    case .list(_, let itemType):
                        let countText = try nextToken(field(" count"))
                        guard let count = Int(countText), count >= 0 else {
                            throw FileFormatError.at(
                                source, line: line.number, field: field(" count"), "expected a non-negative whole number, got \(quoted(countText))")
                        }
                        let isFaceIndices = e == roles.faceElement && p == roles.indices
                        if isFaceIndices { polygon.removeAll(keepingCapacity: true) }
                        for k in 0..<count {
                            let itemField = isFaceIndices ? "face \(instance) index \(k)" : field("[\(k)]")
                            let text = try nextToken(itemField)
                            if itemType.isInteger || isFaceIndices {
                                guard let v = Int(text) else {
                                    throw FileFormatError.at(source, line: line.number, field: itemField, "expected a whole number, got \(quoted(text))")
                                }
                                if isFaceIndices {
                                    guard v >= 0, v < vertexCount else {
                                        throw FileFormatError.at(
                                            source, line: line.number, field: itemField,
                                            "vertex index \(v) is out of range (the file has \(vertexCount) vertices)")
                                    }
                                    polygon.append(UInt32(v))
                                }
                            } else if Double(text) == nil {
                                throw FileFormatError.at(source, line: line.number, field: itemField, "expected a number, got \(quoted(text))")
                            }
                        }
                        if isFaceIndices {
                            guard count >= 3 else {
                                throw FileFormatError.at(
                                    source, line: line.number, field: "face \(instance)", "a face needs at least 3 vertices, got \(count)")
                            }
                            appendFan(polygon, to: &triangles)
                        }
                    }
                }
                if t < tokens.count {
                    throw FileFormatError.at(
                        source, line: line.number, field: "\(element.name) \(instance)",
                        "unexpected extra value \(quoted(lines.text(tokens[t]))) at the end of the line")
                }
                if e == roles.vertexElement { vertices.append(xyz) }
            }
        }
        while let line = lines.next() {
            if !lines.tokens(line).isEmpty {
                throw FileFormatError.at(source, line: line.number, "unexpected content after the last element declared in the header")
            }
        }
    }

    private static func readBinary(
        _ bytes: [UInt8], header: Header, roles: Roles, source: String, vertices: inout [Vector3], triangles: inout [SIMD3<UInt32>]
    ) throws(FileFormatError) {
        var reader = ByteReader(bytes: bytes, offset: header.bodyOffset, bigEndian: header.encoding == .binaryBigEndian)
        let vertexCount = header.elements[roles.vertexElement].count
        var polygon: [UInt32] = []
        for (e, element) in header.elements.enumerated() {
            let fixedSize = element.fixedSize
            for instance in 0..<element.count {
                let start = reader.offset
                func truncated(needing needed: Int) -> FileFormatError {
                    let left = bytes.count - start
                    if left == 0 {
                        return .at(
                            source, byte: start, field: "\(element.name) \(instance)",
                            "file ends before the \(element.name) (the header declares \(element.count) \(element.name) elements, the file holds \(instance))")
                    }
                    return .at(
                        source, byte: start, field: "\(element.name) \(instance)",
                        "file ends inside the \(element.name) (needs \(needed) bytes, \(left) left)")
                }
                if let fixedSize, reader.remaining < fixedSize { throw truncated(needing: fixedSize) }
                var xyz = Vector3.zero
                for (p, property) in element.properties.enumerated() {
                    switch property.kind {
                    case .scalar(let type):
                        if fixedSize == nil, reader.remaining < type.size { throw truncated(needing: reader.offset - start + type.size) }
                        if e == roles.vertexElement, let axis = roles.xyz.firstIndex(of: p) {
                            let valueOffset = reader.offset
                            let v = Self.readNumber(type, from: &reader)
                            guard v.isFinite else {
                                throw FileFormatError.at(
                                    source, byte: valueOffset, field: "vertex \(instance), field \(property.name)", "not a finite number (\(v))")
                            }
                            xyz[axis] = v
                        } else {
                            reader.offset += type.size
                        }
                    case .list(let countType, let itemType):
                        if reader.remaining < countType.size { throw truncated(needing: reader.offset - start + countType.size) }
                        let count = Self.readNumber(countType, from: &reader)
                        guard count >= 0 else {
                            throw FileFormatError.at(
                                source, byte: reader.offset - countType.size, field: "\(element.name) \(instance), field \(property.name) count",
                                "a list cannot have \(Int(count)) items")
                        }
                        let n = Int(count)
                        let listBytes = n * itemType.size
                        if reader.remaining < listBytes { throw truncated(needing: reader.offset - start + listBytes) }
                        guard e == roles.faceElement, p == roles.indices else {
                            reader.offset += listBytes
                            continue
                        }
                        guard n >= 3 else {
                            throw FileFormatError.at(source, byte: start, field: "face \(instance)", "a face needs at least 3 vertices, got \(n)")
                        }
                        polygon.removeAll(keepingCapacity: true)
                        for k in 0..<n {
                            let indexOffset = reader.offset
                            let v = Self.readNumber(itemType, from: &reader)
                            guard v >= 0, v < Double(vertexCount) else {
                                throw FileFormatError.at(
                                    source, byte: indexOffset, field: "face \(instance) index \(k)",
                                    "vertex index \(Int(v)) is out of range (the file has \(vertexCount) vertices)")
                            }
                            polygon.append(UInt32(v))
                        }
                        appendFan(polygon, to: &triangles)
                    }
                }
                if e == roles.vertexElement { vertices.append(xyz) }
            }
        }
        if reader.remaining > 0 {
            let declared = header.elements.map { "\($0.count) \($0.name)" }.joined(separator: ", ")
            throw FileFormatError.at(
                source, byte: reader.offset,
                "\(reader.remaining) bytes after the last element (the header declares \(declared))")
        }
    }

    /// Reads one binary scalar as a Double (exact for every PLY integer type).
    private static func readNumber(_ type: ScalarType, from reader: inout ByteReader) -> Double {
        switch type {
        case .int8: return Double(Int8(bitPattern: reader.uint8()))
        case .uint8: return Double(reader.uint8())
        case .int16: return Double(Int16(bitPattern: reader.uint16()))
        case .uint16: return Double(reader.uint16())
        case .int32: return Double(reader.int32())
        case .uint32: return Double(reader.uint32())
        case .float32: return Double(reader.float32())
        case .float64: return reader.float64()
        }
    }

    // MARK: Writing

    /// Writes `x y z` as doubles (exact round trip) and faces as `list uchar int vertex_indices`.
    static func write(_ mesh: TriangleMesh, encoding: Encoding, destination: String) throws(FileFormatError) -> [UInt8] {
        try validateForWriting(mesh, destination: destination)
        guard mesh.vertices.count <= Int(Int32.max) else {
            throw FileFormatError(file: destination, message: "PLY face indices are written as int: at most 2³¹ − 1 vertices")
        }
        let format: String
        switch encoding {
        case .ascii: format = "ascii"
        case .binaryLittleEndian: format = "binary_little_endian"
        case .binaryBigEndian: format = "binary_big_endian"
        }
        var w = ByteWriter(bigEndian: encoding == .binaryBigEndian, capacity: 200 + mesh.vertices.count * 24 + mesh.triangles.count * 13)
        w.append(
            """
            ply
            format \(format) 1.0
            comment CoilNav mesh: RAS millimetres
            element vertex \(mesh.vertices.count)
            property double x
            property double y
            property double z
            element face \(mesh.triangles.count)
            property list uchar int vertex_indices
            end_header

            """)
        if encoding == .ascii {
            for v in mesh.vertices {
                w.append("\(shortestDecimal(v.x)) \(shortestDecimal(v.y)) \(shortestDecimal(v.z))\n")
            }
            for t in mesh.triangles {
                w.append("3 \(t.x) \(t.y) \(t.z)\n")
            }
        } else {
            for v in mesh.vertices {
                w.float64(v.x)
                w.float64(v.y)
                w.float64(v.z)
            }
            for t in mesh.triangles {
                w.uint8(3)
                w.int32(Int32(t.x))
                w.int32(Int32(t.y))
                w.int32(Int32(t.z))
            }
        }
        return w.bytes
    }
}
