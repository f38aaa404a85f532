import Geometry
import MockTracker
import NDIProtocol

/// The tracker side of the NDI Combined API as a pure state machine: what a Polaris or Vega
/// answers to each command, driven by a `MockSimulation`.
///
/// Feed it what arrived (`handle(_:trackingFrame:)`): a parsed command, a framing error or a
/// serial break. It returns the actions to perform, in order: bytes to send, a line-rate change
/// (after the reply), a stall or a disconnect (faults), tracking started or stopped. It does no
/// I/O and reads no clock: which simulation frame a BX/TX reply carries is asked of the
/// `trackingFrame` closure, called exactly once per tracking reply.
///
/// ### Modes
/// - **Power-up** (after power-up, a serial break, a new connection): only `INIT`, `VER`,
///   `GETINFO`, `BEEP` and `COMM` are valid; anything else is `ERROR10` (system not initialised).
/// - **Setup** (after `INIT`): the port-handle commands, `TSTART`; `BX`, `TX`, `TSTOP` are
///   `ERROR0C` (invalid in the current mode).
/// - **Tracking** (after `TSTART`): `BX`, `TX`, `TSTOP`, and the read-only `PHSR`, `PHINF`,
///   `VER`, `GETINFO`, `BEEP`; `INIT`, `COMM`, `PHRQ`, `PVWR`, `PINIT`, `PENA`, `PHF` and a
///   second `TSTART` are `ERROR0C`.
///
/// ### Port handles
/// Active tools (`setup: active`) have their scenario handle from the start (listed by
/// `PHSR:02`). `PHRQ` hands out the scenario handles of the passive tools in file order (then
/// free handles from 0x0A up); the 16 `PVWR` chunks are collected, and at `PINIT` the image is
/// compared byte for byte with the tool-definition files the scenario names (zero-padded to
/// 1024 bytes). A match makes the handle report that tool; no match (a wrong tool file) gives a
/// handle that initialises and enables but is reported `MISSING` forever. `PINIT` before any
/// `PVWR` on a requested handle is `ERROR13` (PINIT failed).
///
/// ### COMM
/// Serial links: `OKAY` at the old rate, then a `.setLine` action. Network links (TCP): `OKAY`
/// and no effect (a Vega has no serial line; answering OKAY lets a driver run one start-up on
/// every transport).
public struct NDITrackerSession: Sendable {
    /// What the session is connected through.
    public enum Link: Sendable, Equatable {
        /// A serial line (pseudo-terminal, in-memory pipe with a serial line): COMM switches the
        /// rate, a break resets.
        case serial
        /// A network link (TCP, like a Vega): COMM has no effect.
        case network
    }

    /// The tracker's operating mode.
    public enum Mode: Sendable, Equatable {
        case powerUp
        case setup
        case tracking
    }

    /// What arrived from the host.
    public enum Input: Sendable, Equatable {
        /// A complete command, or why it could not be parsed (from `NDICommandFramer`).
        case command(Result<NDIReceivedCommand, NDICommandError>)
        /// A serial break: the tracker resets and answers `RESET` at 9600 baud.
        case serialBreak
    }

    /// Serial line settings requested by COMM (or restored by a reset).
    public struct LineSettings: Sendable, Equatable {
        public var baud: NDIBaudRate
        public var dataBits: NDIDataBits
        public var parity: NDIParity
        public var stopBits: NDIStopBits
        public var handshake: Bool

        public init(
            baud: NDIBaudRate,
            dataBits: NDIDataBits = .eight,
            parity: NDIParity = .none,
            stopBits: NDIStopBits = .one,
            handshake: Bool = false
        ) {
            self.baud = baud
            self.dataBits = dataBits
            self.parity = parity
            self.stopBits = stopBits
            self.handshake = handshake
        }

        /// 9600 8N1, no handshake: power-up and after a reset.
        public static let powerUp = LineSettings(baud: NDIBaudRate(bitsPerSecond: 9600)!)
    }

