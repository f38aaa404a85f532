import Geometry
import JSONLinesProtocol
import Navigation
import Readout
import Testing
import TrackerCore

/// A rotation by +90° about z, written with exact entries.
private let rotationZ90 = Matrix3(rows: Vector3(0, -1, 0), Vector3(1, 0, 0), Vector3(0, 0, 1))

/// Lines as the server's own encoder writes them.
private func encoded(_ append: (inout [UInt8]) -> Void) -> [UInt8] {
    var bytes: [UInt8] = []
    append(&bytes)
    #expect(bytes.last == 0x0A)
    return Array(bytes.dropLast())
}

@Suite struct DecoderTests {
    /// The frame line of docs/json-lines-protocol.md.
    @Test func documentedFrameLineDecodesEveryFigure() throws {
        let line =
            #"{"type":"frame","frame":1234,"hostTimeNanoseconds":5000000000,"ageNanoseconds":2500000,"valid":true,"reasons":[],"target":"M1 hand","coilStatus":"ok","headStatus":"ok","pointerStatus":"missing","coilToMRI":{"q":[0.7071067811865476,0.0,0.0,0.7071067811865475],"t":[-8.5,2.0,6.0]},"coilToTarget":{"q":[0.7071067811865476,0.0,0.0,0.7071067811865475],"t":[0.5,1.0,1.0]},"pointerTipMRI":null,"metrics":{"distanceMM":1.5,"offsetMM":[0.5,1.0,1.0],"depthMM":1.0,"inPlaneAtCoil":{"x":0.5,"y":1.0,"mm":1.118033988749895},"inPlaneAtCortex":{"x":0.5,"y":1.0,"mm":1.118033988749895},"tiltDegrees":0.0,"tiltAboutTargetXDegrees":-0.0,"tiltAboutTargetYDegrees":0.0,"twistDegrees":90.0},"onTarget":{"state":"off","on":false,"dwellMs":0.0}}"#
        guard case .frame(let f) = try ReadoutDecoder.decode(line) else {
            Issue.record("not a frame")
            return
        }
        #expect(f.frame == 1234)
        #expect(f.valid && f.reasons.isEmpty)
        #expect(f.target == "M1 hand")
        #expect(f.coilStatus == "ok" && f.headStatus == "ok" && f.pointerStatus == "missing")
        let m = try #require(f.metrics)
        #expect(m.distanceMM == 1.5)
        #expect(m.offsetMM == (0.5, 1.0, 1.0))
        #expect(m.depthMM == 1.0)
        #expect(m.inPlaneAtCoil == ReadoutPlanePoint(x: 0.5, y: 1.0, mm: 1.118033988749895))
        #expect(m.inPlaneAtCortex == ReadoutPlanePoint(x: 0.5, y: 1.0, mm: 1.118033988749895))
        #expect(m.tiltDegrees == 0 && m.tiltAboutTargetXDegrees == 0 && m.tiltAboutTargetYDegrees == 0)
        #expect(m.twistDegrees == 90)
        #expect(f.onTarget == ReadoutOnTarget(state: "off", on: false, dwellMs: 0))
    }

