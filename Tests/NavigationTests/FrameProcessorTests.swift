import Geometry
import Navigation
import Testing
import TrackerCore

private let ms: UInt64 = 1_000_000

/// A scene with known truth: the coil's pose on the head, the head in the tracker, the registration,
/// the coil calibration and the target.
private struct Scene {
    var headToMRI = RigidTransform(rotation: Quaternion(axis: Vector3(1, 1, 0), angleRadians: 0.4), translation: Vector3(5, -8, 30))
    var coilToCoilMarker = RigidTransform(rotation: Quaternion(axis: Vector3(0, 0, 1), angleRadians: 1.2), translation: Vector3(0, 40, 12))
    var headToTracker = RigidTransform(rotation: Quaternion(axis: Vector3(0.2, 1, 0.1), angleRadians: 2.5), translation: Vector3(100, 50, -1500))
    var target = NavigationTarget(name: "M1", targetToMRI: sampleTargetToMRI, coilToCortexMM: 20)

    /// The coil's marker pose in the tracker for a coil at `coilToTarget` relative to the target.
    func coilMarkerToTracker(coilToTarget: RigidTransform) -> RigidTransform {
        let coilToMRI = target.targetToMRI * coilToTarget
        let coilToTracker = headToTracker * headToMRI.inverse * coilToMRI
        return coilToTracker * coilToCoilMarker.inverse
    }

    func frame(_ n: UInt32, at t: UInt64, coilToTarget: RigidTransform, coilStatus: ToolStatus = .ok, headStatus: ToolStatus = .ok) -> TrackerFrame {
        TrackerFrame(
            deviceFrameNumber: n, hostReceiveNanoseconds: t,
            tools: [
                ToolSample(name: "pointer", handle: 1, status: .missing),
                ToolSample(name: "head", handle: 2, status: headStatus, toolToTracker: headStatus.hasPose ? headToTracker : nil),
                ToolSample(name: "coil", handle: 3, status: coilStatus,
                           toolToTracker: coilStatus.hasPose ? coilMarkerToTracker(coilToTarget: coilToTarget) : nil),
            ])
    }

    func processor(_ configuration: NavigationConfiguration = NavigationConfiguration()) -> FrameProcessor {
        FrameProcessor(configuration: configuration, coilCalibration: coilToCoilMarker, headToMRI: headToMRI, activeTarget: target)
    }
}

@Suite struct FrameProcessorTests {
    @Test func knownTruthThroughTheWholeChain() {
        let scene = Scene()
        var p = scene.processor()
        let delta = rotation(xAxis, degrees: 1, translation: Vector3(0.3, 0.4, 0))
        let out = p.process(frame: scene.frame(17, at: 1_000 * ms, coilToTarget: delta), nowNanoseconds: 1_005 * ms)
        #expect(out.isValid)
        #expect(out.invalidity == [])
        #expect(out.invalidity.primaryReason == nil)
        #expect(out.deviceFrameNumber == 17)
        #expect(out.hostReceiveNanoseconds == 1_000 * ms)
        #expect(out.ageNanoseconds == 5 * ms)
        let coilToMRI = scene.target.targetToMRI * delta
        expectClose(out.coilToMRI!, coilToMRI, 1e-9)
        expectClose(out.headToTracker!, scene.headToTracker, 0)
        expectClose(out.coilToHead!, scene.headToMRI.inverse * coilToMRI, 1e-9)
        expectClose(out.coilToTracker!, scene.headToTracker * scene.headToMRI.inverse * coilToMRI, 1e-9)
        let e = out.error!
        expectClose(e.coilToTarget, delta, 1e-9)
        expectClose(e.distanceMM, 0.5, 1e-9)
        expectClose(e.tiltDegrees, 1, 1e-7)
        expectClose(e.inPlaneAtCortexMM.y, 0.4 - 20 * radians(fromDegrees: 1).tanForTest, 1e-9)
        #expect(out.onTarget.state == .acquiring(since: 1_000 * ms))
        #expect(out.onTarget.dwellNanoseconds == 0)
        #expect(out.coilStatus == .ok && out.headStatus == .ok)
    }

