import Foundation

/// A parsed JSON text together with its bytes, so any value's offset can be turned into the
/// line and column a person sees in an editor.
package struct JSONDocument: Sendable {
    /// The file name or source name used in error messages.
    package let source: String
    let bytes: [UInt8]
    let root: JSONValue

    /// Parses a complete JSON text strictly (RFC 8259: no comments, no trailing commas, no
    /// NaN; a leading UTF-8 byte-order mark is skipped; duplicate keys in one object are an
    /// error). Syntax errors carry the line and column of the offending character.
    package static func parse(_ data: Data, source: String) throws(FileFormatError) -> JSONDocument {
        try Self.parse(bytes: [UInt8](data), source: source)
    }

    /// Parses a complete JSON text given as UTF-8 bytes, by the same rules (for callers that hold
    /// bytes rather than `Data`, such as the readout's server lines).
    package static func parse(bytes: [UInt8], source: String) throws(FileFormatError) -> JSONDocument {
        var parser = JSONParser(bytes: bytes)
        do {
            let root = try parser.parseDocument()
            return JSONDocument(source: source, bytes: bytes, root: root)
        } catch {
            let (line, column) = Self.lineAndColumn(of: error.offset, in: bytes)
            throw .at(source, line: line, column: column, error.message)
        }
    }

    /// The 1-based line and column of a byte offset. Columns count Unicode scalars, so a
    /// multi-byte character is one column; a leading byte-order mark is not counted.
    static func lineAndColumn(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        let end = Swift.min(Swift.max(offset, 0), bytes.count)
        var line = 1
        var lineStart = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        for k in 0..<end where bytes[k] == 0x0A {
            line += 1
            lineStart = k + 1
        }
        var column = 1
        if lineStart < end {
            for k in lineStart..<end where bytes[k] & 0xC0 != 0x80 { column += 1 }
        }
        return (line, column)
    }

    /// The root value, for path-tracking decoding.
    package var rootField: JSONField { JSONField(value: self.root, path: "", document: self) }

    /// An error located at a value of this document.
    package func error(at value: JSONValue, path: String, _ message: String) -> FileFormatError {
        self.error(atOffset: value.offset, path: path, message)
    }

    /// An error located at a byte offset of this document.
    package func error(atOffset offset: Int, path: String, _ message: String) -> FileFormatError {
        let (line, column) = Self.lineAndColumn(of: offset, in: self.bytes)
        return .at(self.source, line: line, column: column, field: path.isEmpty ? nil : path, message)
    }
}

/// A recursive-descent parser for RFC 8259 JSON over UTF-8 bytes.
struct JSONParser {
    struct Failure: Error {
        var offset: Int
        var message: String
    }

    /// Deeper nesting is refused rather than risking the stack on hostile input.
    static let maxDepth = 256

    let bytes: [UInt8]
    private var index = 0
    private var depth = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func parseDocument() throws(Failure) -> JSONValue {
        if self.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { self.index = 3 }
        self.skipWhitespace()
        guard self.index < self.bytes.count else {
            throw Failure(offset: self.index, message: "the file is empty (expected a JSON value)")
        }
        let value = try self.parseValue()
        self.skipWhitespace()
        if self.index < self.bytes.count {
            throw Failure(offset: self.index, message: "unexpected \(self.describe(at: self.index)) after the end of the JSON value")
        }
        return value
    }

    // MARK: Values

