import Foundation
import Geometry
import IGTLProtocol
import NDITracker
import Navigation
import NavigationServer
import TrackerCore
import TrackerTransport

/// A clock the test sets.
final class TestClock: TrackerClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: UInt64
    init(_ start: UInt64 = 0) { self.now = start }
    func nowNanoseconds() -> UInt64 {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.now
    }
    func set(_ t: UInt64) {
        self.lock.lock()
        self.now = t
        self.lock.unlock()
    }
}

/// Collects log lines.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ s: String) {
        self.lock.lock()
        self.lines.append(s)
        self.lock.unlock()
    }
    var all: [String] {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.lines
    }
    /// Waits (real time) until a line contains `text`.
    func wait(for text: String, seconds: Double = 5) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let l = self.all.first(where: { $0.contains(text) }) { return l }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return nil
    }
}

/// A raw OpenIGTLink client: our own decoder over a TCP socket.
final class IGTLTestClient: @unchecked Sendable {
    let stream: TCPStream
    var decoder = IGTLStreamDecoder()
    /// Every byte received, in order.
    var received: [UInt8] = []

    init(port: Int) throws {
        self.stream = try TCPStream.connect(host: "127.0.0.1", port: port)
    }

    func send(_ m: IGTLMessage) throws { try self.stream.write(try m.encoded()) }

    /// Reads messages until `predicate` accepts one (returned) or `seconds` pass (nil).
    func next(seconds: Double = 5, where predicate: (IGTLMessage) -> Bool) throws -> IGTLMessage? {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            while case .message(let m) = try self.decoder.next() {
                if predicate(m) { return m }
            }
            if Date() >= deadline { return nil }
            let bytes = try self.stream.read(maxBytes: 65536, timeout: .milliseconds(50))
            self.received += bytes
            self.decoder.feed(bytes)
        }
    }

    func close() { self.stream.close() }
}

/// A JSON-lines test client.
final class JSONLTestClient: @unchecked Sendable {
    let stream: TCPStream
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        self.stream = try TCPStream.connect(host: "127.0.0.1", port: port)
    }

    func send(_ line: String) throws { try self.stream.write(Array((line + "\n").utf8)) }

    /// The next line as a JSON object, skipping lines `predicate` rejects; nil after `seconds`.
    func next(seconds: Double = 5, where predicate: ([String: Any]) -> Bool = { _ in true }) throws -> [String: Any]? {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            while let nl = self.buffer.firstIndex(of: 0x0A) {
                let line = Array(self.buffer[..<nl])
                self.buffer.removeFirst(nl + 1)
                guard let o = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { continue }
                if predicate(o) { return o }
            }
            if Date() >= deadline { return nil }
            self.buffer += try self.stream.read(maxBytes: 65536, timeout: .milliseconds(50))
        }
    }

    /// Sends a request and returns its response (matched by id).
    func request(_ line: String, id: Int, seconds: Double = 5) throws -> [String: Any]? {
        try self.send(line)
        return try self.next(seconds: seconds) { ($0["type"] as? String) == "response" && ($0["id"] as? Int) == id }
    }

    func close() { self.stream.close() }
}

/// A tool sample with a pose.
func tool(_ name: String, _ handle: UInt8, _ pose: RigidTransform?) -> ToolSample {
    ToolSample(
        name: name, handle: handle, status: pose == nil ? .missing : .ok, toolToTracker: pose, rmsErrorMM: pose == nil ? nil : 0.1,
        portStatus: 0x31)
}

/// Waits (real time) until `condition` holds.
@discardableResult
func eventually(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.002)
    }
    return condition()
}

func hexBytes(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var digits: [Character] = []
    for c in s where c.isHexDigit {
        digits.append(c)
        if digits.count == 2 {
            out.append(UInt8(String(digits), radix: 16)!)
            digits.removeAll()
        }
    }
    return out
}
