import Geometry

/// Draws the readout's full screen for a terminal of a given size: pure text, the same for the
/// same state, time and size (docs/readout.md shows the screen).
///
/// Layouts, by terminal size:
/// - large (≥ 100 × 34): 3-row banner, 5-row digits, bullseye and tilt indicator;
/// - medium (≥ 72 × 22): 3-row digits (banner 3 rows from 26 rows up, else 1);
/// - compact (≥ 40 × 12): the figures as text, no graphics;
/// - smaller: the banner and a request to enlarge the terminal.
///
/// The bullseye is seen from outside the head with the coil's front (target +y, away from the
/// handle) up, so target +x is on the left; its scale is fixed and square-root radial (rings at
/// 1, 2, 5 and 10 mm evenly readable, more resolution near the centre); a coil further than 10 mm
/// sits on the rim as an arrow pointing its way.
public enum ReadoutRenderer {
    public static let minimumColumns = 40
    public static let minimumRows = 12
    /// The bullseye's rings (mm) and the tilt indicator's (degrees); the innermost is the default
    /// on-target limit (1 mm, 2°). Both have the full scale at 10.
    public static let positionRings: [Double] = [1, 2, 5, 10]
    public static let tiltRings: [Double] = [2, 5, 10]
    public static let fullScale = 10.0

    enum Layout: Equatable {
        case large, medium, compact, tooSmall
    }

    static func layout(columns: Int, rows: Int) -> Layout {
        if columns >= 100, rows >= 34 { return .large }
        if columns >= 72, rows >= 22 { return .medium }
        if columns >= Self.minimumColumns, rows >= Self.minimumRows { return .compact }
        return .tooSmall
    }

    /// The screen for `state` at `now` on a `columns` × `rows` terminal: exactly `rows` lines, none
    /// wider than `columns`. Without `colour` no escape character appears.
    public static func render(_ state: ReadoutState, at now: Int64, columns: Int, rows: Int, colour: Bool) -> [ScreenLine] {
        var canvas = Canvas(columns: columns, rows: rows)
        let phase = state.phase(at: now)
        let banner = Self.banner(phase, state: state)
        switch Self.layout(columns: columns, rows: rows) {
        case .tooSmall:
            Self.drawBanner(&canvas, banner, row: 0, height: 1, colour: colour)
            canvas.put(
                Self.clip("too small: need \(Self.minimumColumns)×\(Self.minimumRows) (\(columns)×\(rows))", columns),
                row: 1, column: 0)
        case .compact:
            Self.drawHeader(&canvas, state)
            Self.drawBanner(&canvas, banner, row: 1, height: 1, colour: colour)
            Self.drawFigureText(&canvas, state, phase: phase, at: now, top: 3)
            Self.drawFooter(&canvas, state, phase: phase, at: now)
        case .large, .medium:
            let large = Self.layout(columns: columns, rows: rows) == .large
            let bannerHeight = large || rows >= 26 ? 3 : 1
            Self.drawHeader(&canvas, state)
            Self.drawBanner(&canvas, banner, row: 1, height: bannerHeight, colour: colour)
            let top = 1 + bannerHeight + 1
            let font: BigFont = large ? .fiveRows : .threeRows
            let panelWidth = Self.drawPanel(&canvas, state, phase: phase, at: now, top: top, font: font)
            Self.drawTargets(
                &canvas, state, phase: phase, at: now, top: top, width: columns - panelWidth - 2, height: rows - 5 - top)
            Self.drawFooter(&canvas, state, phase: phase, at: now)
        }
        return canvas.lines(colour: colour)
    }

    // MARK: Banner

    struct Banner: Equatable {
        var text: String
        var style: CellStyle
        /// Drawn around the text without colour.
        var fill: Unicode.Scalar
    }

