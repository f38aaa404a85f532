import Geometry

/// TX ASCII replies (`protocols.md` §1.5; `ndiTXHelper` in ndicapi for option 0x1000).
///
/// ```
/// NN                                handle count (2 hex)
/// per handle:
///   hh                              handle (2 hex)
///   UNOCCUPIED                      nothing else for this handle (an LF after it is accepted)
///   or, with option 0x0001:
///     MISSING | DISABLED | transform, 51 characters:
///       q0 qx qy qz   4 × ±NNNNN    × 0.0001
///       tx ty tz      3 × ±NNNNNN   × 0.01 mm
///       rms error     1 × ±NNNNN    × 0.0001 mm
///     port status (8 hex), frame number (8 hex)
///   LF
/// 0x1000: passive strays: count n (2 hex), ⌈n/4⌉ hex out-of-volume digits, n × (x y z: ±NNNNNN × 0.01 mm)
/// system status (4 hex)
/// CRC (4 hex), CR
/// ```
///
/// Only options that include 0x0001 are handled. Options 0x0002 and 0x0004 add per-handle text
/// before the LF whose layout the reference does not give: the parser skips it (as ndicapi
/// does), the encoder refuses those options.
extension NDITrackingReply {
    /// Parses a TX reply framed by `NDIReplyFramer` (CRC already checked), for the reply option
    /// the TX command carried (`nil`: none was sent, which means 0x0001).
    public static func parseTX(_ frame: NDIReplyFrame, option: NDIReplyOption?) throws(NDIReplyError)
        -> NDITrackingReply
    {
        guard frame.kind == .ascii else {
            throw NDIReplyError(
                .unexpectedReply,
                replyName: "TX",
                replyStreamOffset: frame.streamOffset,
                offsetInReply: 0,
                "expected an ASCII reply, got a binary one"
            )
        }
        let option = option ?? .transformsAndStatus
        guard option.contains(.transformsAndStatus) else {
            throw NDIReplyError(
                .unexpectedReply,
                replyName: "TX",
                replyStreamOffset: frame.streamOffset,
                offsetInReply: 0,
                "TX replies are parsed only for options with 0x0001 (transforms and status), not \(option)"
            )
        }
        var reader = TextReader(frame: frame, replyName: "TX")
        let count = try reader.hex(2, "handle count")
        var handles: [NDIHandleReport] = []
        for index in 0..<Int(count) {
            let handle = UInt8(try reader.hex(2, "handle \(index + 1) of \(count)"))
            let label = "handle \(Hex.display(UInt64(handle), digits: 2))"
            if reader.skip("UNOCCUPIED") {
                _ = reader.skip("\n")
                handles.append(NDIHandleReport(handle: handle, status: .unoccupied))
                continue
            }
            var report = NDIHandleReport(handle: handle, status: .valid)
            if reader.skip("MISSING") {
                report.status = .missing
            } else if reader.skip("DISABLED") {
                report.status = .disabled
            } else {
                let q0 = try reader.fixed(5, scale: 10_000, "\(label) q0")
                let qx = try reader.fixed(5, scale: 10_000, "\(label) qx")
                let qy = try reader.fixed(5, scale: 10_000, "\(label) qy")
                let qz = try reader.fixed(5, scale: 10_000, "\(label) qz")
                let tx = try reader.fixed(6, scale: 100, "\(label) tx")
                let ty = try reader.fixed(6, scale: 100, "\(label) ty")
                let tz = try reader.fixed(6, scale: 100, "\(label) tz")
                let rms = try reader.fixed(5, scale: 10_000, "\(label) RMS error")
                report.transform = NDITransform(
                    rotation: Quaternion(q0: q0, qx: qx, qy: qy, qz: qz),
                    translation: Vector3(tx, ty, tz),
                    rmsError: rms
                )
            }
            report.portStatus = NDIPortStatus(rawValue: UInt32(try reader.hex(8, "\(label) port status")))
            report.frameNumber = UInt32(try reader.hex(8, "\(label) frame number"))
            if !option.isDisjoint(with: [.toolAndMarkerInfo, .activeStray, .markerPositions]) {
                reader.skipToLineFeed()
            }
            try reader.expect("\n", "the LF ending \(label)")
            handles.append(report)
        }
        var strays: NDIMarkerSet?
        if option.contains(.passiveStrays) {
            let n = Int(try reader.hex(2, "passive stray count"))
            var outOfVolume: [UInt8] = []
            for i in 0..<((n + 3) / 4) {
                outOfVolume.append(UInt8(try reader.hex(1, "passive stray out-of-volume digit \(i)")))
            }
            var positions: [Vector3] = []
            for i in 0..<n {
                let x = try reader.fixed(6, scale: 100, "passive stray \(i) x")
                let y = try reader.fixed(6, scale: 100, "passive stray \(i) y")
                let z = try reader.fixed(6, scale: 100, "passive stray \(i) z")
                positions.append(Vector3(x, y, z))
            }
            strays = NDIMarkerSet(outOfVolume: outOfVolume, positions: positions)
        }
        let systemStatus = UInt16(try reader.hex(4, "system status"))
        try reader.expectEnd()
        return NDITrackingReply(
            handles: handles,
            systemStatus: NDISystemStatus(rawValue: systemStatus),
            passiveStrays: strays
        )
    }

