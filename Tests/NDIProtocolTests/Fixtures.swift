import Geometry
import NDIProtocol

/// The decoded 63-byte BX example of `protocols.md` §1.4 (2 handles: 0x01 valid, 0x02 missing),
/// parsed by real ndicapy there.
let referenceBX: [UInt8] = [
    0xc4, 0xa5, 0x37, 0x00, 0x3b, 0x23, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x00,
    0x3f, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x48, 0x41, 0x00, 0x00, 0x09,
    0xc2, 0x00, 0x80, 0xbb, 0xc4, 0x00, 0x00, 0x00, 0x3e, 0x31, 0x00, 0x00, 0x00, 0xd2, 0x04, 0x00,
    0x00, 0x02, 0x02, 0x31, 0x00, 0x00, 0x00, 0xd2, 0x04, 0x00, 0x00, 0x00, 0x00, 0xe0, 0xb7,
]

/// The same data as the TX example of `protocols.md` §1.5.
let referenceTX = ascii(
    "0201+05000+05000+05000+05000+001250-003425-150000+0125000000031000004D2\n02MISSING00000031000004D2\n00003CD8\r"
)

/// The typed content of both reference examples.
let referenceTracking = NDITrackingReply(
    handles: [
        .valid(
            handle: 0x01,
            transform: NDITransform(
                rotation: Quaternion(q0: 0.5, qx: 0.5, qy: 0.5, qz: 0.5),
                translation: Vector3(12.5, -34.25, -1500.0),
                rmsError: 0.125
            ),
            portStatus: NDIPortStatus(rawValue: 0x31),
            frameNumber: 1234
        ),
        .missing(handle: 0x02, portStatus: NDIPortStatus(rawValue: 0x31), frameNumber: 1234),
    ],
    systemStatus: []
)

/// Frames `bytes` and returns the single reply frame they hold; nil (and a recorded failure in
/// the caller's #expect) when they hold anything else.
func singleFrame(_ bytes: [UInt8]) -> NDIReplyFrame? {
    let results = NDIReplyFramer.frames(in: bytes)
    guard results.count == 1, case .success(let frame) = results[0] else { return nil }
    return frame
}

/// Feeds `bytes` to a new framer in chunks of the given sizes (cycled), draining after each
/// chunk, then finishes.
func frameInChunks(_ bytes: [UInt8], sizes: [Int]) -> [Result<NDIReplyFrame, NDIReplyError>] {
    var framer = NDIReplyFramer()
    var results: [Result<NDIReplyFrame, NDIReplyError>] = []
    var i = 0
    var k = 0
    while i < bytes.count {
        let n = max(1, sizes[k % sizes.count])
        framer.feed(bytes[i..<min(bytes.count, i + n)])
        i += n
        k += 1
        while let r = framer.next() {
            results.append(r)
        }
    }
    results.append(contentsOf: framer.finish())
    return results
}

/// Random chunk sizes from 1 to `maximum`.
func randomChunkSizes(count: Int, maximum: Int, using rng: inout SplitMix64) -> [Int] {
    (0..<count).map { _ in 1 + Int(rng.next() % UInt64(maximum)) }
}

extension Result where Success == NDIReplyFrame, Failure == NDIReplyError {
    /// The frame, or nil for an error.
    var frame: NDIReplyFrame? {
        if case .success(let f) = self { return f }
        return nil
    }

    /// The error, or nil for a frame.
    var error: NDIReplyError? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
