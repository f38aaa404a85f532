import Foundation
import TrackerTransport

/// The listening side of `coilnav serve`: an OpenIGTLink port and a JSON-lines port in front of a
/// `NavigationEngine`, and the watchdog thread.
public final class NavigationServer: @unchecked Sendable {
    // @unchecked: `threads` and `stopped` are guarded by `lock`; the rest is immutable.
    public struct Options: Sendable {
        public var bind: String
        /// 0 picks a free port.
        public var igtlPort: Int
        public var jsonPort: Int
        /// How long a client's socket may refuse data before the client is dropped as stalled.
        public var writeTimeout: Duration
        /// Queued must-deliver bytes (responses, events) above which a client is dropped.
        public var controlLimitBytes: Int
        /// How often the watchdog looks (real time); nil: never (tests call `engine.checkWatchdog()`).
        public var watchdogInterval: Duration?
        /// TCP keepalive (half-open detection): idle seconds before the first probe.
        public var keepAliveIdleSeconds: Int32

        public init(
            bind: String = "127.0.0.1", igtlPort: Int = 18944, jsonPort: Int = 18945, writeTimeout: Duration = .seconds(2),
            controlLimitBytes: Int = 1 << 20, watchdogInterval: Duration? = .milliseconds(5), keepAliveIdleSeconds: Int32 = 5
        ) {
            self.bind = bind
            self.igtlPort = igtlPort
            self.jsonPort = jsonPort
            self.writeTimeout = writeTimeout
            self.controlLimitBytes = controlLimitBytes
            self.watchdogInterval = watchdogInterval
            self.keepAliveIdleSeconds = keepAliveIdleSeconds
        }
    }

    public let engine: NavigationEngine
    public let options: Options
    public let commands: CommandExecutor
    private let igtlListener: TCPListener
    private let jsonListener: TCPListener
    private let lock = NSLock()
    private var stopped = false
    private var threads: [Thread] = []
    private let done = DispatchGroup()

    /// The ports actually bound.
    public var igtlPort: Int { self.igtlListener.port }
    public var jsonPort: Int { self.jsonListener.port }

    /// Binds both ports (throws a clear error when a port is taken).
    public init(engine: NavigationEngine, commands: CommandExecutor, options: Options) throws(TransportError) {
        self.engine = engine
        self.commands = commands
        self.options = options
        self.igtlListener = try TCPListener(host: options.bind, port: options.igtlPort, backlog: 64)
        do {
            self.jsonListener = try TCPListener(host: options.bind, port: options.jsonPort, backlog: 64)
        } catch {
            self.igtlListener.close()
            throw error
        }
    }

    /// Starts accepting clients and the watchdog.
    public func start() {
        self.spawn("coilnav-igtl-accept") { self.acceptLoop(self.igtlListener, kind: .openIGTLink) }
        self.spawn("coilnav-json-accept") { self.acceptLoop(self.jsonListener, kind: .jsonLines) }
        self.spawn("coilnav-fan-out") { [engine = self.engine] in engine.fanOut.run { engine.currentClients() } }
        if let interval = self.options.watchdogInterval {
            self.spawn("coilnav-watchdog") {
                while !self.isStopped {
                    Thread.sleep(forTimeInterval: interval.inSeconds)
                    self.engine.checkWatchdog()
                }
            }
        }
    }

    /// Stops listening, closes every client and waits for the server's threads.
    public func stop() {
        self.lock.lock()
        let first = !self.stopped
        self.stopped = true
        self.lock.unlock()
        guard first else { return }
        self.igtlListener.close()
        self.jsonListener.close()
        self.engine.closeAllClients(reason: "server stopping")
        self.engine.fanOut.stop()
        self.done.wait()
    }

    private var isStopped: Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.stopped
    }

    private func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        self.done.enter()
        let t = Thread { [done] in
            body()
            done.leave()
        }
        t.name = name
        t.start()
    }

    private func acceptLoop(_ listener: TCPListener, kind: ClientProtocol) {
        while !self.isStopped {
            let stream: TCPStream?
            do {
                stream = try listener.accept(timeout: .milliseconds(500), writeTimeout: self.options.writeTimeout)
            } catch {
                if error.code == .closed { return }
                self.engine.log("coilnav: \(kind.rawValue) port: accept failed: \(error)")
                Thread.sleep(forTimeInterval: 0.05)
                continue
            }
            guard let stream else { continue }
            do {
                try stream.enableKeepAlive(idleSeconds: self.options.keepAliveIdleSeconds)
            } catch {
                self.engine.log("coilnav: \(error)")
            }
            let engine = self.engine
            let handler: any ClientHandler =
                switch kind {
                case .openIGTLink: IGTLClientHandler(engine: engine, commands: self.commands)
                case .jsonLines: JSONLClientHandler(engine: engine, commands: self.commands)
                }
            let client = engine.addClient { id in
                ClientConnection(
                    id: id, stream: stream, kind: kind, handler: handler, controlLimitBytes: self.options.controlLimitBytes
                ) { c, reason in
                    engine.removeClient(c)
                    engine.log("coilnav: \(c.label) dropped: \(reason)")
                }
            }
            engine.log("coilnav: \(client.label) connected")
            client.start()
        }
    }
}
