import Foundation
import Geometry
import Testing

@testable import Formats

/// Three pulses with exactly representable poses: a valid one (90° about z, moved to
/// (10, 20, 30)), an invalid one (coil missing, no pose), a valid one (90° about x, moved to
/// (−40.5, 12.25, 60)) whose label needs CSV quoting.
enum PulseFixtures {
    static let rz90 = RigidTransform(rotation: Matrix3(rows: Vector3(0, -1, 0), Vector3(1, 0, 0), Vector3(0, 0, 1)), translation: Vector3(10, 20, 30))
    static let rx90 = RigidTransform(rotation: Matrix3(rows: Vector3(1, 0, 0), Vector3(0, 0, -1), Vector3(0, 1, 0)), translation: Vector3(-40.5, 12.25, 60))

    static let pulses: [PulseRecord] = [
        PulseRecord(
            index: 1, timeNanoseconds: 5_000_000_000, wallClock: "2026-11-22T03:10:00.123Z", targetName: "L-DLPFC", isValid: true,
            frameBefore: 100, frameAfter: 101, interpolationFraction: 0.25, coilToMRI: rz90,
            coilToTarget: .translation(Vector3(0, 1.5, -2)), distanceMM: 2.5, inPlaneAtCoilMM: 1.5, inPlaneAtCortexMM: 1.5,
            depthMM: -2, tiltDegrees: 0, twistDegrees: 0, onTarget: true, intensityPercentMSO: 65, label: "first"),
        PulseRecord(
            index: 2, timeNanoseconds: 5_250_000_000, wallClock: "2026-11-22T03:10:00.373Z", targetName: "L-DLPFC", isValid: false,
            invalidReasons: ["coil missing"], frameBefore: 112, onTarget: false, intensityPercentMSO: 65),
        PulseRecord(
            index: 3, timeNanoseconds: 6_000_500_000, wallClock: "2026-11-22T03:10:01.123Z", isValid: true, coilToMRI: rx90,
            onTarget: false, label: "a, \"quoted\" label"),
    ]

    static let lines = [
        #"{"index":1,"timeNanoseconds":5000000000,"wallClock":"2026-11-22T03:10:00.123Z","targetName":"L-DLPFC","isValid":true,"invalidReasons":[],"frameBefore":100,"frameAfter":101,"interpolationFraction":0.25,"coilToMRI":[[0,-1,0,10],[1,0,0,20],[0,0,1,30],[0,0,0,1]],"coilToTarget":[[1,0,0,0],[0,1,0,1.5],[0,0,1,-2],[0,0,0,1]],"distanceMM":2.5,"inPlaneAtCoilMM":1.5,"inPlaneAtCortexMM":1.5,"depthMM":-2,"tiltDegrees":0,"twistDegrees":0,"onTarget":true,"intensityPercentMSO":65,"label":"first"}"#,
        #"{"index":2,"timeNanoseconds":5250000000,"wallClock":"2026-11-22T03:10:00.373Z","targetName":"L-DLPFC","isValid":false,"invalidReasons":["coil missing"],"frameBefore":112,"onTarget":false,"intensityPercentMSO":65}"#,
        #"{"index":3,"timeNanoseconds":6000500000,"wallClock":"2026-11-22T03:10:01.123Z","isValid":true,"invalidReasons":[],"coilToMRI":[[1,0,0,-40.5],[0,0,-1,12.25],[0,1,0,60],[0,0,0,1]],"onTarget":false,"label":"a, \"quoted\" label"}"#,
    ]

