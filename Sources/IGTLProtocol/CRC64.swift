/// The CRC-64 OpenIGTLink puts in every header (bytes 50–57): ECMA-182, most significant bit
/// first, polynomial 0x42F0E1EBA9EA3693, initial value 0, no reflection, no final XOR
/// (`protocols.md` §3.1). check("123456789") = 0x6C40DF5F0B497347.
///
/// The checksum covers the whole body: for header version 2 that is the extended header, the
/// content and the metadata.
public enum IGTLCRC64 {
    /// The generator polynomial without its x⁶⁴ term.
    public static let polynomial: UInt64 = 0x42F0_E1EB_A9EA_3693

    /// One entry per value of the top byte: the remainder of that byte followed by 56 zero bits.
    static let table: [UInt64] = (0..<256).map { (byte: Int) -> UInt64 in
        var crc = UInt64(byte) << 56
        for _ in 0..<8 {
            crc = (crc & (1 << 63)) != 0 ? (crc << 1) ^ IGTLCRC64.polynomial : crc << 1
        }
        return crc
    }

    /// The checksum of `bytes`, continuing from `initial` (0 for a fresh checksum), a byte at a
    /// time through a 256-entry table. Contiguous bytes (arrays, slices) are read through a
    /// pointer, without bounds checks.
    public static func checksum<C: Collection>(_ bytes: C, initial: UInt64 = 0) -> UInt64 where C.Element == UInt8 {
        if let crc = bytes.withContiguousStorageIfAvailable({ Self.checksum(buffer: $0, initial: initial) }) { return crc }
        var crc = initial
        let table = self.table
        for byte in bytes {
            crc = table[Int(UInt8(truncatingIfNeeded: crc >> 56) ^ byte)] ^ (crc << 8)
        }
        return crc
    }

    /// Eight tables for eight bytes at a time ("slicing-by-8"): `slices[k·256 + b]` is the remainder of
    /// byte `b` followed by 56 + 8k zero bits, so a 64-bit word's top byte (the earliest on the wire)
    /// uses the last table.
    static let slices: [UInt64] = {
        var out = IGTLCRC64.table
        for k in 1..<8 {
            for b in 0..<256 {
                let previous = out[(k - 1) * 256 + b]
                out.append(IGTLCRC64.table[Int(previous >> 56)] ^ (previous << 8))
            }
        }
        return out
    }()

    /// The checksum of a contiguous buffer: eight bytes per step through `slices`, the tail a byte
    /// at a time.
    public static func checksum(buffer: UnsafeBufferPointer<UInt8>, initial: UInt64 = 0) -> UInt64 {
        self.slices.withUnsafeBufferPointer { t in
            var crc = initial
            var i = 0
            let n = buffer.count
            while i + 8 <= n {
                var word: UInt64 = 0
                for j in 0..<8 { word = word << 8 | UInt64(buffer[i + j]) }
                let x = crc ^ word
                crc = t[7 * 256 + Int(x >> 56)] ^ t[6 * 256 + Int((x >> 48) & 0xFF)] ^ t[5 * 256 + Int((x >> 40) & 0xFF)]
                    ^ t[4 * 256 + Int((x >> 32) & 0xFF)] ^ t[3 * 256 + Int((x >> 24) & 0xFF)]
                    ^ t[2 * 256 + Int((x >> 16) & 0xFF)] ^ t[256 + Int((x >> 8) & 0xFF)] ^ t[Int(x & 0xFF)]
                i += 8
            }
            while i < n {
                crc = t[Int(UInt8(truncatingIfNeeded: crc >> 56) ^ buffer[i])] ^ (crc << 8)
                i += 1
            }
            return crc
        }
    }

    /// The same checksum bit by bit, straight from the definition. Slow; tests compare the two.
    public static func bitwiseChecksum<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var crc: UInt64 = 0
        for byte in bytes {
            crc ^= UInt64(byte) << 56
            for _ in 0..<8 {
                crc = (crc & (1 << 63)) != 0 ? (crc << 1) ^ self.polynomial : crc << 1
            }
        }
        return crc
    }
}