    /// What the serving loop must do, in order.
    public enum Action: Sendable, Equatable {
        /// Write these bytes.
        case send([UInt8])
        /// Switch the serial line (after the preceding `send` has gone out).
        case setLine(LineSettings)
        /// Answer nothing for this long (a `stall` fault); the next action is the reply.
        case stall(Duration)
        /// Drop the connection (a `disconnect` fault) and accept the host again after this long.
        /// No reply is sent; the session is back in power-up mode.
        case disconnect(Duration)
        /// Tracking mode entered (TSTART): the frame clock starts.
        case trackingStarted
        /// Tracking mode left (TSTOP, INIT or a reset).
        case trackingStopped
    }

    /// One port handle's state.
    public struct Port: Sendable, Equatable {
        /// Index in `scenario.tools` of the tool this handle reports, nil for an unmatched
        /// (wrong) tool definition or a handle whose ROM was not checked yet.
        public var toolIndex: Int?
        /// True for an active (wired) tool's port.
        public var isActive: Bool
        /// The virtual SROM written by PVWR (1024 bytes), nil until the first PVWR.
        public var rom: [UInt8]?
        public var initialized = false
        public var enabled = false
        public var priority: NDITrackingPriority?

        /// The port status reported by PHSR, PHINF and BX: occupied (active tool or ROM
        /// written), initialized, enabled.
        public var portStatus: NDIPortStatus {
            var s: NDIPortStatus = []
            if self.isActive || self.rom != nil { s.insert(.occupied) }
            if self.initialized { s.insert(.initialized) }
            if self.enabled { s.insert(.enabled) }
            return s
        }
    }

    /// The simulation that supplies frames.
    public let simulation: MockSimulation
    /// The tool-definition images the scenario's passive tools name, by the scenario's
    /// `toolDefinition` string, each zero-padded to 1024 bytes.
    public let toolDefinitions: [String: [UInt8]]
    public let link: Link
    /// The current mode.
    public private(set) var mode: Mode = .powerUp
    /// Allocated port handles.
    public private(set) var ports: [UInt8: Port] = [:]
    /// The current line settings (serial links).
    public private(set) var line: LineSettings = .powerUp
    /// Frame indices whose fault has been injected already (each fault fires once, also across
    /// connections: see `connectionOpened()`).
    public private(set) var firedFaults: Set<Int> = []
    /// The highest frame index a tracking reply has carried.
    public private(set) var lastServedFrame: Int?

    /// A session in power-up mode. `toolDefinitions` maps each passive tool's `toolDefinition`
    /// to the file's bytes (see `MockTrackerServer.loadToolDefinitions`).
    public init(simulation: MockSimulation, toolDefinitions: [String: [UInt8]], link: Link) {
        self.simulation = simulation
        self.toolDefinitions = toolDefinitions.mapValues { Self.padded($0) }
        self.link = link
    }

    /// A new host connection (TCP accept, or the pipe/pty after a disconnect fault): back to
    /// power-up mode with no handles, keeping the record of faults already injected.
    public mutating func connectionOpened() {
        self.powerUp()
    }

    /// Handles one input. `trackingFrame` is called once for each BX/TX reply that carries a
    /// frame and returns the simulation frame index to report.
    public mutating func handle(_ input: Input, trackingFrame: () -> Int) -> [Action] {
        switch input {
        case .serialBreak:
            let wasTracking = self.mode == .tracking
            self.powerUp()
            var actions: [Action] = wasTracking ? [.trackingStopped] : []
            actions.append(.setLine(.powerUp))
            actions.append(.send(Self.bytes(.reset, for: .initialize)))
            return actions
        case .command(.failure(let error)):
            // TSTART/TSTOP/INIT with options (e.g. TSTART:80): accepted, options ignored. The
            // codec checked the CRC before it looked at the parameters.
            if error.kind == .wrongParameterCount, let name = error.command {
                switch name {
                case "TSTART": return self.handle(.tstart, trackingFrame: trackingFrame)
                case "TSTOP": return self.handle(.tstop, trackingFrame: trackingFrame)
                case "INIT": return self.handle(.initialize, trackingFrame: trackingFrame)
                default: break
                }
            }
            return [.send(Self.errorBytes(error.replyCode))]
        case .command(.success(let received)):
            return self.handle(received.command, trackingFrame: trackingFrame)
        }
    }

