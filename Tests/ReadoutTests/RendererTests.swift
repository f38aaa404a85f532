import Readout
import Testing

/// The screen's exact text for known states. No colour here unless said: the same characters a
/// `NO_COLOR` terminal shows (and tmux's capture-pane prints).
@Suite struct RendererTests {
    let s = Known.second

    func screen(_ state: ReadoutState, at: Int64? = nil, _ columns: Int, _ rows: Int, colour: Bool = false) -> String {
        Known.text(ReadoutRenderer.render(state, at: at ?? 10 * Known.second, columns: columns, rows: rows, colour: colour))
    }

    /// 100 × 34 (the large layout's least), on target: the 5-row digits (0.5, 0.4, +0.3, 1.5,
    /// -2.0), the solid banner with the dwell (1.25 s shown as 1.3), the bullseye (rings 1 2 5 10 mm,
    /// radius 7 rows) with the coil 0.4 mm to target −x — drawn to the right: √(0.4/10) · 7 rows =
    /// 1.4 rows = 2.8 columns, so 3 columns right of the centre — and the tilt indicator (radius 3)
    /// with the axis leaning 1.5° towards the coil's front (√(1.5/10) · 3 ≈ 1.2: one row up) and the
    /// handle straight down (twist −2°).
    @Test func onTargetWide() {
        #expect(
            screen(Known.state(Known.onTargetFrame), 100, 34)
                == """
                 CoilNav watch · target DLPFC-Fox2012                                        server 127.0.0.1:18945
                ████████████████████████████████████████████████████████████████████████████████████████████████████
                ████████████████████████████████████████  ON TARGET  1.3 s  ████████████████████████████████████████
                ████████████████████████████████████████████████████████████████████████████████████████████████████

                             front                   front        DISTANCE mm              IN-PLANE mm
                          ···········               ·······       ████   ████              ████   █  █
                       ····         ····          ···········     █  █   █                 █  █   █  █
                    ···    ·········    ···      ······●······    █  █   ████              █  █   ████
                   ··   ····       ····   ··     · ··  +  ·· ·    █  █      █              █  █      █
                  ··   ··   ········  ··   ··    ······│······    ████ █ ████              ████ █    █
                 ··   ·   ···········   ·   ··    ·····│·····
                 ·   ·   · ··     ·· ·  ··   ·      ···│···       DEPTH mm (+ deeper)      TILT °
                 ·   ·   · ·   +  ●·2·  5· 10·      handle            ████   ████           ██    ████
                 ·   ·   · ··     ·· ·  ··   ·                     █  █  █      █            █    █
                 ··   ·   ···········   ·   ··                    ███ █  █    ███            █    ████
                  ··   ··   ········  ··   ··                      █  █  █      █            █       █
                   ··   ····       ····   ··                          ████ █ ████           ███ █ ████
                    ···    ·········    ···
                       ····         ····                          TWIST ° (+ clockwise)    at cortex    0.9 mm
                          ···········                                 ████   ████          tilt about x -1.5°
                            handle                                       █   █  █          tilt about y 0.0°
                 rings 1 2 5 10 mm · 2 5 10°                      ███ ████   █  █
                                                                      █      █  █
                                                                      ████ █ ████





                 coil ok    head ok    pointer MISSING
                 tracker tracking · 60.0 Hz · dropped 0 · frame 2123
                 registration FRE 0.72 mm · predicted TRE at DLPFC-Fox2012 0.58 mm (FLE 1.00 mm)
                                                                                                             q quit
                """)
    }

    /// 80 × 24 (3-row digits, 1-row banner), off target beyond the bullseye: in-plane (8, −9) mm is
    /// drawn down and to the left, on the rim as ↙ (4 rows down, 7 columns left of the centre at
    /// radius 5); the tilt of 12° about target y leans past the 10° rim: ←; the handle turned 45°
    /// clockwise (╱, down and to the left).
    @Test func offTargetBeyondTheBullseyeNarrow() {
        #expect(
            screen(Known.state(Known.farFrame), 80, 24)
                == """
                 CoilNav watch · target DLPFC-Fox2012                    server 127.0.0.1:18945
                ─────────────────────────────────  OFF TARGET  ─────────────────────────────────

                         front             front      DISTANCE mm          IN-PLANE mm
                       ·········           ······     ▀█  ▀▀█   ▀▀█        ▀█  ▀▀█   █▀█
                    ···   ···   ···      ·········     █    █   █▀▀         █  █▀▀   █ █
                  ··· ····· ····· ···    ←·· + ···    ▄█▄   █ ▄ █▄▄        ▄█▄ █▄▄ ▄ █▄█
                  ·  ·· ······· ··  ·    ·╱·╱·····
                 ·  ·  ···· ···· ··  ·     ······     DEPTH mm             TILT °
                 ·  ·  ··  + 1·· 5·10·    handle         ▀█  ▀▀█   █▀█     ▀█  ▀▀█   █▀█
                 ·  ·  ···· ···· ··  ·                ▀▀  █  █▀▀   █ █      █  █▀▀   █ █
                  ·  ·· ······· ··  ·                    ▄█▄ █▄▄ ▄ █▄█     ▄█▄ █▄▄ ▄ █▄█
                  ··· ····· ····· ···
                    ↙··   ···   ···                   TWIST °              at cortex    20.5 mm
                       ·········                       ▄  █ █ █▀▀   █▀█    tilt about x 0.0°
                        handle                        ▀█▀ ▀▀█ ▀▀█   █ █    tilt about y +12.0°
                 rings 1 2 5 10 mm · 2 5 10°           ▀    █ ▄▄█ ▄ █▄█



                 coil ok    head ok    pointer partly out of volume
                 tracker tracking · 60.0 Hz · dropped 0 · frame 1100
                 registration FRE 0.72 mm · predicted TRE at DLPFC-Fox2012 0.58 mm (FLE 1.00 mm)
                                                                                         q quit
                """)
    }

    /// Coil missing: the banner names the reason, every figure is dashes, no marker, coil MISSING.
    @Test func invalidFrameShowsItsReasons() {
        #expect(
            screen(Known.state(Known.coilMissingFrame), 80, 24)
                == """
                 CoilNav watch · target DLPFC-Fox2012                    server 127.0.0.1:18945
                ░░░░░░░░░░░░░░░░░░░░░░░░░░  NOT VALID — coil missing  ░░░░░░░░░░░░░░░░░░░░░░░░░░

                         front             front      DISTANCE mm          IN-PLANE mm
                       ·········           ······
                    ···   ···   ···      ·········    ▀▀ ▀▀                ▀▀ ▀▀
                  ··· ····· ····· ···    ··· + ···
                  ·  ·· ······· ··  ·    ·········
                 ·  ·  ···· ···· ··  ·     ······     DEPTH mm             TILT °
                 ·  ·  ··  + 1·· 5·10·    handle
                 ·  ·  ···· ···· ··  ·                ▀▀ ▀▀                ▀▀ ▀▀
                  ·  ·· ······· ··  ·
                  ··· ····· ····· ···
                    ···   ···   ···                   TWIST °              at cortex    -
                       ·········                                           tilt about x -
                        handle                        ▀▀ ▀▀                tilt about y -
                 rings 1 2 5 10 mm · 2 5 10°



                 coil MISSING    head ok    pointer not tracked
                 tracker tracking · 60.0 Hz · dropped 0 · frame 1500
                 registration FRE 0.72 mm · predicted TRE at DLPFC-Fox2012 0.58 mm (FLE 1.00 mm)
                                                                                         q quit
                """)
    }

    /// Tracking lost 1.2 s after the event (whose silence was 0.1 s): the full-width banner, dashes,
    /// no marker, no tool statuses.
    @Test func trackingLostIsLoudAndFullWidth() {
        var lost = Known.state(Known.onTargetFrame)
        lost.apply(.event(.trackingLost(lastFrame: 2123, silenceMs: 100)), at: 10 * s + 50_000_000)
        #expect(
            screen(lost, at: 10 * s + 1_250_000_000, 100, 34)
                == """
                 CoilNav watch · target DLPFC-Fox2012                                        server 127.0.0.1:18945
                ▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓
                ▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓  TRACKING LOST — no tracker frame for 1.3 s · last frame 2123  ▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓
                ▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓

                             front                   front        DISTANCE mm              IN-PLANE mm
                          ···········               ·······
                       ····         ····          ···········
                    ···    ·········    ···      ·············    ███ ███                  ███ ███
                   ··   ····       ····   ··     · ··  +  ·· ·
                  ··   ··   ········  ··   ··    ·············
                 ··   ·   ···········   ·   ··    ···········
                 ·   ·   · ··     ·· ·  ··   ·      ·······       DEPTH mm (+ deeper)      TILT °
                 ·   ·   · ·   +  1·2·  5· 10·      handle
                 ·   ·   · ··     ·· ·  ··   ·
                 ··   ·   ···········   ·   ··                    ███ ███                  ███ ███
                  ··   ··   ········  ··   ··
                   ··   ····       ····   ··
                    ···    ·········    ···
                       ····         ····                          TWIST ° (+ clockwise)    at cortex    -
                          ···········                                                      tilt about x -
                            handle                                                         tilt about y -
                 rings 1 2 5 10 mm · 2 5 10°                      ███ ███







                 coil -    head -    pointer -
                 tracker tracking · 60.0 Hz · dropped 0 · frame 2123
                 registration FRE 0.72 mm · predicted TRE at DLPFC-Fox2012 0.58 mm (FLE 1.00 mm)
                 last event: tracking lost after frame 2123                                                  q quit
                """)
    }

    /// Under 72 columns: the figures as text, no graphics; the header's right side and long rows cut.
    @Test func compactAndTooSmall() {
        #expect(
            screen(Known.state(Known.farFrame), 60, 20)
                == """
                 CoilNav watch · target DLPFC-Fox2012
                ───────────────────────  OFF TARGET  ───────────────────────

                 distance  17.2 mm             in-plane  12.0 mm
                 depth     -12.0 mm            tilt      12.0°
                 twist     +45.0°              at cortex 20.5 mm










                 coil ok    head ok    pointer partly out of volume
                 tracker tracking · 60.0 Hz · dropped 0 · frame 1100
                 registration FRE 0.72 mm · predicted TRE at DLPFC-Fox2012 …
                                                                     q quit
                """)
        #expect(
            screen(Known.state(Known.farFrame), 30, 8)
                == """
                ────────  OFF TARGET  ────────
                too small: need 40×12 (30×8)






                """)
    }

    /// Every state at every size: exactly `rows` lines, none wider than the terminal, and without
    /// colour not a single escape character.
    @Test func everyScreenFitsItsTerminalAndPlainModeHasNoEscapes() {
        var states: [(ReadoutState, Int64)] = []
        for frame in [Known.onTargetFrame, Known.farFrame, Known.coilMissingFrame] { states.append((Known.state(frame), 10 * s)) }
        var lost = Known.state(Known.onTargetFrame)
        lost.apply(.event(.trackingLost(lastFrame: 2123, silenceMs: 100)), at: 10 * s)
        states.append((lost, 12 * s))
        var gone = ReadoutState(serverLabel: "a-very-long-host-name.example.org:18945")
        gone.setConnection(.unreachable(reason: "connection refused", attempt: 12, sinceNanoseconds: 0))
        states.append((gone, 30 * s))
        states.append((ReadoutState(serverLabel: "127.0.0.1:18945"), 0))
        let sizes = [(200, 60), (120, 40), (100, 34), (99, 34), (100, 33), (80, 24), (72, 22), (71, 22), (60, 20), (40, 12), (39, 12), (30, 8), (10, 2), (1, 1), (0, 0)]
        for (state, now) in states {
            for (columns, rows) in sizes {
                for colour in [false, true] {
                    let lines = ReadoutRenderer.render(state, at: now, columns: columns, rows: rows, colour: colour)
                    #expect(lines.count == rows)
                    for line in lines {
                        #expect(line.width <= columns, "\(columns)×\(rows): \(line.text)")
                        if !colour {
                            #expect(!line.text.contains("\u{1B}"))
                            #expect(line.text.unicodeScalars.count == line.width)
                        }
                    }
                }
            }
        }
    }

    /// With colour the banner is a coloured band (black on green when on target) and the figures are
    /// green; stripped of its escape sequences every row outside the banner reads as without colour.
    @Test func colourBannerAndFigures() {
        let state = Known.state(Known.onTargetFrame)
        let plain = ReadoutRenderer.render(state, at: 10 * s, columns: 120, rows: 40, colour: false)
        let coloured = ReadoutRenderer.render(state, at: 10 * s, columns: 120, rows: 40, colour: true)
        let band = String(repeating: " ", count: 120)
        #expect(coloured[1].text == "\u{1B}[0;1;30;42m" + band + "\u{1B}[0m")
        #expect(
            coloured[2].text
                == "\u{1B}[0;1;30;42m" + String(repeating: " ", count: 52) + "ON TARGET  1.3 s" + String(repeating: " ", count: 52) + "\u{1B}[0m")
        #expect(coloured[6].text.contains("\u{1B}[0;1;32m████   ████"))
        #expect(coloured[36].text == " coil \u{1B}[0;1;32mok\u{1B}[0m    head \u{1B}[0;1;32mok\u{1B}[0m    pointer \u{1B}[0;1;31mMISSING\u{1B}[0m")
        for row in 0..<40 where !(1...3).contains(row) {
            #expect(Self.stripped(coloured[row].text) == plain[row].text, "row \(row)")
        }
        // Tracking lost: white on red.
        var lost = state
        lost.apply(.event(.trackingLost(lastFrame: 2123, silenceMs: 100)), at: 10 * s)
        #expect(ReadoutRenderer.render(lost, at: 11 * s, columns: 80, rows: 24, colour: true)[1].text.hasPrefix("\u{1B}[0;1;97;41m"))
    }

    static func stripped(_ text: String) -> String {
        var out = ""
        var inEscape = false
        for ch in text.unicodeScalars {
            if inEscape {
                if ch == "m" { inEscape = false }
            } else if ch == "\u{1B}" {
                inEscape = true
            } else {
                out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    @Test func bigFontGlyphs() {
        #expect(BigFont.fiveRows.render("+1.5") == ["     ██    ████", " █    █    █   ", "███   █    ████", " █    █       █", "     ███ █ ████"])
        #expect(BigFont.threeRows.render("-0.7") == ["   █▀█   ▀▀█", "▀▀ █ █     █", "   █▄█ ▄   █"])
        #expect(BigFont.fiveRows.width("+9999") == 23)
    }

    @Test func unreachableServerBanner() {
        var state = ReadoutState(serverLabel: "127.0.0.1:18945")
        state.setConnection(.unreachable(reason: "connection refused", attempt: 3, sinceNanoseconds: 0))
        let lines = ReadoutRenderer.render(state, at: 4_200_000_000, columns: 80, rows: 24, colour: false).map(\.text)
        #expect(lines[1] == "▓▓  SERVER UNREACHABLE — reconnecting to 127.0.0.1:18945 (attempt 3, 4.2 s)  ▓▓▓")
        #expect(lines[23] == " cannot reach the server: connection refused                             q quit")
    }
}
