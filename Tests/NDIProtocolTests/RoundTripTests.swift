import Geometry
import NDIProtocol
import Testing

/// Seeded property tests: what the tracker-side encoders write, the host-side parsers read back.
@Suite struct RoundTripTests {
    /// A random handle report; `bx` limits statuses to those BX can express and leaves a
    /// disabled handle without port status (BX sends nothing after its status byte).
    static func randomReport(handle: UInt8, option: NDIReplyOption, bx: Bool, rng: inout SplitMix64) -> NDIHandleReport
    {
        let statuses: [NDIHandleStatus] =
            bx ? [.valid, .valid, .missing, .disabled] : [.valid, .valid, .missing, .disabled, .unoccupied]
        let status = statuses[Int(rng.next() % UInt64(statuses.count))]
        var report = NDIHandleReport(handle: handle, status: status)
        if status == .unoccupied || (bx && status == .disabled) {
            return report
        }
        if status == .valid {
            let t = rng.nextGaussianVector(sigma: 400)
            report.transform = NDITransform(
                rotation: rng.nextRotation(),
                translation: Vector3(max(-9999, min(9999, t.x)), max(-9999, min(9999, t.y)), -abs(t.z) - 500),
                rmsError: rng.nextUnitDouble() * 2
            )
        }
        report.portStatus = NDIPortStatus(
            rawValue: bx ? UInt32(truncatingIfNeeded: rng.next()) : UInt32(truncatingIfNeeded: rng.next())
        )
        report.frameNumber = UInt32(truncatingIfNeeded: rng.next())
        guard bx else { return report }
        if option.contains(.toolAndMarkerInfo) {
            report.toolMarkerInfo = NDIToolMarkerInfo(
                toolInformation: UInt8(truncatingIfNeeded: rng.next()),
                markerInformation: (0..<10).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            )
        }
        if option.contains(.activeStray) {
            let s = UInt8(rng.next() % 3)
            report.activeStray = NDIActiveStray(status: s, position: s == 0 ? nil : rng.nextGaussianVector(sigma: 300))
        }
        if option.contains(.markerPositions) {
            report.markers = Self.randomMarkers(rng: &rng)
        }
        return report
    }

    static func randomMarkers(rng: inout SplitMix64) -> NDIMarkerSet {
        let n = Int(rng.next() % 20)
        return NDIMarkerSet(
            outOfVolume: (0..<((n + 7) / 8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) },
            positions: (0..<n).map { _ in rng.nextGaussianVector(sigma: 500) }
        )
    }

    /// What a float32 wire value reads back as.
    static func float32(_ v: Double) -> Double { Double(Float(v)) }

    static func float32(_ r: NDIHandleReport) -> NDIHandleReport {
        var r = r
        if let t = r.transform {
            r.transform = NDITransform(
                rotation: Quaternion(
                    q0: float32(t.rotation.q0),
                    qx: float32(t.rotation.qx),
                    qy: float32(t.rotation.qy),
                    qz: float32(t.rotation.qz)
                ),
                translation: Vector3(float32(t.translation.x), float32(t.translation.y), float32(t.translation.z)),
                rmsError: float32(t.rmsError)
            )
        }
        if let p = r.activeStray?.position {
            r.activeStray?.position = Vector3(float32(p.x), float32(p.y), float32(p.z))
        }
        if let m = r.markers {
            r.markers = float32(m)
        }
        return r
    }

    static func float32(_ m: NDIMarkerSet) -> NDIMarkerSet {
        NDIMarkerSet(
            outOfVolume: m.outOfVolume,
            positions: m.positions.map { Vector3(float32($0.x), float32($0.y), float32($0.z)) }
        )
    }

    @Test(arguments: [0x0001, 0x0801, 0x0003, 0x0805, 0x0009, 0x1801, 0x180F] as [UInt16])
    func bxRoundTripIsExactAtFloat32(rawOption: UInt16) throws {
        let option = NDIReplyOption(rawValue: rawOption)
        var rng = SplitMix64(seed: UInt64(rawOption) &* 7919)
        for _ in 0..<40 {
            let count = Int(rng.next() % 7)
            let handles = (0..<count).map { i in
                Self.randomReport(handle: UInt8(i + 1), option: option, bx: true, rng: &rng)
            }
            let reply = NDITrackingReply(
                handles: handles,
                systemStatus: NDISystemStatus(rawValue: UInt16(truncatingIfNeeded: rng.next())),
                passiveStrays: option.contains(.passiveStrays) ? Self.randomMarkers(rng: &rng) : nil
            )
            let bytes = try reply.encodeBX(option: option)
            let frame = try #require(singleFrame(bytes))
            let back = try NDITrackingReply.parseBX(frame, option: option)
            var expected = reply
            expected.handles = reply.handles.map(Self.float32)
            expected.passiveStrays = reply.passiveStrays.map(Self.float32)
            #expect(back == expected)
            #expect(try back.encodeBX(option: option) == bytes)
            #expect(try NDIReply.parse(frame, command: .bx(option)) == .tracking(expected))
        }
    }

