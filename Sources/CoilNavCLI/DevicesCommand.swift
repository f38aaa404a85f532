import ArgumentParser
import Foundation
import TrackerTransport

/// `coilnav devices`: which trackers libusb can see, matched against the device profiles.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the trackers connected over USB and whether CoilNav may open them.",
        discussion: """
            Lists USB devices through libusb and matches them against the device profiles in \
            Devices/ (NDI Host USB Converter 0403:da70, Spectra SCU 0403:da71, Aurora SCU 0403:da74). \
            Each matching device is opened once to check access. When access is denied, the message \
            names the udev rule Devices/udev/99-coilnav-ndi.rules and how to install it. Trackers on \
            TCP (Vega, port 8765) or on a serial port are not listed: use their URL directly.

            status in --json: "ready" (at least one tracker can be opened), "none" (no USB device \
            matches a profile), "access-denied" (a tracker is there but cannot be opened), \
            "error" (found but failed to open for another reason). The exit status is 0 in all \
            these cases; 1 when libusb or the profiles cannot be used at all.
            """
    )

    @Option(help: ArgumentHelp("Folder of device profiles (default: Devices/ of the CoilNav data folder).", valueName: "DIR"))
    var profiles: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    struct Output: Encodable {
        struct Tracker: Encodable {
            var profile: String
            var name: String
            var usbId: String
            var bus: Int
            var address: Int
            var portPath: String?
            var serialNumber: String?
            var product: String?
            var access: String
            var error: String?
            var url: String
        }
        var status: String
        var message: String
        var trackers: [Tracker]
        var usbDevicesSeen: Int
        var profilesLoaded: Int
        var udevRule: String?
        var installCommand: String?
    }

    func run() throws {
        let dir = try self.profiles ?? DataLocator.path("Devices")
        let loaded: [DeviceProfile]
        do {
            loaded = try DeviceProfiles.load(directory: dir)
        } catch {
            throw CLIError("device profiles: \(error)")
        }
        let report: USBScanReport
        do {
            report = try USBEnumerator.scan(profiles: loaded)
        } catch {
            throw CLIError("cannot list USB devices: \(error)")
        }
        let status: String
        if report.matches.contains(where: { $0.device.access == .ok }) {
            status = "ready"
        } else if report.matches.isEmpty {
            status = "none"
        } else if !report.accessDenied.isEmpty {
            status = "access-denied"
        } else {
            status = "error"
        }
        let denied = !report.accessDenied.isEmpty
        let trackers = report.matches.map { m in
            Output.Tracker(
                profile: m.profile.id, name: m.profile.name, usbId: m.device.usbID, bus: Int(m.device.bus),
                address: Int(m.device.address), portPath: m.device.portPath, serialNumber: m.device.serialNumber,
                product: m.device.product, access: m.device.access.rawValue, error: m.device.accessError,
                url: "ndi-usb://\(m.device.usbID)" + (m.device.serialNumber.map { "?serial=\($0)" } ?? ""))
        }
        if self.json {
            try JSONOutput.print(
                Output(
                    status: status, message: report.summary, trackers: trackers, usbDevicesSeen: report.devices.count,
                    profilesLoaded: loaded.count, udevRule: denied ? "Devices/udev/\(USBEnumerator.udevRuleFileName)" : nil,
                    installCommand: denied
                        ? "sudo cp Devices/udev/\(USBEnumerator.udevRuleFileName) /etc/udev/rules.d/ && sudo udevadm control --reload-rules && sudo udevadm trigger"
                        : nil))
        } else {
            print(report.summary)
            for t in trackers where t.access == "ok" { print("  use: --tracker \(t.url)") }
            if report.matches.isEmpty {
                print("(\(loaded.count) profiles from \(dir); a Vega on TCP is not listed here: use --tracker ndi-tcp://HOST:8765)")
            }
        }
    }
}