    // MARK: - Commands

    private mutating func handle(_ command: NDICommand, trackingFrame: () -> Int) -> [Action] {
        // Commands valid in every mode.
        switch command {
        case .ver(let processor):
            return [.send(Self.bytes(.version(Self.versionInfo(processor: processor)), for: command))]
        case .getinfo(let name):
            guard name == "Features.Firmware.Version" else { return self.error(.parameterOutOfRange) }
            return [.send(Self.bytes(.text("Features.Firmware.Version=\(Self.firmwareVersion)"), for: command))]
        case .beep(let count):
            guard (1...9).contains(count) else { return self.error(.parameterOutOfRange) }
            return [.send(Self.bytes(.text("1"), for: command))]
        case .comm(let baud, let dataBits, let parity, let stopBits, let handshake):
            guard self.mode != .tracking else { return self.error(.invalidInCurrentMode) }
            let okay = Action.send(Self.bytes(.okay, for: command))
            guard self.link == .serial else { return [okay] }
            let settings = LineSettings(
                baud: baud,
                dataBits: dataBits,
                parity: parity,
                stopBits: stopBits,
                handshake: handshake
            )
            self.line = settings
            return [okay, .setLine(settings)]
        case .initialize:
            guard self.mode != .tracking else { return self.error(.invalidInCurrentMode) }
            self.initializeSystem()
            return [.send(Self.bytes(.okay, for: command))]
        default:
            break
        }
        guard self.mode != .powerUp else { return self.error(.systemNotInitialized) }

        switch command {
        case .phsr(let filter):
            let entries = self.ports.keys.sorted().compactMap { handle -> NDIPortHandleEntry? in
                let port = self.ports[handle]!
                let listed: Bool
                switch filter {
                case .all: listed = true
                case .toBeFreed: listed = false
                case .notInitialized: listed = !port.initialized
                case .notEnabled: listed = port.initialized && !port.enabled
                case .enabled: listed = port.enabled
                default: return nil
                }
                return listed ? NDIPortHandleEntry(handle: handle, status: port.portStatus) : nil
            }
            guard [.all, .toBeFreed, .notInitialized, .notEnabled, .enabled].contains(filter) else {
                return self.error(.parameterOutOfRange)
            }
            return [.send(Self.bytes(.portHandles(NDIPortHandleList(entries: entries)), for: command))]
        case .phinf(let handle, _):
            guard let port = self.ports[handle] else { return self.error(.invalidPortHandle) }
            return [.send(Self.bytes(.portInfo(self.portInfo(handle: handle, port: port)), for: command))]
        case .bx(let option), .tx(let option):
            guard self.mode == .tracking else { return self.error(.invalidInCurrentMode) }
            let supported: NDIReplyOption = .transformsAllVolumes
            if let option, !option.subtracting(supported).isEmpty || !option.contains(.transformsAndStatus) {
                return self.error(.parameterOutOfRange)
            }
            return self.trackingReply(to: command, frameIndex: trackingFrame())
        case .tstop:
            guard self.mode == .tracking else { return self.error(.invalidInCurrentMode) }
            self.mode = .setup
            return [.send(Self.bytes(.okay, for: command)), .trackingStopped]
        default:
            break
        }
        guard self.mode == .setup else { return self.error(.invalidInCurrentMode) }

        switch command {
        case .phrq:
            guard let handle = self.nextFreeHandle() else { return self.error(.allHandlesAllocated) }
            self.ports[handle] = Port(toolIndex: nil, isActive: false)
            return [.send(Self.bytes(.portHandle(handle), for: command))]
        case .pvwr(let handle, let address, let data):
            guard var port = self.ports[handle] else { return self.error(.invalidPortHandle) }
            guard address % 64 == 0, Int(address) + 64 <= 1024 else { return self.error(.parameterOutOfRange) }
            var rom = port.rom ?? [UInt8](repeating: 0, count: 1024)
            rom.replaceSubrange(Int(address)..<(Int(address) + 64), with: data.bytes)
            port.rom = rom
            self.ports[handle] = port
            return [.send(Self.bytes(.okay, for: command))]
        case .pinit(let handle):
            guard var port = self.ports[handle] else { return self.error(.invalidPortHandle) }
            if !port.isActive {
                guard let rom = port.rom else { return self.error(.pinitFailed) }
                port.toolIndex = self.simulation.scenario.tools.firstIndex { tool in
                    guard let name = tool.setup.toolDefinition, let image = self.toolDefinitions[name] else {
                        return false
                    }
                    return image == rom
                }
            }
            port.initialized = true
            self.ports[handle] = port
            return [.send(Self.bytes(.okay, for: command))]
        case .pena(let handle, let priority):
            guard var port = self.ports[handle] else { return self.error(.invalidPortHandle) }
            guard port.initialized else { return self.error(.portNotInitialized) }
            port.enabled = true
            port.priority = priority
            self.ports[handle] = port
            return [.send(Self.bytes(.okay, for: command))]
        case .phf(let handle):
            guard self.ports[handle] != nil else { return self.error(.invalidPortHandle) }
            self.ports[handle] = nil
            return [.send(Self.bytes(.okay, for: command))]
        case .tstart:
            self.mode = .tracking
            return [.send(Self.bytes(.okay, for: command)), .trackingStarted]
        default:
            // .raw and anything not modelled.
            return self.error(.invalidCommand)
        }
    }