    @Test func coilCalibrationComposesOnTheRight() {
        // coilToTracker = coilMarkerToTracker * coilToCoilMarker: a calibration offset of 10 mm along
        // the marker's x, with the marker rotated 90° about z in the tracker, lands along tracker y.
        let marker = rotation(zAxis, degrees: 90, translation: Vector3(1, 2, 3))
        var p = FrameProcessor(coilCalibration: .translation(Vector3(10, 0, 0)))
        let frame = TrackerFrame(deviceFrameNumber: 1, hostReceiveNanoseconds: 0, tools: [
            ToolSample(name: "coil", handle: 1, status: .ok, toolToTracker: marker),
            ToolSample(name: "head", handle: 2, status: .ok, toolToTracker: .identity),
        ])
        let out = p.process(frame: frame, nowNanoseconds: 0)
        expectClose(out.coilToTracker!.translation, Vector3(1, 12, 3), 1e-12)
        expectClose(out.coilToHead!.translation, Vector3(1, 12, 3), 1e-12)
        #expect(out.invalidity == [.notRegistered, .noTarget])
    }

    @Test func headReferenceImmunity() {
        // Moving the head (and the coil with it) anywhere in the tracker changes no metric.
        var rng = SplitMix64(seed: 0xBEEF)
        var scene = Scene()
        let delta = RigidTransform(rotation: rng.nextRotation(angleRadians: radians(fromDegrees: 7)), translation: rng.nextGaussianVector(sigma: 3))
        var p = scene.processor()
        let reference = p.process(frame: scene.frame(1, at: 0, coilToTarget: delta), nowNanoseconds: 0).error!
        for i in 0..<200 {
            scene.headToTracker = randomTransform(&rng, sigmaMM: 1000)
            let out = p.process(frame: scene.frame(UInt32(i + 2), at: UInt64(i + 1) * ms, coilToTarget: delta), nowNanoseconds: UInt64(i + 1) * ms)
            #expect(out.isValid)
            let e = out.error!
            expectClose(e.coilToTarget, reference.coilToTarget, 1e-9)
            expectClose(e.distanceMM, reference.distanceMM, 1e-9, "distance")
            expectClose(e.depthMM, reference.depthMM, 1e-9, "depth")
            expectClose(e.inPlaneAtCortexMM.x, reference.inPlaneAtCortexMM.x, 1e-9, "x")
            expectClose(e.inPlaneAtCortexMM.y, reference.inPlaneAtCortexMM.y, 1e-9, "y")
            expectClose(e.tiltDegrees, reference.tiltDegrees, 1e-7, "tilt")
            expectClose(e.twistDegrees, reference.twistDegrees, 1e-7, "twist")
        }
    }

    @Test func changingTheTrackerFrameChangesNothing() {
        // Re-expressing both tools in another tracker frame (tracker moved) leaves every metric equal.
        var rng = SplitMix64(seed: 7)
        let scene = Scene()
        let delta = RigidTransform(rotation: rng.nextRotation(angleRadians: 0.05), translation: rng.nextGaussianVector(sigma: 2))
        let base = scene.frame(1, at: 0, coilToTarget: delta)
        var p = scene.processor()
        let reference = p.process(frame: base, nowNanoseconds: 0).error!
        for i in 0..<100 {
            let trackerToOther = randomTransform(&rng, sigmaMM: 500)
            var moved = base
            moved.deviceFrameNumber = UInt32(i + 2)
            for k in moved.tools.indices { moved.tools[k].toolToTracker = moved.tools[k].toolToTracker.map { trackerToOther * $0 } }
            let e = p.process(frame: moved, nowNanoseconds: 0).error!
            expectClose(e.coilToTarget, reference.coilToTarget, 1e-9)
            expectClose(e.twistDegrees, reference.twistDegrees, 1e-7)
        }
    }

