import Foundation
import Readout
import Testing

/// docs/readout.md stays true: its example screens and plain lines are what the code draws.
@Suite struct DocumentationTests {
    static let doc: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("docs/readout.md"), encoding: .utf8)) ?? ""
    }()

    /// The fenced blocks of the page, in order.
    static var blocks: [String] {
        var out: [String] = []
        var current: [Substring]?
        for line in Self.doc.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                if let c = current {
                    out.append(c.joined(separator: "\n"))
                    current = nil
                } else {
                    current = []
                }
            } else {
                current?.append(line)
            }
        }
        return out
    }

    @Test func exampleScreensAreTheRenderersText() {
        let screens = Self.blocks.filter { $0.hasPrefix(" CoilNav watch") }
        #expect(screens.count == 2)
        #expect(screens.first == Known.text(ReadoutRenderer.render(Known.state(Known.onTargetFrame), at: 10 * Known.second, columns: 100, rows: 34, colour: false)))
        #expect(screens.last == Known.text(ReadoutRenderer.render(Known.state(Known.farFrame), at: 10 * Known.second, columns: 80, rows: 24, colour: false)))
    }

    @Test func examplePlainLinesAreTheFormattersText() throws {
        let block = try #require(Self.blocks.first { $0.hasPrefix("frame=") })
        let lines = block.split(separator: "\n").map(String.init)
        var lost = Known.state(Known.onTargetFrame)
        lost.apply(.event(.trackingLost(lastFrame: 2123, silenceMs: 100)), at: 10 * Known.second + 100_000_000)
        var gone = ReadoutState(serverLabel: "127.0.0.1:18945")
        gone.setConnection(.unreachable(reason: "connection refused", attempt: 3, sinceNanoseconds: 0))
        #expect(
            lines == [
                PlainLine.line(Known.state(Known.onTargetFrame), at: 10 * Known.second),
                PlainLine.line(Known.state(Known.coilMissingFrame), at: 10 * Known.second),
                PlainLine.line(lost, at: 11 * Known.second + 300_000_000),
                PlainLine.line(gone, at: 2_500_000_000),
            ])
        // The field table lists every field, in order.
        let table = Self.doc.split(separator: "\n").filter { $0.hasPrefix("| `") }.map { row in
            row.dropFirst(2).prefix { $0 != "|" }
        }
        let documented = table.flatMap { cell in cell.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`")) } }
        #expect(PlainLine.fields.allSatisfy { documented.contains($0) }, "\(documented)")
    }
}