    /// The whole log file for `pulses`.
    static var logText: String { #"{"format":"coilnav-pulses","version":1}"# + "\n" + lines.map { $0 + "\n" }.joined() }
}

/// A fresh temporary directory.
func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("coilnav-pulses-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct PulseRecordTests {
    @Test func jsonLinesHaveTheDocumentedExactText() throws {
        for (p, line) in zip(PulseFixtures.pulses, PulseFixtures.lines) {
            #expect(try p.jsonLine() == line + "\n")
        }
    }

    @Test func linesReadBackBitForBit() throws {
        for (i, (p, line)) in zip(PulseFixtures.pulses, PulseFixtures.lines).enumerated() {
            let back = try PulseRecord.parse(line: Data(line.utf8), source: "p.jsonl", lineNumber: i + 2)
            #expect(back == p)
        }
        // An awkward pose and numbers that need the full 17 digits come back exactly too.
        let pose = RigidTransform(rotation: Quaternion(axis: Vector3(0.3, -0.5, 0.8).normalized, angleRadians: 0.35), translation: Vector3(12.1, -35.7, 48.3))
        let p = PulseRecord(
            index: 7, timeNanoseconds: UInt64.max, wallClock: "2026-11-22T23:59:59.999Z", isValid: true, coilToMRI: pose,
            coilToTarget: pose.inverse, distanceMM: 0.1 + 0.2, depthMM: -1e-7, twistDegrees: -179.99999999999997, intensityPercentMSO: 100)
        let line = try p.jsonLine()
        #expect(line.contains(#""timeNanoseconds":18446744073709551615,"#))
        #expect(line.contains(#""distanceMM":0.30000000000000004,"#))
        #expect(line.contains(#""depthMM":-1e-07,"#))
        let back = try PulseRecord.parse(line: Data(line.dropLast().utf8), source: "p.jsonl", lineNumber: 1)
        #expect(back == p)
    }

    @Test func writingRefusesRecordsThatBreakTheRules() {
        var p = PulseFixtures.pulses[0]
        p.coilToMRI = nil
        #expect(formatError { () throws(FileFormatError) in try p.jsonLine(destination: "s/pulses.jsonl") }?.description
            == "s/pulses.jsonl: pulse 1.coilToMRI: a valid pulse needs a coil pose")
        p = PulseFixtures.pulses[1]
        p.invalidReasons = []
        #expect(formatError { () throws(FileFormatError) in try p.jsonLine() }?.description
            == "pulses: pulse 2.invalidReasons: an invalid pulse needs at least one reason")
        p.invalidReasons = ["a;b"]
        #expect(formatError { () throws(FileFormatError) in try p.jsonLine() }?.description
            == #"pulses: pulse 2.invalidReasons[0]: must not contain ';' or control characters, got "a;b""#)
        p = PulseFixtures.pulses[0]
        p.wallClock = "2026-11-22T03:10:00Z"
        #expect(formatError { () throws(FileFormatError) in try p.jsonLine() }?.description
            == #"pulses: pulse 1.wallClock: expected an ISO 8601 UTC time with milliseconds such as "2026-11-22T03:10:00.123Z", got "2026-11-22T03:10:00Z""#)
        p = PulseFixtures.pulses[0]
        p.interpolationFraction = 1.5
        #expect(formatError { () throws(FileFormatError) in try p.jsonLine() }?.description
            == "pulses: pulse 1.interpolationFraction: must be in [0, 1], got 1.5")
        p.interpolationFraction = .nan
        #expect(formatError { () throws(FileFormatError) in try p.jsonLine() }?.description
            == "pulses: pulse 1.interpolationFraction: must be a finite number, got nan")
    }

    @Test func readingNamesLineColumnAndField() {
        func error(_ text: String, line: Int = 9) -> String? {
            formatError { () throws(FileFormatError) in try PulseRecord.parse(line: Data(text.utf8), source: "pulses.jsonl", lineNumber: line) }?.description
        }
        let good = PulseFixtures.lines[1]
        #expect(error(good.replacingOccurrences(of: #""frameBefore""#, with: #""frameBefor""#))?
            .hasPrefix(#"pulses.jsonl: line 9, column 153: frameBefor: unknown field (expected one of "coilToMRI", "#) == true)
        #expect(error(good.replacingOccurrences(of: #""isValid":false,"#, with: ""))
            == "pulses.jsonl: line 9, column 1: isValid: required field is missing")
        #expect(error(good.replacingOccurrences(of: "112", with: "-1"))
            == "pulses.jsonl: line 9, column 167: frameBefore: expected a frame number in 0…4294967295, got -1")
        #expect(error(good.replacingOccurrences(of: "5250000000", with: "5.25e9"))
            == "pulses.jsonl: line 9, column 30: timeNanoseconds: expected a whole number of nanoseconds in 0…18446744073709551615 written without fraction or exponent, got 5.25e9")
        #expect(error(good.replacingOccurrences(of: #"["coil missing"]"#, with: "[]"))
            == "pulses.jsonl: line 9, column 136: invalidReasons: an invalid pulse needs at least one reason")
        #expect(error(String(good.dropLast()), line: 4) == "pulses.jsonl: line 4, column 212: the file ends inside an object (expected ',' or '}' after an object member)")
        // A rotation that is not rigid, located at the matrix.
        let scaled = PulseFixtures.lines[0].replacingOccurrences(of: "[[0,-1,0,10]", with: "[[0,-2,0,10]")
        #expect(error(scaled)?.hasPrefix("pulses.jsonl: line 9, column 214: coilToMRI: the rotation part is not orthonormal") == true)
    }
}

