import CLibUSB
import Foundation

/// An FTDI USB-serial chip driven directly through libusb-1.0 — the NDI Host USB Converter
/// (0403:DA70) and the NDI SCUs — without the kernel's ftdi_sio driver.
///
/// ### Opening
/// `open(_:)` finds the first device with the requested vendor and product id (and serial number,
/// if given), opens it, and claims interface 0. If the kernel's ftdi_sio driver is bound to the
/// interface (as it is on a stock Linux system, where the converter appears as /dev/ttyUSB0),
/// it is detached first and re-attached by `close()`, so /dev/ttyUSB0 comes back afterwards.
/// It then sends the set-up control transfers of `FTDI.setupSequence` (reset, purge RX and TX,
/// baud divisor, 8N1, flow control, latency timer 1 ms, DTR/RTS high).
///
/// ### Reading
/// Bulk-IN transfers of 4096 bytes (a multiple of the endpoint's max packet size, 64 at full
/// speed, 512 at high speed) with a per-transfer timeout of at most 50 ms; the two status bytes at
/// the start of every max-packet-size piece are removed (`FTDI.stripStatusBytes`). Payload beyond
/// `maxBytes` is kept for the next `read`. A chip with nothing to say still answers every latency
/// period with a bare status packet, which yields no payload.
///
/// ### Unplugging
/// LIBUSB_ERROR_NO_DEVICE or LIBUSB_ERROR_IO from any transfer throws `.disconnected`; the stream
/// is then dead (reads and writes keep throwing `.disconnected`) and should be closed.
///
/// ### Threading
/// See `ByteStream`. Reads are serialised with each other, writes with each other, control
/// requests with each other. `close()` marks the stream closed, waits for calls in flight (a read
/// returns within one transfer timeout: the chip's latency timer on real hardware, at most
/// 50 ms otherwise), then releases the interface, re-attaches the kernel driver if it was
/// detached, and closes the handle and the libusb context. This is the only type that holds a
/// libusb device handle.
public final class FTDIUSBStream: ByteStream {
    /// What to open and how.
    public struct Options: Sendable {
        public var vendorId: UInt16
        public var productId: UInt16
        /// Open only the device with this USB serial number string.
        public var serialNumber: String?
        /// Initial line parameters (default 9600 8N1, the NDI power-up setting).
        public var line: LineParameters
        /// 1…255 ms; the chip sends what it has after this long. NDI's kernel quirk uses 1 ms.
        public var latencyTimerMs: UInt8
        /// Detach ftdi_sio from interface 0 if it is bound (and re-attach it on close).
        public var detachKernelDriver: Bool
        /// Timeout of each write.
        public var writeTimeout: Duration

        public init(
            vendorId: UInt16 = 0x0403, productId: UInt16 = 0xDA70, serialNumber: String? = nil,
            line: LineParameters = .ndiDefault, latencyTimerMs: UInt8 = 1, detachKernelDriver: Bool = true,
            writeTimeout: Duration = .seconds(2)
        ) {
            self.vendorId = vendorId
            self.productId = productId
            self.serialNumber = serialNumber
            self.line = line
            self.latencyTimerMs = latencyTimerMs
            self.detachKernelDriver = detachKernelDriver
            self.writeTimeout = writeTimeout
        }
    }

    // Every mutable piece is behind a lock; the raw handle never changes and is released only
    // after `gate.waitIdle()`, when no call can be using it.
    private let context: LibUSBContext
    private nonisolated(unsafe) let handle: OpaquePointer
    private let gate = CallGate()
    private let readState = Locked<ReadState>(ReadState())
    private let writeLock = NSLock()
    private let controlLock = NSLock()
    private let lineState: Locked<LineParameters>
    private let dead = Locked<TransportError?>(nil)

    /// The chip family, from bcdDevice.
    public let chip: FTDI.Chip
    /// wMaxPacketSize of the bulk-IN endpoint (64 or 512).
    public let maxPacketSize: Int
    /// Bulk-IN and bulk-OUT endpoint addresses (0x81 and 0x02 on an FT232R).
    public let inEndpoint: UInt8
    public let outEndpoint: UInt8
    /// USB bus number and device address.
    public let bus: UInt8
    public let address: UInt8
    /// The serial number string, if the device has one and it could be read.
    public let serialNumber: String?
    /// Whether ftdi_sio was detached at open (and will be re-attached at close).
    public let detachedKernelDriver: Bool
    /// The control requests sent so far, in order (set-up, line changes, breaks, purges).
    public var controlTranscript: [FTDI.ControlRequest] { self.transcript.value }
    private let transcript = Locked<[FTDI.ControlRequest]>([])
    private let port: UInt16 = 1
    private let writeTimeout: Duration
    private static let interfaceNumber: Int32 = 0
    private static let readSize = 4096
    private static let maxChunkTimeout: Duration = .milliseconds(50)

