import Foundation
import JSONLinesProtocol
import Navigation
import Synchronization
import NDITracker

extension RenderedEvent {
    /// The event as a JSON-lines `event` line (with its newline).
    var jsonLine: [UInt8] {
        var out: [UInt8] = []
        JSONLEncoder.appendEvent(self.event.jsonlEvent, into: &out)
        return out
    }
}

extension ServerEvent {
    var jsonlEvent: JSONLEvent {
        switch self {
        case .trackingLost(let last, let silence):
            return .trackingLost(lastFrame: last, silenceMilliseconds: Double(silence) / 1e6)
        case .trackingRestored(let frame, _):
            return .trackingRestored(frame: frame)
        case .validityChanged(let invalidity, let frame):
            return .validityChanged(frame: frame, invalidity: invalidity)
        case .onTargetChanged(let on, let frame, _, let dwell):
            return on ? .onTarget(frame: frame, dwellMilliseconds: Double(dwell) / 1e6) : .offTarget(frame: frame)
        case .targetChanged(let name):
            return .targetChanged(name: name)
        case .registrationChanged(let registered):
            return .registrationChanged(registered: registered)
        case .pulseRecorded(let index, let time, _):
            return .pulseRecorded(index: index, timeNanoseconds: time)
        case .trackerState(let state):
            return .trackerState(TrackerStateText.describe(state))
        case .warning(let text):
            return .warning(text)
        }
    }
}

/// JSON-lines per-client logic (docs/json-lines-protocol.md): requests in, responses, events and
/// (once subscribed) frame lines out.
final class JSONLClientHandler: ClientHandler, @unchecked Sendable {
    // @unchecked: `splitter` is touched only by the reader thread; the subscription through `state`.
    private struct State {
        var subscription: JSONLSubscription?
        var lastFrameSentNanoseconds: UInt64?
    }
    private let state = Mutex(State())
    private var splitter = JSONLLineSplitter()
    private unowned let engine: NavigationEngine
    private let commands: CommandExecutor

    init(engine: NavigationEngine, commands: CommandExecutor) {
        self.engine = engine
        self.commands = commands
    }

    var subscription: JSONLSubscription? { self.state.withLock { $0.subscription } }

    func subscribe(_ s: JSONLSubscription?) {
        self.state.withLock {
            $0.subscription = s
            $0.lastFrameSentNanoseconds = nil
        }
    }

    func wantsFrame(_ frame: FramePayload) -> Bool {
        self.state.withLock { s in
            guard let sub = s.subscription, sub.frames else { return false }
            let gap = sub.minimumFrameIntervalNanoseconds
            if gap > 0, let last = s.lastFrameSentNanoseconds, frame.hostNanoseconds < last &+ gap { return false }
            s.lastFrameSentNanoseconds = frame.hostNanoseconds
            return true
        }
    }

    func appendFrame(_ frame: FramePayload, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: frame.jsonLine)
    }

    func deliver(_ e: RenderedEvent, to client: ClientConnection) {
        guard self.state.withLock({ $0.subscription?.events == true }) else { return }
        client.send(e.jsonLine)
    }

    func received(_ bytes: [UInt8], from client: ClientConnection) -> String? {
        for item in self.splitter.feed(bytes) {
            switch item {
            case .line(let line, _):
                let reply = self.commands.execute(line: line, client: client, subscriptionOwner: self)
                if !reply.isEmpty { client.send(reply) }
            case .tooLong(let error):
                var out: [UInt8] = []
                JSONLEncoder.appendErrorResponse(error, into: &out)
                client.send(out)
                return "sent a line longer than \(JSONLRequest.maxLineBytes) bytes (\(error.message))"
            }
        }
        return nil
    }
}

/// Tracker states as people read them ("reconnecting in 0.4 seconds (attempt 3)").
public enum TrackerStateText {
    public static func describe(_ s: TrackerState) -> String {
        switch s {
        case .connecting: "connecting"
        case .settingUp: "setting up"
        case .tracking: "tracking"
        case .disconnected(let reason): "disconnected (\(reason))"
        case .reconnecting(let attempt, let delay): "reconnecting in \(delay) (attempt \(attempt))"
        case .stopped: "stopped"
        }
    }
}
