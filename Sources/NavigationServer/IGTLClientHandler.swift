import Foundation
import IGTLProtocol
import Synchronization

/// An event rendered once per protocol on demand.
struct RenderedEvent: Sendable {
    let event: ServerEvent
    let timestamp: IGTLTimestamp
    /// Two message IDs reserved for this event (header version 2): STATUS and STRING.
    let messageID: UInt32
}

/// OpenIGTLink per-client logic.
///
/// - The client starts at header version 1 and is switched to header version 2 (protocol v3:
///   metadata) by the first version-2 message it sends (any message; a `GET_STATUS` is enough).
/// - Transforms and the metrics STRING stream from the start (Slicer's OpenIGTLinkIF and pyigtl expect
///   that); `STP_TRANSFORM` / `STT_TRANSFORM` (either spelling) stop and restart them, `STP_STATUS` /
///   `STT_STATUS` the STATUS messages; each is answered with `RTS_<type>` (0 = success).
/// - `GET_TRANSFORM` with a device name answers that transform (an empty TRANSFORM if it is not
///   available); with no device name, all six. `GET_STATUS` answers the current validity.
/// - A STRING to device `CoilNavCommand` carries a JSON command (the JSON-lines request object) and
///   is answered with a STRING `CoilNavReply`.
/// - A header the decoder cannot trust (wrong version, non-ASCII names, a body above 1 MiB, such as
///   a 4 GiB announcement) drops the client at once; three consecutive damaged messages (bad CRC,
///   malformed body) drop it too.
final class IGTLClientHandler: ClientHandler, @unchecked Sendable {
    // @unchecked: `decoder` and `damaged` are touched only by the reader thread; the switches by
    // several threads through `state`.
    private struct State {
        var headerVersion: UInt16 = 1
        var streamTransforms = true
        var streamStatus = true
    }
    private let state = Mutex(State())
    private var decoder = IGTLStreamDecoder()
    private var damaged = 0
    private unowned let engine: NavigationEngine
    private let commands: CommandExecutor

    init(engine: NavigationEngine, commands: CommandExecutor) {
        self.engine = engine
        self.commands = commands
    }

    var headerVersion: UInt16 { self.state.withLock { $0.headerVersion } }

    func wantsFrame(_ frame: FramePayload) -> Bool { true }

    func appendFrame(_ frame: FramePayload, into buffer: inout [UInt8]) {
        let s = self.state.withLock { $0 }
        if s.headerVersion == 1 {
            if s.streamTransforms { buffer.append(contentsOf: frame.igtlTransformsV1) }
            buffer.append(contentsOf: frame.igtlMetricsV1)
        } else {
            if s.streamTransforms { buffer.append(contentsOf: frame.igtlTransformsV2) }
            buffer.append(contentsOf: frame.igtlMetricsV2)
        }
    }

    func deliver(_ e: RenderedEvent, to client: ClientConnection) {
        let s = self.state.withLock { $0 }
        var out: [UInt8] = []
        var id = e.messageID
        if s.streamStatus, let status = Self.status(for: e.event, engine: self.engine) {
            IGTLFrameEncoder.appendStatus(status, headerVersion: s.headerVersion, timestamp: e.timestamp, messageID: &id, into: &out)
        }
        var json = e.jsonLine
        if json.last == 0x0A { json.removeLast() }
        IGTLFrameEncoder.appendString(
            device: "CoilNavEvent", text: json, headerVersion: s.headerVersion, timestamp: e.timestamp, messageID: &id, into: &out)
        client.send(out)
    }

    static func status(for event: ServerEvent, engine: NavigationEngine) -> IGTLStatus? {
        switch event {
        case .trackingLost(let last, let silence):
            return IGTLFrameEncoder.trackingLostStatus(lastFrameNumber: last, silenceNanoseconds: silence)
        case .trackingRestored(let frame, let silence):
            return IGTLStatus(
                code: IGTLStatus.Code.ok, subcode: 0, errorName: "",
                message: "tracking restored at frame \(frame) after \(formatMilliseconds(Double(silence) / 1e6)) ms")
        case .validityChanged(let invalidity, _):
            return IGTLFrameEncoder.status(for: invalidity)
        default:
            return nil
        }
    }

