import CoilNavTestSupport
import Foundation
import Formats
import Geometry
import ServerSession
import Testing

/// `coilnav calibrate pivot|coil --server` on a pseudo-terminal against `coilnav serve` on the mock,
/// pressing Enter in each refusal window first.
@Suite(.serialized) struct GuidedCalibrationTests {
    static func serve(_ scenario: String, session: URL) throws -> ServerProcess {
        try ServerProcess([
            "--tracker", "mock://\(Paths.root.appendingPathComponent("Mock/scenarios/\(scenario)").path)?seed=4",
            "--plan", Paths.demo("plan.json"), "--session", session.path, "--igtl-port", "0", "--json-port", "0", "--insecure",
        ])
    }

    @Test func pivotCalibrationRefusesAHiddenPointerAndSavesTheTip() throws {
        let dir = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try Self.serve("pivot-walkthrough.json", session: dir.appendingPathComponent("session"))
        defer { server.stop() }
        let clock = try ScenarioClock(jsonPort: server.jsonPort)
        defer { clock.stop() }
        let out = dir.appendingPathComponent("pointers/pointer.json").path
        let term = try TerminalSession(
            Paths.executable,
            ["calibrate", "pivot", "--server", "127.0.0.1:\(server.jsonPort)", "--frames", "180", "--serial", "P-0042", "--out", out])
        var at = try #require(term.waitFor("Put the tip in a divot"), "\(term.output)")
        #expect(clock.wait(from: 0.2, to: 1.2), "t = \(clock.seconds)")
        try term.type("")
        at = try #require(term.waitFor("pivot refused — capture refused: pointer not visible (frame ", after: at), "\(term.output)")
        #expect(clock.wait(from: 1.7, to: 9))
        try term.type("")
        at = try #require(term.waitFor("Pivot calibration: ", after: at), "\(term.output)")
        at = try #require(term.waitFor("Enter: save to \(out)", after: at), "\(term.output)")
        try term.type("")
        try #require(term.waitFor("Saved \(out).", after: at), "\(term.output)")
        #expect(term.finish() == 0)
        let cal = try PointerCalibration.load(path: out)
        #expect(cal.tool == "pointer" && cal.method == "pivot" && cal.toolSerial == "P-0042")
        #expect(cal.tipMM.distance(to: Vector3(-1.2, 0.4, -158.3)) < 0.3, "\(cal.tipMM)")
        #expect((cal.rmsMM ?? 9) < 0.5)
    }

    @Test func coilCalibrationByPointerMarksAndByPlateRecoverTheMountedMarker() throws {
        let dir = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try Self.serve("coil-calibration.json", session: dir.appendingPathComponent("session"))
        defer { server.stop() }
        let clock = try ScenarioClock(jsonPort: server.jsonPort)
        defer { clock.stop() }
        // The scenario's truth: the marker mounted at 12° about (1, 0.2, 0), then (0, −85, −40) mm.
        let truth = RigidTransform(
            rotation: Quaternion(axis: Vector3(1, 0.2, 0) / Vector3(1, 0.2, 0).length, angleRadians: 12 * .pi / 180),
            translation: Vector3(0, -85, -40))
        let out = dir.appendingPathComponent("coil-three-point.json").path
        let term = try TerminalSession(
            Paths.executable,
            ["calibrate", "coil", "--server", "127.0.0.1:\(server.jsonPort)", "--method", "three-point",
             "--model", Paths.root.appendingPathComponent("Calibration/coils/models/mock-coil-model.json").path,
             "--pointer-calibration", Paths.root.appendingPathComponent("Calibration/pointers/mock-pointer.json").path,
             "--serial", "C-7", "--out", out])
        var at = try #require(term.waitFor("[1/4] Touch LEFT"), "\(term.output)")
        #expect(clock.wait(from: 0.2, to: 1.2), "t = \(clock.seconds)")
        try term.type("")
        at = try #require(term.waitFor("LEFT refused — capture refused: pointer not visible (frame ", after: at), "\(term.output)")
        #expect(clock.wait(from: 2.3, to: 3.6))
        try term.type("")
        at = try #require(term.waitFor("LEFT captured", after: at), "\(term.output)")
        at = try #require(term.waitFor("[2/4] Touch RIGHT", after: at))
        #expect(clock.wait(from: 4.3, to: 4.6), "t = \(clock.seconds)")
        try term.type("")
        at = try #require(term.waitFor("RIGHT refused — pointer moving relative to the coil: the tip wandered ", after: at), "\(term.output)")
        #expect(clock.wait(from: 5.05, to: 5.4), "t = \(clock.seconds)")
        try term.type("")
        at = try #require(term.waitFor("RIGHT refused — capture refused: coil not visible (frame ", after: at), "\(term.output)")
        #expect(clock.wait(from: 5.9, to: 6.7))
        try term.type("")
        at = try #require(term.waitFor("RIGHT captured", after: at), "\(term.output)")
        for (name, from) in [("FRONT", 8.3), ("HANDLE", 11.3)] {
            at = try #require(term.waitFor("Touch \(name)", after: at))
            #expect(clock.wait(from: from, to: from + 1.2))
            try term.type("")
            at = try #require(term.waitFor("\(name) captured", after: at), "\(term.output)")
        }
        at = try #require(term.waitFor("Coil calibration: FRE ", after: at), "\(term.output)")
        at = try #require(term.waitFor("Enter: save to \(out)", after: at), "\(term.output)")
        try term.type("")
        try #require(term.waitFor("Saved \(out).", after: at), "\(term.output)")
        #expect(term.finish() == 0)
        let pointerMarks = try CoilCalibration.load(path: out)
        #expect(pointerMarks.method == "three-point" && pointerMarks.toolSerial == "C-7" && pointerMarks.coilModel == "CoilNav mock coil")
        #expect(pointerMarks.coilToMarker.difference(to: truth).translationMM < 0.5, "\(pointerMarks.coilToMarker)")
        #expect(pointerMarks.coilToMarker.difference(to: truth).rotationRadians < 0.5 * .pi / 180)
        #expect((pointerMarks.residualMM ?? 9) < 0.5)

        // The plate: one capture of the seated coil.
        let plateOut = dir.appendingPathComponent("coil-plate.json").path
        let plateTerm = try TerminalSession(
            Paths.executable,
            ["calibrate", "coil", "--server", "127.0.0.1:\(server.jsonPort)", "--method", "plate",
             "--plate", Paths.root.appendingPathComponent("Calibration/plates/mock-plate.json").path, "--out", plateOut])
        var p = try #require(plateTerm.waitFor("Seat the coil in the plate"), "\(plateTerm.output)")
        try plateTerm.type("")
        p = try #require(plateTerm.waitFor("Coil calibration: 30 frames", after: p), "\(plateTerm.output)")
        p = try #require(plateTerm.waitFor("Enter: save to", after: p))
        try plateTerm.type("")
        try #require(plateTerm.waitFor("Saved \(plateOut).", after: p), "\(plateTerm.output)")
        #expect(plateTerm.finish() == 0)
        let plate = try CoilCalibration.load(path: plateOut)
        #expect(plate.method == "plate")
        #expect(plate.coilToMarker.difference(to: truth).translationMM < 0.3, "\(plate.coilToMarker)")
        #expect(plate.coilToMarker.difference(to: truth).rotationRadians < 0.2 * .pi / 180)
    }
}
