/// How a cell is drawn. Without colour every style is drawn the same (plain characters); with
/// colour each maps to one ANSI SGR sequence.
public enum CellStyle: UInt8, Sendable, CaseIterable {
    case plain, dim, bold, good, warn, bad
    case bannerOn, bannerAcquiring, bannerOff, bannerInvalid, bannerLost, bannerUnreachable, bannerWaiting

    /// Whether a space in this style shows (a coloured background).
    var hasBackground: Bool { self.rawValue >= CellStyle.bannerOn.rawValue }

    /// The SGR parameters (`ESC [ … m`).
    var sgr: String {
        switch self {
        case .plain: "0"
        case .dim: "0;2"
        case .bold: "0;1"
        case .good: "0;1;32"
        case .warn: "0;1;33"
        case .bad: "0;1;31"
        case .bannerOn: "0;1;30;42"
        case .bannerAcquiring: "0;1;30;43"
        case .bannerOff: "0;1;97;44"
        case .bannerInvalid: "0;1;97;41"
        case .bannerLost: "0;1;97;41"
        case .bannerUnreachable: "0;1;97;45"
        case .bannerWaiting: "0;1;30;47"
        }
    }
}

/// A grid of single-width characters with a style each; drawing is clipped to the grid, so no
/// line can ever be wider than the terminal.
struct Canvas {
    let columns: Int
    let rows: Int
    private var characters: [[Unicode.Scalar]]
    private var styles: [[CellStyle]]

    init(columns: Int, rows: Int) {
        self.columns = Swift.max(0, columns)
        self.rows = Swift.max(0, rows)
        self.characters = Array(repeating: Array(repeating: " ", count: self.columns), count: self.rows)
        self.styles = Array(repeating: Array(repeating: .plain, count: self.columns), count: self.rows)
    }

    /// Writes `text` from (`row`, `column`), one cell per Unicode scalar, clipped.
    mutating func put(_ text: String, row: Int, column: Int, style: CellStyle = .plain) {
        guard row >= 0, row < self.rows else { return }
        var c = column
        for s in text.unicodeScalars {
            if c >= self.columns { break }
            if c >= 0 {
                self.characters[row][c] = s
                self.styles[row][c] = style
            }
            c += 1
        }
    }

    /// Fills cells `from..<to` of a row.
    mutating func fill(row: Int, from: Int = 0, to: Int? = nil, with character: Unicode.Scalar, style: CellStyle = .plain) {
        guard row >= 0, row < self.rows else { return }
        let end = Swift.min(to ?? self.columns, self.columns)
        var c = Swift.max(0, from)
        while c < end {
            self.characters[row][c] = character
            self.styles[row][c] = style
            c += 1
        }
    }

    func character(row: Int, column: Int) -> Unicode.Scalar { self.characters[row][column] }

    /// The rows as text. Trailing spaces are dropped (except on a coloured background) (the terminal side clears to the end of
    /// the line); with `colour`, each change of style starts with its SGR sequence and a line that
    /// used one ends with a reset, and without it no escape character is ever written.
    func lines(colour: Bool) -> [ScreenLine] {
        var out: [ScreenLine] = []
        out.reserveCapacity(self.rows)
        for r in 0..<self.rows {
            var end = self.columns
            while end > 0, self.characters[r][end - 1] == " ", !self.styles[r][end - 1].hasBackground { end -= 1 }
            var text = ""
            var current = CellStyle.plain
            for c in 0..<end {
                let style = self.styles[r][c]
                if colour, style != current {
                    text += "\u{1B}[" + style.sgr + "m"
                    current = style
                }
                text.unicodeScalars.append(self.characters[r][c])
            }
            if colour, current != .plain { text += "\u{1B}[0m" }
            out.append(ScreenLine(text: text, width: end))
        }
        return out
    }
}

/// One row of the screen: its text (with SGR sequences when in colour) and how many columns it
/// covers; the rest of the row is to be cleared.
public struct ScreenLine: Equatable, Sendable {
    public var text: String
    public var width: Int
    public init(text: String, width: Int) {
        self.text = text
        self.width = width
    }
}
