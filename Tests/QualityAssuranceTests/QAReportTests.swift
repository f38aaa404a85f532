import Formats
import Foundation
import Geometry
import Testing

@testable import QualityAssurance

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The report's files: report.json (every figure with its threshold and result), report.md, the
/// printed summary, and SVG plots that are well-formed XML and the same bytes every time.
@Suite struct QAReportTests {
    static let context = QAReportContext(
        date: "2026-05-01T09:00:00Z", trackerURL: "mock://qa.json?seed=3", phantomFile: "phantoms/small.json",
        pointerCalibrationFile: "pointers/p.json",
        pointerCalibration: PointerCalibration(
            tool: "pointer", tipMM: tipMM, method: "pivot", rmsMM: 0.1, date: "2026-04-01T08:00:00Z", toolSerial: "PT-7"
        ),
        toolSerials: ["pointer": "PT-7"])

    static func files() throws -> [String: Data] {
        let result = QAAnalysisTests.evaluate(QAAnalysisTests.recording())
        var out: [String: Data] = [:]
        for f in try QAReport.files(
            result: result, phantom: smallPhantom(thresholds: QAAnalysisTests.thresholds), context: Self.context)
        {
            out[f.name] = f.data
        }
        return out
    }

    @Test func reportJSONHoldsEveryFigureItsThresholdAndTheVerdict() throws {
        let files = try Self.files()
        #expect(files.keys.sorted() == ["errors.svg", "jitter.svg", "latency.svg", "report.json", "report.md"])
        let root = try #require(try JSONSerialization.jsonObject(with: files["report.json"]!) as? [String: Any])
        #expect(root["format"] as? String == "coilnav-qa-report" && root["version"] as? Int == 1)
        #expect(root["date"] as? String == "2026-05-01T09:00:00Z")
        #expect(root["verdict"] as? String == "fail")
        #expect(root["failures"] as? [String] == ["dropouts", "tre-D"])
        let tracker = try #require(root["tracker"] as? [String: Any])
        #expect(tracker["url"] as? String == "mock://qa.json?seed=3" && tracker["nominalFrameRateHz"] as? Double == 60)
        let phantom = try #require(root["phantom"] as? [String: Any])
        #expect(phantom["file"] as? String == "phantoms/small.json" && phantom["name"] as? String == "small")
        #expect((phantom["thresholds"] as? [String: Double])?["treMM"] == 1)
        #expect((phantom["thresholds"] as? [String: Double])?.count == 11)
        #expect(root["toolSerials"] as? [[String: String]] == [["tool": "pointer", "serial": "PT-7"]])
        let figures = try #require(root["figures"] as? [[String: Any]])
        #expect(figures.count == 11)
        let tre = try #require(figures.first { $0["id"] as? String == "tre-D" })
        #expect(tre["name"] as? String == "TRE at check point D")
        #expect(Swift.abs((tre["value"] as? Double ?? 0) - 3) < 1e-9)
        #expect(
            tre["threshold"] as? Double == 1 && tre["limit"] as? String == "max" && tre["result"] as? String == "fail"
                && tre["unit"] as? String == "mm")
        let rate = try #require(figures.first { $0["id"] as? String == "frame-rate" })
        #expect(
            rate["value"] as? Double == 58.2 && rate["threshold"] as? Double == 57 && rate["limit"] as? String == "min")
        #expect(rate["result"] as? String == "pass")
        let landmarks = try #require(root["landmarks"] as? [[String: Any]])
        #expect(landmarks.map { $0["name"] as? String } == ["A", "B", "C", "D"])
        #expect(landmarks[3]["role"] as? String == "check" && landmarks[3]["measuredMM"] as? [Double] == [50, 50, 43])
        #expect(landmarks[0]["residualMM"] != nil && landmarks[3]["treMM"] != nil)
        let frames = try #require(root["frames"] as? [String: Any])
        #expect(frames["received"] as? Int == 97 && frames["dropped"] as? Int == 3 && frames["span"] as? Int == 100)
        #expect(frames["firstFrameNumber"] as? Int == 500 && frames["lastFrameNumber"] as? Int == 599)
        let pivot = try #require(root["pivot"] as? [String: Any])
        #expect((pivot["windows"] as? [Any])?.count == 2)
        let latency = try #require(root["latency"] as? [String: Any])
        #expect(latency["p99MS"] as? Double == 0.75 && latency["samples"] as? Int == 100)
        #expect(
            (root["files"] as? [String: Any])?["plots"] as? [String] == ["jitter.svg", "errors.svg", "latency.svg"])
        #expect(root["problems"] as? [String] == [])
    }

    @Test func markdownAndSummaryNameEachFigureWithItsThreshold() throws {
        let result = QAAnalysisTests.evaluate(QAAnalysisTests.recording())
        let md = String(decoding: try Self.files()["report.md"]!, as: UTF8.self)
        #expect(
            md.hasPrefix(
                "# CoilNav QA report\n\n**FAIL** — dropped frames (gaps in device frame numbers); TRE at check point D.\n"
            ))
        #expect(md.contains("| TRE at check point D | 3.000 mm | ≤ 1.000 mm | FAIL |\n"))
        #expect(
            md.contains(
                "| frame rate (received frames over the device frame counter's span) | 58.20 Hz | ≥ 57.00 Hz | PASS |\n"
            ))
        #expect(md.contains("| serial of `pointer` | PT-7 |\n"))
        #expect(md.contains("| D | check | 50.00, 50.00, 40.00 | 50.00, 50.00, 43.00 | 3 | 3.000 (TRE) |\n"))
        for plot in QAReport.plotFiles { #expect(md.contains("](\(plot))")) }
        let summary = QAReport.summary(result: result)
        let lines = summary.split(separator: "\n").map(String.init)
        #expect(lines.count == 12)
        #expect(lines[9].hasPrefix("FAIL          TRE at check point D "))
        #expect(lines[9].hasSuffix("  3.000 mm        (threshold ≤ 1.000 mm)"))
        #expect(lines[0].hasPrefix("PASS          jitter RMS of phantom (3-D) "))
        #expect(
            lines[11]
                == "QA FAILED: dropped frames (gaps in device frame numbers) 3.000 % (threshold ≤ 2.000 %); TRE at check point D 3.000 mm (threshold ≤ 1.000 mm)"
        )
    }

    @Test func plotsAreWellFormedSVGAndDeterministic() throws {
        let first = try Self.files()
        let second = try Self.files()
        for name in QAReport.plotFiles + ["report.json", "report.md"] {
            #expect(first[name] == second[name], "\(name)")
        }
        let jitter = try SVGSummary(first["jitter.svg"]!)
        #expect(jitter.root == "svg")
        // Two panels: 8 samples each, plus the threshold circle in each.
        #expect(jitter.count("circle") == 18)
        let errors = try SVGSummary(first["errors.svg"]!)
        // Background, plot area, four bars.
        #expect(errors.count("rect") == 6)
        #expect(errors.texts.contains("3.00"))
        let latency = try SVGSummary(first["latency.svg"]!)
        // Background, plot area, three non-empty bins.
        #expect(latency.count("rect") == 5)
        #expect(latency.texts.contains("Latency: 100 frames, p50 0.250 ms, p99 0.750 ms, max 1.500 ms"))
    }

    @Test func missingDataStillMakesWellFormedPlotsAndTextIsEscaped() throws {
        for svg in [QAPlots.jitter(nil, thresholdMM: 1), QAPlots.latency(nil, thresholdMS: 5)] {
            #expect(try SVGSummary(Data(svg.utf8)).texts.contains("not measured"))
        }
        let noLandmarks = try SVGSummary(
            Data(QAPlots.landmarkErrors([], freMM: nil, thresholds: lenientThresholds).utf8))
        #expect(noLandmarks.root == "svg" && noLandmarks.count("rect") == 2)
        #expect(SVGCanvas.escaped("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;")
        var c = SVGCanvas(width: 10, height: 10)
        c.text("L<1> & \u{1}", x: 1, y: 1)
        let s = try SVGSummary(Data(c.render(title: "t & u").utf8))
        #expect(s.texts.contains("L<1> &  "))
    }
}

/// An SVG read back with Foundation's XML parser: fails unless well-formed.
final class SVGSummary: NSObject, XMLParserDelegate {
    private(set) var root: String?
    private(set) var elements: [String] = []
    private(set) var texts: [String] = []
    private var text = ""
    private var inText = false

    init(_ data: Data) throws {
        super.init()
        let parser = XMLParser(data: data)
        parser.delegate = self
        guard parser.parse() else {
            throw QATestError(
                "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?") in \(String(decoding: data, as: UTF8.self).prefix(300))"
            )
        }
    }

    func count(_ element: String) -> Int { self.elements.filter { $0 == element }.count }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if self.root == nil { self.root = name }
        self.elements.append(name)
        if name == "text" {
            self.inText = true
            self.text = ""
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if self.inText { self.text += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" {
            self.texts.append(self.text)
            self.inText = false
        }
    }
}