    static func banner(_ phase: ReadoutPhase, state: ReadoutState) -> Banner {
        switch phase {
        case .onTarget(let dwell, let holding):
            return Banner(text: "ON TARGET  \(NumberText.fixed(dwell, 1)) s" + (holding ? "  (holding)" : ""), style: .bannerOn, fill: "█")
        case .acquiring(let dwell):
            return Banner(text: "ACQUIRING  \(NumberText.fixed(dwell, 1)) s", style: .bannerAcquiring, fill: "▒")
        case .offTarget:
            return Banner(text: "OFF TARGET", style: .bannerOff, fill: "─")
        case .invalid(let reasons):
            return Banner(
                text: "NOT VALID — " + reasons.map(ReadoutState.reasonText).joined(separator: ", "), style: .bannerInvalid, fill: "░")
        case .trackingLost(let silence, let last, let tracker):
            var t = "TRACKING LOST"
            var details: [String] = []
            if let silence { details.append("no tracker frame for \(NumberText.fixed(silence, 1)) s") }
            if let last { details.append("last frame \(last)") }
            if let tracker { details.append("tracker \(tracker)") }
            if !details.isEmpty { t += " — " + details.joined(separator: " · ") }
            return Banner(text: t, style: .bannerLost, fill: "▓")
        case .unreachable(_, let attempt, let seconds):
            var t = "SERVER UNREACHABLE — reconnecting to \(state.serverLabel) (attempt \(attempt)"
            if let seconds { t += ", \(NumberText.fixed(seconds, 1)) s" }
            return Banner(text: t + ")", style: .bannerUnreachable, fill: "▓")
        case .connecting:
            return Banner(text: "CONNECTING to \(state.serverLabel)", style: .bannerWaiting, fill: "·")
        case .waiting(let tracker):
            return Banner(text: "WAITING FOR FRAMES" + (tracker.map { " — tracker \($0)" } ?? ""), style: .bannerWaiting, fill: "·")
        }
    }

    static func drawBanner(_ canvas: inout Canvas, _ banner: Banner, row: Int, height: Int, colour: Bool) {
        let middle = row + height / 2
        let text = Self.clip(colour ? banner.text : "  " + banner.text + "  ", canvas.columns)
        let count = text.unicodeScalars.count
        let start = Swift.max(0, (canvas.columns - count) / 2)
        for r in row..<(row + height) {
            if colour {
                canvas.fill(row: r, with: " ", style: banner.style)
            } else {
                canvas.fill(row: r, with: banner.fill)
            }
        }
        canvas.put(text, row: middle, column: start, style: colour ? banner.style : .plain)
    }

    // MARK: Header and footer

    static func drawHeader(_ canvas: inout Canvas, _ state: ReadoutState) {
        let left = " CoilNav watch · target " + (state.target ?? "none")
        let right = (state.headerNote ?? "server \(state.serverLabel)") + " "
        let l = left.unicodeScalars.count
        let r = right.unicodeScalars.count
        if l + 2 + r <= canvas.columns {
            canvas.put(left, row: 0, column: 0, style: .bold)
            canvas.put(right, row: 0, column: canvas.columns - r)
        } else {
            canvas.put(Self.clip(left, canvas.columns), row: 0, column: 0, style: .bold)
        }
    }

    /// The last four rows: tools, tracker, registration, message and keys.
    static func drawFooter(_ canvas: inout Canvas, _ state: ReadoutState, phase: ReadoutPhase, at now: Int64) {
        let rows = canvas.rows
        let width = canvas.columns
        // Tools (of the newest frame while it is current, valid or not).
        var tools: ReadoutFrame?
        switch phase {
        case .onTarget, .acquiring, .offTarget, .invalid: tools = state.frame
        default: tools = nil
        }
        var c = 1
        for (name, status) in [("coil", tools?.coilStatus), ("head", tools?.headStatus), ("pointer", tools?.pointerStatus)] {
            let (text, style) = Self.toolText(status, known: tools != nil)
            canvas.put(name + " ", row: rows - 4, column: c)
            c += name.count + 1
            canvas.put(text, row: rows - 4, column: c, style: style)
            c += text.unicodeScalars.count + 4
        }

        // Tracker.
        var tracker = " tracker "
        if let s = state.status {
            tracker += state.trackerState ?? s.tracker
            tracker += " · " + (s.frameRateHz.map { NumberText.fixed($0, 1) } ?? "-") + " Hz"
            tracker += " · dropped \(s.framesDropped)"
        } else {
            tracker += state.trackerState ?? "?"
        }
        if let f = state.frame { tracker += " · frame \(f.frame)" }
        canvas.put(Self.clip(tracker, width), row: rows - 3, column: 0)

        // Registration quality.
        if let s = state.status {
            if !s.registered {
                canvas.put(" registration ", row: rows - 2, column: 0)
                canvas.put("NOT REGISTERED", row: rows - 2, column: 14, style: .bad)
            } else {
                var t = " registration FRE " + (s.freMM.map { NumberText.fixed($0, 2) + " mm" } ?? "-")
                if let tre = s.predictedTREMM {
                    t += " · predicted TRE at \(s.target ?? state.target ?? "the target") \(NumberText.fixed(tre, 2)) mm"
                    if let fle = s.fleMM { t += " (FLE \(NumberText.fixed(fle, 2)) mm)" }
                } else {
                    t += " · predicted TRE: -"
                }
                canvas.put(Self.clip(t, width), row: rows - 2, column: 0)
            }
        } else {
            canvas.put(" registration -", row: rows - 2, column: 0)
        }

        // Message and keys.
        let keys = "q quit "
        var message = ""
        if case .unreachable(let reason, _, _) = phase {
            message = "cannot reach the server: \(reason)"
        } else if let e = state.lastError {
            message = e
        } else if let e = state.lastEvent {
            message = "last event: \(e)"
        }
        let room = width - keys.count - 2
        if room > 4 { canvas.put(Self.clip(" " + message, room), row: rows - 1, column: 0, style: state.lastError != nil ? .warn : .plain) }
        if width >= keys.count { canvas.put(keys, row: rows - 1, column: width - keys.count, style: .dim) }
    }