@Suite struct PulseLogTests {
    @Test func createAppendReopen() throws {
        let path = try temporaryDirectory() + "/pulses.jsonl"
        do {
            let log = try PulseLog.open(path: path)
            #expect(log.records.isEmpty)
            #expect(log.recoveredWarning == nil)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == #"{"format":"coilnav-pulses","version":1}"# + "\n")
            for p in PulseFixtures.pulses { try log.append(p) }
            #expect(log.records == PulseFixtures.pulses)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == PulseFixtures.logText)
        let again = try PulseLog.open(path: path)
        #expect(again.records == PulseFixtures.pulses)
        #expect(again.recoveredWarning == nil)
        let next = PulseRecord(index: 4, timeNanoseconds: 7_000_000_000, wallClock: "2026-11-22T03:10:02.123Z", isValid: false, invalidReasons: ["head missing", "stale frame"])
        try again.append(next)
        #expect(try PulseLogContents.read(path: path).records == PulseFixtures.pulses + [next])
    }

    @Test func indicesMustIncrease() throws {
        let path = try temporaryDirectory() + "/pulses.jsonl"
        let log = try PulseLog.open(path: path)
        try log.append(PulseFixtures.pulses[1])
        #expect(formatError { () throws(FileFormatError) in try log.append(PulseFixtures.pulses[0]) }?.description
            == "\(path): pulse 1.index: pulse indices must increase: 1 follows 2")
        #expect(log.records == [PulseFixtures.pulses[1]])
        // The refused pulse left nothing in the file.
        #expect(try String(contentsOfFile: path, encoding: .utf8) == #"{"format":"coilnav-pulses","version":1}"# + "\n" + PulseFixtures.lines[1] + "\n")
    }

