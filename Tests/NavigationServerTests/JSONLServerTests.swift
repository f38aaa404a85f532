import Foundation
import Formats
import Geometry
import Navigation
import NavigationServer
import Testing

@Suite(.serialized) struct JSONLServerTests {
    @Test func subscribersGetFramesUpToTheirRateCapAndEvents() throws {
        let h = try ServerHarness()
        defer { h.stop() }
        let capped = try JSONLTestClient(port: h.server.jsonPort)
        let all = try JSONLTestClient(port: h.server.jsonPort)
        let silent = try JSONLTestClient(port: h.server.jsonPort)
        defer { capped.close(); all.close(); silent.close() }
        #expect(try capped.request(#"{"id":1,"cmd":"subscribe","maxRateHz":10}"#, id: 1)?["ok"] as? Bool == true)
        #expect(try all.request(#"{"id":2,"cmd":"subscribe","events":false}"#, id: 2)?["ok"] as? Bool == true)
        // 100 Hz for 0.5 s of frame time.
        for i in 0..<50 { h.frame(UInt32(i + 1), at: 1_000_000_000 + UInt64(i) * 10_000_000, coil: ServerHarness.target.targetToMRI) }
        var cappedFrames: [Int] = []
        while let f = try capped.next(seconds: 0.5, where: { ($0["type"] as? String) == "frame" }) { cappedFrames.append(f["frame"] as! Int) }
        // At most one per 100 ms of frame time (latest-wins may skip one the writer had not sent yet),
        // and the newest qualifying frame always arrives.
        #expect(cappedFrames.last == 41, "\(cappedFrames)")
        #expect(cappedFrames.allSatisfy { [1, 11, 21, 31, 41].contains($0) }, "\(cappedFrames)")
        #expect(zip(cappedFrames, cappedFrames.dropFirst()).allSatisfy { $0 < $1 }, "\(cappedFrames)")
        var allFrames = 0
        while try all.next(seconds: 0.5, where: { ($0["type"] as? String) == "frame" }) != nil { allFrames += 1 }
        #expect(allFrames >= 1 && allFrames <= 50)  // latest-wins: never more than produced, maybe fewer
        // Events: the capped client (events on) saw the first frame's validity.
        let c2 = try JSONLTestClient(port: h.server.jsonPort)
        defer { c2.close() }
        _ = try c2.request(#"{"id":2,"cmd":"subscribe","frames":false}"#, id: 2)
        h.frame(60, at: 2_000_000_000, coil: nil)
        let e = try #require(try c2.next { ($0["type"] as? String) == "event" && ($0["event"] as? String) == "validity-changed" })
        #expect(e["frame"] as? Int == 60 && e["valid"] as? Bool == false && e["reasons"] as? [String] == ["coil-missing"])
        // The silent client never subscribed: it got nothing.
        #expect(try silent.next(seconds: 0.2) == nil)
    }

    @Test func badRequestsGetCodedErrorsAndAnOverlongLineDropsTheClient() throws {
        let h = try ServerHarness()
        defer { h.stop() }
        let c = try JSONLTestClient(port: h.server.jsonPort)
        defer { c.close() }
        try c.send(#"{"id":1,"cmd":"fly"}"#)
        let unknown = try #require(try c.next { ($0["type"] as? String) == "response" })
        #expect((unknown["error"] as? [String: Any])?["code"] as? String == "unknown-command")
        try c.send(#"{"id":2,"cmd":"select-target","name":"nowhere"}"#)
        let missing = try #require(try c.next { ($0["type"] as? String) == "response" })
        #expect((missing["error"] as? [String: Any])?["code"] as? String == "not-found")
        #expect((missing["error"] as? [String: Any])?["message"] as? String == "no target named \"nowhere\" (targets: T1, T2)")
        try c.send("{not json")
        let bad = try #require(try c.next { ($0["type"] as? String) == "response" })
        #expect((bad["error"] as? [String: Any])?["code"] as? String == "bad-json")
        // 65 600 bytes and no newline: past the 64 KiB limit (the server reads all of it, then drops us).
        try c.stream.write(Array(repeating: UInt8(ascii: "x"), count: 65_600))
        let tooLong = try #require(try c.next { ($0["type"] as? String) == "response" })
        #expect((tooLong["error"] as? [String: Any])?["code"] as? String == "line-too-long")
        #expect(h.logs.wait(for: "dropped: sent a line longer than 65536 bytes") != nil, "\(h.logs.all)")
        // The server keeps serving.
        let d = try JSONLTestClient(port: h.server.jsonPort)
        defer { d.close() }
        #expect(try d.request(#"{"id":3,"cmd":"targets"}"#, id: 3)?["ok"] as? Bool == true)
    }

    @Test func theTokenGuardsEveryCommandThatChangesTheSession() throws {
        let h = try ServerHarness(token: "5ec2e7")
        defer { h.stop() }
        let c = try JSONLTestClient(port: h.server.jsonPort)
        defer { c.close() }
        for (i, cmd) in [#""cmd":"select-target","name":"T2""#, #""cmd":"pulse""#, #""cmd":"capture-scalp-point""#,
                         #""cmd":"clear-captures","what":"all""#, #""cmd":"register""#, #""cmd":"accept-registration""#,
                         #""cmd":"capture-fiducial","name":"NAS""#].enumerated() {
            let r = try #require(try c.request("{\"id\":\(i),\(cmd)}", id: i))
            #expect((r["error"] as? [String: Any])?["code"] as? String == "unauthorized", "\(cmd)")
        }
        #expect(h.executor.pulses.isEmpty && h.engine.currentSnapshot.activeTarget?.name == "T1")
        for (i, cmd) in [#""cmd":"hello""#, #""cmd":"status""#, #""cmd":"targets""#, #""cmd":"subscribe""#, #""cmd":"unsubscribe""#].enumerated() {
            #expect(try c.request("{\"id\":\(10 + i),\(cmd)}", id: 10 + i)?["ok"] as? Bool == true, "\(cmd)")
        }
        let ok = try #require(try c.request(#"{"id":20,"cmd":"select-target","name":"T2","token":"5ec2e7"}"#, id: 20))
        #expect(ok["ok"] as? Bool == true && h.engine.currentSnapshot.activeTarget?.name == "T2")
        #expect(h.session.state.activeTarget == "T2")
    }

    @Test func fiducialCapturesRegistrationAndAcceptanceOverTheProtocol() throws {
        let truth = RigidTransform(rotation: Quaternion(axis: Vector3(0.3, -1, 0.2), angleRadians: 0.4), translation: Vector3(12, -35, 48))
        let mri = [
            LabeledPoint(label: "NAS", position: Vector3(0, 85, -35)), LabeledPoint(label: "LPA", position: Vector3(-80, -20, -40)),
            LabeledPoint(label: "RPA", position: Vector3(80, -20, -40)), LabeledPoint(label: "Cz", position: Vector3(0, -10, 100)),
        ]
        let tip = Vector3(-1.2, 0.4, -158.3)
        let h = try ServerHarness(headToMRI: nil, pointerTip: tip, mriFiducials: mri)
        defer { h.stop() }
        let head = RigidTransform(rotation: Quaternion(axis: Vector3(0, 1, 0), angleRadians: 2.5), translation: Vector3(20, -40, -1450))
        // The feeder: 1 kHz frames with the pointer tip on `aim` (head coordinates), or hidden.
        final class Aim: @unchecked Sendable {
            let lock = NSLock()
            var point: Vector3? = nil
            var wobbleMM = 0.0
            var running = true
        }
        let aim = Aim()
        let feeder = Thread {
            var n: UInt32 = 1
            while true {
                aim.lock.lock()
                let (p, wobble, running) = (aim.point, aim.wobbleMM, aim.running)
                aim.lock.unlock()
                if !running { return }
                var pointer: RigidTransform? = nil
                if let p {
                    let r = Quaternion(axis: Vector3(1, 0.2, 0), angleRadians: 0.3)
                    let shift = Vector3(wobble * Double(n % 2), 0, 0)
                    let pointerToHead = RigidTransform(rotation: r, translation: p + shift - RigidTransform(rotation: r, translation: .zero).apply(to: tip))
                    pointer = head * pointerToHead
                }
                h.frame(n, at: 5_000_000_000 + UInt64(n) * 1_000_000, coil: nil, head: head, pointer: pointer)
                n += 1
                Thread.sleep(forTimeInterval: 0.001)
            }
        }
        feeder.start()
        defer { aim.lock.lock(); aim.running = false; aim.lock.unlock() }
        let c = try JSONLTestClient(port: h.server.jsonPort)
        defer { c.close() }
        func setAim(_ p: Vector3?, wobble: Double = 0) {
            aim.lock.lock()
            aim.point = p
            aim.wobbleMM = wobble
            aim.lock.unlock()
            Thread.sleep(forTimeInterval: 0.03)
        }
        // Refusals first: hidden pointer, moving pointer.
        setAim(nil)
        let hidden = try #require(try c.request(#"{"id":1,"cmd":"capture-fiducial","name":"NAS"}"#, id: 1))
        let hiddenMessage = try #require((hidden["error"] as? [String: Any])?["message"] as? String)
        #expect(hiddenMessage.hasPrefix("capture refused: pointer not visible (frame "), "\(hiddenMessage)")
        #expect(hiddenMessage.hasSuffix(": absent): keep the pointer in view of the tracker"), "\(hiddenMessage)")
        setAim(truth.inverse.apply(to: mri[0].position), wobble: 2)
        let moving = try #require(try c.request(#"{"id":2,"cmd":"capture-fiducial","name":"NAS"}"#, id: 2))
        #expect(((moving["error"] as? [String: Any])?["message"] as? String)?.hasPrefix("capture refused: pointer moving: the tip wandered 1.00 mm over 10 frames (limit 0.50 mm)") == true, "\(moving)")
        // Now each fiducial, held still.
        for (i, f) in mri.enumerated() {
            setAim(truth.inverse.apply(to: f.position))
            let r = try #require(try c.request("{\"id\":\(10 + i),\"cmd\":\"capture-fiducial\",\"name\":\"\(f.label)\"}", id: 10 + i))
            #expect(r["ok"] as? Bool == true, "\(r)")
            let p = try #require(r["positionHeadMM"] as? [Double])
            #expect(Vector3(p[0], p[1], p[2]).distance(to: truth.inverse.apply(to: f.position)) < 1e-6)
            #expect(r["frames"] as? Int == 10)  // the protocol's default
        }
        #expect(h.session.state.capturedFiducials.map(\.name) == ["NAS", "LPA", "RPA", "Cz"])
        let reg = try #require(try c.request(#"{"id":20,"cmd":"register"}"#, id: 20))
        #expect(reg["ok"] as? Bool == true, "\(reg)")
        #expect((reg["freMM"] as? Double ?? 1) < 1e-6)
        #expect(h.engine.currentSnapshot.headToMRI == nil)  // computed, not applied
        let accepted = try #require(try c.request(#"{"id":21,"cmd":"accept-registration"}"#, id: 21))
        #expect(accepted["ok"] as? Bool == true, "\(accepted)")
        let applied = try #require(h.engine.currentSnapshot.headToMRI)
        #expect(applied.difference(to: truth).translationMM < 1e-6 && applied.difference(to: truth).rotationRadians < 1e-9)
        #expect(try RegistrationRecord.load(path: h.session.registrationPath).headToMRI.difference(to: truth).translationMM < 1e-6)
    }
}
