import NDIProtocol

/// What the session needs to know to set a tracker up.
public struct NDISessionConfiguration: Sendable, Equatable {
    /// `true` on serial and USB lines: INIT at 9600 (break → RESET on failure), COMM, COMM back
    /// to 9600 on shutdown. `false` on TCP: no break, no COMM.
    public var serialLine: Bool
    /// The rate to negotiate with COMM on a serial line; nil or 9600 sends no COMM.
    public var commBaud: NDIBaudRate?
    /// The tools to set up, in order (passive ones get PHRQ + PVWR in this order; active ones are
    /// matched to PHSR handles in this order).
    public var tools: [TrackerTool]
    /// BX (binary) or TX (ASCII) tracking replies.
    public var useTX: Bool
    /// The reply option of BX/TX; 0x0801 (transforms, also out of volume) by default.
    public var replyOption: NDIReplyOption
    /// How long the first INIT may take before a serial line is reset with a break.
    public var initTimeout: Duration
    /// How long to wait for RESET after a break (ndicapi: 7 s).
    public var resetTimeout: Duration
    /// Reply timeout of every other set-up command.
    public var setupTimeout: Duration
    /// Reply timeout of a BX/TX command while tracking: no reply within it means the device is lost.
    public var trackingTimeout: Duration
    /// Pause after INIT, after RESET, and between COMM's OKAY and the host's switch of rate.
    public var settleDelay: Duration

    public init(
        serialLine: Bool,
        commBaud: NDIBaudRate? = nil,
        tools: [TrackerTool],
        useTX: Bool = false,
        replyOption: NDIReplyOption = .transformsAllVolumes,
        initTimeout: Duration = .seconds(1),
        resetTimeout: Duration = .seconds(7),
        setupTimeout: Duration = .seconds(2),
        trackingTimeout: Duration = .milliseconds(100),
        settleDelay: Duration = .milliseconds(100)
    ) {
        self.serialLine = serialLine
        self.commBaud = commBaud
        self.tools = tools
        self.useTX = useTX
        self.replyOption = replyOption
        self.initTimeout = initTimeout
        self.resetTimeout = resetTimeout
        self.setupTimeout = setupTimeout
        self.trackingTimeout = trackingTimeout
        self.settleDelay = settleDelay
    }
}

/// Which tool a port handle carries.
public struct NDIHandleBinding: Sendable, Equatable {
    public var handle: UInt8
    /// The tool set's name, or `port-0xHH` for a handle the tool set does not name.
    public var toolName: String
    /// Passive (its definition was uploaded) or active (matched through PHSR).
    public var passive: Bool

    public init(handle: UInt8, toolName: String, passive: Bool) {
        self.handle = handle
        self.toolName = toolName
        self.passive = passive
    }
}

/// What the driver must do next, in order.
public enum NDISessionAction: Sendable, Equatable {
    /// Set the host side of the serial line to `baud` 8N1 (serial and USB only).
    case setHostLine(baud: Int)
    /// Discard buffered bytes both ways, and start a fresh reply framer.
    case purge
    /// Hold a serial break (the NDI reset); then wait for `RESET`.
    case sendBreak
    /// Wait this long before the next action.
    case pause(Duration)
    /// Write the command; its reply (or a timeout) is the next event.
    case send(NDICommand)
    /// Set-up is complete: tracking has started with these handles.
    case trackingStarted([NDIHandleBinding])
    /// A tracking reply arrived (the driver turns it into a `TrackerFrame`).
    case tracking(NDITrackingReply)
    /// Something worth telling a person that does not stop the session.
    case warning(String)
    /// The connection cannot go on (timeout, refused set-up, unexpected reset): drop it and reconnect.
    case failed(String)
    /// Shutdown finished (after TSTOP and, on a serial line, COMM back to 9600).
    case finished
}

/// The events that drive the session.
public enum NDISessionEvent: Sendable, Equatable {
    /// The stream is open: begin the set-up.
    case start
    /// A reply frame, or a framing error from the reply framer (bad CRC, …).
    case reply(Result<NDIReplyFrame, NDIReplyError>)
    /// No reply within `awaitedTimeout`.
    case timeout
    /// Stop tracking and shut down politely (TSTOP, COMM back to 9600).
    case stop
}