    @Test(arguments: [0x0001, 0x0801, 0x1001] as [UInt16])
    func txRoundTripIsWithinTheFixedPointSteps(rawOption: UInt16) throws {
        let option = NDIReplyOption(rawValue: rawOption)
        var rng = SplitMix64(seed: 31 &+ UInt64(rawOption))
        for _ in 0..<40 {
            let count = Int(rng.next() % 7)
            let handles = (0..<count).map { i in
                Self.randomReport(handle: UInt8(0x0A + i), option: option, bx: false, rng: &rng)
            }
            var strays: NDIMarkerSet?
            if option.contains(.passiveStrays) {
                let n = Int(rng.next() % 9)
                strays = NDIMarkerSet(
                    outOfVolume: (0..<((n + 3) / 4)).map { _ in UInt8(rng.next() % 16) },
                    positions: (0..<n).map { _ in rng.nextGaussianVector(sigma: 500) }
                )
            }
            let reply = NDITrackingReply(
                handles: handles,
                systemStatus: NDISystemStatus(rawValue: UInt16(truncatingIfNeeded: rng.next())),
                passiveStrays: strays
            )
            let bytes = try reply.encodeTX(option: option)
            let back = try NDITrackingReply.parseTX(#require(singleFrame(bytes)), option: option)
            #expect(back.handles.count == reply.handles.count)
            #expect(back.systemStatus == reply.systemStatus)
            for (a, b) in zip(reply.handles, back.handles) {
                #expect(a.handle == b.handle && a.status == b.status)
                #expect(a.portStatus == b.portStatus && a.frameNumber == b.frameNumber)
                #expect((a.transform == nil) == (b.transform == nil))
                if let ta = a.transform, let tb = b.transform {
                    let qa = [ta.rotation.q0, ta.rotation.qx, ta.rotation.qy, ta.rotation.qz, ta.rmsError]
                    let qb = [tb.rotation.q0, tb.rotation.qx, tb.rotation.qy, tb.rotation.qz, tb.rmsError]
                    for (x, y) in zip(qa, qb) {
                        #expect(abs(x - y) <= 0.00005 + 1e-12)
                    }
                    for k in 0..<3 {
                        #expect(abs(ta.translation[k] - tb.translation[k]) <= 0.005 + 1e-9)
                    }
                }
            }
            if let s = strays, let t = back.passiveStrays {
                #expect(s.outOfVolume == t.outOfVolume)
                #expect(s.positions.count == t.positions.count)
                for (p, q) in zip(s.positions, t.positions) {
                    #expect(max(abs(p.x - q.x), abs(p.y - q.y), abs(p.z - q.z)) <= 0.005 + 1e-9)
                }
            } else {
                #expect(strays == nil && back.passiveStrays == nil)
            }
            // Re-encoding what was read gives the same bytes.
            #expect(try back.encodeTX(option: option) == bytes)
        }
    }

    @Test func randomCommandsRoundTripInEveryForm() throws {
        var rng = SplitMix64(seed: 1_000_003)
        func byte() -> UInt8 { UInt8(truncatingIfNeeded: rng.next()) }
        let criteriaAlphabet = Array("0123456789ABCDEF*".utf8)
        for _ in 0..<300 {
            let command: NDICommand
            switch rng.next() % 14 {
            case 0: command = .initialize
            case 1:
                command = .comm(
                    baud: NDIBaudRate.allCases[Int(rng.next() % 9)],
                    dataBits: NDIDataBits.allCases[Int(rng.next() % 2)],
                    parity: NDIParity.allCases[Int(rng.next() % 3)],
                    stopBits: NDIStopBits.allCases[Int(rng.next() % 2)],
                    handshake: rng.next() % 2 == 0
                )
            case 2: command = .phsr(NDIPortHandleFilter(rawValue: byte()))
            case 3:
                command = .phrq(
                    criteria: String(
                        decoding: (0..<14).map { _ in criteriaAlphabet[Int(rng.next() % 17)] },
                        as: UTF8.self
                    )
                )
            case 4: command = .phf(handle: byte())
            case 5:
                command = .pvwr(
                    handle: byte(),
                    address: UInt16(truncatingIfNeeded: rng.next()),
                    data: NDIROMChunk((0..<64).map { _ in byte() })!
                )
            case 6: command = .pinit(handle: byte())
            case 7: command = .pena(handle: byte(), priority: NDITrackingPriority.allCases[Int(rng.next() % 3)])
            case 8:
                command = .phinf(
                    handle: byte(),
                    option: rng.next() % 2 == 0
                        ? nil : NDIPortInfoOption(rawValue: UInt16(truncatingIfNeeded: rng.next()))
                )
            case 9: command = .ver(byte())
            case 10: command = rng.next() % 2 == 0 ? .tstart : .tstop
            case 11:
                command = .bx(
                    rng.next() % 3 == 0 ? nil : NDIReplyOption(rawValue: UInt16(truncatingIfNeeded: rng.next()))
                )
            case 12:
                command = .tx(
                    rng.next() % 3 == 0 ? nil : NDIReplyOption(rawValue: UInt16(truncatingIfNeeded: rng.next()))
                )
            default: command = .beep(byte())
            }
            let form: NDICommand.Form =
                command.parameters.isEmpty
                ? [.crc, .space, .bare][Int(rng.next() % 3)] : [.crc, .space][Int(rng.next() % 2)]
            let wire = try command.encoded(form: form)
            #expect(try NDICommand.parseReceived(wire) == NDIReceivedCommand(command: command, form: form))
            if form == .crc {
                // A flipped bit in the name or parameters is caught: the CRC detects every
                // single-bit error. (The ':' is left alone: flipped to a digit it makes a longer
                // name, a different but valid bare command.)
                var damaged = wire
                let colon = command.name.utf8.count
                var at = Int(rng.next() % UInt64(wire.count - 5))
                if at == colon { at = 0 }
                damaged[at] ^= UInt8(1 << (rng.next() % 8))
                #expect(throws: NDICommandError.self) { try NDICommand.parse(damaged) }
                // So is one in the CRC digits, except a letter's case (hex digits are read in
                // either case): bit 5 is left alone.
                var damagedCRC = wire
                damagedCRC[wire.count - 5 + Int(rng.next() % 4)] ^= UInt8(1 << (rng.next() % 5))
                #expect(throws: NDICommandError.self) { try NDICommand.parse(damagedCRC) }
            }
        }
    }

    /// A mock-like session: replies for a stream of commands, framed in random chunks, parsed
    /// back with the command each answers.
    @Test func sessionOfRepliesThroughTheFramer() throws {
        var rng = SplitMix64(seed: 77)
        var expected: [(NDICommand, NDIReply)] = [
            (.initialize, .okay),
            (.phsr(.toBeFreed), .portHandles(NDIPortHandleList(entries: []))),
            (.phrq(), .portHandle(0x0A)),
            (.pinit(handle: 0x0A), .okay),
            (.pena(handle: 0x0A, priority: .dynamic), .error(.invalidPortHandle)),
            (.ver(0), .version(NDIVersionInfo(text: "Mock\nFreeze Tag: Mock 001\n"))),
            (.tstart, .okay),
        ]
        for i in 0..<50 {
            let option = NDIReplyOption(rawValue: i % 2 == 0 ? 0x0801 : 0x0001)
            let isTX = i % 5 == 4
            let handles = (0..<3).map { h in
                Self.randomReport(handle: UInt8(h + 1), option: option, bx: !isTX, rng: &rng)
            }
            let tracking = NDITrackingReply(handles: handles.map(Self.float32), systemStatus: [])
            expected.append((isTX ? .tx(option) : .bx(option), .tracking(tracking)))
        }
        expected.append((.tstop, .okay))
        var stream: [UInt8] = []
        for (command, reply) in expected {
            stream += try reply.encoded(for: command)
        }
        for sizes in [[1], [stream.count], randomChunkSizes(count: 100, maximum: 97, using: &rng)] {
            let frames = frameInChunks(stream, sizes: sizes)
            #expect(frames.count == expected.count)
            for (result, (command, reply)) in zip(frames, expected) {
                let frame = try #require(result.frame)
                let parsed = try NDIReply.parse(frame, command: command)
                if case .tx = command, case .tracking(let a) = reply, case .tracking(let b) = parsed {
                    // TX is fixed-point: compare after one more trip.
                    #expect(try b.encodeTX(option: nil) == a.encodeTX(option: nil))
                } else {
                    #expect(parsed == reply)
                }
            }
        }
    }
}
