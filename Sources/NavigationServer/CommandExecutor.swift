import Foundation
import Formats
import Geometry
import Navigation
import Registration
import ServerSession

/// What the session-changing commands need besides the engine.
public struct CommandContext: Sendable {
    /// The plan's MRI fiducials (for registration) and targets.
    public var mriFiducials: [LabeledPoint]
    /// The MRI scalp mesh for surface refinement, when the plan has one.
    public var scalp: MeshIndex?
    /// The pointer tip in pointer-tool coordinates (pivot calibration); nil: captures are refused.
    public var pointerTipMM: Vector3?
    /// Captures: distinct frames averaged, and the stillness limit.
    public var captureFrames: Int
    public var stillnessLimitMM: Double
    /// The FLE assumed for predicted TRE, mm.
    public var fleMM: Double

    public init(
        mriFiducials: [LabeledPoint], scalp: MeshIndex?, pointerTipMM: Vector3?, captureFrames: Int = 10,
        stillnessLimitMM: Double = 0.5, fleMM: Double = 1.0
    ) {
        self.mriFiducials = mriFiducials
        self.scalp = scalp
        self.pointerTipMM = pointerTipMM
        self.captureFrames = captureFrames
        self.stillnessLimitMM = stillnessLimitMM
        self.fleMM = fleMM
    }
}

/// Runs the server's commands (from JSON-lines clients and OpenIGTLink `CoilNavCommand` STRINGs):
/// the session changes go through here so both protocols behave the same, and durable writes
/// (pulse log fsync, session files) happen on the requesting client's thread, never on the
/// tracking thread.
public final class CommandExecutor: @unchecked Sendable {
    // @unchecked: `pulseLog`, `pending` are guarded by `lock`; SessionStore is thread-safe.
    public let engine: NavigationEngine
    public let session: SessionStore?
    /// nil: `--insecure`, no token needed.
    public let token: String?
    public let context: CommandContext
    private let lock = NSLock()
    private let pulseLog: PulseLog?
    private var pending: RegistrationReport?
    /// The applied registration's record (for its quality in `status`).
    private var appliedRegistration: RegistrationRecord?

    public init(
        engine: NavigationEngine, session: SessionStore?, pulseLog: PulseLog?, token: String?, context: CommandContext,
        appliedRegistration: RegistrationRecord? = nil
    ) {
        self.appliedRegistration = appliedRegistration
        self.engine = engine
        self.session = session
        self.pulseLog = pulseLog
        self.token = token
        self.context = context
    }

    /// Whether `candidate` may change the session.
    public func authorizes(_ candidate: String?) -> Bool {
        guard let token = self.token else { return true }
        guard let candidate else { return false }
        return SessionStore.constantTimeEquals(token, candidate)
    }

    // MARK: Targets

    public func selectTarget(_ name: String?) throws(ServerCommandError) {
        try self.engine.selectTarget(named: name)
        do {
            try self.session?.setActiveTarget(name)
        } catch {
            throw ServerCommandError(.failed, "target selected, but the session could not be saved: \(error)")
        }
    }

    // MARK: Pulses

    /// The applied registration's FRE, the FLE assumed (the record's, else 1 mm) and the predicted TRE
    /// at `target`'s cortical point for the registration's fiducials (the plan's MRI fiducials named in
    /// the record; nil with fewer than three).
    public func registrationQuality(at target: NavigationTarget?) -> (freMM: Double, fleMM: Double, predictedTREMM: Double?)? {
        self.lock.lock()
        let record = self.appliedRegistration
        self.lock.unlock()
        guard let record else { return nil }
        let fle = record.fleMM ?? 1.0
        let names = Set(record.fiducialResiduals.map { $0.name.lowercased() })
        let points = self.context.mriFiducials.filter { names.contains($0.label.lowercased()) }.map(\.position)
        var tre: Double?
        if let target, points.count >= 3 {
            let cortex = target.targetToMRI.apply(to: Vector3(0, 0, target.coilToCortexMM))
            tre = FiducialErrorModel.fitzpatrickTREMM(fiducials: points, target: cortex, fleMM: fle)
        }
        return (record.freMM, fle, tre)
    }

