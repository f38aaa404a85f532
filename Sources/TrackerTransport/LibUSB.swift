import CLibUSB
import Foundation

// The only file besides FTDIUSBStream.swift and USBEnumerator.swift that touches libusb; none of
// these types is public, so no other module sees CLibUSB.

/// Turns a libusb return code into a `TransportError`: the one place libusb errors are mapped.
///
/// NO_DEVICE (unplugged) and IO (the transfer failed at the bus, as when a cable is pulled mid
/// transfer) become `.disconnected`; ACCESS `.permissionDenied` (the message names the udev rule);
/// NOT_FOUND `.notFound`; BUSY `.busy`; TIMEOUT `.timeout`; NOT_SUPPORTED `.unsupported`;
/// INVALID_PARAM `.invalidArgument`; everything else (PIPE, OVERFLOW, NO_MEM, INTERRUPTED, OTHER)
/// `.io`. `underlying` is libusb's own name, e.g. `"LIBUSB_ERROR_NO_DEVICE"`.
func libusbError(_ code: Int32, _ what: String) -> TransportError {
    let name = String(cString: libusb_error_name(code))
    switch code {
    case LIBUSB_ERROR_NO_DEVICE.rawValue:
        return TransportError(.disconnected, "\(what): the USB device is gone (unplugged?)", underlying: name)
    case LIBUSB_ERROR_IO.rawValue:
        return TransportError(.disconnected, "\(what): USB input/output error (device unplugged or reset?)", underlying: name)
    case LIBUSB_ERROR_ACCESS.rawValue:
        return TransportError(
            .permissionDenied,
            "\(what): access denied — install Devices/udev/\(USBEnumerator.udevRuleFileName) (see Devices/README.md) or run as root",
            underlying: name)
    case LIBUSB_ERROR_NOT_FOUND.rawValue:
        return TransportError(.notFound, "\(what): not found", underlying: name)
    case LIBUSB_ERROR_BUSY.rawValue:
        return TransportError(.busy, "\(what): the device or interface is in use by another program", underlying: name)
    case LIBUSB_ERROR_TIMEOUT.rawValue:
        return TransportError(.timeout, "\(what): timed out", underlying: name)
    case LIBUSB_ERROR_NOT_SUPPORTED.rawValue:
        return TransportError(.unsupported, "\(what): not supported by libusb on this platform", underlying: name)
    case LIBUSB_ERROR_INVALID_PARAM.rawValue:
        return TransportError(.invalidArgument, "\(what): invalid parameter", underlying: name)
    default:
        return TransportError(.io, "\(what) failed", underlying: name)
    }
}

/// An owned libusb context (`libusb_init` … `libusb_exit`). Each stream and each enumeration has
/// its own, so they can be created and torn down independently.
final class LibUSBContext: @unchecked Sendable {
    // @unchecked: libusb contexts are thread-safe; the pointer never changes after init.
    let pointer: OpaquePointer

    init() throws(TransportError) {
        var ctx: OpaquePointer?
        let r = libusb_init(&ctx)
        guard r == 0, let ctx else { throw libusbError(r, "libusb_init") }
        self.pointer = ctx
        if let level = ProcessInfo.processInfo.environment["COILNAV_LIBUSB_LOG_LEVEL"].flatMap(Int32.init) {
            _ = coilnav_libusb_set_option_int(ctx, LIBUSB_OPTION_LOG_LEVEL, level)
        }
    }

    deinit {
        libusb_exit(self.pointer)
    }

    /// Calls `body` with the current device list (freed afterwards, devices unreferenced).
    func withDevices<T>(_ body: ([OpaquePointer]) throws(TransportError) -> T) throws(TransportError) -> T {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let n = libusb_get_device_list(self.pointer, &list)
        guard n >= 0, let list else { throw libusbError(Int32(n), "listing USB devices") }
        defer { libusb_free_device_list(list, 1) }
        var devices: [OpaquePointer] = []
        for i in 0..<Int(n) { if let d = list[i] { devices.append(d) } }
        return try body(devices)
    }
}

/// The device descriptor of `device` (read from the cached copy; no I/O on Linux).
func deviceDescriptor(_ device: OpaquePointer) throws(TransportError) -> libusb_device_descriptor {
    var d = libusb_device_descriptor()
    let r = libusb_get_device_descriptor(device, &d)
    guard r == 0 else { throw libusbError(r, "reading a USB device descriptor") }
    return d
}

/// An ASCII string descriptor, or nil when the index is 0 or the read fails.
func stringDescriptor(_ handle: OpaquePointer, index: UInt8) -> String? {
    guard index != 0 else { return nil }
    var buf = [UInt8](repeating: 0, count: 256)
    let n = libusb_get_string_descriptor_ascii(handle, index, &buf, Int32(buf.count))
    guard n >= 0 else { return nil }
    return String(decoding: buf[0..<Int(n)], as: UTF8.self)
}

/// "1-1.4": the sysfs name of the device's port path (bus-port.port…), or nil for root hubs.
func sysfsName(_ device: OpaquePointer) -> String? {
    var ports = [UInt8](repeating: 0, count: 8)
    let n = libusb_get_port_numbers(device, &ports, Int32(ports.count))
    guard n > 0 else { return nil }
    let bus = libusb_get_bus_number(device)
    return "\(bus)-" + ports[0..<Int(n)].map(String.init).joined(separator: ".")
}
