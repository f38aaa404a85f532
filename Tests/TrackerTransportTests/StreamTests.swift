import Foundation
import Testing

@testable import TrackerTransport

/// Runs `body` on a new thread; `wait(upTo:)` returns its result, or nil if it has not finished
/// within the bound (the bound only guards against a hang; nothing is timed).
final class Background<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<T, TransportError>?

    init(_ body: @escaping @Sendable () throws(TransportError) -> T) {
        Thread.detachNewThread {
            do throws(TransportError) {
                self.result = .success(try body())
            } catch {
                self.result = .failure(error)
            }
            self.done.signal()
        }
    }

    func wait(upTo seconds: Double = 10) -> Result<T, TransportError>? {
        self.done.wait(timeout: .now() + seconds) == .success ? self.result : nil
    }
}

/// Reads from `s` until `count` bytes arrived (bounded by 5 s).
func readAll(_ s: any ByteStream, count: Int) throws(TransportError) -> [UInt8] {
    try s.read(exactly: count, timeout: .seconds(5))
}

/// The stream a background `accept` returned (fails the test if there is none).
func accepted(_ server: Background<TCPStream?>) throws -> TCPStream {
    let result = try #require(server.wait(), "accept did not return")
    let stream = try #require(try result.get(), "accept timed out")
    return stream
}

// MARK: - PipeStream

@Suite struct PipeStreamTests {
    @Test func bytesGoBothWaysInOrder() throws {
        let (a, b) = PipeStream.pair()
        try a.write([1, 2, 3])
        try a.write([4])
        #expect(try readAll(b, count: 4) == [1, 2, 3, 4])
        try b.write(Array("OKAYA896\r".utf8))
        #expect(try a.read(maxBytes: 4, timeout: .seconds(1)) == Array("OKAY".utf8))
        #expect(try a.read(maxBytes: 100, timeout: .seconds(1)) == Array("A896\r".utf8))
    }

    @Test func readTimesOutWithNothing() throws {
        let (a, _) = PipeStream.pair()
        #expect(try a.read(maxBytes: 10, timeout: .milliseconds(20)) == [])
        #expect(try a.read(maxBytes: 10, timeout: .zero) == [])
        #expect(throws: TransportError.self) { try a.read(maxBytes: 0, timeout: .zero) }
    }

