/// Block-character digits for the key figures, readable from a metre away: a 5-row font (glyphs
/// 4 columns wide) for large terminals and a 3-row one (half blocks, 3 columns) for smaller ones.
/// Glyphs: 0–9, `.`, `-`, `+`; each is followed by one blank column.
public enum BigFont: Sendable {
    case fiveRows
    case threeRows

    public var height: Int {
        switch self {
        case .fiveRows: 5
        case .threeRows: 3
        }
    }

    /// The rows of one glyph (all the same width); an unknown character is blank.
    func glyph(_ c: Character) -> [String] {
        switch self {
        case .fiveRows: return Self.five[c] ?? ["   ", "   ", "   ", "   ", "   "]
        case .threeRows: return Self.three[c] ?? ["  ", "  ", "  "]
        }
    }

    /// The rows of `text` set in this font, glyphs separated by one column.
    public func render(_ text: String) -> [String] {
        var rows = Array(repeating: "", count: self.height)
        for (i, c) in text.enumerated() {
            let g = self.glyph(c)
            for r in 0..<self.height { rows[r] += (i == 0 ? "" : " ") + g[r] }
        }
        return rows
    }

    /// Width in columns of `text` set in this font.
    public func width(_ text: String) -> Int { self.render(text).first?.unicodeScalars.count ?? 0 }

    private static let five: [Character: [String]] = [
        "0": ["████", "█  █", "█  █", "█  █", "████"],
        "1": [" ██ ", "  █ ", "  █ ", "  █ ", " ███"],
        "2": ["████", "   █", "████", "█   ", "████"],
        "3": ["████", "   █", " ███", "   █", "████"],
        "4": ["█  █", "█  █", "████", "   █", "   █"],
        "5": ["████", "█   ", "████", "   █", "████"],
        "6": ["████", "█   ", "████", "█  █", "████"],
        "7": ["████", "   █", "  █ ", " █  ", " █  "],
        "8": ["████", "█  █", "████", "█  █", "████"],
        "9": ["████", "█  █", "████", "   █", "████"],
        ".": [" ", " ", " ", " ", "█"],
        "-": ["   ", "   ", "███", "   ", "   "],
        "+": ["   ", " █ ", "███", " █ ", "   "],
    ]

    private static let three: [Character: [String]] = [
        "0": ["█▀█", "█ █", "█▄█"],
        "1": ["▀█ ", " █ ", "▄█▄"],
        "2": ["▀▀█", "█▀▀", "█▄▄"],
        "3": ["▀▀█", " ▀█", "▄▄█"],
        "4": ["█ █", "▀▀█", "  █"],
        "5": ["█▀▀", "▀▀█", "▄▄█"],
        "6": ["█▀▀", "█▀█", "█▄█"],
        "7": ["▀▀█", "  █", "  █"],
        "8": ["█▀█", "█▀█", "█▄█"],
        "9": ["█▀█", "▀▀█", "▄▄█"],
        ".": [" ", " ", "▄"],
        "-": ["  ", "▀▀", "  "],
        "+": [" ▄ ", "▀█▀", " ▀ "],
    ]
}
