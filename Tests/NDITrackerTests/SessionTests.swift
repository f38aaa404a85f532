import Geometry
import NDIProtocol
import Testing

@testable import NDITracker

/// A scripted answer to the command last sent.
enum Scripted {
    case reply(NDIReply)
    case bytes([UInt8])
    case timeout
    case stop
}

/// Drives a session through a script and returns the transcript of its actions:
/// `> WIRE` for a command (without CR), `line N`, `purge`, `break`, `pause D`,
/// `tracking h=name,…`, `frame N`, `warning: …`, `failed: …`, `finished`.
func drive(_ config: NDISessionConfiguration, _ script: [Scripted]) -> (transcript: [String], session: NDISession) {
    var session = NDISession(configuration: config)
    var out: [String] = []
    var last: NDICommand = .initialize
    var script = script[...]
    var actions = session.step(.start)
    while true {
        var ended = false
        for a in actions {
            switch a {
            case .send(let c):
                last = c
                out.append(
                    "> "
                        + String(decoding: (try? c.encoded()) ?? [], as: UTF8.self).replacingOccurrences(
                            of: "\r",
                            with: ""
                        )
                )
            case .setHostLine(let b): out.append("line \(b)")
            case .purge: out.append("purge")
            case .sendBreak: out.append("break")
            case .pause(let d): out.append("pause \(d)")
            case .trackingStarted(let b):
                out.append("tracking " + b.map { "\(hex2($0.handle))=\($0.toolName)" }.joined(separator: ","))
            case .tracking(let t): out.append("frame \(t.handles.first?.frameNumber ?? 0)")
            case .warning(let w): out.append("warning: \(w)")
            case .failed(let f):
                out.append("failed: \(f)")
                ended = true
            case .finished:
                out.append("finished")
                ended = true
            }
        }
        if ended { break }
        guard let next = script.popFirst() else { break }
        switch next {
        case .timeout: actions = session.step(.timeout)
        case .stop: actions = session.step(.stop)
        case .reply(let r):
            let bytes = try! r.encoded(for: last)
            actions = NDIReplyFramer.frames(in: bytes).flatMap { session.step(.reply($0)) }
        case .bytes(let b):
            actions = NDIReplyFramer.frames(in: b).flatMap { session.step(.reply($0)) }
        }
    }
    return (out, session)
}

func handles(_ hs: [UInt8]) -> NDIReply {
    .portHandles(
        NDIPortHandleList(entries: hs.map { NDIPortHandleEntry(handle: $0, status: NDIPortStatus(rawValue: 0x01)) })
    )
}

func bx(frame: UInt32, _ hs: [UInt8] = [1]) -> NDIReply {
    .tracking(
        NDITrackingReply(
            handles: hs.map {
                .valid(
                    handle: $0,
                    transform: NDITransform(
                        rotation: Quaternion(q0: 1, qx: 0, qy: 0, qz: 0),
                        translation: Vector3(1, 2, 3),
                        rmsError: 0.25
                    ),
                    portStatus: NDIPortStatus(rawValue: 0x31),
                    frameNumber: frame
                )
            }
        )
    )
}

