import Foundation
import Formats
import Geometry
import Registration
import ServerSession

/// The interactive calibrations against a running `coilnav serve` (`coilnav calibrate pivot|coil
/// --server`): the server captures tool poses from distinct tracker frames (refusing, with the
/// reason, when a tool is hidden in any of them), the client computes, checks the result against
/// its threshold (refusing a worse one) and writes the calibration file with its residual, date and
/// tool serial.
struct GuidedCalibration {
    let server: ServerConnection
    let input: () -> String?
    let output: (String) -> Void
    let now: () -> Date

    /// Parses a capture-poses response: per tool, its poses in frame order.
    static func poses(_ r: [String: Any], tools: [String]) throws -> [[RigidTransform]] {
        let all = r["poses"] as? [String: Any] ?? [:]
        return try tools.map { name in
            guard let rows = all[name] as? [[Double]] else { throw CLIError("the server's capture has no poses for \(name)") }
            return rows.map { v in
                RigidTransform(rotation: Quaternion(q0: v[0], qx: v[1], qy: v[2], qz: v[3]), translation: Vector3(v[4], v[5], v[6]))
            }
        }
    }

    /// Asks the server for `frames` frames of `tools`; nil (after saying why) when refused.
    func capture(_ tools: [String], frames: Int, what: String) throws -> [[RigidTransform]]? {
        let r = try self.server.request("capture-poses", ["tools": tools, "frames": frames], timeout: Double(frames) / 10 + 30)
        if let why = ServerConnection.failure(r) {
            self.output("  \(what) refused — \(why). Press Enter to try again.")
            return nil
        }
        return try Self.poses(r, tools: tools)
    }

