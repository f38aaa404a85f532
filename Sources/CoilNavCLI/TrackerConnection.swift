import Foundation
import MockTracker
import MockTrackerServer
import NDITracker
import NavigationServer
import TrackerCore
import TrackerTransport

/// How a command reaches its tracker: the connect closure for the driver, the driver's
/// configuration, and the in-process mock tracker when the URL is mock://. Shared by `track` and
/// `serve`, so both accept the same URLs.
struct TrackerConnection {
    let url: TrackerURL
    let connect: @Sendable () throws -> any ByteStream
    let configuration: NDITrackerConfiguration
    /// The frame rate the driver polls at (the mock's scenario rate, or the device profile's).
    let frameRateHz: Double
    let mockServer: MockTrackerServer?

    /// - Parameters:
    ///   - text: the tracker URL as the user typed it (for messages).
    ///   - command: the command name, for the replay refusal.
    static func open(text: String, toolSetPath: String?, profilesPath: String?, command: String) throws -> TrackerConnection {
        let url: TrackerURL
        do {
            url = try TrackerURL(parsing: text)
        } catch {
            throw CLIError("\(error)")
        }
        return try Self.open(url: url, text: text, toolSetPath: toolSetPath, profilesPath: profilesPath, command: command)
    }

    /// - Parameters:
    ///   - mockTiming: how a mock:// tracker paces its frames (real time unless a command asks otherwise).
    ///   - frameRateHz: overrides the frame rate of the device profile or the mock scenario.
    static func open(
        url: TrackerURL, text: String, toolSetPath: String?, profilesPath: String?, command: String,
        mockTiming: MockFrameTiming = .realTime, frameRateHz overrideRate: Double? = nil
    ) throws -> TrackerConnection {
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
        case .replay:
            throw CLIError(
                "tracker URL \"\(text)\": `coilnav \(command)` does not play recordings; use an ndi-usb, ndi-serial, ndi-tcp or mock URL"
            )
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
        let period = config.pollInterval == .zero ? 1.0 / 60 : Double(config.pollInterval.components.attoseconds) / 1e18 + Double(config.pollInterval.components.seconds)
        return TrackerConnection(
            url: url, connect: connect, configuration: config, frameRateHz: frameRateHz ?? 1 / period, mockServer: mockServer)
    }

    static func describe(_ s: TrackerState) -> String { TrackerStateText.describe(s) }
}