@Suite struct SessionTests {
    @Test func serialStartUpTranscriptWithCOMMPassiveAndActiveToolsAndShutdown() {
        let config = NDISessionConfiguration(serialLine: true, commBaud: .b115200, tools: [Tools.coil, Tools.probe])
        let script: [Scripted] =
            [
                .reply(.okay),  // INIT
                .reply(.okay),  // COMM
                .reply(handles([0x0A])),  // PHSR:01
                .reply(.okay),  // PHF:0A
                .reply(.portHandle(0x03)),  // PHRQ
            ] + Array(repeating: Scripted.reply(.okay), count: 16)  // PVWR
            + [
                .reply(handles([0x02, 0x03])),  // PHSR:02
                .reply(.okay), .reply(.okay),  // PINIT 02, 03
                .reply(handles([])),  // PHSR:02 again
                .reply(handles([0x02, 0x03])),  // PHSR:03
                .reply(.okay), .reply(.okay),  // PENA 02, 03
                .reply(.okay),  // TSTART
                .reply(bx(frame: 7, [0x02, 0x03])),
                .reply(bx(frame: 8, [0x02, 0x03])),
            ]
        let expected =
            [
                "line 9600", "purge", "> INIT:E3A5", "pause 0.1 seconds",
                "> COMM:500000048", "pause 0.1 seconds", "line 115200",
                "> PHSR:01E03E", "> " + wire("PHF:0A"),
                "> PHRQ:*********1****A4C1",
            ] + pvwrLines(handle: "03", rom: Tools.rom).map { "> " + $0 }
            + [
                "> PHSR:02E17E", "> " + wire("PINIT:02"), "> " + wire("PINIT:03"), "> PHSR:02E17E",
                "> PHSR:0321BF", "> " + wire("PENA:02D"), "> " + wire("PENA:03D"),
                "> TSTART:5423", "tracking 02=probe,03=coil", "> BX:080100EC",
                "frame 7", "> BX:080100EC",
                "frame 8", "> BX:080100EC",
            ]
        let (t, _) = drive(config, script)
        #expect(t == expected)
        // Stop: TSTOP (the driver delivers .stop instead of sending the next BX), then COMM back
        // to 9600 and the host line back to 9600.
        var session = drive(config, script).session
        var s: [String] = []
        for a in session.step(.stop) {
            if case .send(let c) = a { s.append(String(decoding: try! c.encoded(), as: UTF8.self)) }
        }
        #expect(s == ["TSTOP:2C14\r"])
        var rest: [NDISessionAction] = []
        for f in NDIReplyFramer.frames(in: try! NDIReply.okay.encoded(for: .tstop)) { rest += session.step(.reply(f)) }
        #expect(rest == [.send(.comm(baud: .b9600))])
        #expect(try! NDICommand.comm(baud: .b9600).encoded() == Array("COMM:000000084\r".utf8))
        rest = []
        for f in NDIReplyFramer.frames(in: try! NDIReply.okay.encoded(for: .initialize)) {
            rest += session.step(.reply(f))
        }
        #expect(rest == [.pause(.milliseconds(100)), .setHostLine(baud: 9600), .finished])
        #expect(session.awaitedTimeout == nil)
    }

    @Test func pvwrChunksOfAROMFileAreTheFileInSixteen64ByteChunks() {
        // A full 1024-byte ROM: every chunk carries its own bytes, no padding.
        let rom = (0..<1024).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let tool = TrackerTool(name: "t", setup: .passive(path: "t.rom", rom: rom))
        let config = NDISessionConfiguration(serialLine: false, tools: [tool])
        let script: [Scripted] =
            [.reply(.okay), .reply(handles([])), .reply(.portHandle(0x01))] + Array(repeating: .reply(.okay), count: 16)
        let (t, _) = drive(config, script)
        let pv = t.filter { $0.hasPrefix("> PVWR") }
        #expect(pv == pvwrLines(handle: "01", rom: rom).map { "> " + $0 })
        #expect(pv.first?.hasPrefix("> PVWR:01000000070E15") == true)  // handle 01, address 0000, bytes 00 07 0E 15 …
        #expect(t.last == "> PHSR:02E17E")
    }

