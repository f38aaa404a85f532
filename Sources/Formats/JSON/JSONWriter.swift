import Foundation

/// Writes `JSONValue`s as pretty-printed UTF-8 JSON that diffs well: 4-space indentation,
/// object members in the order they were built, arrays of plain values (numbers, strings,
/// booleans) on one line, arrays holding arrays or objects one element per line, and a final
/// newline. Whole numbers below 10¹⁵ are written without a fraction (`1`, `-12`); other numbers
/// use the shortest text that reads back to the same `Double` (`0.1`, `1e-05`).
package enum JSONWriter {
    /// Serialises a value. NaN and infinities cannot be written in JSON: they are an error
    /// naming `destination` and the path of the offending number.
    package static func serialize(_ value: JSONValue, destination: String) throws(FileFormatError) -> Data {
        var out = ""
        var path: [String] = []
        try Self.write(value, indent: 0, into: &out, path: &path, destination: destination)
        out += "\n"
        return Data(out.utf8)
    }

    private static func write(
        _ value: JSONValue, indent: Int, into out: inout String, path: inout [String], destination: String
    ) throws(FileFormatError) {
        switch value.kind {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .string(let s): Self.writeString(s, into: &out)
        case .number(let x):
            guard x.isFinite else {
                throw FileFormatError(
                    file: destination, field: Self.render(path),
                    message: "cannot write \(x): JSON has no representation for NaN or infinity")
            }
            out += shortestDecimal(x)
        case .array(let elements):
            if elements.isEmpty {
                out += "[]"
                return
            }
            let inline = elements.allSatisfy {
                switch $0.kind {
                case .array, .object: return false
                default: return true
                }
            }
            out += inline ? "[" : "[\n"
            for (i, e) in elements.enumerated() {
                if !inline { out += Self.spaces(indent + 1) }
                path.append("[\(i)]")
                try Self.write(e, indent: indent + 1, into: &out, path: &path, destination: destination)
                path.removeLast()
                if i < elements.count - 1 { out += inline ? ", " : ",\n" }
            }
            out += inline ? "]" : "\n" + Self.spaces(indent) + "]"
        case .object(let members):
            if members.isEmpty {
                out += "{}"
                return
            }
            out += "{\n"
            for (i, m) in members.enumerated() {
                out += Self.spaces(indent + 1)
                Self.writeString(m.key, into: &out)
                out += ": "
                path.append(path.isEmpty ? m.key : ".\(m.key)")
                try Self.write(m.value, indent: indent + 1, into: &out, path: &path, destination: destination)
                path.removeLast()
                out += i < members.count - 1 ? ",\n" : "\n"
            }
            out += Self.spaces(indent) + "}"
        }
    }

    private static func writeString(_ s: String, into out: inout String) {
        out += "\""
        out += jsonEscaped(s)
        out += "\""
    }

    private static func spaces(_ level: Int) -> String { String(repeating: " ", count: 4 * level) }

    private static func render(_ path: [String]) -> String? { path.isEmpty ? nil : path.joined() }
}

/// The body of a JSON string literal for `s`: quotes, backslashes and control characters
/// escaped (`\n`, `\t`, `\u0001` …), everything else as is.
package func jsonEscaped(_ s: String) -> String {
    var out = ""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        default:
            if scalar.value < 0x20 {
                let h = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}
