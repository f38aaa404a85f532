import Foundation
import JSONLinesProtocol
import Navigation
import Geometry
import Registration

extension CommandExecutor {
    /// Parses one request line, checks the token, runs the command and returns the response line.
    /// `subscriptionOwner` is the JSON-lines connection (nil over OpenIGTLink, where frames stream
    /// anyway and `subscribe` is refused).
    func execute(line: [UInt8], client: ClientConnection, subscriptionOwner: JSONLClientHandler?) -> [UInt8] {
        var out: [UInt8] = []
        let request: JSONLRequest
        do {
            request = try JSONLRequest.parse(line)
        } catch {
            JSONLEncoder.appendErrorResponse(error, into: &out)
            return out
        }
        if request.command.changesSession, !self.authorizes(request.token) {
            let why = request.token == nil ? "needs the session token" : "carries a wrong token"
            JSONLEncoder.appendErrorResponse(
                id: request.id, code: .unauthorized,
                message: "\(request.command.name) changes the session and \(why) (the token file in the session directory; or run the server with --insecure)",
                into: &out)
            self.engine.log("coilnav: \(client.label): refused \(request.command.name): \(why)")
            return out
        }
        do {
            let result = try self.run(request.command, subscriptionOwner: subscriptionOwner)
            JSONLEncoder.appendResponse(id: request.id, result: result, into: &out)
        } catch {
            JSONLEncoder.appendErrorResponse(id: request.id, code: error.jsonlCode, message: error.message, into: &out)
        }
        return out
    }