    /// Whether `register` computed a registration not yet accepted.
    public var hasPendingRegistration: Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.pending != nil
    }

    /// The pulses recorded so far.
    public var pulses: [PulseRecord] {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.pulseLog?.records ?? []
    }

    /// Records a pulse at `timeNanoseconds` (the server clock; nil: now): the coil pose interpolated
    /// between the frames before and after that instant (waiting for the frame after), its metrics
    /// against the active target and its validity, appended to the pulse log and fsync'd before
    /// this returns.
    public func recordPulse(timeNanoseconds: UInt64?, intensityPercentMSO: Double?, label: String?) throws(ServerCommandError) -> PulseRecord {
        guard self.pulseLog != nil else { throw ServerCommandError(.notReady, "the server has no session directory: pulses cannot be recorded") }
        let t = timeNanoseconds ?? self.engine.clock.nowNanoseconds()
        let (lookup, target) = self.engine.pose(at: t)
        var reasons: [String] = []
        var before: UInt32?
        var after: UInt32?
        var fraction: Double?
        var pose: RigidTransform?
        var onTarget = false
        switch lookup {
        case .interpolated(let p):
            before = p.before.frameNumber
            after = p.after.frameNumber
            fraction = p.fraction
            pose = p.coilToMRI
            var inv = p.invalidity
            inv.remove(.noTarget)  // judged against the target active now, below
            reasons = NavigationInvalidity.orderedReasons.filter { inv.contains($0.0) }.map { "\($0.1)" }
            onTarget = p.before.onTarget && p.after.onTarget
        case .pending(let newest):
            before = newest?.frameNumber
            reasons = ["no tracker frame after the pulse within \(self.engine.configuration.pulseWaitLimit)"]
        case .tooOld(let oldest):
            after = oldest.frameNumber
            reasons = ["the pulse time is older than the frames kept (oldest frame \(oldest.frameNumber))"]
        }
        if target == nil { reasons.append("no target") }
        if pose == nil, reasons.isEmpty { reasons.append("no coil pose") }
        let error = pose.flatMap { p in target.map { CoilError(coilToMRI: p, target: $0) } }
        let valid = reasons.isEmpty
        let unix = self.engine.configuration.unixNanosecondsAtClockZero &+ Int64(clamping: t)
        self.lock.lock()
        defer { self.lock.unlock() }
        let log = self.pulseLog!
        let record = PulseRecord(
            index: log.records.count + 1, timeNanoseconds: t, wallClock: Self.iso8601(unixNanoseconds: unix),
            targetName: target?.name, isValid: valid, invalidReasons: reasons, frameBefore: before, frameAfter: after,
            interpolationFraction: fraction, coilToMRI: pose, coilToTarget: error?.coilToTarget, distanceMM: error?.distanceMM,
            inPlaneAtCoilMM: error.flatMap { $0.inPlaneAtCoilMM.isDefined ? $0.inPlaneAtCoilMM.magnitude : nil },
            inPlaneAtCortexMM: error.flatMap { $0.inPlaneAtCortexMM.isDefined ? $0.inPlaneAtCortexMM.magnitude : nil },
            depthMM: error?.depthMM, tiltDegrees: error?.tiltDegrees, twistDegrees: error.flatMap { $0.isTwistDefined ? $0.twistDegrees : nil },
            onTarget: valid && onTarget, intensityPercentMSO: intensityPercentMSO, label: label)
        do {
            try log.append(record)
        } catch {
            throw ServerCommandError(.failed, "the pulse could not be written durably: \(error)")
        }
        self.engine.broadcastEvent(.pulseRecorded(index: record.index, timeNanoseconds: t, valid: valid))
        return record
    }

    /// "2026-11-22T03:10:00.123Z".
    static func iso8601(unixNanoseconds: Int64) -> String {
        let ms = unixNanoseconds / 1_000_000
        var t = time_t(ms / 1000)
        var tm = tm()
        gmtime_r(&t, &tm)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday),
            Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), Int(ms % 1000))
    }

    // MARK: Captures and registration

    /// Captures a point with the pointer (see `PointerCapture`); waits for the frames.
    func capture(frames: Int?) throws(ServerCommandError) -> CapturedPoint {
        guard let tip = self.context.pointerTipMM else {
            throw ServerCommandError(.notReady, "no pointer calibration: start the server with a pointer tip (pivot calibration)")
        }
        let n = max(1, frames ?? self.context.captureFrames)
        let periods = Double(n + 2) / max(self.engine.configuration.frameRateHz, 1)
        let samples = self.engine.nextPointerSamples(count: n, timeout: .milliseconds(Int64(periods * 1000) + 500))
        switch PointerCapture.evaluate(samples: samples, tipInPointerMM: tip, framesNeeded: n, stillnessLimitMM: self.context.stillnessLimitMM) {
        case .success(let p): return p
        case .failure(let refusal): throw ServerCommandError(.notReady, "capture refused: \(refusal)")
        }
    }

    /// The poses of `tools` in each of the next `frames` distinct frames; refused, naming the tool and
    /// frame, when a tool is not visible in one of them.
    public func capturePoses(tools: [String], frames: Int) throws(ServerCommandError) -> (frameNumbers: [UInt32], poses: [[RigidTransform]]) {
        let periods = Double(frames + 2) / max(self.engine.configuration.frameRateHz, 1)
        let received = self.engine.nextFrames(count: frames, timeout: .milliseconds(Int64(periods * 1000) + 500))
        var seen = Set<UInt32>()
        var numbers: [UInt32] = []
        var poses: [[RigidTransform]] = Array(repeating: [], count: tools.count)
        for f in received where seen.insert(f.deviceFrameNumber).inserted {
            for (k, name) in tools.enumerated() {
                let sample = f.tool(named: name)
                guard let s = sample, s.status.hasPose, let pose = s.toolToTracker, pose.isFinite else {
                    let status = sample.map { "\($0.status)" } ?? "absent"
                    throw ServerCommandError(.notReady, "capture refused: \(name) not visible (frame \(f.deviceFrameNumber): \(status)): keep it in view of the tracker")
                }
                poses[k].append(pose)
            }
            numbers.append(f.deviceFrameNumber)
        }
        guard numbers.count == frames else {
            throw ServerCommandError(.notReady, "capture refused: only \(numbers.count) of \(frames) tracker frames arrived in time: is the tracker running?")
        }
        return (numbers, poses)
    }

    public func captureFiducial(name: String, frames: Int?) throws(ServerCommandError) -> CapturedPoint {
        guard self.context.mriFiducials.contains(where: { $0.label.lowercased() == name.lowercased() }) else {
            let known = self.context.mriFiducials.map(\.label).joined(separator: ", ")
            throw ServerCommandError(.notFound, "the plan has no fiducial named \"\(name)\" (fiducials: \(known))")
        }
        let p = try self.capture(frames: frames)
        try self.saving {
            try self.session?.addCapturedFiducial(
                CapturedFiducial(name: name, headPositionMM: p.positionInHeadMM, sampleCount: p.sampleCount, firstFrame: p.firstFrame, lastFrame: p.lastFrame))
        }
        return p
    }

    public func captureScalpPoint(frames: Int?) throws(ServerCommandError) -> CapturedPoint {
        let p = try self.capture(frames: frames ?? 1)
        try self.saving { try self.session?.addScalpPoint(p.positionInHeadMM) }
        return p
    }

    public func clearCaptures(fiducials: Bool, scalp: Bool) throws(ServerCommandError) {
        try self.saving {
            if fiducials { try self.session?.clearCapturedFiducials() }
            if scalp { try self.session?.clearScalpPoints() }
        }
    }

    /// Computes a registration from the session's captures (not applied until accepted).
    public func computeRegistration(refine: Bool) throws(ServerCommandError) -> RegistrationReport {
        guard let state = self.session?.state else { throw ServerCommandError(.notReady, "the server has no session directory") }
        let head = state.capturedFiducials.map { LabeledPoint(label: $0.name, position: $0.headPositionMM) }
        let targets = self.engine.targetList.map { LabeledPoint(label: $0.name, position: $0.targetToMRI.apply(to: Vector3(0, 0, $0.coilToCortexMM))) }
        let scalp = refine ? self.context.scalp : nil
        if refine, scalp == nil { throw ServerCommandError(.notReady, "the plan has no scalp mesh: surface refinement is not possible") }
        if refine, state.scalpPoints.count < 10 {
            throw ServerCommandError(.notReady, "surface refinement needs at least 10 scalp points, \(state.scalpPoints.count) captured")
        }
        let report: RegistrationReport
        do {
            report = try RegistrationReport.compute(
                head: head, mri: self.context.mriFiducials, targets: targets, fleMM: self.context.fleMM, scalp: scalp,
                headSurfacePoints: refine ? state.scalpPoints : [], useCommonLabels: true)
        } catch {
            throw ServerCommandError(.invalid, "\(error)")
        }
        self.lock.lock()
        self.pending = report
        self.lock.unlock()
        return report
    }

    /// Applies the last computed registration and saves it in the session.
    public func acceptRegistration() throws(ServerCommandError) -> RegistrationRecord {
        self.lock.lock()
        let report = self.pending
        self.pending = nil
        self.lock.unlock()
        guard let report else { throw ServerCommandError(.notReady, "no registration to accept: run `register` first") }
        let record = RegistrationRecord(
            createdAt: Self.iso8601(unixNanoseconds: Int64(Date().timeIntervalSince1970 * 1e9)), headToMRI: report.headToMRI,
            freMM: report.freMM, fleMM: report.fleMM,
            fiducialResiduals: report.residuals.map { .init(name: $0.name, residualMM: $0.residualMM) },
            surface: report.refinement.map { .init(rmsBeforeMM: $0.rmsBeforeMM, rmsAfterMM: $0.rmsAfterMM, iterations: $0.iterations, inliers: $0.inliers) },
            notes: report.warnings.isEmpty ? nil : report.warnings.joined(separator: "\n"))
        try self.saving { try self.session?.setRegistration(record) }
        self.engine.setRegistration(report.headToMRI)
        self.lock.lock()
        self.appliedRegistration = record
        self.lock.unlock()
        return record
    }

    private func saving(_ body: () throws -> Void) throws(ServerCommandError) {
        do {
            try body()
        } catch {
            throw ServerCommandError(.failed, "the session could not be saved: \(error)")
        }
    }
}