/// The NDI set-up and tracking sequence as a pure state machine: feed it events, execute the
/// actions it returns, in order. No I/O, no clock: the driver measures `awaitedTimeout` and
/// reports `.timeout`.
///
/// Set-up (`protocols.md` §1.3):
/// 1. serial: `setHostLine(9600)`, `purge`; all: `INIT:`. On a serial line a timeout, an error or
///    a malformed reply to the first INIT sends a break and waits for `RESET`, then INIT again.
/// 2. serial with a COMM rate above 9600: `COMM:<b>0000`; after its OKAY (sent at the old rate)
///    pause `settleDelay`, then `setHostLine(new rate)`. An ERROR to a COMM above 115200 retries
///    COMM:50000; an ERROR to that stays at 9600 with a warning.
/// 3. `PHSR:01` and `PHF:hh` for each listed handle (stale handles of an earlier session).
/// 4. Each passive tool in tool-set order: `PHRQ:*********1****` → handle, then its 16 `PVWR`.
/// 5. `PHSR:02` → `PINIT:hh` each; repeated until PHSR:02 lists no handle that has not already
///    failed PINIT (at most 16 rounds). A failed PINIT is a warning, not a failure.
/// 6. `PHSR:03` → `PENA:hh<priority>` each: the priority of the tool bound to the handle, `D`
///    for handles no tool names. Handles listed here that no PHRQ returned are active tools,
///    bound to the tool set's active tools in order of the PHSR:03 list; extra ones are named
///    `port-0xHH`.
/// 7. `TSTART:`, then `BX:0801` (or `TX:0801`) for every frame.
///
/// Any ERROR to a set-up command other than COMM and PINIT, an unexpected reply, or a timeout
/// fails the session (`.failed`); a malformed reply during set-up resends the command (up to 3
/// times). While tracking, a malformed reply is counted (`malformedReplies`), reported as a
/// warning and answered with the next BX; an ERROR reply is counted likewise, and three in a row
/// fail the session; a timeout or an unsolicited RESET fails it.
///
/// Shutdown (`.stop`): while tracking, `TSTOP:` then, if COMM changed the rate, `COMM:00000`,
/// pause and `setHostLine(9600)`; errors and timeouts during shutdown are ignored. Before
/// tracking, `.stop` finishes at once.
public struct NDISession: Sendable {
    public let configuration: NDISessionConfiguration

    private enum Phase: Sendable, Equatable {
        case idle
        case initializing(attempt: Int)
        case awaitingReset
        case comm(NDIBaudRate)
        case listFree
        case freeing([UInt8])
        case requestHandle(toolIndex: Int)
        case writingROM(toolIndex: Int, handle: UInt8, remaining: [NDICommand])
        case listInit(round: Int)
        case initializingHandles(round: Int, remaining: [UInt8])
        case listEnable
        case enabling(remaining: [UInt8])
        case starting
        case tracking
        case stopping
        case commBack
        case done
    }

    private var phase: Phase = .idle
    private var pending: NDICommand?
    private var resends = 0
    private var negotiatedBaud: Int = 9600
    private var passiveHandles: [UInt8: Int] = [:]  // handle → tool index
    private var bindings: [NDIHandleBinding] = []
    private var failedPINIT: Set<UInt8> = []
    private var consecutiveErrors = 0

    /// Malformed replies seen while tracking (skipped).
    public private(set) var malformedReplies = 0
    /// ERROR replies to BX/TX seen while tracking.
    public private(set) var trackingErrors = 0

    public init(configuration: NDISessionConfiguration) {
        self.configuration = configuration
    }

    /// How long the driver waits for the reply to the command last sent, or nil when no reply is
    /// awaited (before `.start` and after `.finished`/`.failed`).
    public var awaitedTimeout: Duration? {
        switch self.phase {
        case .idle, .done: return nil
        case .initializing(let attempt):
            return attempt == 1 ? self.configuration.initTimeout : self.configuration.setupTimeout
        case .awaitingReset: return self.configuration.resetTimeout
        case .tracking: return self.configuration.trackingTimeout
        default: return self.configuration.setupTimeout
        }
    }

    /// True once TSTART was answered and until shutdown.
    public var isTracking: Bool { self.phase == .tracking }

    /// The handle bindings once set-up has reached PENA.
    public var handleBindings: [NDIHandleBinding] { self.bindings }