    private struct ReadState {
        var pending: [UInt8] = []
    }

    private struct StatusState {
        var lastStatus: FTDI.Status?
        var lineErrorPackets = 0
    }

    /// Kept apart from `readState` (which a read holds while it waits) so these can be read at any time.
    private let statusState = Locked<StatusState>(StatusState())

    private init(
        context: LibUSBContext, handle: OpaquePointer, chip: FTDI.Chip, mps: Int, inEP: UInt8, outEP: UInt8,
        bus: UInt8, address: UInt8, serial: String?, detached: Bool, options: Options
    ) {
        self.context = context
        self.handle = handle
        self.chip = chip
        self.maxPacketSize = mps
        self.inEndpoint = inEP
        self.outEndpoint = outEP
        self.bus = bus
        self.address = address
        self.serialNumber = serial
        self.detachedKernelDriver = detached
        self.lineState = Locked(options.line)
        self.writeTimeout = options.writeTimeout
    }

    /// Finds, opens and sets up the device. Throws `.notFound` when no device matches (the message
    /// lists what was seen), `.permissionDenied` when the device cannot be opened (names the udev
    /// rule), `.busy` when another program holds the interface.
    public static func open(_ options: Options) throws(TransportError) -> FTDIUSBStream {
        let ctx = try LibUSBContext()
        let wanted = String(format: "%04x:%04x", options.vendorId, options.productId)
        var seenSerials: [String] = []
        var firstAccessError: TransportError?
        let found: (OpaquePointer, libusb_device_descriptor, String?)? = try ctx.withDevices { devices throws(TransportError) in
            for dev in devices {
                let d = try deviceDescriptor(dev)
                guard d.idVendor == options.vendorId, d.idProduct == options.productId else { continue }
                var h: OpaquePointer?
                let r = libusb_open(dev, &h)
                guard r == 0, let h else {
                    let e = libusbError(r, "opening USB device \(wanted) on bus \(libusb_get_bus_number(dev)) address \(libusb_get_device_address(dev))")
                    if firstAccessError == nil { firstAccessError = e }
                    continue
                }
                let serial = sysfsAttribute(dev, "serial") ?? stringDescriptor(h, index: d.iSerialNumber)
                if let want = options.serialNumber, want != serial {
                    seenSerials.append(serial ?? "(unreadable)")
                    libusb_close(h)
                    continue
                }
                libusb_ref_device(dev)
                return (h, d, serial)
            }
            return nil
        }
        guard let (handle, desc, serial) = found else {
            if let e = firstAccessError { throw e }
            if let s = options.serialNumber {
                throw TransportError(
                    .notFound,
                    "no USB device \(wanted) with serial number \(s)" + (seenSerials.isEmpty ? "" : " (found serial numbers: \(seenSerials.joined(separator: ", ")))"))
            }
            throw TransportError(.notFound, "no USB device \(wanted) is connected (run `coilnav devices`)")
        }
        let device = libusb_get_device(handle)!
        defer { libusb_unref_device(device) }
        var detached = false
        let inEP: UInt8, outEP: UInt8, mps: Int
        do throws(TransportError) {
            if options.detachKernelDriver, libusb_kernel_driver_active(handle, interfaceNumber) == 1 {
                let r = libusb_detach_kernel_driver(handle, interfaceNumber)
                guard r == 0 else { throw libusbError(r, "detaching the kernel driver (ftdi_sio) from \(wanted)") }
                detached = true
            }
            let r = libusb_claim_interface(handle, interfaceNumber)
            guard r == 0 else { throw libusbError(r, "claiming interface 0 of \(wanted)") }
            (inEP, outEP, mps) = endpoints(device)
        } catch {
            if detached { libusb_attach_kernel_driver(handle, interfaceNumber) }
            libusb_close(handle)
            throw error
        }
        let chip = FTDI.Chip(bcdDevice: desc.bcdDevice, hasSerialNumber: desc.iSerialNumber != 0)
        // From here on the stream owns the handle: `close()` releases everything.
        let stream = FTDIUSBStream(
            context: ctx, handle: handle, chip: chip, mps: mps, inEP: inEP, outEP: outEP,
            bus: libusb_get_bus_number(device), address: libusb_get_device_address(device),
            serial: serial, detached: detached, options: options)
        do throws(TransportError) {
            for req in try FTDI.setupSequence(options.line, chip: chip, port: stream.port, latencyTimerMs: options.latencyTimerMs) {
                try stream.control(req)
            }
        } catch {
            stream.close()
            throw error
        }
        return stream
    }

