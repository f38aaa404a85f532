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
    /// time through a 256-entry table.
    public static func checksum<C: Collection>(_ bytes: C, initial: UInt64 = 0) -> UInt64 where C.Element == UInt8 {
        var crc = initial
        let table = self.table
        for byte in bytes {
            crc = table[Int(UInt8(truncatingIfNeeded: crc >> 56) ^ byte)] ^ (crc << 8)
        }
        return crc
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
