import Readout
import Testing

@Suite struct StateTests {
    let s = Known.second

    @Test func phasesFollowTheOnTargetStateOfValidFrames() {
        var state = Known.state(nil)
        #expect(state.phase(at: 10 * s) == .waiting(tracker: "tracking"))
        var f = Known.farFrame
        state.apply(.frame(f), at: 11 * s)
        #expect(state.phase(at: 11 * s) == .offTarget)
        f.onTarget = ReadoutOnTarget(state: "acquiring", on: false, dwellMs: 300)
        state.apply(.frame(f), at: 12 * s)
        #expect(state.phase(at: 12 * s) == .acquiring(dwellSeconds: 0.3))
        f.onTarget = ReadoutOnTarget(state: "on", on: true, dwellMs: 800)
        state.apply(.frame(f), at: 13 * s)
        #expect(state.phase(at: 13 * s) == .onTarget(dwellSeconds: 0.8, holding: false))
        f.onTarget = ReadoutOnTarget(state: "holding", on: true, dwellMs: 2500)
        state.apply(.frame(f), at: 14 * s)
        #expect(state.phase(at: 14 * s) == .onTarget(dwellSeconds: 2.5, holding: true))
        #expect(state.currentFrame(at: 14 * s) == f)
        state.apply(.frame(Known.coilMissingFrame), at: 15 * s)
        #expect(state.phase(at: 15 * s) == .invalid(reasons: ["coil-missing"]))
        #expect(state.currentFrame(at: 15 * s) == nil)
        #expect(state.framesSeen == 5)
    }

    /// Lost by the server's event (its silence plus the time since), by the server's status, or by
    /// the readout's own silence limit; a frame or `tracking-restored` ends it.
    /// The server's watchdog counts from its start, so it announces a loss while the tracker is
    /// still being set up: before any frame that is "waiting", with what the tracker is doing.
    @Test func aLossBeforeTheFirstFrameIsWaitingForTheTracker() {
        var state = ReadoutState(serverLabel: "127.0.0.1:18945")
        state.setConnection(.connected(sinceNanoseconds: 0))
        state.apply(.event(.trackerState("setting up")), at: 1 * s)
        state.apply(.event(.trackingLost(lastFrame: nil, silenceMs: 100)), at: 1 * s)
        #expect(state.phase(at: 2 * s) == .waiting(tracker: "setting up"))
        state.apply(.event(.trackerState("tracking")), at: 2 * s)
        #expect(state.phase(at: 2 * s) == .waiting(tracker: nil))
        // Once frames have come, a silence is a loss.
        state.apply(.event(.trackingRestored(frame: 7)), at: 3 * s)
        state.apply(.frame(Known.farFrame), at: 3 * s)
        state.apply(.event(.trackingLost(lastFrame: 1100, silenceMs: 50)), at: 4 * s)
        #expect(state.phase(at: 4 * s) == .trackingLost(silenceSeconds: 0.05, lastFrame: 1100, tracker: nil))
    }

    @Test func trackingLostFromTheEventTheStatusOrSilence() {
        var state = Known.state(Known.onTargetFrame, at: 10 * s)
        #expect(state.phase(at: 10 * s + 400_000_000) == .onTarget(dwellSeconds: 1.25, holding: false))
        // No frame for more than the limit (0.5 s): lost, however the server is.
        #expect(state.phase(at: 10 * s + 600_000_000) == .trackingLost(silenceSeconds: 0.6, lastFrame: 2123, tracker: nil))
        state.apply(.event(.trackingLost(lastFrame: 2123, silenceMs: 50)), at: 10 * s + 60_000_000)
        #expect(state.phase(at: 11 * s + 60_000_000) == .trackingLost(silenceSeconds: 1.05, lastFrame: 2123, tracker: nil))
        state.apply(.event(.trackerState("reconnecting in 0.2 seconds (attempt 2)")), at: 11 * s)
        #expect(
            state.phase(at: 11 * s + 60_000_000)
                == .trackingLost(silenceSeconds: 1.05, lastFrame: 2123, tracker: "reconnecting in 0.2 seconds (attempt 2)"))
        state.apply(.event(.trackingRestored(frame: 2200)), at: 12 * s)
        #expect(state.trackingLost == nil)
        var f = Known.onTargetFrame
        f.frame = 2200
        f.onTarget = ReadoutOnTarget(state: "off", on: false, dwellMs: 0)
        state.apply(.frame(f), at: 12 * s)
        #expect(state.phase(at: 12 * s) == .offTarget)
        #expect(state.lastEvent == "tracking restored at frame 2200")

