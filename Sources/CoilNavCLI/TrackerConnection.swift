import Foundation
import MockTracker
import MockTrackerServer
import NDITracker
import NavigationServer
import TrackerCore
import TrackerRecording
import TrackerTransport

/// How a command reaches its tracker: the connect closure for the driver, the driver's
/// configuration, and the in-process mock tracker when the URL is mock://; for replay://, the
/// recording and the clock of its timeline. Shared by `track`, `serve` and `record`, so all accept
/// the same URLs; `makeSource` gives the thread that delivers the events (the NDI driver or the
/// replay).
struct TrackerConnection {
    let url: TrackerURL
    let connect: @Sendable () throws -> any ByteStream
    let configuration: NDITrackerConfiguration
    /// The frame rate the driver polls at (the mock's scenario rate, or the device profile's; a
    /// recording's nominal rate).
    let frameRateHz: Double
    let mockServer: MockTrackerServer?
    /// The tool set the driver sets up (nil for a replay: the recording names its tools).
    var toolSet: ToolSet? = nil
    /// The device profile the driver uses, if any.
    var deviceProfile: DeviceProfile? = nil
    /// The recording played by replay://.
    var recording: Recording? = nil
    /// The clock frames are timed on: the host's monotonic clock, or a replay's recorded timeline.
    var clock: any TrackerClock = SystemTrackerClock()
    /// For a replay: the recorded run's Unix time at the clock's zero (so timestamps are the live ones).
    var unixNanosecondsAtClockZero: Int64? = nil
    /// What the reader of a recording tolerated (a torn last line, no end record).
    var warnings: [String] = []

    /// The thread that delivers the tracker's events to `onEvent`: the NDI driver (on `clock`), or
    /// the recording played on its timeline.
    func makeSource(onEvent: @escaping @Sendable (TrackerEvent) -> Void) -> any TrackerSource {
        if let recording, let replayClock = self.clock as? ReplayClock {
            return ReplayTrackerSource(recording: recording, clock: replayClock, onEvent: onEvent)
        }
        return NDITrackerDriver(configuration: self.configuration, clock: self.clock, connect: self.connect, onEvent: onEvent)
    }

    /// - Parameters:
    ///   - text: the tracker URL as the user typed it (for messages).
    static func open(text: String, toolSetPath: String?, profilesPath: String?) throws -> TrackerConnection {
        let url: TrackerURL
        do {
            url = try TrackerURL(parsing: text)
        } catch {
            throw CLIError("\(error)")
        }
        return try Self.open(url: url, text: text, toolSetPath: toolSetPath, profilesPath: profilesPath)
    }

    /// - Parameters:
    ///   - mockTiming: how a mock:// tracker paces its frames (real time unless a command asks otherwise).
    ///   - frameRateHz: overrides the frame rate of the device profile or the mock scenario.
    static func open(
        url: TrackerURL, text: String, toolSetPath: String?, profilesPath: String?,
        mockTiming: MockFrameTiming = .realTime, frameRateHz overrideRate: Double? = nil
    ) throws -> TrackerConnection {
        if case .replay(let path, let speed) = url {
            let recording: Recording
            do {
                recording = try Recording.read(path: path)
            } catch {
                throw CLIError("\(error)")
            }
            let reason = "\(text) is a recording: it is played by a replay source, not through a byte stream"
            var connection = TrackerConnection(
                url: url, connect: { throw CLIError(reason) },
                configuration: NDITrackerConfiguration.forURL(url, profiles: [], tools: [], frameRateHz: recording.header.frameRateHz),
                frameRateHz: recording.header.frameRateHz, mockServer: nil)
            connection.recording = recording
            connection.clock = ReplayClock(start: recording.header.clockAtStartNanoseconds, speed: speed)
            connection.unixNanosecondsAtClockZero = recording.header.unixNanosecondsAtClockZero
            connection.warnings = recording.warnings
            return connection
        }
        let toolSetFile = try toolSetPath ?? DataLocator.path("Calibration/tools/toolset-mock.json")
        let toolSet: ToolSet
        do {
            toolSet = try ToolSet.load(path: toolSetFile)
        } catch {
            throw CLIError("tool set \(error)")
        }
        var deviceProfiles: [DeviceProfile] = []
        if let dir = try? (profilesPath ?? DataLocator.path("Devices")) {
            do {
                deviceProfiles = try DeviceProfiles.load(directory: dir)
            } catch {
                if profilesPath != nil { throw CLIError("device profiles: \(error)") }
            }
        }
        let connect: @Sendable () throws -> any ByteStream
        var mockServer: MockTrackerServer?
        var frameRateHz: Double?
        switch url {
        case .mock(let scenarioPath, let seed):
            let scenario: MockScenario
            do {
                scenario = try MockScenario.load(path: scenarioPath)
            } catch {
                throw CLIError("\(error)")
            }
            let server: MockTrackerServer
            do {
                server = try MockTrackerServer.pipeServer(scenario: scenario, seed: seed, timing: mockTiming)
            } catch {
                throw CLIError("mock tracker: \(error)")
            }
            mockServer = server
            frameRateHz = scenario.frameRateHz
            // Every connection, including reconnects after a disconnect, is a fresh pipe end.
            connect = { server.connect() }
        default:
            let endpoint: TransportEndpoint
            do {
                endpoint = try TransportEndpoint(url)
            } catch {
                throw CLIError("\(error)")
            }
            connect = { try endpoint.open() }
        }
        if let overrideRate { frameRateHz = overrideRate }
        let config = NDITrackerConfiguration.forURL(url, profiles: deviceProfiles, tools: toolSet.tools, frameRateHz: frameRateHz)
        let period = config.pollInterval == .zero ? 1.0 / 60 : config.pollInterval.inSeconds
        var connection = TrackerConnection(
            url: url, connect: connect, configuration: config, frameRateHz: frameRateHz ?? 1 / period, mockServer: mockServer)
        connection.toolSet = toolSet
        connection.deviceProfile = NDITrackerConfiguration.profile(for: url, profiles: deviceProfiles)
        return connection
    }

    static func describe(_ s: TrackerState) -> String { TrackerStateText.describe(s) }
}
