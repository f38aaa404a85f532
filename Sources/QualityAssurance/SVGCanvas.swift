/// A small SVG writer: shapes and text appended in order, numbers written with two decimals, text
/// escaped for XML, so the same drawing always gives the same bytes.
struct SVGCanvas {
    let width: Double
    let height: Double
    private(set) var elements: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    static func n(_ x: Double) -> String { QAText.fixed(x, 2) }

    /// Text as XML character data or attribute value.
    static func escaped(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // XML 1.0 allows no control characters but tab, newline and carriage return.
                if c.value < 0x20 && c != "\t" && c != "\n" && c != "\r" {
                    out += " "
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil) {
        var e =
            "<rect x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" width=\"\(Self.n(Swift.max(0, width)))\" height=\"\(Self.n(Swift.max(0, height)))\" fill=\"\(fill)\""
        if let stroke { e += " stroke=\"\(stroke)\"" }
        self.elements.append(e + "/>")
    }

    mutating func line(
        x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1, dashed: Bool = false
    ) {
        var e =
            "<line x1=\"\(Self.n(x1))\" y1=\"\(Self.n(y1))\" x2=\"\(Self.n(x2))\" y2=\"\(Self.n(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(Self.n(width))\""
        if dashed { e += " stroke-dasharray=\"5 4\"" }
        self.elements.append(e + "/>")
    }

    mutating func circle(
        cx: Double, cy: Double, r: Double, fill: String, stroke: String? = nil, dashed: Bool = false,
        opacity: Double? = nil
    ) {
        var e = "<circle cx=\"\(Self.n(cx))\" cy=\"\(Self.n(cy))\" r=\"\(Self.n(r))\" fill=\"\(fill)\""
        if let stroke { e += " stroke=\"\(stroke)\"" }
        if dashed { e += " stroke-dasharray=\"5 4\"" }
        if let opacity { e += " fill-opacity=\"\(Self.n(opacity))\"" }
        self.elements.append(e + "/>")
    }

    enum Anchor: String { case start, middle, end }

    mutating func text(
        _ s: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start, bold: Bool = false,
        fill: String = "#222222",
        rotateDegrees: Double? = nil
    ) {
        var e =
            "<text x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" font-size=\"\(Self.n(size))\" text-anchor=\"\(anchor.rawValue)\" fill=\"\(fill)\""
        if bold { e += " font-weight=\"bold\"" }
        if let r = rotateDegrees { e += " transform=\"rotate(\(Self.n(r)) \(Self.n(x)) \(Self.n(y)))\"" }
        self.elements.append(e + ">\(Self.escaped(s))</text>")
    }

    /// The document: an XML declaration, the `svg` element with its size and a white background.
    func render(title: String) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out +=
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.n(self.width))\" height=\"\(Self.n(self.height))\" "
        out += "viewBox=\"0 0 \(Self.n(self.width)) \(Self.n(self.height))\" font-family=\"sans-serif\">\n"
        out += "<title>\(Self.escaped(title))</title>\n"
        out +=
            "<rect x=\"0\" y=\"0\" width=\"\(Self.n(self.width))\" height=\"\(Self.n(self.height))\" fill=\"#ffffff\"/>\n"
        for e in self.elements { out += e + "\n" }
        out += "</svg>\n"
        return out
    }
}

/// Axis ranges that read well.
enum NiceScale {
    /// The smallest of 1, 2, 2.5, 5 × 10ᵏ that is ≥ x (x > 0).
    static func ceiling(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return 1 }
        var p = 1.0
        while p > x { p /= 10 }
        while p * 10 <= x { p *= 10 }
        for m in [1.0, 2, 2.5, 5, 10] where m * p >= x { return m * p }
        return 10 * p
    }
}
