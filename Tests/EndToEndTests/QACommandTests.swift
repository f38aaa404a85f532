import Foundation
import Geometry
import MockTracker
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// `coilnav qa` end to end: the built binary drives the mock phantom's protocol through the NDI
/// driver and an in-process server, writes its report and says pass or fail in its exit status.
@Suite struct QACommandTests {
    static let phantom = Paths.root.appendingPathComponent("Calibration/phantoms/mock-phantom.json").path
    static func scenario(_ name: String) -> String { Paths.root.appendingPathComponent("Mock/scenarios/\(name)").path }

    /// Runs `coilnav qa` on a scenario (seed 1, ten times faster than real time) into a fresh folder.
    static func qa(_ scenario: String, extra: [String] = []) throws -> (
        run: CoilNavRun, out: URL, report: [String: Any]?
    ) {
        let out = try Paths.temporaryDirectory()
        let run = try coilnav(
            [
                "qa", "--tracker", "mock://\(Self.scenario(scenario))?seed=1", "--phantom", Self.phantom, "--out",
                out.path,
                "--mock-speed", "10", "--report-date", "2026-05-01T09:00:00Z",
            ] + extra)
        let data = try? Data(contentsOf: out.appendingPathComponent("report.json"))
        return (run, out, data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] })
    }

    static func figure(_ report: [String: Any], _ id: String) throws -> [String: Any] {
        let figures = try #require(report["figures"] as? [[String: Any]])
        return try #require(figures.first { $0["id"] as? String == id }, "no figure \(id)")
    }

    @Test func theMockPhantomPassesWithItsScriptedFigures() throws {
        let (run, out, reportOrNil) = try Self.qa("qa-phantom.json")
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(run.status == 0, "stderr: \(run.stderr)\nstdout: \(run.stdout)")
        let report = try #require(reportOrNil)
        #expect(run.stdout.contains("QA PASSED: every figure is within its threshold.\n"))
        // The operator is told each phase and each landmark on standard error.
        #expect(run.stderr.contains("[2/5] Leave \"phantom\" still for 5 s: touch neither it nor the table.\n"))
        #expect(run.stderr.contains("[3/5] Pick up the pointer and put its tip in the phantom's pivot divot (1 s).\n"))
        #expect(run.stderr.contains("  Touch landmark L1 (1 of 7, registration) and hold still.\n"))
        #expect(run.stderr.contains("  Touch landmark C2 (7 of 7, check) and hold still.\n"))
        #expect(run.stderr.contains("  C2 captured: 20 frames"))

        #expect(report["verdict"] as? String == "pass")
        #expect(report["date"] as? String == "2026-05-01T09:00:00Z")
        let figures = try #require(report["figures"] as? [[String: Any]])
        #expect(figures.count == 12)
        #expect(figures.allSatisfy { $0["result"] as? String == "pass" })
        for line in [
            "PASS          jitter RMS of phantom (3-D)", "PASS          TRE at check point C2",
            "PASS          latency p99",
        ] {
            #expect(run.stdout.contains(line), "\(line)")
        }

        // Jitter: exactly the figure computed here from the simulation's frames of the still phase
        // (60–359, without 200, whose reply carried a corrupt CRC) as the wire carried them.
        let sim = MockSimulation(scenario: try MockScenario.load(path: Self.scenario("qa-phantom.json")), seed: 1)
        let origins = (60..<360).filter { $0 != 200 }.map { sim.frame($0).tools[0].measured!.translationMM }
        let mean = origins.reduce(Vector3.zero, +) / Double(origins.count)
        let rms = (origins.map { ($0 - mean).lengthSquared }.reduce(0, +) / Double(origins.count)).squareRoot()
        let jitter = try #require(report["jitter"] as? [String: Any])
        #expect(jitter["samples"] as? Int == 299)
        #expect(Swift.abs((jitter["rmsMM"] as? Double ?? 0) - rms) < 1e-12)
        #expect(Swift.abs((try Self.figure(report, "jitter-rms")["value"] as? Double ?? 0) - 0.164339066341566) < 1e-12)

        // Frames and dropouts as scripted: every frame from 0 on, but the 3 corrupt replies.
        let frames = try #require(report["frames"] as? [String: Any])
        let last = try #require(frames["lastFrameNumber"] as? Int)
        #expect(frames["firstFrameNumber"] as? Int == 0)
        #expect(frames["dropped"] as? Int == 3)
        #expect(frames["received"] as? Int == last + 1 - 3)
        // (Foundation's JSON reader is off by a few ulps at times: compare to 1e-12.)
        #expect(
            Swift.abs(
                (try Self.figure(report, "frame-rate")["value"] as? Double ?? 0) - 60 * Double(last - 2)
                    / Double(last + 1)) < 1e-12)
        #expect(
            Swift.abs((try Self.figure(report, "dropouts")["value"] as? Double ?? 0) - 300 / Double(last + 1)) < 1e-12)

        // Pivot, FRE and TRE small; latency measured on every frame that showed the phantom.
        let pivot = try #require(report["pivot"] as? [String: Any])
        #expect((pivot["tipDeviationMM"] as? Double ?? 1) < 0.1)
        #expect((try Self.figure(report, "fre")["value"] as? Double ?? 1) < 0.1)
        #expect((try Self.figure(report, "tre-C1")["value"] as? Double ?? 1) < 0.3)
        #expect((try Self.figure(report, "tre-C2")["value"] as? Double ?? 1) < 0.3)
        let latency = try #require(report["latency"] as? [String: Any])
        let samples = try #require(latency["samples"] as? Int)
        // (Frames the driver delivered while the run was ending may add a few.)
        #expect(samples > 1000, "\(samples) latency samples")
        let p50 = try #require(latency["p50MS"] as? Double)
        let p99 = try #require(latency["p99MS"] as? Double)
        #expect(p50 > 0 && p50 <= p99 && p99 <= (latency["maxMS"] as? Double ?? 0))

        // The human report and its plots: well-formed SVG.
        let md = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(md.hasPrefix("# CoilNav QA report\n\n**PASS**"))
        for plot in ["jitter.svg", "errors.svg", "latency.svg"] {
            #expect(md.contains("](\(plot))"))
            let data = try Data(contentsOf: out.appendingPathComponent(plot))
            let parser = XMLParser(data: data)
            #expect(parser.parse(), "\(plot) is not well-formed: \(String(describing: parser.parserError))")
            #expect(String(decoding: data, as: UTF8.self).contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        }
    }

    @Test func theSameScenarioAndSeedGiveTheSameReportButForTheLatency() throws {
        // Two runs at once (each on its own in-process mock and server).
        nonisolated(unsafe) var runs: [(run: CoilNavRun, out: URL, report: [String: Any]?)?] = [nil, nil]
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            let r = try? Self.qa("qa-phantom.json")
            lock.withLock { runs[k] = r }
        }
        let (first, out1, report1) = try #require(runs[0])
        let (second, out2, report2) = try #require(runs[1])
        defer {
            try? FileManager.default.removeItem(at: out1)
            try? FileManager.default.removeItem(at: out2)
        }
        #expect(first.status == 0 && second.status == 0)
        func withoutLatency(_ r: [String: Any]?) throws -> NSDictionary {
            var r = try #require(r)
            r["latency"] = nil
            r["figures"] = (r["figures"] as? [[String: Any]])?.filter { $0["id"] as? String != "latency-p99" }
            return r as NSDictionary
        }
        #expect(try withoutLatency(report1) == withoutLatency(report2))
        for plot in ["jitter.svg", "errors.svg"] {
            #expect(
                try Data(contentsOf: out1.appendingPathComponent(plot))
                    == Data(contentsOf: out2.appendingPathComponent(plot)))
        }
    }

    @Test func theThreeMillimetreErrorFailsOnTheTREAtC2() throws {
        let (run, out, reportOrNil) = try Self.qa("qa-phantom-3mm-error.json")
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(run.status == 1, "stderr: \(run.stderr)\nstdout: \(run.stdout)")
        let report = try #require(reportOrNil)
        #expect(report["verdict"] as? String == "fail")
        #expect(report["failures"] as? [String] == ["tre-C2"])
        let tre = try Self.figure(report, "tre-C2")
        #expect(Swift.abs((tre["value"] as? Double ?? 0) - 3) < 0.2)
        #expect(tre["threshold"] as? Double == 1 && tre["result"] as? String == "fail")
        #expect(run.stdout.contains("FAIL          TRE at check point C2"))
        #expect(run.stdout.contains("QA FAILED: TRE at check point C2 3.0"))
        #expect(run.stdout.contains("mm (threshold ≤ 1.000 mm)\n"))
    }

    @Test func whatCannotRunExitsWithTwoAndSaysWhy() throws {
        let out = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let tracker = "mock://\(Self.scenario("qa-phantom.json"))"
        let missing = try coilnav([
            "qa", "--tracker", tracker, "--phantom", "/nonexistent/phantom.json", "--out", out.path,
        ])
        #expect(missing.status == 2)
        #expect(missing.stderr.hasPrefix("coilnav qa: phantom /nonexistent/phantom.json"), "\(missing.stderr)")

        let bad = out.appendingPathComponent("bad.json")
        try Data(#"{"format": "coilnav-qa-phantom", "version": 1, "name": "x"}"#.utf8).write(to: bad)
        let located = try coilnav(["qa", "--tracker", tracker, "--phantom", bad.path, "--out", out.path])
        #expect(located.status == 2)
        #expect(
            located.stderr.contains("bad.json: line 1, column 1: phantomTool: required field is missing"),
            "\(located.stderr)")

        let notMock = try coilnav([
            "qa", "--tracker", "ndi-tcp://127.0.0.1:1", "--phantom", Self.phantom, "--out", out.path, "--mock-speed",
            "5",
        ])
        #expect(notMock.status == 2 && notMock.stderr == "coilnav qa: --mock-speed is for mock:// trackers only\n")

        let noCalibration = try coilnav([
            "qa", "--tracker", "ndi-tcp://127.0.0.1:1", "--phantom", Self.phantom, "--out", out.path,
        ])
        #expect(noCalibration.status == 2)
        #expect(
            noCalibration.stderr
                == "coilnav qa: give --pointer-calibration FILE: the landmarks are digitised with the pointer's calibration\n"
        )

        let silent = try coilnav([
            "qa", "--tracker", "ndi-tcp://127.0.0.1:1", "--phantom", Self.phantom, "--out", out.path, "--stall-seconds",
            "1",
            "--pointer-calibration", Paths.root.appendingPathComponent("Calibration/pointers/mock-pointer.json").path,
        ])
        #expect(silent.status == 2)
        #expect(
            silent.stderr.contains("coilnav qa: no tracker frame for 1 s (last disconnected (cannot connect: "),
            "\(silent.stderr)")
        #expect(silent.stderr.hasSuffix("); no report written\n"))

        let replay = try coilnav([
            "qa", "--tracker", "replay://\(out.path)/run.jsonl", "--phantom", Self.phantom, "--out", out.path,
            "--pointer-calibration", Paths.root.appendingPathComponent("Calibration/pointers/mock-pointer.json").path,
        ])
        #expect(replay.status == 2)
        #expect(
            replay.stderr
                == "coilnav qa: tracker URL \"replay://\(out.path)/run.jsonl\": coilnav qa measures a live tracker "
                + "(frame timing, latency to a client); a replay:// recording cannot be used: give an ndi-usb, "
                + "ndi-serial, ndi-tcp or mock URL\n", "\(replay.stderr)")

        let badDate = try coilnav([
            "qa", "--tracker", tracker, "--phantom", Self.phantom, "--out", out.path, "--report-date", "yesterday",
        ])
        #expect(badDate.status == 2)
        #expect(
            badDate.stderr.contains("--report-date must be an ISO 8601 date-time with a time zone"), "\(badDate.stderr)"
        )
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: out.path) == ["bad.json"],
            "no report from a run that could not start")
    }
}