    /// The TX reply bytes for this data and reply option (`nil`: 0x0001), CRC and CR included,
    /// as a tracker sends them. Values are rounded to the fixed-point steps (0.0001 for the
    /// quaternion and RMS error, 0.01 mm for translations).
    ///
    /// Throws for options 0x0002, 0x0004 and 0x0008 (layout not documented), a value outside its
    /// field (|q| or RMS ≥ 10, |t| ≥ 10000 mm, or not finite), a missing required field, more than
    /// 255 handles or stray markers, or out-of-volume digits that do not fit.
    public func encodeTX(option: NDIReplyOption?) throws(NDIEncodingError) -> [UInt8] {
        let option = option ?? .transformsAndStatus
        let unsupported = option.intersection([.toolAndMarkerInfo, .activeStray, .markerPositions])
        guard unsupported.isEmpty else {
            throw NDIEncodingError(replyName: "TX", "option bits \(unsupported) have no documented TX layout")
        }
        guard option.contains(.transformsAndStatus) else {
            throw NDIEncodingError(
                replyName: "TX",
                "only options with 0x0001 (transforms and status) are supported, not \(option)"
            )
        }
        guard self.handles.count <= 255 else {
            throw NDIEncodingError(replyName: "TX", "\(self.handles.count) handles, at most 255 fit")
        }
        var out: [UInt8] = []
        Hex.append(UInt64(self.handles.count), digits: 2, to: &out)
        for report in self.handles {
            let label = "handle \(Hex.display(UInt64(report.handle), digits: 2))"
            Hex.append(UInt64(report.handle), digits: 2, to: &out)
            if report.status == .unoccupied {
                out.append(contentsOf: "UNOCCUPIED".utf8)
                continue
            }
            switch report.status {
            case .missing:
                out.append(contentsOf: "MISSING".utf8)
            case .disabled:
                out.append(contentsOf: "DISABLED".utf8)
            case .valid, .unoccupied:
                guard let t = report.transform else {
                    throw NDIEncodingError(replyName: "TX", "\(label) is valid but has no transform")
                }
                try Self.appendFixed(t.rotation.q0, digits: 5, scale: 10_000, "\(label) q0", to: &out)
                try Self.appendFixed(t.rotation.qx, digits: 5, scale: 10_000, "\(label) qx", to: &out)
                try Self.appendFixed(t.rotation.qy, digits: 5, scale: 10_000, "\(label) qy", to: &out)
                try Self.appendFixed(t.rotation.qz, digits: 5, scale: 10_000, "\(label) qz", to: &out)
                try Self.appendFixed(t.translation.x, digits: 6, scale: 100, "\(label) tx", to: &out)
                try Self.appendFixed(t.translation.y, digits: 6, scale: 100, "\(label) ty", to: &out)
                try Self.appendFixed(t.translation.z, digits: 6, scale: 100, "\(label) tz", to: &out)
                try Self.appendFixed(t.rmsError, digits: 5, scale: 10_000, "\(label) RMS error", to: &out)
            }
            guard let portStatus = report.portStatus, let frame = report.frameNumber else {
                throw NDIEncodingError(
                    replyName: "TX",
                    "\(label) needs a port status and a frame number for option 0x0001"
                )
            }
            Hex.append(UInt64(portStatus.rawValue), digits: 8, to: &out)
            Hex.append(UInt64(frame), digits: 8, to: &out)
            out.append(0x0A)
        }
        if option.contains(.passiveStrays) {
            guard let strays = self.passiveStrays else {
                throw NDIEncodingError(replyName: "TX", "option 0x1000 needs passive strays")
            }
            let n = strays.positions.count
            guard n <= 255 else {
                throw NDIEncodingError(replyName: "TX", "\(n) passive strays, at most 255 fit")
            }
            guard strays.outOfVolume.count == (n + 3) / 4, strays.outOfVolume.allSatisfy({ $0 <= 0xF }) else {
                throw NDIEncodingError(
                    replyName: "TX",
                    "\(n) passive strays need \((n + 3) / 4) out-of-volume hex digit values (0–15)"
                )
            }
            Hex.append(UInt64(n), digits: 2, to: &out)
            for digit in strays.outOfVolume {
                Hex.append(UInt64(digit), digits: 1, to: &out)
            }
            for (i, p) in strays.positions.enumerated() {
                try Self.appendFixed(p.x, digits: 6, scale: 100, "passive stray \(i) x", to: &out)
                try Self.appendFixed(p.y, digits: 6, scale: 100, "passive stray \(i) y", to: &out)
                try Self.appendFixed(p.z, digits: 6, scale: 100, "passive stray \(i) z", to: &out)
            }
        }
        Hex.append(UInt64(self.systemStatus.rawValue), digits: 4, to: &out)
        return NDIReply.asciiFrame(payload: out)
    }

