import Foundation
import Testing

/// `coilnav devices` on this machine (normally no tracker) and, when umockdev is installed, with a
/// fake NDI Host USB Converter (the fixture of TrackerTransportTests).
@Suite struct DevicesCommandTests {
    @Test func reportsWhatItFinds() throws {
        let r = try coilnav(["devices", "--json", "--profiles", Paths.root.appendingPathComponent("Devices").path])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try r.json()
        #expect(o["profilesLoaded"] as? Int == 5)
        let status = try #require(o["status"] as? String)
        #expect(["none", "ready", "access-denied", "error"].contains(status))
        if status == "none" {
            #expect((o["trackers"] as? [Any])?.isEmpty == true)
            #expect((o["message"] as? String)?.hasPrefix("no tracker found") == true)
        }
    }

    static let umockdevRun = "/usr/bin/umockdev-run"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: umockdevRun), "umockdev-run is not installed (apt-get install umockdev)"))
    func findsTheFakeConverterUnderUmockdev() throws {
        let umockdevRun = Self.umockdevRun
        let fixture = Paths.root.appendingPathComponent("Tests/TrackerTransportTests/Fixtures/ndi-host-usb-converter.umockdev").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: umockdevRun)
        p.arguments = ["-d", fixture, "--", Paths.executable.path, "devices", "--json", "--profiles", Paths.root.appendingPathComponent("Devices").path]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = Pipe()
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let o = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(o["status"] as? String == "ready")
        let trackers = try #require(o["trackers"] as? [[String: Any]])
        #expect(trackers.count == 1)
        #expect(trackers.first?["usbId"] as? String == "0403:da70")
        #expect(trackers.first?["profile"] as? String == "ndi-host-usb-converter")
        #expect(trackers.first?["serialNumber"] as? String == "NDIT0042")
        #expect(trackers.first?["url"] as? String == "ndi-usb://0403:da70?serial=NDIT0042")
    }
}
