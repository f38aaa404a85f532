import Formats
import Foundation

extension JSONLRequest {
    /// The longest request line accepted, bytes before the `\n` (a `\r` before it counts).
    public static let maxLineBytes = 65_536

    /// Parses one request line (without its `\n`; a trailing `\r` is allowed) strictly:
    /// the line must be one JSON object (RFC 8259, no duplicate keys) with a string `cmd` naming a
    /// command, an optional `id` (number or string) and `token` (string), and exactly the parameters
    /// the command takes, each of the right type and range.
    ///
    /// Errors carry a code (`bad-json`, `bad-request`, `missing-field`, `bad-field`, `unknown-field`,
    /// `unknown-command`, `line-too-long`) and a message naming the field or the column, and the
    /// request's `id` whenever it could be read first.
    public static func parse(_ line: some Collection<UInt8>) throws(JSONLRequestError) -> JSONLRequest {
        var bytes = Array(line)
        if bytes.last == 0x0D { bytes.removeLast() }
        guard bytes.count <= Self.maxLineBytes else {
            throw JSONLRequestError(
                code: .lineTooLong,
                message: "the line is \(bytes.count) bytes long (the limit is \(Self.maxLineBytes) bytes)")
        }
        let document: JSONDocument
        do {
            document = try JSONDocument.parse(Data(bytes), source: "request")
        } catch {
            let line = error.line ?? 1
            let column = error.column ?? 1
            let offset = Self.byteOffset(line: line, column: column, in: bytes)
            let text = error.message.replacingOccurrences(of: "the file", with: "the line")
            throw JSONLRequestError(
                code: .badJSON, message: "malformed JSON at column \(column) (byte \(offset)): \(text)", column: column,
                byteOffset: UInt64(offset))
        }
        var reader = RequestReader(bytes: bytes)
        return try reader.read(document.rootField)
    }

    /// Parses a request given as text (tests, tools).
    public static func parse(_ line: String) throws(JSONLRequestError) -> JSONLRequest {
        try Self.parse(Array(line.utf8))
    }

    /// The 0-based byte offset of a 1-based line and column (columns count Unicode scalars, as the
    /// Formats parser counts them; a leading byte-order mark is not counted).
    static func byteOffset(line: Int, column: Int, in bytes: [UInt8]) -> Int {
        var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var l = 1
        while l < line, i < bytes.count {
            if bytes[i] == 0x0A { l += 1 }
            i += 1
        }
        var c = 1
        while c < column, i < bytes.count {
            i += 1
            while i < bytes.count, bytes[i] & 0xC0 == 0x80 { i += 1 }
            c += 1
        }
        return i
    }
}

/// Decodes the root object of a request line into a `JSONLRequest`.
private struct RequestReader {
    let bytes: [UInt8]
    var id: JSONLRequestID?
    var commandName = ""

    init(bytes: [UInt8]) { self.bytes = bytes }

    static let common: Set<String> = ["id", "cmd", "token"]
    /// The bytes a JSON number token is made of.
    static let numberBytes: Set<UInt8> = Set("+-.eE0123456789".utf8)
    static let parameters: [String: [String]] = [
        "select-target": ["name"],
        "subscribe": ["frames", "events", "maxRateHz"],
        "capture-fiducial": ["name", "frames"],
        "capture-poses": ["tools", "frames"],
        "clear-captures": ["what"],
        "register": ["refine"],
        "pulse": ["timeNanoseconds", "ageMilliseconds", "intensityPercentMSO", "label"],
    ]

