/// Whole numbers read from their literal text rather than from the parsed `Double`, so 64-bit
/// counters and nanosecond times above 2⁵³ stay exact.
extension JSONField {
    /// The number's literal text as written in the document.
    private func literal() throws(FileFormatError) -> String {
        guard case .number = self.value.kind else { throw self.error("expected a whole number, got \(self.value.summary)") }
        let bytes = self.document.bytes
        var k = self.value.offset
        var text = ""
        while k < bytes.count {
            let c = bytes[k]
            guard (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2B || c == 0x2E || c == 0x45 || c == 0x65 else { break }
            text.unicodeScalars.append(Unicode.Scalar(c))
            k += 1
        }
        return text
    }

    /// An unsigned integer in `0…max`, written without fraction or exponent.
    package func exactUnsigned(max: UInt64 = .max) throws(FileFormatError) -> UInt64 {
        let text = try self.literal()
        guard let n = UInt64(text), n <= max else {
            throw self.error("expected a whole number in 0…\(max) written without fraction or exponent, got \(text)")
        }
        return n
    }

    /// A signed 64-bit integer, written without fraction or exponent.
    package func exactSigned() throws(FileFormatError) -> Int64 {
        let text = try self.literal()
        guard let n = Int64(text) else {
            throw self.error("expected a whole number in \(Int64.min)…\(Int64.max) written without fraction or exponent, got \(text)")
        }
        return n
    }
}
