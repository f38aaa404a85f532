import Testing
import TrackerCore

@testable import TrackerTransport

@Suite struct TransportEndpointTests {
    @Test func parsesTheThreeSchemes() throws {
        #expect(try TransportEndpoint(url: "ndi-usb://") == .ftdiUSB(vendorId: 0x0403, productId: 0xDA70, serialNumber: nil))
        #expect(try TransportEndpoint(url: "ndi-usb://0403:DA74?serial=P9-1") == .ftdiUSB(vendorId: 0x0403, productId: 0xDA74, serialNumber: "P9-1"))
        #expect(try TransportEndpoint(url: "ndi-serial:///dev/ttyUSB0") == .serial(path: "/dev/ttyUSB0", baud: 9600))
        #expect(try TransportEndpoint(url: "ndi-serial:///dev/pts/3?baud=115200") == .serial(path: "/dev/pts/3", baud: 115_200))
        #expect(try TransportEndpoint(url: "ndi-tcp://192.168.1.20:8765") == .tcp(host: "192.168.1.20", port: 8765))
        #expect(try TransportEndpoint(url: "ndi-tcp://vega.local") == .tcp(host: "vega.local", port: 8765))
        #expect(try TransportEndpoint(url: "ndi-tcp://[::1]:9000") == .tcp(host: "::1", port: 9000))
    }

    @Test func takesAParsedTrackerURL() throws {
        #expect(try TransportEndpoint(TrackerURL(parsing: "ndi-serial:///dev/ttyS1")) == .serial(path: "/dev/ttyS1", baud: 9600))
        #expect(try TransportEndpoint(.ndiTCP(host: "h", port: 1)) == .tcp(host: "h", port: 1))
        #expect(throws: TransportError.self) { try TransportEndpoint(.replay(path: "r", speed: 1)) }
    }

    @Test func canonicalForm() throws {
        for url in ["ndi-usb://0403:da70?serial=X1", "ndi-serial:///dev/ttyUSB0?baud=921600", "ndi-tcp://10.0.0.2:8765", "ndi-tcp://[::1]:8765"] {
            #expect(try TransportEndpoint(url: url).description == url)
        }
    }

    @Test(arguments: [
        "ndi-usb://0403", "ndi-usb://0403:da7", "ndi-usb://zzzz:da70", "ndi-usb://?baud=9600", "ndi-serial://", "ndi-serial:///dev/x?baud=fast",
        "ndi-tcp://:8765", "ndi-tcp://host:0", "ndi-tcp://host:99999", "ndi-tcp://[::1", "no-scheme", "ndi-tcp://h?x",
    ])
    func rejectsMalformedURLs(_ url: String) {
        do {
            _ = try TransportEndpoint(url: url)
            Issue.record("\(url) parsed")
        } catch {
            #expect(error.code == .invalidArgument, "\(url): \(error)")
        }
    }

    @Test func mockIsNotATransport() {
        do {
            _ = try TransportEndpoint(url: "mock://Mock/scenarios/static.json?seed=3")
            Issue.record("mock:// parsed as a transport")
        } catch {
            #expect(error.code == .unsupported)
        }
    }

    @Test func opensASerialEndpointOnAPseudoTerminal() throws {
        let pty = try PseudoTerminal()
        defer { pty.close() }
        let stream = try TransportEndpoint(url: "ndi-serial://\(pty.slavePath)?baud=1228739").open()
        defer { stream.close() }
        #expect(pty.clientBaud() == 1_228_739)
        try stream.write([0x49])
        #expect(try pty.master.read(exactly: 1, timeout: .seconds(5)) == [0x49])
    }
}
