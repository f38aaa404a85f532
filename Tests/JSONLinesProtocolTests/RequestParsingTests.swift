import JSONLinesProtocol
import Testing

@Suite struct RequestParsingTests {
    private func parse(_ line: String) throws(JSONLRequestError) -> JSONLRequest { try JSONLRequest.parse(line) }

    /// The error a line is refused with (fails the test when it parses).
    private func refusal(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSONLRequestError? {
        do {
            let r = try JSONLRequest.parse(line)
            Issue.record("parsed \(r)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    @Test func commandsWithoutParameters() throws {
        #expect(try self.parse(#"{"cmd":"hello"}"#) == JSONLRequest(command: .hello))
        #expect(try self.parse(#"{"id":1,"cmd":"status"}"#) == JSONLRequest(id: .number(1), command: .status))
        #expect(try self.parse(#"{"cmd":"targets","id":"t"}"#) == JSONLRequest(id: .string("t"), command: .targets))
        #expect(try self.parse(#"{"cmd":"unsubscribe"}"#).command == .unsubscribe)
        #expect(try self.parse(#"{"cmd":"capture-scalp-point","token":"abc"}"#) == JSONLRequest(token: "abc", command: .captureScalpPoint))
        #expect(try self.parse(#"{"cmd":"accept-registration","token":"abc","id":2.5}"#)
            == JSONLRequest(id: .number(2.5), token: "abc", command: .acceptRegistration))
        // null counts as absent; whitespace, a trailing \r and key order do not matter.
        #expect(try self.parse(" { \"id\" : null , \"cmd\" : \"hello\" , \"token\":null }\r") == JSONLRequest(command: .hello))
    }

    @Test func selectTarget() throws {
        #expect(try self.parse(#"{"cmd":"select-target","name":"M1 hand","token":"k"}"#)
            == JSONLRequest(token: "k", command: .selectTarget(name: "M1 hand")))
        #expect(try self.parse(#"{"cmd":"select-target","name":"caf\u00e9"}"#).command == .selectTarget(name: "café"))
    }

    @Test func subscribeDefaultsAndRateCap() throws {
        #expect(try self.parse(#"{"cmd":"subscribe"}"#).command == .subscribe(JSONLSubscription(frames: true, events: true, maxRateHz: nil)))
        #expect(try self.parse(#"{"cmd":"subscribe","frames":false}"#).command == .subscribe(JSONLSubscription(frames: false, events: true)))
        #expect(try self.parse(#"{"cmd":"subscribe","events":false,"maxRateHz":30}"#).command
            == .subscribe(JSONLSubscription(frames: true, events: false, maxRateHz: 30)))
        #expect(try self.parse(#"{"cmd":"subscribe","maxRateHz":0}"#).command == .subscribe(JSONLSubscription(maxRateHz: nil)))
        #expect(JSONLSubscription(maxRateHz: 30).minimumFrameIntervalNanoseconds == 33_333_333)
        #expect(JSONLSubscription(maxRateHz: 0.5).minimumFrameIntervalNanoseconds == 2_000_000_000)
        #expect(JSONLSubscription().minimumFrameIntervalNanoseconds == 0)
    }

    @Test func captureFiducial() throws {
        #expect(try self.parse(#"{"cmd":"capture-fiducial","name":"nasion"}"#).command == .captureFiducial(name: "nasion", frames: 10))
        #expect(try self.parse(#"{"cmd":"capture-fiducial","name":"LPA","frames":1}"#).command == .captureFiducial(name: "LPA", frames: 1))
        #expect(try self.parse(#"{"cmd":"capture-fiducial","name":"RPA","frames":1000.0}"#).command == .captureFiducial(name: "RPA", frames: 1000))
    }