    /// The tracking command sent for every frame.
    public var trackingCommand: NDICommand {
        self.configuration.useTX ? .tx(self.configuration.replyOption) : .bx(self.configuration.replyOption)
    }

    /// Advances the machine by one event.
    public mutating func step(_ event: NDISessionEvent) -> [NDISessionAction] {
        if self.phase == .done { return [] }
        switch event {
        case .start:
            guard self.phase == .idle else { return [] }
            var out: [NDISessionAction] = []
            if self.configuration.serialLine { out += [.setHostLine(baud: 9600), .purge] }
            return out + self.go(.initializing(attempt: 1), send: .initialize)
        case .stop:
            switch self.phase {
            case .tracking:
                return self.go(.stopping, send: .tstop)
            case .stopping, .commBack:
                return []
            default:
                self.phase = .done
                return [.finished]
            }
        case .timeout:
            return self.handleTimeout()
        case .reply(.failure(let error)):
            return self.handleMalformed(error)
        case .reply(.success(let frame)):
            guard let command = self.pending ?? (self.phase == .awaitingReset ? .initialize : nil) else {
                return [.warning("ignored a reply nobody asked for: \(frame.text)")]
            }
            let reply: NDIReply
            do {
                reply = try NDIReply.parse(frame, command: command)
            } catch {
                return self.handleMalformed(error)
            }
            return self.handle(reply, to: command)
        }
    }

    // MARK: - Transitions

    private mutating func go(_ phase: Phase, send command: NDICommand) -> [NDISessionAction] {
        self.phase = phase
        self.pending = command
        self.resends = 0
        return [.send(command)]
    }

    private mutating func fail(_ message: String) -> [NDISessionAction] {
        self.phase = .done
        self.pending = nil
        return [.failed(message)]
    }

    private mutating func handleTimeout() -> [NDISessionAction] {
        switch self.phase {
        case .initializing(1) where self.configuration.serialLine:
            return self.breakAndReset()
        case .awaitingReset:
            return self.fail("no RESET within \(self.configuration.resetTimeout) after a serial break")
        case .tracking:
            return self.fail("no reply to \(self.trackingCommand.name) within \(self.configuration.trackingTimeout)")
        case .stopping, .commBack:
            return self.finishShutdown(afterCommBack: self.phase == .commBack)
        default:
            return self.fail(
                "no reply to \(self.pending?.name ?? "the last command") within \(self.awaitedTimeout ?? .zero)"
            )
        }
    }

    private mutating func breakAndReset() -> [NDISessionAction] {
        self.phase = .awaitingReset
        self.pending = nil
        return [.purge, .sendBreak]
    }

    private mutating func handleMalformed(_ error: NDIReplyError) -> [NDISessionAction] {
        switch self.phase {
        case .tracking:
            self.malformedReplies += 1
            self.pending = self.trackingCommand
            return [.warning("skipped a malformed reply: \(error)"), .send(self.trackingCommand)]
        case .initializing(1) where self.configuration.serialLine:
            return self.breakAndReset()
        case .stopping, .commBack:
            return self.finishShutdown(afterCommBack: self.phase == .commBack)
        case .awaitingReset:
            return [.warning("skipped a malformed reply while waiting for RESET: \(error)")]
        default:
            guard let command = self.pending, self.resends < 3 else {
                return self.fail("malformed reply during set-up: \(error)")
            }
            self.resends += 1
            return [.warning("malformed reply to \(command.name), sending it again: \(error)"), .send(command)]
        }
    }

    private func errorText(_ code: NDIErrorCode) -> String {
        "ERROR\(String(code.rawValue, radix: 16, uppercase: true).leftPadded(2)) (\(code.meaning ?? "undocumented code"))"
    }

