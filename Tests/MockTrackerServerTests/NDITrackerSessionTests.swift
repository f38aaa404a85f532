import MockTracker
import NDIProtocol
import Testing

@testable import MockTrackerServer

/// The tracker-side state machine, input by input, with exact reply bytes.
struct NDITrackerSessionTests {
    typealias Action = NDITrackerSession.Action

    static func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }

    func makeSession(link: NDITrackerSession.Link = .serial, withoutFaults: Bool = false) throws -> NDITrackerSession {
        let scenario = try TestScenario.scenario(withoutFaults: withoutFaults)
        return NDITrackerSession(
            simulation: MockSimulation(scenario: scenario, seed: 7),
            toolDefinitions: try TestScenario.definitions(),
            link: link
        )
    }

    /// Feeds raw command bytes (one command, CR included) through the codec's framer.
    func feed(_ session: inout NDITrackerSession, _ bytes: [UInt8], frame: Int = 0) -> [Action] {
        var framer = NDICommandFramer()
        framer.feed(bytes)
        var actions: [Action] = []
        while let next = framer.next() {
            actions += session.handle(.command(next)) { frame }
        }
        return actions
    }

    func feed(_ session: inout NDITrackerSession, _ command: NDICommand, frame: Int = 0) -> [Action] {
        self.feed(&session, try! command.encoded(), frame: frame)
    }

    func sent(_ actions: [Action]) -> [UInt8] {
        actions.flatMap { action -> [UInt8] in
            if case .send(let bytes) = action { return bytes }
            return []
        }
    }

    @Test func initAnswersOkayInAllThreeForms() throws {
        for form in [NDICommand.Form.crc, .space, .bare] {
            var s = try makeSession()
            #expect(self.feed(&s, try NDICommand.initialize.encoded(form: form)) == [.send(Self.ascii("OKAYA896\r"))])
            #expect(s.mode == .setup)
        }
    }

    @Test func onlyInitVersionGetinfoBeepAreValidAfterPowerUp() throws {
        var s = try makeSession()
        #expect(self.sent(self.feed(&s, .phsr(.all))) == Self.ascii("ERROR103B02\r"))
        #expect(self.sent(self.feed(&s, .tstart)) == Self.ascii("ERROR103B02\r"))
        #expect(self.sent(self.feed(&s, .bx(.transformsAllVolumes))) == Self.ascii("ERROR103B02\r"))
        let ver = self.sent(self.feed(&s, .ver(0)))
        let frame = try NDIReplyFramer.frames(in: ver)[0].get()
        guard case .version(let info) = try NDIReply.parse(frame, command: .ver(0)) else {
            Issue.record("VER")
            return
        }
        #expect(info.freezeTag == NDITrackerSession.firmwareVersion)
        let getinfo = self.sent(self.feed(&s, Array("GETINFO:Features.Firmware.Version0492\r".utf8)))
        #expect(String(decoding: getinfo, as: UTF8.self).hasPrefix("Features"))
        #expect(self.sent(self.feed(&s, .beep(1))) == NDIReply.asciiFrame(payload: Self.ascii("1")))
        #expect(s.mode == .powerUp)
    }

    @Test func bxBeforeTstartIsError0C() throws {
        var s = try makeSession()
        _ = self.feed(&s, .initialize)
        #expect(self.feed(&s, Self.ascii("BX:080100EC\r")) == [.send(Self.ascii("ERROR0C4E42\r"))])
        #expect(self.feed(&s, .tx(.transformsAllVolumes)) == [.send(Self.ascii("ERROR0C4E42\r"))])
        #expect(self.feed(&s, .tstop) == [.send(Self.ascii("ERROR0C4E42\r"))])
    }

    @Test func badCRCIsError04AndUnknownCommandError01() throws {
        var s = try makeSession()
        #expect(self.feed(&s, Self.ascii("INIT:E3A6\r")) == [.send(Self.ascii("ERROR046802\r"))])
        _ = self.feed(&s, .initialize)
        #expect(self.feed(&s, Self.ascii("FOO:\(String(format: "%04X", NDICRC16.checksum(Array("FOO:".utf8))))\r"))
            == [.send(Self.ascii("ERROR016BC2\r"))])
    }

    @Test func serialBreakResetsToPowerUpAt9600() throws {
        var s = try makeSession()
        _ = self.feed(&s, .initialize)
        #expect(self.feed(&s, .comm(baud: .init(bitsPerSecond: 115200)!)) == [
            .send(Self.ascii("OKAYA896\r")), .setLine(.init(baud: .init(bitsPerSecond: 115200)!)),
        ])
        _ = self.feed(&s, .tstart)
        let actions = s.handle(.serialBreak) { 0 }
        #expect(actions == [.trackingStopped, .setLine(.powerUp), .send(Self.ascii("RESETBE6F\r"))])
        #expect(s.mode == .powerUp)
        #expect(s.line == .powerUp)
        #expect(self.sent(self.feed(&s, .phsr(.all))) == Self.ascii("ERROR103B02\r"))
    }

    @Test func commOverTCPIsOkayWithoutEffect() throws {
        var s = try makeSession(link: .network)
        _ = self.feed(&s, .initialize)
        #expect(self.feed(&s, Self.ascii("COMM:500000048\r")) == [.send(Self.ascii("OKAYA896\r"))])
        #expect(s.line == .powerUp)
    }

    @Test func portHandleFlowWithExactPHSRReplies() throws {
        var s = try makeSession()
        _ = self.feed(&s, .initialize)
        // The active pointer (handle 3) is there from the start, occupied, to be initialised.
        #expect(self.sent(self.feed(&s, Self.ascii("PHSR:01E03E\r"))) == Self.ascii("00" + hexCRC("00") + "\r"))
        #expect(self.sent(self.feed(&s, Self.ascii("PHSR:02E17E\r"))) == Self.ascii("0103001B9AE\r"))
        // PHRQ hands out the passive tools' handles in file order.
        #expect(self.sent(self.feed(&s, Self.ascii("PHRQ:*********1****A4C1\r"))) == Self.ascii("01D4D5\r"))
        #expect(self.sent(self.feed(&s, .phrq())) == Self.ascii("02D595\r"))
        // Handle 1 gets the coil's ROM, handle 2 the head's: the handles become those tools.
        let coil = try #require(TestScenario.definitions()["tools/coil-reference.rom"])
        let head = try #require(TestScenario.definitions()["tools/head-reference.rom"])
        for c in NDIROMChunk.pvwrCommands(handle: 1, rom: coil)! {
            #expect(self.feed(&s, c) == [.send(Self.ascii("OKAYA896\r"))])
        }
        for c in NDIROMChunk.pvwrCommands(handle: 2, rom: head)! { _ = self.feed(&s, c) }
        // Passive handles are occupied once their ROM is written.
        #expect(self.sent(self.feed(&s, .phsr(.notInitialized))) == Self.ascii("03010010200103001" + hexCRC("03010010200103001") + "\r"))
        #expect(self.sent(self.feed(&s, .pena(handle: 1, priority: .dynamic))) == Self.ascii("ERROR0E4CC2\r"))
        #expect(self.sent(self.feed(&s, .pinit(handle: 9))) == Self.ascii("ERROR086D02\r"))
        for h: UInt8 in [1, 2, 3] { #expect(self.sent(self.feed(&s, .pinit(handle: h))) == Self.ascii("OKAYA896\r")) }
        #expect(s.ports[1]?.toolIndex == 1)
        #expect(s.ports[2]?.toolIndex == 0)
        #expect(s.ports[3]?.toolIndex == 2)
        #expect(self.sent(self.feed(&s, .phsr(.notEnabled))) == Self.ascii("03010110201103011" + hexCRC("03010110201103011") + "\r"))
        for h: UInt8 in [1, 2, 3] { _ = self.feed(&s, .pena(handle: h, priority: .dynamic)) }
        #expect(self.sent(self.feed(&s, .phsr(.enabled))) == Self.ascii("03010310203103031" + hexCRC("03010310203103031") + "\r"))
        // Setup commands are refused while tracking; TSTART with an option is accepted.
        #expect(self.feed(&s, Self.ascii("TSTART:80" + hexCRC("TSTART:80") + "\r")) == [.send(Self.ascii("OKAYA896\r")), .trackingStarted])
        #expect(self.sent(self.feed(&s, .phrq())) == Self.ascii("ERROR0C4E42\r"))
        #expect(self.sent(self.feed(&s, .tstart)) == Self.ascii("ERROR0C4E42\r"))
        // BX: handle 1 carries the coil, handle 2 the head, handle 3 the pointer.
        let frameIndex = 3
        let bx = self.sent(self.feed(&s, .bx(.transformsAllVolumes), frame: frameIndex))
        let reply = try NDITrackingReply.parseBX(try NDIReplyFramer.frames(in: bx)[0].get(), option: .transformsAllVolumes)
        let frame = s.simulation.frame(frameIndex)
        #expect(reply.handles.map(\.handle) == [1, 2, 3])
        expectReport(reply.report(for: 1), matches: frame.tools[1], frameNumber: 1003)
        expectReport(reply.report(for: 2), matches: frame.tools[0], frameNumber: 1003)
        expectReport(reply.report(for: 3), matches: frame.tools[2], frameNumber: 1003)
        #expect(reply.systemStatus == [])
        #expect(self.feed(&s, .tstop) == [.send(Self.ascii("OKAYA896\r")), .trackingStopped])
    }

    @Test func wrongToolDefinitionStaysMissingForever() throws {
        var s = try makeSession(withoutFaults: true)
        _ = self.feed(&s, .initialize)
        _ = self.feed(&s, .phrq())
        var wrong = try #require(TestScenario.definitions()["tools/head-reference.rom"])
        wrong[100] ^= 0xFF
        for c in NDIROMChunk.pvwrCommands(handle: 1, rom: wrong)! { _ = self.feed(&s, c) }
        #expect(self.sent(self.feed(&s, .pinit(handle: 1))) == Self.ascii("OKAYA896\r"))
        #expect(s.ports[1]?.toolIndex == nil)
        _ = self.feed(&s, .pena(handle: 1, priority: .dynamic))
        _ = self.feed(&s, .tstart)
        for i in 0..<40 {
            let bx = self.sent(self.feed(&s, .bx(nil), frame: i))
            let reply = try NDITrackingReply.parseBX(try NDIReplyFramer.frames(in: bx)[0].get(), option: nil)
            #expect(reply.handles.count == 1)  // the active pointer is not enabled: not reported
            #expect(reply.report(for: 1)?.status == .missing)
            #expect(reply.report(for: 1)?.portStatus == [.occupied, .initialized, .enabled])
        }
    }

    @Test func pinitWithoutROMFailsAndPHFFrees() throws {
        var s = try makeSession()
        _ = self.feed(&s, .initialize)
        _ = self.feed(&s, .phrq())
        #expect(self.sent(self.feed(&s, .pinit(handle: 1))) == Self.ascii("ERROR133A42\r"))
        #expect(self.sent(self.feed(&s, .phf(handle: 1))) == Self.ascii("OKAYA896\r"))
        #expect(self.sent(self.feed(&s, .phf(handle: 1))) == Self.ascii("ERROR086D02\r"))
    }

    @Test func faultsFireOnceOnTheirFrame() throws {
        var s = try makeSession()
        _ = self.feed(&s, .initialize)
        _ = self.feed(&s, .pinit(handle: 3))
        _ = self.feed(&s, .pena(handle: 3, priority: .dynamic))
        _ = self.feed(&s, .tstart)
        // Frame 25: the body CRC is wrong; the host framer rejects it.
        let bad = self.feed(&s, .bx(.transformsAllVolumes), frame: 25)
        #expect(bad.count == 1)
        let results = NDIReplyFramer.frames(in: self.sent(bad))
        #expect(results.count == 1)
        guard case .failure = results[0] else {
            Issue.record("a corrupt-CRC reply was accepted")
            return
        }
        // The same frame again: no second fault.
        #expect(NDIReplyFramer.frames(in: self.sent(self.feed(&s, .bx(.transformsAllVolumes), frame: 25))).allSatisfy {
            if case .success = $0 { true } else { false }
        })
        // A host polling slowly jumps from 25 to 30: the stall at 28 still fires, with the reply.
        let stalled = self.feed(&s, .bx(.transformsAllVolumes), frame: 30)
        #expect(stalled.count == 2)
        #expect(stalled.first == .stall(.milliseconds(150)))
        // Frame 32: no reply, disconnect, back in power-up mode.
        #expect(self.feed(&s, .bx(.transformsAllVolumes), frame: 32) == [.trackingStopped, .disconnect(.milliseconds(200))])
        #expect(s.mode == .powerUp)
        #expect(s.firedFaults == [25, 28, 32])
    }

    @Test func phinfAndUnsupportedReplyOptions() throws {
        var s = try makeSession()
        _ = self.feed(&s, .initialize)
        // The active pointer: occupied, identified as a pointer; PLUS's 0x0025 option set too.
        for option: NDIPortInfoOption? in [nil, [.basic, .partNumber, .portLocation]] {
            let command = NDICommand.phinf(handle: 3, option: option)
            let frame = try NDIReplyFramer.frames(in: self.sent(self.feed(&s, command)))[0].get()
            guard case .portInfo(let info) = try NDIReply.parse(frame, command: command) else {
                Issue.record("PHINF")
                return
            }
            #expect(info.basic?.mainType == 0x02)
            #expect(info.basic?.manufacturer == "COILNAV     ")
            #expect(info.basic?.serialNumber == "MOCK0003")
            #expect(info.basic?.portStatus == [.occupied])
            if option != nil { #expect(info.partNumber == "pointer" + String(repeating: " ", count: 13)) }
        }
        // A requested handle without a ROM is unoccupied; an unknown handle ERROR08.
        _ = self.feed(&s, .phrq())
        let unoccupied = try NDIReplyFramer.frames(in: self.sent(self.feed(&s, .phinf(handle: 1, option: nil))))[0].get()
        #expect(try NDIReply.parse(unoccupied, command: .phinf(handle: 1, option: nil)) == .portInfo(.unoccupied))
        #expect(self.sent(self.feed(&s, .phinf(handle: 0x40, option: nil))) == Self.ascii("ERROR086D02\r"))
        // BX options the mock has no data for (markers, strays) are refused.
        _ = self.feed(&s, .tstart)
        let markers = NDIReplyOption([.transformsAndStatus, .markerPositions])
        #expect(self.sent(self.feed(&s, .bx(markers))) == NDIReply.asciiFrame(payload: Self.ascii("ERROR23")))
        #expect(self.sent(self.feed(&s, .tx(.passiveStrays))) == NDIReply.asciiFrame(payload: Self.ascii("ERROR23")))
    }

    @Test func txCorruptCRCStaysFramed() throws {
        var bytes = NDIReply.asciiFrame(payload: Array("0100000000".utf8))
        NDITrackerSession.corruptCRC(&bytes)
        #expect(bytes.count == 15)
        guard case .failure(let error) = NDIReplyFramer.frames(in: bytes)[0] else {
            Issue.record("accepted")
            return
        }
        #expect(error.kind == .crc)
    }
}

func hexCRC(_ s: String) -> String {
    String(decoding: NDICRC16.hexDigits(NDICRC16.checksum(Array(s.utf8))), as: UTF8.self)
}
