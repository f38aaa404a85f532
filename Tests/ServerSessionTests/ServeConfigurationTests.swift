import Formats
import Foundation
import Navigation
import ServerSession
import Testing
import TrackerCore

@Suite struct ServeConfigurationTests {
    /// A configuration with the two required keys (lines 1–5) and `extra` lines from line 6 on.
    static func text(_ extra: [String] = [], tracker: String = "mock://s.json", plan: String? = "plan.json") -> String {
        var lines = ["{", "    \"format\": \"coilnav-serve\"", "    \"version\": 1", "    \"tracker\": \"\(tracker)\""]
        if let plan { lines.append("    \"plan\": \"\(plan)\"") }
        lines += extra.map { "    " + $0 }
        for i in 1..<(lines.count - 1) { lines[i] += "," }
        return (lines + ["}"]).joined(separator: "\n") + "\n"
    }

    static func parse(_ text: String, base: String = "/cfg") throws(FileFormatError) -> ServeConfiguration {
        try ServeConfiguration.parse(Data(text.utf8), source: "c.json", baseDirectory: base)
    }

    static func message(_ extra: [String], tracker: String = "mock://s.json", plan: String? = "plan.json") -> String? {
        formatError { () throws(FileFormatError) in try Self.parse(Self.text(extra, tracker: tracker, plan: plan)) }?.description
    }

    @Test func minimalFileTakesTheDefaults() throws {
        let c = try Self.parse(Self.text())
        #expect(c.tracker == .mock(scenarioPath: "/cfg/s.json", seed: 0))
        #expect(c.plan == "/cfg/plan.json")
        #expect(c.registration == nil)
        #expect(c.toolSet == nil)
        #expect(ServeConfiguration.defaultToolSet == "Calibration/tools/toolset-mock.json")
        #expect(c.coilCalibration == nil)
        #expect(c.coilTool == "coil" && c.headTool == "head" && c.pointerTool == "pointer")
        #expect(c.igtlPort == 18944 && c.jsonPort == 18945)
        #expect(c.bind == "127.0.0.1")
        #expect(c.session == nil)
        #expect(c.insecure == false)
        #expect(c.onTarget == OnTargetThresholds.standard)
        #expect(c.onTarget.onDistanceMM == 1 && c.onTarget.onTiltDegrees == 2 && c.onTarget.onTwistDegrees == 4)
        #expect(c.onTarget.dwellNanoseconds == 500_000_000)
        #expect(c.onTarget.offDistanceMM == 2 && c.onTarget.offTiltDegrees == 4 && c.onTarget.offTwistDegrees == 8)
        #expect(c.maxFrameAgeMilliseconds == 100)
        #expect(c.activeTarget == nil)
        #expect(c.navigationConfiguration == NavigationConfiguration())
        // The memberwise initialiser has the same defaults as the file.
        #expect(c == ServeConfiguration(tracker: .mock(scenarioPath: "/cfg/s.json", seed: 0), plan: "/cfg/plan.json"))
    }