    @Test func tcpStartUpHasNoLineNoCOMMAndStopsWithTSTOPOnly() {
        let config = NDISessionConfiguration(serialLine: false, commBaud: .b921600, tools: [Tools.head])
        let script: [Scripted] =
            [.reply(.okay), .reply(handles([])), .reply(.portHandle(0x01))] + Array(repeating: .reply(.okay), count: 16)
            + [
                .reply(handles([0x01])), .reply(.okay), .reply(handles([])), .reply(handles([0x01])), .reply(.okay),
                .reply(.okay),
            ]
            + [.reply(bx(frame: 1)), .stop, .reply(.okay)]
        var (t, _) = drive(config, Array(script.prefix(script.count - 2)))
        let expected =
            ["> INIT:E3A5", "pause 0.1 seconds", "> PHSR:01E03E", "> PHRQ:*********1****A4C1"]
            + pvwrLines(handle: "01", rom: [0xAB]).map { "> " + $0 }
            + [
                "> PHSR:02E17E", "> PINIT:0131EA", "> PHSR:02E17E", "> PHSR:0321BF", "> " + wire("PENA:01S"),
                "> TSTART:5423",
                "tracking 01=head", "> BX:080100EC", "frame 1", "> BX:080100EC",
            ]
        #expect(t == expected)
        #expect(!t.contains { $0.hasPrefix("line") || $0.contains("COMM") || $0 == "purge" || $0 == "break" })
        var session = drive(config, Array(script.prefix(script.count - 2))).session
        #expect(session.step(.stop) == [.send(.tstop)])
        var rest: [NDISessionAction] = []
        for f in NDIReplyFramer.frames(in: try! NDIReply.okay.encoded(for: .tstop)) { rest += session.step(.reply(f)) }
        #expect(rest == [.finished])
        t = []
    }

