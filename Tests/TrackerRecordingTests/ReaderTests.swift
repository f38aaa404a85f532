import Formats
import Foundation
import Geometry
import NDITracker
import Testing
import TrackerCore
import TrackerRecording

/// The reader is strict and says where: file, line, column, field.
@Suite struct ReaderTests {
    static let header = RecordingLines.header(testHeader())
    static let frame1 = #"{"type":"frame","atNanoseconds":1000100000,"frame":7,"hostReceiveNanoseconds":1000000000,"systemStatus":0,"tools":[{"name":"coil","handle":2,"status":"ok","portStatus":49,"rotation":[1.0,0.0,0.0,0.0,1.0,0.0,0.0,0.0,1.0],"translationMM":[1.5,-2.0,-1450.0],"rmsMM":0.15}]}"#
    static let frame2 = #"{"type":"frame","atNanoseconds":1000200000,"frame":8,"hostReceiveNanoseconds":1000150000,"systemStatus":0,"tools":[{"name":"coil","handle":2,"status":"missing","portStatus":49}]}"#
    static let end2 = #"{"type":"end","atNanoseconds":1000300000,"frames":2,"lostFrames":0,"lostOtherEvents":0,"skippedDeviceFrames":0}"#

    func parse(_ lines: [String], final: String = "\n") throws(FileFormatError) -> Recording {
        try Recording.parse(Data((lines.joined(separator: "\n") + final).utf8), source: "rec.jsonl")
    }

    func message(_ lines: [String], final: String = "\n") -> String? {
        do {
            _ = try self.parse(lines, final: final)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func aCompleteRecordingReadsBack() throws {
        let r = try self.parse([Self.header.dropLast().description, Self.frame1, Self.frame2, Self.end2])
        #expect(r.header == testHeader())
        #expect(r.frameCount == 2)
        #expect(r.warnings == [])
        #expect(r.frames.map(\.deviceFrameNumber) == [7, 8])
        #expect(r.frames[0].tools[0].toolToTracker == .translation(Vector3(1.5, -2, -1450)))
        #expect(r.frames[0].tools[0].rmsErrorMM == 0.15)
        #expect(r.frames[1].tools[0] == ToolSample(name: "coil", handle: 2, status: .missing, portStatus: 49))
        #expect(r.records.map(\.atNanoseconds) == [1_000_100_000, 1_000_200_000])
        #expect(r.summary?.frames == 2)
    }

    @Test func anEmptyFileIsAnError() {
        #expect(self.message([""], final: "") == "rec.jsonl: the recording is empty (no header line): the recorder did not start writing")
    }

    @Test func aHeaderWithoutEventsIsAnError() {
        #expect(
            self.message([Self.header.dropLast().description])
                == "rec.jsonl: line 2: the recording has a header but no events: nothing was recorded (did the tracker ever answer?)")
        #expect(
            self.message([String(Self.header.prefix(40))], final: "")
                == "rec.jsonl: line 1: the header line is incomplete (40 bytes without a final newline): the recorder was stopped while writing it")
    }

