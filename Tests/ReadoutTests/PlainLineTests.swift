import Readout
import Testing

@Suite struct PlainLineTests {
    let s = Known.second

    @Test func onTargetLineHasEveryFieldInOrder() {
        #expect(
            PlainLine.line(Known.state(Known.onTargetFrame), at: 10 * s)
                == "frame=2123 state=ON-TARGET dwell=1.3s target=DLPFC-Fox2012 valid=yes reasons=- dist=0.50mm inplane=0.40mm depth=+0.30mm tilt=1.5deg twist=-2.0deg coil=ok head=ok pointer=missing rate=60.0Hz dropped=0 fre=0.72mm tre=0.58mm lost=-"
        )
        let keys = PlainLine.line(Known.state(Known.onTargetFrame), at: 10 * s).split(separator: " ").map {
            String($0.split(separator: "=")[0])
        }
        #expect(keys == PlainLine.fields)
    }

    @Test func offTargetInvalidLostAndUnreachableLines() {
        #expect(
            PlainLine.line(Known.state(Known.farFrame), at: 10 * s)
                == "frame=1100 state=OFF-TARGET dwell=- target=DLPFC-Fox2012 valid=yes reasons=- dist=17.20mm inplane=12.04mm depth=-12.00mm tilt=12.0deg twist=+45.0deg coil=ok head=ok pointer=partly-out-of-volume rate=60.0Hz dropped=0 fre=0.72mm tre=0.58mm lost=-"
        )
        #expect(
            PlainLine.line(Known.state(Known.coilMissingFrame), at: 10 * s)
                == "frame=1500 state=INVALID dwell=- target=DLPFC-Fox2012 valid=no reasons=coil-missing dist=- inplane=- depth=- tilt=- twist=- coil=missing head=ok pointer=none rate=60.0Hz dropped=0 fre=0.72mm tre=0.58mm lost=-"
        )
        var acquiring = Known.onTargetFrame
        acquiring.onTarget = ReadoutOnTarget(state: "acquiring", on: false, dwellMs: 250)
        #expect(PlainLine.line(Known.state(acquiring), at: 10 * s).contains(" state=ACQUIRING dwell=0.3s "))

        var lost = Known.state(Known.onTargetFrame)
        lost.apply(.event(.trackingLost(lastFrame: 2123, silenceMs: 100)), at: 10 * s + 100_000_000)
        #expect(
            PlainLine.line(lost, at: 11 * s + 300_000_000)
                == "frame=2123 state=TRACKING-LOST dwell=- target=DLPFC-Fox2012 valid=no reasons=tracking-lost dist=- inplane=- depth=- tilt=- twist=- coil=- head=- pointer=- rate=60.0Hz dropped=0 fre=0.72mm tre=0.58mm lost=1.3s"
        )
        var gone = ReadoutState(serverLabel: "127.0.0.1:18945")
        gone.setConnection(.unreachable(reason: "connection refused", attempt: 3, sinceNanoseconds: 0))
        #expect(
            PlainLine.line(gone, at: 2_500_000_000)
                == "frame=- state=UNREACHABLE dwell=- target=- valid=no reasons=server-unreachable dist=- inplane=- depth=- tilt=- twist=- coil=- head=- pointer=- rate=- dropped=- fre=- tre=- lost=2.5s"
        )
        var waiting = ReadoutState(serverLabel: "x:1")
        waiting.setConnection(.connected(sinceNanoseconds: 0))
        #expect(PlainLine.line(waiting, at: 0).hasPrefix("frame=- state=WAITING dwell=- target=- valid=- reasons=no-frame-yet "))
    }

    @Test func targetNamesWithSpacesAreQuoted() {
        #expect(PlainLine.quoted("DLPFC-Fox2012") == "DLPFC-Fox2012")
        #expect(PlainLine.quoted("M1 hand") == "\"M1 hand\"")
        #expect(PlainLine.quoted("a=\"b\"\\") == "\"a=\\\"b\\\"\\\\\"")
        #expect(PlainLine.quoted(nil) == "-")
        var f = Known.farFrame
        f.target = "M1 hand"
        #expect(PlainLine.line(Known.state(f, status: nil), at: 10 * s).contains(" target=\"M1 hand\" valid=yes "))
    }

    @Test func plainLinesNeverHoldAnEscape() {
        for frame in [Known.onTargetFrame, Known.farFrame, Known.coilMissingFrame] {
            #expect(!PlainLine.line(Known.state(frame), at: 10 * s).contains("\u{1B}"))
        }
    }
}

@Suite struct PolicyTests {
    @Test func plainColourAndScreenRules() {
        let tty = ["TERM": "xterm-256color"]
        #expect(ReadoutPolicy.output(plainFlag: false, noColorFlag: false, standardOutputIsTerminal: true, environment: tty) == .screen(colour: true))
        #expect(ReadoutPolicy.output(plainFlag: true, noColorFlag: false, standardOutputIsTerminal: true, environment: tty) == .plain)
        #expect(ReadoutPolicy.output(plainFlag: false, noColorFlag: false, standardOutputIsTerminal: false, environment: tty) == .plain)
        #expect(ReadoutPolicy.output(plainFlag: false, noColorFlag: true, standardOutputIsTerminal: true, environment: tty) == .screen(colour: false))
        #expect(
            ReadoutPolicy.output(plainFlag: false, noColorFlag: false, standardOutputIsTerminal: true, environment: ["TERM": "xterm", "NO_COLOR": ""])
                == .screen(colour: false))
        #expect(
            ReadoutPolicy.output(plainFlag: false, noColorFlag: false, standardOutputIsTerminal: true, environment: ["TERM": "xterm", "NO_COLOR": "1"])
                == .screen(colour: false))
        #expect(ReadoutPolicy.output(plainFlag: false, noColorFlag: false, standardOutputIsTerminal: true, environment: [:]) == .screen(colour: false))
        #expect(ReadoutPolicy.output(plainFlag: false, noColorFlag: false, standardOutputIsTerminal: true, environment: ["TERM": "dumb"]) == .plain)
    }
}
