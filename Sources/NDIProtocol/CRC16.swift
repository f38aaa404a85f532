/// The CRC-16 of the NDI Combined API.
///
/// NDI documents it as the polynomial x¹⁶ + x¹⁵ + x² + 1 computed with an odd-parity table; it is
/// exactly the catalogued **CRC-16/ARC**: polynomial 0x8005 processed bit-reflected (shift right,
/// XOR 0xA001), initial value 0, input and output reflected, final XOR 0. Check value:
/// `NDICRC16.checksum("123456789".utf8) == 0xBB3D`.
///
/// Where the protocol uses it:
/// - **Commands** carry it as 4 uppercase hex digits after the parameters, computed over every
///   byte from the first letter of the name through the last parameter character (the `:` is
///   included): `INIT:` → `INIT:E3A5\r`.
/// - **ASCII replies** carry it as 4 hex digits before the final CR, computed over everything
///   before it (embedded LFs included): `OKAYA896\r`.
/// - **BX binary replies** carry it twice, little-endian: over the 4 header bytes, and over the
///   body.
///
/// Because the CRC is reflected with initial value and final XOR 0, appending the CRC low byte
/// then high byte to the data gives a CRC of 0 over the whole (`checksum(data + [lo, hi]) == 0`).
public enum NDICRC16 {
    /// The CRC of `bytes`, continuing from `seed` (the CRC of the bytes before them; 0 to start).
    @inlinable
    public static func checksum(_ bytes: some Sequence<UInt8>, seed: UInt16 = 0) -> UInt16 {
        var crc = seed
        for byte in bytes {
            crc = (crc >> 8) ^ Self.table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)]
        }
        return crc
    }

    /// The CRC one bit at a time, straight from the definition (no table). The table-driven
    /// `checksum` must agree with it on every input; it is public so tests can say so.
    public static func bitwiseChecksum(_ bytes: some Sequence<UInt8>, seed: UInt16 = 0) -> UInt16 {
        var crc = seed
        for byte in bytes {
            crc ^= UInt16(byte)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1
            }
        }
        return crc
    }

    /// The CRC as it is written in commands and ASCII replies: 4 uppercase hex digits (ASCII),
    /// most significant first.
    public static func hexDigits(_ crc: UInt16) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4)
        Hex.append(UInt64(crc), digits: 4, to: &out)
        return out
    }

    /// The 256-entry lookup table: entry `i` is the CRC of the single byte `i`.
    @usableFromInline
    static let table: [UInt16] = (0..<256).map { i in
        var crc = UInt16(i)
        for _ in 0..<8 {
            crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1
        }
        return crc
    }
}

/// Hexadecimal and decimal helpers on ASCII bytes. Internal to the codec.
enum Hex {
    static let uppercaseDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Appends `value` as exactly `digits` uppercase hex digits (the low `4 × digits` bits).
    static func append(_ value: UInt64, digits: Int, to out: inout [UInt8]) {
        var shift = (digits - 1) * 4
        while shift >= 0 {
            out.append(Self.uppercaseDigits[Int((value >> UInt64(shift)) & 0xF)])
            shift -= 4
        }
    }

    /// `value` as exactly `digits` uppercase hex digits, as a String.
    static func string(_ value: UInt64, digits: Int) -> String {
        var out: [UInt8] = []
        Self.append(value, digits: digits, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The value of one hex digit (either case), or nil.
    @inline(__always)
    static func digitValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// Parses all of `bytes` as hex digits (either case); nil if empty, too long for 64 bits, or
    /// not all hex.
    static func parse(_ bytes: some Collection<UInt8>) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 16 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard let d = Self.digitValue(byte) else { return nil }
            value = value << 4 | UInt64(d)
        }
        return value
    }

    /// Parses all of `bytes` as decimal digits; nil if empty, not all digits, or over 18 digits.
    static func parseDecimal(_ bytes: some Collection<UInt8>) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// Appends `value` in decimal (no padding).
    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        out.append(contentsOf: String(value).utf8)
    }

    /// `0x` followed by `digits` uppercase hex digits, for messages.
    static func display(_ value: UInt64, digits: Int) -> String {
        "0x" + Self.string(value, digits: digits)
    }
}

/// Renders bytes for error messages: printable ASCII as is, CR/LF as `\r`/`\n`, anything else
/// as `\xNN`.
func quotedASCII(_ bytes: some Collection<UInt8>) -> String {
    var s = "\""
    for byte in bytes {
        switch byte {
        case 0x0D: s += "\\r"
        case 0x0A: s += "\\n"
        case UInt8(ascii: "\""): s += "\\\""
        case UInt8(ascii: "\\"): s += "\\\\"
        case 0x20...0x7E: s.unicodeScalars.append(Unicode.Scalar(byte))
        default: s += "\\x" + Hex.string(UInt64(byte), digits: 2)
        }
    }
    return s + "\""
}