    private mutating func handle(_ reply: NDIReply, to command: NDICommand) -> [NDISessionAction] {
        if case .reset = reply, self.phase != .awaitingReset {
            if self.phase == .stopping || self.phase == .commBack { return self.finishShutdown(afterCommBack: true) }
            return self.fail("the tracker reset itself (unsolicited RESET)")
        }
        switch self.phase {
        case .idle, .done:
            return []
        case .initializing(let attempt):
            guard case .okay = reply else {
                if attempt == 1, self.configuration.serialLine { return self.breakAndReset() }
                return self.fail("INIT was refused: \(self.describe(reply))")
            }
            return [.pause(self.configuration.settleDelay)] + self.afterInit()
        case .awaitingReset:
            guard case .reset = reply else {
                return [.warning("expected RESET after the break, got \(self.describe(reply))")]
            }
            return [.pause(self.configuration.settleDelay)] + self.go(.initializing(attempt: 2), send: .initialize)
        case .comm(let rate):
            switch reply {
            case .okay:
                self.negotiatedBaud = rate.bitsPerSecond
                return [.pause(self.configuration.settleDelay), .setHostLine(baud: rate.bitsPerSecond)]
                    + self.go(.listFree, send: .phsr(.toBeFreed))
            case .error(let code) where rate.bitsPerSecond > 115_200:
                return [.warning("COMM to \(rate) baud refused with \(self.errorText(code)); trying 115200")]
                    + self.go(.comm(.b115200), send: .comm(baud: .b115200))
            case .error(let code):
                return [.warning("COMM to \(rate) baud refused with \(self.errorText(code)); staying at 9600")]
                    + self.go(.listFree, send: .phsr(.toBeFreed))
            default:
                return self.fail("unexpected reply to COMM: \(self.describe(reply))")
            }
        case .listFree:
            guard case .portHandles(let list) = reply else { return self.unexpected(reply, to: command) }
            return self.freeNext(list.handles)
        case .freeing(let remaining):
            guard case .okay = reply else { return self.unexpected(reply, to: command) }
            return self.freeNext(Array(remaining.dropFirst()))
        case .requestHandle(let index):
            guard case .portHandle(let handle) = reply else { return self.unexpected(reply, to: command) }
            guard case .passive(_, let rom) = self.configuration.tools[index].setup,
                let pvwr = NDIROMChunk.pvwrCommands(handle: handle, rom: rom), let first = pvwr.first
            else {
                return self.fail(
                    "tool \(self.configuration.tools[index].name): its tool definition is longer than 1024 bytes"
                )
            }
            self.passiveHandles[handle] = index
            return self.go(.writingROM(toolIndex: index, handle: handle, remaining: pvwr), send: first)
        case .writingROM(let index, let handle, let remaining):
            guard case .okay = reply else { return self.unexpected(reply, to: command) }
            let rest = Array(remaining.dropFirst())
            if let next = rest.first {
                return self.go(.writingROM(toolIndex: index, handle: handle, remaining: rest), send: next)
            }
            return self.requestNext(after: index)
        case .listInit(let round):
            guard case .portHandles(let list) = reply else { return self.unexpected(reply, to: command) }
            let todo = list.handles.filter { !self.failedPINIT.contains($0) }
            if todo.isEmpty { return self.go(.listEnable, send: .phsr(.notEnabled)) }
            if round >= 16 {
                return self.fail("PHSR:02 still lists handles \(todo.map(hex2)) after 16 rounds of PINIT")
            }
            return self.go(.initializingHandles(round: round, remaining: todo), send: .pinit(handle: todo[0]))
        case .initializingHandles(let round, let remaining):
            var out: [NDISessionAction] = []
            switch reply {
            case .okay: break
            case .error(let code):
                self.failedPINIT.insert(remaining[0])
                out.append(.warning("PINIT of handle \(hex2(remaining[0])) refused: \(self.errorText(code))"))
            default: return self.unexpected(reply, to: command)
            }
            let rest = Array(remaining.dropFirst())
            if let next = rest.first {
                return out + self.go(.initializingHandles(round: round, remaining: rest), send: .pinit(handle: next))
            }
            return out + self.go(.listInit(round: round + 1), send: .phsr(.notInitialized))
        case .listEnable:
            guard case .portHandles(let list) = reply else { return self.unexpected(reply, to: command) }
            self.bind(list.handles)
            return self.enableNext(list.handles)
        case .enabling(let remaining):
            guard case .okay = reply else { return self.unexpected(reply, to: command) }
            return self.enableNext(Array(remaining.dropFirst()))
        case .starting:
            guard case .okay = reply else { return self.unexpected(reply, to: command) }
            return [.trackingStarted(self.bindings)] + self.go(.tracking, send: self.trackingCommand)
        case .tracking:
            switch reply {
            case .tracking(let t):
                self.consecutiveErrors = 0
                self.pending = self.trackingCommand
                return [.tracking(t), .send(self.trackingCommand)]
            case .error(let code):
                self.trackingErrors += 1
                self.consecutiveErrors += 1
                if self.consecutiveErrors >= 3 {
                    return self.fail(
                        "\(self.trackingCommand.name) refused three times in a row: \(self.errorText(code))"
                    )
                }
                self.pending = self.trackingCommand
                return [
                    .warning("\(self.trackingCommand.name) refused: \(self.errorText(code))"),
                    .send(self.trackingCommand),
                ]
            default:
                return self.unexpected(reply, to: command)
            }
        case .stopping:
            if self.configuration.serialLine, self.negotiatedBaud != 9600 {
                return self.go(.commBack, send: .comm(baud: .b9600))
            }
            return self.finishShutdown(afterCommBack: false)
        case .commBack:
            return self.finishShutdown(afterCommBack: true)
        }
    }