    @Test func onTargetThroughThePipeline() {
        let scene = Scene()
        var p = scene.processor()
        let near = RigidTransform.translation(Vector3(0.2, -0.3, 0.1))
        var last: NavigationOutput? = nil
        for k in 0...50 {
            let t = 2_000 * ms + UInt64(k) * 10 * ms
            last = p.process(frame: scene.frame(UInt32(k), at: t, coilToTarget: near), nowNanoseconds: t)
            #expect(last!.onTarget.isOnTarget == (k == 50), "frame \(k)")
        }
        #expect(last!.onTarget.state == .on(since: 2_500 * ms, qualifyingSince: 2_000 * ms))
        #expect(last!.onTarget.dwellNanoseconds == 500 * ms)
        // 1.5 mm: held by hysteresis.
        var out = p.process(frame: scene.frame(51, at: 2_510 * ms, coilToTarget: .translation(Vector3(1.5, 0, 0))), nowNanoseconds: 2_510 * ms)
        #expect(out.onTarget.state == .holding(since: 2_500 * ms, qualifyingSince: 2_000 * ms))
        // Head reference lost for one frame: off at once.
        out = p.process(frame: scene.frame(52, at: 2_520 * ms, coilToTarget: near, headStatus: .missing), nowNanoseconds: 2_520 * ms)
        #expect(out.invalidity == .headReferenceMissing)
        #expect(out.onTarget.state == .off)
        #expect(out.error == nil)
        out = p.process(frame: scene.frame(53, at: 2_530 * ms, coilToTarget: near), nowNanoseconds: 2_530 * ms)
        #expect(out.onTarget.state == .acquiring(since: 2_530 * ms))
        // 3° of tilt while acquiring: off.
        out = p.process(frame: scene.frame(54, at: 2_540 * ms, coilToTarget: rotation(yAxis, degrees: 3)), nowNanoseconds: 2_540 * ms)
        #expect(out.onTarget.state == .off)
    }

    @Test func changingTheTargetResetsTheOnTargetState() {
        let scene = Scene()
        var p = scene.processor(NavigationConfiguration(onTarget: OnTargetThresholds(dwellNanoseconds: 0)))
        #expect(p.process(frame: scene.frame(1, at: 0, coilToTarget: .identity), nowNanoseconds: 0).onTarget.isOnTarget)
        p.activeTarget = NavigationTarget(name: "other", targetToMRI: scene.target.targetToMRI * .translation(Vector3(0, 0, 0.5)), coilToCortexMM: 20)
        #expect(p.onTargetTracker.state == .off)
        let out = p.process(frame: scene.frame(2, at: 1, coilToTarget: .identity), nowNanoseconds: 1)
        expectClose(out.error!.depthMM, -0.5, 1e-9)
        let same = p.activeTarget
        p.activeTarget = same  // the same target: no reset
        #expect(p.onTargetTracker.state.isOnTarget)
    }