    // MARK: - Tracking replies

    private mutating func trackingReply(to command: NDICommand, frameIndex: Int) -> [Action] {
        let frame = self.simulation.frame(frameIndex)
        var reports: [NDIHandleReport] = []
        for handle in self.ports.keys.sorted() {
            let port = self.ports[handle]!
            guard port.enabled else { continue }
            let base = port.portStatus
            guard let k = port.toolIndex, k < frame.tools.count else {
                reports.append(.missing(handle: handle, portStatus: base, frameNumber: frame.frameNumber))
                continue
            }
            let state = frame.tools[k]
            switch state.status {
            case .ok, .partlyOutOfVolume:
                guard let m = state.measured else {
                    reports.append(.missing(handle: handle, portStatus: base, frameNumber: frame.frameNumber))
                    continue
                }
                var status = base
                if state.status == .partlyOutOfVolume { status.insert(.partiallyInVolume) }
                let transform = NDITransform(rotation: m.rotation, translation: m.translationMM, rmsError: state.rmsErrorMM)
                reports.append(
                    .valid(handle: handle, transform: transform, portStatus: status, frameNumber: frame.frameNumber)
                )
            case .missing:
                reports.append(.missing(handle: handle, portStatus: base, frameNumber: frame.frameNumber))
            case .disabled:
                reports.append(
                    NDIHandleReport(handle: handle, status: .disabled, portStatus: base, frameNumber: frame.frameNumber)
                )
            }
        }
        var bytes = Self.bytes(.tracking(NDITrackingReply(handles: reports)), for: command)
        // The fault of this frame, or of a frame skipped since the last tracking reply (a host
        // polling slower than the frame rate still meets every fault once).
        let earliest = self.lastServedFrame.map { $0 + 1 } ?? 0
        self.lastServedFrame = Swift.max(frameIndex, self.lastServedFrame ?? frameIndex)
        let due = self.simulation.scenario.faults.first {
            !self.firedFaults.contains($0.frameIndex) && $0.frameIndex >= Swift.min(earliest, frameIndex)
                && $0.frameIndex <= frameIndex
        }
        guard let due else { return [.send(bytes)] }
        let fault = due.fault
        self.firedFaults.insert(due.frameIndex)
        switch fault {
        case .corruptCRC:
            Self.corruptCRC(&bytes)
            return [.send(bytes)]
        case .stall(let d):
            return [.stall(d), .send(bytes)]
        case .disconnect(let d):
            self.powerUp()
            return [.trackingStopped, .disconnect(d)]
        }
    }