    /// Bulk endpoints and max packet size of interface 0 (falls back to 0x81/0x02/64).
    private static func endpoints(_ device: OpaquePointer) -> (UInt8, UInt8, Int) {
        var cfg: UnsafeMutablePointer<libusb_config_descriptor>?
        let r = libusb_get_active_config_descriptor(device, &cfg)
        guard r == 0, let cfg else { return (0x81, 0x02, 64) }
        defer { libusb_free_config_descriptor(cfg) }
        var inEP: UInt8 = 0x81, outEP: UInt8 = 0x02, mps = 64
        if cfg.pointee.bNumInterfaces > 0, let iface = cfg.pointee.interface, iface.pointee.num_altsetting > 0,
            let alt = iface.pointee.altsetting
        {
            for i in 0..<Int(alt.pointee.bNumEndpoints) {
                let ep = alt.pointee.endpoint[i]
                guard ep.bmAttributes & 0x03 == UInt8(LIBUSB_TRANSFER_TYPE_BULK.rawValue) else { continue }
                if ep.bEndpointAddress & 0x80 != 0 {
                    inEP = ep.bEndpointAddress
                    mps = Int(ep.wMaxPacketSize & 0x7FF)
                } else {
                    outEP = ep.bEndpointAddress
                }
            }
        }
        if mps <= 2 { mps = 64 }
        return (inEP, outEP, mps)
    }

    // MARK: ByteStream

    public func write(_ bytes: [UInt8]) throws(TransportError) {
        try self.gate.enter(self.description)
        defer { self.gate.leave() }
        try self.checkAlive()
        self.writeLock.lock()
        defer { self.writeLock.unlock() }
        var offset = 0
        while offset < bytes.count {
            let n = min(bytes.count - offset, Self.readSize)
            var chunk = Array(bytes[offset..<(offset + n)])
            var sent: Int32 = 0
            let r = libusb_bulk_transfer(self.handle, self.outEndpoint, &chunk, Int32(n), &sent, UInt32(milliseconds(self.writeTimeout)))
            if r != 0 && !(r == LIBUSB_ERROR_TIMEOUT.rawValue && sent == n) {
                if r == LIBUSB_ERROR_TIMEOUT.rawValue {
                    throw TransportError(.timeout, "\(self.description): wrote \(offset + Int(sent)) of \(bytes.count) bytes before the timeout", underlying: "LIBUSB_ERROR_TIMEOUT")
                }
                throw self.fail(libusbError(r, "\(self.description): bulk OUT"))
            }
            offset += Int(sent)
        }
    }

