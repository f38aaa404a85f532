import CoilNavTestSupport
import Foundation
import Testing

/// pyigtl 0.3.4's own client (`OpenIGTLinkClient`, unmodified) against `coilnav serve`: as a
/// protocol v1/v2 client it receives the TRANSFORMs and the metrics STRING; after it sends one
/// header-version-2 message (a `CoilNavCommand` STRING) it is a v3 client and receives
/// `TransformValid`/`TransformStatus` metadata. Skipped, saying why, without pyigtl.
@Suite(.serialized) struct PyigtlServerTests {
    static let python = pythonInterpreter(importing: ["pyigtl"], packageRoot: Paths.root)

    static let script = #"""
        import json, sys, time
        import pyigtl
        c = pyigtl.OpenIGTLinkClient(host="127.0.0.1", port=int(sys.argv[1]))
        m = c.wait_for_message("CoilToTarget", timeout=10)
        s = c.wait_for_message("CoilNavMetrics", timeout=10)
        out = {"v1": {"header": m.header_version, "matrix": m.matrix.tolist(), "metadata": dict(m.metadata or {}),
                      "metrics": json.loads(s.string)}}
        hello = pyigtl.StringMessage('{"id":1,"cmd":"hello"}', device_name="CoilNavCommand")
        hello.header_version = 2
        c.send_message(hello)
        reply = c.wait_for_message("CoilNavReply", timeout=10)
        m2 = None
        deadline = time.time() + 10
        while time.time() < deadline:
            m2 = c.wait_for_message("CoilToTarget", timeout=5)
            if m2 is not None and m2.header_version == 2:
                break
        out["v3"] = {"header": m2.header_version, "metadata": {k: str(v) for k, v in m2.metadata.items()},
                     "reply": json.loads(reply.string)}
        c.stop()
        print(json.dumps(out))
        """#

    @Test(.enabled(if: Self.python != nil, "pyigtl is not installed: python3 -m venv .venv-ci && .venv-ci/bin/pip install pyigtl==0.3.4, or set COILNAV_PYTHON"))
    func pyigtlReceivesTransformsAsAVersion1AndAVersion3Client() throws {
        let session = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: session) }
        let server = try ServerProcess([
            "--tracker", "mock://\(ServeTests.scenario)?seed=5", "--plan", Paths.demo("plan.json"),
            "--registration", Paths.demo("registration.json"), "--session", session.path,
            "--igtl-port", "0", "--json-port", "0", "--insecure",
        ])
        defer { server.stop() }
        let r = try runProcess(URL(fileURLWithPath: Self.python!), ["-c", Self.script, String(server.igtlPort)])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout) \(r.stderr)")
        let v1 = try #require(out["v1"] as? [String: Any])
        #expect(v1["header"] as? Int == 1)
        #expect((v1["metadata"] as? [String: Any])?.isEmpty == true)
        // coilToTarget of the noise-free scenario: 3° about y, then (1.5, −2, 0.5) mm (float32 on the wire).
        let m = try #require(v1["matrix"] as? [[Double]])
        let c = cos(3 * Double.pi / 180), s = sin(3 * Double.pi / 180)
        let expected: [[Double]] = [[c, 0, s, 1.5], [0, 1, 0, -2], [-s, 0, c, 0.5], [0, 0, 0, 1]]
        for i in 0..<4 {
            for j in 0..<4 { #expect(Swift.abs(m[i][j] - expected[i][j]) < (j == 3 ? 2e-3 : 2e-5), "[\(i)][\(j)] \(m[i][j])") }
        }
        let metrics = try #require((v1["metrics"] as? [String: Any])?["metrics"] as? [String: Any])
        #expect(Swift.abs((metrics["distanceMM"] as? Double ?? 0) - 6.5.squareRoot()) < 1e-3)
        let v3 = try #require(out["v3"] as? [String: Any])
        #expect(v3["header"] as? Int == 2)
        #expect(v3["metadata"] as? [String: String] == ["TransformValid": "true", "TransformStatus": "OK"])
        let reply = try #require(v3["reply"] as? [String: Any])
        #expect(reply["ok"] as? Bool == true && reply["protocol"] as? Int == 1)
    }
}