    mutating func read(_ root: JSONField) throws(JSONLRequestError) -> JSONLRequest {
        guard case .object = root.value.kind, let object = try? root.object() else {
            throw JSONLRequestError(code: .badRequest, message: "a request must be a JSON object, got \(root.value.summary)")
        }
        if let f = object.optional("id") {
            switch f.value.kind {
            case .number(let x): self.id = .number(x)
            case .string(let s): self.id = .string(s)
            default:
                throw JSONLRequestError(
                    code: .badField, message: "field \"id\": expected a number or a string, got \(f.value.summary)",
                    field: "id")
            }
        }
        var token: String? = nil
        if let f = object.optional("token") { token = try self.convert("token") { () throws(FileFormatError) in try f.string() } }
        guard let cmdField = object.optional("cmd") else {
            throw self.error(.missingField, field: "cmd", "field \"cmd\" is missing (every request names its command)")
        }
        let name = try self.convert("cmd") { () throws(FileFormatError) in try cmdField.string() }
        guard JSONLCommand.names.contains(name) else {
            throw self.error(
                .unknownCommand, field: "cmd",
                "unknown command \(quoted(name)) (known: \(JSONLCommand.names.joined(separator: ", ")))")
        }
        self.commandName = name
        let params = Self.parameters[name] ?? []
        for m in object.members where !Self.common.contains(m.key) && !params.contains(m.key) {
            let takes =
                params.isEmpty
                ? "\(name) takes no parameters" : "\(name) takes \(params.map { "\"\($0)\"" }.joined(separator: ", "))"
            throw self.error(.unknownField, field: m.key, "unknown field \(quoted(m.key)) (\(takes))")
        }
        let command = try self.command(name, object)
        return JSONLRequest(id: self.id, token: token, command: command)
    }

    private func command(_ name: String, _ o: JSONObjectFields) throws(JSONLRequestError) -> JSONLCommand {
        switch name {
        case "hello": return .hello
        case "status": return .status
        case "targets": return .targets
        case "unsubscribe": return .unsubscribe
        case "capture-scalp-point": return .captureScalpPoint
        case "accept-registration": return .acceptRegistration
        case "select-target": return .selectTarget(name: try self.name(o))
        case "subscribe":
            var s = JSONLSubscription()
            if let f = o.optional("frames") { s.frames = try self.convert("frames") { () throws(FileFormatError) in try f.bool() } }
            if let f = o.optional("events") { s.events = try self.convert("events") { () throws(FileFormatError) in try f.bool() } }
            if let f = o.optional("maxRateHz") {
                let r = try self.convert("maxRateHz") { () throws(FileFormatError) in try f.nonNegativeNumber() }
                s.maxRateHz = r > 0 ? r : nil
            }
            return .subscribe(s)
        case "capture-fiducial":
            let n = try self.name(o)
            var frames = 10
            if let f = o.optional("frames") {
                frames = try self.convert("frames") { () throws(FileFormatError) in try f.integer() }
                guard (1...1000).contains(frames) else {
                    throw self.error(.badField, field: "frames", "field \"frames\": must be between 1 and 1000, got \(frames)")
                }
            }
            return .captureFiducial(name: n, frames: frames)
        case "capture-poses":
            guard let f = o.optional("tools") else { throw self.missing("tools") }
            let items = try self.convert("tools") { () throws(FileFormatError) in try f.array() }
            var tools: [String] = []
            for (i, item) in items.enumerated() {
                let t = try self.convert("tools[\(i)]") { () throws(FileFormatError) in try item.string() }
                guard !t.isEmpty, !tools.contains(t) else {
                    throw self.error(.badField, field: "tools", "field \"tools\": names must be non-empty and distinct, got \(quoted(t)) at \(i)")
                }
                tools.append(t)
            }
            guard (1...4).contains(tools.count) else {
                throw self.error(.badField, field: "tools", "field \"tools\": 1 to 4 tool names, got \(tools.count)")
            }
            var frames = 10
            if let f = o.optional("frames") {
                frames = try self.convert("frames") { () throws(FileFormatError) in try f.integer() }
                guard (1...1000).contains(frames) else {
                    throw self.error(.badField, field: "frames", "field \"frames\": must be between 1 and 1000, got \(frames)")
                }
            }
            return .capturePoses(tools: tools, frames: frames)
        case "clear-captures":
            guard let f = o.optional("what") else { throw self.missing("what") }
            let text = try self.convert("what") { () throws(FileFormatError) in try f.string() }
            guard let kind = JSONLCaptureKind(rawValue: text) else {
                throw self.error(
                    .badField, field: "what", "field \"what\": expected \"fiducials\", \"scalp\" or \"all\", got \(quoted(text))")
            }
            return .clearCaptures(kind)
        case "register":
            var refine = false
            if let f = o.optional("refine") { refine = try self.convert("refine") { () throws(FileFormatError) in try f.bool() } }
            return .register(refine: refine)
        case "pulse":
            return .pulse(try self.pulse(o))
        default:
            // `read` only passes known names.
            throw self.error(.unknownCommand, field: "cmd", "unknown command \(quoted(name))")
        }
    }

    private func name(_ o: JSONObjectFields) throws(JSONLRequestError) -> String {
        guard let f = o.optional("name") else { throw self.missing("name") }
        let n = try self.convert("name") { () throws(FileFormatError) in try f.string() }
        guard !n.isEmpty else { throw self.error(.badField, field: "name", "field \"name\": must not be empty") }
        return n
    }

    private func pulse(_ o: JSONObjectFields) throws(JSONLRequestError) -> JSONLPulse {
        var p = JSONLPulse()
        let timeField = o.optional("timeNanoseconds")
        let ageField = o.optional("ageMilliseconds")
        if timeField != nil, ageField != nil {
            throw self.error(
                .badField, field: "ageMilliseconds",
                "fields \"timeNanoseconds\" and \"ageMilliseconds\" exclude each other (give at most one)")
        }
        if let f = timeField { p.time = .serverNanoseconds(try self.nanoseconds(f, key: "timeNanoseconds")) }
        if let f = ageField {
            p.time = .ageMilliseconds(try self.convert("ageMilliseconds") { () throws(FileFormatError) in try f.nonNegativeNumber() })
        }
        if let f = o.optional("intensityPercentMSO") {
            let x = try self.convert("intensityPercentMSO") { () throws(FileFormatError) in try f.number() }
            guard x >= 0, x <= 100 else {
                throw self.error(
                    .badField, field: "intensityPercentMSO", "field \"intensityPercentMSO\": must be between 0 and 100, got \(x)")
            }
            p.intensityPercentMSO = x
        }
        if let f = o.optional("label") { p.label = try self.convert("label") { () throws(FileFormatError) in try f.string() } }
        return p
    }

    /// A whole number of nanoseconds read exactly from the line's digits (a `Double` would round
    /// clock readings above 2⁵³).
    private func nanoseconds(_ f: JSONField, key: String) throws(JSONLRequestError) -> UInt64 {
        guard case .number = f.value.kind else {
            throw self.error(.badField, field: key, "field \"\(key)\": expected a whole number of nanoseconds, got \(f.value.summary)")
        }
        var end = f.value.offset
        while end < self.bytes.count, Self.numberBytes.contains(self.bytes[end]) { end += 1 }
        let text = self.bytes[f.value.offset..<end]
        var value: UInt64 = 0
        var valid = !text.isEmpty
        for b in text {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { valid = false; break }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(b - UInt8(ascii: "0")))
            guard !o1, !o2 else { valid = false; break }
            value = s
        }
        guard valid else {
            throw self.error(
                .badField, field: key,
                "field \"\(key)\": expected a whole number of nanoseconds from 0 to \(UInt64.max), got \(String(decoding: text, as: UTF8.self))")
        }
        return value
    }

    private func convert<T>(_ key: String, _ body: () throws(FileFormatError) -> T) throws(JSONLRequestError) -> T {
        do {
            return try body()
        } catch {
            throw self.error(.badField, field: key, "field \"\(key)\": \(error.message)")
        }
    }

    private func missing(_ key: String) -> JSONLRequestError {
        self.error(.missingField, field: key, "field \"\(key)\" is missing (\(self.commandName) requires it)")
    }

    private func error(_ code: JSONLErrorCode, field: String?, _ message: String) -> JSONLRequestError {
        JSONLRequestError(code: code, message: message, id: self.id, field: field)
    }
}
