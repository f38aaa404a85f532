/// The FTDI USB-serial protocol as pure values and functions (no I/O): chip types, vendor control
/// requests, the baud-rate divisor, the data-characteristics word, and the removal of the two
/// status bytes that start every bulk-IN packet. `FTDIUSBStream` sends what these compute.
///
/// Sources: libftdi `ftdi.c`, pyftdi `ftdi.py` and the Linux ftdi_sio driver, as summarised in
/// shared/reference/protocols.md §2.
public enum FTDI {
    /// The FTDI chip family, from the device descriptor's bcdDevice.
    public enum Chip: String, Sendable, Hashable {
        /// FT8U232AM (bcdDevice 0x200 with a serial number).
        case am
        /// FT232BM / FT245BM (0x400, or 0x200 without a serial number).
        case bm
        /// FT2232C/D (0x500).
        case ft2232c
        /// FT232R / FT245R (0x600) — the NDI Host USB Converter.
        case r
        /// FT2232H (0x700), FT4232H (0x800), FT232H (0x900): 12 MHz high-speed baud clock.
        case ft2232h, ft4232h, ft232h
        /// Anything else; treated like the R/BM family.
        case unknown

        /// Chip type from bcdDevice, as libftdi decides it.
        public init(bcdDevice: UInt16, hasSerialNumber: Bool = true) {
            switch bcdDevice {
            case 0x400: self = .bm
            case 0x200: self = hasSerialNumber ? .am : .bm
            case 0x500: self = .ft2232c
            case 0x600: self = .r
            case 0x700: self = .ft2232h
            case 0x800: self = .ft4232h
            case 0x900: self = .ft232h
            default: self = .unknown
            }
        }

        /// H-series chips take a different baud encoding (12 MHz reference, wIndex carries bits).
        public var isHSeries: Bool { self == .ft2232h || self == .ft4232h || self == .ft232h }
    }

    /// bmRequestType of FTDI vendor requests: vendor, device recipient, host to device.
    public static let requestTypeOut: UInt8 = 0x40
    /// bmRequestType of FTDI vendor requests: vendor, device recipient, device to host.
    public static let requestTypeIn: UInt8 = 0xC0

    /// FTDI vendor request numbers (bRequest).
    public enum Request: UInt8, Sendable {
        case reset = 0x00
        case modemControl = 0x01
        case flowControl = 0x02
        case baudRate = 0x03
        case dataCharacteristics = 0x04
        case pollModemStatus = 0x05
        case latencyTimer = 0x09
        case getLatencyTimer = 0x0A
        case bitMode = 0x0B
    }

    /// wValue of `Request.reset`.
    public enum ResetValue: UInt16, Sendable {
        case sio = 0
        case purgeRX = 1
        case purgeTX = 2
    }

    /// Flow-control modes, in the high byte of wIndex of `Request.flowControl`.
    public enum FlowControl: UInt16, Sendable {
        case none = 0x0000
        case rtsCts = 0x0100
        case dtrDsr = 0x0200
        case xonXoff = 0x0400
    }

    /// One vendor control transfer with no data stage (all of the set-up is OUT with wLength 0).
    public struct ControlRequest: Sendable, Hashable, CustomStringConvertible {
        public var requestType: UInt8
        public var request: UInt8
        public var value: UInt16
        public var index: UInt16
        /// What the request does, for logs and the probe.
        public var purpose: String

        public init(requestType: UInt8 = FTDI.requestTypeOut, request: UInt8, value: UInt16, index: UInt16, purpose: String) {
            self.requestType = requestType
            self.request = request
            self.value = value
            self.index = index
            self.purpose = purpose
        }

        /// The 8-byte USB SETUP packet (wLength 0), little-endian as on the wire.
        public var setupPacket: [UInt8] {
            [
                self.requestType, self.request, UInt8(self.value & 0xFF), UInt8(self.value >> 8),
                UInt8(self.index & 0xFF), UInt8(self.index >> 8), 0, 0,
            ]
        }

        /// E.g. `"40 03 001A 0000 set baud rate 115200 (actual 115385)"`.
        public var description: String {
            func hex(_ v: some BinaryInteger, _ w: Int) -> String {
                let s = String(v, radix: 16, uppercase: true)
                return String(repeating: "0", count: max(0, w - s.count)) + s
            }
            return "\(hex(self.requestType, 2)) \(hex(self.request, 2)) \(hex(self.value, 4)) \(hex(self.index, 4)) \(self.purpose)"
        }
    }

