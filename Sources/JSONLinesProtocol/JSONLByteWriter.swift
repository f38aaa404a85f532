/// The byte-level JSON writing the encoders share: static keys, escaped strings, integers and
/// doubles appended straight into a caller's `[UInt8]`, without building intermediate `String`s.
enum JSONLBytes {
    /// Appends a static ASCII/UTF-8 text (keys and punctuation) as is.
    @inline(__always)
    static func raw(_ s: StaticString, into out: inout [UInt8]) {
        s.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    @inline(__always)
    static func byte(_ b: UInt8, into out: inout [UInt8]) { out.append(b) }

    /// A JSON string literal: quotes, backslashes and control characters escaped (`\"`, `\\`,
    /// `\n`, `\r`, `\t`, `\b`, `\f`, `\u0001` …); everything else, including non-ASCII, as UTF-8.
    static func string(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            for b in bytes {
                switch b {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(b)
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(b)
                case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
                case 0x08: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
                case 0..<0x20:
                    Self.raw("\\u00", into: &out)
                    out.append(Self.hexDigit(b >> 4))
                    out.append(Self.hexDigit(b & 0xF))
                default: out.append(b)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A string or `null`.
    static func string(_ s: String?, into out: inout [UInt8]) {
        if let s { Self.string(s, into: &out) } else { Self.raw("null", into: &out) }
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "A") + v - 10 }

    /// An unsigned integer in decimal.
    static func unsigned(_ v: UInt64, into out: inout [UInt8]) {
        if v == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        // At most 20 digits; written into a fixed tuple-free scratch by counting first.
        var digits = 0
        var t = v
        while t > 0 { digits += 1; t /= 10 }
        let start = out.count
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits))
        var k = start + digits - 1
        t = v
        while t > 0 {
            out[k] = UInt8(ascii: "0") + UInt8(t % 10)
            t /= 10
            k -= 1
        }
    }

    /// A signed integer in decimal.
    static func integer(_ v: Int64, into out: inout [UInt8]) {
        if v < 0 {
            out.append(UInt8(ascii: "-"))
            Self.unsigned(v.magnitude, into: &out)
        } else {
            Self.unsigned(UInt64(v), into: &out)
        }
    }

    static func bool(_ b: Bool, into out: inout [UInt8]) {
        if b { Self.raw("true", into: &out) } else { Self.raw("false", into: &out) }
    }

    /// A double as Swift's `description` writes it (the shortest text that reads back to the same
    /// bits: `0.1`, `1.0`, `-0.0`, `1e-05`, `5e+20`); NaN and infinities as `null`. The digits go
    /// through `TextOutputStreamable`, which hands them over as an ASCII buffer (no `String`).
    static func double(_ x: Double, into out: inout [UInt8]) {
        guard x.isFinite else {
            Self.raw("null", into: &out)
            return
        }
        var sink = ByteSink()
        swap(&sink.bytes, &out)
        x.write(to: &sink)
        swap(&sink.bytes, &out)
    }

    /// A double or `null`.
    static func double(_ x: Double?, into out: inout [UInt8]) {
        if let x { Self.double(x, into: &out) } else { Self.raw("null", into: &out) }
    }

    /// `[x,y,z]`.
    static func vector(_ v: SIMD3<Double>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        Self.double(v.x, into: &out)
        out.append(UInt8(ascii: ","))
        Self.double(v.y, into: &out)
        out.append(UInt8(ascii: ","))
        Self.double(v.z, into: &out)
        out.append(UInt8(ascii: "]"))
    }
}

/// A `TextOutputStream` over a byte array, so `Double.write(to:)` can append its digits directly.
struct ByteSink: TextOutputStream {
    var bytes: [UInt8] = []

    mutating func write(_ string: String) {
        self.bytes.append(contentsOf: string.utf8)
    }

    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
        self.bytes.append(contentsOf: buffer)
    }
}