    /// Appends `value × scale`, rounded, as a sign and exactly `digits` digits.
    private static func appendFixed(
        _ value: Double,
        digits: Int,
        scale: Double,
        _ what: String,
        to out: inout [UInt8]
    ) throws(NDIEncodingError) {
        let scaled = (value * scale).rounded(.toNearestOrAwayFromZero)
        var limit = 1.0
        for _ in 0..<digits { limit *= 10 }
        guard scaled.isFinite, abs(scaled) < limit else {
            throw NDIEncodingError(
                replyName: "TX",
                "\(what) = \(value) does not fit ±\(digits) digits × \(1 / scale)"
            )
        }
        let magnitude = UInt64(abs(scaled))
        out.append(scaled < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        let text = Array(String(magnitude).utf8)
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits - text.count))
        out.append(contentsOf: text)
    }
}

/// Reads fields from an ASCII reply payload, reporting faults with the reply offset.
struct TextReader {
    let bytes: [UInt8]
    var position = 0
    /// End of the payload (the CRC digits start here).
    let limit: Int
    let streamOffset: Int
    let replyName: String

    init(frame: NDIReplyFrame, replyName: String) {
        self.bytes = frame.bytes
        self.limit = max(0, frame.bytes.count - 5)
        self.streamOffset = frame.streamOffset
        self.replyName = replyName
    }

    func error(at offset: Int, _ message: String) -> NDIReplyError {
        NDIReplyError(
            .malformed,
            replyName: self.replyName,
            replyStreamOffset: self.streamOffset,
            offsetInReply: offset,
            message
        )
    }

    var remaining: Int { self.limit - self.position }

    var isAtEnd: Bool { self.position >= self.limit }

    /// Takes exactly `count` characters.
    mutating func take(_ count: Int, _ what: String) throws(NDIReplyError) -> ArraySlice<UInt8> {
        guard self.remaining >= count else {
            throw self.error(
                at: self.position,
                "the reply ends inside \(what): needs \(count) characters, \(max(0, self.remaining)) left"
            )
        }
        defer { self.position += count }
        return self.bytes[self.position..<(self.position + count)]
    }

    /// Takes `count` hex digits.
    mutating func hex(_ count: Int, _ what: String) throws(NDIReplyError) -> UInt64 {
        let start = self.position
        let field = try self.take(count, what)
        guard let value = Hex.parse(field) else {
            throw self.error(at: start, "\(what) \(quotedASCII(field)) is not \(count) hex digits")
        }
        return value
    }

    /// Takes a sign and `digits` decimal digits and divides by `scale`.
    mutating func fixed(_ digits: Int, scale: Double, _ what: String) throws(NDIReplyError) -> Double {
        let start = self.position
        let field = try self.take(digits + 1, what)
        let sign = field[field.startIndex]
        guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"),
            let magnitude = Hex.parseDecimal(field.dropFirst())
        else {
            throw self.error(at: start, "\(what) \(quotedASCII(field)) is not a sign and \(digits) digits")
        }
        let value = Double(magnitude) / scale
        return sign == UInt8(ascii: "-") ? -value : value
    }

    /// Takes `literal` if the reply continues with it.
    mutating func skip(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard self.remaining >= count else { return false }
        let matches = literal.withUTF8Buffer { lit in
            lit.indices.allSatisfy { self.bytes[self.position + $0] == lit[$0] }
        }
        if matches {
            self.position += count
        }
        return matches
    }

    /// Requires `literal` next.
    mutating func expect(_ literal: StaticString, _ what: String) throws(NDIReplyError) {
        guard self.skip(literal) else {
            let shown = self.bytes[self.position..<min(self.limit, self.position + 12)]
            throw self.error(
                at: self.position,
                self.isAtEnd ? "the reply ends before \(what)" : "expected \(what), found \(quotedASCII(shown))"
            )
        }
    }

    /// Moves to the next LF (or the end), without taking it.
    mutating func skipToLineFeed() {
        while self.position < self.limit && self.bytes[self.position] != 0x0A {
            self.position += 1
        }
    }

    /// Requires the payload to be fully read.
    func expectEnd() throws(NDIReplyError) {
        guard self.isAtEnd else {
            let shown = self.bytes[self.position..<min(self.limit, self.position + 12)]
            throw self.error(
                at: self.position,
                "\(self.remaining) unexpected characters at the end, starting \(quotedASCII(shown))"
            )
        }
    }

    /// The rest of the payload as text.
    mutating func rest() -> String {
        defer { self.position = self.limit }
        return String(decoding: self.bytes[self.position..<self.limit], as: UTF8.self)
    }
}
