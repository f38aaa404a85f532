import Formats
import Geometry

/// The report's SVG plots (deterministic: the same result gives the same bytes).
public enum QAPlots {
    static let blue = "#3b6ea8"
    static let orange = "#d9822b"
    static let red = "#c0392b"
    static let grey = "#888888"
    static let lightGrey = "#dddddd"

    /// Jitter scatter: each still-phase sample's deviation from the mean, in the tracker's x–y and
    /// x–z planes, with the jitter-max threshold as a dashed circle.
    public static func jitter(_ j: QAJitterResult?, thresholdMM: Double) -> String {
        var c = SVGCanvas(width: 760, height: 420)
        let title = "Jitter: deviation from the mean position (mm)"
        guard let j else {
            c.text(title, x: 20, y: 30, size: 16, bold: true)
            c.text("not measured", x: 20, y: 60)
            return c.render(title: title)
        }
        var largest = thresholdMM
        for d in j.deviationsMM { largest = Swift.max(largest, Swift.abs(d.x), Swift.abs(d.y), Swift.abs(d.z)) }
        let range = NiceScale.ceiling(largest * 1.05)
        c.text(
            "Jitter of \(j.tool): \(j.samples) frames, RMS \(QAText.fixed(j.rmsMM, 3)) mm, max \(QAText.fixed(j.maxMM, 3)) mm",
            x: 20, y: 28, size: 15, bold: true)
        let panels: [(String, String, (Vector3) -> Double)] = [("x", "y", { $0.y }), ("x", "z", { $0.z })]
        for (k, panel) in panels.enumerated() {
            let left = 70 + Double(k) * 370
            let top = 60.0
            let size = 300.0
            let cx = left + size / 2
            let cy = top + size / 2
            func px(_ v: Double) -> Double { cx + v / range * size / 2 }
            func py(_ v: Double) -> Double { cy - v / range * size / 2 }
            c.rect(x: left, y: top, width: size, height: size, fill: "#fbfbfb", stroke: Self.grey)
            for tick in [-1.0, -0.5, 0, 0.5, 1] {
                let v = tick * range
                c.line(x1: px(v), y1: top, x2: px(v), y2: top + size, stroke: Self.lightGrey)
                c.line(x1: left, y1: py(v), x2: left + size, y2: py(v), stroke: Self.lightGrey)
                c.text(QAText.decimal(v), x: px(v), y: top + size + 16, size: 11, anchor: .middle)
                c.text(QAText.decimal(v), x: left - 6, y: py(v) + 4, size: 11, anchor: .end)
            }
            c.circle(cx: cx, cy: cy, r: thresholdMM / range * size / 2, fill: "none", stroke: Self.red, dashed: true)
            for d in j.deviationsMM {
                c.circle(cx: px(d.x), cy: py(panel.2(d)), r: 1.6, fill: Self.blue, opacity: 0.6)
            }
            c.text("\(panel.0) (mm)", x: cx, y: top + size + 34, size: 12, anchor: .middle)
            c.text("\(panel.1) (mm)", x: left - 40, y: cy, size: 12, anchor: .middle, rotateDegrees: -90)
            c.text("tracker \(panel.0)–\(panel.1) plane", x: cx, y: top - 8, size: 12, anchor: .middle)
        }
        c.text(
            "dashed circle: jitter max threshold \(QAText.decimal(thresholdMM)) mm", x: 20, y: 410, size: 11,
            fill: Self.red)
        return c.render(title: title)
    }

    /// Landmark errors: a bar per landmark (registration residual or check-point TRE), with the
    /// TRE threshold, the FRE threshold and the measured FRE as lines.
    public static func landmarkErrors(_ landmarks: [QALandmarkResult], freMM: Double?, thresholds: QAPhantom.Thresholds)
        -> String
    {
        let width = Swift.max(760, 120 + Double(landmarks.count) * 70)
        var c = SVGCanvas(width: width, height: 400)
        let title = "Landmark errors (mm)"
        c.text("Landmark errors: registration residuals and check-point TREs (mm)", x: 20, y: 28, size: 15, bold: true)
        var largest = Swift.max(thresholds.treMM, thresholds.freMM)
        for l in landmarks { if let e = l.errorMM { largest = Swift.max(largest, e) } }
        let range = NiceScale.ceiling(largest * 1.1)
        let left = 70.0
        let top = 60.0
        let plotWidth = width - 100
        let plotHeight = 260.0
        func py(_ v: Double) -> Double { top + plotHeight - v / range * plotHeight }
        c.rect(x: left, y: top, width: plotWidth, height: plotHeight, fill: "#fbfbfb", stroke: Self.grey)
        let step = NiceScale.ceiling(range / 5)
        for v in stride(from: 0.0, through: range * (1 + 1e-9), by: step) {
            c.line(x1: left, y1: py(v), x2: left + plotWidth, y2: py(v), stroke: Self.lightGrey)
            c.text(QAText.decimal(v), x: left - 6, y: py(v) + 4, size: 11, anchor: .end)
        }
        c.text("error (mm)", x: 24, y: top + plotHeight / 2, size: 12, anchor: .middle, rotateDegrees: -90)
        let slot = plotWidth / Double(Swift.max(1, landmarks.count))
        for (i, l) in landmarks.enumerated() {
            let x = left + slot * (Double(i) + 0.5)
            c.text(l.name, x: x, y: top + plotHeight + 18, size: 12, anchor: .middle)
            c.text(
                l.role == .check ? "check" : "reg.", x: x, y: top + plotHeight + 33, size: 10, anchor: .middle,
                fill: Self.grey)
            guard let e = l.errorMM else {
                c.text("n/a", x: x, y: top + plotHeight - 6, size: 11, anchor: .middle, fill: Self.grey)
                continue
            }
            c.rect(
                x: x - slot * 0.3, y: py(e), width: slot * 0.6, height: top + plotHeight - py(e),
                fill: l.role == .check ? Self.orange : Self.blue)
            c.text(QAText.fixed(e, 2), x: x, y: py(e) - 5, size: 11, anchor: .middle)
        }
        c.line(
            x1: left, y1: py(thresholds.treMM), x2: left + plotWidth, y2: py(thresholds.treMM), stroke: Self.red,
            width: 1.5, dashed: true)
        c.line(
            x1: left, y1: py(thresholds.freMM), x2: left + plotWidth, y2: py(thresholds.freMM), stroke: Self.blue,
            width: 1.5, dashed: true)
        if let fre = freMM {
            c.line(x1: left, y1: py(fre), x2: left + plotWidth, y2: py(fre), stroke: Self.blue, width: 1)
        }
        var legend =
            "red dashed: TRE threshold \(QAText.decimal(thresholds.treMM)) mm; blue dashed: FRE threshold \(QAText.decimal(thresholds.freMM)) mm"
        if let fre = freMM { legend += "; blue solid: FRE \(QAText.fixed(fre, 3)) mm" }
        c.text(legend, x: 20, y: 385, size: 11)
        return c.render(title: title)
    }