        // A readout that connects while tracking is lost learns it from the status.
        var late = Known.state(nil, status: ReadoutStatus(
            tracker: "tracking lost", lastFrame: 41, registered: true, target: "F3", freMM: nil, predictedTREMM: nil, fleMM: nil,
            frameRateHz: nil, framesReceived: 41, framesDropped: 0))
        #expect(late.phase(at: 10 * s) == .trackingLost(silenceSeconds: nil, lastFrame: 41, tracker: nil))
        late.apply(.frame(Known.farFrame), at: 10 * s)
        #expect(late.phase(at: 10 * s) == .offTarget)
    }

    @Test func connectionStatesComeFirstAndAReconnectForgetsTheOldServer() {
        var state = ReadoutState(serverLabel: "127.0.0.1:18945")
        #expect(state.phase(at: 0) == .connecting)
        state.setConnection(.unreachable(reason: "connection refused", attempt: 1, sinceNanoseconds: 0))
        #expect(state.phase(at: 2 * s) == .unreachable(reason: "connection refused", attempt: 1, seconds: 2))
        state.setConnection(.connected(sinceNanoseconds: 3 * s))
        state.apply(.status(Known.status), at: 3 * s)
        state.apply(.frame(Known.onTargetFrame), at: 3 * s)
        #expect(state.phase(at: 3 * s) == .onTarget(dwellSeconds: 1.25, holding: false))
        state.setConnection(.unreachable(reason: "the server closed the connection", attempt: 1, sinceNanoseconds: 4 * s))
        #expect(state.phase(at: 5 * s) == .unreachable(reason: "the server closed the connection", attempt: 1, seconds: 1))
        #expect(state.currentFrame(at: 5 * s) == nil)
        #expect(state.status == nil && state.frame?.frame == 2123)
        #expect(PlainLine.line(state, at: 5 * s).hasPrefix("frame=2123 state=UNREACHABLE "))
        #expect(PlainLine.line(state, at: 5 * s).hasSuffix(" rate=- dropped=- fre=- tre=- lost=1.0s"))
        state.setConnection(.connected(sinceNanoseconds: 6 * s))
        #expect(state.frame == nil && state.status == nil)
        #expect(state.phase(at: 6 * s) == .waiting(tracker: nil))
        #expect(state.target == "DLPFC-Fox2012")  // still named until the server says otherwise
    }

    @Test func eventsAndRefusalsBecomeTheMessageRow() {
        var state = Known.state(Known.farFrame)
        state.apply(.event(.onTarget(frame: 1234, dwellMs: 500)), at: 11 * s)
        #expect(state.lastEvent == "on target at frame 1234")
        state.apply(.event(.validityChanged(frame: 1300, valid: false, reasons: ["coil-missing", "head-reference-missing"])), at: 11 * s)
        #expect(state.lastEvent == "not valid from frame 1300: coil missing, head reference missing")
        state.apply(.event(.targetChanged("F3")), at: 11 * s)
        #expect(state.lastEvent == "target changed to F3" && state.target == "F3")
        state.apply(.event(.warning("tool phantom has never been seen")), at: 11 * s)
        #expect(state.lastEvent == "warning: tool phantom has never been seen")
        state.apply(.response(id: "subscribe", error: "field \"maxRateHz\": must not be negative, got -1.0"), at: 11 * s)
        #expect(state.lastError == "the server refused subscribe: field \"maxRateHz\": must not be negative, got -1.0")
    }

    @Test func silenceLimitIsThreeIntervalsAndAtLeastHalfASecond() {
        #expect(ReadoutPolicy.silenceLimitNanoseconds(rateHz: 30) == 500_000_000)
        #expect(ReadoutPolicy.silenceLimitNanoseconds(rateHz: 2) == 1_500_000_000)
        #expect(ReadoutPolicy.silenceLimitNanoseconds(rateHz: 0) == 500_000_000)
    }
}
