import Formats
import Foundation
import Geometry

/// What a report says about the run besides its figures.
public struct QAReportContext: Sendable, Equatable {
    /// When the run ended (ISO 8601, from the caller's injected clock).
    public var date: String
    public var trackerURL: String
    public var phantomFile: String
    public var pointerCalibrationFile: String?
    public var pointerCalibration: PointerCalibration
    /// Tool serial numbers known (from calibration files), by tool name.
    public var toolSerials: [String: String]
    /// Set when a mock tracker was played faster than real time.
    public var mockSpeed: Double?

    public init(
        date: String, trackerURL: String, phantomFile: String, pointerCalibrationFile: String?,
        pointerCalibration: PointerCalibration,
        toolSerials: [String: String], mockSpeed: Double? = nil
    ) {
        self.date = date
        self.trackerURL = trackerURL
        self.phantomFile = phantomFile
        self.pointerCalibrationFile = pointerCalibrationFile
        self.pointerCalibration = pointerCalibration
        self.toolSerials = toolSerials
        self.mockSpeed = mockSpeed
    }
}

/// The files a QA run writes: `report.json` (every figure and its threshold, the details behind
/// them), `report.md` (the same for people, with the plots) and the three SVG plots. Pure: the
/// caller writes the returned bytes.
public enum QAReport {
    public static let format = "coilnav-qa-report"
    public static let version = 1
    public static let plotFiles = ["jitter.svg", "errors.svg", "latency.svg"]

    /// Every file of the report, by name.
    public static func files(result: QAResult, phantom: QAPhantom, context: QAReportContext) throws(FileFormatError)
        -> [(name: String, data: Data)]
    {
        [
            (
                "report.json",
                try JSONWriter.serialize(
                    Self.json(result: result, phantom: phantom, context: context), destination: "report.json")
            ),
            ("report.md", Data(Self.markdown(result: result, phantom: phantom, context: context).utf8)),
            ("jitter.svg", Data(QAPlots.jitter(result.jitter, thresholdMM: phantom.thresholds.jitterMaxMM).utf8)),
            (
                "errors.svg",
                Data(
                    QAPlots.landmarkErrors(
                        result.landmarks, freMM: result.accuracy?.freMM, thresholds: phantom.thresholds
                    ).utf8)
            ),
            ("latency.svg", Data(QAPlots.latency(result.latency, thresholdMS: phantom.thresholds.latencyP99MS).utf8)),
        ]
    }

    // MARK: JSON

    static func vector(_ v: Vector3) -> JSONValue { .vector(v) }
    static func number(_ x: Double?) -> JSONValue? { x.map { .number($0) } }

    public static func figureResult(_ f: QAFigure) -> String {
        switch f.passed {
        case true?: return "pass"
        case false?: return "fail"
        case nil: return "not measured"
        }
    }

