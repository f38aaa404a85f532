import Foundation
import TrackerTransport

/// A blocking JSON-lines client of `coilnav serve` for the interactive commands: requests with
/// numbered ids, responses matched by id; frame and event lines are kept for whoever asks.
final class ServerConnection {
    let stream: TCPStream
    let label: String
    private var buffer: [UInt8] = []
    private var nextID = 1
    /// Lines that were not the awaited response (frames, events), newest last; bounded.
    private(set) var otherLines: [[String: Any]] = []

    init(_ address: String) throws {
        let (host, port) = try Self.parse(address)
        do {
            self.stream = try TCPStream.connect(host: host, port: port, timeout: .seconds(3))
        } catch {
            throw CLIError("cannot reach coilnav serve at \(address): \(error) — is the server running? (its JSON-lines port, default 18945)")
        }
        self.label = address
    }

    static func parse(_ address: String) throws -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port)
        else { throw CLIError("--server must be HOST:PORT (e.g. 127.0.0.1:18945), got \"\(address)\"") }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    /// Sends `{"id": n, "cmd": cmd, …fields}` and waits for its response.
    func request(_ cmd: String, _ fields: [String: Any] = [:], token: String? = nil, timeout: Double = 30) throws -> [String: Any] {
        var object = fields
        let id = self.nextID
        self.nextID += 1
        object["id"] = id
        object["cmd"] = cmd
        if let token { object["token"] = token }
        var data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        data.append(0x0A)
        do {
            try self.stream.write(Array(data))
        } catch {
            throw CLIError("the server at \(self.label) went away: \(error)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let line = try self.nextLine(until: deadline) {
                if line["type"] as? String == "response", line["id"] as? Int == id { return line }
                self.keep(line)
            } else {
                throw CLIError("no answer from the server at \(self.label) to \(cmd) within \(Int(timeout)) s")
            }
        }
    }

    /// The next line of any type, or nil at the deadline.
    func nextLine(until deadline: Date) throws -> [String: Any]? {
        while true {
            if let nl = self.buffer.firstIndex(of: 0x0A) {
                let line = Array(self.buffer[..<nl])
                self.buffer.removeFirst(nl + 1)
                if let o = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] { return o }
                continue
            }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return nil }
            do {
                self.buffer += try self.stream.read(maxBytes: 65536, timeout: .milliseconds(Int64(min(left, 0.2) * 1000) + 1))
            } catch {
                throw CLIError("the server at \(self.label) went away: \(error)")
            }
        }
    }

    private func keep(_ line: [String: Any]) {
        self.otherLines.append(line)
        if self.otherLines.count > 256 { self.otherLines.removeFirst(self.otherLines.count - 256) }
    }

    /// The error message of a failed response, or nil when it succeeded.
    static func failure(_ response: [String: Any]) -> String? {
        if response["ok"] as? Bool == true { return nil }
        let e = response["error"] as? [String: Any]
        return (e?["message"] as? String) ?? "the server refused (\(response))"
    }

    func close() { self.stream.close() }

    /// The token: from `file`, else the session directory's `token` next to the working directory's
    /// default session, else nil (a server run with --insecure needs none).
    static func token(file: String?) throws -> String? {
        let path = file ?? "coilnav-session/token"
        guard FileManager.default.fileExists(atPath: path) else {
            if file != nil { throw CLIError("--token-file \(path): no such file") }
            return nil
        }
        do {
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw CLIError("cannot read the token \(path): \(error.localizedDescription)")
        }
    }
}
