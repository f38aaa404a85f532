import Testing
import TrackerCore

@Suite struct TrackerURLTests {
    @Test(arguments: [
        ("ndi-usb://", TrackerURL.ndiUSB(vendorID: 0x0403, productID: 0xDA70, serial: nil)),
        ("ndi-usb://0403:DA70?serial=P9-01234", .ndiUSB(vendorID: 0x0403, productID: 0xDA70, serial: "P9-01234")),
        ("ndi-usb://0403:6001", .ndiUSB(vendorID: 0x0403, productID: 0x6001, serial: nil)),
        ("ndi-serial:///dev/ttyUSB0", .ndiSerial(path: "/dev/ttyUSB0", baud: nil)),
        ("ndi-serial:///dev/pts/7?baud=115200", .ndiSerial(path: "/dev/pts/7", baud: 115_200)),
        ("ndi-tcp://192.168.1.20:8765", .ndiTCP(host: "192.168.1.20", port: 8765)),
        ("ndi-tcp://vega.local", .ndiTCP(host: "vega.local", port: 8765)),
        ("ndi-tcp://[::1]:9000", .ndiTCP(host: "::1", port: 9000)),
        ("mock://Mock/scenarios/demo-approach.json?seed=7", .mock(scenarioPath: "Mock/scenarios/demo-approach.json", seed: 7)),
        ("mock:///abs/s.json", .mock(scenarioPath: "/abs/s.json", seed: 0)),
        ("replay://session/rec.bin?speed=0", .replay(path: "session/rec.bin", speed: 0)),
    ])
    func parses(text: String, expected: TrackerURL) throws {
        #expect(try TrackerURL(parsing: text) == expected)
        // The description parses back to the same value.
        #expect(try TrackerURL(parsing: expected.description) == expected)
    }

    @Test(arguments: [
        ("usb://x", "tracker URL \"usb://x\": unknown scheme \"usb\"; expected ndi-usb, ndi-serial, ndi-tcp, mock or replay"),
        ("/dev/ttyUSB0", "tracker URL \"/dev/ttyUSB0\": expected SCHEME://…, one of ndi-usb, ndi-serial, ndi-tcp, mock, replay"),
        ("ndi-usb://403:DA70", "tracker URL \"ndi-usb://403:DA70\": expected ndi-usb://VID:PID with 4 hex digits each (e.g. 0403:DA70), got \"403:DA70\""),
        ("ndi-usb://?sn=1", "tracker URL \"ndi-usb://?sn=1\": unknown parameter \"sn\" (accepted: serial)"),
        ("ndi-serial://ttyUSB0", "tracker URL \"ndi-serial://ttyUSB0\": expected an absolute device path, e.g. ndi-serial:///dev/ttyUSB0"),
        ("ndi-serial:///dev/ttyUSB0?baud=fast", "tracker URL \"ndi-serial:///dev/ttyUSB0?baud=fast\": baud must be a positive integer, got \"fast\""),
        ("ndi-tcp://host:0", "tracker URL \"ndi-tcp://host:0\": port 0 is out of range 1–65535"),
        ("ndi-tcp://host:http", "tracker URL \"ndi-tcp://host:http\": port must be a number, got \"http\""),
        ("ndi-tcp://host?x=1", "tracker URL \"ndi-tcp://host?x=1\": unknown parameter \"x\" (this scheme takes none)"),
        ("mock://s.json?seed=-1", "tracker URL \"mock://s.json?seed=-1\": seed must be a non-negative integer, got \"-1\""),
        ("mock://s.json?seed=1&seed=2", "tracker URL \"mock://s.json?seed=1&seed=2\": parameter \"seed\" given twice"),
    ])
    func refuses(text: String, message: String) {
        do {
            _ = try TrackerURL(parsing: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description == message)
        }
    }
}

@Suite struct ToolStatusTests {
    @Test func wireNamesAreTheTrackInterfaceNames() {
        #expect(ToolStatus.allCases.map(\.rawValue) == ["ok", "missing", "partly-out-of-volume", "disabled"])
        #expect(ToolStatus.allCases.filter(\.hasPose) == [.ok, .partlyOutOfVolume])
    }
}
