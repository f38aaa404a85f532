/// Big-endian writing into a byte array.
extension Array where Element == UInt8 {
    @inlinable mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        var v = value.bigEndian
        Swift.withUnsafeBytes(of: &v) { self.append(contentsOf: $0) }
    }

    @inlinable mutating func appendBigEndian(_ value: Float) {
        self.appendBigEndian(value.bitPattern)
    }

    /// Writes `bytes` NUL-padded to exactly `width` bytes; the caller has checked the length.
    @inlinable mutating func appendPadded(_ bytes: [UInt8], width: Int) {
        self.append(contentsOf: bytes)
        self.append(contentsOf: repeatElement(0, count: width - bytes.count))
    }

    @inlinable mutating func storeBigEndian(_ value: UInt64, at index: Int) {
        for i in 0..<8 {
            self[index + i] = UInt8(truncatingIfNeeded: value >> (56 - 8 * i))
        }
    }
}

/// Big-endian reading from a byte array; `base` is the message offset of `bytes[0]`, for error
/// messages.
struct ByteReader {
    let bytes: [UInt8]
    var index: Int
    let end: Int
    let base: Int

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil, base: Int) {
        self.bytes = bytes
        self.index = start
        self.end = end ?? bytes.count
        self.base = base
    }

    var remaining: Int { self.end - self.index }
    /// Message offset of the next byte.
    var offset: Int { self.base + self.index }

    mutating func read<T: FixedWidthInteger>(_: T.Type) -> T {
        precondition(self.remaining >= MemoryLayout<T>.size)
        var v: T = 0
        for _ in 0..<MemoryLayout<T>.size {
            v = v << 8 | T(self.bytes[self.index])
            self.index += 1
        }
        return v
    }

    mutating func readFloat() -> Float {
        Float(bitPattern: self.read(UInt32.self))
    }

    mutating func readBytes(_ count: Int) -> [UInt8] {
        precondition(self.remaining >= count)
        let out = Array(self.bytes[self.index..<self.index + count])
        self.index += count
        return out
    }
}

/// Name and string fields.
enum TextField {
    /// The bytes of a NUL-padded ASCII field of `width` bytes, or an error naming `field`.
    static func encode(_ text: String, width: Int, field: String, offset: Int, allowEmpty: Bool = true)
        throws(IGTLError) -> [UInt8]
    {
        let bytes = Array(text.utf8)
        if bytes.count > width {
            throw IGTLError(
                .invalidName,
                field: field,
                offset: offset,
                "\"\(text)\" is \(bytes.count) bytes, the field holds \(width)"
            )
        }
        if !allowEmpty && bytes.isEmpty {
            throw IGTLError(.invalidName, field: field, offset: offset, "must not be empty")
        }
        if let i = bytes.firstIndex(where: { $0 < 0x20 || $0 > 0x7E }) {
            throw IGTLError(
                .invalidName,
                field: field,
                offset: offset + i,
                "\"\(text)\" has a byte 0x\(hex2(bytes[i])) that is not printable ASCII"
            )
        }
        return bytes
    }

    /// The text of a NUL-padded field: the bytes before the first NUL (all of them when the field
    /// is full), which must be ASCII. Bytes after the NUL are ignored, as the C library does.
    static func decode(_ bytes: ArraySlice<UInt8>, field: String, offset: Int) throws(IGTLError) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        let text = bytes[bytes.startIndex..<end]
        if let i = text.firstIndex(where: { $0 > 0x7F }) {
            throw IGTLError(
                .invalidName,
                field: field,
                offset: offset + (i - bytes.startIndex),
                "byte 0x\(hex2(bytes[i])) is not ASCII"
            )
        }
        return String(decoding: text, as: UTF8.self)
    }
}

func hex2(_ b: UInt8) -> String {
    let s = String(b, radix: 16, uppercase: true)
    return s.count == 1 ? "0" + s : s
}

func hex16(_ v: UInt64) -> String {
    let s = String(v, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: 16 - s.count) + s
}