    func received(_ bytes: [UInt8], from client: ClientConnection) -> String? {
        self.decoder.feed(bytes)
        while true {
            let result: IGTLDecodeResult
            do {
                result = try self.decoder.next()
            } catch {
                if self.decoder.fatalError != nil { return "sent an unusable OpenIGTLink header: \(error)" }
                self.damaged += 1
                self.engine.log("coilnav: \(client.label): skipped a damaged message: \(error)")
                if self.damaged >= 3 { return "sent 3 damaged OpenIGTLink messages in a row (last: \(error))" }
                continue
            }
            guard case .message(let m) = result else { return nil }
            self.damaged = 0
            self.handle(m, client: client)
        }
    }

    private func handle(_ m: IGTLMessage, client: ClientConnection) {
        let version = self.state.withLock { s -> UInt16 in
            if m.headerVersion == 2 { s.headerVersion = 2 }
            return s.headerVersion
        }
        var out: [UInt8] = []
        let snapshot = self.engine.currentSnapshot
        let stamp = self.engine.igtlTimestamp(snapshot.lastFrameHostNanoseconds ?? self.engine.clock.nowNanoseconds())
        self.engine.takeMessageIDs { id in
            switch m.body {
            case .get(let dataType) where Self.isTransform(dataType):
                let entries = snapshot.transforms?.entries
                    ?? IGTLDeviceName.transforms.map { FrameTransforms.Entry(name: $0, transform: nil, isValid: false) }
                for e in entries where m.deviceName.isEmpty || e.name == m.deviceName {
                    IGTLFrameEncoder.appendTransform(e, headerVersion: version, timestamp: stamp, messageID: &id, into: &out)
                }
                if out.isEmpty {
                    // An unknown device name: an empty TRANSFORM with that name.
                    IGTLFrameEncoder.append(
                        IGTLMessage(headerVersion: version, deviceName: String(m.deviceName.prefix(20)), timestamp: stamp,
                                    body: .raw(typeName: "TRANSFORM", content: []), messageID: version == 2 ? id &+ 1 : 0,
                                    metadata: []), into: &out)
                    if version == 2 { id &+= 1 }
                }
            case .get(let dataType) where dataType == "STATUS":
                let status: IGTLStatus =
                    snapshot.trackingLost
                    ? IGTLFrameEncoder.trackingLostStatus(lastFrameNumber: snapshot.output?.deviceFrameNumber, silenceNanoseconds: 0)
                    : snapshot.output.map { IGTLFrameEncoder.status(for: $0.invalidity) }
                        ?? IGTLStatus(code: IGTLStatus.Code.notReady, errorName: "no frame", message: "no tracker frame yet")
                IGTLFrameEncoder.appendStatus(status, headerVersion: version, timestamp: stamp, messageID: &id, into: &out)
            case .startStreaming(let dataType, _), .stopStreaming(let dataType):
                let start: Bool
                if case .startStreaming = m.body { start = true } else { start = false }
                var ok = true
                if Self.isTransform(dataType) {
                    self.state.withLock { $0.streamTransforms = start }
                } else if dataType == "STATUS" {
                    self.state.withLock { $0.streamStatus = start }
                } else {
                    ok = false
                }
                if version == 2 { id &+= 1 }
                IGTLFrameEncoder.append(
                    IGTLMessage(headerVersion: version, deviceName: m.deviceName, timestamp: stamp,
                                body: .startStopReply(dataType: dataType, status: ok ? 0 : 1), messageID: version == 2 ? id : 0),
                    into: &out)
            default:
                break
            }
        }
        if case .string(let s) = m.body, m.deviceName == IGTLDeviceName.command {
            var reply = self.commands.execute(line: s.bytes, client: client, subscriptionOwner: nil)
            if reply.last == 0x0A { reply.removeLast() }
            self.engine.takeMessageIDs { id in
                IGTLFrameEncoder.appendString(
                    device: IGTLDeviceName.reply, text: reply, headerVersion: version, timestamp: stamp, messageID: &id, into: &out)
            }
        }
        if !out.isEmpty { client.send(out) }
    }

    /// TRANSFORM's query suffixes: the C++ factory's `TRANS`, the summary table's `TRANSFOR`, or the full name.
    static func isTransform(_ dataType: String) -> Bool {
        dataType == "TRANS" || dataType == "TRANSFOR" || dataType == "TRANSFORM"
    }
}