    private func run(_ command: JSONLCommand, subscriptionOwner: JSONLClientHandler?) throws(ServerCommandError) -> JSONLResult {
        let snapshot = self.engine.currentSnapshot
        switch command {
        case .hello:
            return .hello(
                JSONLHello(
                    serverVersion: "coilnav \(CoilNavVersion.current)", frameRateHz: self.engine.configuration.frameRateHz,
                    toolNames: [
                        self.engine.configuration.navigation.coilToolName, self.engine.configuration.navigation.headToolName,
                        self.engine.configuration.pointerToolName,
                    ], registered: snapshot.headToMRI != nil, tokenRequired: self.token != nil,
                    fiducials: self.context.mriFiducials.map(\.label)))
        case .status:
            let state = self.session?.state
            let quality = snapshot.headToMRI == nil ? nil : self.registrationQuality(at: snapshot.activeTarget)
            return .status(
                JSONLStatus(
                    trackerState: snapshot.trackingLost ? "tracking lost" : snapshot.trackerState.map(TrackerStateText.describe) ?? "waiting",
                    lastFrame: snapshot.output?.deviceFrameNumber, registered: snapshot.headToMRI != nil,
                    registrationPending: self.hasPendingRegistration, target: snapshot.activeTarget?.name,
                    fiducials: state?.capturedFiducials.map(\.name) ?? [], scalpPoints: state?.scalpPoints.count ?? 0,
                    pulses: self.pulses.count, subscription: subscriptionOwner?.subscription, freMM: quality?.freMM,
                    predictedTREMM: quality?.predictedTREMM, fleMM: quality?.fleMM,
                    frameRateHz: snapshot.framesProcessed == 0 ? nil : Double(snapshot.framesInLastSecond),
                    framesReceived: snapshot.framesProcessed, framesDropped: snapshot.framesDropped))
        case .targets:
            let active = snapshot.activeTarget?.name
            return .targets(
                self.engine.targetList.map { JSONLTargetInfo(name: $0.name, active: $0.name == active, coilToCortexMM: $0.coilToCortexMM) })
        case .selectTarget(let name):
            try self.selectTarget(name)
            return .fields([JSONLMember("target", .string(name))])
        case .subscribe(let s):
            guard let owner = subscriptionOwner else {
                throw ServerCommandError(.invalid, "subscribe is for JSON-lines connections: OpenIGTLink clients receive every frame (STT_/STP_ switch it)")
            }
            owner.subscribe(s)
            return .empty
        case .unsubscribe:
            guard let owner = subscriptionOwner else {
                throw ServerCommandError(.invalid, "unsubscribe is for JSON-lines connections")
            }
            owner.subscribe(nil)
            return .empty
        case .captureFiducial(let name, let frames):
            let p = try self.captureFiducial(name: name, frames: frames)
            return .fields(Self.captureFields(p, name: name))
        case .captureScalpPoint:
            let p = try self.captureScalpPoint(frames: nil)
            return .fields(Self.captureFields(p, name: nil) + [JSONLMember("scalpPoints", .integer(Int64(self.session?.state.scalpPoints.count ?? 0)))])
        case .capturePoses(let tools, let frames):
            let (numbers, poses) = try self.capturePoses(tools: tools, frames: frames)
            func row(_ t: RigidTransform) -> JSONLValue {
                let q = t.quaternion
                return .array([q.q0, q.qx, q.qy, q.qz, t.translation.x, t.translation.y, t.translation.z].map { .number($0) })
            }
            return .fields([
                JSONLMember("frames", .array(numbers.map { .integer(Int64($0)) })),
                JSONLMember("poses", .object(tools.enumerated().map { JSONLMember($0.element, .array(poses[$0.offset].map(row))) })),
            ])
        case .clearCaptures(let kind):
            try self.clearCaptures(fiducials: kind != .scalp, scalp: kind != .fiducials)
            return .empty
        case .register(let refine):
            let r = try self.computeRegistration(refine: refine)
            return .registration(
                JSONLRegistrationSummary(
                    freMM: r.freMM, residualsMM: r.residuals.map { ($0.name, $0.residualMM) }, refined: r.refinement != nil,
                    surfaceRMSMM: r.refinement?.rmsAfterMM, predictedTREMM: r.targetTRE.map { ($0.name, $0.predictedTREMM) },
                    fleMM: r.fleMM, warnings: r.warnings))
        case .acceptRegistration:
            let record = try self.acceptRegistration()
            return .fields([JSONLMember("freMM", .number(record.freMM)), JSONLMember("registered", .bool(true))])
        case .pulse(let p):
            let now = self.engine.clock.nowNanoseconds()
            let time: UInt64?
            switch p.time {
            case .now: time = nil
            case .serverNanoseconds(let t): time = t
            case .ageMilliseconds(let ms):
                let age = UInt64((ms * 1e6).rounded())
                time = now >= age ? now - age : 0
            }
            let r = try self.recordPulse(timeNanoseconds: time, intensityPercentMSO: p.intensityPercentMSO, label: p.label)
            var fields: [JSONLMember] = [
                JSONLMember("index", .integer(Int64(r.index))), JSONLMember("valid", .bool(r.isValid)),
                JSONLMember("reasons", .array(r.invalidReasons.map { .string($0) })),
                JSONLMember("timeNanoseconds", .unsigned(r.timeNanoseconds)),
                JSONLMember("frameBefore", r.frameBefore.map { .integer(Int64($0)) } ?? .null),
                JSONLMember("frameAfter", r.frameAfter.map { .integer(Int64($0)) } ?? .null),
                JSONLMember("fraction", r.interpolationFraction.map { .number($0) } ?? .null),
                JSONLMember("target", r.targetName.map { .string($0) } ?? .null),
                JSONLMember("distanceMM", r.distanceMM.map { .number($0) } ?? .null),
                JSONLMember("onTarget", .bool(r.onTarget)),
            ]
            fields.append(JSONLMember("durable", .bool(true)))
            return .fields(fields)
        }
    }

    static func captureFields(_ p: CapturedPoint, name: String?) -> [JSONLMember] {
        var f: [JSONLMember] = []
        if let name { f.append(JSONLMember("name", .string(name))) }
        f += [
            JSONLMember("positionHeadMM", .array([.number(p.positionInHeadMM.x), .number(p.positionInHeadMM.y), .number(p.positionInHeadMM.z)])),
            JSONLMember("frames", .integer(Int64(p.sampleCount))), JSONLMember("firstFrame", .integer(Int64(p.firstFrame))),
            JSONLMember("lastFrame", .integer(Int64(p.lastFrame))), JSONLMember("spreadMM", .number(p.spreadMM)),
        ]
        return f
    }
}

extension ServerCommandError {
    var jsonlCode: JSONLErrorCode {
        switch self.code {
        case .notFound: .notFound
        case .unauthorized: .unauthorized
        case .invalid: .badRequest
        case .notReady: .badState
        case .failed: .failed
        }
    }
}

/// The server's version, as `coilnav --version` prints it.
public enum CoilNavVersion {
    public static let current = "0.1.0"
}