    /// The result of the baud-rate computation: the two 16-bit fields of the SET_BAUD_RATE request
    /// and the rate the chip will really run at.
    public struct BaudDivisor: Sendable, Hashable {
        /// wValue: the low 16 bits of the encoded divisor.
        public var value: UInt16
        /// wIndex: for R/BM chips the high bits of the divisor (no port number); for H-series chips
        /// `((divisor >> 8) & 0xFF00) | port`.
        public var index: UInt16
        /// The rate the chip produces with this divisor, in baud (rounded to the nearest integer).
        public var actualBaud: Int
    }

    private static let fractionCode: [UInt32] = [0, 3, 2, 4, 1, 5, 6, 7]

    /// The SET_BAUD_RATE divisor for `baud`.
    ///
    /// R/BM (and AM, 2232C, unknown): 3 MHz reference, `div8 = round(24 MHz / baud)`,
    /// `enc = (div8 >> 3) | FRAC[div8 & 7] << 14`; `enc == 1` becomes 0 (3 Mbaud) and
    /// `enc == 0x4001` becomes 1 (2 Mbaud). H series at ≥ 1200 baud: 12 MHz reference,
    /// `div8 = round(96 MHz / baud)`, and bit 17 set. `port` (1 for interface A) goes into wIndex
    /// only on H-series chips.
    ///
    /// Throws `.invalidArgument` for rates the chip cannot make (≤ 0, above 3 Mbaud on R/BM or
    /// 12 Mbaud on H, or a divisor beyond 14 bits).
    public static func baudDivisor(baud: Int, chip: Chip = .r, port: UInt16 = 1) throws(TransportError) -> BaudDivisor {
        guard baud > 0 else { throw TransportError(.invalidArgument, "baud rate must be positive, got \(baud)") }
        let hs = chip.isHSeries && baud >= 1200
        let clock8: Int = hs ? 96_000_000 : 24_000_000
        let maxBaud = hs ? 12_000_000 : 3_000_000
        guard baud <= maxBaud + maxBaud / 33 else {
            throw TransportError(.invalidArgument, "\(baud) baud is faster than this FTDI chip can go (\(maxBaud))")
        }
        var div8 = (clock8 + baud / 2) / baud
        if div8 < 8 { div8 = 8 }
        guard div8 >> 3 <= 0x3FFF else {
            throw TransportError(.invalidArgument, "\(baud) baud is slower than an FTDI divisor can make")
        }
        var enc = UInt32(div8 >> 3) | fractionCode[div8 & 7] << 14
        if enc == 1 {
            enc = 0
        } else if enc == 0x4001 {
            enc = 1
        }
        if hs { enc |= 0x20000 }
        let actual = Int((Double(clock8) / Double(div8)).rounded())
        let value = UInt16(enc & 0xFFFF)
        let index: UInt16 = chip.isHSeries ? UInt16((enc >> 8) & 0xFF00) | port : UInt16(enc >> 16)
        return BaudDivisor(value: value, index: index, actualBaud: actual)
    }

    /// The wValue of SET_DATA: data bits | parity << 8 | stop bits << 11 | break << 14 (parity 0 N,
    /// 1 O, 2 E; stop 0 = 1 bit, 2 = 2 bits). 8N1 is 0x0008; 8N1 with break on is 0x4008.
    public static func dataCharacteristics(dataBits: Int = 8, parity: Parity = .none, stopBits: Int = 1, breakOn: Bool = false) -> UInt16 {
        var v = UInt16(dataBits & 0xFF)
        switch parity {
        case .none: break
        case .odd: v |= 1 << 8
        case .even: v |= 2 << 8
        }
        if stopBits == 2 { v |= 2 << 11 }
        if breakOn { v |= 1 << 14 }
        return v
    }

