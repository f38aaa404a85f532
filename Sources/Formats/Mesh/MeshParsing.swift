import Geometry

// Shared machinery of the mesh readers and writers: a bounds-checked binary reader, a line
// splitter for the text formats, and byte-order-explicit writing.

/// Reads little- or big-endian scalars from a byte array. Callers check `remaining` before
/// reading, so they can report truncation in terms of the element being read.
struct ByteReader {
    let bytes: [UInt8]
    var offset: Int
    let bigEndian: Bool

    init(bytes: [UInt8], offset: Int = 0, bigEndian: Bool) {
        self.bytes = bytes
        self.offset = offset
        self.bigEndian = bigEndian
    }

    var remaining: Int { self.bytes.count - self.offset }

    mutating func uint8() -> UInt8 {
        defer { self.offset += 1 }
        return self.bytes[self.offset]
    }

    mutating func uint16() -> UInt16 {
        let a = UInt16(self.bytes[self.offset]), b = UInt16(self.bytes[self.offset + 1])
        self.offset += 2
        return self.bigEndian ? (a << 8 | b) : (b << 8 | a)
    }

    mutating func uint32() -> UInt32 {
        var v: UInt32 = 0
        if self.bigEndian {
            for k in 0..<4 { v = v << 8 | UInt32(self.bytes[self.offset + k]) }
        } else {
            for k in (0..<4).reversed() { v = v << 8 | UInt32(self.bytes[self.offset + k]) }
        }
        self.offset += 4
        return v
    }

    mutating func uint64() -> UInt64 {
        var v: UInt64 = 0
        if self.bigEndian {
            for k in 0..<8 { v = v << 8 | UInt64(self.bytes[self.offset + k]) }
        } else {
            for k in (0..<8).reversed() { v = v << 8 | UInt64(self.bytes[self.offset + k]) }
        }
        self.offset += 8
        return v
    }

    mutating func int32() -> Int32 { Int32(bitPattern: self.uint32()) }
    mutating func float32() -> Float { Float(bitPattern: self.uint32()) }
    mutating func float64() -> Double { Double(bitPattern: self.uint64()) }
}

/// Appends scalars in a chosen byte order.
struct ByteWriter {
    var bytes: [UInt8] = []
    let bigEndian: Bool

    init(bigEndian: Bool, capacity: Int = 0) {
        self.bigEndian = bigEndian
        self.bytes.reserveCapacity(capacity)
    }

    mutating func append(_ text: String) { self.bytes.append(contentsOf: text.utf8) }
    mutating func uint8(_ v: UInt8) { self.bytes.append(v) }

    mutating func uint16(_ v: UInt16) {
        let b = [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)]
        self.bytes.append(contentsOf: self.bigEndian ? b.reversed() : b)
    }

    mutating func uint32(_ v: UInt32) {
        for k in 0..<4 {
            let shift = self.bigEndian ? (3 - k) * 8 : k * 8
            self.bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(shift)))
        }
    }

    mutating func uint64(_ v: UInt64) {
        for k in 0..<8 {
            let shift = self.bigEndian ? (7 - k) * 8 : k * 8
            self.bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift)))
        }
    }

    mutating func int32(_ v: Int32) { self.uint32(UInt32(bitPattern: v)) }
    mutating func float32(_ v: Float) { self.uint32(v.bitPattern) }
    mutating func float64(_ v: Double) { self.uint64(v.bitPattern) }
}

/// One line of a text file: its 1-based number and byte range (without the line break).
struct TextLine {
    let number: Int
    let start: Int
    let end: Int
}

/// Splits bytes into lines ending in `\n`, `\r\n` (or the end of the data).
struct TextLines {
    let bytes: [UInt8]
    private(set) var position: Int
    private(set) var lineNumber: Int

    init(bytes: [UInt8], from position: Int = 0, firstLineNumber: Int = 1) {
        self.bytes = bytes
        self.position = position
        self.lineNumber = firstLineNumber - 1
    }