    @Test func clearCapturesRegisterAndPulse() throws {
        for kind in JSONLCaptureKind.allCases {
            #expect(try self.parse(#"{"cmd":"clear-captures","what":"\#(kind.rawValue)"}"#).command == .clearCaptures(kind))
        }
        #expect(try self.parse(#"{"cmd":"register"}"#).command == .register(refine: false))
        #expect(try self.parse(#"{"cmd":"register","refine":true}"#).command == .register(refine: true))
        #expect(try self.parse(#"{"cmd":"pulse"}"#).command == .pulse(JSONLPulse()))
        #expect(try self.parse(#"{"cmd":"pulse","ageMilliseconds":12.5,"intensityPercentMSO":65,"label":"sp 1"}"#).command
            == .pulse(JSONLPulse(time: .ageMilliseconds(12.5), intensityPercentMSO: 65, label: "sp 1")))
        // Server clock readings are read exactly from the digits, even above 2⁵³.
        #expect(try self.parse(#"{"cmd":"pulse","timeNanoseconds":1700000000123456789}"#).command
            == .pulse(JSONLPulse(time: .serverNanoseconds(1_700_000_000_123_456_789))))
        #expect(try self.parse(#"{"cmd":"pulse","timeNanoseconds":18446744073709551615}"#).command
            == .pulse(JSONLPulse(time: .serverNanoseconds(.max))))
        #expect(try self.parse(#"{"cmd":"pulse","timeNanoseconds":0,"intensityPercentMSO":100}"#).command
            == .pulse(JSONLPulse(time: .serverNanoseconds(0), intensityPercentMSO: 100)))
    }

    @Test func whichCommandsChangeTheSession() throws {
        let changing = [
            "select-target", "capture-fiducial", "capture-scalp-point", "clear-captures", "register", "accept-registration", "pulse",
        ]
        let lines = [
            #"{"cmd":"hello"}"#, #"{"cmd":"status"}"#, #"{"cmd":"targets"}"#, #"{"cmd":"select-target","name":"a"}"#,
            #"{"cmd":"subscribe"}"#, #"{"cmd":"unsubscribe"}"#, #"{"cmd":"capture-fiducial","name":"a"}"#,
            #"{"cmd":"capture-scalp-point"}"#, #"{"cmd":"capture-poses","tools":["coil","pointer"]}"#,
            #"{"cmd":"clear-captures","what":"all"}"#, #"{"cmd":"register"}"#,
            #"{"cmd":"accept-registration"}"#, #"{"cmd":"pulse"}"#,
        ]
        var names: [String] = []
        for line in lines {
            let c = try self.parse(line).command
            names.append(c.name)
            #expect(c.changesSession == changing.contains(c.name), "\(c.name)")
        }
        #expect(names == JSONLCommand.names)
    }

    @Test func capturePosesParameters() throws {
        #expect(try self.parse(#"{"cmd":"capture-poses","tools":["pointer"],"frames":240}"#).command == .capturePoses(tools: ["pointer"], frames: 240))
        #expect(try self.parse(#"{"cmd":"capture-poses","tools":["coil","phantom"]}"#).command == .capturePoses(tools: ["coil", "phantom"], frames: 10))
        #expect(self.refusal(#"{"cmd":"capture-poses","tools":[]}"#)?.message == #"field "tools": 1 to 4 tool names, got 0"#)
        #expect(self.refusal(#"{"cmd":"capture-poses","tools":["coil","coil"]}"#)?.message == #"field "tools": names must be non-empty and distinct, got "coil" at 1"#)
        #expect(self.refusal(#"{"cmd":"capture-poses","tools":["coil"],"frames":0}"#)?.message == #"field "frames": must be between 1 and 1000, got 0"#)
        #expect(self.refusal(#"{"cmd":"capture-poses"}"#)?.code == .missingField)
    }

    @Test func tokenComparison() throws {
        let r = try self.parse(#"{"cmd":"pulse","token":"s3cret"}"#)
        #expect(r.tokenMatches("s3cret"))
        #expect(!r.tokenMatches("s3cres"))
        #expect(!r.tokenMatches("s3cret2"))
        #expect(!r.tokenMatches("s3cre"))
        #expect(!(try self.parse(#"{"cmd":"pulse"}"#)).tokenMatches("s3cret"))
        #expect(!(try self.parse(#"{"cmd":"pulse","token":""}"#)).tokenMatches(""))
    }

    // MARK: Errors

    @Test func malformedJSONNamesColumnAndByte() {
        let e = self.refusal(#"{"cmd":"hello",}"#)
        #expect(e == JSONLRequestError(
            code: .badJSON, message: "malformed JSON at column 16 (byte 15): expected a member name in double quotes, got '}'",
            column: 16, byteOffset: 15))
        // Columns count characters, bytes count UTF-8 bytes: "é" is one column and two bytes.
        let e2 = self.refusal(#"{"name":"é" "cmd":"hello"}"#)
        #expect(e2?.message == "malformed JSON at column 13 (byte 13): expected ',' or '}' after an object member, got '\"'")
        #expect(e2?.code == .badJSON)
        #expect(self.refusal(#"{"cmd":"hello""#)?.message
            == "malformed JSON at column 15 (byte 14): the line ends inside an object (expected ',' or '}' after an object member)")
        #expect(self.refusal("")?.message == "malformed JSON at column 1 (byte 0): the line is empty (expected a JSON value)")
        #expect(self.refusal(#"{"cmd":"hello","cmd":"status"}"#)?.message
            == #"malformed JSON at column 16 (byte 15): duplicate key "cmd" in one object"#)
        #expect(self.refusal(#"{"cmd":NaN}"#)?.message == "malformed JSON at column 8 (byte 7): expected a value, got 'N'")
        let bad = JSONLRequestError(
            code: .badJSON, message: "malformed JSON at column 8 (byte 7): expected a value, got the byte 0xFF (not valid UTF-8)",
            column: 8, byteOffset: 7)
        #expect(throws: bad) { try JSONLRequest.parse(Array(#"{"cmd":"#.utf8) + [0xFF, 0x7D]) }
    }

    @Test func notAnObject() {
        #expect(self.refusal(#"["hello"]"#) == JSONLRequestError(code: .badRequest, message: "a request must be a JSON object, got an array"))
        #expect(self.refusal(#""hello""#)?.message == #"a request must be a JSON object, got the string "hello""#)
        #expect(self.refusal("42")?.message == "a request must be a JSON object, got the number 42.0")
    }

    @Test func missingOrBadCommand() {
        #expect(self.refusal(#"{"id":3}"#) == JSONLRequestError(
            code: .missingField, message: #"field "cmd" is missing (every request names its command)"#, id: .number(3), field: "cmd"))
        #expect(self.refusal(#"{"id":"x","cmd":7}"#) == JSONLRequestError(
            code: .badField, message: #"field "cmd": expected a string, got the number 7.0"#, id: .string("x"), field: "cmd"))
        #expect(self.refusal(#"{"id":4,"cmd":"fly"}"#) == JSONLRequestError(
            code: .unknownCommand,
            message: #"unknown command "fly" (known: hello, status, targets, select-target, subscribe, unsubscribe, capture-fiducial, capture-scalp-point, capture-poses, clear-captures, register, accept-registration, pulse)"#,
            id: .number(4), field: "cmd"))
        #expect(self.refusal(#"{"cmd":"Hello"}"#)?.code == .unknownCommand)
    }

    @Test func badIDAndToken() {
        #expect(self.refusal(#"{"id":true,"cmd":"hello"}"#) == JSONLRequestError(
            code: .badField, message: #"field "id": expected a number or a string, got true"#, field: "id"))
        #expect(self.refusal(#"{"id":[1],"cmd":"hello"}"#)?.message == #"field "id": expected a number or a string, got an array"#)
        #expect(self.refusal(#"{"id":5,"cmd":"pulse","token":12}"#) == JSONLRequestError(
            code: .badField, message: #"field "token": expected a string, got the number 12.0"#, id: .number(5), field: "token"))
    }

    @Test func unknownFields() {
        #expect(self.refusal(#"{"id":6,"cmd":"subscribe","frame":true}"#) == JSONLRequestError(
            code: .unknownField, message: #"unknown field "frame" (subscribe takes "frames", "events", "maxRateHz")"#,
            id: .number(6), field: "frame"))
        #expect(self.refusal(#"{"cmd":"hello","name":"x"}"#)?.message == #"unknown field "name" (hello takes no parameters)"#)
        #expect(self.refusal(#"{"cmd":"pulse","time":1}"#)?.message
            == #"unknown field "time" (pulse takes "timeNanoseconds", "ageMilliseconds", "intensityPercentMSO", "label")"#)
    }

    @Test func missingParameters() {
        #expect(self.refusal(#"{"id":7,"cmd":"select-target"}"#) == JSONLRequestError(
            code: .missingField, message: #"field "name" is missing (select-target requires it)"#, id: .number(7), field: "name"))
        #expect(self.refusal(#"{"cmd":"capture-fiducial","frames":5}"#)?.message == #"field "name" is missing (capture-fiducial requires it)"#)
        #expect(self.refusal(#"{"cmd":"clear-captures","what":null}"#) == JSONLRequestError(
            code: .missingField, message: #"field "what" is missing (clear-captures requires it)"#, field: "what"))
    }

    @Test func badParameterValues() {
        let cases: [(String, String, String)] = [
            (#"{"cmd":"select-target","name":""}"#, "name", #"field "name": must not be empty"#),
            (#"{"cmd":"select-target","name":3}"#, "name", #"field "name": expected a string, got the number 3.0"#),
            (#"{"cmd":"subscribe","frames":"yes"}"#, "frames", #"field "frames": expected true or false, got the string "yes""#),
            (#"{"cmd":"subscribe","events":1}"#, "events", #"field "events": expected true or false, got the number 1.0"#),
            (#"{"cmd":"subscribe","maxRateHz":-1}"#, "maxRateHz", #"field "maxRateHz": must not be negative, got -1.0"#),
            (#"{"cmd":"subscribe","maxRateHz":"fast"}"#, "maxRateHz", #"field "maxRateHz": expected a number, got the string "fast""#),
            (#"{"cmd":"capture-fiducial","name":"a","frames":0}"#, "frames", #"field "frames": must be between 1 and 1000, got 0"#),
            (#"{"cmd":"capture-fiducial","name":"a","frames":1001}"#, "frames", #"field "frames": must be between 1 and 1000, got 1001"#),
            (#"{"cmd":"capture-fiducial","name":"a","frames":2.5}"#, "frames", #"field "frames": expected a whole number, got 2.5"#),
            (#"{"cmd":"clear-captures","what":"points"}"#, "what", #"field "what": expected "fiducials", "scalp" or "all", got "points""#),
            (#"{"cmd":"clear-captures","what":false}"#, "what", #"field "what": expected a string, got false"#),
            (#"{"cmd":"register","refine":"yes"}"#, "refine", #"field "refine": expected true or false, got the string "yes""#),
            (#"{"cmd":"pulse","timeNanoseconds":1,"ageMilliseconds":2}"#, "ageMilliseconds",
             #"fields "timeNanoseconds" and "ageMilliseconds" exclude each other (give at most one)"#),
            (#"{"cmd":"pulse","timeNanoseconds":-5}"#, "timeNanoseconds",
             #"field "timeNanoseconds": expected a whole number of nanoseconds from 0 to 18446744073709551615, got -5"#),
            (#"{"cmd":"pulse","timeNanoseconds":1.5e9}"#, "timeNanoseconds",
             #"field "timeNanoseconds": expected a whole number of nanoseconds from 0 to 18446744073709551615, got 1.5e9"#),
            (#"{"cmd":"pulse","timeNanoseconds":18446744073709551616}"#, "timeNanoseconds",
             #"field "timeNanoseconds": expected a whole number of nanoseconds from 0 to 18446744073709551615, got 18446744073709551616"#),
            (#"{"cmd":"pulse","timeNanoseconds":"now"}"#, "timeNanoseconds",
             #"field "timeNanoseconds": expected a whole number of nanoseconds, got the string "now""#),
            (#"{"cmd":"pulse","ageMilliseconds":-0.5}"#, "ageMilliseconds", #"field "ageMilliseconds": must not be negative, got -0.5"#),
            (#"{"cmd":"pulse","intensityPercentMSO":120}"#, "intensityPercentMSO",
             #"field "intensityPercentMSO": must be between 0 and 100, got 120.0"#),
            (#"{"cmd":"pulse","intensityPercentMSO":-1}"#, "intensityPercentMSO",
             #"field "intensityPercentMSO": must be between 0 and 100, got -1.0"#),
            (#"{"cmd":"pulse","label":["a"]}"#, "label", #"field "label": expected a string, got an array"#),
        ]
        for (line, field, message) in cases {
            let withID = "{\"id\":\"r\"," + line.dropFirst()
            #expect(self.refusal(withID) == JSONLRequestError(code: .badField, message: message, id: .string("r"), field: field), "\(line)")
        }
    }

    @Test func overlongLineIsRefused() throws {
        let line = #"{"cmd":"pulse","label":""# + String(repeating: "x", count: 65_536) + #""}"#
        #expect(self.refusal(line) == JSONLRequestError(
            code: .lineTooLong, message: "the line is 65562 bytes long (the limit is 65536 bytes)"))
        let fits = #"{"cmd":"pulse","label":""# + String(repeating: "x", count: 65_536 - 26) + #""}"#
        #expect(fits.utf8.count == 65_536)
        #expect(try JSONLRequest.parse(fits + "\r").command == .pulse(JSONLPulse(label: String(repeating: "x", count: 65_510))))
    }

    @Test func errorDescriptionJoinsCodeAndMessage() {
        #expect(self.refusal(#"{"cmd":"fly"}"#)?.description.hasPrefix(#"unknown-command: unknown command "fly" (known: hello,"#) == true)
    }
}