    @Test func everyKeyIsRead() throws {
        let c = try Self.parse(
            Self.text([
                "\"registration\": \"reg/registration.json\"", "\"toolSet\": \"/abs/tools.json\"",
                "\"coilCalibration\": \"../coils/c.json\"", "\"coilTool\": \"magstim\"", "\"headTool\": \"ref\"",
                "\"pointerTool\": \"stylus\"", "\"igtlPort\": 0", "\"jsonPort\": 65535", "\"bind\": \"::1\"",
                "\"session\": \"sessions/s1\"", "\"insecure\": true",
                "\"onTarget\": {\"onDistanceMM\": 1.5, \"onTiltDegrees\": 3, \"onTwistDegrees\": 5, \"dwellNanoseconds\": 250000000, \"offDistanceMM\": 3, \"offTiltDegrees\": 6, \"offTwistDegrees\": 10}",
                "\"maxFrameAgeMilliseconds\": 42.5", "\"activeTarget\": \"F3\"",
            ], tracker: "ndi-tcp://10.0.0.5:8765"))
        #expect(c.tracker == .ndiTCP(host: "10.0.0.5", port: 8765))
        #expect(c.registration == "/cfg/reg/registration.json")
        #expect(c.toolSet == "/abs/tools.json")
        #expect(c.coilCalibration == "/cfg/../coils/c.json")
        #expect(c.coilTool == "magstim" && c.headTool == "ref" && c.pointerTool == "stylus")
        #expect(c.igtlPort == 0 && c.jsonPort == 65535)
        #expect(c.bind == "::1")
        #expect(c.session == "/cfg/sessions/s1")
        #expect(c.insecure)
        #expect(
            c.onTarget
                == OnTargetThresholds(
                    onDistanceMM: 1.5, onTiltDegrees: 3, onTwistDegrees: 5, dwellNanoseconds: 250_000_000, offDistanceMM: 3,
                    offTiltDegrees: 6, offTwistDegrees: 10))
        #expect(c.maxFrameAgeMilliseconds == 42.5)
        #expect(c.activeTarget == "F3")
        let nav = c.navigationConfiguration
        #expect(nav.coilToolName == "magstim" && nav.headToolName == "ref")
        #expect(nav.maxFrameAgeNanoseconds == 42_500_000)
        #expect(nav.onTarget == c.onTarget)
    }

    @Test func relativePathsResolveAgainstTheConfigurationFolder() throws {
        // A relative base (a configuration given as a relative path) stays relative.
        let c = try Self.parse(
            Self.text(["\"session\": \"/var/lib/coilnav/s\""], tracker: "replay://rec/a.jsonl?speed=2", plan: "../plans/p.json"),
            base: "configs")
        #expect(c.tracker == .replay(path: "configs/rec/a.jsonl", speed: 2))
        #expect(c.plan == "configs/../plans/p.json")
        #expect(c.session == "/var/lib/coilnav/s")
        // An absolute mock scenario is kept; an empty base (file in the working folder) keeps paths as written.
        let d = try Self.parse(Self.text(tracker: "mock:///srv/demo.json?seed=7"), base: "")
        #expect(d.tracker == .mock(scenarioPath: "/srv/demo.json", seed: 7))
        #expect(d.plan == "plan.json")
        #expect(ServeConfiguration.resolve("a/b.json", against: "/x/y") == "/x/y/a/b.json")
        #expect(ServeConfiguration.resolve("/a/b.json", against: "/x/y") == "/a/b.json")
    }

    @Test func theDemoConfigurationServesTheDemoPatient() throws {
        let path = repositoryPath("Mock/demo/serve.json")
        let c = try ServeConfiguration.load(path: path)
        let demo = repositoryPath("Mock/demo")
        #expect(c.tracker == .mock(scenarioPath: demo + "/../scenarios/demo-approach.json", seed: 1))
        #expect(c.plan == demo + "/plan.json")
        #expect(c.registration == demo + "/registration.json")
        #expect(c.toolSet == demo + "/../../Calibration/tools/toolset-mock-navigation.json")
        #expect(c.coilCalibration == demo + "/../../Calibration/coils/mock-coil.json")
        #expect(c.activeTarget == "DLPFC-Fox2012")
        #expect(c.onTarget == .standard && c.igtlPort == 18944 && c.jsonPort == 18945 && c.bind == "127.0.0.1")
        #expect(c.session == nil && c.insecure == false)
        // Every file it names exists and reads.
        let plan = try Plan.load(path: c.plan)
        #expect(plan.target(named: "DLPFC-Fox2012") != nil)
        let registration = try RegistrationRecord.load(path: try #require(c.registration))
        #expect(registration.fiducialResiduals.count == 5)
        let coil = try CoilCalibration.load(path: try #require(c.coilCalibration))
        #expect(coil.tool == c.coilTool)
        #expect(FileManager.default.fileExists(atPath: try #require(c.toolSet)))
        if case .mock(let scenario, _) = c.tracker { #expect(FileManager.default.fileExists(atPath: scenario)) }
    }

    @Test func overridesReplaceFileValuesAndAreChecked() throws {
        var c = try Self.parse(Self.text(["\"activeTarget\": \"F3\""]))
        try c.apply(
            ServeConfiguration.Overrides(
                tracker: .ndiSerial(path: "/dev/ttyUSB0", baud: nil), registration: "r.json", igtlPort: 20000, jsonPort: 0,
                bind: "0.0.0.0", session: "s", insecure: true, maxFrameAgeMilliseconds: 50))
        #expect(c.tracker == .ndiSerial(path: "/dev/ttyUSB0", baud: nil))
        #expect(c.registration == "r.json" && c.session == "s")  // used as given on the command line
        #expect(c.plan == "/cfg/plan.json" && c.activeTarget == "F3")  // untouched
        #expect(c.igtlPort == 20000 && c.jsonPort == 0 && c.bind == "0.0.0.0" && c.insecure)
        #expect(c.navigationConfiguration.maxFrameAgeNanoseconds == 50_000_000)
        // Public properties can be set directly too.
        c.onTarget.dwellNanoseconds = 0
        #expect(c.navigationConfiguration.onTarget.dwellNanoseconds == 0)

        var bad = c
        #expect(
            formatError { () throws(FileFormatError) in try bad.apply(.init(igtlPort: 70000)) }?.description
                == "command line: igtlPort: port 70000 is out of range 0…65535 (0 lets the system pick one)")
        bad = c
        #expect(
            formatError { () throws(FileFormatError) in try bad.apply(.init(igtlPort: 9000, jsonPort: 9000)) }?.description
                == "command line: jsonPort: igtlPort and jsonPort are both 9000; the two servers need different ports")
        bad = c
        #expect(
            formatError { () throws(FileFormatError) in try bad.apply(.init(pointerTool: "coil")) }?.description
                == "command line: pointerTool: pointerTool and coilTool are both \"coil\"; each tool needs its own name")
        bad = c
        #expect(
            formatError { () throws(FileFormatError) in try bad.apply(.init(bind: "localhost")) }?.description
                == "command line: bind: expected an IPv4 or IPv6 address such as \"127.0.0.1\", \"0.0.0.0\" or \"::1\", got \"localhost\"")
        bad = c
        #expect(
            formatError { () throws(FileFormatError) in try bad.apply(.init(maxFrameAgeMilliseconds: -1)) }?.description
                == "command line: maxFrameAgeMilliseconds: must be a positive number of milliseconds, got -1.0")
        bad = c
        bad.onTarget.offTiltDegrees = 1
        #expect(
            formatError { () throws(FileFormatError) in try bad.validate() }?.description
                == "configuration: onTarget.offTiltDegrees: must be at least onTiltDegrees (2.0), got 1.0")
    }

    @Test func errorsNameFileLineColumnAndField() {
        let expected = "\"activeTarget\", \"bind\", \"coilCalibration\", \"coilTool\", \"format\", \"headTool\", \"igtlPort\", \"insecure\", \"jsonPort\", \"maxFrameAgeMilliseconds\", \"onTarget\", \"plan\", \"pointerCalibration\", \"pointerTool\", \"registration\", \"session\", \"toolSet\", \"tracker\", \"version\""
        #expect(Self.message(["\"igtlport\": 1"]) == "c.json: line 6, column 5: igtlport: unknown field (expected one of \(expected))")
        #expect(Self.message(["\"insecure\": \"yes\""]) == "c.json: line 6, column 17: insecure: expected true or false, got the string \"yes\"")
        #expect(Self.message(["\"igtlPort\": 70000"]) == "c.json: line 6, column 17: igtlPort: port 70000 is out of range 0…65535 (0 lets the system pick one)")
        #expect(Self.message(["\"jsonPort\": -1"]) == "c.json: line 6, column 17: jsonPort: port -1 is out of range 0…65535 (0 lets the system pick one)")
        #expect(Self.message(["\"jsonPort\": 18944.5"]) == "c.json: line 6, column 17: jsonPort: expected a whole number, got 18944.5")
        #expect(Self.message(["\"jsonPort\": \"18945\""]) == "c.json: line 6, column 17: jsonPort: expected a whole number, got the string \"18945\"")
        #expect(
            Self.message(["\"igtlPort\": 9000", "\"jsonPort\": 9000"])
                == "c.json: line 7, column 17: jsonPort: igtlPort and jsonPort are both 9000; the two servers need different ports")
        #expect(Self.message([], plan: nil) == "c.json: line 1, column 1: plan: required field is missing")
        #expect(Self.message([], plan: "") == "c.json: line 5, column 13: plan: must not be empty")
        #expect(
            Self.message([], tracker: "usb://x")
                == "c.json: line 4, column 16: tracker: tracker URL \"usb://x\": unknown scheme \"usb\"; expected ndi-usb, ndi-serial, ndi-tcp, mock or replay")
        #expect(
            Self.message(["\"onTarget\": {\"dwellSeconds\": 0.5}"])
                == "c.json: line 6, column 18: onTarget.dwellSeconds: unknown field (expected one of \"dwellNanoseconds\", \"offDistanceMM\", \"offTiltDegrees\", \"offTwistDegrees\", \"onDistanceMM\", \"onTiltDegrees\", \"onTwistDegrees\")")
        #expect(
            Self.message(["\"onTarget\": {\"onDistanceMM\": 3}"])
                == "c.json: line 6, column 17: onTarget.offDistanceMM: must be at least onDistanceMM (3.0), got 2.0")
        #expect(
            Self.message(["\"onTarget\": {\"onDistanceMM\": 1, \"offDistanceMM\": 0.5}"])
                == "c.json: line 6, column 54: onTarget.offDistanceMM: must be at least onDistanceMM (1.0), got 0.5")
        #expect(Self.message(["\"onTarget\": {\"onTiltDegrees\": 0}"]) == "c.json: line 6, column 35: onTarget.onTiltDegrees: must be positive, got 0.0")
        #expect(
            Self.message(["\"onTarget\": {\"dwellNanoseconds\": -5}"])
                == "c.json: line 6, column 38: onTarget.dwellNanoseconds: must not be negative, got -5")
        #expect(Self.message(["\"onTarget\": [1]"]) == "c.json: line 6, column 17: onTarget: expected an object, got an array")
        #expect(
            Self.message(["\"bind\": \"localhost\""])
                == "c.json: line 6, column 13: bind: expected an IPv4 or IPv6 address such as \"127.0.0.1\", \"0.0.0.0\" or \"::1\", got \"localhost\"")
        #expect(
            Self.message(["\"headTool\": \"coil\""])
                == "c.json: line 6, column 17: headTool: headTool and coilTool are both \"coil\"; each tool needs its own name")
        #expect(Self.message(["\"coilTool\": \" \""]) == "c.json: line 6, column 17: coilTool: must not be empty")
        #expect(
            Self.message(["\"maxFrameAgeMilliseconds\": 0"])
                == "c.json: line 6, column 32: maxFrameAgeMilliseconds: must be a positive number of milliseconds, got 0.0")
        #expect(Self.message(["\"session\": 3"]) == "c.json: line 6, column 16: session: expected a string, got the number 3.0")
        #expect(Self.message(["\"activeTarget\": \"\""]) == "c.json: line 6, column 21: activeTarget: must not be empty")

        let wrongFormat = Self.text().replacingOccurrences(of: "coilnav-serve", with: "coilnav-plan")
        #expect(
            formatError { () throws(FileFormatError) in try Self.parse(wrongFormat) }?.description
                == "c.json: line 2, column 15: format: expected \"coilnav-serve\", got \"coilnav-plan\": this is not a CoilNav serve configuration file")
        let newer = Self.text().replacingOccurrences(of: "\"version\": 1", with: "\"version\": 2")
        #expect(
            formatError { () throws(FileFormatError) in try Self.parse(newer) }?.description
                == "c.json: line 3, column 16: version: unsupported serve configuration version 2: this CoilNav reads version 1; the file was written by a newer CoilNav")
        let trailingComma = Self.text().replacingOccurrences(of: "\"plan.json\"", with: "\"plan.json\",")
        #expect(
            formatError { () throws(FileFormatError) in try Self.parse(trailingComma) }?.description
                == "c.json: line 6, column 1: expected a member name in double quotes, got '}'")
        #expect(
            formatError { () throws(FileFormatError) in try ServeConfiguration.load(path: "/nonexistent/serve.json") }?.description
                == "/nonexistent/serve.json: cannot read the file: no such file or directory")
    }
}