    @Test func validityReasons() {
        let scene = Scene()
        let delta = RigidTransform.identity
        func run(_ p: inout FrameProcessor, _ f: TrackerFrame) -> NavigationOutput { p.process(frame: f, nowNanoseconds: f.hostReceiveNanoseconds) }

        var p = scene.processor()
        for status in [ToolStatus.missing, .disabled] {
            let out = run(&p, scene.frame(p.lastFrameNumber.map { $0 + 1 } ?? 1, at: 0, coilToTarget: delta, coilStatus: status))
            #expect(out.invalidity == .coilMissing)
            #expect(out.coilStatus == status)
            #expect(out.invalidity.primaryReason?.description == "coil missing")
            #expect(out.coilToTracker == nil && out.coilToHead == nil && out.coilToMRI == nil && out.error == nil)
            #expect(out.headToTracker != nil)
            #expect(out.onTarget.state == .off)
        }
        var out = run(&p, scene.frame(10, at: 0, coilToTarget: delta, headStatus: .missing))
        #expect(out.invalidity == .headReferenceMissing)
        #expect(out.coilToTracker != nil && out.coilToHead == nil)
        out = run(&p, scene.frame(11, at: 0, coilToTarget: delta, coilStatus: .missing, headStatus: .disabled))
        #expect(out.invalidity == [.coilMissing, .headReferenceMissing])
        #expect(out.invalidity.description == "coil missing, head reference missing")

        // Tool absent from the frame altogether.
        var f = scene.frame(12, at: 0, coilToTarget: delta)
        f.tools.removeLast()
        out = run(&p, f)
        #expect(out.invalidity == .coilMissing)
        #expect(out.coilStatus == nil && out.headStatus == .ok)
        // A pose that is not finite counts as missing.
        f = scene.frame(13, at: 0, coilToTarget: delta)
        f.tools[1].toolToTracker = .translation(Vector3(.nan, 0, 0))
        #expect(run(&p, f).invalidity == .headReferenceMissing)

        // Partly out of volume: used by default, refused when configured.
        out = run(&p, scene.frame(14, at: 0, coilToTarget: delta, coilStatus: .partlyOutOfVolume))
        #expect(out.isValid)
        #expect(out.coilStatus == .partlyOutOfVolume)
        var strict = scene.processor(NavigationConfiguration(acceptPartlyOutOfVolume: false))
        #expect(run(&strict, scene.frame(1, at: 0, coilToTarget: delta, headStatus: .partlyOutOfVolume)).invalidity == .headReferenceMissing)

        // Not registered: coilToHead still reported.
        var unregistered = scene.processor()
        unregistered.headToMRI = nil
        out = run(&unregistered, scene.frame(1, at: 0, coilToTarget: delta))
        #expect(out.invalidity == .notRegistered)
        #expect(out.coilToHead != nil && out.coilToMRI == nil && out.error == nil)
        #expect(out.invalidity.description == "not registered")

        // No target: coilToMRI still reported.
        var untargeted = scene.processor()
        untargeted.activeTarget = nil
        out = run(&untargeted, scene.frame(1, at: 0, coilToTarget: delta))
        #expect(out.invalidity == .noTarget)
        #expect(out.coilToMRI != nil && out.error == nil)
        #expect(out.invalidity.primaryReason?.description == "no target")

        var bare = FrameProcessor()
        out = run(&bare, TrackerFrame(deviceFrameNumber: 1, hostReceiveNanoseconds: 0, tools: []))
        #expect(out.invalidity == [.coilMissing, .headReferenceMissing, .notRegistered, .noTarget])
        #expect(out.invalidity.description == "coil missing, head reference missing, not registered, no target")
        #expect(NavigationInvalidity().description == "valid")
    }

    @Test func staleByAge() {
        let scene = Scene()
        var p = scene.processor(NavigationConfiguration(maxFrameAgeNanoseconds: 50 * ms, onTarget: OnTargetThresholds(dwellNanoseconds: 0)))
        var out = p.process(frame: scene.frame(1, at: 1_000 * ms, coilToTarget: .identity), nowNanoseconds: 1_050 * ms)
        #expect(out.isValid)  // exactly the maximum age is still fresh
        #expect(out.onTarget.isOnTarget)
        out = p.process(frame: scene.frame(2, at: 1_000 * ms, coilToTarget: .identity), nowNanoseconds: 1_050 * ms + 1)
        #expect(out.invalidity == .stale)
        #expect(out.invalidity.primaryReason?.description == "stale")
        #expect(out.ageNanoseconds == 50 * ms + 1)
        #expect(out.error != nil && out.coilToMRI != nil)  // poses still reported…
        #expect(out.onTarget.state == .off)  // …but never on target
        // A frame stamped after "now" has age 0.
        out = p.process(frame: scene.frame(3, at: 2_000 * ms, coilToTarget: .identity), nowNanoseconds: 1_990 * ms)
        #expect(out.isValid && out.ageNanoseconds == 0)
        // Stale and something else: both reported, stale first.
        out = p.process(frame: scene.frame(4, at: 0, coilToTarget: .identity, coilStatus: .missing), nowNanoseconds: 1_000 * ms)
        #expect(out.invalidity == [.stale, .coilMissing])
        #expect(out.invalidity.description == "stale, coil missing")
    }

