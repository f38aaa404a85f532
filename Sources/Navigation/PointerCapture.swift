import Geometry
import TrackerCore

/// One frame's pointer and head reference, as a capture sees it.
public struct PointerSample: Sendable, Equatable {
    public var frameNumber: UInt32
    public var pointerStatus: ToolStatus?
    public var headStatus: ToolStatus?
    /// `pointerToHead` when both tools have a pose in this frame.
    public var pointerToHead: RigidTransform?

    public init(frameNumber: UInt32, pointerStatus: ToolStatus?, headStatus: ToolStatus?, pointerToHead: RigidTransform?) {
        self.frameNumber = frameNumber
        self.pointerStatus = pointerStatus
        self.headStatus = headStatus
        self.pointerToHead = pointerToHead
    }
}

/// A point digitised with the pointer: the tip in head-reference coordinates, averaged over frames.
public struct CapturedPoint: Sendable, Equatable {
    public var positionInHeadMM: Vector3
    /// The distinct tracker frames averaged.
    public var sampleCount: Int
    public var firstFrame: UInt32
    public var lastFrame: UInt32
    /// The largest distance of one frame's tip from the average, mm.
    public var spreadMM: Double
}

/// Why a capture was refused.
public enum CaptureRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    case pointerNotVisible(frameNumber: UInt32, status: ToolStatus?)
    case headReferenceNotVisible(frameNumber: UInt32, status: ToolStatus?)
    case pointerMoving(spreadMM: Double, limitMM: Double, frames: Int)
    case notEnoughFrames(got: Int, needed: Int)

    public var description: String {
        func s(_ st: ToolStatus?) -> String { st.map { "\($0)" } ?? "absent" }
        switch self {
        case .pointerNotVisible(let f, let st):
            return "pointer not visible (frame \(f): \(s(st))): keep the pointer in view of the tracker"
        case .headReferenceNotVisible(let f, let st):
            return "head reference not visible (frame \(f): \(s(st))): keep the head reference in view of the tracker"
        case .pointerMoving(let spread, let limit, let n):
            return "pointer moving: the tip wandered \(Self.mm(spread)) mm over \(n) frames (limit \(Self.mm(limit)) mm): hold it still"
        case .notEnoughFrames(let got, let needed):
            return "only \(got) of \(needed) tracker frames arrived in time: is the tracker running?"
        }
    }

    static func mm(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        var t = "\(r)"
        if let dot = t.firstIndex(of: ".") {
            let decimals = t.distance(from: dot, to: t.endIndex) - 1
            if decimals < 2 { t += String(repeating: "0", count: 2 - decimals) }
        }
        return t
    }
}

/// The capture rule: every sample must show both the pointer and the head reference (any frame
/// without them refuses the whole capture: a point taken while a marker was hidden is not a point),
/// samples are distinct tracker frames (repeats of a frame number are counted once), and the tip
/// must be still: no frame's tip further than `stillnessLimitMM` from the average.
public enum PointerCapture {
    public static func evaluate(
        samples: [PointerSample], tipInPointerMM: Vector3, framesNeeded: Int, stillnessLimitMM: Double
    ) -> Result<CapturedPoint, CaptureRefusal> {
        var seen = Set<UInt32>()
        var tips: [Vector3] = []
        var first: UInt32 = 0
        var last: UInt32 = 0
        for s in samples {
            guard seen.insert(s.frameNumber).inserted else { continue }
            guard s.pointerStatus?.hasPose == true else {
                return .failure(.pointerNotVisible(frameNumber: s.frameNumber, status: s.pointerStatus))
            }
            guard s.headStatus?.hasPose == true, let p = s.pointerToHead else {
                return .failure(.headReferenceNotVisible(frameNumber: s.frameNumber, status: s.headStatus))
            }
            if tips.isEmpty { first = s.frameNumber }
            last = s.frameNumber
            tips.append(p.apply(to: tipInPointerMM))
            if tips.count == framesNeeded { break }
        }
        guard tips.count >= framesNeeded, !tips.isEmpty else {
            return .failure(.notEnoughFrames(got: tips.count, needed: framesNeeded))
        }
        var sum = Vector3.zero
        for t in tips { sum += t }
        let mean = sum / Double(tips.count)
        var spread = 0.0
        for t in tips { spread = max(spread, t.distance(to: mean)) }
        if spread > stillnessLimitMM {
            return .failure(.pointerMoving(spreadMM: spread, limitMM: stillnessLimitMM, frames: tips.count))
        }
        return .success(
            CapturedPoint(positionInHeadMM: mean, sampleCount: tips.count, firstFrame: first, lastFrame: last, spreadMM: spread))
    }
}
