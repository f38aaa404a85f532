import Foundation
import Testing

@testable import Formats

/// The strict JSON reader and the deterministic writer under the plan, registration and
/// markups formats.
@Suite struct JSONTests {
    private func parse(_ text: String) throws(FileFormatError) -> JSONValue {
        try JSONDocument.parse(Data(text.utf8), source: "t.json").root
    }

    private func syntaxError(_ text: String) -> FileFormatError? {
        do {
            _ = try self.parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesAllValueKinds() throws {
        let v = try self.parse(#"{"a": [1, -2.5e1, 0.125], "b": {"c": null, "d": true, "e": false}, "s": "x\"\\\/\n\u00e9\ud83d\ude00"}"#)
        guard case .object(let members) = v.kind else {
            Issue.record("expected an object")
            return
        }
        #expect(members.map(\.key) == ["a", "b", "s"])
        #expect(members[0].value.kind == .array([JSONValue(.number(1), offset: 7), JSONValue(.number(-25), offset: 10), JSONValue(.number(0.125), offset: 18)]))
        #expect(members[2].value.kind == .string("x\"\\/\né😀"))
        guard case .object(let inner) = members[1].value.kind else {
            Issue.record("expected an inner object")
            return
        }
        #expect(inner.map(\.value.kind) == [.null, .bool(true), .bool(false)])
    }

    @Test func syntaxErrorReportsLineAndColumn() {
        let text = "{\n  \"a\": [1, 2,, 3]\n}\n"
        let e = self.syntaxError(text)
        #expect(e?.line == 2)
        #expect(e?.column == 14)
        #expect(e?.description == "t.json: line 2, column 14: expected a value, got ','")
    }

    @Test func columnsCountCharactersNotBytes() {
        // "é" is two bytes in UTF-8 but one column; the stray 'x' is the 8th character of line 3.
        let e = self.syntaxError("{\n\"k\": 1,\n\"é\": 2 x\n}")
        #expect(e?.line == 3)
        #expect(e?.column == 8)
        #expect(e?.message == "expected ',' or '}' after an object member, got 'x'")
    }

    @Test(arguments: [
        ("{\"a\": 1,}", 1, 9, "expected a member name in double quotes, got '}'"),
        ("[1, 2", 1, 6, "the file ends inside an array (expected ',' or ']' after an array element)"),
        ("", 1, 1, "the file is empty (expected a JSON value)"),
        ("{\"a\": 01}", 1, 7, "invalid number: leading zeros are not allowed in JSON"),
        ("{\"a\": NaN}", 1, 7, "expected a value, got 'N'"),
        ("{\"a\": 1e999}", 1, 7, "the number 1e999 is too large for a 64-bit float"),
        ("{\"a\": tru}", 1, 7, "invalid literal (expected true, false, null, a number, a string, an array or an object)"),
        ("{\"a\": \"x\ny\"}", 1, 9, "control character U+000A inside a string (write it as an escape such as \\n)"),
        ("{\"a\": \"\\q\"}", 1, 8, "invalid escape sequence \\q in a string"),
        ("{\"a\": \"\\ud800\"}", 1, 8, "unpaired surrogate \\uD800 in a string"),
        ("{\"a\": 1, \"a\": 2}", 1, 10, "duplicate key \"a\" in one object"),
        ("{} []", 1, 4, "unexpected '[' after the end of the JSON value"),
        ("{\"a\": \"abc", 1, 7, "the string starting here is not terminated (missing closing '\"')"),
        ("// comment\n{}", 1, 1, "expected a value, got '/'"),
    ])
    func malformedJSON(text: String, line: Int, column: Int, message: String) {
        let e = self.syntaxError(text)
        #expect(e?.location == .line(line, column: column))
        #expect(e?.message == message)
        #expect(e?.file == "t.json")
    }

    @Test func refusesHostileNesting() {
        let e = self.syntaxError(String(repeating: "[", count: 300) + String(repeating: "]", count: 300))
        #expect(e?.message == "arrays and objects are nested more than 256 levels deep")
        #expect(e?.column == 257)
    }

    @Test func skipsByteOrderMark() throws {
        let v = try JSONDocument.parse(Data([0xEF, 0xBB, 0xBF] + Array("[true]".utf8)), source: "b.json").root
        #expect(v.kind == .array([JSONValue(.bool(true), offset: 4)]))
        let e = formatError { () throws(FileFormatError) in try JSONDocument.parse(Data([0xEF, 0xBB, 0xBF] + Array("[x]".utf8)), source: "b.json") }
        #expect(e?.location == .line(1, column: 2))
    }

    @Test func writerIsPrettyAndDeterministic() throws {
        let value = JSONValue.object([
            "name": .string("tab\there \"q\" \u{01}"),
            "n": .number(3),
            "x": .number(0.1),
            "tiny": .number(1e-5),
            "missing": nil,
            "list": .numbers([1, -2.5, 1e20]),
            "rows": .array([.numbers([1, 0]), .numbers([0, 1])]),
            "empty": .array([]),
            "obj": .object([:]),
        ])
        let text = String(decoding: try JSONWriter.serialize(value, destination: "out.json"), as: UTF8.self)
        let expected = """
            {
                "name": "tab\\there \\"q\\" \\u0001",
                "n": 3,
                "x": 0.1,
                "tiny": 1e-05,
                "list": [1, -2.5, 1e+20],
                "rows": [
                    [1, 0],
                    [0, 1]
                ],
                "empty": [],
                "obj": {}
            }

            """
        #expect(text == expected)
        // What was written parses back to the same values.
        let back = try self.parse(text)
        guard case .object(let m) = back.kind else {
            Issue.record("expected an object")
            return
        }
        #expect(m[0].value.kind == .string("tab\there \"q\" \u{01}"))
        #expect(m[3].value.kind == .number(1e-5))
    }

    @Test func writerRefusesNonFiniteNumbersNamingThePath() {
        let value = JSONValue.object(["targets": .array([.object(["cortexMM": .numbers([1, .nan, 3])])])])
        #expect(throws: FileFormatError(file: "p.json", field: "targets[0].cortexMM[1]", message: "cannot write nan: JSON has no representation for NaN or infinity")) {
            try JSONWriter.serialize(value, destination: "p.json")
        }
    }

    @Test func numbersRoundTripExactly() throws {
        let values: [Double] = [0.1, -1234.5678901234567, 1e-300, Double.leastNonzeroMagnitude, 1.7976931348623157e308, 123456789012345.0, 2.0 / 3.0, -0.0]
        let text = String(decoding: try JSONWriter.serialize(.numbers(values), destination: "n"), as: UTF8.self)
        let back = try self.parse(text)
        guard case .array(let a) = back.kind else {
            Issue.record("expected an array")
            return
        }
        let read = a.compactMap { if case .number(let x) = $0.kind { x } else { nil } }
        #expect(read == values)
    }
}
