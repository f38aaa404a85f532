import Geometry

/// BX binary replies (`protocols.md` §1.4; `ndiBXHelper` in ndicapi for options 0x0002–0x1000).
///
/// ```
/// C4 A5 | N (u16) | header CRC (u16) | body: N bytes | body CRC (u16)      all little-endian
/// body: H (u8), then per handle:
///   handle (u8), status (u8: 0x01 valid, 0x02 missing, 0x04 disabled)
///   disabled: nothing more
///   0x0001: [valid: q0 qx qy qz tx ty tz rms, 8 × float32] port status (u32) frame (u32)
///   0x0002: tool info (u8) + marker info (10 bytes)
///   0x0004: stray status (u8) [+ x y z float32 when status ≠ 0]
///   0x0008: marker count n (u8), ⌈n/8⌉ out-of-volume bytes, n × (x y z float32)
/// 0x1000: passive strays: count n (u8), ⌈n/8⌉ out-of-volume bytes, n × (x y z float32)
/// system status (u16)
/// ```
extension NDITrackingReply {
    /// Parses a BX reply framed by `NDIReplyFramer` (CRCs already checked), for the reply option
    /// the BX command carried (`nil`: none was sent, which means 0x0001).
    ///
    /// Errors name the reply's stream offset and the byte where the layout broke: a body that
    /// ends inside a field, an unknown handle status, bytes left over before the system status.
    public static func parseBX(_ frame: NDIReplyFrame, option: NDIReplyOption?) throws(NDIReplyError)
        -> NDITrackingReply
    {
        guard frame.kind == .binary else {
            throw NDIReplyError(
                .unexpectedReply,
                replyName: "BX",
                replyStreamOffset: frame.streamOffset,
                offsetInReply: 0,
                "expected a binary reply, got ASCII \(quotedASCII(frame.bytes))"
            )
        }
        guard frame.bytes.count >= 11 else {
            throw NDIReplyError(
                .badLength,
                replyName: "BX",
                replyStreamOffset: frame.streamOffset,
                offsetInReply: 0,
                "\(frame.bytes.count) bytes, fewer than the 11 of the smallest reply"
            )
        }
        let option = option ?? .transformsAndStatus
        let bodyEnd = frame.bytes.count - 2
        var reader = BinaryReader(bytes: frame.bytes, position: 6, limit: bodyEnd - 2, streamOffset: frame.streamOffset)
        let handleCount = try reader.u8("the handle count")
        var handles: [NDIHandleReport] = []
        handles.reserveCapacity(Int(handleCount))
        for index in 0..<Int(handleCount) {
            let entryStart = reader.position
            let handle = try reader.u8("handle \(index + 1) of \(handleCount)")
            let label = "handle \(Hex.display(UInt64(handle), digits: 2))"
            let statusByte = try reader.u8("\(label) status")
            let status: NDIHandleStatus
            switch statusByte {
            case 0x01: status = .valid
            case 0x02: status = .missing
            case 0x04: status = .disabled
            default:
                throw reader.error(
                    at: entryStart + 1,
                    "\(label) has status \(Hex.display(UInt64(statusByte), digits: 2)), not 0x01 valid, 0x02 missing or 0x04 disabled"
                )
            }
            var report = NDIHandleReport(handle: handle, status: status)
            if status != .disabled {
                if option.contains(.transformsAndStatus) {
                    if status == .valid {
                        let q0 = try reader.f32("\(label) q0")
                        let qx = try reader.f32("\(label) qx")
                        let qy = try reader.f32("\(label) qy")
                        let qz = try reader.f32("\(label) qz")
                        let tx = try reader.f32("\(label) tx")
                        let ty = try reader.f32("\(label) ty")
                        let tz = try reader.f32("\(label) tz")
                        let rms = try reader.f32("\(label) RMS error")
                        report.transform = NDITransform(
                            rotation: Quaternion(q0: q0, qx: qx, qy: qy, qz: qz),
                            translation: Vector3(tx, ty, tz),
                            rmsError: rms
                        )
                    }
                    report.portStatus = NDIPortStatus(rawValue: try reader.u32("\(label) port status"))
                    report.frameNumber = try reader.u32("\(label) frame number")
                }
                if option.contains(.toolAndMarkerInfo) {
                    let tool = try reader.u8("\(label) tool information")
                    let markers = try reader.bytes(10, "\(label) marker information")
                    report.toolMarkerInfo = NDIToolMarkerInfo(toolInformation: tool, markerInformation: markers)
                }
                if option.contains(.activeStray) {
                    let strayStatus = try reader.u8("\(label) active stray status")
                    var position: Vector3?
                    if strayStatus != 0 {
                        position = try reader.vector("\(label) active stray position")
                    }
                    report.activeStray = NDIActiveStray(status: strayStatus, position: position)
                }
                if option.contains(.markerPositions) {
                    report.markers = try reader.markerSet("\(label) markers")
                }
            }
            handles.append(report)
        }
        var strays: NDIMarkerSet?
        if option.contains(.passiveStrays) {
            strays = try reader.markerSet("passive strays")
        }
        if reader.position != reader.limit {
            throw reader.error(
                at: reader.position,
                "\(reader.limit - reader.position) bytes left between the last section and the system status (reply length does not match the option \(option))"
            )
        }
        let systemStatus = UInt16(frame.bytes[bodyEnd - 2]) | UInt16(frame.bytes[bodyEnd - 1]) << 8
        return NDITrackingReply(
            handles: handles,
            systemStatus: NDISystemStatus(rawValue: systemStatus),
            passiveStrays: strays
        )
    }

