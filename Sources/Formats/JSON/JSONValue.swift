import Geometry

/// A JSON value as the module's strict parser reads it (RFC 8259), remembering where in the
/// file it starts so later checks can report a line and column; also the model the writers
/// build (there the offset is unused).
package struct JSONValue: Equatable, Sendable {
    package enum Kind: Equatable, Sendable {
        case null
        case bool(Bool)
        case number(Double)
        case string(String)
        case array([JSONValue])
        /// Members in file order (the writer keeps this order, so output is deterministic).
        case object([Member])
    }

    package struct Member: Equatable, Sendable {
        package var key: String
        package var value: JSONValue
        /// Byte offset of the key's opening quote in the parsed text.
        var keyOffset: Int = 0
    }

    package var kind: Kind
    /// Byte offset of the value's first character in the parsed text.
    package var offset: Int

    package init(_ kind: Kind, offset: Int = 0) {
        self.kind = kind
        self.offset = offset
    }

    package static func bool(_ b: Bool) -> JSONValue { JSONValue(.bool(b)) }
    package static func number(_ x: Double) -> JSONValue { JSONValue(.number(x)) }
    package static func number(_ i: Int) -> JSONValue { JSONValue(.number(Double(i))) }
    package static func string(_ s: String) -> JSONValue { JSONValue(.string(s)) }
    package static func array(_ a: [JSONValue]) -> JSONValue { JSONValue(.array(a)) }
    package static func numbers(_ a: [Double]) -> JSONValue { JSONValue(.array(a.map { JSONValue.number($0) })) }
    package static func vector(_ v: Vector3) -> JSONValue { .numbers([v.x, v.y, v.z]) }

    /// An object from key–value pairs, in the order given; `nil` values are left out, so
    /// optional fields simply disappear from the output.
    package static func object(_ members: KeyValuePairs<String, JSONValue?>) -> JSONValue {
        JSONValue(.object(members.compactMap { k, v in v.map { Member(key: k, value: $0) } }))
    }

    /// A short description of the value's type for error messages (`a string "abc"`, `an array`).
    package var summary: String {
        switch self.kind {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let x): return "the number \(x)"
        case .string(let s): return "the string \(quoted(s))"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