    public func read(maxBytes: Int, timeout: Duration) throws(TransportError) -> [UInt8] {
        guard maxBytes > 0 else { throw TransportError(.invalidArgument, "maxBytes must be positive, got \(maxBytes)") }
        try self.gate.enter(self.description)
        defer { self.gate.leave() }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: max(timeout, .zero))
        return try self.readState.withLock { state throws(TransportError) -> [UInt8] in
            if !state.pending.isEmpty { return Self.take(&state.pending, maxBytes) }
            try self.checkAlive()
            var buffer = [UInt8](repeating: 0, count: Self.readSize)
            while true {
                if self.gate.isClosed { throw TransportError(.closed, "\(self.description) was closed") }
                let left = clock.now.duration(to: deadline)
                let chunk = max(.milliseconds(1), min(left, Self.maxChunkTimeout))
                var got: Int32 = 0
                let r = libusb_bulk_transfer(self.handle, self.inEndpoint, &buffer, Int32(Self.readSize), &got, UInt32(milliseconds(chunk)))
                guard r == 0 || r == LIBUSB_ERROR_TIMEOUT.rawValue else {
                    throw self.fail(libusbError(r, "\(self.description): bulk IN"))
                }
                if got > 0 {
                    let s = FTDI.stripStatusBytes(Array(buffer[0..<Int(got)]), maxPacketSize: self.maxPacketSize)
                    self.statusState.withLock { status in
                        if let st = s.lastStatus { status.lastStatus = st }
                        status.lineErrorPackets += s.packetsWithLineErrors
                    }
                    if !s.payload.isEmpty {
                        state.pending += s.payload
                        return Self.take(&state.pending, maxBytes)
                    }
                }
                if clock.now >= deadline { return [] }
            }
        }
    }

    /// The modem and line status of the last bulk-IN packet, if any was received.
    public var lastStatus: FTDI.Status? { self.statusState.value.lastStatus }

    /// How many received packets flagged overrun, parity, framing or FIFO errors.
    public var lineErrorPackets: Int { self.statusState.value.lineErrorPackets }

    public func setLineParameters(_ parameters: LineParameters) throws(TransportError) {
        try parameters.validate()
        let d = try FTDI.baudDivisor(baud: parameters.baud, chip: self.chip, port: self.port)
        try self.control(FTDI.baudRequest(d, parameters.baud))
        try self.control(FTDI.dataRequest(parameters, breakOn: false, port: self.port))
        let flow: FTDI.FlowControl = parameters.rtsCts ? .rtsCts : .none
        try self.control(
            FTDI.ControlRequest(request: FTDI.Request.flowControl.rawValue, value: 0, index: flow.rawValue | self.port, purpose: "flow control \(parameters.rtsCts ? "RTS/CTS" : "none")"))
        self.lineState.value = parameters
    }

    /// The line parameters last set.
    public var lineParameters: LineParameters { self.lineState.value }

    /// SET_DATA with the break bit, sleep `duration` (ndicapi's break lasts 0.25–0.5 s), SET_DATA
    /// without it.
    public func sendBreak(duration: Duration) throws(TransportError) {
        let line = self.lineState.value
        try self.control(FTDI.dataRequest(line, breakOn: true, port: self.port))
        Thread.sleep(forTimeInterval: max(0, seconds(duration)))
        try self.control(FTDI.dataRequest(line, breakOn: false, port: self.port))
    }

    /// Purges the chip's RX and TX buffers and drops payload already received but not read (waits
    /// for a read in progress on another thread to return first).
    public func purge() throws(TransportError) {
        try self.control(FTDI.ControlRequest(request: FTDI.Request.reset.rawValue, value: FTDI.ResetValue.purgeRX.rawValue, index: self.port, purpose: "purge RX"))
        try self.control(FTDI.ControlRequest(request: FTDI.Request.reset.rawValue, value: FTDI.ResetValue.purgeTX.rawValue, index: self.port, purpose: "purge TX"))
        self.readState.withLock { $0.pending.removeAll() }
    }

    public func close() {
        guard self.gate.beginClose() else { return }
        self.gate.waitIdle()
        libusb_release_interface(self.handle, Self.interfaceNumber)
        if self.detachedKernelDriver { libusb_attach_kernel_driver(self.handle, Self.interfaceNumber) }
        libusb_close(self.handle)
    }

    deinit {
        self.close()
    }

    public var hasSerialLine: Bool { true }

    public var description: String {
        String(format: "ftdi-usb://bus %d address %d", self.bus, self.address) + (self.serialNumber.map { " serial \($0)" } ?? "")
    }

    // MARK: Helpers

    /// Sends one vendor control request (no data stage) and records it in `controlTranscript`.
    func control(_ req: FTDI.ControlRequest) throws(TransportError) {
        try self.gate.enter(self.description)
        defer { self.gate.leave() }
        try self.checkAlive()
        self.controlLock.lock()
        defer { self.controlLock.unlock() }
        let r = libusb_control_transfer(self.handle, req.requestType, req.request, req.value, req.index, nil, 0, 1000)
        guard r >= 0 else { throw self.fail(libusbError(r, "\(self.description): control request \(req)")) }
        self.transcript.withLock { $0.append(req) }
    }

    private func checkAlive() throws(TransportError) {
        if let e = self.dead.value { throw e }
    }

    /// Remembers a `.disconnected` error so later calls fail the same way without touching libusb.
    private func fail(_ e: TransportError) -> TransportError {
        if e.code == .disconnected { self.dead.value = e }
        return e
    }

    private static func take(_ pending: inout [UInt8], _ n: Int) -> [UInt8] {
        if pending.count <= n {
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        let out = Array(pending[0..<n])
        pending.removeFirst(n)
        return out
    }
}

/// A sysfs attribute of a USB device (`/sys/bus/usb/devices/<port path>/<name>`), trimmed; nil
/// when unreadable or not on Linux. Lets enumeration show strings without opening the device.
func sysfsAttribute(_ device: OpaquePointer, _ name: String) -> String? {
    #if os(Linux)
    guard let dir = sysfsName(device) else { return nil }
    guard let data = FileManager.default.contents(atPath: "/sys/bus/usb/devices/\(dir)/\(name)") else { return nil }
    let s = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    return s.isEmpty ? nil : s
    #else
    return nil
    #endif
}