    private mutating func finishShutdown(afterCommBack: Bool) -> [NDISessionAction] {
        if !afterCommBack, self.configuration.serialLine, self.negotiatedBaud != 9600 {
            return self.go(.commBack, send: .comm(baud: .b9600))
        }
        var out: [NDISessionAction] = []
        if afterCommBack {
            self.negotiatedBaud = 9600
            out += [.pause(self.configuration.settleDelay), .setHostLine(baud: 9600)]
        }
        self.phase = .done
        self.pending = nil
        return out + [.finished]
    }

    private mutating func afterInit() -> [NDISessionAction] {
        if self.configuration.serialLine, let rate = self.configuration.commBaud, rate != .b9600 {
            return self.go(.comm(rate), send: .comm(baud: rate))
        }
        return self.go(.listFree, send: .phsr(.toBeFreed))
    }

    private mutating func freeNext(_ handles: [UInt8]) -> [NDISessionAction] {
        if let h = handles.first { return self.go(.freeing(handles), send: .phf(handle: h)) }
        return self.requestNext(after: -1)
    }

    private mutating func requestNext(after index: Int) -> [NDISessionAction] {
        let tools = self.configuration.tools
        var i = index + 1
        while i < tools.count {
            if case .passive = tools[i].setup { return self.go(.requestHandle(toolIndex: i), send: .phrq()) }
            i += 1
        }
        return self.go(.listInit(round: 1), send: .phsr(.notInitialized))
    }

    private mutating func bind(_ handles: [UInt8]) {
        var activeTools = self.configuration.tools.filter { $0.setup == .active }[...]
        var out: [NDIHandleBinding] = []
        for (h, index) in self.passiveHandles.sorted(by: { $0.key < $1.key }) {
            out.append(NDIHandleBinding(handle: h, toolName: self.configuration.tools[index].name, passive: true))
        }
        for h in handles where self.passiveHandles[h] == nil {
            let name = activeTools.popFirst()?.name ?? "port-0x\(hex2(h))"
            out.append(NDIHandleBinding(handle: h, toolName: name, passive: false))
        }
        self.bindings = out.sorted { $0.handle < $1.handle }
    }

    private mutating func enableNext(_ handles: [UInt8]) -> [NDISessionAction] {
        guard let h = handles.first else { return self.go(.starting, send: .tstart) }
        let name = self.bindings.first { $0.handle == h }?.toolName
        let priority = self.configuration.tools.first { $0.name == name }?.priority ?? .dynamic
        return self.go(.enabling(remaining: handles), send: .pena(handle: h, priority: priority))
    }

    private mutating func unexpected(_ reply: NDIReply, to command: NDICommand) -> [NDISessionAction] {
        if case .error(let code) = reply { return self.fail("\(command.name) was refused: \(self.errorText(code))") }
        return self.fail("unexpected reply to \(command.name): \(self.describe(reply))")
    }

    private func describe(_ reply: NDIReply) -> String {
        switch reply {
        case .okay: "OKAY"
        case .error(let code): self.errorText(code)
        case .reset: "RESET"
        case .portHandles(let l): "a handle list \(l.handles.map(hex2))"
        case .portHandle(let h): "handle \(hex2(h))"
        case .portInfo: "port information"
        case .version: "version text"
        case .tracking: "tracking data"
        case .text(let t): "\"\(t)\""
        }
    }
}

func hex2(_ v: UInt8) -> String {
    String(v, radix: 16, uppercase: true).leftPadded(2)
}

extension String {
    func leftPadded(_ n: Int) -> String {
        self.count >= n ? self : String(repeating: "0", count: n - self.count) + self
    }
}
