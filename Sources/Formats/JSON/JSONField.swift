import Geometry

/// A JSON value together with its path from the root (`targets[2].coilToMRI`), so that every
/// check made while decoding reports the field and the line and column where the value starts.
package struct JSONField {
    package let value: JSONValue
    /// Dotted path with array indices, empty for the root.
    package let path: String
    package let document: JSONDocument

    /// An error about this value, located at its first character.
    package func error(_ message: String) -> FileFormatError {
        self.document.error(at: self.value, path: self.path, message)
    }

    private func typeError(_ expected: String) -> FileFormatError {
        self.error("expected \(expected), got \(self.value.summary)")
    }

    package func child(key: String, value: JSONValue) -> JSONField {
        JSONField(value: value, path: self.path.isEmpty ? key : "\(self.path).\(key)", document: self.document)
    }

    package func child(index: Int, value: JSONValue) -> JSONField {
        JSONField(value: value, path: "\(self.path)[\(index)]", document: self.document)
    }

    package func object() throws(FileFormatError) -> JSONObjectFields {
        guard case .object(let members) = self.value.kind else { throw self.typeError("an object") }
        return JSONObjectFields(field: self, members: members)
    }

    package func array() throws(FileFormatError) -> [JSONField] {
        guard case .array(let elements) = self.value.kind else { throw self.typeError("an array") }
        return elements.enumerated().map { self.child(index: $0.offset, value: $0.element) }
    }

    package func string() throws(FileFormatError) -> String {
        guard case .string(let s) = self.value.kind else { throw self.typeError("a string") }
        return s
    }

    package func bool() throws(FileFormatError) -> Bool {
        guard case .bool(let b) = self.value.kind else { throw self.typeError("true or false") }
        return b
    }

    /// A number (always finite: the parser refuses numbers that overflow a Double).
    package func number() throws(FileFormatError) -> Double {
        guard case .number(let x) = self.value.kind else { throw self.typeError("a number") }
        return x
    }

    /// A number that is at least 0.
    package func nonNegativeNumber() throws(FileFormatError) -> Double {
        let x = try self.number()
        guard x >= 0 else { throw self.error("must not be negative, got \(x)") }
        return x
    }

    /// A whole number (written with or without a fraction of zero) that fits an `Int`.
    package func integer() throws(FileFormatError) -> Int {
        guard case .number(let x) = self.value.kind else { throw self.typeError("a whole number") }
        guard x == x.rounded(), Swift.abs(x) <= 9.007_199_254_740_992e15 else {
            throw self.error("expected a whole number, got \(x)")
        }
        return Int(x)
    }

    /// An array of exactly `count` numbers.
    package func numbers(count: Int) throws(FileFormatError) -> [Double] {
        guard case .array(let elements) = self.value.kind else { throw self.typeError("an array of \(count) numbers") }
        guard elements.count == count else {
            throw self.error("expected an array of \(count) numbers, got \(elements.count) element\(elements.count == 1 ? "" : "s")")
        }
        var out: [Double] = []
        out.reserveCapacity(count)
        for (i, e) in elements.enumerated() {
            out.append(try self.child(index: i, value: e).number())
        }
        return out
    }

    /// A point or vector written as `[x, y, z]`.
    package func vector3() throws(FileFormatError) -> Vector3 {
        let v = try self.numbers(count: 3)
        return Vector3(v[0], v[1], v[2])
    }

    /// A rigid transform written as a 4×4 row-major matrix of nested arrays; the rotation part
    /// must be orthonormal with determinant +1 (checked by `RigidTransform(matrix4x4:)`).
    package func rigidTransform() throws(FileFormatError) -> RigidTransform {
        let rows = try self.array()
        guard rows.count == 4 else {
            throw self.error("expected a 4×4 matrix (an array of 4 rows of 4 numbers), got \(rows.count) row\(rows.count == 1 ? "" : "s")")
        }
        var m: [[Double]] = []
        for row in rows { m.append(try row.numbers(count: 4)) }
        do {
            return try RigidTransform(matrix4x4: m)
        } catch {
            throw self.error(error.description)
        }
    }
}

/// The members of a JSON object, looked up by key, for decoding with located errors.
package struct JSONObjectFields {
    package let field: JSONField
    package let members: [JSONValue.Member]

    /// The member's value, or `nil` when the key is absent or its value is `null`.
    package func optional(_ key: String) -> JSONField? {
        guard let m = self.members.first(where: { $0.key == key }) else { return nil }
        if case .null = m.value.kind { return nil }
        return self.field.child(key: key, value: m.value)
    }

    /// The member's value; its absence (or `null`) is an error located at the object.
    package func required(_ key: String) throws(FileFormatError) -> JSONField {
        guard let f = self.optional(key) else {
            let path = self.field.path.isEmpty ? key : "\(self.field.path).\(key)"
            throw self.field.document.error(at: self.field.value, path: path, "required field is missing")
        }
        return f
    }

    /// Refuses members whose key is not listed (catches misspelt keys in CoilNav's own files).
    package func rejectUnknownKeys(_ allowed: Set<String>) throws(FileFormatError) {
        for m in self.members where !allowed.contains(m.key) {
            let expected = allowed.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            let path = self.field.child(key: m.key, value: m.value).path
            throw self.field.document.error(atOffset: m.keyOffset, path: path, "unknown field (expected one of \(expected))")
        }
    }
}