    package static func json(result: QAResult, phantom: QAPhantom, context: QAReportContext) -> JSONValue {
        let t = phantom.thresholds
        let thresholds = JSONValue.object([
            "jitterRMSMM": .number(t.jitterRMSMM), "jitterMaxMM": .number(t.jitterMaxMM),
            "minFrameRateFraction": .number(t.minFrameRateFraction), "maxDropoutPercent": .number(t.maxDropoutPercent),
            "pivotRMSMM": .number(t.pivotRMSMM), "pivotTipSpreadMM": .number(t.pivotTipSpreadMM),
            "pivotPointSpreadMM": .number(t.pivotPointSpreadMM),
            "tipCalibrationDeviationMM": .number(t.tipCalibrationDeviationMM),
            "freMM": .number(t.freMM), "treMM": .number(t.treMM), "latencyP99MS": .number(t.latencyP99MS),
        ])
        let figures = result.figures.map { f in
            JSONValue.object([
                "id": .string(f.id), "name": .string(f.name), "value": Self.number(f.value), "unit": .string(f.unit),
                "threshold": .number(f.limit.value), "limit": .string(f.limit.kind),
                "result": .string(Self.figureResult(f)),
                "note": f.note.map { .string($0) },
            ])
        }
        let serials = context.toolSerials.keys.sorted().map {
            JSONValue.object(["tool": .string($0), "serial": .string(context.toolSerials[$0]!)])
        }
        let pc = context.pointerCalibration

        var jitter: JSONValue? = nil
        if let j = result.jitter {
            jitter = .object([
                "tool": .string(j.tool), "pointMM": Self.vector(j.pointMM), "samples": .number(j.samples),
                "framesWithoutTool": .number(j.framesWithoutTool), "meanMM": Self.vector(j.meanMM),
                "rmsMM": .number(j.rmsMM),
                "maxMM": .number(j.maxMM), "perAxisSDMM": Self.vector(j.perAxisSDMM),
            ])
        }
        let f = result.frames
        let frames = JSONValue.object([
            "nominalFrameRateHz": .number(f.nominalFrameRateHz),
            "firstFrameNumber": f.firstFrameNumber.map { .number(Double($0)) },
            "lastFrameNumber": f.lastFrameNumber.map { .number(Double($0)) }, "received": .number(f.received),
            "dropped": .number(f.dropped), "span": .number(f.span), "counterRestarts": .number(f.counterRestarts),
            "frameRateHz": Self.number(f.frameRateHz), "dropoutPercent": Self.number(f.dropoutPercent),
        ])
        func calibration(_ c: QAPivotCalibration) -> JSONValue {
            .object([
                "fromFrame": .number(c.fromFrame), "toFrame": .number(c.toFrame), "poses": .number(c.poses),
                "tipMM": Self.vector(c.tipMM),
                "pivotMM": Self.vector(c.pivotMM), "rmsMM": .number(c.rmsMM),
                "rotationSpanDegrees": .number(c.rotationSpanDegrees),
            ])
        }
        var pivot: JSONValue? = nil
        if let p = result.pivot {
            pivot = .object([
                "all": calibration(p.all), "windows": .array(p.windows.map(calibration)),
                "tipSpreadMM": .number(p.tipSpreadMM),
                "pivotSpreadMM": .number(p.pivotSpreadMM), "calibrationTipMM": Self.vector(p.calibrationTipMM),
                "tipDeviationMM": .number(p.tipDeviationMM),
            ])
        }
        let landmarks = result.landmarks.map { l in
            JSONValue.object([
                "name": .string(l.name), "role": .string(l.role.rawValue), "definitionMM": Self.vector(l.definitionMM),
                "measuredMM": l.capture.map { Self.vector($0.measuredMM) },
                "registeredMM": l.registeredMM.map(Self.vector),
                (l.role == .registration ? "residualMM" : "treMM"): Self.number(l.errorMM),
                "frames": l.capture.map { .number($0.sampleCount) },
                "firstFrame": l.capture.map { .number(Double($0.firstFrame)) },
                "lastFrame": l.capture.map { .number(Double($0.lastFrame)) },
                "spreadMM": l.capture.map { .number($0.spreadMM) },
            ])
        }
        var latency: JSONValue? = nil
        if let l = result.latency {
            latency = .object([
                "path": .string(l.path), "samples": .number(l.samples), "p50MS": .number(l.p50MS),
                "p99MS": .number(l.p99MS),
                "maxMS": .number(l.maxMS),
                "bins": .array(
                    l.bins.map {
                        .object(["fromMS": .number($0.fromMS), "toMS": .number($0.toMS), "count": .number($0.count)])
                    }),
            ])
        }
        return .object([
            "format": .string(Self.format),
            "version": .number(Self.version),
            "date": .string(context.date),
            "verdict": .string(result.verdict.rawValue),
            "failures": .array(result.failures.map { .string($0.id) }),
            "tracker": .object([
                "url": .string(context.trackerURL), "nominalFrameRateHz": .number(f.nominalFrameRateHz),
                "mockSpeed": Self.number(context.mockSpeed),
            ]),
            "phantom": .object([
                "file": .string(context.phantomFile), "name": .string(phantom.name),
                "phantomTool": .string(phantom.phantomTool),
                "pointerTool": .string(phantom.pointerTool), "thresholds": thresholds,
            ]),
            "pointerCalibration": .object([
                "file": context.pointerCalibrationFile.map { .string($0) }, "tool": .string(pc.tool),
                "tipMM": Self.vector(pc.tipMM),
                "method": .string(pc.method), "date": .string(pc.date), "toolSerial": pc.toolSerial.map { .string($0) },
            ]),
            "toolSerials": .array(serials),
            "figures": .array(figures),
            "jitter": jitter,
            "frames": frames,
            "pivot": pivot,
            "registration": result.accuracy.map { a in
                .object([
                    "measuredToPhantom": JSONValue(.array(a.measuredToPhantom.matrix4x4.map { .numbers($0) })),
                    "freMM": .number(a.freMM),
                ])
            },
            "landmarks": .array(landmarks),
            "latency": latency,
            "problems": .array(result.problems.map { .string($0) }),
            "files": .object(["report": .string("report.md"), "plots": .array(Self.plotFiles.map { .string($0) })]),
        ])
    }

