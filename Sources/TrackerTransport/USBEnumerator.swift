import CLibUSB
import Foundation

/// One USB device as libusb sees it.
public struct USBDeviceInfo: Sendable, Hashable, Codable {
    /// Whether the current user may open the device.
    public enum Access: String, Sendable, Hashable, Codable {
        /// Opened successfully.
        case ok
        /// LIBUSB_ERROR_ACCESS: the udev rule is missing (or the user is not in its group).
        case denied
        /// Opening failed for another reason (see `accessError`).
        case failed
        /// Not tried (the device matches no profile, so it was left alone).
        case notChecked = "not-checked"
    }

    public var vendorId: UInt16
    public var productId: UInt16
    public var bus: UInt8
    public var address: UInt8
    /// The sysfs port path, e.g. `"1-1.4"` (nil for root hubs).
    public var portPath: String?
    /// bcdDevice (the FTDI chip type is derived from it).
    public var bcdDevice: UInt16
    /// Strings, when readable (from sysfs without opening, or from the device once opened).
    public var manufacturer: String?
    public var product: String?
    public var serialNumber: String?
    public var access: Access
    /// The error when `access` is `.denied` or `.failed`.
    public var accessError: String?

    /// `"0403:da70"`.
    public var usbID: String { String(format: "%04x:%04x", self.vendorId, self.productId) }
}

/// A device matched with its profile.
public struct USBMatch: Sendable, Hashable {
    public var device: USBDeviceInfo
    public var profile: DeviceProfile
}

/// The result of `USBEnumerator.scan`: trackers found, and whether any could not be opened.
public struct USBScanReport: Sendable, Hashable {
    /// Every USB device on the system (including hubs and unrelated devices).
    public var devices: [USBDeviceInfo]
    /// The devices that match a profile, with it.
    public var matches: [USBMatch]

    /// The matched devices the current user may not open.
    public var accessDenied: [USBMatch] { self.matches.filter { $0.device.access == .denied } }

    /// A summary for people: what was found, or that nothing was, or that access is denied and
    /// how to fix it.
    public var summary: String {
        if self.matches.isEmpty {
            return "no tracker found: none of the \(self.devices.count) USB device(s) matches a device profile"
        }
        var lines: [String] = []
        for m in self.matches {
            var s = "\(m.device.usbID) bus \(m.device.bus) address \(m.device.address): \(m.profile.name)"
            if let sn = m.device.serialNumber { s += ", serial \(sn)" }
            switch m.device.access {
            case .ok: s += " — ready"
            case .denied: s += " — access denied"
            case .failed: s += " — cannot open: \(m.device.accessError ?? "unknown error")"
            case .notChecked: break
            }
            lines.append(s)
        }
        if !self.accessDenied.isEmpty { lines.append(USBEnumerator.accessDeniedAdvice) }
        return lines.joined(separator: "\n")
    }
}

/// Lists USB devices through libusb and matches them against device profiles.
public enum USBEnumerator {
    /// The udev rule shipped in `Devices/udev/`.
    public static let udevRuleFileName = "99-coilnav-ndi.rules"

    /// What to tell a user whose tracker cannot be opened.
    public static let accessDeniedAdvice = """
        access denied: install the udev rule Devices/udev/\(udevRuleFileName) and re-plug the tracker:
          sudo cp Devices/udev/\(udevRuleFileName) /etc/udev/rules.d/ && sudo udevadm control --reload-rules && sudo udevadm trigger
        (then make sure your user is in the 'plugdev' group, or log in at the seat; see Devices/README.md)
        """

    /// Every USB device, with ids, bus and address, and strings when they can be read without
    /// opening the device (sysfs). Devices for which `shouldOpen` returns true are opened (and
    /// closed again) to check access and read missing strings.
    public static func list(shouldOpen: (UInt16, UInt16) -> Bool = { _, _ in false }) throws(TransportError) -> [USBDeviceInfo] {
        let ctx = try LibUSBContext()
        return try ctx.withDevices { devices throws(TransportError) in
            var out: [USBDeviceInfo] = []
            for dev in devices {
                let d = try deviceDescriptor(dev)
                var info = USBDeviceInfo(
                    vendorId: d.idVendor, productId: d.idProduct, bus: libusb_get_bus_number(dev),
                    address: libusb_get_device_address(dev), portPath: sysfsName(dev), bcdDevice: d.bcdDevice,
                    manufacturer: sysfsAttribute(dev, "manufacturer"), product: sysfsAttribute(dev, "product"),
                    serialNumber: sysfsAttribute(dev, "serial"), access: .notChecked, accessError: nil)
                if shouldOpen(d.idVendor, d.idProduct) {
                    var h: OpaquePointer?
                    let r = libusb_open(dev, &h)
                    if r == 0, let h {
                        info.access = .ok
                        if info.manufacturer == nil { info.manufacturer = stringDescriptor(h, index: d.iManufacturer) }
                        if info.product == nil { info.product = stringDescriptor(h, index: d.iProduct) }
                        if info.serialNumber == nil { info.serialNumber = stringDescriptor(h, index: d.iSerialNumber) }
                        libusb_close(h)
                    } else {
                        let e = libusbError(r, "opening \(info.usbID)")
                        info.access = r == LIBUSB_ERROR_ACCESS.rawValue ? .denied : .failed
                        info.accessError = e.description
                    }
                }
                out.append(info)
            }
            return out.sorted { ($0.bus, $0.address) < ($1.bus, $1.address) }
        }
    }

    /// Pairs devices with the profiles whose USB ids they carry.
    public static func match(_ devices: [USBDeviceInfo], profiles: [DeviceProfile]) -> [USBMatch] {
        devices.flatMap { d in
            DeviceProfiles.matching(profiles, vendorId: d.vendorId, productId: d.productId).map { USBMatch(device: d, profile: $0) }
        }
    }

    /// Lists the devices, opens those that match a profile (to check access), and matches them.
    public static func scan(profiles: [DeviceProfile]) throws(TransportError) -> USBScanReport {
        let devices = try self.list { v, p in profiles.contains { $0.matches(vendorId: v, productId: p) } }
        return USBScanReport(devices: devices, matches: self.match(devices, profiles: profiles))
    }
}