    private mutating func parseValue() throws(Failure) -> JSONValue {
        guard self.index < self.bytes.count else {
            throw Failure(offset: self.index, message: "the file ends where a value was expected")
        }
        let start = self.index
        switch self.bytes[start] {
        case UInt8(ascii: "{"): return try self.parseObject()
        case UInt8(ascii: "["): return try self.parseArray()
        case UInt8(ascii: "\""): return JSONValue(.string(try self.parseString()), offset: start)
        case UInt8(ascii: "t"): try self.expectLiteral("true"); return JSONValue(.bool(true), offset: start)
        case UInt8(ascii: "f"): try self.expectLiteral("false"); return JSONValue(.bool(false), offset: start)
        case UInt8(ascii: "n"): try self.expectLiteral("null"); return JSONValue(.null, offset: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try self.parseNumber()
        default:
            throw Failure(offset: start, message: "expected a value, got \(self.describe(at: start))")
        }
    }

    private mutating func parseObject() throws(Failure) -> JSONValue {
        let start = self.index
        try self.enterContainer(at: start)
        self.index += 1
        var members: [JSONValue.Member] = []
        var keys: Set<String> = []
        self.skipWhitespace()
        if self.peek == UInt8(ascii: "}") {
            self.index += 1
            self.depth -= 1
            return JSONValue(.object(members), offset: start)
        }
        while true {
            self.skipWhitespace()
            let keyStart = self.index
            guard self.peek == UInt8(ascii: "\"") else {
                throw self.unexpected(expecting: "a member name in double quotes", inside: "an object")
            }
            let key = try self.parseString()
            guard keys.insert(key).inserted else {
                throw Failure(offset: keyStart, message: "duplicate key \(quoted(key)) in one object")
            }
            self.skipWhitespace()
            guard self.peek == UInt8(ascii: ":") else {
                throw self.unexpected(expecting: "':' after the member name", inside: "an object")
            }
            self.index += 1
            self.skipWhitespace()
            let value = try self.parseValue()
            members.append(JSONValue.Member(key: key, value: value, keyOffset: keyStart))
            self.skipWhitespace()
            if self.peek == UInt8(ascii: ",") {
                self.index += 1
                continue
            }
            if self.peek == UInt8(ascii: "}") {
                self.index += 1
                break
            }
            throw self.unexpected(expecting: "',' or '}' after an object member", inside: "an object")
        }
        self.depth -= 1
        return JSONValue(.object(members), offset: start)
    }

    private mutating func parseArray() throws(Failure) -> JSONValue {
        let start = self.index
        try self.enterContainer(at: start)
        self.index += 1
        var elements: [JSONValue] = []
        self.skipWhitespace()
        if self.peek == UInt8(ascii: "]") {
            self.index += 1
            self.depth -= 1
            return JSONValue(.array(elements), offset: start)
        }
        while true {
            self.skipWhitespace()
            if self.index >= self.bytes.count {
                throw self.unexpected(expecting: "a value", inside: "an array")
            }
            elements.append(try self.parseValue())
            self.skipWhitespace()
            if self.peek == UInt8(ascii: ",") {
                self.index += 1
                continue
            }
            if self.peek == UInt8(ascii: "]") {
                self.index += 1
                break
            }
            throw self.unexpected(expecting: "',' or ']' after an array element", inside: "an array")
        }
        self.depth -= 1
        return JSONValue(.array(elements), offset: start)
    }

    private mutating func enterContainer(at offset: Int) throws(Failure) {
        self.depth += 1
        if self.depth > Self.maxDepth {
            throw Failure(offset: offset, message: "arrays and objects are nested more than \(Self.maxDepth) levels deep")
        }
    }

    /// Parses a string starting at the opening quote and returns its contents.
    private mutating func parseString() throws(Failure) -> String {
        let start = self.index
        self.index += 1
        var buffer: [UInt8] = []
        var runStart = self.index
        while true {
            guard self.index < self.bytes.count else {
                throw Failure(offset: start, message: "the string starting here is not terminated (missing closing '\"')")
            }
            let b = self.bytes[self.index]
            if b == UInt8(ascii: "\"") {
                buffer.append(contentsOf: self.bytes[runStart..<self.index])
                self.index += 1
                break
            }
            if b < 0x20 {
                throw Failure(
                    offset: self.index,
                    message: "control character U+\(Self.hex4(UInt32(b))) inside a string (write it as an escape such as \\n)")
            }
            if b == UInt8(ascii: "\\") {
                buffer.append(contentsOf: self.bytes[runStart..<self.index])
                try self.parseEscape(into: &buffer)
                runStart = self.index
                continue
            }
            self.index += 1
        }
        guard let s = String(validating: buffer, as: UTF8.self) else {
            throw Failure(offset: start, message: "the string is not valid UTF-8")
        }
        return s
    }

    private mutating func parseEscape(into buffer: inout [UInt8]) throws(Failure) {
        let escapeStart = self.index
        self.index += 1
        guard self.index < self.bytes.count else {
            throw Failure(offset: escapeStart, message: "the file ends inside an escape sequence")
        }
        let c = self.bytes[self.index]
        self.index += 1
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(c)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try self.hexQuad(escapeStart: escapeStart)
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard self.index + 1 < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\\"),
                    self.bytes[self.index + 1] == UInt8(ascii: "u")
                else {
                    throw Failure(offset: escapeStart, message: "unpaired surrogate \\u\(Self.hex4(scalar)) in a string")
                }
                let lowStart = self.index
                self.index += 2
                let low = try self.hexQuad(escapeStart: lowStart)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw Failure(offset: escapeStart, message: "unpaired surrogate \\u\(Self.hex4(scalar)) in a string")
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw Failure(offset: escapeStart, message: "unpaired surrogate \\u\(Self.hex4(scalar)) in a string")
            }
            buffer.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
        default:
            let shown = c > 0x20 && c < 0x7F ? "\\\(Character(Unicode.Scalar(c)))" : "\\ followed by \(self.describeByte(c))"
            throw Failure(offset: escapeStart, message: "invalid escape sequence \(shown) in a string")
        }
    }

    private mutating func hexQuad(escapeStart: Int) throws(Failure) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard self.index < self.bytes.count, let d = Self.hexDigit(self.bytes[self.index]) else {
                throw Failure(offset: escapeStart, message: "\\u must be followed by four hexadecimal digits")
            }
            v = v << 4 | d
            self.index += 1
        }
        return v
    }

    private mutating func parseNumber() throws(Failure) -> JSONValue {
        let start = self.index
        if self.peek == UInt8(ascii: "-") { self.index += 1 }
        guard let first = self.peek, Self.isDigit(first) else {
            throw Failure(offset: self.index, message: "invalid number: expected a digit after '-'")
        }
        self.index += 1
        if first == UInt8(ascii: "0"), let next = self.peek, Self.isDigit(next) {
            throw Failure(offset: start, message: "invalid number: leading zeros are not allowed in JSON")
        }
        if first != UInt8(ascii: "0") { self.skipDigits() }
        if self.peek == UInt8(ascii: ".") {
            self.index += 1
            guard let d = self.peek, Self.isDigit(d) else {
                throw Failure(offset: self.index, message: "invalid number: expected a digit after the decimal point")
            }
            self.skipDigits()
        }
        if self.peek == UInt8(ascii: "e") || self.peek == UInt8(ascii: "E") {
            self.index += 1
            if self.peek == UInt8(ascii: "+") || self.peek == UInt8(ascii: "-") { self.index += 1 }
            guard let d = self.peek, Self.isDigit(d) else {
                throw Failure(offset: self.index, message: "invalid number: expected a digit in the exponent")
            }
            self.skipDigits()
        }
        let text = String(decoding: self.bytes[start..<self.index], as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw Failure(offset: start, message: "the number \(text) is too large for a 64-bit float")
        }
        return JSONValue(.number(value), offset: start)
    }

    private mutating func expectLiteral(_ word: String) throws(Failure) {
        let start = self.index
        for b in word.utf8 {
            guard self.index < self.bytes.count, self.bytes[self.index] == b else {
                throw Failure(offset: start, message: "invalid literal (expected true, false, null, a number, a string, an array or an object)")
            }
            self.index += 1
        }
        if let next = self.peek, Self.isIdentifierByte(next) {
            throw Failure(offset: start, message: "invalid literal (expected true, false, null, a number, a string, an array or an object)")
        }
    }

    // MARK: Helpers

    private var peek: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

    private mutating func skipWhitespace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
            default: return
            }
        }
    }

    private mutating func skipDigits() {
        while let b = self.peek, Self.isDigit(b) { self.index += 1 }
    }

    private func unexpected(expecting what: String, inside container: String) -> Failure {
        if self.index >= self.bytes.count {
            return Failure(offset: self.index, message: "the file ends inside \(container) (expected \(what))")
        }
        return Failure(offset: self.index, message: "expected \(what), got \(self.describe(at: self.index))")
    }

    /// The character at an offset, quoted for a message (`','`, `'é'`, `U+0000`).
    private func describe(at offset: Int) -> String {
        guard offset < self.bytes.count else { return "the end of the file" }
        let lead = self.bytes[offset]
        if lead < 0x80 { return self.describeByte(lead) }
        var length = 1
        while offset + length < self.bytes.count, length < 4, self.bytes[offset + length] & 0xC0 == 0x80 { length += 1 }
        if let s = String(validating: self.bytes[offset..<(offset + length)], as: UTF8.self) { return "'\(s)'" }
        return "the byte 0x\(String(lead, radix: 16, uppercase: true)) (not valid UTF-8)"
    }

    private func describeByte(_ b: UInt8) -> String {
        if b < 0x20 || b == 0x7F { return "U+\(Self.hex4(UInt32(b)))" }
        if b >= 0x80 { return "the byte 0x\(String(b, radix: 16, uppercase: true))" }
        return "'\(Character(Unicode.Scalar(b)))'"
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private static func isIdentifierByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || Self.isDigit(b)
    }

    private static func hexDigit(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private static func hex4(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: Swift.max(0, 4 - s.count)) + s
    }
}
