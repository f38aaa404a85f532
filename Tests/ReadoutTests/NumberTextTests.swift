import Readout
import Testing

@Suite struct NumberTextTests {
    @Test func fixedRoundsCorrectlyAndNeverShowsMinusZero() {
        #expect(NumberText.fixed(1.25, 1) == "1.3")  // an exact tie: away from zero
        #expect(NumberText.fixed(-1.25, 1) == "-1.3")
        #expect(NumberText.fixed(1.005, 2) == "1.00")  // 1.005 is stored as 1.00499999999999989…
        #expect(NumberText.fixed(2.675, 2) == "2.67")  // 2.67499999999999982…
        #expect(NumberText.fixed(0.125, 2) == "0.13")  // exact in binary: a true tie
        #expect(NumberText.fixed(0.15, 1) == "0.1")  // 0.1499999999999999944…
        #expect(NumberText.fixed(-0.04, 1) == "0.0")
        #expect(NumberText.fixed(-0.0, 2) == "0.00")
        #expect(NumberText.fixed(0.004, 1) == "0.0")
        #expect(NumberText.fixed(59.96, 1) == "60.0")
        #expect(NumberText.fixed(1234.5, 0) == "1235")
        #expect(NumberText.fixed(7, 0) == "7")
        #expect(NumberText.fixed(.nan, 1) == "-")
        #expect(NumberText.fixed(.infinity, 1) == "-")
    }

    @Test func signedShowsPlusOnlyOnWhatDoesNotRoundToZero() {
        #expect(NumberText.signed(0.3, 2) == "+0.30")
        #expect(NumberText.signed(-0.3, 2) == "-0.30")
        #expect(NumberText.signed(0.004, 2) == "0.00")
        #expect(NumberText.signed(-0.004, 2) == "0.00")
        #expect(NumberText.signed(0, 1) == "0.0")
    }

    /// The big figures: at most five characters.
    @Test func figuresKeepToFiveCharacters() {
        #expect(NumberText.figure(0.5, signed: false) == "0.5")
        #expect(NumberText.figure(12.34, signed: false) == "12.3")
        #expect(NumberText.figure(99.94, signed: false) == "99.9")
        #expect(NumberText.figure(99.96, signed: false) == "100")
        #expect(NumberText.figure(-12.34, signed: true) == "-12.3")
        #expect(NumberText.figure(12.34, signed: true) == "+12.3")
        #expect(NumberText.figure(0.04, signed: true) == "0.0")
        #expect(NumberText.figure(-0.04, signed: true) == "0.0")
        #expect(NumberText.figure(1480.2, signed: false) == "1480")
        #expect(NumberText.figure(-25000, signed: true) == "-9999")
        #expect(NumberText.figure(.nan, signed: false) == "--")
    }
}
