import JSONLinesProtocol
import Navigation
import Testing

@Suite struct EventEncodingTests {
    private func line(_ e: JSONLEvent) -> String {
        var bytes: [UInt8] = []
        JSONLEncoder.appendEvent(e, into: &bytes)
        return text(bytes)
    }

    @Test func everyEventHasItsText() {
        let cases: [(JSONLEvent, String)] = [
            (.trackingLost(lastFrame: 4711, silenceMilliseconds: 250.5),
             #"{"type":"event","event":"tracking-lost","lastFrame":4711,"silenceMs":250.5}"#),
            (.trackingLost(lastFrame: nil, silenceMilliseconds: 1000),
             #"{"type":"event","event":"tracking-lost","lastFrame":null,"silenceMs":1000.0}"#),
            (.trackingRestored(frame: 4800), #"{"type":"event","event":"tracking-restored","frame":4800}"#),
            (.validityChanged(frame: 12, invalidity: [.coilMissing, .stale]),
             #"{"type":"event","event":"validity-changed","frame":12,"valid":false,"reasons":["stale","coil-missing"]}"#),
            (.validityChanged(frame: 13, invalidity: []),
             #"{"type":"event","event":"validity-changed","frame":13,"valid":true,"reasons":[]}"#),
            (.validityChanged(frame: 14, invalidity: [.noTarget, .notRegistered, .headReferenceMissing]),
             #"{"type":"event","event":"validity-changed","frame":14,"valid":false,"reasons":["head-reference-missing","not-registered","no-target"]}"#),
            (.targetChanged(name: "M1 \"hand\""), #"{"type":"event","event":"target-changed","target":"M1 \"hand\""}"#),
            (.targetChanged(name: nil), #"{"type":"event","event":"target-changed","target":null}"#),
            (.registrationChanged(registered: true), #"{"type":"event","event":"registration-changed","registered":true}"#),
            (.registrationChanged(registered: false), #"{"type":"event","event":"registration-changed","registered":false}"#),
            (.onTarget(frame: 99, dwellMilliseconds: 500), #"{"type":"event","event":"on-target","frame":99,"dwellMs":500.0}"#),
            (.offTarget(frame: 120), #"{"type":"event","event":"off-target","frame":120}"#),
            (.pulseRecorded(index: 0, timeNanoseconds: 18_446_744_073_709_551_615),
             #"{"type":"event","event":"pulse-recorded","index":0,"timeNanoseconds":18446744073709551615}"#),
            (.trackerState("reconnecting in 2 s"), #"{"type":"event","event":"tracker-state","state":"reconnecting in 2 s"}"#),
            (.warning("head reference\tpartly out of volume\n"),
             #"{"type":"event","event":"warning","text":"head reference\tpartly out of volume\n"}"#),
        ]
        for (event, expected) in cases {
            #expect(self.line(event) == expected + "\n")
        }
    }

    @Test func stringsEscapeControlCharactersAndKeepUnicode() {
        #expect(
            self.line(.warning("a\\b\u{01}\u{1F}\u{08}\u{0C}\r é→🧠"))
                == #"{"type":"event","event":"warning","text":"a\\b\u0001\u001F\b\f\r é→🧠"}"# + "\n")
    }
}

@Suite struct ResponseEncodingTests {
    private func line(_ id: JSONLRequestID?, _ result: JSONLResult) -> String {
        var bytes: [UInt8] = []
        JSONLEncoder.appendResponse(id: id, result: result, into: &bytes)
        return text(bytes)
    }

    @Test func emptyResponsesEchoTheID() {
        #expect(self.line(.number(7), .empty) == #"{"type":"response","id":7,"ok":true}"# + "\n")
        #expect(self.line(.number(-3), .empty) == #"{"type":"response","id":-3,"ok":true}"# + "\n")
        #expect(self.line(.number(2.5), .empty) == #"{"type":"response","id":2.5,"ok":true}"# + "\n")
        #expect(self.line(.number(1e300), .empty) == #"{"type":"response","id":1e+300,"ok":true}"# + "\n")
        #expect(self.line(.number(-0.0), .empty) == #"{"type":"response","id":-0.0,"ok":true}"# + "\n")
        #expect(
            self.line(.number(9_007_199_254_740_992), .empty)
                == #"{"type":"response","id":9007199254740992,"ok":true}"# + "\n")
        #expect(self.line(.string("a\"1"), .empty) == #"{"type":"response","id":"a\"1","ok":true}"# + "\n")
        #expect(self.line(nil, .empty) == #"{"type":"response","id":null,"ok":true}"# + "\n")
    }

    @Test func helloResponse() {
        let hello = JSONLHello(
            serverVersion: "coilnav 0.4.0", frameRateHz: 60, toolNames: ["coil", "head", "pointer"], registered: false,
            tokenRequired: true, fiducials: ["NAS", "LPA", "RPA"])
        #expect(hello.protocolVersion == 1)
        #expect(
            self.line(.number(1), .hello(hello))
                == #"{"type":"response","id":1,"ok":true,"protocol":1,"server":"coilnav 0.4.0","frameRateHz":60.0,"tools":["coil","head","pointer"],"registered":false,"tokenRequired":true,"fiducials":["NAS","LPA","RPA"]}"#
                + "\n")
        var unknownRate = hello
        unknownRate.frameRateHz = nil
        unknownRate.toolNames = []
        #expect(self.line(nil, .hello(unknownRate)).contains(#""frameRateHz":null,"tools":[],"#))
    }

    @Test func statusResponse() {
        var s = JSONLStatus(
            trackerState: "tracking", lastFrame: 5120, registered: true, registrationPending: false, target: "M1",
            fiducials: ["nasion", "LPA", "RPA"], scalpPoints: 212, pulses: 3,
            subscription: JSONLSubscription(frames: true, events: false, maxRateHz: 20), freMM: 0.75, predictedTREMM: 1.25,
            fleMM: 1, frameRateHz: 60, framesReceived: 6000, framesDropped: 2)
        #expect(
            self.line(.string("s"), .status(s))
                == #"{"type":"response","id":"s","ok":true,"tracker":"tracking","lastFrame":5120,"registered":true,"registrationPending":false,"target":"M1","fiducials":["nasion","LPA","RPA"],"scalpPoints":212,"pulses":3,"subscription":{"frames":true,"events":false,"maxRateHz":20.0},"freMM":0.75,"predictedTREMM":1.25,"fleMM":1.0,"frameRateHz":60.0,"framesReceived":6000,"framesDropped":2}"#
                + "\n")
        s = JSONLStatus(
            trackerState: "connecting", lastFrame: nil, registered: false, registrationPending: true, target: nil,
            fiducials: [], scalpPoints: 0, pulses: 0, subscription: JSONLSubscription())
        #expect(
            self.line(nil, .status(s))
                == #"{"type":"response","id":null,"ok":true,"tracker":"connecting","lastFrame":null,"registered":false,"registrationPending":true,"target":null,"fiducials":[],"scalpPoints":0,"pulses":0,"subscription":{"frames":true,"events":true,"maxRateHz":null},"freMM":null,"predictedTREMM":null,"fleMM":null,"frameRateHz":null,"framesReceived":0,"framesDropped":0}"#
                + "\n")
        s.subscription = nil
        #expect(self.line(nil, .status(s)).contains(#""subscription":null,"freMM":null"#))
    }

    @Test func targetsResponse() {
        let targets = [
            JSONLTargetInfo(name: "M1", active: true, coilToCortexMM: 21.5),
            JSONLTargetInfo(name: "DLPFC left", active: false, coilToCortexMM: 18),
        ]
        #expect(
            self.line(.number(3), .targets(targets))
                == #"{"type":"response","id":3,"ok":true,"targets":[{"name":"M1","active":true,"coilToCortexMM":21.5},{"name":"DLPFC left","active":false,"coilToCortexMM":18.0}]}"#
                + "\n")
        #expect(self.line(.number(4), .targets([])) == #"{"type":"response","id":4,"ok":true,"targets":[]}"# + "\n")
    }

    @Test func registrationResponse() {
        let r = JSONLRegistrationSummary(
            freMM: 1.25, residualsMM: [("nasion", 0.75), ("LPA", 1.5), ("RPA", 1.375)], refined: true, surfaceRMSMM: 0.875,
            predictedTREMM: [("M1", 1.5), ("DLPFC", 1.75)], fleMM: 1, warnings: ["check \"LPA\""])
        #expect(
            self.line(.number(9), .registration(r))
                == #"{"type":"response","id":9,"ok":true,"freMM":1.25,"residualsMM":{"nasion":0.75,"LPA":1.5,"RPA":1.375},"refined":true,"surfaceRMSMM":0.875,"predictedTREMM":{"M1":1.5,"DLPFC":1.75},"fleMM":1.0,"warnings":["check \"LPA\""],"applied":false}"#
                + "\n")
        let unrefined = JSONLRegistrationSummary(freMM: 2, residualsMM: [], refined: false, surfaceRMSMM: nil)
        #expect(
            self.line(nil, .registration(unrefined))
                == #"{"type":"response","id":null,"ok":true,"freMM":2.0,"residualsMM":{},"refined":false,"surfaceRMSMM":null,"predictedTREMM":{},"fleMM":null,"warnings":[],"applied":false}"#
                + "\n")
    }

    @Test func fieldsResponseWritesNestedValues() {
        let fields: [JSONLMember] = [
            JSONLMember("name", .string("nasion")),
            JSONLMember("positionHeadMM", .array([.number(1.5), .number(-20), .integer(3)])),
            JSONLMember("spreadMM", .number(0.25)),
            JSONLMember("frames", .integer(-10)),
            JSONLMember("extra", .object([JSONLMember("a", .null), JSONLMember("b", .bool(true)), JSONLMember("c", .array([]))])),
            JSONLMember("bad", .number(.nan)),
            JSONLMember("timeNanoseconds", .unsigned(18_000_000_000_000_000_001)),
        ]
        #expect(
            self.line(.number(5), .fields(fields))
                == #"{"type":"response","id":5,"ok":true,"name":"nasion","positionHeadMM":[1.5,-20.0,3],"spreadMM":0.25,"frames":-10,"extra":{"a":null,"b":true,"c":[]},"bad":null,"timeNanoseconds":18000000000000000001}"#
                + "\n")
    }

    @Test func errorResponses() {
        var bytes: [UInt8] = []
        JSONLEncoder.appendErrorResponse(
            id: .number(12), code: .unauthorized, message: "select-target changes the session: give the session's token",
            into: &bytes)
        #expect(
            text(bytes)
                == #"{"type":"response","id":12,"ok":false,"error":{"code":"unauthorized","message":"select-target changes the session: give the session's token"}}"#
                + "\n")
        bytes = []
        let parseError = JSONLRequestError(
            code: .badField, message: #"field "frames": must be between 1 and 1000, got 0"#, id: .string("c1"), field: "frames")
        JSONLEncoder.appendErrorResponse(parseError, into: &bytes)
        #expect(
            text(bytes)
                == #"{"type":"response","id":"c1","ok":false,"error":{"code":"bad-field","message":"field \"frames\": must be between 1 and 1000, got 0"}}"#
                + "\n")
    }

    /// Swift's `description` for every double written with a fraction: the shortest text that reads back.
    @Test func doublesAreSwiftsShortestText() {
        let values: [Double] = [
            0.1, 1, -2.5, 1e-05, 5e+20, 123_456_789.123, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
            1.0 / 3.0, 1e16, 2.220446049250313e-16,
        ]
        for x in values {
            var bytes: [UInt8] = []
            JSONLEncoder.appendResponse(id: nil, result: .fields([JSONLMember("x", .number(x))]), into: &bytes)
            #expect(text(bytes) == #"{"type":"response","id":null,"ok":true,"x":"# + x.description + "}\n")
            #expect(Double(x.description)!.bitPattern == x.bitPattern)
        }
    }
}