    static func toolText(_ status: String?, known: Bool) -> (String, CellStyle) {
        guard known else { return ("-", .dim) }
        switch status {
        case "ok"?: return ("ok", .good)
        case "missing"?: return ("MISSING", .bad)
        case "partly-out-of-volume"?: return ("partly out of volume", .warn)
        case "disabled"?: return ("disabled", .warn)
        case let s?: return (s, .warn)
        case nil: return ("not tracked", .dim)
        }
    }

    // MARK: Figures

    struct Figure {
        var label: String
        var value: String
    }

    /// The five figures: distance, in-plane (at the coil), depth, tilt, twist.
    static func figures(_ frame: ReadoutFrame?, large: Bool) -> [Figure] {
        let m = frame?.metrics
        func f(_ x: Double?, signed: Bool) -> String { x.map { NumberText.figure($0, signed: signed) } ?? "--" }
        return [
            Figure(label: "DISTANCE mm", value: f(m?.distanceMM, signed: false)),
            Figure(label: "IN-PLANE mm", value: f(m?.inPlaneAtCoil?.mm, signed: false)),
            Figure(label: large ? "DEPTH mm (+ deeper)" : "DEPTH mm", value: f(m?.depthMM, signed: true)),
            Figure(label: "TILT °", value: f(m?.tiltDegrees, signed: false)),
            Figure(label: large ? "TWIST ° (+ clockwise)" : "TWIST °", value: f(m?.twistDegrees, signed: true)),
        ]
    }

    /// The small print under the figures: in-plane error at the cortex, tilt about the target axes.
    static func details(_ frame: ReadoutFrame?) -> [String] {
        let m = frame?.metrics
        return [
            "at cortex    " + (m?.inPlaneAtCortex.map { NumberText.fixed($0.mm, 1) + " mm" } ?? "-"),
            "tilt about x " + (m.map { NumberText.signed($0.tiltAboutTargetXDegrees, 1) + "°" } ?? "-"),
            "tilt about y " + (m.map { NumberText.signed($0.tiltAboutTargetYDegrees, 1) + "°" } ?? "-"),
        ]
    }

    static func figureStyle(_ phase: ReadoutPhase) -> CellStyle {
        switch phase {
        case .onTarget: .good
        case .acquiring: .warn
        default: .bold
        }
    }

    /// The figures in big digits, two columns by three rows, against the right edge; returns the
    /// width used.
    static func drawPanel(
        _ canvas: inout Canvas, _ state: ReadoutState, phase: ReadoutPhase, at now: Int64, top: Int, font: BigFont
    ) -> Int {
        let frame = state.currentFrame(at: now)
        let figures = Self.figures(frame, large: font == .fiveRows)
        let columnWidth = font.width("+9999") + 2
        let width = 2 * columnWidth
        let left = canvas.columns - width
        let cellHeight = 1 + font.height + 1
        let style = Self.figureStyle(phase)
        for (i, figure) in figures.enumerated() {
            let row = top + (i / 2) * cellHeight
            let column = left + (i % 2) * columnWidth
            canvas.put(figure.label, row: row, column: column)
            for (k, line) in font.render(figure.value).enumerated() {
                canvas.put(line, row: row + 1 + k, column: column, style: style)
            }
        }
        for (k, line) in Self.details(frame).enumerated() {
            canvas.put(line, row: top + 2 * cellHeight + k, column: left + columnWidth)
        }
        return width
    }

