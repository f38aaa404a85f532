import Geometry
import JSONLinesProtocol
import Testing

@Suite struct LineSplitterTests {
    private func lines(_ items: [JSONLSplitterItem]) -> [String] {
        items.map {
            switch $0 {
            case .line(let bytes, let offset): return "\(offset):\(text(bytes))"
            case .tooLong(let e): return "tooLong@\(e.byteOffset!)"
            }
        }
    }

    @Test func splitsLinesAndStripsCarriageReturns() {
        var s = JSONLLineSplitter()
        let items = s.feed(Array("{\"cmd\":\"hello\"}\r\n{\"cmd\":\"status\"}\nab\rc\n\n  \t \r\n{\"cmd\"".utf8))
        #expect(self.lines(items) == ["0:{\"cmd\":\"hello\"}", "17:{\"cmd\":\"status\"}", "34:ab\rc"])
        #expect(s.pendingByteCount == 6)
        #expect(s.streamOffset == 52)
        #expect(self.lines(s.feed(Array(":\"targets\"}\n".utf8))) == ["46:{\"cmd\":\"targets\"}"])
        #expect(s.pendingByteCount == 0)
    }

    @Test func byteByByteEqualsAllAtOnce() {
        var rng = SplitMix64(seed: 4)
        var stream: [UInt8] = []
        for i in 0..<300 {
            let length = Int(rng.next() % 120)
            stream += Array("{\"id\":\(i),\"label\":\"".utf8)
            stream += (0..<length).map { _ in UInt8(ascii: "a") + UInt8(rng.next() % 26) }
            stream += Array("\"}".utf8)
            stream += rng.next() % 3 == 0 ? [0x0D, 0x0A] : [0x0A]
            if rng.next() % 10 == 0 { stream += [0x0A] }  // a blank line now and then
        }
        var whole = JSONLLineSplitter(maxLineBytes: 100)
        let all = whole.feed(stream)
        var single = JSONLLineSplitter(maxLineBytes: 100)
        var one: [JSONLSplitterItem] = []
        for b in stream { one += single.feed(CollectionOfOne(b)) }
        var chunked = JSONLLineSplitter(maxLineBytes: 100)
        var some: [JSONLSplitterItem] = []
        var i = 0
        while i < stream.count {
            let n = Int(rng.next() % 200)
            some += chunked.feed(stream[i..<min(stream.count, i + n)])
            i += n
        }
        #expect(one == all)
        #expect(some == all)
        let tooLong = all.filter { if case .tooLong = $0 { return true } else { return false } }.count
        #expect(all.count == 300)
        #expect(tooLong > 0 && tooLong < 300)  // lines above 100 bytes were refused, the others delivered
        for item in all {
            if case .line(let bytes, _) = item { #expect(bytes.count <= 100 && bytes.last != 0x0D) }
        }
    }

    @Test func overlongLineIsReportedOnceAndSkipped() {
        var s = JSONLLineSplitter(maxLineBytes: 8)
        var items = s.feed(Array("ok\n0123456".utf8))
        #expect(self.lines(items) == ["0:ok"])
        items = s.feed(Array("78".utf8))  // 9 bytes without a newline: over the limit of 8
        #expect(items == [
            .tooLong(JSONLRequestError(
                code: .lineTooLong,
                message: "the line starting at stream byte 3 exceeds 8 bytes without a newline; it is skipped up to the next newline",
                byteOffset: 3)),
        ])
        #expect(s.isSkippingOverlongLine && s.pendingByteCount == 0)
        #expect(s.feed(Array(String(repeating: "z", count: 1000).utf8)).isEmpty)
        #expect(self.lines(s.feed(Array("zz\nnext\n".utf8))) == ["1015:next"])
        #expect(!s.isSkippingOverlongLine)
    }

    @Test func limitCountsBytesBeforeTheNewline() {
        var s = JSONLLineSplitter(maxLineBytes: 4)
        #expect(self.lines(s.feed(Array("abcd\n".utf8))) == ["0:abcd"])
        #expect(self.lines(s.feed(Array("abc\r\n".utf8))) == ["5:abc"])
        #expect(self.lines(s.feed(Array("abcd\r\nx\n".utf8))) == ["tooLong@10", "16:x"])
        #expect(JSONLLineSplitter().maxLineBytes == 65_536)
    }

    @Test func defaultLimitIs64KiB() {
        var s = JSONLLineSplitter()
        let exact = [UInt8](repeating: UInt8(ascii: "x"), count: 65_536)
        #expect(s.feed(exact + [0x0A]) == [.line(exact, offset: 0)])
        let items = s.feed(exact + [UInt8(ascii: "x"), 0x0A, UInt8(ascii: "y"), 0x0A])
        #expect(self.lines(items) == ["tooLong@65537", "131075:y"])
    }

    /// Lines from the splitter go straight to the request parser.
    @Test func splitterFeedsTheParser() throws {
        var s = JSONLLineSplitter()
        let items = s.feed(Array("{\"id\":1,\"cmd\":\"hello\"}\r\n{\"id\":2,\"cmd\":\"subscribe\",\"maxRateHz\":10}\n".utf8))
        var requests: [JSONLRequest] = []
        for case .line(let bytes, _) in items { requests.append(try JSONLRequest.parse(bytes)) }
        #expect(requests == [
            JSONLRequest(id: .number(1), command: .hello),
            JSONLRequest(id: .number(2), command: .subscribe(JSONLSubscription(maxRateHz: 10))),
        ])
    }
}
