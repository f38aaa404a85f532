import CoilNavTestSupport
import Foundation
import Testing

/// The libusb transport against a fake NDI Host USB Converter (0403:da70, FT232R) under umockdev.
///
/// `Fixtures/ndi-host-usb-converter.umockdev` describes the device in sysfs (ids, strings, the
/// binary `descriptors` attribute with interface 0 and bulk endpoints 0x81/0x02 of 64 bytes).
/// `Fixtures/ndi-host-usb-converter.ioctl` is a usbdevfs ioctl record, written by hand: the eight
/// FTDI set-up control URBs, then INIT (bulk OUT), a bare status packet and the OKAY reply (bulk
/// IN), then BX (bulk OUT) and the 63-byte BX reply of protocols.md §1.4 split into a 64-byte and
/// a 3-byte packet, each with its two status bytes, then the control URBs of a break, a switch to
/// 1228739 baud and a purge. umockdev replays it: every URB the program
/// submits must equal a recorded one (setup packet for control transfers, contents for bulk OUT),
/// or the submit fails and libusb reports LIBUSB_ERROR_IO.
///
/// The tests run `coilnav-usbprobe` (built with the tests) under `umockdev-run`, and skip when
/// umockdev is not installed (Debian package `umockdev`; CI installs it).
@Suite(.enabled(if: Umockdev.available, "umockdev-run is not installed (apt-get install umockdev)"))
struct UmockdevTests {
    static let device = Paths.fixtures + "/ndi-host-usb-converter.umockdev"
    static let record = Paths.fixtures + "/ndi-host-usb-converter.ioctl"
    static let init_ = "494E49543A453341350D"  // INIT:E3A5\r
    static let bx = "42583A30383031303045430D"  // BX:080100EC\r
    static let bxReply =
        "c4a537003b230201010000003f0000003f0000003f0000003f00004841000009c20080bbc40000003e31000000d2040000020231000000d20400000000e0b7"

    @Test func enumerationFindsTheConverterByProfile() throws {
        let r = try Umockdev.run(device: Self.device, ioctl: nil, probe: ["list", Paths.devices])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.lines.contains(
                "device 0403:da70 bus 1 address 2 port 1-1 bcd 0600 serial NDIT0042 product NDI Host USB Converter access ok"),
            "\(r.stdout)")
        #expect(r.lines.filter { $0.hasPrefix("match ") } == ["match 0403:da70 profile ndi-host-usb-converter"])
        #expect(r.stdout.contains("— ready"))
    }

    @Test(.enabled(if: Umockdev.canDropPrivileges, "needs a non-root user, or setpriv to become one"))
    func accessDeniedNamesTheUdevRule() throws {
        // The device node is made unreadable inside the testbed and the probe runs as a user who is
        // not root, so libusb_open really fails with LIBUSB_ERROR_ACCESS.
        let r = try Umockdev.run(device: Self.device, ioctl: nil, probe: ["list", Paths.devices], unprivilegedWithNodeMode000: true)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.lines.contains { $0.hasPrefix("device 0403:da70 bus 1 address 2") && $0.hasSuffix("access denied") }, "\(r.stdout)")
        #expect(r.stdout.contains("access denied: install the udev rule Devices/udev/99-coilnav-ndi.rules"))
        #expect(r.stdout.contains("sudo udevadm control --reload-rules && sudo udevadm trigger"))
    }

    @Test func openSetUpAndBulkExchangeReplayFromTheRecord() throws {
        let r = try Umockdev.run(
            device: Self.device, ioctl: Self.record,
            probe: ["exchange", "0403:da70", Self.init_, Self.bx + "/63", "break:250", "baud:1228739", "purge"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.lines.first == "opened ftdi-usb://bus 1 address 2 serial NDIT0042 chip r mps 64 in 81 out 02")
        #expect(
            r.lines.filter { $0.hasPrefix("control ") } == [
                "control 40 00 0000 0001 reset SIO",
                "control 40 00 0001 0001 purge RX",
                "control 40 00 0002 0001 purge TX",
                "control 40 03 4138 0000 baud rate 9600 (actual 9600)",
                "control 40 04 0008 0001 data 8N1",
                "control 40 02 0000 0001 flow control none",
                "control 40 09 0001 0001 latency timer 1 ms",
                "control 40 01 0303 0001 DTR and RTS high",
                // After the exchange: a break (SET_DATA with bit 14, then without), COMM-style
                // switch to 1228739 baud (divisor 0x4002 = 1.2 Mbaud), purge.
                "control 40 04 4008 0001 data 8N1 break on",
                "control 40 04 0008 0001 data 8N1",
                "control 40 03 4002 0000 baud rate 1228739 (actual 1200000)",
                "control 40 04 0008 0001 data 8N1",
                "control 40 02 0000 0001 flow control none",
                "control 40 00 0001 0001 purge RX",
                "control 40 00 0002 0001 purge TX",
            ])
        // The bare status packet gave no payload; the OKAY packet gave exactly the reply.
        #expect(r.lines.contains("read " + Array("OKAYA896\r".utf8).map { String(format: "%02x", $0) }.joined()))
        // 67 bytes on the bus, 63 after stripping both packets' status bytes.
        #expect(r.lines.contains("read " + Self.bxReply))
        #expect(r.lines.contains("status modem 01 line 60"))
        #expect(r.lines.last == "closed")

        // umockdev's own log of the URBs it completed, in order: the whole record, nothing else.
        let urbs = Umockdev.completedURBs(r.stderr)
        let recorded = try Umockdev.recordedURBs(Self.record)
        #expect(urbs == recorded, "completed:\n\(urbs.joined(separator: "\n"))")
        #expect(urbs.count == 20)
    }

    @Test func aWrongControlTransferIsRejectedByTheReplay() throws {
        // The same record but expecting 9600 baud with wIndex 1: our (correct) request no longer
        // matches, so the set-up must fail — the replay really checks the setup packets.
        let dir = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.ioctl")
        let text = try String(contentsOfFile: Self.record, encoding: .utf8)
        try #require(text.contains("4003384100000000"))
        try text.replacingOccurrences(of: "4003384100000000", with: "4003384101000000").write(to: bad, atomically: true, encoding: .utf8)
        let r = try Umockdev.run(device: Self.device, ioctl: bad.path, probe: ["exchange", "0403:da70", Self.init_])
        #expect(r.status == 1)
        #expect(r.stderr.contains("control request 40 03 4138 0000 baud rate 9600"), "\(r.stderr)")
        #expect(r.stderr.contains("LIBUSB_ERROR_IO"))
        #expect(!r.lines.contains { $0.hasPrefix("opened") })
    }

    @Test func unplugDuringABulkReadIsDisconnected() throws {
        // The -unplug record ends with a bulk-IN URB completed with status -ENODEV, as the kernel
        // reports a device removed mid-transfer.
        let r = try Umockdev.run(
            device: Self.device, ioctl: Paths.fixtures + "/ndi-host-usb-converter-unplug.ioctl",
            probe: ["exchange", "0403:da70", Self.init_])
        #expect(r.status == 1)
        #expect(r.lines.contains("wrote 494e49543a453341350d"))
        #expect(r.stderr.contains("error disconnected:"), "\(r.stderr)")
        #expect(r.stderr.contains("LIBUSB_ERROR_NO_DEVICE"))
    }
}

