import Foundation

/// Encodes command results as JSON: keys sorted (stable output for scripts and diffs), slashes
/// unescaped, one object per document.
enum JSONOutput {
    static func string<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .throw
        let data = try e.encode(value)
        return String(decoding: data, as: UTF8.self)
    }

    static func print<T: Encodable>(_ value: T) throws {
        Swift.print(try self.string(value))
    }
}

/// Formats a number for people: fixed decimals, no "-0.00".
func fixed(_ x: Double, _ decimals: Int = 2) -> String {
    let s = String(format: "%.\(decimals)f", x)
    if s.hasPrefix("-"), Double(s) == 0 { return String(s.dropFirst()) }
    return s
}

/// Writes to standard error.
func printError(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}
