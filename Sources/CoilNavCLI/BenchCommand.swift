import ArgumentParser
import Foundation
import Formats
import Geometry
import IGTLProtocol
import NDITracker
import Navigation
import NavigationServer
import Readout
import Registration
import TrackerCore

/// `coilnav bench`: measures the registration maths on the demo patient. Build in release mode
/// for meaningful figures: `swift run -c release coilnav bench`.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark the maths, the per-frame pipeline, recordings and the readout; --latency: the server's frame-to-client latency.",
        discussion: """
            Paired-point registration with 3, 10 and 1000 points (goal: ≤ 5 µs for ≤ 10 fiducials); \
            point-to-plane ICP of 1000 scalp points, 8° / 6 mm off, against the demo scalp subdivided \
            to ≥ 100k triangles (goal: converged in ≤ 20 ms); pivot calibration with 200 poses; the \
            per-frame navigation pipeline (goal: ≤ 10 µs) and the server's share of a frame; a \
            recording's frame lines written and read, and replayed at speed 0 into the engine; the \
            readout's frame-to-screen update (goal: ≤ 5 ms of a 30 Hz redraw's 33 ms). \
            Figures are per call: min, median, 99th percentile and max over the iterations.
            """
    )

    @Option(help: ArgumentHelp("Scalp mesh; default Mock/demo/scalp.ply.", valueName: "MESH"))
    var scalp: String?

    @Option(help: "Scale the iteration counts (1 = default).")
    var scale: Double = 1

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Measure the server's latency instead: frame in → a client has its TRANSFORM, at 60/400/2000 Hz with 1/16/64 OpenIGTLink clients.")
    var latency = false

    @Option(help: ArgumentHelp("Seconds per latency configuration.", valueName: "S"))
    var seconds: Double = 5

    struct Report: Encodable {
        var build: String
        var meshTriangles: Int
        var indexBuildMilliseconds: Double
        var icpIterations: Int
        var icpRotationErrorDegrees: Double
        var icpTranslationErrorMM: Double
        var measurements: [Measurement]
    }

    func run() throws {
        if self.latency { return try self.runLatency() }
        let scalpPath = try self.scalp ?? DataLocator.path("Mock/demo/scalp.ply")
        var mesh = try MeshFile.read(path: scalpPath).orientedOutward()
        var rng = SplitMix64(seed: 2026)
        func n(_ k: Int) -> Int { max(1, Int(Double(k) * self.scale)) }
        var results: [Measurement] = []

        // Paired-point registration: a known transform, 1 mm noise.
        let truth = RigidTransform(rotation: rng.nextRotation(angleRadians: 0.4), translation: Vector3(12, -35, 48))
        for count in [3, 10, 1000] {
            let mriPoints: [Vector3]
            if count == 3 {
                mriPoints = [Vector3(1.47, 85.07, -34.84), Vector3(-80.62, -29.09, -41.31), Vector3(84.36, -28.50, -41.28)]
            } else {
                mriPoints = mesh.randomSurfacePoints(count: count, using: &rng)
            }
            let mri = mriPoints.enumerated().map { LabeledPoint(label: "p\($0.offset)", position: $0.element) }
            let head = mri.map {
                LabeledPoint(label: $0.label, position: truth.inverse.apply(to: $0.position + rng.nextGaussianVector(sigma: 0.58)))
            }
            let iterations = n(count >= 1000 ? 2000 : 100_000)
            results.append(
                try Stopwatch.measure("registration, \(count) points, per call", iterations: iterations, goalMicroseconds: count <= 10 ? 5 : nil) {
                    try PointRegistration.register(head: head, mri: mri).freMM
                })
            if count <= 10 {
                results.append(
                    try Stopwatch.measure("registration, \(count) points, batches of 100", iterations: n(1000), callsPerSample: 100, goalMicroseconds: 5) {
                        try PointRegistration.register(head: head, mri: mri).freMM
                    })
            }
        }

        // ICP against a mesh of at least 100k triangles.
        while mesh.triangles.count < 100_000 { mesh = mesh.subdivided() }
        let clock = ContinuousClock()
        let t0 = clock.now
        let index = try MeshIndex(mesh: mesh)
        let buildTime = clock.now - t0
        let scalpPoints = mesh.randomSurfacePoints(count: 1000, using: &rng) { $0.z > -20 }
        let headPoints = scalpPoints.map { truth.inverse.apply(to: $0 + rng.nextGaussianVector(sigma: 0.5)) }
        let offset = RigidTransform(rotation: rng.nextRotation(angleRadians: radians(fromDegrees: 8)), translation: rng.nextGaussianVector(sigma: 1).normalized * 6)
        // Perturb about the scalp centroid so the 6 mm is the shift of the head, not a lever arm.
        let c = centroid(of: scalpPoints)
        let start = RigidTransform.translation(c) * offset * RigidTransform.translation(-c) * truth
        let queryPoints = MeshIndex.spatiallyCoherentOrder(scalpPoints).map { scalpPoints[$0] + rng.nextGaussianVector(sigma: 2) }
        results.append(
            Stopwatch.measure("closest point, 1000 queries near the scalp", iterations: n(200)) {
                var s = 0.0
                for q in queryPoints { s += index.closestPoint(to: q, maxDistance: 10)?.distanceMM ?? 0 }
                return s
            })
        var last: SurfaceRefinementResult?
        results.append(
            try Stopwatch.measure("ICP, 1000 points, \(mesh.triangles.count) triangles", iterations: n(50), warmup: 2, goalMicroseconds: 20_000) {
                let r = try SurfaceRefinement.refine(initialHeadToMRI: start, headSurfacePoints: headPoints, mesh: index)
                last = r
                return r.rmsAfterMM
            })
        let (dt, dr) = try (last ?? SurfaceRefinement.refine(initialHeadToMRI: start, headSurfacePoints: headPoints, mesh: index)).headToMRI.difference(to: truth)
        _ = dt

        // Pivot calibration: 200 poses within ±25° about a divot, 0.1 mm / 0.03° noise.
        let tip = Vector3(2, -1, 150), pivot = Vector3(10, 20, -1500)
        var poses: [RigidTransform] = []
        for _ in 0..<200 {
            let q = Quaternion(rotationVector: Vector3(rng.nextGaussian(), rng.nextGaussian(), rng.nextGaussian() * 2) * radians(fromDegrees: 12))
            let noisy = Quaternion(rotationVector: rng.nextGaussianVector(sigma: radians(fromDegrees: 0.03))) * q
            let r = RigidTransform(rotation: noisy, translation: .zero)
            poses.append(RigidTransform(rotation: noisy, translation: pivot - r.rotate(tip) + rng.nextGaussianVector(sigma: 0.1)))
        }
        results.append(
            try Stopwatch.measure("pivot calibration, 200 poses", iterations: n(2000)) {
                try PivotCalibration.calibrate(markerToTracker: poses).rmsMM
            })

        // The per-frame navigation pipeline (issue 4's goal: ≤ 10 µs per frame): coil and head
        // reference from one frame → coilToHead → coilToMRI → error against the target → on-target.
        let target = NavigationTarget(
            name: "DLPFC", targetToMRI: RigidTransform(rotation: rng.nextRotation(), translation: Vector3(-53, 56, 34)),
            coilToCortexMM: 21)
        var processor = FrameProcessor(
            coilCalibration: RigidTransform(rotation: rng.nextRotation(angleRadians: 0.1), translation: Vector3(0, 0, -40)),
            headToMRI: truth, activeTarget: target)
        let headToTracker = RigidTransform(rotation: rng.nextRotation(), translation: Vector3(20, -40, -1450))
        let frames: [TrackerFrame] = (0..<1000).map { _ in
            // The coil within a few millimetres and degrees of the target, as when holding it there.
            let coilToMRI = target.targetToMRI
                * RigidTransform(rotation: rng.nextRotation(angleRadians: radians(fromDegrees: 2)), translation: rng.nextGaussianVector(sigma: 1))
            let coilMarkerToTracker = headToTracker * truth.inverse * coilToMRI * processor.coilCalibration.inverse
            return TrackerFrame(
                deviceFrameNumber: 0, hostReceiveNanoseconds: 0,
                tools: [
                    ToolSample(name: "head", handle: 1, status: .ok, toolToTracker: headToTracker, rmsErrorMM: 0.1, portStatus: 0x31),
                    ToolSample(name: "coil", handle: 2, status: .ok, toolToTracker: coilMarkerToTracker, rmsErrorMM: 0.1, portStatus: 0x31),
                ])
        }
        var frameIndex = 0
        results.append(
            Stopwatch.measure("navigation pipeline, per frame", iterations: n(2000), callsPerSample: 100, goalMicroseconds: 10) {
                frameIndex += 1
                var f = frames[frameIndex % frames.count]
                f.deviceFrameNumber = UInt32(truncatingIfNeeded: frameIndex)
                f.hostReceiveNanoseconds = UInt64(frameIndex) * 2_500_000
                return processor.process(frame: f, nowNanoseconds: f.hostReceiveNanoseconds).error?.distanceMM ?? -1
            })

        // The server's work on the tracking thread per frame (pipeline, history, payload, no client:
        // messages are encoded lazily by the client writers), then everything one frame costs when
        // every message form is needed: the six TRANSFORMs in both header versions, the JSON frame
        // line and the metrics STRINGs.
        let serverClock = BenchClock()
        let engine = NavigationEngine(
            configuration: NavigationEngineConfiguration(frameRateHz: 400, unixNanosecondsAtClockZero: 1_700_000_000_000_000_000),
            clock: serverClock, targets: [target], activeTargetName: target.name, headToMRI: truth,
            coilCalibration: processor.coilCalibration)
        results.append(
            Stopwatch.measure("server frame, tracking thread (no client)", iterations: n(1000), callsPerSample: 20) {
                frameIndex += 1
                var f = frames[frameIndex % frames.count]
                f.deviceFrameNumber = UInt32(truncatingIfNeeded: frameIndex)
                f.hostReceiveNanoseconds = UInt64(frameIndex) * 2_500_000
                serverClock.now = f.hostReceiveNanoseconds
                engine.handle(.frame(f))
                return Double(frameIndex)
            })

        var encodingProcessor = processor
        results.append(
            Stopwatch.measure("server frame, pipeline + every encoding", iterations: n(1000), callsPerSample: 20) {
                frameIndex += 1
                var f = frames[frameIndex % frames.count]
                f.deviceFrameNumber = UInt32(truncatingIfNeeded: frameIndex)
                f.hostReceiveNanoseconds = UInt64(frameIndex) * 2_500_000
                let output = encodingProcessor.process(frame: f, nowNanoseconds: f.hostReceiveNanoseconds)
                let payload = FramePayload(
                    output: output, transforms: FrameTransforms(output: output, target: target, pointerToMRI: nil),
                    targetName: target.name, pointerTipMRI: nil, pointerStatus: nil,
                    timestamp: IGTLTimestamp(seconds: 1_700_000_000, nanoseconds: 0), firstMessageID: 1)
                return Double(
                    payload.igtlTransforms(headerVersion: 1).count + payload.igtlTransforms(headerVersion: 2).count
                        + payload.igtlMetrics(headerVersion: 1).count + payload.igtlMetrics(headerVersion: 2).count
                        + payload.jsonLine.count)
            })

        results += try Self.recordingMeasurements(frames: frames, target: target, headToMRI: truth, scale: n)
        // The readout: a server frame line decoded into its state and the 120 × 40 colour screen
        // drawn from it (the screen redraws up to 30 times a second: 33 ms apart), and a plain line.
        let readoutLine = Array(
            #"{"type":"frame","frame":1234,"hostTimeNanoseconds":5000000000,"ageNanoseconds":2500000,"valid":true,"reasons":[],"target":"DLPFC-Fox2012","coilStatus":"ok","headStatus":"ok","pointerStatus":"missing","coilToMRI":null,"coilToTarget":null,"pointerTipMRI":null,"metrics":{"distanceMM":1.5,"offsetMM":[0.5,1.0,1.0],"depthMM":1.0,"inPlaneAtCoil":{"x":0.5,"y":1.0,"mm":1.118033988749895},"inPlaneAtCortex":{"x":0.5,"y":1.0,"mm":1.118033988749895},"tiltDegrees":1.5,"tiltAboutTargetXDegrees":-1.0,"tiltAboutTargetYDegrees":1.1,"twistDegrees":3.0},"onTarget":{"state":"acquiring","on":false,"dwellMs":250.0}}"#.utf8)
        var readoutState = ReadoutState(serverLabel: "127.0.0.1:18945")
        readoutState.setConnection(.connected(sinceNanoseconds: 0))
        results.append(
            Stopwatch.measure("readout: frame line → 120×40 colour screen", iterations: n(300), goalMicroseconds: 5000) {
                if let m = try? ReadoutDecoder.decode(readoutLine) { readoutState.apply(m, at: 1) }
                return ReadoutRenderer.render(readoutState, at: 1, columns: 120, rows: 40, colour: true).count
            })
        results.append(
            Stopwatch.measure("readout: plain line", iterations: n(1000), callsPerSample: 10) { PlainLine.line(readoutState, at: 1).count })

        #if DEBUG
        let build = "debug (figures are not representative: use swift run -c release coilnav bench)"
        #else
        let build = "release"
        #endif
        let (s, atto) = buildTime.components
        let report = Report(
            build: build, meshTriangles: mesh.triangles.count, indexBuildMilliseconds: Double(s) * 1e3 + Double(atto) / 1e15,
            icpIterations: last?.iterations ?? 0, icpRotationErrorDegrees: degrees(fromRadians: dr),
            icpTranslationErrorMM: (last?.headToMRI.apply(to: c) ?? .zero).distance(to: truth.apply(to: c)), measurements: results)
        if self.json {
            try JSONOutput.print(report)
            return
        }
        print("coilnav bench (\(report.build))")
        print("mesh: \(report.meshTriangles) triangles, index built in \(fixed(report.indexBuildMilliseconds, 1)) ms")
        print("name".padding(toLength: 46, withPad: " ", startingAt: 0) + "    min µs   median µs      p99 µs      max µs   goal")
        for m in results {
            let goal = m.goalMicroseconds.map { "≤ \(fixed($0, 0)) µs " + ((m.meetsGoal ?? false) ? "met" : "MISSED") } ?? ""
            print(
                m.name.padding(toLength: 46, withPad: " ", startingAt: 0)
                    + [m.minMicroseconds, m.medianMicroseconds, m.p99Microseconds, m.maxMicroseconds].map {
                        String(repeating: " ", count: max(0, 12 - fixed($0, 2).count)) + fixed($0, 2)
                    }.joined() + "   " + goal)
        }
        print("ICP: \(report.icpIterations) iterations, residual error \(fixed(report.icpRotationErrorDegrees, 3))° and \(fixed(report.icpTranslationErrorMM, 3)) mm at the scalp centroid")
    }

    /// The latency matrix (issue 4's goal: p99 ≤ 1 ms at 400 Hz with 16 clients on loopback).
    func runLatency() throws {
        var results: [LatencyBench.Result] = []
        if !self.json {
            print("coilnav bench --latency: frame into the server → OpenIGTLink client has decoded its CoilToTarget TRANSFORM (loopback)")
            print("  rate Hz  clients   frames  recv/client    p50 µs    p99 µs    max µs   server/frame median µs  p99 µs")
        }
        for rate in [60.0, 400, 2000] {
            for clients in [1, 16, 64] {
                let r = try LatencyBench.run(rateHz: rate, clients: clients, seconds: self.seconds)
                results.append(r)
                if !self.json {
                    func col(_ x: Double, _ w: Int, _ d: Int = 1) -> String {
                        let t = fixed(x, d)
                        return String(repeating: " ", count: max(0, w - t.count)) + t
                    }
                    print(
                        col(r.rateHz, 9, 0) + col(Double(r.clients), 9, 0) + col(Double(r.framesEmitted), 9, 0)
                            + col(r.framesReceivedPerClient, 13, 0) + col(r.p50Microseconds, 10) + col(r.p99Microseconds, 10)
                            + col(r.maxMicroseconds, 10) + col(r.serverPerFrameMedianMicroseconds, 25) + col(r.serverPerFrameP99Microseconds, 8))
                }
            }
        }
        if self.json { try JSONOutput.print(results) }
    }
}

/// A clock the benchmark sets.
final class BenchClock: TrackerClock, @unchecked Sendable {
    var now: UInt64 = 0
    func nowNanoseconds() -> UInt64 { self.now }
}
