import Foundation
import JSONLinesProtocol
import Readout
import TrackerTransport

/// The readout's connection to `coilnav serve`, on its own thread: connects, says hello,
/// subscribes to frames (rate-capped) and events, asks for `status` every second, and feeds every
/// line into a `ReadoutState` that the drawing side reads with `snapshot()`. When the server cannot
/// be reached or goes away (or says nothing for 5 s although asked every second), it records why
/// and tries again — 0.5 s, 1 s, then every 2 s — for as long as it runs. It never blocks the
/// drawing side: the state is copied under a lock.
final class ReadoutFeed: @unchecked Sendable {
    let host: String
    let port: Int
    let maxRateHz: Double
    private let lock = NSLock()
    private var state: ReadoutState
    private var running = true
    private var stream: TCPStream?
    private var thread: Thread?
    private let wake: @Sendable () -> Void
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant

    /// - Parameters:
    ///   - wake: called (from the feed's thread) after every change, so the drawing side can redraw.
    init(host: String, port: Int, label: String, maxRateHz: Double, headerNote: String? = nil, wake: @escaping @Sendable () -> Void) {
        self.host = host
        self.port = port
        self.maxRateHz = maxRateHz
        self.wake = wake
        self.origin = ContinuousClock().now
        self.state = ReadoutState(
            serverLabel: label, silenceLimitNanoseconds: ReadoutPolicy.silenceLimitNanoseconds(rateHz: maxRateHz),
            headerNote: headerNote)
    }

    /// Nanoseconds since the feed was made (the clock of its `ReadoutState`).
    func now() -> Int64 {
        let d = self.clock.now - self.origin
        return d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }

    func snapshot() -> ReadoutState {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.state
    }

    func start() {
        let t = Thread { [self] in self.runLoop() }
        t.name = "coilnav-readout-feed"
        self.thread = t
        t.start()
    }

    /// Stops the thread and closes the connection (the thread ends within about 0.1 s).
    func stop() {
        self.lock.lock()
        self.running = false
        let s = self.stream
        self.lock.unlock()
        s?.close()
    }

    private var isRunning: Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.running
    }

    private func update(_ body: (inout ReadoutState) -> Void) {
        self.lock.lock()
        body(&self.state)
        self.lock.unlock()
        self.wake()
    }

    private func runLoop() {
        var attempt = 1
        var downSince: Int64?
        while self.isRunning {
            if downSince == nil { self.update { $0.setConnection(.connecting(attempt: attempt)) } }
            let stream: TCPStream
            do {
                stream = try TCPStream.connect(host: self.host, port: self.port, timeout: .seconds(2))
            } catch {
                let since = downSince ?? self.now()
                downSince = since
                self.update { $0.setConnection(.unreachable(reason: "\(error)", attempt: attempt, sinceNanoseconds: since)) }
                self.pause(seconds: attempt == 1 ? 0.5 : attempt == 2 ? 1 : 2)
                attempt += 1
                continue
            }
            // A server that vanishes without closing (power, network) is noticed by keepalive.
            try? stream.enableKeepAlive(idleSeconds: 2, intervalSeconds: 1, count: 3)
            self.lock.lock()
            self.stream = stream
            let stillRunning = self.running
            self.lock.unlock()
            if !stillRunning {
                stream.close()
                break
            }
            let reason = self.serve(stream)
            stream.close()
            self.lock.lock()
            self.stream = nil
            self.lock.unlock()
            guard self.isRunning else { break }
            let since = self.now()
            downSince = since
            attempt = 1
            self.update { $0.setConnection(.unreachable(reason: reason, attempt: attempt, sinceNanoseconds: since)) }
            self.pause(seconds: 0.5)
            attempt = 2
        }
    }

    /// Talks to the server until the connection fails; returns why.
    private func serve(_ stream: TCPStream) -> String {
        self.update { $0.setConnection(.connected(sinceNanoseconds: self.now())) }
        var splitter = JSONLLineSplitter()
        var lastStatusRequest = self.now()
        var lastLine = self.now()
        do {
            try stream.write(Array((ReadoutRequests.hello + ReadoutRequests.subscribe(maxRateHz: self.maxRateHz) + ReadoutRequests.status).utf8))
            while self.isRunning {
                let bytes = try stream.read(maxBytes: 65536, timeout: .milliseconds(100))
                let now = self.now()
                var askStatus = now - lastStatusRequest >= 1_000_000_000
                if !bytes.isEmpty {
                    lastLine = now
                    var messages: [Result<ReadoutMessage, ReadoutDecodeError>] = []
                    for item in splitter.feed(bytes) {
                        switch item {
                        case .line(let line, _):
                            do {
                                messages.append(.success(try ReadoutDecoder.decode(line)))
                            } catch {
                                messages.append(.failure(error))
                            }
                        case .tooLong:
                            messages.append(.failure(ReadoutDecodeError("a line longer than 64 KiB")))
                        }
                    }
                    for case .success(.event(let e)) in messages {
                        switch e {
                        case .targetChanged, .registrationChanged, .trackingRestored, .trackerState: askStatus = true
                        default: break
                        }
                    }
                    self.update { state in
                        for m in messages {
                            switch m {
                            case .success(let message): state.apply(message, at: now)
                            case .failure(let error): state.noteUnreadableLine(error)
                            }
                        }
                    }
                } else if now - lastLine > 5_000_000_000 {
                    return "no answer from the server for 5 s"
                } else {
                    // Time-based states (silence, dwell) still change: let the drawing side know.
                    self.wake()
                }
                if askStatus {
                    lastStatusRequest = now
                    try stream.write(Array(ReadoutRequests.status.utf8))
                }
            }
            return "stopped"
        } catch {
            if error.code == .disconnected { return "the server closed the connection" }
            return "\(error)"
        }
    }

    /// Sleeps up to `seconds`, returning early when stopped.
    private func pause(seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        while self.isRunning, Date() < end { Thread.sleep(forTimeInterval: 0.05) }
    }
}