    /// The set-up sequence `FTDIUSBStream` sends after claiming the interface, in order: reset SIO,
    /// purge RX, purge TX, baud rate, data characteristics (no break), flow control, latency timer,
    /// DTR and RTS high (as Linux does when a tty is opened).
    public static func setupSequence(
        _ line: LineParameters, chip: Chip = .r, port: UInt16 = 1, latencyTimerMs: UInt8 = 1
    ) throws(TransportError) -> [ControlRequest] {
        try line.validate()
        guard latencyTimerMs >= 1 else { throw TransportError(.invalidArgument, "the latency timer must be 1…255 ms") }
        let d = try baudDivisor(baud: line.baud, chip: chip, port: port)
        let flow: FlowControl = line.rtsCts ? .rtsCts : .none
        return [
            ControlRequest(request: Request.reset.rawValue, value: ResetValue.sio.rawValue, index: port, purpose: "reset SIO"),
            ControlRequest(request: Request.reset.rawValue, value: ResetValue.purgeRX.rawValue, index: port, purpose: "purge RX"),
            ControlRequest(request: Request.reset.rawValue, value: ResetValue.purgeTX.rawValue, index: port, purpose: "purge TX"),
            baudRequest(d, line.baud),
            dataRequest(line, breakOn: false, port: port),
            ControlRequest(request: Request.flowControl.rawValue, value: 0, index: flow.rawValue | port, purpose: "flow control \(line.rtsCts ? "RTS/CTS" : "none")"),
            ControlRequest(request: Request.latencyTimer.rawValue, value: UInt16(latencyTimerMs), index: port, purpose: "latency timer \(latencyTimerMs) ms"),
            ControlRequest(request: Request.modemControl.rawValue, value: 0x0303, index: port, purpose: "DTR and RTS high"),
        ]
    }

    static func baudRequest(_ d: BaudDivisor, _ baud: Int) -> ControlRequest {
        ControlRequest(request: Request.baudRate.rawValue, value: d.value, index: d.index, purpose: "baud rate \(baud) (actual \(d.actualBaud))")
    }

    static func dataRequest(_ line: LineParameters, breakOn: Bool, port: UInt16) -> ControlRequest {
        let v = dataCharacteristics(dataBits: line.dataBits, parity: line.parity, stopBits: line.stopBits, breakOn: breakOn)
        return ControlRequest(request: Request.dataCharacteristics.rawValue, value: v, index: port, purpose: "data \(line.dataBits)\(line.parity == .none ? "N" : line.parity == .odd ? "O" : "E")\(line.stopBits)\(breakOn ? " break on" : "")")
    }

    /// The two status bytes at the start of an FTDI bulk-IN packet.
    public struct Status: Sendable, Hashable {
        /// Byte 0: 0x10 CTS, 0x20 DSR, 0x40 RI, 0x80 DCD (bits 0–3 reserved).
        public var modem: UInt8
        /// Byte 1: 0x01 data ready, 0x02 overrun, 0x04 parity error, 0x08 framing error,
        /// 0x10 break, 0x20 THRE, 0x40 TEMT, 0x80 RX FIFO error.
        public var line: UInt8

        /// Overrun, parity, framing or FIFO error (line & 0x8E), as pyftdi flags them.
        public var hasLineError: Bool { self.line & 0x8E != 0 }
    }

    /// The result of stripping a bulk-IN transfer.
    public struct StrippedTransfer: Sendable, Hashable {
        /// The serial payload, status bytes removed.
        public var payload: [UInt8]
        /// The status of the last packet seen, if any packet had its two status bytes.
        public var lastStatus: Status?
        /// How many packets carried a line error (overrun, parity, framing, FIFO).
        public var packetsWithLineErrors: Int
    }

    /// Splits a bulk-IN transfer of `transfer.count` bytes at every `maxPacketSize` boundary and
    /// drops the first two bytes (modem and line status) of each piece. A piece of two bytes or
    /// fewer carries no payload (the chip sends a bare status packet every latency period).
    public static func stripStatusBytes(_ transfer: [UInt8], maxPacketSize: Int) -> StrippedTransfer {
        precondition(maxPacketSize > 2, "an FTDI max packet size is 64 or 512")
        var payload: [UInt8] = []
        payload.reserveCapacity(transfer.count)
        var last: Status?
        var errors = 0
        var i = 0
        while i < transfer.count {
            let end = min(i + maxPacketSize, transfer.count)
            if end - i >= 2 {
                let s = Status(modem: transfer[i], line: transfer[i + 1])
                if s.hasLineError { errors += 1 }
                last = s
            }
            if end - i > 2 { payload += transfer[(i + 2)..<end] }
            i += maxPacketSize
        }
        return StrippedTransfer(payload: payload, lastStatus: last, packetsWithLineErrors: errors)
    }
}