    @Test func staleWhenTheFrameNumberDoesNotAdvance() {
        let scene = Scene()
        var p = scene.processor()
        func run(_ n: UInt32) -> NavigationOutput { p.process(frame: scene.frame(n, at: 0, coilToTarget: .identity), nowNanoseconds: 0) }
        #expect(run(100).isValid)
        #expect(run(100).invalidity == .stale)  // repeated
        #expect(run(99).invalidity == .stale)  // behind
        #expect(p.lastFrameNumber == 100)  // stale frames do not move it back
        #expect(run(103).isValid)  // gaps are fine
        // The 32-bit counter wraps.
        #expect(run(0xFFFF_FFFE).invalidity == .stale)  // 2^32 − 2 is "behind" 103 in serial arithmetic
        p.resetFrameSequence()
        #expect(run(0xFFFF_FFFE).isValid)
        #expect(run(0xFFFF_FFFF).isValid)
        #expect(run(0).isValid)
        #expect(run(1).isValid)
        #expect(run(0xFFFF_FFFF).invalidity == .stale)
        // After a tracker restart the counter starts again: stale until the sequence is reset.
        #expect(run(1_000_000).isValid)
        #expect(run(3).invalidity == .stale)
        p.resetFrameSequence()
        #expect(run(3).isValid)
    }

    @Test func toolsAreFoundByConfiguredNameInAnyOrder() {
        let scene = Scene()
        var p = scene.processor(NavigationConfiguration(coilToolName: "Coil-A", headToolName: "Ref"))
        let delta = RigidTransform.translation(Vector3(0, 0, 1))
        var frame = scene.frame(1, at: 0, coilToTarget: delta)
        frame.tools[1].name = "Ref"
        frame.tools[2].name = "Coil-A"
        let first = p.process(frame: frame, nowNanoseconds: 0)
        #expect(first.isValid)
        expectClose(first.error!.depthMM, 1, 1e-9)
        // Reordered tools (the remembered index now points at the wrong tool) and a decoy first.
        frame.deviceFrameNumber = 2
        frame.tools.reverse()
        frame.tools.insert(ToolSample(name: "coil", handle: 9, status: .ok, toolToTracker: .identity), at: 0)
        let second = p.process(frame: frame, nowNanoseconds: 0)
        #expect(second.isValid)
        expectClose(second.error!.depthMM, 1, 1e-9)
        expectClose(second.headToTracker!, scene.headToTracker, 0)
        // The default names do not match these tools.
        var defaults = scene.processor()
        frame.tools.removeFirst()
        #expect(defaults.process(frame: frame, nowNanoseconds: 0).invalidity == [.coilMissing, .headReferenceMissing])
    }

    @Test func thresholdsCanBeChangedOnTheProcessor() {
        let scene = Scene()
        var p = scene.processor(NavigationConfiguration(onTarget: OnTargetThresholds(dwellNanoseconds: 0)))
        let offset = RigidTransform.translation(Vector3(1.5, 0, 0))
        #expect(!p.process(frame: scene.frame(1, at: 0, coilToTarget: offset), nowNanoseconds: 0).onTarget.isOnTarget)
        p.setOnTargetThresholds(OnTargetThresholds(onDistanceMM: 2, dwellNanoseconds: 0, offDistanceMM: 3))
        #expect(p.configuration.onTarget.onDistanceMM == 2)
        #expect(p.process(frame: scene.frame(2, at: 0, coilToTarget: offset), nowNanoseconds: 0).onTarget.isOnTarget)
    }
}
