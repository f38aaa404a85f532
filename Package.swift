// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "CoilNav",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "coilnav", targets: ["coilnav"]),
        .library(name: "Geometry", targets: ["Geometry"]),
        .library(name: "Registration", targets: ["Registration"]),
        .library(name: "Planning", targets: ["Planning"]),
        .library(name: "Formats", targets: ["Formats"]),
        .library(name: "NDIProtocol", targets: ["NDIProtocol"]),
        .library(name: "TrackerTransport", targets: ["TrackerTransport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // Pure rigid-body maths, small dense linear algebra, meshes and their closest-point index.
        // No Foundation, no I/O.
        .target(name: "Geometry"),
        // Paired-point registration, FRE/TRE prediction, point-to-plane ICP surface refinement and
        // pivot calibration. Pure maths, no I/O.
        .target(name: "Registration", dependencies: ["Geometry"]),
        // Coil placement on the scalp from a cortical target (SimNIBS coil frame). Pure maths.
        .target(name: "Planning", dependencies: ["Geometry"]),
        // Reading and writing the files CoilNav exchanges: Slicer markups, plans, registrations,
        // meshes, pose CSV.
        .target(name: "Formats", dependencies: ["Geometry"]),
        // What trackers report (frames, tool samples, statuses) and where they are (tracker URLs).
        .target(name: "TrackerCore", dependencies: ["Geometry"]),
        // The per-frame navigation maths: coil pose in MRI space against the planned target (error
        // decomposition in the SimNIBS coil frame) and the on-target state with hysteresis and dwell.
        // Pure, synchronous, no Foundation, no I/O, no allocation per frame.
        .target(name: "Navigation", dependencies: ["Geometry", "TrackerCore"]),
        // The deterministic mock tracker's simulation: scenario files (Mock/scenarios/) and the
        // engine that turns a scenario and a seed into per-frame tool states. Pure, no clock read.
        .target(name: "MockTracker", dependencies: ["Geometry", "Formats"]),
        // The NDI Combined API codec: command encoding and parsing, CRC-16, reply framing and
        // parsing (BX, TX, PHSR, PHINF, VER, …), and the tracker-side reply encoders the mock uses.
        // Pure values, no Foundation, no I/O.
        .target(name: "NDIProtocol", dependencies: ["Geometry"]),
        // The OpenIGTLink codec: 58-byte header, CRC-64, version-2 extended header and metadata,
        // TRANSFORM/POSITION/STATUS/STRING and the GET_/STT_/STP_/RTS_ queries, a streaming decoder
        // with a body-size limit. Pure values, no Foundation, no I/O.
        .target(name: "IGTLProtocol", dependencies: ["Geometry"]),
        // The mock tracker's protocol side: the NDI Combined API tracker-side state machine over a
        // MockSimulation, and its serving loops over an in-memory pipe, a pseudo-terminal or TCP.
        .target(
            name: "MockTrackerServer",
            dependencies: ["MockTracker", "NDIProtocol", "TrackerTransport", "Geometry"]
        ),
        // libusb-1.0 as a Swift module (module map plus a shim for its variadic calls). Only
        // TrackerTransport imports it.
        .systemLibrary(name: "CLibUSB", pkgConfig: "libusb-1.0", providers: [.apt(["libusb-1.0-0-dev"])]),
        // Byte streams to trackers: FTDI over libusb, POSIX serial, TCP, pseudo-terminals and
        // in-memory pipes; USB enumeration; device profiles (`Devices/`). Knows nothing of NDI.
        .target(name: "TrackerTransport", dependencies: ["CLibUSB", "TrackerCore"]),
        // The NDI tracker driver: a pure set-up/tracking session state machine and the thread that
        // owns the byte stream, reconnects with backoff and yields `TrackerFrame`s; tool sets.
        .target(name: "NDITracker", dependencies: ["NDIProtocol", "TrackerTransport", "TrackerCore", "Geometry"]),
        // Tracker recordings (`coilnav-recording`): the recorder (a writer thread behind a bounded queue,
        // so the tracker never waits for the disk), the strict reader, and the replay source that feeds
        // a recording to the same consumers as the NDI driver on the recorded timeline.
        .target(name: "TrackerRecording", dependencies: ["NDITracker", "TrackerCore", "Formats", "Geometry"]),
        // What `coilnav serve` keeps on disk: its configuration file (`coilnav-serve`), coil calibration
        // files (`coilnav-coil-calibration`) and the session directory (state, registration, token).
        .target(name: "ServerSession", dependencies: ["Formats", "Geometry", "Navigation", "TrackerCore"]),
        // The navigation server's JSON-lines protocol codec: request parsing with coded errors, frame/
        // event/response encoders into byte buffers, the line splitter. Pure, no I/O, no sockets.
        .target(name: "JSONLinesProtocol", dependencies: ["Navigation", "Geometry", "Formats", "TrackerCore"]),
        // The navigation server: the engine (tracker events → per-frame pipeline → encoded messages,
        // watchdog, pose history), per-client latest-wins fan-out, the OpenIGTLink and JSON-lines
        // servers, and the command executor (targets, captures, registration, durable pulses).
        .target(
            name: "NavigationServer",
            dependencies: [
                "Navigation", "IGTLProtocol", "JSONLinesProtocol", "ServerSession", "Formats", "Registration", "NDITracker",
                "TrackerTransport", "TrackerCore", "Geometry",
            ]
        ),
        // The QA run on a phantom (`coilnav qa`): the protocol as a pure state machine over tracker
        // frames, every figure (jitter, frame rate, dropouts, pivot repeatability, FRE/TRE, latency)
        // against the phantom's thresholds, report.json, report.md and SVG plots. Pure, no I/O.
        .target(name: "QualityAssurance", dependencies: ["Formats", "Geometry", "Registration", "Navigation", "TrackerCore"]),
        // The live readout (`coilnav watch`): the server's frame, event and status lines decoded into a
        // state, and that state drawn as a full screen or as plain lines. Pure, no I/O, no Foundation.
        .target(name: "Readout", dependencies: ["Formats", "Geometry"]),
        // The `coilnav` commands, as a library so tests can drive them in-process.
        .target(
            name: "CoilNavCLI",
            dependencies: [
                "Geometry", "Registration", "Planning", "Formats", "TrackerTransport", "NDITracker", "TrackerCore",
                "MockTracker", "MockTrackerServer", "Navigation", "NavigationServer", "ServerSession", "IGTLProtocol",
                "JSONLinesProtocol", "QualityAssurance", "TrackerRecording", "Readout",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(name: "coilnav", dependencies: ["CoilNavCLI"]),
        // A small probe of the FTDI transport that TrackerTransportTests runs under umockdev.
        .executableTarget(name: "coilnav-usbprobe", dependencies: ["TrackerTransport"]),
        // Helpers shared by the test targets: running programs, finding the interop Python.
        .target(name: "CoilNavTestSupport", path: "Tests/CoilNavTestSupport"),
        .testTarget(name: "GeometryTests", dependencies: ["Geometry"]),
        .testTarget(name: "RegistrationTests", dependencies: ["Registration", "Geometry"]),
        .testTarget(name: "SurfaceTests", dependencies: ["Geometry", "Registration", "Planning"]),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "Geometry"]),
        .testTarget(name: "TrackerCoreTests", dependencies: ["TrackerCore", "Geometry"]),
        .testTarget(name: "NavigationTests", dependencies: ["Navigation", "Geometry", "TrackerCore"]),
        .testTarget(name: "ServerSessionTests", dependencies: ["ServerSession", "Formats", "Geometry", "Navigation", "TrackerCore"]),
        .testTarget(
            name: "JSONLinesProtocolTests",
            dependencies: ["JSONLinesProtocol", "Navigation", "Geometry", "Formats", "TrackerCore"]
        ),
        .testTarget(
            name: "NavigationServerTests",
            dependencies: [
                "NavigationServer", "Navigation", "IGTLProtocol", "JSONLinesProtocol", "ServerSession", "Formats", "NDITracker",
                "TrackerTransport", "TrackerCore", "Geometry",
            ]
        ),
        .testTarget(name: "MockTrackerTests", dependencies: ["MockTracker", "Geometry", "Formats"]),
        .testTarget(
            name: "QualityAssuranceTests",
            dependencies: ["QualityAssurance", "Formats", "Geometry", "Registration", "TrackerCore", "MockTracker"]
        ),
        .testTarget(
            name: "ReadoutTests",
            dependencies: ["Readout", "JSONLinesProtocol", "Navigation", "Geometry", "TrackerCore"]
        ),
        .testTarget(name: "NDIProtocolTests", dependencies: ["NDIProtocol", "Geometry"]),
        .testTarget(name: "IGTLProtocolTests", dependencies: ["CoilNavTestSupport", "IGTLProtocol", "Geometry"]),
        .testTarget(
            name: "TrackerTransportTests",
            dependencies: ["CoilNavTestSupport", "TrackerTransport", "TrackerCore", "coilnav-usbprobe"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "NDITrackerTests",
            dependencies: ["NDITracker", "NDIProtocol", "TrackerTransport", "TrackerCore", "Geometry", "coilnav"]
        ),
        .testTarget(
            name: "MockTrackerServerTests",
            dependencies: ["CoilNavTestSupport", "MockTrackerServer", "MockTracker", "NDIProtocol", "TrackerTransport", "Geometry", "coilnav"],
            exclude: ["interop"]
        ),
        .testTarget(
            name: "TrackerRecordingTests",
            dependencies: [
                "TrackerRecording", "NDITracker", "TrackerCore", "Formats", "Geometry", "MockTracker", "MockTrackerServer",
                "NavigationServer", "Navigation", "JSONLinesProtocol", "TrackerTransport",
            ],
            exclude: ["Fixtures"]
        ),
        // Runs the built `coilnav` binary and the maths on the demo patient's real data.
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["CoilNavTestSupport", 
                "coilnav", "Geometry", "Registration", "Planning", "Formats", "TrackerCore", "TrackerTransport", "NDITracker",
                "MockTracker", "MockTrackerServer", "Navigation", "ServerSession", "TrackerRecording", "Readout",
            ]
        ),
    ]
)