    static func timestamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }

    func savePrompt(_ path: String) -> Bool {
        self.output("Enter: save to \(path); r: redo; q: quit without saving.")
        return true
    }

    // MARK: Pivot

    /// Pivot calibration of the pointer: capture `frames` frames of the pointer pivoting in a divot.
    func pivot(tool: String, frames: Int, maxRMSMM: Double, serial: String?, out: String) throws -> Bool {
        self.output("Pivot calibration of \"\(tool)\" with coilnav serve at \(self.server.label).")
        self.output("Put the tip in a divot; press Enter, then pivot the pointer (±20° or more about two axes) for \(fixed(Double(frames) / 60, 1)) s at 60 Hz.")
        while true {
            guard let line = self.input()?.trimmingCharacters(in: .whitespaces) else { return false }
            if line == "q" { return false }
            guard let p = try self.capture([tool], frames: frames, what: "pivot")?[0] else { continue }
            let r: PivotCalibrationResult
            do {
                r = try PivotCalibration.calibrate(markerToTracker: p)
            } catch {
                self.output("  pivot refused — \(error). Press Enter to try again.")
                continue
            }
            let t = r.tipInMarkerMM
            self.output("Pivot calibration: \(r.posesUsed) of \(p.count) poses used, rotation span \(fixed(r.rotationSpanDegrees, 1))°")
            self.output("  tip (\(fixed(t.x, 3)), \(fixed(t.y, 3)), \(fixed(t.z, 3))) mm, RMS \(fixed(r.rmsMM, 3)) mm, max \(fixed(r.maxResidualMM, 3)) mm")
            if r.rmsMM > maxRMSMM {
                self.output("  pivot refused — RMS \(fixed(r.rmsMM, 3)) mm is above the limit \(fixed(maxRMSMM, 2)) mm: seat the tip firmly and pivot again. Press Enter.")
                continue
            }
            _ = self.savePrompt(out)
            guard let answer = self.input()?.trimmingCharacters(in: .whitespaces) else { return false }
            if answer == "q" { return false }
            if answer == "r" {
                self.output("Put the tip in the divot and press Enter.")
                continue
            }
            let cal = PointerCalibration(
                tool: tool, tipMM: t, method: "pivot", rmsMM: r.rmsMM, date: Self.timestamp(self.now()), toolSerial: serial)
            try Self.write { try cal.write(path: out) }
            self.output("Saved \(out).")
            return true
        }
    }

    // MARK: Coil, three points (or more) with the pointer

    func coilThreePoint(
        coilTool: String, pointerTool: String, tipMM: Vector3, model: CoilModel, frames: Int, maxSpreadMM: Double,
        maxFREMM: Double, serial: String?, out: String
    ) throws -> Bool {
        self.output("Coil calibration of \"\(coilTool)\" (\(model.model)) with the pointer: \(model.landmarks.map(\.label).joined(separator: ", ")).")
        self.output("Each mark: touch it with the pointer tip, hold still, press Enter. The coil's marker and the pointer must be visible.")
        var captured: [String: Vector3] = [:]
        var order = model.landmarks.map(\.label)
        while true {
            for (i, label) in order.enumerated() {
                self.output("[\(i + 1)/\(order.count)] Touch \(label) on the coil, hold still, and press Enter (q: quit).")
                while true {
                    guard let line = self.input()?.trimmingCharacters(in: .whitespaces) else { return false }
                    if line == "q" { return false }
                    guard let p = try self.capture([pointerTool, coilTool], frames: frames, what: label) else { continue }
                    let tips = zip(p[0], p[1]).map { pointer, coil in coil.inverse.apply(to: pointer.apply(to: tipMM)) }
                    var sum = Vector3.zero
                    for t in tips { sum += t }
                    let mean = sum / Double(tips.count)
                    let spread = tips.map { $0.distance(to: mean) }.max() ?? 0
                    if spread > maxSpreadMM {
                        self.output(
                            "  \(label) refused — pointer moving relative to the coil: the tip wandered \(fixed(spread)) mm over \(tips.count) frames (limit \(fixed(maxSpreadMM)) mm). Press Enter to try again.")
                        continue
                    }
                    captured[label] = mean
                    self.output("  \(label) captured: \(tips.count) frames, tip spread \(fixed(spread)) mm")
                    break
                }
            }
            let markerPoints = model.landmarks.compactMap { l in captured[l.label].map { LabeledPoint(label: l.label, position: $0) } }
            let result: PointRegistrationResult
            do {
                result = try PointRegistration.register(head: markerPoints, mri: model.landmarks)
            } catch {
                self.output("Coil calibration refused: \(error)")
                return false
            }
            let coilToMarker = result.headToMRI.inverse
            self.output("Coil calibration: FRE \(fixed(result.freMM)) mm over \(markerPoints.count) marks")
            for r in result.residuals { self.output("  \(r.label)  \(fixed(r.residualMM)) mm") }
            let t = coilToMarker.translation
            self.output("  coil origin in the marker frame (\(fixed(t.x)), \(fixed(t.y)), \(fixed(t.z))) mm, rotation \(fixed(coilToMarker.rotationAngleRadians * 180 / .pi, 2))°")
            if result.freMM > maxFREMM {
                self.output("  refused — FRE \(fixed(result.freMM)) mm is above the limit \(fixed(maxFREMM)) mm: r NAME redoes a mark; q quits.")
            } else {
                self.output("Enter: save to \(out); r NAME: redo that mark; q: quit without saving.")
            }
            guard let answer = self.input()?.trimmingCharacters(in: .whitespaces) else { return false }
            if answer == "q" { return false }
            if answer.hasPrefix("r ") {
                let name = String(answer.dropFirst(2)).trimmingCharacters(in: .whitespaces)
                guard let l = model.landmarks.first(where: { $0.label.lowercased() == name.lowercased() }) else {
                    self.output("no mark \"\(name)\" (marks: \(model.landmarks.map(\.label).joined(separator: ", ")))")
                    order = []
                    continue
                }
                order = [l.label]
                continue
            }
            order = []
            guard answer.isEmpty, result.freMM <= maxFREMM else { continue }
            let cal = CoilCalibration(
                tool: coilTool, coilToMarker: coilToMarker, method: "three-point", residualMM: result.freMM,
                date: Self.timestamp(self.now()), toolSerial: serial, coilModel: model.model,
                notes: "pointer marks \(model.landmarks.map(\.label).joined(separator: ", ")); FRE \(fixed(result.freMM, 3)) mm")
            try Self.write { try cal.write(path: out) }
            self.output("Saved \(out).")
            return true
        }
    }

    // MARK: Coil, calibration plate

    func coilPlate(
        coilTool: String, plate: CalibrationPlate, frames: Int, maxSpreadMM: Double, serial: String?, out: String
    ) throws -> Bool {
        self.output("Coil calibration of \"\(coilTool)\" in the calibration plate \"\(plate.tool)\"\(plate.model.map { " (\($0))" } ?? "").")
        self.output("Seat the coil in the plate, keep both markers in view and still, and press Enter (q: quit).")
        while true {
            guard let line = self.input()?.trimmingCharacters(in: .whitespaces) else { return false }
            if line == "q" { return false }
            guard let p = try self.capture([coilTool, plate.tool], frames: frames, what: "plate") else { continue }
            let estimates = zip(p[0], p[1]).map { coil, platePose in coil.inverse * platePose * plate.coilToPlate }
            let mean = Self.average(estimates)
            let spread = estimates.map { $0.translation.distance(to: mean.translation) }.max() ?? 0
            let angle = estimates.map { $0.difference(to: mean).rotationRadians * 180 / .pi }.max() ?? 0
            if spread > maxSpreadMM {
                self.output("  plate refused — the coil moved in the plate: \(fixed(spread)) mm over \(estimates.count) frames (limit \(fixed(maxSpreadMM)) mm). Press Enter to try again.")
                continue
            }
            let t = mean.translation
            self.output("Coil calibration: \(estimates.count) frames, spread \(fixed(spread)) mm / \(fixed(angle, 2))°")
            self.output("  coil origin in the marker frame (\(fixed(t.x)), \(fixed(t.y)), \(fixed(t.z))) mm, rotation \(fixed(mean.rotationAngleRadians * 180 / .pi, 2))°")
            _ = self.savePrompt(out)
            guard let answer = self.input()?.trimmingCharacters(in: .whitespaces) else { return false }
            if answer == "q" { return false }
            if answer == "r" {
                self.output("Seat the coil and press Enter.")
                continue
            }
            let cal = CoilCalibration(
                tool: coilTool, coilToMarker: mean, method: "plate", residualMM: spread, date: Self.timestamp(self.now()),
                toolSerial: serial, coilModel: nil, notes: "calibration plate \(plate.tool); \(estimates.count) frames")
            try Self.write { try cal.write(path: out) }
            self.output("Saved \(out).")
            return true
        }
    }

    /// The mean of nearby rigid transforms: translations averaged, quaternions averaged on one
    /// hemisphere and normalised.
    static func average(_ transforms: [RigidTransform]) -> RigidTransform {
        guard let first = transforms.first?.quaternion else { return .identity }
        var q = (0.0, 0.0, 0.0, 0.0)
        var t = Vector3.zero
        for x in transforms {
            var r = x.quaternion
            if r.q0 * first.q0 + r.qx * first.qx + r.qy * first.qy + r.qz * first.qz < 0 {
                r = Quaternion(q0: -r.q0, qx: -r.qx, qy: -r.qy, qz: -r.qz)
            }
            q = (q.0 + r.q0, q.1 + r.qx, q.2 + r.qy, q.3 + r.qz)
            t += x.translation
        }
        let n = Double(transforms.count)
        return RigidTransform(rotation: Quaternion(q0: q.0, qx: q.1, qy: q.2, qz: q.3), translation: t / n)
    }

    static func write(_ body: () throws -> Void) throws {
        do { try body() } catch { throw CLIError("cannot save the calibration: \(error)") }
    }
}