    @Test func aTornLastLineIsCutOffAndReported() throws {
        let path = try temporaryDirectory() + "/pulses.jsonl"
        let torn = #"{"index":4,"timeNanoseconds":70"#
        try Data((PulseFixtures.logText + torn).utf8).write(to: URL(fileURLWithPath: path))
        // Reading for export leaves the file alone and reports the line.
        let contents = try PulseLogContents.read(path: path)
        #expect(contents.records == PulseFixtures.pulses)
        #expect(contents.tornLastLine?.description
            == "\(path): line 5: the last line is incomplete (31 bytes without a final newline; a crash while writing?); it was not read")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == PulseFixtures.logText.utf8.count + 31)
        // Opening for appending cuts it off, so the next pulse starts on a clean line.
        let log = try PulseLog.open(path: path)
        #expect(log.recoveredWarning == contents.tornLastLine)
        #expect(log.records == PulseFixtures.pulses)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == PulseFixtures.logText)
        let next = PulseRecord(index: 4, timeNanoseconds: 7_000_000_000, wallClock: "2026-11-22T03:10:02.123Z", isValid: false, invalidReasons: ["coil missing"])
        try log.append(next)
        #expect(try PulseLogContents.read(path: path).records == PulseFixtures.pulses + [next])
    }

    @Test func aCrashBeforeTheHeaderWasCompleteGivesAnEmptyLog() throws {
        let path = try temporaryDirectory() + "/pulses.jsonl"
        try Data(#"{"format":"coilnav-pu"#.utf8).write(to: URL(fileURLWithPath: path))
        let log = try PulseLog.open(path: path)
        #expect(log.records.isEmpty)
        #expect(log.recoveredWarning?.line == 1)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == #"{"format":"coilnav-pulses","version":1}"# + "\n")
    }

    @Test func aBadLineBeforeTheEndIsAnErrorWithItsLine() throws {
        let path = try temporaryDirectory() + "/pulses.jsonl"
        var lines = PulseFixtures.logText.split(separator: "\n").map(String.init)
        lines[2] = lines[2].replacingOccurrences(of: #""onTarget":false"#, with: #""onTarget":"no""#)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        let e = formatError { () throws(FileFormatError) in try PulseLog.open(path: path) }
        #expect(e?.description == #"\#(path): line 3, column 182: onTarget: expected true or false, got the string "no""#)
        // The file was not changed.
        #expect(try String(contentsOfFile: path, encoding: .utf8) == lines.joined(separator: "\n") + "\n")

        // Indices out of order in the file.
        var swapped = PulseFixtures.logText.split(separator: "\n").map(String.init)
        swapped.swapAt(1, 2)
        try Data((swapped.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        #expect(formatError { () throws(FileFormatError) in try PulseLogContents.read(path: path) }?.description
            == "\(path): line 3: index: pulse indices must increase: 1 follows 2")
    }

    @Test func theHeaderIsChecked() throws {
        func error(_ header: String) -> String? {
            formatError { () throws(FileFormatError) in try PulseLogContents.parse(Data((header + "\n").utf8), source: "p.jsonl") }?.description
        }
        #expect(error(#"{"format":"coilnav-pulses","version":2}"#)
            == "p.jsonl: line 1, column 38: version: unsupported pulse log version 2: this CoilNav reads version 1; the file was written by a newer CoilNav")
        #expect(error(#"{"format":"coilnav-plan","version":1}"#)
            == #"p.jsonl: line 1, column 11: format: expected "coilnav-pulses", got "coilnav-plan": this is not a CoilNav pulse log file"#)
        #expect(error(PulseFixtures.lines[0])?.hasPrefix("p.jsonl: line 1, column 1: format: required field is missing") == true)
    }

    @Test func failuresNameThePathAndTheSystemReason() throws {
        let dir = try temporaryDirectory()
        #expect(formatError { () throws(FileFormatError) in try PulseLog.open(path: dir + "/missing/pulses.jsonl") }?.description
            == "\(dir)/missing/pulses.jsonl: cannot open the pulse log: No such file or directory (errno 2)")
        // A device is refused before anything is read or written (opening /dev/null is harmless).
        #expect(formatError { () throws(FileFormatError) in try PulseLog.open(path: "/dev/null") }?.description
            == "/dev/null: cannot open the pulse log: not a regular file")
        #expect(formatError { () throws(FileFormatError) in try PulseLog.open(path: dir) }?.description
            == "\(dir): cannot open the pulse log: Is a directory (errno 21)")
        let log = try PulseLog.open(path: dir + "/pulses.jsonl")
        log.close()
        #expect(formatError { () throws(FileFormatError) in try log.append(PulseFixtures.pulses[0]) }?.description
            == "\(dir)/pulses.jsonl: the pulse log is closed")
    }
}