    /// The figures as plain text, two columns (compact layout).
    static func drawFigureText(_ canvas: inout Canvas, _ state: ReadoutState, phase: ReadoutPhase, at now: Int64, top: Int) {
        let frame = state.currentFrame(at: now)
        let m = frame?.metrics
        func f(_ x: Double?, signed: Bool) -> String { x.map { NumberText.figure($0, signed: signed) } ?? "--" }
        let cells = [
            "distance  " + f(m?.distanceMM, signed: false) + " mm", "in-plane  " + f(m?.inPlaneAtCoil?.mm, signed: false) + " mm",
            "depth     " + f(m?.depthMM, signed: true) + " mm", "tilt      " + f(m?.tiltDegrees, signed: false) + "°",
            "twist     " + f(m?.twistDegrees, signed: true) + "°",
            "at cortex " + f(m?.inPlaneAtCortex?.mm, signed: false) + " mm",
        ]
        let half = canvas.columns / 2
        let style = Self.figureStyle(phase)
        for (i, text) in cells.enumerated() {
            canvas.put(Self.clip(text, half - 2), row: top + i / 2, column: 1 + (i % 2) * half, style: style)
        }
    }

    // MARK: Bullseye and tilt indicator

    /// The bullseye (coil centre in the target plane) and the tilt indicator (where the coil's axis
    /// leans, and the handle as a line for the twist), side by side at the top left, sized to fit
    /// `width` × `height`; nothing when even the smallest does not fit.
    static func drawTargets(
        _ canvas: inout Canvas, _ state: ReadoutState, phase: ReadoutPhase, at now: Int64, top: Int, width: Int, height: Int
    ) {
        var chosen: (big: Int, small: Int)?
        for radius in stride(from: 12, through: 3, by: -1) {
            let small = Swift.max(2, radius / 2)
            if 1 + (4 * radius + 1) + 3 + (4 * small + 1) <= width, 2 * radius + 4 <= height {
                chosen = (radius, small)
                break
            }
        }
        guard let (radius, small) = chosen else { return }
        let frame = state.currentFrame(at: now)
        let markerStyle = Self.figureStyle(phase)
        let left = 1
        let tiltLeft = left + 4 * radius + 1 + 3

        // Where the coil's axis meets the target plane, in target x/y (mm).
        var position: (x: Double, y: Double)?
        if let p = frame?.metrics?.inPlaneAtCoil { position = (p.x, p.y) }
        Self.drawTarget(
            &canvas, top: top + 1, left: left, radius: radius, rings: Self.positionRings, point: position, labels: radius >= 5,
            markerStyle: markerStyle, handleTwistDegrees: nil)

        // The lean of the coil's axis: the direction of (tilt about y, −tilt about x), tilt long.
        var lean: (x: Double, y: Double)?
        var twist: Double?
        if let m = frame?.metrics, m.tiltDegrees.isFinite {
            let dx = m.tiltAboutTargetYDegrees
            let dy = -m.tiltAboutTargetXDegrees
            let n = (dx * dx + dy * dy).squareRoot()
            lean = n > 0 && n.isFinite ? (dx / n * m.tiltDegrees, dy / n * m.tiltDegrees) : (0, 0)
            twist = m.twistDegrees
        }
        Self.drawTarget(
            &canvas, top: top + 1, left: tiltLeft, radius: small, rings: Self.tiltRings, point: lean, labels: false,
            markerStyle: markerStyle, handleTwistDegrees: twist)

        for (l, r) in [(left, radius), (tiltLeft, small)] {
            Self.centre(&canvas, "front", row: top, left: l, width: 4 * r + 1)
            Self.centre(&canvas, "handle", row: top + 2 * r + 2, left: l, width: 4 * r + 1)
        }
        let long = "position: rings 1 2 5 10 mm · tilt: rings 2 5 10°, line = handle"
        let short = "rings 1 2 5 10 mm · 2 5 10°"
        let room = tiltLeft + 4 * small + 1 - left
        canvas.put(Self.clip(long.unicodeScalars.count <= room ? long : short, room), row: top + 2 * radius + 3, column: left, style: .dim)
    }

    static func centre(_ canvas: inout Canvas, _ text: String, row: Int, left: Int, width: Int) {
        canvas.put(text, row: row, column: left + Swift.max(0, (width - text.unicodeScalars.count) / 2), style: .dim)
    }