@Suite struct USBWithoutDevicesTests {
    @Test func withoutTheFakeDeviceThereIsNoTracker() throws {
        // The probe outside umockdev: on CI and build machines there is no NDI device, and the
        // report must say so (on a workstation with a tracker plugged in, it lists it instead).
        let r = try Umockdev.runProbe(["list", Paths.devices])
        try #require(r.status == 0, "\(r.stderr)")
        if !r.lines.contains(where: { $0.hasPrefix("match ") }) {
            #expect(r.stdout.contains("summary no tracker found: none of the"))
        }
    }
}

/// Running the probe, with or without umockdev.
enum Umockdev {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var lines: [String] { self.stdout.split(separator: "\n").map(String.init) }
    }

    static let executable: String? = {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/umockdev-run"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }()

    static var available: Bool { executable != nil }

    static let setpriv: String? = ["/usr/bin/setpriv", "/bin/setpriv"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Whether the probe can run as a user that is not root (to see a real permission error).
    static var canDropPrivileges: Bool { getuid() != 0 || setpriv != nil }

    /// The probe next to the test bundle (.build/<triple>/debug/coilnav-usbprobe).
    static var probe: String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("coilnav-usbprobe")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            dir = dir.deletingLastPathComponent()
        }
        return Paths.root.appendingPathComponent(".build/debug/coilnav-usbprobe").path
    }

    /// `umockdev-run -d DEVICE [-i /dev/bus/usb/001/002=IOCTL] -- coilnav-usbprobe ARGS`, with
    /// umockdev's ioctl-tree debug log on stderr.
    ///
    /// With `unprivilegedWithNodeMode000`, the fake device node is chmod 000 inside the testbed
    /// before the probe starts, and everything runs as uid/gid 65534 when the tests run as root.
    static func run(device: String, ioctl: String?, probe args: [String], unprivilegedWithNodeMode000: Bool = false) throws -> Run {
        var a = ["-d", device]
        if let ioctl { a += ["-i", "/dev/bus/usb/001/002=\(ioctl)"] }
        var command = [executable!] + a + ["--"]
        if unprivilegedWithNodeMode000 {
            command += ["/bin/sh", "-c", "chmod 000 \"$UMOCKDEV_DIR/dev/bus/usb/001/002\" && exec \"$0\" \"$@\""]
            if getuid() == 0, let setpriv { command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] + command }
        }
        command += [self.probe] + args
        return try self.spawn(command[0], Array(command.dropFirst()), environment: ["UMOCKDEV_DEBUG": "ioctl-tree"])
    }

    static func runProbe(_ args: [String]) throws -> Run { try self.spawn(self.probe, args, environment: [:]) }

    static func spawn(_ exe: String, _ args: [String], environment: [String: String]) throws -> Run {
        let r = try runProcess(
            URL(fileURLWithPath: exe), args, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        return Run(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }

    /// "type endpoint hex" of each URB umockdev completed (its "handling USBDEVFS_REAPURBNDELAY …
    /// -> match" debug lines), in order.
    static func completedURBs(_ log: String) -> [String] {
        log.split(separator: "\n").compactMap { line -> String? in
            guard let r = line.range(of: "handling USBDEVFS_REAPURBNDELAY "), line.contains("-> match") else { return nil }
            let f = line[r.upperBound...].split(separator: " ")
            // type endpoint status flags buffer_length actual_length error_count hex
            guard f.count >= 8 else { return nil }
            let hex = f[7] == "->" ? "" : String(f[7])
            return "\(f[0]) \(f[1]) \(hex.uppercased())"
        }
    }

    /// The same triple for every URB line of an ioctl record.
    static func recordedURBs(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line -> String? in
            let f = line.split(separator: " ")
            guard f.first == "USBDEVFS_REAPURBNDELAY", f.count >= 9 else { return nil }
            let hex = f.count > 9 ? String(f[9]) : ""
            return "\(f[2]) \(f[3]) \(hex.uppercased())"
        }
    }
}