    @Test func closeUnblocksAPendingReader() throws {
        let (a, _) = PipeStream.pair()
        let reader = Background { () throws(TransportError) in try a.read(maxBytes: 10, timeout: .seconds(60)) }
        Thread.sleep(forTimeInterval: 0.05)
        a.close()
        let r = try #require(reader.wait(), "close() did not wake the reader")
        #expect(throws: TransportError.self) { try r.get() }
        if case .failure(let e) = r { #expect(e.code == .closed) }
        #expect(throws: TransportError.self) { try a.write([1]) }
        a.close()  // idempotent
    }

    @Test func peerCloseDrainsThenDisconnects() throws {
        let (a, b) = PipeStream.pair()
        try a.write([9, 8, 7])
        a.close()
        #expect(try b.read(maxBytes: 10, timeout: .seconds(1)) == [9, 8, 7])
        do {
            _ = try b.read(maxBytes: 10, timeout: .seconds(1))
            Issue.record("expected .disconnected")
        } catch {
            #expect(error.code == .disconnected)
        }
        do {
            try b.write([1])
            Issue.record("expected .disconnected")
        } catch {
            #expect(error.code == .disconnected)
        }
    }

    @Test func peerCloseWakesABlockedReader() throws {
        let (a, b) = PipeStream.pair()
        let reader = Background { () throws(TransportError) in try b.read(maxBytes: 10, timeout: .seconds(60)) }
        Thread.sleep(forTimeInterval: 0.05)
        a.close()
        let r = try #require(reader.wait())
        if case .failure(let e) = r { #expect(e.code == .disconnected) } else { Issue.record("expected .disconnected, got \(r)") }
    }

    @Test func serialLineEmulation() throws {
        let (host, device) = PipeStream.pair(serialLine: true)
        #expect(host.hasSerialLine)
        #expect(device.lineParameters == .ndiDefault)
        try host.setLineParameters(baud: 1_228_739)
        #expect(device.lineParameters?.baud == 1_228_739)
        try host.sendBreak(duration: .milliseconds(1))
        try host.sendBreak(duration: .milliseconds(1))
        #expect(device.takeBreaks() == 2)
        #expect(device.takeBreaks() == 0)
        #expect(host.takeBreaks() == 0)
        #expect(throws: TransportError.self) { try host.setLineParameters(baud: 9600, dataBits: 9) }
    }

    @Test func withoutSerialLineBreakIsUnsupported() throws {
        let (a, _) = PipeStream.pair()
        #expect(!a.hasSerialLine)
        try a.setLineParameters(baud: 115_200)  // accepted, ignored
        #expect(a.lineParameters == nil)
        do {
            try a.sendBreak(duration: .milliseconds(1))
            Issue.record("expected .unsupported")
        } catch {
            #expect(error.code == .unsupported)
        }
    }

    @Test func purgeDropsBufferedInput() throws {
        let (a, b) = PipeStream.pair()
        try a.write([1, 2, 3])
        try b.purge()
        #expect(try b.read(maxBytes: 10, timeout: .milliseconds(10)) == [])
        try a.write([4])
        #expect(try b.read(maxBytes: 10, timeout: .seconds(1)) == [4])
    }

    @Test func largeTransfersArriveIntact() throws {
        let (a, b) = PipeStream.pair()
        let data = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let writer = Background { () throws(TransportError) in
            var i = 0
            while i < data.count {
                try a.write(Array(data[i..<min(i + 777, data.count)]))
                i += 777
            }
        }
        #expect(try b.read(exactly: data.count, timeout: .seconds(10)) == data)
        _ = writer.wait()
    }
}

// MARK: - SerialStream over a pseudo-terminal

@Suite struct SerialStreamTests {
    @Test func bothDirectionsOverAPseudoTerminal() throws {
        let pty = try PseudoTerminal()
        defer { pty.close() }
        let serial = try SerialStream(path: pty.slavePath)
        defer { serial.close() }
        #expect(serial.hasSerialLine)
        #expect(serial.description == "serial:\(pty.slavePath)")
        try serial.write(Array("INIT:E3A5\r".utf8))
        #expect(try readAll(pty.master, count: 10) == Array("INIT:E3A5\r".utf8))
        // Raw mode: CR is not turned into LF, bytes ≥ 0x80 and 0x00 pass, nothing is echoed.
        let binary: [UInt8] = [0xC4, 0xA5, 0x00, 0x0D, 0x0A, 0x03, 0x7F, 0xFF]
        try pty.master.write(binary)
        #expect(try readAll(serial, count: binary.count) == binary)
        #expect(try pty.master.read(maxBytes: 10, timeout: .milliseconds(30)) == [])
    }

    @Test func lineParametersIncludingNonStandardRates() throws {
        let pty = try PseudoTerminal()
        defer { pty.close() }
        let serial = try SerialStream(path: pty.slavePath)
        defer { serial.close() }
        #expect(pty.clientBaud() == 9600)
        for baud in [115_200, 921_600, 1_228_739, 14_400, 230_400] {
            try serial.setLineParameters(baud: baud)
            #expect(try serial.actualBaud() == baud, "\(baud) read back through termios2")
            #expect(pty.clientBaud() == baud, "\(baud) seen from the master side")
        }
        try serial.setLineParameters(LineParameters(baud: 57_600, dataBits: 7, parity: .even, stopBits: 2, rtsCts: true))
        #expect(serial.lineParameters.description == "57600 7E2 RTS/CTS")
        #expect(throws: TransportError.self) { try serial.setLineParameters(baud: 9600, stopBits: 3) }
        // Data still flows after all that.
        try serial.write([0x42])
        #expect(try readAll(pty.master, count: 1) == [0x42])
    }

    @Test func breakAndPurgeSucceedOnAPseudoTerminal() throws {
        // A Linux pty has no break operation: TIOCSBRK succeeds and the master sees nothing.
        let pty = try PseudoTerminal()
        defer { pty.close() }
        let serial = try SerialStream(path: pty.slavePath)
        defer { serial.close() }
        try serial.sendBreak(duration: .milliseconds(5))
        #expect(try pty.master.read(maxBytes: 10, timeout: .milliseconds(20)) == [])
        try pty.master.write([1, 2, 3])
        Thread.sleep(forTimeInterval: 0.02)
        try serial.purge()
        #expect(try serial.read(maxBytes: 10, timeout: .milliseconds(20)) == [])
        do {
            try pty.master.sendBreak(duration: .milliseconds(1))
            Issue.record("the master side cannot send a break")
        } catch {
            #expect(error.code == .unsupported)
        }
    }

    @Test func closingTheMasterDisconnectsTheClient() throws {
        let pty = try PseudoTerminal()
        let serial = try SerialStream(path: pty.slavePath)
        defer { serial.close() }
        let reader = Background { () throws(TransportError) in try serial.read(maxBytes: 10, timeout: .seconds(60)) }
        Thread.sleep(forTimeInterval: 0.05)
        pty.close()
        let r = try #require(reader.wait(), "closing the master did not wake the client's read")
        if case .failure(let e) = r { #expect(e.code == .disconnected) } else { Issue.record("expected .disconnected, got \(r)") }
    }

    @Test func closeUnblocksAPendingRead() throws {
        let pty = try PseudoTerminal()
        defer { pty.close() }
        let serial = try SerialStream(path: pty.slavePath)
        let reader = Background { () throws(TransportError) in try serial.read(maxBytes: 10, timeout: .seconds(60)) }
        Thread.sleep(forTimeInterval: 0.05)
        serial.close()
        let r = try #require(reader.wait(), "close() did not wake the reader")
        if case .failure(let e) = r { #expect(e.code == .closed) } else { Issue.record("expected .closed, got \(r)") }
        // The client can reopen the port: the pty stays usable (its own slave descriptor is held).
        let again = try SerialStream(path: pty.slavePath)
        defer { again.close() }
        try pty.master.write([7])
        #expect(try readAll(again, count: 1) == [7])
    }

    @Test func openErrorsSayWhatIsWrong() throws {
        do {
            _ = try SerialStream(path: "/dev/ttyCOILNAV-does-not-exist")
            Issue.record("expected .notFound")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.underlying == "ENOENT")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("coilnav-not-a-tty-\(UUID().uuidString)")
        try Data([1]).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            _ = try SerialStream(path: file.path)
            Issue.record("expected .unsupported")
        } catch {
            #expect(error.code == .unsupported)
        }
    }
}

// MARK: - TCPStream

@Suite struct TCPStreamTests {
    @Test func exchangeOverLoopback() throws {
        let listener = try TCPListener(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        #expect(listener.port > 0)
        let server = Background { () throws(TransportError) -> TCPStream? in try listener.accept(timeout: .seconds(10)) }
        let client = try TCPStream.connect(host: "127.0.0.1", port: listener.port, timeout: .seconds(5))
        defer { client.close() }
        let peer = try accepted(server)
        defer { peer.close() }
        #expect(client.description == "tcp://127.0.0.1:\(listener.port)")
        #expect(!client.hasSerialLine)
        try client.write(Array("TSTART:5423\r".utf8))
        #expect(try readAll(peer, count: 12) == Array("TSTART:5423\r".utf8))
        try peer.write(Array("OKAYA896\r".utf8))
        #expect(try readAll(client, count: 9) == Array("OKAYA896\r".utf8))
        // TCP_NODELAY is on.
        var flag: Int32 = 0
        var len = socklen_t(4)
        _ = getsockopt(peer.fdForTesting, Int32(IPPROTO_TCP), TCP_NODELAY, &flag, &len)
        _ = getsockopt(client.fdForTesting, Int32(IPPROTO_TCP), TCP_NODELAY, &flag, &len)
        #expect(flag != 0)
        // Keepalive for half-open peers, as the navigation server sets it on every client.
        try peer.enableKeepAlive(idleSeconds: 5, intervalSeconds: 1, count: 3)
        func option(_ level: Int32, _ name: Int32) -> Int32 {
            var v: Int32 = -1
            var l = socklen_t(4)
            _ = getsockopt(peer.fdForTesting, level, name, &v, &l)
            return v
        }
        #expect(option(SOL_SOCKET, SO_KEEPALIVE) == 1)
        #expect(option(Int32(IPPROTO_TCP), TCP_KEEPIDLE) == 5)
        #expect(option(Int32(IPPROTO_TCP), TCP_KEEPINTVL) == 1)
        #expect(option(Int32(IPPROTO_TCP), TCP_KEEPCNT) == 3)
        #expect(option(Int32(IPPROTO_TCP), TCP_USER_TIMEOUT) == 8000)
    }

    @Test func peerCloseIsDisconnected() throws {
        let listener = try TCPListener(port: 0)
        defer { listener.close() }
        let server = Background { () throws(TransportError) -> TCPStream? in try listener.accept(timeout: .seconds(10)) }
        let client = try TCPStream.connect(host: "localhost", port: listener.port)
        defer { client.close() }
        let peer = try accepted(server)
        try peer.write([1, 2])
        peer.close()
        #expect(try readAll(client, count: 2) == [1, 2])
        do {
            _ = try client.read(maxBytes: 10, timeout: .seconds(5))
            Issue.record("expected .disconnected")
        } catch {
            #expect(error.code == .disconnected)
        }
    }

    @Test func nothingListeningIsNotFound() throws {
        let listener = try TCPListener(port: 0)
        let port = listener.port
        listener.close()
        do {
            _ = try TCPStream.connect(host: "127.0.0.1", port: port, timeout: .seconds(5))
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.underlying == "ECONNREFUSED")
        }
        do {
            _ = try TCPStream.connect(host: "no-such-host.invalid", port: 8765, timeout: .seconds(5))
            Issue.record("expected an unknown host")
        } catch {
            #expect(error.code == .notFound)
        }
    }

    @Test func noSerialLineOverTCP() throws {
        let listener = try TCPListener(port: 0)
        defer { listener.close() }
        let server = Background { () throws(TransportError) -> TCPStream? in try listener.accept(timeout: .seconds(10)) }
        let client = try TCPStream.connect(host: "127.0.0.1", port: listener.port)
        defer { client.close() }
        let peer = try accepted(server)
        defer { peer.close() }
        try client.setLineParameters(baud: 115_200)  // accepted, ignored
        do {
            try client.sendBreak(duration: .milliseconds(250))
            Issue.record("expected .unsupported")
        } catch {
            #expect(error.code == .unsupported)
        }
        try peer.write([5, 6])
        Thread.sleep(forTimeInterval: 0.05)
        try client.purge()
        #expect(try client.read(maxBytes: 10, timeout: .milliseconds(20)) == [])
    }

    @Test func closeUnblocksReadAndAccept() throws {
        let listener = try TCPListener(port: 0)
        let acceptor = Background { () throws(TransportError) -> TCPStream? in try listener.accept(timeout: .seconds(60)) }
        Thread.sleep(forTimeInterval: 0.05)
        listener.close()
        let a = try #require(acceptor.wait(), "close() did not wake accept")
        if case .failure(let e) = a { #expect(e.code == .closed) } else { Issue.record("expected .closed, got \(a)") }

        let l2 = try TCPListener(port: 0)
        defer { l2.close() }
        let server = Background { () throws(TransportError) -> TCPStream? in try l2.accept(timeout: .seconds(10)) }
        let client = try TCPStream.connect(host: "127.0.0.1", port: l2.port)
        let peer = try accepted(server)
        defer { peer.close() }
        let reader = Background { () throws(TransportError) in try client.read(maxBytes: 10, timeout: .seconds(60)) }
        Thread.sleep(forTimeInterval: 0.05)
        client.close()
        let r = try #require(reader.wait(), "close() did not wake the reader")
        if case .failure(let e) = r { #expect(e.code == .closed) } else { Issue.record("expected .closed, got \(r)") }
        // And the peer sees the connection end.
        do {
            _ = try peer.read(maxBytes: 10, timeout: .seconds(5))
            Issue.record("expected .disconnected")
        } catch {
            #expect(error.code == .disconnected)
        }
    }
}
