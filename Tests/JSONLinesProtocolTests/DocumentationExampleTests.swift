import Foundation
import Formats
import JSONLinesProtocol
import Navigation
import Testing

/// The example session in docs/json-lines-protocol.md stays true to the codec.
@Suite struct DocumentationExampleTests {
    static func transcript() throws -> [String] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/json-lines-protocol.md")
        let doc = try String(contentsOf: url, encoding: .utf8)
        let start = try #require(doc.range(of: "## Example session"))
        let block = doc[start.upperBound...].components(separatedBy: "```")[1]
        return block.split(separator: "\n").map(String.init).filter { $0.hasPrefix("> ") || $0.hasPrefix("< ") }
    }

    @Test func everyServerLineIsAJSONObjectWithAType() throws {
        let lines = try Self.transcript().filter { $0.hasPrefix("< ") }
        #expect(lines.count == 16)
        for line in lines {
            let root = try JSONDocument.parse(Data(line.dropFirst(2).utf8), source: "doc").rootField.object()
            #expect(["response", "frame", "event"].contains(try root.required("type").string()), "\(line)")
        }
    }

    /// Client lines parse as documented; the refused ones get exactly the documented error response.
    @Test func clientLinesParseOrGetTheDocumentedError() throws {
        let lines = try Self.transcript()
        var parsed: [JSONLRequest] = []
        var refusals = 0
        for (i, line) in lines.enumerated() where line.hasPrefix("> ") {
            do {
                parsed.append(try JSONLRequest.parse(String(line.dropFirst(2))))
            } catch {
                var bytes: [UInt8] = []
                JSONLEncoder.appendErrorResponse(error, into: &bytes)
                #expect("< " + text(bytes) == lines[i + 1] + "\n")
                refusals += 1
            }
        }
        #expect(refusals == 2)
        #expect(parsed.map(\.command.name) == [
            "hello", "targets", "select-target", "select-target", "subscribe", "pulse", "register", "accept-registration",
            "unsubscribe",
        ])
        #expect(parsed[5].command == .pulse(JSONLPulse(time: .ageMilliseconds(1), intensityPercentMSO: 65)))
        // The one session-changing request without a token is id 3, refused with `unauthorized`.
        #expect(parsed.filter { $0.command.changesSession && $0.token == nil }.map(\.id) == [.number(3)])
        #expect(parsed[2].token == nil && parsed[3].token == "5e0c…")
    }

    /// The frame lines of the example are the known scene's frames, as the encoder writes them.
    @Test func exampleFramesAreTheEncodersOutput() throws {
        let frames = try Self.transcript().filter { $0.hasPrefix(#"< {"type":"frame""#) }
        var p = Scene.processor()
        var bytes: [UInt8] = []
        let a = p.process(frame: Scene.frame(number: 1234, at: 5_000_000_000), nowNanoseconds: 5_002_500_000)
        JSONLEncoder.appendFrame(a, targetName: "M1 hand", pointerTipMRI: nil, pointerStatus: .missing, into: &bytes)
        let b = p.process(frame: Scene.frame(number: 1237, at: 5_050_000_000, coil: nil), nowNanoseconds: 5_050_400_000)
        JSONLEncoder.appendFrame(b, targetName: "M1 hand", pointerTipMRI: nil, pointerStatus: .missing, into: &bytes)
        #expect(frames.map { String($0.dropFirst(2)) + "\n" }.joined() == text(bytes))
        var event: [UInt8] = []
        JSONLEncoder.appendEvent(.validityChanged(frame: 1237, invalidity: b.invalidity), into: &event)
        #expect(try Self.transcript().contains("< " + text(event).dropLast()))
    }
}