    /// The BX reply bytes for this data and reply option (`nil`: 0x0001), header and CRCs
    /// included, as a tracker sends them. Numbers are written as float32.
    ///
    /// Throws when a handle's status is `.unoccupied` (BX cannot express it), when a field the
    /// option requires is nil (the transform of a valid handle; port status and frame number;
    /// the 0x0002/0x0004/0x0008 data; passive strays for 0x1000), when a marker set has more than
    /// 255 markers or the wrong number of out-of-volume bytes, when an active stray's position
    /// does not match its status, or when the reply exceeds 65535 body bytes or 255 handles.
    public func encodeBX(option: NDIReplyOption?) throws(NDIEncodingError) -> [UInt8] {
        let option = option ?? .transformsAndStatus
        guard self.handles.count <= 255 else {
            throw NDIEncodingError(replyName: "BX", "\(self.handles.count) handles, at most 255 fit")
        }
        var body: [UInt8] = [UInt8(self.handles.count)]
        for report in self.handles {
            let label = "handle \(Hex.display(UInt64(report.handle), digits: 2))"
            guard let code = report.status.bxCode else {
                throw NDIEncodingError(replyName: "BX", "\(label) is unoccupied, which BX cannot express")
            }
            body.append(report.handle)
            body.append(code)
            if report.status == .disabled {
                continue
            }
            if option.contains(.transformsAndStatus) {
                if report.status == .valid {
                    guard let t = report.transform else {
                        throw NDIEncodingError(replyName: "BX", "\(label) is valid but has no transform")
                    }
                    for v in [
                        t.rotation.q0, t.rotation.qx, t.rotation.qy, t.rotation.qz, t.translation.x, t.translation.y,
                        t.translation.z, t.rmsError,
                    ] {
                        Self.appendFloat32(v, to: &body)
                    }
                }
                guard let portStatus = report.portStatus, let frame = report.frameNumber else {
                    throw NDIEncodingError(
                        replyName: "BX",
                        "\(label) needs a port status and a frame number for option 0x0001"
                    )
                }
                Self.appendLE32(portStatus.rawValue, to: &body)
                Self.appendLE32(frame, to: &body)
            }
            if option.contains(.toolAndMarkerInfo) {
                guard let info = report.toolMarkerInfo, info.markerInformation.count == 10 else {
                    throw NDIEncodingError(
                        replyName: "BX",
                        "\(label) needs tool information and 10 marker information bytes for option 0x0002"
                    )
                }
                body.append(info.toolInformation)
                body.append(contentsOf: info.markerInformation)
            }
            if option.contains(.activeStray) {
                guard let stray = report.activeStray, (stray.status != 0) == (stray.position != nil) else {
                    throw NDIEncodingError(
                        replyName: "BX",
                        "\(label) needs an active stray for option 0x0004, with a position exactly when its status is not 0"
                    )
                }
                body.append(stray.status)
                if let p = stray.position {
                    Self.appendVector(p, to: &body)
                }
            }
            if option.contains(.markerPositions) {
                guard let markers = report.markers else {
                    throw NDIEncodingError(replyName: "BX", "\(label) needs marker positions for option 0x0008")
                }
                try Self.appendMarkerSet(markers, label: "\(label) markers", to: &body)
            }
        }
        if option.contains(.passiveStrays) {
            guard let strays = self.passiveStrays else {
                throw NDIEncodingError(replyName: "BX", "option 0x1000 needs passive strays")
            }
            try Self.appendMarkerSet(strays, label: "passive strays", to: &body)
        }
        Self.appendLE16(self.systemStatus.rawValue, to: &body)
        guard body.count <= 0xFFFF else {
            throw NDIEncodingError(replyName: "BX", "body of \(body.count) bytes exceeds 65535")
        }
        var out: [UInt8] = [0xC4, 0xA5]
        out.reserveCapacity(body.count + 8)
        Self.appendLE16(UInt16(body.count), to: &out)
        Self.appendLE16(NDICRC16.checksum(out), to: &out)
        out.append(contentsOf: body)
        Self.appendLE16(NDICRC16.checksum(body), to: &out)
        return out
    }

