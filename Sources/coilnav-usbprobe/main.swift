// coilnav-usbprobe: exercises TrackerTransport's libusb code path and prints what happened, one
// fact per line, so a test can run it under umockdev (a fake USB device) and check the output.
//
//   coilnav-usbprobe list PROFILES_DIR
//       scan USB devices against the profiles: "device ..." and "match ..." lines
//   coilnav-usbprobe exchange VID:PID STEP...
//       open the FTDI device, print the set-up control transfers, then run each STEP:
//       HEX        write those bytes, read until a CR, print "read <hex>"
//       HEX/N      write, read N bytes
//       break:MS   serial break of MS milliseconds
//       baud:N     switch the line to N baud 8N1
//       purge      purge RX and TX
//       then print the control transfers the steps sent, and close.
//
// Exit status 0 on success, 1 with "error <code>: <message>" on stderr otherwise.
import Foundation
import TrackerTransport

func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

func bytes(fromHex s: String) -> [UInt8]? {
    var out: [UInt8] = []
    var i = s.startIndex
    while i < s.endIndex {
        let j = s.index(i, offsetBy: 2, limitedBy: s.endIndex) ?? s.endIndex
        guard let v = UInt8(s[i..<j], radix: 16) else { return nil }
        out.append(v)
        i = j
    }
    return out
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error \(message)\n".utf8))
    exit(1)
}

func list(_ directory: String) throws(TransportError) {
    let profiles: [DeviceProfile]
    do { profiles = try DeviceProfiles.load(directory: directory) } catch { fail("profiles: \(error)") }
    let report = try USBEnumerator.scan(profiles: profiles)
    for d in report.devices {
        print(
            "device \(d.usbID) bus \(d.bus) address \(d.address) port \(d.portPath ?? "-") bcd \(String(format: "%04x", d.bcdDevice))"
                + " serial \(d.serialNumber ?? "-") product \(d.product ?? "-") access \(d.access.rawValue)")
    }
    for m in report.matches { print("match \(m.device.usbID) profile \(m.profile.id)") }
    print("summary \(report.summary.replacingOccurrences(of: "\n", with: " | "))")
}

func exchange(_ id: String, _ specs: [String]) throws(TransportError) {
    let ids = id.split(separator: ":").compactMap { UInt16($0, radix: 16) }
    guard ids.count == 2 else { fail("bad VID:PID \(id)") }
    let stream = try FTDIUSBStream.open(FTDIUSBStream.Options(vendorId: ids[0], productId: ids[1]))
    print(
        "opened \(stream.description) chip \(stream.chip.rawValue) mps \(stream.maxPacketSize)"
            + " in \(String(format: "%02x", stream.inEndpoint)) out \(String(format: "%02x", stream.outEndpoint))")
    for c in stream.controlTranscript { print("control \(c)") }
    let sentDuringSetup = stream.controlTranscript.count
    for spec in specs {
        if spec == "purge" {
            try stream.purge()
            print("purged")
            continue
        }
        if spec.hasPrefix("break:"), let ms = Int(spec.dropFirst(6)) {
            try stream.sendBreak(duration: .milliseconds(ms))
            print("break \(ms) ms")
            continue
        }
        if spec.hasPrefix("baud:"), let baud = Int(spec.dropFirst(5)) {
            try stream.setLineParameters(baud: baud)
            print("baud \(baud)")
            continue
        }
        let parts = spec.split(separator: "/")
        guard let out = bytes(fromHex: String(parts[0])) else { fail("bad hex \(spec)") }
        let want = parts.count > 1 ? Int(parts[1]) : nil
        try stream.write(out)
        print("wrote \(hex(out))")
        var got: [UInt8] = []
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(5))
        while clock.now < deadline {
            got += try stream.read(maxBytes: 1024, timeout: .milliseconds(200))
            if let want {
                if got.count >= want { break }
            } else if got.last == 0x0D {
                break
            }
        }
        print("read \(hex(got))")
    }
    for c in stream.controlTranscript.dropFirst(sentDuringSetup) { print("control \(c)") }
    if let s = stream.lastStatus { print(String(format: "status modem %02x line %02x", s.modem, s.line)) }
    stream.close()
    print("closed")
}

let args = Array(CommandLine.arguments.dropFirst())
do throws(TransportError) {
    switch args.first {
    case "list" where args.count == 2: try list(args[1])
    case "exchange" where args.count >= 2: try exchange(args[1], Array(args.dropFirst(2)))
    default: fail("usage: coilnav-usbprobe list PROFILES_DIR | exchange VID:PID HEX[/N]...")
    }
} catch {
    fail("\(error)")
}