    // MARK: Text

    /// A figure's value with its unit, or "not measured".
    static func value(_ f: QAFigure) -> String {
        guard let v = f.value else { return "not measured" }
        return "\(QAText.fixed(v, Self.decimals(f))) \(f.unit)"
    }

    static func decimals(_ f: QAFigure) -> Int {
        switch f.unit {
        case "Hz", "ms": return 2
        case "%": return 3
        default: return 3
        }
    }

    static func threshold(_ f: QAFigure) -> String {
        (f.limit.kind == "max" ? "≤ " : "≥ ") + "\(QAText.fixed(f.limit.value, Self.decimals(f))) \(f.unit)"
    }

    /// The summary `coilnav qa` prints: one line per figure with its threshold and PASS/FAIL, then
    /// the verdict.
    public static func summary(result: QAResult) -> String {
        var lines: [String] = []
        let width = result.figures.map { $0.name.count }.max() ?? 0
        for f in result.figures {
            let mark = f.passed.map { $0 ? "PASS" : "FAIL" } ?? "NOT MEASURED"
            let name = f.name + String(repeating: " ", count: width - f.name.count)
            lines.append("\(mark.padding(12))  \(name)  \(Self.value(f).padding(14))  (threshold \(Self.threshold(f)))")
        }
        for p in result.problems { lines.append("problem: \(p)") }
        switch result.verdict {
        case .pass: lines.append("QA PASSED: every figure is within its threshold.")
        case .fail:
            lines.append(
                "QA FAILED: "
                    + result.failures.map { "\($0.name) \(Self.value($0)) (threshold \(Self.threshold($0)))" }.joined(
                        separator: "; "))
        case .incomplete: lines.append("QA INCOMPLETE: no figure failed, but not every figure could be measured.")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func markdown(result: QAResult, phantom: QAPhantom, context: QAReportContext) -> String {
        var s = "# CoilNav QA report\n\n"
        let verdict: String
        switch result.verdict {
        case .pass: verdict = "**PASS** — every figure is within its threshold."
        case .fail: verdict = "**FAIL** — " + result.failures.map(\.name).joined(separator: "; ") + "."
        case .incomplete: verdict = "**INCOMPLETE** — nothing failed, but not every figure could be measured."
        }
        s += "\(verdict)\n\n"
        s += "| | |\n|---|---|\n"
        s += "| date | \(context.date) |\n"
        s += "| tracker | `\(context.trackerURL)` at \(QAText.decimal(result.frames.nominalFrameRateHz)) Hz nominal"
        s += context.mockSpeed.map { " (mock played at \(QAText.decimal($0))× real time)" } ?? ""
        s += " |\n"
        s += "| phantom | \(phantom.name) (`\(context.phantomFile)`), reference tool `\(phantom.phantomTool)` |\n"
        let pc = context.pointerCalibration
        s += "| pointer calibration | `\(pc.tool)` tip (\(Self.triple(pc.tipMM))) mm, \(pc.method), \(pc.date)"
        s += context.pointerCalibrationFile.map { " (`\($0)`)" } ?? ""
        s += " |\n"
        for name in context.toolSerials.keys.sorted() {
            s += "| serial of `\(name)` | \(context.toolSerials[name]!) |\n"
        }
        s += "\n## Figures\n\n| figure | value | threshold | result |\n|---|---:|---:|---|\n"
        for f in result.figures {
            s += "| \(f.name) | \(Self.value(f)) | \(Self.threshold(f)) | \(Self.figureResult(f).uppercased()) |\n"
        }
        if !result.problems.isEmpty {
            s += "\n## Problems\n\n"
            for p in result.problems { s += "- \(p)\n" }
        }
        s += "\n## Jitter\n\n"
        if let j = result.jitter {
            s += "The still phase's \(j.samples) frames of `\(j.tool)`"
            s += j.pointMM == .zero ? " (its origin)" : " (point (\(Self.triple(j.pointMM))) mm of the tool)"
            s +=
                ": RMS deviation from the mean \(QAText.fixed(j.rmsMM, 3)) mm, largest \(QAText.fixed(j.maxMM, 3)) mm; "
            s += "standard deviation along the tracker's x, y, z: \(Self.triple(j.perAxisSDMM)) mm"
            s += j.framesWithoutTool > 0 ? "; \(j.framesWithoutTool) frames without the tool" : ""
            s += ".\n\n"
        } else {
            s += "Not measured.\n\n"
        }
        s += "![Jitter: deviations from the mean in the tracker's x–y and x–z planes](jitter.svg)\n\n"
        let fr = result.frames
        s += "## Frames\n\n\(fr.received) frames received, \(fr.dropped) dropped (gaps in the device frame numbers"
        if let a = fr.firstFrameNumber, let b = fr.lastFrameNumber { s += " \(a)…\(b)" }
        s += ") of \(fr.span)"
        if fr.counterRestarts > 0 { s += "; the frame counter restarted \(fr.counterRestarts) times" }
        s += ".\n\n## Pivot\n\n"
        if let p = result.pivot {
            s +=
                "| calibration | frames | poses | tip (mm) | pivot point in the phantom (mm) | RMS (mm) | rotation span (°) |\n"
            s += "|---|---|---:|---|---|---:|---:|\n"
            func row(_ name: String, _ c: QAPivotCalibration) -> String {
                "| \(name) | \(c.fromFrame)–\(c.toFrame - 1) | \(c.poses) | \(Self.triple(c.tipMM)) | \(Self.triple(c.pivotMM)) | \(QAText.fixed(c.rmsMM, 3)) | \(QAText.fixed(c.rotationSpanDegrees, 1)) |\n"
            }
            s += row("whole phase", p.all)
            for (i, w) in p.windows.enumerated() { s += row("window \(i + 1)", w) }
            s +=
                "\nTip spread \(QAText.fixed(p.tipSpreadMM, 3)) mm, pivot point spread \(QAText.fixed(p.pivotSpreadMM, 3)) mm; "
            s +=
                "the calibration in use puts the tip at (\(Self.triple(p.calibrationTipMM))) mm, \(QAText.fixed(p.tipDeviationMM, 3)) mm from the pivot phase's.\n\n"
        } else {
            s += "Not measured.\n\n"
        }
        s += "## Landmarks\n\n"
        if let a = result.accuracy {
            s +=
                "Registration of the measured registration landmarks onto the phantom's definition: FRE \(QAText.fixed(a.freMM, 3)) mm. "
            s += "Check points are not in the registration; their error is the TRE.\n\n"
        }
        s +=
            "| landmark | role | definition (mm) | measured (mm) | frames | error (mm) |\n|---|---|---|---|---:|---:|\n"
        for l in result.landmarks {
            let measured = l.capture.map { Self.triple($0.measuredMM) } ?? "not captured"
            let frames = l.capture.map { "\($0.sampleCount)" } ?? "–"
            let error = l.errorMM.map { QAText.fixed($0, 3) + (l.role == .check ? " (TRE)" : " (residual)") } ?? "–"
            s +=
                "| \(l.name) | \(l.role.rawValue) | \(Self.triple(l.definitionMM)) | \(measured) | \(frames) | \(error) |\n"
        }
        s += "\n![Landmark errors: registration residuals and check-point TREs](errors.svg)\n\n## Latency\n\n"
        if let l = result.latency, l.samples > 0 {
            s +=
                "\(l.path): \(l.samples) frames, p50 \(QAText.fixed(l.p50MS, 3)) ms, p99 \(QAText.fixed(l.p99MS, 3)) ms, max \(QAText.fixed(l.maxMS, 3)) ms.\n\n"
        } else {
            s += "Not measured.\n\n"
        }
        s += "![Latency distribution](latency.svg)\n"
        return s
    }

    static func triple(_ v: Vector3) -> String {
        "\(QAText.fixed(v.x, 2)), \(QAText.fixed(v.y, 2)), \(QAText.fixed(v.z, 2))"
    }
}

extension String {
    /// Left-aligned in `width` characters.
    func padding(_ width: Int) -> String {
        self.count >= width ? self : self + String(repeating: " ", count: width - self.count)
    }
}