    mutating func next() -> TextLine? {
        guard self.position < self.bytes.count else { return nil }
        let start = self.position
        var end = start
        while end < self.bytes.count, self.bytes[end] != 0x0A { end += 1 }
        self.position = end < self.bytes.count ? end + 1 : end
        self.lineNumber += 1
        let contentEnd = end > start && self.bytes[end - 1] == 0x0D ? end - 1 : end
        return TextLine(number: self.lineNumber, start: start, end: contentEnd)
    }

    /// The whitespace-separated tokens of a line, as byte ranges.
    func tokens(_ line: TextLine, stopAt comment: UInt8? = nil) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var i = line.start
        while i < line.end {
            while i < line.end, Self.isSpace(self.bytes[i]) { i += 1 }
            if i >= line.end || self.bytes[i] == comment { break }
            let s = i
            while i < line.end, !Self.isSpace(self.bytes[i]), self.bytes[i] != comment { i += 1 }
            out.append(s..<i)
            if i < line.end, self.bytes[i] == comment { break }
        }
        return out
    }

    func text(_ range: Range<Int>) -> String { String(decoding: self.bytes[range], as: UTF8.self) }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0B || b == 0x0C }
}

/// Fan-triangulates a polygon `v0 v1 … vn-1` as (v0, v1, v2), (v0, v2, v3), … keeping its
/// winding.
func appendFan(_ polygon: [UInt32], to triangles: inout [SIMD3<UInt32>]) {
    guard polygon.count >= 3 else { return }
    for k in 1..<(polygon.count - 1) {
        triangles.append(SIMD3(polygon[0], polygon[k], polygon[k + 1]))
    }
}

/// Indexes triangle soup (STL) by merging vertices with bit-identical coordinates
/// (`-0` and `+0` are merged).
struct VertexWelder {
    private(set) var vertices: [Vector3] = []
    private var index: [SIMD3<UInt64>: UInt32] = [:]

    mutating func add(_ v: Vector3) -> UInt32 {
        let key = SIMD3((v.x + 0).bitPattern, (v.y + 0).bitPattern, (v.z + 0).bitPattern)
        if let i = self.index[key] { return i }
        let i = UInt32(self.vertices.count)
        self.vertices.append(v)
        self.index[key] = i
        return i
    }
}

/// The checks every mesh writer makes first, so that what is written reads back: at least one
/// triangle, finite coordinates, indices in range.
func validateForWriting(_ mesh: TriangleMesh, destination: String) throws(FileFormatError) {
    do {
        try mesh.validate()
    } catch {
        switch error {
        case .empty: throw FileFormatError(file: destination, message: "cannot write a mesh without triangles")
        case .nonFiniteVertex(let i):
            throw FileFormatError(file: destination, field: "vertex \(i)", message: "cannot write a coordinate that is not a finite number")
        case .indexOutOfRange(let t, let i, let n):
            throw FileFormatError(
                file: destination, field: "triangle \(t)", message: "refers to vertex \(i), but the mesh has \(n) vertices")
        }
    }
}

/// For formats that store 32-bit floats: every coordinate must fit.
func checkFitsFloat32(_ mesh: TriangleMesh, destination: String) throws(FileFormatError) {
    for (i, v) in mesh.vertices.enumerated() {
        for k in 0..<3 where !Float(v[k]).isFinite {
            throw FileFormatError(
                file: destination, field: "vertex \(i)", message: "the coordinate \(v[k]) does not fit in a 32-bit float")
        }
    }
}

/// The shortest decimal text that reads back to the same finite `Double`: whole numbers below
/// 10¹⁵ without a fraction (`12`, `-3`), others as Swift prints them (`0.1`, `1e-05`).
package func shortestDecimal(_ x: Double) -> String {
    if x == x.rounded(), Swift.abs(x) < 1e15 { return String(Int64(x)) }
    return x.description
}