    /// Spoils the CRC at the end of a reply: the low bit of the binary body CRC, or the ASCII
    /// CRC replaced by CRC ^ 1 (still 4 hex digits, so the reply stays framed).
    static func corruptCRC(_ bytes: inout [UInt8]) {
        if bytes.count >= 8, bytes[0] == 0xC4, bytes[1] == 0xA5 {
            bytes[bytes.count - 2] ^= 0x01
        } else if bytes.count >= 5 {
            let payload = bytes[0..<(bytes.count - 5)]
            let wrong = NDICRC16.checksum(payload) ^ 0x0001
            bytes.replaceSubrange((bytes.count - 5)..<(bytes.count - 1), with: NDICRC16.hexDigits(wrong))
        }
    }

    // MARK: - State changes

    private mutating func powerUp() {
        self.mode = .powerUp
        self.ports = [:]
        self.line = .powerUp
    }

    private mutating func initializeSystem() {
        self.mode = .setup
        self.ports = [:]
        for (k, tool) in self.simulation.scenario.tools.enumerated() where tool.setup == .active {
            self.ports[tool.handle] = Port(toolIndex: k, isActive: true)
        }
    }

    private func nextFreeHandle() -> UInt8? {
        for tool in self.simulation.scenario.tools where tool.setup != .active {
            if self.ports[tool.handle] == nil { return tool.handle }
        }
        let reserved = Set(self.simulation.scenario.tools.map(\.handle))
        for h in UInt8(0x0A)...UInt8(0xFF) where self.ports[h] == nil && !reserved.contains(h) {
            return h
        }
        return nil
    }

    // MARK: - Identity

    /// The firmware version the mock reports (GETINFO, VER).
    public static let firmwareVersion = "CoilNav-Mock-001"

    /// The `VER` text: its `Freeze Tag` is not one scikit-surgerynditracker switches to TX for.
    public static func versionInfo(processor: UInt8) -> NDIVersionInfo {
        NDIVersionInfo(
            text: "CoilNav Mock Tracker (NDI Combined API)\nProcessor: \(processor)\nFreeze Tag: \(Self.firmwareVersion)\n"
                + "Freeze Date: 01/01/2026\n(C) CoilNav"
        )
    }

    private func portInfo(handle: UInt8, port: Port) -> NDIPortInfo {
        guard port.isActive || port.rom != nil else { return .unoccupied }
        let tool = port.toolIndex.map { self.simulation.scenario.tools[$0] }
        let type: String
        switch tool?.kind {
        case .headReference: type = "01000000"
        case .pointer: type = "02000000"
        default: type = "04000000"
        }
        let name = tool?.name ?? "UNKNOWN"
        return NDIPortInfo(
            basic: .init(
                toolType: type,
                manufacturer: Self.field("COILNAV", 12),
                revision: "001",
                serialNumber: Self.field(String(format8: handle), 8),
                portStatus: port.portStatus
            ),
            currentTest: 0,
            partNumber: Self.field(name, 20),
            accessories: 0,
            markerType: 0,
            portLocation: Self.field("00000000" + (port.isActive ? "10" : "01") + "0000", 14),
            gpioStatus: 0
        )
    }

    private static func field(_ s: String, _ width: Int) -> String {
        let ascii = s.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "_" }
        let text = String(ascii.prefix(width))
        return text + String(repeating: " ", count: width - text.count)
    }

    // MARK: - Encoding helpers

    private func error(_ code: NDIErrorCode) -> [Action] {
        [.send(Self.errorBytes(code))]
    }

    static func errorBytes(_ code: NDIErrorCode) -> [UInt8] {
        Self.bytes(.error(code), for: .initialize)
    }

    /// Encodes a reply the session built; every value it builds fits the format.
    static func bytes(_ reply: NDIReply, for command: NDICommand) -> [UInt8] {
        do {
            return try reply.encoded(for: command)
        } catch {
            preconditionFailure("the mock built a reply it cannot encode: \(error)")
        }
    }

    private static func padded(_ bytes: [UInt8]) -> [UInt8] {
        bytes.count >= 1024 ? Array(bytes.prefix(1024)) : bytes + [UInt8](repeating: 0, count: 1024 - bytes.count)
    }
}

extension String {
    /// A handle as the mock's 8-character tool serial number, e.g. `MOCK0001`.
    fileprivate init(format8 handle: UInt8) {
        let hex = String(handle, radix: 16, uppercase: true)
        self = "MOCK" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