    /// One round target: rings at `rings` on a square-root scale to `fullScale` at `radius` rows
    /// (columns count half, as character cells are about twice as tall as wide), a `+` at the centre,
    /// the point (target x/y: x drawn to the left, y up) as `●`, or on the rim as an arrow when
    /// beyond the full scale; optionally the handle as a line from the centre, turned clockwise by
    /// the twist from straight down.
    static func drawTarget(
        _ canvas: inout Canvas, top: Int, left: Int, radius: Int, rings: [Double], point: (x: Double, y: Double)?, labels: Bool,
        markerStyle: CellStyle, handleTwistDegrees: Double?
    ) {
        let R = Double(radius)
        let centreRow = top + radius
        let centreColumn = left + 2 * radius
        let ringRadii = rings.map { (($0 / Self.fullScale).squareRoot()) * R }
        // Each ring one cell thick: the cells nearest to points every half cell along it.
        for r in ringRadii {
            let steps = Swift.max(8, Int((2 * Double.pi * r * 4).rounded(.up)))
            for k in 0..<steps {
                let a = 2 * Double.pi * Double(k) / Double(steps)
                let row = centreRow - Int((r * sinDouble(a)).rounded())
                let column = centreColumn + Int((2 * r * cosDouble(a)).rounded())
                canvas.put("·", row: row, column: column, style: .dim)
            }
        }
        canvas.put("+", row: centreRow, column: centreColumn, style: .dim)
        if labels {
            var end = centreColumn + 1
            for (value, r) in zip(rings, ringRadii) {
                let text = NumberText.fixed(value, 0)
                let start = centreColumn + Int((2 * r).rounded()) - text.count
                if start > end {
                    canvas.put(text, row: centreRow, column: start, style: .dim)
                    end = start + text.count
                }
            }
        }
        if let twist = handleTwistDegrees, twist.isFinite {
            // Screen angle, counter-clockwise from the right: straight down, turned clockwise.
            let a = radians(fromDegrees: -90 - twist)
            let (sx, sy) = (cosDouble(a), sinDouble(a))
            let glyph = Self.lineGlyph(sx: sx, sy: sy)
            for step in 1...radius {
                let t = Double(step)
                let row = centreRow - Int((t * sy).rounded())
                let column = centreColumn + Int((2 * t * sx).rounded())
                canvas.put(String(glyph), row: row, column: column)
            }
        }
        guard let p = point, p.x.isFinite, p.y.isFinite else { return }
        let sx = -p.x
        let sy = p.y
        let magnitude = (sx * sx + sy * sy).squareRoot()
        if magnitude == 0 {
            canvas.put("●", row: centreRow, column: centreColumn, style: markerStyle)
            return
        }
        let beyond = magnitude > Self.fullScale
        let rho = beyond ? 1 : (magnitude / Self.fullScale).squareRoot()
        let row = centreRow - Int((rho * R * sy / magnitude).rounded())
        let column = centreColumn + Int((2 * rho * R * sx / magnitude).rounded())
        canvas.put(beyond ? String(Self.arrow(sx: sx, sy: sy)) : "●", row: row, column: column, style: markerStyle)
    }

    /// The arrow among the eight that points closest to (sx, sy) (screen: x right, y up).
    static func arrow(sx: Double, sy: Double) -> Unicode.Scalar {
        let t = 0.41421356237309503  // tan 22.5°
        if Swift.abs(sy) <= t * Swift.abs(sx) { return sx > 0 ? "→" : "←" }
        if Swift.abs(sx) <= t * Swift.abs(sy) { return sy > 0 ? "↑" : "↓" }
        if sx > 0 { return sy > 0 ? "↗" : "↘" }
        return sy > 0 ? "↖" : "↙"
    }

    /// A line character along (sx, sy).
    static func lineGlyph(sx: Double, sy: Double) -> Unicode.Scalar {
        let t = 0.41421356237309503
        if Swift.abs(sy) <= t * Swift.abs(sx) { return "─" }
        if Swift.abs(sx) <= t * Swift.abs(sy) { return "│" }
        return (sx > 0) == (sy > 0) ? "╱" : "╲"
    }

    /// `text` cut to `width` columns, ending in `…` when cut.
    static func clip(_ text: String, _ width: Int) -> String {
        guard width > 0 else { return "" }
        let scalars = text.unicodeScalars
        if scalars.count <= width { return text }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars.prefix(width - 1))
        out.append("…")
        return String(out)
    }
}
