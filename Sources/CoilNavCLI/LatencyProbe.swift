import Foundation
import Histogram
import IGTLProtocol
import NDITracker
import TrackerTransport

/// A loopback OpenIGTLink client that times frames: on its own thread it reads the server's
/// stream, decodes it and, for every message of one device (e.g. `CoilToTarget`), records
/// `now − timestamp` in an HdrHistogram. The server must stamp messages with the same clock's
/// nanoseconds (engine `unixNanosecondsAtClockZero: 0`): the frame's host receive time then
/// travels in the message (the igtl fraction round-trips nanoseconds exactly), and the probe
/// measures frame received by the host → message decoded here, without shared state.
///
/// Used by `coilnav bench --latency` (many probes) and `coilnav qa` (one).
final class LatencyProbe: @unchecked Sendable {
    private let stream: TCPStream
    private let stopFlag = ManagedFlag()
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var histogram = LatencyProbe.makeHistogram()
    private var count = 0

    /// Nanoseconds, up to one minute, three significant digits.
    static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    }

    /// Connects to `port` on the loopback interface and starts reading.
    init(port: Int, deviceName: String, clock: any TrackerClock) throws {
        self.stream = try TCPStream.connect(host: "127.0.0.1", port: port)
        let thread = Thread { [self, stream] in
            var h = LatencyProbe.makeHistogram()
            var decoder = IGTLStreamDecoder()
            var n = 0
            while !self.stopFlag.isSet {
                guard let bytes = try? stream.read(maxBytes: 65536, timeout: .milliseconds(100)) else { break }
                if bytes.isEmpty { continue }
                let now = clock.nowNanoseconds()
                decoder.feed(bytes)
                while case .message(let m)? = try? decoder.next() {
                    guard m.deviceName == deviceName else { continue }
                    let sent = UInt64(m.timestamp.seconds) * 1_000_000_000 + UInt64(m.timestamp.nanoseconds)
                    _ = h.record(now >= sent ? now - sent : 0)
                    n += 1
                }
            }
            self.lock.withLock {
                self.histogram = h
                self.count = n
            }
            self.done.signal()
        }
        thread.name = "coilnav.latency-probe"
        thread.start()
    }

    /// Stops reading, closes the connection and returns the histogram (ns) and how many messages
    /// were timed.
    func stop() -> (histogram: Histogram<UInt64>, count: Int) {
        self.stopFlag.set()
        self.done.wait()
        self.stream.close()
        return self.lock.withLock { (self.histogram, self.count) }
    }
}

final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.value
    }
    func set() {
        self.lock.lock()
        self.value = true
        self.lock.unlock()
    }
}