    /// Latency distribution: the histogram's bins, with p50, p99 and the p99 threshold.
    public static func latency(_ l: QALatency?, thresholdMS: Double) -> String {
        var c = SVGCanvas(width: 760, height: 400)
        let title = "Latency distribution (ms)"
        guard let l, l.samples > 0, !l.bins.isEmpty else {
            c.text(title, x: 20, y: 30, size: 16, bold: true)
            c.text("not measured", x: 20, y: 60)
            return c.render(title: title)
        }
        c.text(
            "Latency: \(l.samples) frames, p50 \(QAText.fixed(l.p50MS, 3)) ms, p99 \(QAText.fixed(l.p99MS, 3)) ms, max \(QAText.fixed(l.maxMS, 3)) ms",
            x: 20, y: 28, size: 15, bold: true)
        let xMax = NiceScale.ceiling(Swift.max(l.bins.last!.toMS, l.p99MS))
        let yMax = NiceScale.ceiling(Double(Swift.max(1, l.bins.map(\.count).max() ?? 1)))
        let left = 70.0
        let top = 60.0
        let plotWidth = 650.0
        let plotHeight = 260.0
        func px(_ v: Double) -> Double { left + v / xMax * plotWidth }
        func py(_ v: Double) -> Double { top + plotHeight - v / yMax * plotHeight }
        c.rect(x: left, y: top, width: plotWidth, height: plotHeight, fill: "#fbfbfb", stroke: Self.grey)
        for tick in stride(from: 0.0, through: 1.0, by: 0.2) {
            c.line(x1: px(tick * xMax), y1: top, x2: px(tick * xMax), y2: top + plotHeight, stroke: Self.lightGrey)
            c.text(QAText.decimal(tick * xMax), x: px(tick * xMax), y: top + plotHeight + 16, size: 11, anchor: .middle)
        }
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            c.line(x1: left, y1: py(tick * yMax), x2: left + plotWidth, y2: py(tick * yMax), stroke: Self.lightGrey)
            c.text(QAText.decimal(tick * yMax), x: left - 6, y: py(tick * yMax) + 4, size: 11, anchor: .end)
        }
        for b in l.bins where b.count > 0 {
            c.rect(
                x: px(b.fromMS), y: py(Double(b.count)), width: px(b.toMS) - px(b.fromMS),
                height: top + plotHeight - py(Double(b.count)), fill: Self.blue)
        }
        c.line(x1: px(l.p50MS), y1: top, x2: px(l.p50MS), y2: top + plotHeight, stroke: Self.orange, width: 1.5)
        c.line(x1: px(l.p99MS), y1: top, x2: px(l.p99MS), y2: top + plotHeight, stroke: Self.red, width: 1.5)
        var legend = "orange: p50; red: p99; "
        if thresholdMS <= xMax {
            c.line(
                x1: px(thresholdMS), y1: top, x2: px(thresholdMS), y2: top + plotHeight, stroke: Self.red, width: 1.5,
                dashed: true)
            legend += "red dashed: p99 threshold \(QAText.decimal(thresholdMS)) ms"
        } else {
            legend += "p99 threshold \(QAText.decimal(thresholdMS)) ms (beyond the axis)"
        }
        c.text("latency (ms)", x: left + plotWidth / 2, y: top + plotHeight + 34, size: 12, anchor: .middle)
        c.text("frames", x: 24, y: top + plotHeight / 2, size: 12, anchor: .middle, rotateDegrees: -90)
        c.text(legend, x: 20, y: 385, size: 11)
        return c.render(title: title)
    }
}