    @Test func aHeaderOfAnotherFormatIsAnError() {
        #expect(
            self.message([#"{"format":"coilnav-pulses","version":1}"#, Self.frame1])
                == #"rec.jsonl: line 1, column 11: format: expected "coilnav-recording", got "coilnav-pulses": this is not a CoilNav recording file"#)
        let newer = Self.header.replacingOccurrences(of: #""version":1"#, with: #""version":2"#).dropLast().description
        #expect(
            self.message([newer, Self.frame1])
                == "rec.jsonl: line 1, column 41: version: unsupported recording version 2: this CoilNav reads version 1; the file was written by a newer CoilNav")
        let noClock = Self.header.replacingOccurrences(of: #","clock":"test""#, with: "").dropLast().description
        #expect(self.message([noClock, Self.frame1]) == "rec.jsonl: line 1, column 1: clock: required field is missing")
    }

    @Test func aBadFieldNamesTheLineTheColumnAndThePath() {
        let badStatus = Self.frame2.replacingOccurrences(of: #""missing""#, with: #""lost""#)
        #expect(
            self.message([Self.header.dropLast().description, Self.frame1, badStatus])
                == #"rec.jsonl: line 3, column 151: tools[0].status: expected one of "ok", "missing", "partly-out-of-volume", "disabled", got "lost""#)
        let shortRotation = Self.frame1.replacingOccurrences(of: "0.0,0.0,0.0,1.0]", with: "0.0,0.0,1.0]")
        #expect(
            self.message([Self.header.dropLast().description, shortRotation])
                == "rec.jsonl: line 2, column 183: tools[0].rotation: expected an array of 9 numbers, got 8 elements")
        let reflection = Self.frame1.replacingOccurrences(of: "[1.0,0.0,0.0,0.0,1.0", with: "[-1.0,0.0,0.0,0.0,1.0")
        #expect(
            self.message([Self.header.dropLast().description, reflection])
                == "rec.jsonl: line 2, column 183: tools[0].rotation: not a rotation: a reflection (determinant -1.0)")
        let poseWhenMissing = Self.frame2.replacingOccurrences(of: #""portStatus":49}"#, with: #""portStatus":49,"translationMM":[0,0,0]}"#)
        #expect(
            self.message([Self.header.dropLast().description, poseWhenMissing])
                == "rec.jsonl: line 2, column 193: tools[0].translationMM: a tool with status missing carries no pose")
        let hugeHandle = Self.frame2.replacingOccurrences(of: #""handle":2"#, with: #""handle":256"#)
        #expect(
            self.message([Self.header.dropLast().description, hugeHandle])
                == "rec.jsonl: line 2, column 140: tools[0].handle: expected a whole number in 0…255 written without fraction or exponent, got 256")
        let unknownKey = Self.frame2.replacingOccurrences(of: #""systemStatus":0"#, with: #""systemStatus":0,"colour":"red""#)
        #expect(
            self.message([Self.header.dropLast().description, unknownKey])
                == #"rec.jsonl: line 2, column 107: colour: unknown field (expected one of "atNanoseconds", "frame", "hostReceiveNanoseconds", "systemStatus", "tools", "type")"#)
        #expect(
            self.message([Self.header.dropLast().description, #"{"type":"pose","atNanoseconds":5}"#])
                == #"rec.jsonl: line 2, column 9: type: unknown record type "pose" (expected "frame", "state", "warning", "lost" or "end")"#)
        #expect(
            self.message([Self.header.dropLast().description, #"{"type":"state","atNanoseconds":5,"state":"tracking""#])
                == "rec.jsonl: line 2, column 53: the line ends inside an object (expected ',' or '}' after an object member)")
    }

    @Test func anEmptyLineIsAnError() {
        #expect(
            self.message([Self.header.dropLast().description, Self.frame1, "", Self.frame2])
                == "rec.jsonl: line 3: an empty line (every line holds one record)")
    }

    @Test func timeMustNotGoBack() {
        let early = Self.frame2.replacingOccurrences(of: "1000200000", with: "1000000000")
        #expect(
            self.message([Self.header.dropLast().description, Self.frame1, early])
                == "rec.jsonl: line 3, column 33: atNanoseconds: time goes back: 1000000000 follows 1000100000")
    }

    @Test func theEndRecordIsLastAndCountsTheFrames() {
        #expect(
            self.message([Self.header.dropLast().description, Self.frame1, Self.end2])
                == "rec.jsonl: line 3: frames: the end record counts 2 frames, but the file holds 1")
        #expect(
            self.message([Self.header.dropLast().description, Self.frame1, Self.frame2, Self.end2, Self.frame2])
                == "rec.jsonl: line 5: a line after the end record (the end record must be the last line)")
    }

    /// A recorder killed while writing leaves a torn last line: it is skipped with a warning, and
    /// the missing end record is a warning too; every complete line is read.
    @Test func aTornLastLineIsToleratedWithAWarning() throws {
        let torn = String(Self.frame2.prefix(57))
        let r = try self.parse([Self.header.dropLast().description, Self.frame1, torn], final: "")
        #expect(r.frameCount == 1)
        #expect(r.summary == nil)
        #expect(
            r.warnings == [
                "rec.jsonl: line 3: the last line is incomplete (57 bytes without a final newline; the recorder was stopped while writing it?); it was not read",
                "rec.jsonl: no end record: the recording was not finished (the recorder was killed?); its 1 frames are read",
            ])
    }
}

/// The example in docs/file-formats.md is a real recording.
@Suite struct DocumentationExampleTests {
    @Test func theDocumentedExampleReadsAsDescribed() throws {
        let text = try String(contentsOfFile: Paths.repo("docs/file-formats.md"), encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex { $0.hasPrefix(#"{"format":"coilnav-recording""#) })
        let end = try #require(lines[start...].firstIndex(of: "```"))
        let block = lines[start..<end].map { $0 + "\n" }.joined()
        let r = try Recording.parse(Data(block.utf8), source: "doc")
        #expect(r.warnings == [])
        #expect(r.header.frameRateHz == 200)
        #expect(r.header.tools.map(\.name) == ["head", "coil"])
        #expect(r.frameCount == 1)
        #expect(r.frames[0].tools.map(\.status) == [.ok, .missing])
        #expect(r.frames[0].hostReceiveNanoseconds == 227_981_094)
        #expect(r.summary == RecordingSummary(atNanoseconds: 3_263_486_138, frames: 1, lostFrames: 4, lostOtherEvents: 0, skippedDeviceFrames: 0))
        // Every line is exactly what the writer writes.
        var written = RecordingLines.header(r.header)
        for record in r.records { RecordingLines.append(record, to: &written) }
        RecordingLines.append(.end(r.summary!), to: &written)
        #expect(written == block)
    }
}