    private static func appendMarkerSet(_ set: NDIMarkerSet, label: String, to out: inout [UInt8])
        throws(NDIEncodingError)
    {
        let n = set.positions.count
        guard n <= 255 else {
            throw NDIEncodingError(replyName: "BX", "\(label): \(n) markers, at most 255 fit")
        }
        guard set.outOfVolume.count == (n + 7) / 8 else {
            throw NDIEncodingError(
                replyName: "BX",
                "\(label): \(n) markers need \((n + 7) / 8) out-of-volume bytes, got \(set.outOfVolume.count)"
            )
        }
        out.append(UInt8(n))
        out.append(contentsOf: set.outOfVolume)
        for p in set.positions {
            Self.appendVector(p, to: &out)
        }
    }

    private static func appendVector(_ v: Vector3, to out: inout [UInt8]) {
        Self.appendFloat32(v.x, to: &out)
        Self.appendFloat32(v.y, to: &out)
        Self.appendFloat32(v.z, to: &out)
    }

    private static func appendFloat32(_ v: Double, to out: inout [UInt8]) {
        Self.appendLE32(Float(v).bitPattern, to: &out)
    }

    private static func appendLE16(_ v: UInt16, to out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: v))
        out.append(UInt8(truncatingIfNeeded: v >> 8))
    }

    private static func appendLE32(_ v: UInt32, to out: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) {
            out.append(UInt8(truncatingIfNeeded: v >> UInt32(shift)))
        }
    }
}

/// Reads little-endian fields from a BX reply, reporting overruns with the reply offset.
private struct BinaryReader {
    let bytes: [UInt8]
    var position: Int
    /// The first byte the reader must not read (the system status).
    let limit: Int
    let streamOffset: Int

    func error(at offset: Int, _ message: String) -> NDIReplyError {
        NDIReplyError(.malformed, replyName: "BX", replyStreamOffset: self.streamOffset, offsetInReply: offset, message)
    }

    mutating func bytes(_ count: Int, _ what: String) throws(NDIReplyError) -> [UInt8] {
        guard self.limit - self.position >= count else {
            throw self.error(
                at: self.position,
                "the body ends inside \(what): needs \(count) bytes, \(max(0, self.limit - self.position)) left before the system status"
            )
        }
        defer { self.position += count }
        return Array(self.bytes[self.position..<(self.position + count)])
    }

    mutating func u8(_ what: String) throws(NDIReplyError) -> UInt8 {
        try self.bytes(1, what)[0]
    }

    mutating func u32(_ what: String) throws(NDIReplyError) -> UInt32 {
        let b = try self.bytes(4, what)
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }

    mutating func f32(_ what: String) throws(NDIReplyError) -> Double {
        Double(Float(bitPattern: try self.u32(what)))
    }

    mutating func vector(_ what: String) throws(NDIReplyError) -> Vector3 {
        let x = try self.f32("\(what) x")
        let y = try self.f32("\(what) y")
        let z = try self.f32("\(what) z")
        return Vector3(x, y, z)
    }

    mutating func markerSet(_ what: String) throws(NDIReplyError) -> NDIMarkerSet {
        let n = Int(try self.u8("\(what) count"))
        let outOfVolume = try self.bytes((n + 7) / 8, "\(what) out-of-volume flags")
        var positions: [Vector3] = []
        positions.reserveCapacity(n)
        for i in 0..<n {
            positions.append(try self.vector("\(what) \(i)"))
        }
        return NDIMarkerSet(outOfVolume: outOfVolume, positions: positions)
    }
}