    /// A frame computed by the navigation pipeline and written by the server's encoder reads back
    /// to the pipeline's numbers, bit for bit: coilToTarget = (Rz 90°, (0.5, 1, 1)) with the cortex
    /// 20 mm deep, so distance 1.5, depth +1, in-plane (0.5, 1), no tilt, twist +90°.
    @Test func serverEncodedFrameGivesThePipelinesNumbers() throws {
        let target = NavigationTarget(name: "M1 hand", targetToMRI: .translation(Vector3(-9, 1, 5)), coilToCortexMM: 20)
        var processor = FrameProcessor(headToMRI: .translation(Vector3(-10, 0, 5)), activeTarget: target)
        let frame = TrackerFrame(
            deviceFrameNumber: 77, hostReceiveNanoseconds: 1_000_000,
            tools: [
                ToolSample(name: "head", handle: 1, status: .ok, toolToTracker: .translation(Vector3(10, 20, 30)), rmsErrorMM: 0.1),
                ToolSample(
                    name: "coil", handle: 2, status: .partlyOutOfVolume,
                    toolToTracker: RigidTransform(rotation: rotationZ90, translation: Vector3(11.5, 22, 31)), rmsErrorMM: 0.2),
            ])
        let output = processor.process(frame: frame, nowNanoseconds: 1_000_000)
        let error = try #require(output.error)
        let line = encoded {
            JSONLEncoder.appendFrame(output, targetName: "M1 hand", pointerTipMRI: nil, pointerStatus: .missing, into: &$0)
        }
        guard case .frame(let f) = try ReadoutDecoder.decode(line) else {
            Issue.record("not a frame")
            return
        }
        #expect(f.frame == 77 && f.valid)
        #expect(f.coilStatus == "partly-out-of-volume" && f.headStatus == "ok" && f.pointerStatus == "missing")
        let m = try #require(f.metrics)
        #expect(m.distanceMM == error.distanceMM && m.distanceMM == 1.5)
        #expect(m.depthMM == error.depthMM && m.depthMM == 1)
        #expect(m.inPlaneAtCoil?.x == error.inPlaneAtCoilMM.x && m.inPlaneAtCoil?.y == error.inPlaneAtCoilMM.y)
        #expect(m.inPlaneAtCortex?.mm == error.inPlaneAtCortexMM.magnitude)
        #expect(m.tiltDegrees == error.tiltDegrees)
        #expect(m.twistDegrees == error.twistDegrees && m.twistDegrees == 90)
        #expect(f.onTarget.state == "off")
    }

    @Test func serverEncodedEventsDecode() throws {
        let cases: [(JSONLEvent, ReadoutEvent)] = [
            (.trackingLost(lastFrame: 41, silenceMilliseconds: 50.125), .trackingLost(lastFrame: 41, silenceMs: 50.125)),
            (.trackingLost(lastFrame: nil, silenceMilliseconds: 100), .trackingLost(lastFrame: nil, silenceMs: 100)),
            (.trackingRestored(frame: 42), .trackingRestored(frame: 42)),
            (
                .validityChanged(frame: 9, invalidity: [.coilMissing, .notRegistered]),
                .validityChanged(frame: 9, valid: false, reasons: ["coil-missing", "not-registered"])
            ),
            (.validityChanged(frame: 10, invalidity: []), .validityChanged(frame: 10, valid: true, reasons: [])),
            (.targetChanged(name: "F3"), .targetChanged("F3")),
            (.targetChanged(name: nil), .targetChanged(nil)),
            (.registrationChanged(registered: true), .registrationChanged(registered: true)),
            (.onTarget(frame: 1200, dwellMilliseconds: 500), .onTarget(frame: 1200, dwellMs: 500)),
            (.offTarget(frame: 1300), .offTarget(frame: 1300)),
            (.pulseRecorded(index: 3, timeNanoseconds: 12), .pulseRecorded(index: 3)),
            (.trackerState("reconnecting in 2 s (attempt 1)"), .trackerState("reconnecting in 2 s (attempt 1)")),
            (.warning("tool phantom has never been seen"), .warning("tool phantom has never been seen")),
        ]
        for (event, expected) in cases {
            let line = encoded { JSONLEncoder.appendEvent(event, into: &$0) }
            #expect(try ReadoutDecoder.decode(line) == .event(expected), "\(String(decoding: line, as: UTF8.self))")
        }
        #expect(try ReadoutDecoder.decode(#"{"type":"event","event":"new-in-v2","x":1}"#) == .event(.other("new-in-v2")))
    }

