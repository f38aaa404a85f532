import Foundation
import Testing

@testable import TrackerTransport

enum Paths {
    /// The repository root (this file is Tests/TrackerTransportTests/DeviceProfileTests.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let devices = root.appendingPathComponent("Devices").path
    static let fixtures = root.appendingPathComponent("Tests/TrackerTransportTests/Fixtures").path

    static func temporaryDirectory() throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("coilnav-transport-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}

@Suite struct DeviceProfileTests {
    @Test func shippedProfilesLoad() throws {
        let profiles = try DeviceProfiles.load(directory: Paths.devices)
        #expect(profiles.map(\.id) == ["ndi-aurora-scu", "ndi-host-usb-converter", "ndi-polaris-spectra-scu", "ndi-serial", "ndi-vega-tcp"])

        let converter = try #require(profiles.first { $0.id == "ndi-host-usb-converter" })
        #expect(converter.transport == .ftdiUSB)
        #expect(converter.vendorId == 0x0403 && converter.productId == 0xDA70)
        #expect(converter.usbID == "0403:da70")
        #expect(converter.defaultBaud == 9600)
        #expect(converter.fastestBaud == 1_228_739)
        #expect(converter.fastestCommRateCode == "7")
        #expect(converter.toolSetup == [.romUpload, .wiredPHSR])

        let spectra = try #require(profiles.first { $0.id == "ndi-polaris-spectra-scu" })
        #expect(spectra.usbID == "0403:da71")
        let aurora = try #require(profiles.first { $0.id == "ndi-aurora-scu" })
        #expect(aurora.usbID == "0403:da74")
        #expect(aurora.toolSetup == [.wiredPHSR])

        let vega = try #require(profiles.first { $0.id == "ndi-vega-tcp" })
        #expect(vega.transport == .tcp)
        #expect(vega.tcpPort == 8765)
        #expect(vega.defaultBaud == nil && vega.fastestBaud == nil && vega.usbID == nil)

        let serial = try #require(profiles.first { $0.id == "ndi-serial" })
        #expect(serial.transport == .serial)
        #expect(serial.fastestCommRateCode == "5")

        #expect(DeviceProfiles.matching(profiles, vendorId: 0x0403, productId: 0xDA70).map(\.id) == ["ndi-host-usb-converter"])
        #expect(DeviceProfiles.matching(profiles, vendorId: 0x0403, productId: 0x6001).isEmpty)
    }

    @Test func commRateCodes() {
        let expected: [(Int, Character)] = [
            (9600, "0"), (14400, "1"), (19200, "2"), (38400, "3"), (57600, "4"), (115_200, "5"), (921_600, "6"),
            (1_228_739, "7"), (230_400, "A"),
        ]
        for (baud, code) in expected { #expect(DeviceProfile.ndiCommRateCode(baud: baud) == code) }
        #expect(DeviceProfile.ndiCommRateCode(baud: 1_200_000) == nil)
    }

    static let good = """
        {"name": "X", "transport": "ftdi-usb", "vendorId": "0403", "productId": "da70", "defaultBaud": 9600,
         "fastestBaud": 115200, "frameRateHz": 60, "toolSetup": ["rom-upload-pvwr"]}
        """

    /// Each malformed profile, the field the error must name, and a phrase of its message.
    static let malformed: [(String, String?, String)] = [
        ("{\"name\": ", nil, "not valid JSON"),
        ("[1, 2]", nil, "JSON object"),
        (good.replacingOccurrences(of: "\"name\": \"X\", ", with: ""), "name", "missing"),
        (good.replacingOccurrences(of: "\"0403\"", with: "\"04g3\""), "vendorId", "4 hexadecimal digits"),
        (good.replacingOccurrences(of: "\"da70\"", with: "55920"), "productId", "expected a string"),
        (good.replacingOccurrences(of: "ftdi-usb", with: "usb"), "transport", "is not one of"),
        (good.replacingOccurrences(of: "\"fastestBaud\": 115200", with: "\"fastestBaud\": 1200000"), "fastestBaud", "not an NDI COMM rate"),
        (good.replacingOccurrences(of: "\"fastestBaud\": 115200", with: "\"fastestBaud\": 4800"), "fastestBaud", "below defaultBaud"),
        (good.replacingOccurrences(of: "\"defaultBaud\": 9600", with: "\"defaultBaud\": 9600.5"), "defaultBaud", "expected an integer"),
        (good.replacingOccurrences(of: "\"frameRateHz\": 60", with: "\"frameRateHz\": -1"), "frameRateHz", "positive number"),
        (good.replacingOccurrences(of: "[\"rom-upload-pvwr\"]", with: "[\"rom-upload-pvwr\", \"magic\"]"), "toolSetup[1]", "expected one of"),
        (good.replacingOccurrences(of: "[\"rom-upload-pvwr\"]", with: "[]"), "toolSetup", "non-empty list"),
        (good.replacingOccurrences(of: "\"name\": \"X\"", with: "\"name\": \"X\", \"baud\": 9600"), "baud", "unknown field"),
        (good.replacingOccurrences(of: "\"name\": \"X\"", with: "\"name\": \"X\", \"tcpPort\": 8765"), "tcpPort", "only a tcp profile"),
        ("{\"name\": \"V\", \"transport\": \"tcp\", \"frameRateHz\": 60, \"toolSetup\": [\"rom-upload-pvwr\"]}", "tcpPort", "missing"),
        ("{\"name\": \"V\", \"transport\": \"tcp\", \"tcpPort\": 70000, \"frameRateHz\": 60, \"toolSetup\": [\"wired-phsr\"]}", "tcpPort", "out of range"),
        ("{\"name\": \"V\", \"transport\": \"tcp\", \"tcpPort\": 8765, \"defaultBaud\": 9600, \"frameRateHz\": 60, \"toolSetup\": [\"wired-phsr\"]}", "defaultBaud", "no baud rate"),
    ]

    @Test func theGoodOneParses() throws {
        let p = try DeviceProfiles.parse(Data(Self.good.utf8), id: "x", file: "x.json")
        #expect(p.usbID == "0403:da70")
        #expect(p.frameRateHz == 60)
    }

    @Test(arguments: malformed.indices)
    func malformedProfilesNameFileAndField(_ i: Int) throws {
        let (json, field, phrase) = Self.malformed[i]
        let dir = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("broken.json")
        try Data(json.utf8).write(to: file)
        do {
            _ = try DeviceProfiles.load(directory: dir.path)
            Issue.record("case \(i) loaded: \(json)")
        } catch {
            #expect(error.file == file.path)
            #expect(error.field == field, "case \(i): \(error)")
            #expect(error.message.contains(phrase), "case \(i): \(error)")
            #expect(error.description.hasPrefix(file.path))
        }
    }

    @Test func duplicateUSBIdsAndEmptyFolders() throws {
        let dir = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try DeviceProfiles.load(directory: dir.path)
            Issue.record("an empty folder loaded")
        } catch {
            #expect(error.message.contains("no device profile"))
        }
        try Data(Self.good.utf8).write(to: dir.appendingPathComponent("a.json"))
        try Data(Self.good.utf8).write(to: dir.appendingPathComponent("b.json"))
        do {
            _ = try DeviceProfiles.load(directory: dir.path)
            Issue.record("two profiles with one USB id loaded")
        } catch {
            #expect(error.file.hasSuffix("b.json"))
            #expect(error.field == "productId")
            #expect(error.message.contains("0403:da70"))
        }
        do {
            _ = try DeviceProfiles.load(directory: dir.appendingPathComponent("missing").path)
            Issue.record("a missing folder loaded")
        } catch {
            #expect(error.message.contains("cannot list"))
        }
    }

    @Test func scanReportWording() {
        let converter = DeviceProfile(
            id: "c", name: "NDI Host USB Converter", transport: .ftdiUSB, vendorId: 0x0403, productId: 0xDA70, defaultBaud: 9600,
            fastestBaud: 1_228_739, tcpPort: nil, frameRateHz: 20, toolSetup: [.romUpload], notes: "", file: "c.json")
        var dev = USBDeviceInfo(
            vendorId: 0x0403, productId: 0xDA70, bus: 3, address: 7, portPath: "3-2", bcdDevice: 0x600, manufacturer: "NDI",
            product: nil, serialNumber: "P9-00123", access: .denied, accessError: "permission-denied: …")
        let denied = USBScanReport(devices: [dev], matches: USBEnumerator.match([dev], profiles: [converter]))
        #expect(denied.matches.count == 1)
        #expect(denied.accessDenied.count == 1)
        #expect(denied.summary.contains("0403:da70 bus 3 address 7: NDI Host USB Converter, serial P9-00123 — access denied"))
        #expect(denied.summary.contains("99-coilnav-ndi.rules"))
        #expect(denied.summary.contains("udevadm control --reload-rules && sudo udevadm trigger"))
        dev.access = .ok
        let ok = USBScanReport(devices: [dev], matches: USBEnumerator.match([dev], profiles: [converter]))
        #expect(ok.summary.hasSuffix("— ready"))
        #expect(!ok.summary.contains("udev"))
        let none = USBScanReport(devices: [], matches: [])
        #expect(none.summary == "no tracker found: none of the 0 USB device(s) matches a device profile")
    }

    @Test func udevRuleGrantsAccessToTheNDIIds() throws {
        let rule = try String(contentsOfFile: Paths.devices + "/udev/99-coilnav-ndi.rules", encoding: .utf8)
        for pid in ["da70", "da71", "da74"] {
            #expect(rule.contains("ATTRS{idVendor}==\"0403\", ATTRS{idProduct}==\"\(pid)\""), "rule for \(pid)")
        }
        #expect(rule.contains("TAG+=\"uaccess\""))
        #expect(rule.contains("MODE=\"0660\""))
    }
}