    @Test func serialBreakThenRESETThenINITAgain() {
        let config = NDISessionConfiguration(serialLine: true, commBaud: .b9600, tools: [])
        let (t, _) = drive(
            config,
            [.timeout, .reply(.reset), .reply(.okay), .reply(handles([])), .reply(handles([])), .reply(handles([]))]
        )
        #expect(
            t == [
                "line 9600", "purge", "> INIT:E3A5", "purge", "break", "pause 0.1 seconds", "> INIT:E3A5",
                "pause 0.1 seconds",
                "> PHSR:01E03E", "> PHSR:02E17E", "> PHSR:0321BF", "> TSTART:5423",
            ]
        )
        // A second INIT failure ends the attempt; on TCP the first one does.
        #expect(
            drive(config, [.timeout, .reply(.reset), .timeout]).transcript.last?.hasPrefix("failed: no reply to INIT")
                == true
        )
        #expect(drive(config, [.timeout, .timeout]).transcript.last?.hasPrefix("failed: no RESET") == true)
        let tcp = NDISessionConfiguration(serialLine: false, tools: [])
        #expect(drive(tcp, [.timeout]).transcript == ["> INIT:E3A5", "failed: no reply to INIT within 1.0 seconds"])
        // An ERROR to the first INIT on a serial line also resets.
        #expect(drive(config, [.reply(.error(.invalidCommand))]).transcript.suffix(2) == ["purge", "break"])
    }

    @Test func phsr02IsRepeatedUntilNoHandleIsLeftAndAFailedPINITIsAWarning() {
        let config = NDISessionConfiguration(serialLine: false, tools: [Tools.probe])
        let (t, session) = drive(
            config,
            [
                .reply(.okay), .reply(handles([])),
                .reply(handles([0x01])), .reply(.okay),  // round 1
                .reply(handles([0x02, 0x05])), .reply(.okay), .reply(.error(.pinitFailed)),  // round 2
                .reply(handles([0x05])),  // only the failed one is left
                .reply(handles([0x01, 0x02])), .reply(.okay), .reply(.okay), .reply(.okay),
            ]
        )
        #expect(
            t == [
                "> INIT:E3A5", "pause 0.1 seconds", "> PHSR:01E03E",
                "> PHSR:02E17E", "> PINIT:0131EA",
                "> PHSR:02E17E", "> " + wire("PINIT:02"), "> " + wire("PINIT:05"),
                "warning: PINIT of handle 05 refused: ERROR13 (PINIT failed)",
                "> PHSR:02E17E",
                "> PHSR:0321BF", "> PENA:01D6D3B", "> " + wire("PENA:02D"), "> TSTART:5423",
                "tracking 01=probe,02=port-0x02", "> BX:080100EC",
            ]
        )
        #expect(session.handleBindings.map(\.passive) == [false, false])
    }

    @Test func commFallsBackTo115200ThenToStaying() {
        let config = NDISessionConfiguration(serialLine: true, commBaud: .b1228739, tools: [])
        let (t, _) = drive(config, [.reply(.okay), .reply(.error(.newCommParametersFailed)), .reply(.okay)])
        #expect(
            t == [
                "line 9600", "purge", "> INIT:E3A5", "pause 0.1 seconds", "> " + wire("COMM:70000"),
                "warning: COMM to 1228739 baud refused with ERROR06 (new comm parameters failed); trying 115200",
                "> COMM:500000048", "pause 0.1 seconds", "line 115200", "> PHSR:01E03E",
            ]
        )
        let (t2, _) = drive(
            config,
            [.reply(.okay), .reply(.error(.newCommParametersFailed)), .reply(.error(.newCommParametersFailed))]
        )
        #expect(
            t2.suffix(2) == [
                "warning: COMM to 115200 baud refused with ERROR06 (new comm parameters failed); staying at 9600",
                "> PHSR:01E03E",
            ]
        )
    }

    static let toTracking: [Scripted] = [
        .reply(.okay), .reply(handles([])), .reply(handles([])), .reply(handles([0x01])), .reply(.okay), .reply(.okay),
    ]

    @Test func whileTrackingAMalformedReplyIsSkippedAndTrackingGoesOn() {
        let config = NDISessionConfiguration(serialLine: false, tools: [Tools.probe])
        var corrupt = try! bx(frame: 2).encoded(for: .bx(.transformsAllVolumes))
        corrupt[corrupt.count - 2] ^= 0x01
        let (t, session) = drive(
            config,
            Self.toTracking + [.reply(bx(frame: 1)), .bytes(corrupt), .reply(bx(frame: 3))]
        )
        #expect(
            t.suffix(6).map { $0.hasPrefix("warning: skipped a malformed reply") ? "warning" : $0 } == [
                "frame 1", "> BX:080100EC", "warning", "> BX:080100EC", "frame 3", "> BX:080100EC",
            ]
        )
        #expect(session.malformedReplies == 1)
        #expect(session.isTracking)
    }

    @Test func whileTrackingATimeoutAResetOrThreeErrorsFail() {
        let config = NDISessionConfiguration(serialLine: false, tools: [Tools.probe])
        #expect(
            drive(config, Self.toTracking + [.timeout]).transcript.last == "failed: no reply to BX within 0.1 seconds"
        )
        #expect(
            drive(config, Self.toTracking + [.reply(.reset)]).transcript.last
                == "failed: the tracker reset itself (unsolicited RESET)"
        )
        let e = Scripted.reply(.error(.invalidInCurrentMode))
        let (t, s) = drive(config, Self.toTracking + [e, e, e])
        #expect(t.last == "failed: BX refused three times in a row: ERROR0C (command invalid in the current mode)")
        #expect(s.trackingErrors == 3)
        #expect(drive(config, Self.toTracking + [e, .reply(bx(frame: 1)), e, e]).transcript.last == "> BX:080100EC")
    }

    @Test func setUpFailuresNameTheCommandAndTheError() {
        let config = NDISessionConfiguration(serialLine: false, tools: [Tools.coil])
        #expect(
            drive(config, [.reply(.okay), .reply(handles([])), .reply(.error(.allHandlesAllocated))]).transcript.last
                == "failed: PHRQ was refused: ERROR2D (\(NDIErrorCode.allHandlesAllocated.meaning!))"
        )
        // A reply that cannot answer the command is resent three times, then fails.
        let (bad, _) = drive(config, Array(repeating: .reply(.okay), count: 5))
        #expect(bad.filter { $0 == "> PHSR:01E03E" }.count == 4)
        #expect(bad.last?.hasPrefix("failed: malformed reply during set-up") == true)
        // A stop before tracking finishes at once.
        var s = NDISession(configuration: config)
        _ = s.step(.start)
        #expect(s.step(.stop) == [.finished])
    }

    @Test func txIsUsedWhenAskedFor() {
        let config = NDISessionConfiguration(serialLine: false, tools: [Tools.probe], useTX: true)
        #expect(drive(config, Self.toTracking).transcript.last == "> TX:0801C19B")
    }
}