    @Test func helloStatusAndOtherResponsesDecodeByTheReadoutsIDs() throws {
        let status = JSONLStatus(
            trackerState: "tracking", lastFrame: 2123, registered: true, registrationPending: false, target: "DLPFC-Fox2012",
            fiducials: [], scalpPoints: 0, pulses: 2, subscription: nil, freMM: 0.72, predictedTREMM: 0.58, fleMM: 1,
            frameRateHz: 59.5, framesReceived: 2000, framesDropped: 3)
        let statusLine = encoded { JSONLEncoder.appendResponse(id: .string("status"), result: .status(status), into: &$0) }
        #expect(
            try ReadoutDecoder.decode(statusLine)
                == .status(
                    ReadoutStatus(
                        tracker: "tracking", lastFrame: 2123, registered: true, target: "DLPFC-Fox2012", freMM: 0.72,
                        predictedTREMM: 0.58, fleMM: 1, frameRateHz: 59.5, framesReceived: 2000, framesDropped: 3)))
        let hello = JSONLHello(
            serverVersion: "coilnav 0.1.0", frameRateHz: 60, toolNames: ["head", "coil", "pointer"], registered: true,
            tokenRequired: true)
        let helloLine = encoded { JSONLEncoder.appendResponse(id: .string("hello"), result: .hello(hello), into: &$0) }
        #expect(
            try ReadoutDecoder.decode(helloLine)
                == .hello(
                    ReadoutHello(
                        server: "coilnav 0.1.0", protocolVersion: 1, frameRateHz: 60, tools: ["head", "coil", "pointer"],
                        registered: true)))
        let subscribed = encoded { JSONLEncoder.appendResponse(id: .string("subscribe"), result: .empty, into: &$0) }
        #expect(try ReadoutDecoder.decode(subscribed) == .response(id: "subscribe", error: nil))
        let refused = encoded {
            JSONLEncoder.appendErrorResponse(
                id: .number(7), code: .badField, message: "field \"maxRateHz\": must not be negative, got -1.0", into: &$0)
        }
        #expect(try ReadoutDecoder.decode(refused) == .response(id: "7", error: "field \"maxRateHz\": must not be negative, got -1.0"))
        #expect(try ReadoutDecoder.decode(#"{"type":"future","x":1}"#) == .ignored)
    }

    /// What the readout sends: no token, the readout's ids, the rate as a JSON number.
    @Test func requestLinesAreTheProtocolsReadOnlyCommands() throws {
        #expect(ReadoutRequests.hello == "{\"id\":\"hello\",\"cmd\":\"hello\"}\n")
        #expect(ReadoutRequests.status == "{\"id\":\"status\",\"cmd\":\"status\"}\n")
        #expect(
            ReadoutRequests.subscribe(maxRateHz: 30)
                == "{\"id\":\"subscribe\",\"cmd\":\"subscribe\",\"frames\":true,\"events\":true,\"maxRateHz\":30}\n")
        #expect(ReadoutRequests.subscribe(maxRateHz: 2.5).contains("\"maxRateHz\":2.5}"))
        // And the server's own parser accepts each, as a command that needs no token.
        for line in [ReadoutRequests.hello, ReadoutRequests.status, ReadoutRequests.subscribe(maxRateHz: 2.5)] {
            let request = try JSONLRequest.parse(String(line.dropLast()))
            #expect(!request.command.changesSession)
        }
        let subscribe = try JSONLRequest.parse(String(ReadoutRequests.subscribe(maxRateHz: 30).dropLast()))
        #expect(subscribe.command == .subscribe(JSONLSubscription(frames: true, events: true, maxRateHz: 30)))
    }

    /// A line the readout cannot use is an error naming the field and where it is.
    @Test func unreadableLinesNameTheFieldAndColumn() {
        func message(_ line: String) -> String? {
            do {
                _ = try ReadoutDecoder.decode(line)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(message(#"{"type":"frame","frame":1}"#) == "server line: line 1, column 1: reasons: required field is missing")
        #expect(
            message(#"{"type":"frame","frame":"x","valid":true,"reasons":[],"onTarget":{"state":"off","on":false,"dwellMs":0}}"#)
                == "server line: line 1, column 25: frame: expected a whole number, got the string \"x\"")
        #expect(message(#"{"type":"frame","#) == "server line: line 1, column 17: the file ends inside an object (expected a member name in double quotes)")
        #expect(message("[1,2]") == "server line: line 1, column 1: expected an object, got an array")
        #expect(message(#"{"type":"event","event":"on-target","frame":3}"#) == "server line: line 1, column 1: dwellMs: required field is missing")
    }
}
